"""Gradient descent on the 2025 network: gradients against finite differences, per switch.

For every switch of the authors' regulariser grid (shift-scale genes, weight standardisation,
group normalisation, spatial dropout, the 2025 loss with L1 and with L2) the coordinate
gradient that GD follows (``jax.value_and_grad`` of the DEBI loss, :func:`debinn_jax.debi_loss`,
the loss ``train_gd`` minimises) equals central finite differences in float64 on a tiny network;
the same switch given as a traced flag (as :func:`debinn_jax.gd.run_many_gd` passes it) gives
the same loss and gradient. At the spatial-dropout cutoff the gradient is that of the kept set
held fixed.

Inputs are samples first, ``(N, n_inputs)``, as every public function takes them; only the
traced-flag loss calls the trainers' internal forward pass (samples last), as the sweep does.
"""

from __future__ import annotations

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

import debinn_jax as dj
from debinn_jax.loss import LossConfig, debi_loss, log_proba_terms, masked_loss, weight_penalty
from debinn_jax.network import weights_and_masks
from debinn_jax.network.forward import log_proba_t, scores_t

N_IN, HIDDEN, K = 3, (9, 4), 3
ROWS = 7

# (name, NetworkSpec.reference_2025 switches, L1, L2)
CASES = [
    ("plain", {"normalization": "none"}, 0.0, 0.0),
    ("shift_scale", {"normalization": "activation", "shift_scale": True}, 0.0, 0.0),
    ("group_norm", {"normalization": "activation"}, 0.0, 0.0),
    ("weight_std", {"normalization": "none", "standardize_weights": True}, 0.0, 0.0),
    ("spatial_dropout", {"normalization": "none", "spatial_dropout": True}, 0.0, 0.0),
    ("l1", {"normalization": "none"}, 0.05, 0.0),
    ("l2", {"normalization": "none"}, 0.0, 0.05),
    (
        "all",
        {
            "normalization": "activation",
            "shift_scale": True,
            "standardize_weights": True,
            "spatial_dropout": True,
        },
        0.05,
        0.05,
    ),
]


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    return rng.normal(0.0, 1.0, (ROWS, N_IN)), np.array([0, 1, 2, 0, 1, 2, 0])


def _coords(spec: dj.NetworkSpec, seed: int = 2) -> tuple[dict, ...]:
    """Random float64 genes (points in [-1.2, 1.2]^3; scales in [0.5, 2])."""
    c = dj.init_coords(jax.random.key(seed), spec, dtype=jnp.float64)
    out = []
    for layer in c:
        new = {}
        for name, v in layer.items():
            v = np.asarray(v, np.float64)
            new[name] = 1.25 + 0.75 * v if name == "scale" else 1.2 * v
        out.append({k: jnp.asarray(v) for k, v in new.items()})
    return tuple(out)


def _spec(switches: dict) -> dj.NetworkSpec:
    return dj.NetworkSpec.reference_2025(N_IN, HIDDEN, K, **switches)


@pytest.mark.parametrize("name, switches, l1, l2", CASES, ids=[c[0] for c in CASES])
def test_gd_gradient_matches_central_differences(name, switches, l1, l2) -> None:
    """The gradient GD follows equals central differences (float64), switch by switch."""
    x, y = _data()
    config = LossConfig.reference_2025(l1=l1, l2=l2)
    with jax.enable_x64(True):
        spec = _spec(switches)
        coords = _coords(spec)
        flat, unravel = jax.flatten_util.ravel_pytree(coords)
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        mask = jnp.ones(ROWS, jnp.float64)

        def loss(theta: jax.Array) -> jax.Array:
            return debi_loss(spec, unravel(theta), xj, yj, mask, config)

        value, grad = jax.jit(jax.value_and_grad(loss))(flat)
        assert value.dtype == jnp.float64 and np.isfinite(float(value))
        h = 1e-6
        steps = jnp.concatenate([jnp.eye(flat.size), -jnp.eye(flat.size)]) * h
        # every +-h step in one compiled call: the losses and the spatial-dropout masks
        losses, masks = jax.jit(
            jax.vmap(lambda d: (loss(flat + d), weights_and_masks(spec, unravel(flat + d))[1]))
        )(steps)
        up, down = np.split(np.asarray(losses), 2)
        fd = (up - down) / (2 * h)
        if spec.spatial_dropout:  # no step moved a connection across the median
            base = weights_and_masks(spec, unravel(flat))[1]
            for m, b in zip(masks, base):
                assert bool(jnp.all(m == b[None]))
    grad = np.asarray(grad)
    np.testing.assert_allclose(grad, fd, rtol=2e-6, atol=2e-9)
    assert np.abs(grad).max() > 1e-3  # a gradient that could fail the comparison
    tree = jax.tree_util.tree_map(np.asarray, unravel(jnp.asarray(grad)))
    if spec.shift_scale:  # hidden scale/shift genes move the loss; the output layer's are inert
        assert np.abs(tree[1]["scale"]).min() > 0 and np.abs(tree[1]["shift"]).min() > 0
        np.testing.assert_array_equal(tree[-1]["scale"], 0.0)
        np.testing.assert_array_equal(tree[-1]["shift"], 0.0)


