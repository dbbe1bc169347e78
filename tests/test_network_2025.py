"""Unit tests of the 2025 network and loss (DEBINN-2025.md sections 1-3).

``_ref_signals`` is an independent float64 NumPy loop implementation of section 2 (the
genes are the points, kernel A exp(-0.4 d^2), median spatial dropout, 2025 standardisation over
the kept weights, leaky ReLU, per-group activation normalisation with scale/shift, the reference
head with DBL_EPSILON); ``apply`` is compared to it on small random networks in float64.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import debinn_jax as dj
from debinn_jax.loss import (
    LossConfig,
    debi_loss,
    log_proba_terms,
    masked_loss,
    population_loss,
    weight_penalty,
)
from debinn_jax.network import (
    group_index,
    group_normalize,
    kernel_fn,
    median_keep_mask,
    standardize_2025,
    weights_and_masks,
)
from debinn_jax.network.forward import log_proba_t

# Compiling is most of the cost of these tests: the tests below reuse the specs (and input
# shapes) of the forward-pass comparison wherever they can, so that ``apply`` is compiled once.

A = 0.8920620580763856
RHO = 0.4
DBL_EPS = 2.220446049250313e-16


# ------------------------------------------------------------------------------------------------
# an independent float64 implementation of DEBINN-2025.md section 2


def _ref_groups(spec: dj.NetworkSpec) -> tuple[int, ...]:
    """Groups per hidden layer: floor(N/8) (at least 1) for "auto", else the spec's tuple."""
    if spec.groups == "auto":
        return tuple(max(n // 8, 1) for n in spec.hidden)
    return tuple(spec.groups)


def _ref_blocks(n: int, groups: int) -> list[range]:
    """Contiguous blocks of floor(n/G) neurons, the remainder joining the last block."""
    size = n // groups
    return [range(g * size, n if g == groups - 1 else (g + 1) * size) for g in range(groups)]


def _ref_weights(spec: dj.NetworkSpec, coords) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per non-input layer: (weights as the forward pass uses them, kept-connection mask)."""
    out = []
    for l in range(1, spec.n_layers + 1):
        axons = np.asarray(coords[l - 1]["axon"], np.float64)
        somas = np.asarray(coords[l]["soma"], np.float64)
        d2 = np.zeros((len(axons), len(somas)))
        for i, a in enumerate(axons):
            for j, s in enumerate(somas):
                d2[i, j] = sum((a[k] - s[k]) ** 2 for k in range(3))  # signed z, no offsets
        w = A * np.exp(-RHO * d2)
        keep = np.ones(d2.shape, bool)
        if spec.spatial_dropout:
            keep = d2 <= np.sort(d2.ravel())[d2.size // 2]
        if spec.standardize_weights:
            kept = w[keep]
            m = kept.sum() / kept.size
            sd = math.sqrt(((kept - m) ** 2).sum() / (kept.size + DBL_EPS))
            w = (w - m) / sd if sd > 0 else np.zeros_like(w)
        out.append((np.where(keep, w, 0.0), keep))
    return out


def _ref_signals(spec: dj.NetworkSpec, coords, x: np.ndarray) -> np.ndarray:
    """The output layer's input signals z, ``(N, K)``."""
    h = np.asarray(x, np.float64)
    groups = _ref_groups(spec)
    for l, (w, _) in enumerate(_ref_weights(spec, coords), start=1):
        z = np.zeros((h.shape[0], w.shape[1]))
        for s in range(h.shape[0]):
            for j in range(w.shape[1]):
                z[s, j] = sum(w[i, j] * h[s, i] for i in range(w.shape[0]))
        if l == spec.n_layers:
            return z
        a = np.where(z >= 0, z, 0.01 * z)
        if spec.normalization == "activation":
            normed = a.copy()
            for g, block in enumerate(_ref_blocks(a.shape[1], groups[l - 1])):
                scale, shift = 1.0, 0.0
                if spec.shift_scale:
                    scale, shift = float(coords[l]["scale"][g]), float(coords[l]["shift"][g])
                idx = list(block)
                for s in range(a.shape[0]):
                    v = a[s, idx]
                    m = v.sum() / len(idx)
                    sd = math.sqrt(((v - m) ** 2).sum() / (len(idx) + DBL_EPS))
                    normed[s, idx] = scale * (v - m) / (sd + DBL_EPS) + shift
            a = normed
        h = a
    raise AssertionError("unreachable")


def _ref_head(z: np.ndarray, eps: float = DBL_EPS) -> np.ndarray:
    """s = z / (sum|z| + eps); p = exp(s) / (sum exp(s) + eps)."""
    s = z / (np.abs(z).sum(axis=1, keepdims=True) + eps)
    e = np.exp(s)
    return e / (e.sum(axis=1, keepdims=True) + eps)


def _ref_proba(spec: dj.NetworkSpec, coords, x: np.ndarray) -> np.ndarray:
    return _ref_head(_ref_signals(spec, coords, x))


def _random_coords(spec: dj.NetworkSpec, seed: int, spread: float = 1.5) -> tuple[dict, ...]:
    """Random float64 genes (signed z); scale/shift genes when the spec has them."""
    rng = np.random.default_rng(seed)
    sizes = spec.layer_sizes
    groups = (*_ref_groups(spec), spec.n_classes)
    layers = []
    for l, n in enumerate(sizes):
        layer = {}
        if l > 0:
            layer["soma"] = rng.uniform(-spread, spread, (n, 3))
        if l < len(sizes) - 1:
            layer["axon"] = rng.uniform(-spread, spread, (n, 3))
        if l > 0 and spec.shift_scale:
            layer["scale"] = rng.uniform(0.5, 2.0, groups[l - 1])
            layer["shift"] = rng.uniform(-1.0, 1.0, groups[l - 1])
        layers.append(layer)
    return tuple(layers)


def _x(n_inputs: int, n: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 100).normal(0.0, 1.5, (n, n_inputs))


def _spec(n_in: int, hidden: tuple[int, ...], k: int, groups=None, **switches) -> dj.NetworkSpec:
    spec = dj.NetworkSpec.reference_2025(n_in, hidden, k, **switches)
    return spec if groups is None else dataclasses.replace(spec, groups=groups)


def _to(coords, dtype) -> tuple[dict, ...]:
    return jax.tree.map(lambda v: jnp.asarray(v, dtype), coords)


SWITCHES = list(
    itertools.product([False, True], ["none", "activation"], [False, True], [False, True])
)
# Every combination of the four switches is compared once, on one of two architectures: 3-5-4-2
# (two hidden layers) takes the half fraction in which spatial dropout = std XOR activation XOR
# shift-scale, 4-9-3 (one hidden layer in two groups, of 4 and 5 neurons) the other half. Each
# half still holds every pair of switch values. (One compilation per spec: this keeps the file
# fast.)
HALF = [sw for sw in SWITCHES if sw[3] == (sw[0] ^ (sw[1] == "activation") ^ sw[2])]
OTHER_HALF = [sw for sw in SWITCHES if sw not in HALF]
ARCHS = {"3-5-4-2": (3, (5, 4), 2, None), "4-9-3-groups2": (4, (9,), 3, (2,))}
CASES = [("3-5-4-2", sw) for sw in HALF] + [("4-9-3-groups2", sw) for sw in OTHER_HALF]
N_ROWS = 6


def _combo(arch: str, std: bool, norm: str, ss: bool, sd: bool) -> dj.NetworkSpec:
    n_in, hidden, k, groups = ARCHS[arch]
    return _spec(n_in, hidden, k, groups, standardize_weights=std, normalization=norm,
                 shift_scale=ss, spatial_dropout=sd)  # fmt: skip


def _arch_x(arch: str) -> np.ndarray:
    return _x(ARCHS[arch][0], n=N_ROWS)


def _switch_id(sw: tuple) -> str:
    std, norm, ss, sd = sw
    return f"std{int(std)}-{norm}-ss{int(ss)}-sd{int(sd)}"


def _apply64(spec: dj.NetworkSpec, coords, x: np.ndarray) -> np.ndarray:
    with jax.enable_x64(True):
        p = dj.apply(spec, _to(coords, jnp.float64), x)
        assert p.dtype == jnp.float64
    return np.asarray(p)


def _map_z(coords, fn) -> tuple[dict, ...]:
    """``coords`` with ``fn`` applied to every soma/axon z gene."""
    out = []
    for layer in coords:
        new = dict(layer)
        for leaf in ("soma", "axon"):
            if leaf in new:
                new[leaf] = np.concatenate([new[leaf][:, :2], fn(new[leaf][:, 2:])], axis=1)
        out.append(new)
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# the whole forward pass against the loop implementation


@pytest.mark.parametrize("arch, switches", CASES, ids=[f"{a}-{_switch_id(sw)}" for a, sw in CASES])
def test_apply_matches_reference_loop(arch: str, switches: tuple) -> None:
    spec = _combo(arch, *switches)
    coords = _random_coords(spec, seed=SWITCHES.index(switches) + 17 * list(ARCHS).index(arch))
    x = _arch_x(arch)
    p = _apply64(spec, coords, x)
    np.testing.assert_allclose(p, _ref_proba(spec, coords, x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.abs(p - 1.0 / spec.n_classes).max() > 1e-3  # not a degenerate (uniform) network


# ------------------------------------------------------------------------------------------------
# geometry and kernel


def test_positions_are_the_genes_with_signed_z() -> None:
    spec = _combo("3-5-4-2", False, "none", False, False)
    coords = _random_coords(spec, seed=1)
    x = _arch_x("3-5-4-2")
    with jax.enable_x64(True):
        pos = dj.positions(spec, _to(coords, jnp.float64))
    for l, layer in enumerate(coords):
        zs = []
        for leaf in ("soma", "axon"):
            if leaf in layer:
                np.testing.assert_array_equal(pos[l][leaf], layer[leaf])
                zs.extend(layer[leaf][:, 2])
        np.testing.assert_array_equal(pos[l]["z_range"], [min(zs), max(zs)])
        assert min(zs) < 0  # every layer has negative z genes
    p = _apply64(spec, coords, x)
    absolute = _map_z(coords, np.abs)
    p_abs = _apply64(spec, absolute, x)
    p_mirror = _apply64(spec, _map_z(coords, np.negative), x)
    # |z| is a different network (the loop implementation agrees on both) ...
    assert np.abs(p - p_abs).max() > 1e-3
    np.testing.assert_allclose(p, _ref_proba(spec, coords, x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p_abs, _ref_proba(spec, absolute, x), rtol=0, atol=1e-12)
    # ... while mirroring every z keeps every distance
    np.testing.assert_allclose(p_mirror, p, rtol=0, atol=1e-12)


def test_kernel_2025_values() -> None:
    with jax.enable_x64(True):
        w = kernel_fn("gaussian_2025", jnp.array([0.0, 1.0, 2.5]))
        assert w.dtype == jnp.float64
    np.testing.assert_allclose(w, [A, A * math.exp(-0.4), A * math.exp(-1.0)], rtol=1e-15, atol=0)
    assert float(kernel_fn("gaussian_2025", jnp.zeros(()))) == pytest.approx(A, rel=1e-7)


def test_layer_weights_by_hand() -> None:
    """2 inputs -> 2 outputs with squared distances [[0, 1], [1, 2]] (a negative z included)."""
    coords = (
        {"axon": np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])},
        {"soma": np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0]])},
    )
    a, b, c = A, A * math.exp(-0.4), A * math.exp(-0.8)
    raw = np.array([[a, b], [b, c]])
    m = (a + 2 * b + c) / 4
    sd = math.sqrt(((a - m) ** 2 + 2 * (b - m) ** 2 + (c - m) ** 2) / (4 + DBL_EPS))
    plain_spec, std_spec = _spec(2, (), 2), _spec(2, (), 2, standardize_weights=True)
    with jax.enable_x64(True):
        c64 = _to(coords, jnp.float64)
        plain, std = jax.jit(
            lambda c: (dj.layer_weights(plain_spec, c)[0], dj.layer_weights(std_spec, c)[0])
        )(c64)
    np.testing.assert_allclose(plain, raw, rtol=1e-15, atol=0)
    np.testing.assert_allclose(std, (raw - m) / sd, rtol=0, atol=1e-14)


