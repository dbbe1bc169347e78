"""Tests of the gradient diagnostics (debinn_jax.diagnostics)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from debinn_jax.diagnostics import (
    KINDS,
    grad_breakdown,
    gradient_conflict,
    kink_fraction,
    loss_grad,
    n_z_genes,
    per_sample_grads,
    trainability,
)
from debinn_jax.gd import GDConfig, z_sign_flips
from debinn_jax.loss import LossConfig
from debinn_jax.network import NetworkSpec, init_coords

SPEC = NetworkSpec(n_inputs=3, hidden=(4,), n_classes=2, shift_scale=True)


def _data(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int32)
    return X, y


def test_grad_breakdown_hand_case() -> None:
    coords = init_coords(jax.random.key(0), SPEC)
    ones = jax.tree_util.tree_map(jnp.ones_like, coords)
    br = grad_breakdown(ones)
    # input layer: 3 axons -> xy norm sqrt(6), z norm sqrt(3); no soma
    np.testing.assert_allclose(br["axon_xy"][0], np.sqrt(6), rtol=1e-6)
    np.testing.assert_allclose(br["axon_z"][0], np.sqrt(3), rtol=1e-6)
    assert br["soma_xy"][0] == 0.0
    # hidden layer: 4 somas, 4 axons, 4 scale, 4 shift genes
    np.testing.assert_allclose(br["soma_z"][1], 2.0, rtol=1e-6)
    np.testing.assert_allclose(br["scale"][1], 2.0, rtol=1e-6)
    # output: 2 somas, no axon
    np.testing.assert_allclose(br["soma_xy"][2], 2.0, rtol=1e-6)
    assert br["axon_xy"][2] == 0.0
    for k in KINDS:
        assert br[k].shape == (3,)
        expected = 1.0 if k != "delta" else 0.0
        np.testing.assert_allclose(br[f"rms_{k}"], expected, rtol=1e-6)


def test_grad_breakdown_keeps_leading_axis() -> None:
    pop = jax.vmap(lambda k: init_coords(k, SPEC))(jax.random.split(jax.random.key(0), 5))
    br = grad_breakdown(pop)
    assert br["soma_xy"].shape == (5, 3)
    assert br["rms_axon_z"].shape == (5,)


@pytest.mark.slow  # per-sample gradients (22 s cold)
def test_per_sample_grads_average_to_full_gradient() -> None:
    X, y = _data()
    coords = init_coords(jax.random.key(1), SPEC)
    lc = LossConfig(alpha=0.9)
    _, g = loss_grad(SPEC, coords, X, y, lc)
    flat_full, _ = jax.flatten_util.ravel_pytree(g)
    ps = per_sample_grads(SPEC, coords, X, y, lc)
    assert ps.shape == (24, flat_full.size)
    np.testing.assert_allclose(np.asarray(ps.mean(0)), np.asarray(flat_full), atol=1e-6)


def test_gradient_conflict_extremes() -> None:
    same = jnp.tile(jnp.array([[1.0, 2.0, 3.0]]), (4, 1))
    c = gradient_conflict(same)
    np.testing.assert_allclose(
        [c["mean_cosine"], c["conflict"], c["signal_to_noise"]], [1, 0, 1], rtol=1e-6
    )
    opposite = jnp.array([[1.0, 0.0], [-1.0, 0.0]])
    c = gradient_conflict(opposite)
    np.testing.assert_allclose(
        [c["mean_cosine"], c["conflict"], c["signal_to_noise"]], [-1, 1, 0], atol=1e-6
    )


def test_z_flips_and_kink_fraction() -> None:
    old = init_coords(jax.random.key(0), SPEC)
    new = jax.tree_util.tree_map(lambda v: v, old)
    assert int(z_sign_flips(old, new)) == 0
    flipped = tuple(
        {k: (v.at[..., 2].multiply(-1.0) if k in ("soma", "axon") else v) for k, v in layer.items()}
        for layer in old
    )
    assert int(z_sign_flips(old, flipped)) == n_z_genes(SPEC) == 3 + 8 + 2
    kf = kink_fraction(SPEC, np.array([13, 0, 13, 0]))
    assert kf == {"per_epoch": 0.5, "total": 2.0}


@pytest.mark.slow
def test_trainability_grid_runs() -> None:
    X, y = _data(60)
    rows = trainability(SPEC, X, y, jax.random.key(0), GDConfig(starts=1, epochs=20, chunk=20))
    assert [(r["head"], r["standardize_weights"]) for r in rows] == [
        ("reference", True),
        ("reference", False),
        ("softmax", True),
        ("softmax", False),
    ]
    for r in rows:
        assert 0.0 <= r["val_bacc"] <= 1.0
        assert set(r["grad_init"]) == {f"rms_{k}" for k in KINDS}


# --------------------------------------------------------------------------------------------
# the 2025 network


def test_flat_head_fraction_counts_opposite_sign_outputs() -> None:
    from debinn_jax.diagnostics import flat_head_fraction
    from debinn_jax.network import log_proba

    spec = NetworkSpec.reference_2025(3, (9,), 2, normalization="activation")
    X, _ = _data(40)
    coords = init_coords(jax.random.key(4), spec)
    # opposite-sign output signals give scores differing by exactly 1: |log p0 - log p1| = 1
    # (same signs: less than 1); from the public log_proba, samples first
    lp = np.asarray(log_proba(spec, coords, jnp.asarray(X)), np.float64)
    expected = np.mean(np.abs(lp[:, 0] - lp[:, 1]) > 1.0 - 1e-5)
    assert 0.0 < expected < 1.0
    assert flat_head_fraction(spec, coords, X) == pytest.approx(expected)
    three = NetworkSpec.reference_2025(3, (9,), 3)
    assert np.isnan(flat_head_fraction(three, init_coords(jax.random.key(0), three), X))


def test_layer_alignment_splits_the_flat_gradient_by_layer() -> None:
    from debinn_jax.diagnostics import layer_alignment

    coords = init_coords(jax.random.key(0), SPEC)
    n_genes = [sum(v.size for v in jax.tree_util.tree_leaves(layer)) for layer in coords]
    # two cases: identical on layer 0, opposite on layer 1, orthogonal-ish on layer 2
    rows = []
    for sign in (1.0, -1.0):
        parts = [np.ones(n_genes[0]), sign * np.ones(n_genes[1]), np.zeros(n_genes[2])]
        rows.append(np.concatenate(parts))
    per_sample = np.stack(rows)
    per_sample[1, -1] = 1.0
    per_sample[0, -2] = 1.0
    out = layer_alignment(per_sample, coords)
    assert len(out) == 3
    assert out[0]["mean_cosine"] == pytest.approx(1.0)
    assert out[1]["mean_cosine"] == pytest.approx(-1.0) and out[1]["conflict"] == 1.0
    assert out[2]["mean_cosine"] == pytest.approx(0.0)


def test_diagnose_2025_sees_removed_points_and_flat_cases() -> None:
    from debinn_jax.diagnostics import diagnose_2025

    spec = NetworkSpec.reference_2025(3, (6,), 2, normalization="none", spatial_dropout=True)
    X, y = _data(30)
    coords = list(init_coords(jax.random.key(1), spec))
    coords[0] = {"axon": coords[0]["axon"].at[2].set(jnp.array([9.0, 9.0, 9.0]))}
    d = diagnose_2025(spec, tuple(coords), X, y, per_sample_cases=16)
    assert set(d) >= {"loss", "grad_norm", "layer_norms", "alignment", "flat_head"}
    # input 2's connections are all removed: its 3 genes (of 3*3 + 6*6 + 2*3 = 51) are dead
    assert d["zero_position_genes"] >= 3 / 51 - 1e-12
    assert len(d["layer_norms"]) == 3 and d["grad_norm"] > 0
    assert 0.0 <= d["zero_gradient_cases"] <= 1.0
    assert -1.0 <= d["alignment"]["mean_cosine"] <= 1.0


def test_mlp_alignment_of_a_linear_model_by_hand() -> None:
    """No hidden layer: the per-case gradient of -beta_y log softmax(W^T x + b)_y is
    beta_y (p - onehot(y)) for b and x (p - onehot(y))^T beta_y for W (by hand in numpy)."""
    from debinn_jax.diagnostics import gradient_conflict, mlp_alignment

    X, y = _data(12)
    key = jax.random.key(3)
    out = mlp_alignment((3,), X, y, key, n_classes=2)
    w = np.asarray(jax.random.normal(jax.random.split(key, 1)[0], (3, 2))) * np.sqrt(2.0 / 3.0)
    logits = X @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    beta = 1.0 - np.bincount(y, minlength=2) / len(y)
    err = beta[y][:, None] * (p - np.eye(2)[y])
    rows = np.concatenate([(X[:, :, None] * err[:, None, :]).reshape(len(y), -1), err], axis=1)
    ref = gradient_conflict(jnp.asarray(rows))
    for k in ("mean_cosine", "conflict", "signal_to_noise"):
        assert out[k] == pytest.approx(ref[k], rel=1e-4, abs=1e-6)