def _flags_for(switches: dict) -> dict[str, float]:
    return {
        "standardize_weights": float(switches.get("standardize_weights", False)),
        "normalization": float(switches.get("normalization", "none") == "activation"),
        "spatial_dropout": float(switches.get("spatial_dropout", False)),
    }


@pytest.mark.parametrize("name, switches, l1, l2", CASES[:5], ids=[c[0] for c in CASES[:5]])
def test_traced_switches_give_the_spec_gradient(name, switches, l1, l2) -> None:
    """A switch turned off by a traced flag on the all-on network (the sweep's way) gives the
    loss and gradient of the network built without it."""
    x, y = _data()
    all_on = _spec(
        {
            "normalization": "activation",
            "shift_scale": switches.get("shift_scale", False),
            "standardize_weights": True,
            "spatial_dropout": True,
        }
    )
    own = _spec(switches)
    with jax.enable_x64(True):
        coords = _coords(own)
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        flags = {k: jnp.asarray(v) for k, v in _flags_for(switches).items()}

        def by_flags(c):
            # the sweep's way: the internal forward pass (samples last) with traced flags
            logp = log_proba_t(all_on, c, xj.T, flags)
            terms = log_proba_terms(logp, yj, 1.0, "2025")
            loss = masked_loss(terms, yj, jnp.ones(ROWS), True, "2025")
            return loss + weight_penalty(all_on, c, jnp.asarray(l1), jnp.asarray(l2), flags)

        def by_spec(c):
            cfg = LossConfig.reference_2025(l1=l1, l2=l2)
            return debi_loss(own, c, xj, yj, jnp.ones(ROWS), cfg)

        v1, g1 = jax.jit(jax.value_and_grad(by_flags))(coords)
        v2, g2 = jax.jit(jax.value_and_grad(by_spec))(coords)
    assert float(v1) == pytest.approx(float(v2), rel=1e-13)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-11, atol=1e-14)


def test_gradient_at_the_spatial_dropout_cutoff_holds_the_kept_set_fixed() -> None:
    """Spatial dropout is piecewise smooth: the kept set (connections no longer than the
    median) is a step function of the coordinates and passes no gradient. The gradient is the
    derivative of the piece the coordinates lie in; a step that moves a connection across the
    median changes the loss by a jump that no gradient announces."""
    spec = dj.NetworkSpec.reference_2025(2, (4,), 3, normalization="none", spatial_dropout=True)
    x = np.array([[1.0, -0.5], [-0.3, 0.8], [0.6, 0.2], [-1.0, -0.7]])
    y = np.array([0, 1, 2, 0])
    gene = 0  # input axon 0's x gene
    with jax.enable_x64(True):
        coords = _coords(spec, seed=5)
        flat, unravel = jax.flatten_util.ravel_pytree(coords)
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        cfg = LossConfig.reference_2025()

        def loss(t):
            return debi_loss(spec, unravel(t), xj, yj, jnp.ones(4), cfg)

        @jax.jit
        def at(shift):
            """loss, first-layer kept set and the gene's gradient, the gene moved by shift"""
            t = flat.at[gene].add(shift)
            return loss(t), weights_and_masks(spec, unravel(t))[1][0], jax.grad(loss)(t)[gene]

        steps = jnp.linspace(-1.5, 1.5, 301)
        _, keeps, _ = jax.jit(jax.vmap(at))(steps)
        keeps = np.asarray(keeps)
        changed = np.flatnonzero(np.any(keeps[1:] != keeps[:-1], axis=(1, 2)))
        assert changed.size > 0  # moving the gene does move a connection across the median
        a, b = float(steps[changed[0]]), float(steps[changed[0] + 1])
        keep_a = keeps[changed[0]]
        for _ in range(24):  # bisect the crossing to ~1e-9 (not to an ulp: there the
            mid = 0.5 * (a + b)  # tie between two equal lengths is decided by rounding)
            if np.array_equal(np.asarray(at(mid)[1]), keep_a):
                a = mid
            else:
                b = mid
        (left, keep_left, _), (right, keep_right, _) = at(a), at(b)
        left, right = float(left), float(right)
        assert not np.array_equal(np.asarray(keep_left), np.asarray(keep_right))
        eps = 1e-7
        g_left, fd_left = float(at(a - 10 * eps)[2]), (left - float(at(a - eps)[0])) / eps
        g_right, fd_right = float(at(b + 10 * eps)[2]), (float(at(b + eps)[0]) - right) / eps
    jump = abs(right - left)
    assert b - a < 1e-9
    assert jump > 1e-4  # a real discontinuity across a bracket of 1e-9
    # on each side the gradient is the derivative of that side's smooth piece
    assert g_left == pytest.approx(fd_left, rel=1e-4, abs=1e-7)
    assert g_right == pytest.approx(fd_right, rel=1e-4, abs=1e-7)
    # and it does not announce the jump: a first-order step over the bracket predicts ~0
    assert max(abs(g_left), abs(g_right)) * (b - a) < 1e-6 * jump