# ------------------------------------------------------------------------------------------------
# 2025 weight standardisation


def test_standardize_2025_by_hand() -> None:
    # m = 2.5, sum of squared deviations 5, sd = sqrt(5 / (4 + eps)) = sqrt(1.25): the
    # population sd (not n - 1), no epsilon added to it
    big, small = 1.5 / math.sqrt(1.25), 0.5 / math.sqrt(1.25)
    assert (big, small) == pytest.approx((1.3416407864998738, 0.4472135954999579), abs=1e-16)
    w = np.array([[1.0, 2.0, 50.0], [3.0, 4.0, -7.0]])
    keep = np.array([[True, True, False], [True, True, False]])
    expected = np.array([[-big, -small], [small, big]])
    with jax.enable_x64(True):
        # only the kept entries count; removed ones become 0
        out, kept = jax.jit(lambda v, k: (standardize_2025(v[:, :2]), standardize_2025(v, k)))(
            jnp.asarray(w), jnp.asarray(keep)
        )
        assert out.dtype == jnp.float64
    out32 = standardize_2025(jnp.asarray(w[:, :2], jnp.float32))
    assert out32.dtype == jnp.float32
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(kept, np.c_[expected, [0.0, 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(out32, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "shape, x64",
    [
        ((2, 2), True),
        ((4, 4), False),
        # shapes whose mean of equal weights is inexact (measured on CPU, eager and jitted)
        ((17, 85), True),
        ((17, 85), False),
    ],
    ids=["2x2-f64", "4x4-f32", "17x85-f64", "17x85-f32"],
)
def test_standardize_2025_zero_spread_gives_one(shape: tuple[int, int], x64: bool) -> None:
    """All weights equal (the Singularity start): every standardised weight is 1, removed
    ones stay 0.

    The authors' program divides the common rounding residue of the mean by itself (+-1);
    their grids show the L2 term unchanged from the start on (see ``standardize_2025``). We
    decide zero spread exactly, so the result does not depend on how the mean rounds.
    (Finite outputs and gradients at the Singularity start: see the gradient test.)"""
    with jax.enable_x64(x64):
        out = jax.jit(standardize_2025)(jnp.full(shape, A))
        keep = np.arange(np.prod(shape)).reshape(shape) % 3 != 0
        kept = jax.jit(standardize_2025)(jnp.full(shape, A), jnp.asarray(keep))
    np.testing.assert_array_equal(out, np.ones(shape))
    np.testing.assert_array_equal(kept, keep.astype(float))


@pytest.mark.parametrize("d2_min", [10.0, 100.0, 120.0])
def test_standardize_2025_tiny_weights_in_float32(d2_min: float) -> None:
    """Standardisation is scale-free: a layer whose connections are all long (weights 1e-18 to
    1e-21, squares below float32's range) standardises in float32 as in float64."""
    d2 = d2_min + np.random.default_rng(0).uniform(0, 5, (17, 85))
    w = A * np.exp(-0.4 * d2)
    out32 = np.asarray(jax.jit(standardize_2025)(jnp.asarray(w, jnp.float32)))
    with jax.enable_x64(True):
        out64 = np.asarray(jax.jit(standardize_2025)(jnp.asarray(w)))
    assert np.isfinite(out32).all()
    np.testing.assert_allclose(out32, out64, rtol=0, atol=1e-5)


def test_singularity_network_has_unit_weights_and_uniform_outputs() -> None:
    """The published DLBCL architecture at its Singularity start, with standardisation: every
    standardised weight is 1, so the L1 and L2 means are 1 (the values they keep later, for
    L2: (n + eps) / n = 1), and the outputs are uniform."""
    spec = dj.NetworkSpec.reference_2025(17, (85, 64), 2, standardize_weights=True)
    x = np.random.default_rng(0).normal(size=(5, 17))
    with jax.enable_x64(True):
        coords = dj.init_coords(jax.random.key(0), spec, "singularity")
        weights, penalty, proba = jax.jit(
            lambda c: (
                dj.layer_weights(spec, c),
                weight_penalty(spec, c, 0.01, 0.01),
                dj.apply(spec, c, jnp.asarray(x)),
            )
        )(coords)
    for w in weights:
        np.testing.assert_array_equal(w, np.ones(w.shape))
    assert float(penalty) == pytest.approx(0.02, abs=1e-15)
    np.testing.assert_array_equal(proba, np.full((5, 2), 0.5))


# ------------------------------------------------------------------------------------------------
# group statistics

# n = 7 neurons x 3 samples; G = 2 -> blocks of floor(7/2) = 3 and the remainder 4
A7 = np.array(
    [
        [1.0, -1.0, 5.0],
        [2.0, 5.0, 5.0],
        [3.0, 2.0, 5.0],
        [0.0, 1.0, 1.0],
        [0.0, 2.0, 2.0],
        [4.0, 3.0, 3.0],
        [4.0, 10.0, 4.0],
    ]
)


def test_group_index_remainder_joins_last_block() -> None:
    np.testing.assert_array_equal(group_index(7, 2), [0, 0, 0, 1, 1, 1, 1])
    assert np.bincount(np.asarray(group_index(62, 7))).tolist() == [8] * 6 + [14]
    assert np.bincount(np.asarray(group_index(85, 10))).tolist() == [8] * 9 + [13]
    assert np.bincount(np.asarray(group_index(180, 22))).tolist() == [8] * 21 + [12]


def test_group_normalize_by_hand() -> None:
    r = math.sqrt(1.5)  # block [1, 2, 3]: m 2, s = sqrt(2 / 3) -> (-1, 0, 1) / s
    s6, s12 = math.sqrt(6.0), math.sqrt(12.5)
    expected = np.array(
        [
            # column 0: second block [0, 0, 4, 4]: m 2, s = sqrt(16 / 4) = 2
            [-r, 0.0, r, -1.0, -1.0, 1.0, 1.0],
            # column 1: [-1, 5, 2]: m 2, s = sqrt(18 / 3); [1, 2, 3, 10]: m 4, s = sqrt(50 / 4)
            [-3 / s6, 3 / s6, 0.0, -3 / s12, -2 / s12, -1 / s12, 6 / s12],
            # column 2: a constant first block gives 0; [1, 2, 3, 4]: m 2.5, s = sqrt(5 / 4)
            [0.0, 0.0, 0.0, *(np.array([-1.5, -0.5, 0.5, 1.5]) / math.sqrt(1.25))],
        ]
    ).T
    with jax.enable_x64(True):
        plain, scaled, big_eps = jax.jit(
            lambda a: (
                group_normalize(a, 2),
                group_normalize(a, 2, jnp.array([2.0, -0.5]), jnp.array([0.25, 3.0])),
                group_normalize(a, 2, eps=0.5),
            )
        )(jnp.asarray(A7))
    np.testing.assert_allclose(plain, expected, rtol=0, atol=1e-14)
    group = np.array([0, 0, 0, 1, 1, 1, 1])
    scale, shift = np.array([2.0, -0.5])[group], np.array([0.25, 3.0])[group]
    np.testing.assert_allclose(
        scaled, scale[:, None] * expected + shift[:, None], rtol=0, atol=1e-14
    )
    # where eps enters: s_g = sqrt(ss / (n_g + eps)), then dev / (s_g + eps)
    assert big_eps[3, 0] == pytest.approx(-2.0 / (math.sqrt(16 / 4.5) + 0.5), abs=1e-15)
    want = np.zeros_like(A7)
    for block in (range(0, 3), range(3, 7)):
        v = A7[list(block)]
        dev = v - v.mean(axis=0)
        sd = np.sqrt((dev**2).sum(axis=0) / (len(block) + 0.5))
        want[list(block)] = dev / (sd + 0.5)
    np.testing.assert_allclose(big_eps, want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("norm", ["none", "activation"])
def test_scale_shift_genes(norm: str) -> None:
    """Without activation normalisation scale/shift genes are inert; the output layer's always."""
    sd = norm == "none"  # a spec of the forward-pass comparison (OTHER_HALF)
    spec = _combo("4-9-3-groups2", True, norm, True, sd)
    assert spec.group_counts() == (2, 3)
    coords = _random_coords(spec, seed=7)
    x = _arch_x("4-9-3-groups2")
    out_changed = tuple(dict(layer) for layer in coords)
    out_changed[2]["scale"] = np.array([-3.0, 0.1, 7.0])
    out_changed[2]["shift"] = np.array([5.0, -2.0, 0.5])
    hidden_changed = tuple(dict(layer) for layer in coords)
    hidden_changed[1]["scale"] = np.array([0.3, 2.5])
    hidden_changed[1]["shift"] = np.array([-1.0, 0.7])
    base = _apply64(spec, coords, x)
    np.testing.assert_allclose(base, _ref_proba(spec, coords, x), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(_apply64(spec, out_changed, x), base)
    hidden_p = _apply64(spec, hidden_changed, x)
    if norm == "none":
        np.testing.assert_array_equal(hidden_p, base)
    else:
        assert np.abs(hidden_p - base).max() > 1e-3
        np.testing.assert_allclose(hidden_p, _ref_proba(spec, hidden_changed, x), atol=1e-12)


# ------------------------------------------------------------------------------------------------
# head epsilon


def test_head_epsilon_keeps_tiny_output_signals() -> None:
    """Output input signals of order 1e-12: DBL_EPSILON keeps them, 1e-8 would flatten them."""
    spec = _combo("3-5-4-2", False, "activation", True, False)
    coords = list(_random_coords(spec, seed=3, spread=0.5))
    # move the output somas far from every hidden axon: weights ~ A exp(-0.4 * 8.5^2) ~ 3e-13
    far = coords[3]["soma"] + np.array([[8.5, 0.0, 0.0], [0.0, 8.5, 0.0]])
    coords[3] = dict(coords[3], soma=far)
    coords = tuple(coords)
    x = _arch_x("3-5-4-2")
    z = _ref_signals(spec, coords, x)
    assert 1e-14 < np.abs(z).max() < 1e-10
    expected = _ref_head(z)
    flattened = _ref_head(z, eps=1e-8)  # the 2022 head's epsilon on the same signals
    assert np.abs(expected - 0.5).max() > 0.05
    assert np.abs(flattened - 0.5).max() < 1e-3
    np.testing.assert_allclose(_apply64(spec, coords, x), expected, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# spatial dropout

_median_keep_mask_jit = jax.jit(median_keep_mask)

_D2 = st.one_of(
    st.sampled_from([0.0, 0.0, 0.25, 1.0, 1.0, 3.5]),  # zeros and ties
    st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32),
)


@settings(max_examples=25, deadline=None)
@given(
    values=st.sampled_from([1, 4, 5]).flatmap(lambda n: st.lists(_D2, min_size=n, max_size=n)),
    dtype=st.sampled_from(["float32", "float64"]),
    two_d=st.booleans(),
)
@example(values=[3.0, 1.0, 2.0, 0.5, 9.0], dtype="float32", two_d=False)  # odd: sorted[2] = 2
@example(values=[3.0, 1.0, 2.0, 4.0], dtype="float64", two_d=False)  # even: sorted[2] = 3
@example(values=[1.0, 1.0, 1.0, 5.0], dtype="float32", two_d=True)  # ties at the threshold
@example(values=[0.0, 0.0, 0.0, 0.0, 0.0], dtype="float64", two_d=False)
@example(values=[7.0], dtype="float64", two_d=False)
def test_median_keep_mask_rule(values: list[float], dtype: str, two_d: bool) -> None:
    """keep = d2 <= sorted(d2)[floor(n/2)] (flattened over the whole layer)."""
    d2 = np.asarray(values, dtype)
    if two_d and d2.size % 2 == 0:
        d2 = d2.reshape(2, -1)
    expected = d2 <= np.sort(d2.ravel())[d2.size // 2]
    with jax.enable_x64(dtype == "float64"):
        got = _median_keep_mask_jit(jnp.asarray(d2))
    assert got.dtype == jnp.bool_ and got.shape == d2.shape
    np.testing.assert_array_equal(got, expected)


def test_median_keep_mask_subnormal_lengths() -> None:
    d2 = np.array([1e-40, 2e-40, 3e-40, 0.0, 5.0], np.float32)
    np.testing.assert_array_equal(median_keep_mask(jnp.asarray(d2)), d2 <= 2e-40)


def test_spatial_dropout_weights_statistics_and_penalty() -> None:
    spec = _combo("3-5-4-2", True, "none", False, True)
    coords = _random_coords(spec, seed=5)
    ref = _ref_weights(spec, coords)
    l1, l2 = 0.3, 0.7
    with jax.enable_x64(True):
        (weights, masks), penalty = jax.jit(
            lambda c: (weights_and_masks(spec, c), weight_penalty(spec, c, l1, l2))
        )(_to(coords, jnp.float64))
    kept_all = []
    for l, (w, m, (rw, rm)) in enumerate(zip(weights, masks, ref), start=1):
        w, m = np.asarray(w), np.asarray(m)
        np.testing.assert_array_equal(m, rm)
        assert m.sum() == m.size // 2 + 1  # no ties in random genes
        np.testing.assert_allclose(w, rw, rtol=0, atol=1e-12)
        assert np.all(w[~m] == 0.0)
        kept = w[m]
        kept_all.append(kept)
        # the standardisation statistics are those of the kept weights ...
        assert abs(kept.mean()) < 1e-12
        assert (kept**2).sum() / kept.size == pytest.approx(1.0, abs=1e-12)
        # ... not of all weights (standardising everything, then removing, differs)
        raw = A * np.exp(-RHO * _ref_d2(coords, l))
        everything = np.where(m, (raw - raw.mean()) / raw.std(), 0.0)
        assert np.abs(everything - w).max() > 1e-3
    kept_all = np.concatenate(kept_all)
    # L1/L2 means over the kept connections of the whole network ...
    expected = l1 * np.abs(kept_all).mean() + l2 * (kept_all**2).mean()
    assert float(penalty) == pytest.approx(expected, rel=1e-13)
    # ... not over all connections
    n_all = sum(np.size(w) for w in weights)
    over_all = (l1 * np.abs(kept_all).sum() + l2 * (kept_all**2).sum()) / n_all
    assert abs(float(penalty) - over_all) > 1e-3


def _ref_d2(coords, l: int) -> np.ndarray:
    axons, somas = np.asarray(coords[l - 1]["axon"]), np.asarray(coords[l]["soma"])
    return ((axons[:, None, :] - somas[None, :, :]) ** 2).sum(axis=-1)


# ------------------------------------------------------------------------------------------------
# groups="auto"


def test_auto_group_counts() -> None:
    spec = dj.NetworkSpec.reference_2025(3, (85, 64, 180, 62, 7), 2)
    assert spec.groups == "auto"
    assert spec.group_counts() == (10, 8, 22, 7, 1, 2)
    assert dj.NetworkSpec(3, (85, 7), 2, groups="auto", variant="2025").group_counts() == (10, 1, 2)
    # genome lengths of the published architectures (shift-scale genes included)
    assert dj.param_count(dj.NetworkSpec.reference_2025(17, (85, 64), 2)) == 951
    assert dj.param_count(dj.NetworkSpec.reference_2025(36, (180,), 2, shift_scale=True)) == 1242


# ------------------------------------------------------------------------------------------------
# gradients


def test_gradients_match_central_differences() -> None:
    """jax.grad of the 2025 network and loss (activation normalisation in two groups,
    shift-scale, weight standardisation, spatial dropout) equals central differences."""
    spec = _combo("4-9-3-groups2", True, "activation", True, True)
    coords = _random_coords(spec, seed=11, spread=1.0)
    x = _arch_x("4-9-3-groups2")
    y = np.array([0, 1, 2, 0, 1, 1])
    probe = np.random.default_rng(9).normal(size=(N_ROWS, 3))
    config = LossConfig.reference_2025(l1=0.01, l2=0.02)
    with jax.enable_x64(True):
        flat, unravel = jax.flatten_util.ravel_pytree(_to(coords, jnp.float64))

        def f(theta: jax.Array) -> jax.Array:
            """(the 2025 loss with its L1/L2 penalty, a linear functional of the probabilities),
            from one forward pass, composed as the GD trainer composes its loss"""
            c = unravel(theta)
            logp = log_proba_t(spec, c, jnp.asarray(x.T))
            terms = log_proba_terms(logp, jnp.asarray(y), config.alpha, config.variant)
            loss = masked_loss(terms, jnp.asarray(y), jnp.ones(N_ROWS), True, config.variant)
            loss = loss + weight_penalty(spec, c, config.l1, config.l2)
            return jnp.stack([loss, jnp.sum(jnp.exp(logp).T * probe)])

        value_and_jac = jax.jit(lambda t: (f(t), jax.jacrev(f)(t)))
        value, jac = (np.asarray(v) for v in value_and_jac(flat))
        assert value.dtype == np.float64
        h = 1e-6
        fd = np.zeros_like(jac)
        for i in range(flat.size):  # central differences, one gene at a time
            up = np.asarray(value_and_jac(flat.at[i].add(h))[0])
            down = np.asarray(value_and_jac(flat.at[i].add(-h))[0])
            fd[:, i] = (up - down) / (2 * h)
        # the Singularity start (every gene 0, scales 1, shifts 0): finite value and gradient
        singular = jax.flatten_util.ravel_pytree(
            dj.init_coords(jax.random.key(0), spec, "singularity")
        )[0]
        s_value, s_jac = (np.asarray(v) for v in value_and_jac(singular))
    # the loss value by hand: class weights 1 - N_c / N, penalty means over the kept connections
    p = _ref_proba(spec, coords, x)
    w_c = 1.0 - np.bincount(y, minlength=3) / len(y)
    data_term = -np.mean(w_c[y] * np.log(p[np.arange(len(y)), y]))
    kept = np.concatenate([w[m] for w, m in _ref_weights(spec, coords)])
    penalty = 0.01 * np.abs(kept).mean() + 0.02 * (kept**2).mean()
    assert value[0] == pytest.approx(data_term + penalty, rel=1e-13)
    assert value[1] == pytest.approx(np.sum(p * probe), rel=1e-12)
    assert np.abs(jac).max(axis=1).min() > 1e-3
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-9)
    for row in jac:  # hidden scale/shift genes have a gradient, the output layer's do not
        with jax.enable_x64(True):
            grad = jax.tree.map(np.asarray, unravel(jnp.asarray(row)))
        for leaf in ("scale", "shift"):
            assert np.abs(grad[1][leaf]).min() > 0
            np.testing.assert_array_equal(grad[2][leaf], 0.0)
    assert np.all(np.isfinite(s_value)) and np.all(np.isfinite(s_jac))
    # ... and uniform probabilities: the functional is sum(probe) / 3
    assert s_value[1] == pytest.approx(probe.sum() / 3, abs=1e-14)


# ------------------------------------------------------------------------------------------------
# jit / vmap / flags / dtypes


def test_vmapped_population_equals_loop() -> None:
    arch = "4-9-3-groups2"
    spec = _combo(arch, True, "activation", True, False)
    population = [_random_coords(spec, seed=s) for s in range(3)]
    x = _arch_x(arch)
    y = np.array([0, 1, 0, 2, 1, 0])
    masks = np.array([[1, 1, 1, 0, 0, 1], [0, 1, 1, 1, 1, 1]], np.float64)
    l1, l2 = 0.05, 0.01
    config = LossConfig.reference_2025(l1=l1, l2=l2)
    with jax.enable_x64(True):
        pop = [_to(c, jnp.float64) for c in population]
        stacked = jax.tree.map(lambda *v: jnp.stack(v), *pop)
        vmapped = np.asarray(jax.jit(jax.vmap(lambda c: dj.apply(spec, c, x)))(stacked))
        pop_loss = jax.jit(population_loss, static_argnames=("spec", "config"))
        losses = pop_loss(spec=spec, population=stacked, X=jnp.asarray(x),
                          y=jnp.asarray(y), masks=jnp.asarray(masks), config=config)  # fmt: skip
    loop = np.stack([_apply64(spec, c, x) for c in population])
    np.testing.assert_allclose(vmapped, loop, rtol=0, atol=1e-12)
    for c, p, row in zip(population, loop, np.asarray(losses)):
        np.testing.assert_allclose(p, _ref_proba(spec, c, x), rtol=0, atol=1e-12)
        kept = np.concatenate([w[m] for w, m in _ref_weights(spec, c)])
        penalty = l1 * np.abs(kept).mean() + l2 * (kept**2).mean()
        for mask, value in zip(masks.astype(bool), row):
            yy, pp = y[mask], p[mask]
            w_c = 1.0 - np.bincount(yy, minlength=3) / len(yy)
            data_term = -np.mean(w_c[yy] * np.log(pp[np.arange(len(yy)), yy]))
            assert value == pytest.approx(data_term + penalty, rel=1e-12)


FLAG_NAMES = ("standardize_weights", "spatial_dropout", "normalization")


def test_flags_switch_features_off() -> None:
    """Traced switches: all on equals no flags; one off equals the spec without that feature.
    Unbatched switches (a real branch) and switches batched under ``vmap`` (a sweep over runs)."""
    arch = "4-9-3-groups2"
    spec = _combo(arch, True, "activation", True, True)
    off = {  # (specs of the forward-pass comparison)
        "standardize_weights": _combo(arch, False, "activation", True, True),
        "spatial_dropout": _combo(arch, True, "activation", True, False),
        "normalization": _combo(arch, True, "none", True, True),
    }
    coords = _random_coords(spec, seed=21)
    x = _arch_x(arch)
    l1, l2 = 0.1, 0.2

    def run(c, flags):
        p = jnp.exp(log_proba_t(spec, c, x.T, flags)).T
        return p, weight_penalty(spec, c, l1, l2, flags)

    # run 0: every switch on; run i: switch i - 1 off
    table = np.ones((len(FLAG_NAMES) + 1, len(FLAG_NAMES)), np.int32)
    table[1:] -= np.eye(len(FLAG_NAMES), dtype=np.int32)
    with jax.enable_x64(True):
        c = _to(coords, jnp.float64)
        runs = {name: jnp.asarray(table[:, i]) for i, name in enumerate(FLAG_NAMES)}
        p_runs, pen_runs = jax.jit(jax.vmap(run, in_axes=(None, 0)))(c, runs)
        unbatched = [jax.jit(run)(c, {k: v[i] for k, v in runs.items()}) for i in range(4)]
    base = _apply64(spec, coords, x)  # no flags
    np.testing.assert_allclose(base, _ref_proba(spec, coords, x), rtol=0, atol=1e-12)

    def ref_penalty(s: dj.NetworkSpec) -> float:
        kept = np.concatenate([w[m] for w, m in _ref_weights(s, coords)])
        return l1 * np.abs(kept).mean() + l2 * (kept**2).mean()

    expected = [(base, ref_penalty(spec))]
    for name in FLAG_NAMES:
        p_off = _apply64(off[name], coords, x)
        assert np.abs(p_off - base).max() > 1e-4  # the switch does something
        expected.append((p_off, ref_penalty(off[name])))
    for i, (p, pen) in enumerate(expected):
        np.testing.assert_allclose(p_runs[i], p, rtol=0, atol=1e-12)
        np.testing.assert_allclose(unbatched[i][0], p, rtol=0, atol=1e-12)
        assert float(pen_runs[i]) == pytest.approx(pen, rel=1e-12)
        assert float(unbatched[i][1]) == pytest.approx(pen, rel=1e-12)


def test_dtypes() -> None:
    """float32 by default, float64 under ``jax.enable_x64(True)``."""
    arch = "4-9-3-groups2"
    spec = _combo(arch, False, "activation", True, True)
    coords = _random_coords(spec, seed=2)
    x = _arch_x(arch)
    y = jnp.array([0, 1, 0, 2, 1, 1])
    config = LossConfig.reference_2025(l1=0.01)
    init32 = dj.init_coords(jax.random.key(1), spec, "singularity")
    assert {v.dtype for v in jax.tree.leaves(init32)} == {jnp.dtype(jnp.float32)}
    p32, loss32 = jax.jit(
        lambda c, x: (dj.apply(spec, c, x), debi_loss(spec, c, x, y, config=config))
    )(_to(coords, jnp.float32), jnp.asarray(x, jnp.float32))
    assert p32.dtype == jnp.float32 and loss32.dtype == jnp.float32
    np.testing.assert_allclose(p32, _ref_proba(spec, coords, x), rtol=0, atol=1e-5)
    with jax.enable_x64(True):
        init64 = dj.init_coords(jax.random.key(1), spec, "singularity")
        assert {v.dtype for v in jax.tree.leaves(init64)} == {jnp.dtype(jnp.float64)}
    p64 = _apply64(spec, coords, x)  # asserts float64
    np.testing.assert_allclose(p64, _ref_proba(spec, coords, x), rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# the 2025 loss


def test_loss_2025_by_hand() -> None:
    # true classes 0, 0, 0, 1; probabilities of (class 0, class 1) per case
    p = np.array([[0.8, 0.2], [1e-17, 1.0 - 1e-17], [1e-10, 1.0 - 1e-10], [0.3, 0.7]])
    y = jnp.array([0, 0, 0, 1])
    config = LossConfig.reference_2025()
    assert (config.alpha, config.variant, config.class_weights) == (1.0, "2025", True)
    with jax.enable_x64(True):

        @jax.jit
        def losses(logp):
            terms = log_proba_terms(logp, y, config.alpha, config.variant)
            return (
                masked_loss(terms, y, jnp.ones(4), True, "2025"),
                masked_loss(terms, y, jnp.array([1.0, 1.0, 0.0, 1.0]), True, "2025"),
                masked_loss(log_proba_terms(logp, y, 1.0, "2022"), y, jnp.ones(4)),
            )

        loss, subset, loss_2022 = (float(v) for v in losses(jnp.log(jnp.asarray(p.T))))
    # one-hot targets: only the true class counts. Class weights 1 - N_c / N without a factor K:
    # N_0 = 3, N_1 = 1 of 4 -> 1/4, 3/4. p = 1e-17 < DBL_EPSILON contributes -20 (not
    # ln 1e-17 = -39.1); p = 1e-10 > DBL_EPSILON counts fully, ln 1e-10 = -23.03.
    expected = -(0.25 * (math.log(0.8) - 20.0 + math.log(1e-10)) + 0.75 * math.log(0.7)) / 4
    assert loss == pytest.approx(expected, rel=1e-14)
    # class weights are recounted on the subset: N_0 = 2, N_1 = 1 of 3 -> 1/3, 2/3
    expected_subset = -((math.log(0.8) - 20.0) / 3 + 2 / 3 * math.log(0.7)) / 3
    assert subset == pytest.approx(expected_subset, rel=1e-14)
    # the 2022 rule (factor K = 2, log p floored at -20) differs
    expected_2022 = -(2 * 0.25 * (math.log(0.8) - 40.0) + 2 * 0.75 * math.log(0.7)) / 4
    assert loss_2022 == pytest.approx(expected_2022, rel=1e-14)


# ------------------------------------------------------------------------------------------------
# invalid specs


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"variant": "2025", "train_deltas": True}, "train_deltas"),
        ({"variant": "2025", "normalization": "group"}, "normalization"),
        ({"normalization": "Activation"}, "normalization"),
        ({"normalization": 1}, "normalization"),  # (None means "none")
        ({"groups": "AUTO"}, "groups"),
        ({"groups": "floor"}, "groups"),
        ({"groups": (2, 2)}, "groups"),
        ({"groups": 2.5}, "groups"),
        ({"groups": ("auto",)}, "groups"),
        ({"groups": True}, "groups"),
    ],
)
def test_invalid_spec_values_raise(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"NetworkSpec.{field}"):
        dj.NetworkSpec(3, (9,), 2, **kwargs)


def test_invalid_reference_2025_normalization_raises() -> None:
    with pytest.raises(ValueError, match="NetworkSpec.normalization"):
        dj.NetworkSpec.reference_2025(3, (9,), 2, normalization="groups")


def test_numpy_coordinates_work_outside_jit() -> None:
    """Results hold numpy coordinates: the 2025 geometry must accept them (not only jax arrays)."""
    spec = dj.NetworkSpec.reference_2025(3, (8,), 2)
    coords = jax.tree_util.tree_map(np.asarray, dj.init_coords(jax.random.key(0), spec))
    pos = dj.positions(spec, coords)
    np.testing.assert_array_equal(pos[1]["soma"], coords[1]["soma"])
    assert [w.shape for w in dj.layer_weights(spec, coords)] == [(3, 8), (8, 2)]
