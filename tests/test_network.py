"""Behavioural tests of the DEBI-NN forward pass (spec sections 1-3)."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import debinn_jax as dj
from debinn_jax.network import group_index, reflect_z


def _coords_222() -> dj.Coords:
    """A 2-2-2 network with hand-picked genes (z genes of mixed sign)."""
    return (
        {"axon": jnp.array([[0.0, 0.0, -0.5], [1.0, 0.0, 0.2]])},
        {
            "soma": jnp.array([[0.0, 1.0, 0.3], [0.5, -0.5, -0.1]]),
            "axon": jnp.array([[0.2, 0.3, 0.2], [-0.4, 0.1, 0.4]]),
        },
        {"soma": jnp.array([[0.1, 0.1, 0.2], [-1.0, 0.5, 0.0]])},
    )


def test_positions_by_hand():
    spec = dj.NetworkSpec(2, (2,), 2)
    pos = dj.positions(spec, _coords_222())
    # layer 0: |z| = 0.5, 0.2 -> Z0 = 0.5
    np.testing.assert_allclose(pos[0]["axon"][:, 2], [0.5, 0.2])
    np.testing.assert_allclose(pos[0]["z_range"], [0.0, 0.5])
    # layer 1: zlen = 0.3 + 0.2, 0.1 + 0.4 -> 0.5; zs = 0.5 - 0.7 * 0.5 = 0.15
    np.testing.assert_allclose(pos[1]["z_range"], [0.15, 0.65], atol=1e-6)
    np.testing.assert_allclose(pos[1]["soma"][:, 2], [0.45, 0.25], atol=1e-6)
    np.testing.assert_allclose(pos[1]["axon"][:, 2], [0.65, 0.65], atol=1e-6)
    np.testing.assert_allclose(pos[1]["axon"][:, :2], [[0.2, 0.3], [-0.4, 0.1]])
    # output: zlen = 0.2 + 0.5, 0 + 0.5 -> 0.7; zs = 0.65 - 0.7 * 0.5 = 0.30
    np.testing.assert_allclose(pos[2]["z_range"], [0.30, 1.0], atol=1e-6)
    np.testing.assert_allclose(pos[2]["soma"], [[0.1, 0.1, 0.5], [-1.0, 0.5, 0.3]], atol=1e-6)


def _reference_forward(spec: dj.NetworkSpec, coords: dj.Coords, x: np.ndarray) -> np.ndarray:
    """Independent loop implementation of spec section 3 (float64 NumPy) for small networks."""
    pos = jax.tree_util.tree_map(np.asarray, dj.positions(spec, coords))
    h = np.asarray(x, np.float64)
    n_layers = spec.n_layers
    for l in range(1, n_layers + 1):
        axons, somas = pos[l - 1]["axon"], pos[l]["soma"]
        w = np.zeros((len(axons), len(somas)))
        for i, a in enumerate(axons):
            for j, s in enumerate(somas):
                w[i, j] = math.exp(-sum((a[k] - s[k]) ** 2 for k in range(3)) / 9.0)
        w = (w - w.mean()) / (w.std() + 1e-8)
        z = h @ w
        h = np.where(z >= 0, z, 0.01 * z) if l < n_layers else z
    s = h / (np.abs(h).sum(axis=1, keepdims=True) + 1e-8)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_222_network_by_hand():
    spec = dj.NetworkSpec(2, (2,), 2, shift_scale=False)
    coords = _coords_222()
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, -2.0]])
    p = dj.apply(spec, coords, x)
    np.testing.assert_allclose(p, _reference_forward(spec, coords, x), atol=1e-5)
    np.testing.assert_allclose(np.asarray(p).sum(axis=1), 1.0, atol=1e-6)
    # With 2 x 2 standardised weights every column is +-1: check one weight by hand.
    w1 = dj.layer_weights(spec, coords)[0]
    assert np.allclose(np.sort(np.abs(np.asarray(w1)).ravel()), np.sort(np.abs(w1).ravel()))
    np.testing.assert_allclose(float(jnp.mean(w1)), 0.0, atol=1e-6)
    np.testing.assert_allclose(float(jnp.std(w1)), 1.0, atol=1e-5)


def test_reference_head_caps_probability():
    spec = dj.NetworkSpec(2, (4,), 2)
    coords = dj.init_coords(jax.random.key(0), spec)
    x = 100.0 * jax.random.normal(jax.random.key(1), (50, 2))
    p = dj.apply(spec, coords, x)
    assert float(p.max()) <= math.e / (math.e + 1) + 1e-6


def test_softmax_head_temperature():
    base = dj.NetworkSpec(2, (4,), 3, head="softmax")
    coords = dj.init_coords(jax.random.key(0), base)
    x = jax.random.normal(jax.random.key(1), (20, 2))
    hot = dj.apply(dataclasses.replace(base, temperature=10.0), coords, x)
    cold = dj.apply(base, coords, x)
    # A higher temperature flattens the distribution but keeps the argmax.
    assert float(jnp.max(hot)) < float(jnp.max(cold))
    np.testing.assert_array_equal(jnp.argmax(hot, 1), jnp.argmax(cold, 1))


SPECS = [
    dj.NetworkSpec(3, (5,), 2),
    dj.NetworkSpec(3, (5, 4), 3, kernel="gaussian", activation="tanh", head="softmax"),
    dj.NetworkSpec(3, (6,), 2, kernel="inverse", normalization="input", shift_scale=True, groups=2),
    dj.NetworkSpec(3, (4, 4), 2, kernel="inverse_squared", shift_scale=True, train_deltas=True),
    dj.NetworkSpec(3, (), 2, activation="sigmoid"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kernel}-{s.hidden}")
def test_translation_in_xy_leaves_outputs_unchanged(spec):
    coords = dj.init_coords(jax.random.key(3), spec)
    shift = jnp.array([2.5, -1.25, 0.0])
    moved = tuple(
        {k: (v + shift if k in ("soma", "axon") else v) for k, v in layer.items()}
        for layer in coords
    )
    x = jax.random.normal(jax.random.key(4), (16, spec.n_inputs))
    np.testing.assert_allclose(dj.apply(spec, moved, x), dj.apply(spec, coords, x), atol=1e-5)


@pytest.mark.parametrize("spec", SPECS[:2], ids=["one-hidden", "two-hidden"])
def test_permuting_hidden_neurons_leaves_outputs_unchanged(spec):
    coords = dj.init_coords(jax.random.key(5), spec)
    perm = np.random.default_rng(0).permutation(spec.hidden[0])
    permuted = list(coords)
    permuted[1] = {k: v[perm] for k, v in coords[1].items()}
    x = jax.random.normal(jax.random.key(6), (16, spec.n_inputs))
    np.testing.assert_allclose(
        dj.apply(spec, tuple(permuted), x), dj.apply(spec, coords, x), atol=1e-5
    )


def test_z_genes_are_read_as_absolute_values():
    spec = dj.NetworkSpec(3, (5,), 2)
    coords = dj.init_coords(jax.random.key(7), spec)
    x = jax.random.normal(jax.random.key(8), (10, 3))
    np.testing.assert_allclose(
        dj.apply(spec, reflect_z(coords), x), dj.apply(spec, coords, x), atol=1e-6
    )
    flipped = tuple(
        {k: (v.at[:, 2].multiply(-1) if k in ("soma", "axon") else v) for k, v in layer.items()}
        for layer in coords
    )
    np.testing.assert_allclose(dj.apply(spec, flipped, x), dj.apply(spec, coords, x), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    kernel=st.sampled_from(dj.KERNELS),
    d=st.lists(st.floats(0.0, 30.0, allow_nan=False), min_size=2, max_size=8),
)
def test_kernels_positive_and_decreasing(kernel, d):
    with jax.enable_x64(True):  # exp(-30**2 / 9) underflows float32 but is positive
        d2 = jnp.sort(jnp.asarray(d, jnp.float64))[:, None] ** 2
        w = np.asarray(dj.kernel_fn(kernel, d2))[:, 0]
    assert np.all(w > 0)
    assert np.all(np.diff(w) <= 0)


def test_layer_weights_shapes_and_standardisation():
    spec = dj.NetworkSpec(17, (85, 64), 2)
    ws = dj.layer_weights(spec, dj.init_coords(jax.random.key(0), spec))
    assert [w.shape for w in ws] == [(17, 85), (85, 64), (64, 2)]
    for w in ws:
        assert abs(float(w.mean())) < 1e-4 and abs(float(w.std()) - 1.0) < 1e-3


@pytest.mark.parametrize(
    "sizes,expected", [((17, (85, 64), 2), 951), ((21, (100,), 3), 672), ((12, (100,), 2), 642)]
)
def test_param_counts_match_spec(sizes, expected):
    spec = dj.NetworkSpec(*sizes, shift_scale=False)  # the spec's network: no extra genes
    assert dj.param_count(spec) == expected
    leaves = jax.tree_util.tree_leaves(dj.init_coords(jax.random.key(0), spec))
    assert sum(leaf.size for leaf in leaves) == expected


def test_param_count_with_extra_genes_matches_pytree():
    spec = dj.NetworkSpec(4, (10, 7), 3, shift_scale=True, groups=(3, 20), train_deltas=True)
    # groups clamp to [1, n]: (3, 7); outputs one per class
    assert spec.group_counts() == (3, 7, 3)
    expected = 3 * 4 + 6 * 17 + 3 * 3 + 2 * (3 + 7 + 3) + 3
    assert dj.param_count(spec) == expected
    leaves = jax.tree_util.tree_leaves(dj.init_coords(jax.random.key(0), spec))
    assert sum(leaf.size for leaf in leaves) == expected


def test_group_index_blocks():
    np.testing.assert_array_equal(group_index(7, 3), [0, 0, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(group_index(4, 9), [0, 1, 2, 3])
    np.testing.assert_array_equal(group_index(5, 0), [0, 0, 0, 0, 0])


def test_shift_scale_identity_genes_change_nothing():
    plain = dj.NetworkSpec(3, (6,), 2, shift_scale=False)
    ss = dataclasses.replace(plain, shift_scale=True)
    coords = dj.init_coords(jax.random.key(2), plain)
    ident = tuple(
        layer if i == 0 else {**layer, "scale": jnp.ones(n), "shift": jnp.zeros(n)}
        for i, (layer, n) in enumerate(zip(coords, (0, 6, 2)))
    )
    x = jax.random.normal(jax.random.key(3), (8, 3))
    np.testing.assert_allclose(dj.apply(ss, ident, x), dj.apply(plain, coords, x), atol=1e-6)


def test_vmapped_population_equals_loop():
    spec = dj.NetworkSpec(4, (8, 5), 3, shift_scale=True)
    pop = jax.vmap(lambda k: dj.init_coords(k, spec))(jax.random.split(jax.random.key(0), 6))
    x = jax.random.normal(jax.random.key(1), (12, 4))
    batched = jax.jit(jax.vmap(dj.apply, in_axes=(None, 0, None)), static_argnums=0)(spec, pop, x)
    for i in range(6):
        one = jax.tree_util.tree_map(lambda leaf, i=i: leaf[i], pop)
        np.testing.assert_allclose(batched[i], dj.apply(spec, one, x), atol=1e-5)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kernel}-{s.hidden}")
def test_grad_matches_finite_differences_float64(spec):
    with jax.enable_x64(True):
        coords = dj.init_coords(jax.random.key(11), spec, dtype=jnp.float64)
        x = jax.random.normal(jax.random.key(12), (9, spec.n_inputs), jnp.float64)
        y = jnp.arange(9) % spec.n_classes
        flat, unravel = jax.flatten_util.ravel_pytree(coords)
        loss = jax.jit(lambda f: dj.debi_loss(spec, unravel(f), x, y))
        grad = np.asarray(jax.grad(loss)(flat))
        rng = np.random.default_rng(0)
        h = 1e-6
        for i in rng.choice(flat.size, size=min(12, flat.size), replace=False):
            e = jnp.zeros_like(flat).at[i].set(h)
            fd = (float(loss(flat + e)) - float(loss(flat - e))) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-4, abs=1e-7), f"gene {i}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kernel}-{s.hidden}")
def test_degenerate_geometry_is_finite(spec):
    zero = dj.init_coords(jax.random.key(0), spec, scheme="singularity")
    x = jax.random.normal(jax.random.key(1), (5, spec.n_inputs))
    p = dj.apply(spec, zero, x)
    assert np.all(np.isfinite(p))
    # all points on one spot: every weight equal -> standardised to 0 -> uniform output
    if spec.standardize_weights and not spec.shift_scale:
        np.testing.assert_allclose(p, 1.0 / spec.n_classes, atol=1e-6)
    y = jnp.arange(5) % spec.n_classes
    g = jax.jit(jax.grad(lambda c: dj.debi_loss(spec, c, x, y)))(zero)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(g))
    huge = jax.tree_util.tree_map(lambda v: v + 1e3, dj.init_coords(jax.random.key(2), spec))
    assert np.all(np.isfinite(dj.apply(spec, huge, 1e3 * x)))


def test_float64_when_x64_enabled():
    spec = dj.NetworkSpec(2, (3,), 2)
    with jax.enable_x64(True):
        coords = dj.init_coords(jax.random.key(0), spec)
        assert coords[0]["axon"].dtype == jnp.float64
        assert dj.apply(spec, coords, np.ones((2, 2))).dtype == jnp.float64
    coords = dj.init_coords(jax.random.key(0), spec)
    assert dj.apply(spec, coords, np.ones((2, 2))).dtype == jnp.float32


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(n_inputs=0), "n_inputs"),
        (dict(n_inputs=2, n_classes=1), "n_classes"),
        (dict(n_inputs=2, hidden=(4, 0)), "hidden"),
        (dict(n_inputs=2, hidden=5), "hidden"),
        (dict(n_inputs=2, kernel="cauchy"), "kernel"),
        (dict(n_inputs=2, activation="gelu"), "activation"),
        (dict(n_inputs=2, head="sigmoid"), "head"),
        (dict(n_inputs=2, temperature=0.0), "temperature"),
        (dict(n_inputs=2, groups=(2, 2)), "groups"),
        (dict(n_inputs=2, layer_delta=float("nan")), "layer_delta"),
        (dict(n_inputs=2, normalization="yes"), "normalization"),
    ],
)
def test_invalid_spec_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        dj.NetworkSpec(**kwargs)


def test_spec_is_hashable_and_static():
    a = dj.NetworkSpec(2, [4, 3], 2)
    b = dj.NetworkSpec(2, (4, 3), 2)
    assert a == b and hash(a) == hash(b) and a.hidden == (4, 3)


def test_apply_rejects_wrong_width():
    spec = dj.NetworkSpec(3, (4,), 2)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        dj.apply(spec, dj.init_coords(jax.random.key(0), spec), np.ones((4, 2)))


def test_init_is_deterministic_and_uniform():
    spec = dj.NetworkSpec(5, (40,), 2)
    a = dj.init_coords(jax.random.key(1), spec)
    b = dj.init_coords(jax.random.key(1), spec)
    c = dj.init_coords(jax.random.key(2), spec)
    flat_a = jax.flatten_util.ravel_pytree(a)[0]
    np.testing.assert_array_equal(flat_a, jax.flatten_util.ravel_pytree(b)[0])
    assert not np.array_equal(flat_a, jax.flatten_util.ravel_pytree(c)[0])
    assert float(flat_a.min()) >= -1.0 and float(flat_a.max()) <= 1.0
    with pytest.raises(ValueError, match="scheme"):
        dj.init_coords(jax.random.key(0), spec, scheme="normal")


def test_shift_scale_genes_are_on_by_default():
    # chosen on validation (experiments/defaults_validation.py): the network's only bias
    spec = dj.NetworkSpec(3, (6,), 2)
    assert spec.shift_scale
    assert dj.param_count(spec) == dj.param_count(
        dataclasses.replace(spec, shift_scale=False)
    ) + 2 * (6 + 2)
    assert dj.DEBIClassifier().shift_scale