def test_removed_connections_pass_no_gradient() -> None:
    """An input neuron whose every connection is beyond the median (removed) gets a zero
    gradient: the loss does not see it, however it moves (until a connection comes back)."""
    spec = dj.NetworkSpec.reference_2025(3, (6,), 3, normalization="none", spatial_dropout=True)
    x, y = _data()
    with jax.enable_x64(True):
        coords = list(_coords(spec, seed=7))
        coords[0] = {"axon": coords[0]["axon"].at[2].set(jnp.array([9.0, 9.0, 9.0]))}
        coords = tuple(coords)
        keep = np.asarray(weights_and_masks(spec, coords)[1][0])
        cfg = LossConfig.reference_2025(l1=0.01, l2=0.01)

        def loss(c):
            return debi_loss(spec, c, jnp.asarray(x), jnp.asarray(y), jnp.ones(ROWS), cfg)

        g = jax.tree_util.tree_map(np.asarray, jax.jit(jax.grad(loss))(coords))
    assert not np.any(keep[2])  # input 2's connections are all removed
    np.testing.assert_array_equal(g[0]["axon"][2], 0.0)
    assert np.abs(g[0]["axon"][:2]).max() > 0


def test_singularity_start_has_no_position_gradient() -> None:
    """At the GA's Singularity start (every point at the origin) every distance is 0, so the
    position genes get an exactly zero gradient: GD cannot leave it (it starts at random
    points instead)."""
    spec = dj.NetworkSpec.reference_2025(3, (9,), 2, shift_scale=True)
    x, y = _data()
    with jax.enable_x64(True):
        c0 = dj.init_coords(jax.random.key(0), spec, "singularity", dtype=jnp.float64)
        cfg = LossConfig.reference_2025()
        g = jax.grad(
            lambda c: debi_loss(spec, c, jnp.asarray(x), jnp.asarray(y), jnp.ones(ROWS), cfg)
        )(c0)
    for layer in g:
        for name in ("soma", "axon"):
            if name in layer:
                np.testing.assert_array_equal(np.asarray(layer[name]), 0.0)


def test_2025_network_is_invariant_to_input_scale() -> None:
    """The 2025 network has no bias path from the inputs (no bias neurons; shift genes act
    after a scale-free normalisation; the head divides by sum |z|): its probabilities are the
    same for x and c x, c > 0, so it classifies by the direction of the feature vector only."""
    x, _ = _data()
    with jax.enable_x64(True):
        for switches, _l1, _l2 in [(c[1], c[2], c[3]) for c in CASES]:
            spec = _spec(switches)
            coords = _coords(spec)
            p = np.asarray(dj.apply(spec, coords, jnp.asarray(x)))
            for c in (0.05, 3.0, 40.0):
                q = np.asarray(dj.apply(spec, coords, jnp.asarray(c * x)))
                np.testing.assert_allclose(q, p, atol=1e-12)
            assert np.ptp(p[:, 0]) > 1e-3  # not a constant function


def test_two_class_head_is_flat_where_the_output_signals_differ_in_sign() -> None:
    """With two classes the head's scores z / (|z_0| + |z_1|) differ by exactly 1 whenever the
    two output signals have opposite signs, so p = sigmoid(+-1) = 0.731 / 0.269 there: such a
    case contributes a constant loss and no gradient at all (a flat region for GD; the GA
    still sees a case change sides)."""
    spec = dj.NetworkSpec.reference_2025(3, (9,), 2, normalization="activation")
    x, _ = _data()
    with jax.enable_x64(True):
        coords = _coords(spec, seed=3)
        xj = jnp.asarray(x)
        # the head's scores s = z / sum|z| (the internal forward pass, samples last), (2, N)
        s = np.asarray(scores_t(spec, coords, xj.T))
        opposite = np.sign(s[0]) != np.sign(s[1])  # z and s have the same signs
        # per-case gradients of each case's log-probability of class 0 (public, samples first)
        per_case = jax.jit(jax.jacrev(lambda c: dj.log_proba(spec, c, xj)[:, 0]))(coords)
        g = np.concatenate(
            [np.asarray(v).reshape(x.shape[0], -1) for v in jax.tree_util.tree_leaves(per_case)],
            axis=1,
        )
        p0 = np.asarray(jax.nn.softmax(jnp.asarray(s), axis=0))[0]
    assert opposite.any() and (~opposite).any()  # both kinds of case in this draw
    np.testing.assert_allclose(np.abs(s[0] - s[1])[opposite], 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.sort(np.unique(np.round(p0[opposite], 12))).tolist(),
                               sorted({round(1 / (1 + np.exp(-d)), 12) for d in
                                       np.sign(s[0] - s[1])[opposite]}))  # fmt: skip
    assert np.abs(g[opposite]).max() < 1e-12  # no gradient from these cases
    assert np.abs(g[~opposite]).max() > 1e-3
