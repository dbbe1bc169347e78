"""Tests of the DEBI loss (spec section 4)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import debinn_jax as dj

SPEC = dj.NetworkSpec(3, (6,), 3, head="softmax")


@pytest.fixture(scope="module")
def problem():
    coords = dj.init_coords(jax.random.key(0), SPEC)
    x = jax.random.normal(jax.random.key(1), (30, 3))
    y = jnp.array([0] * 15 + [1] * 10 + [2] * 5)
    return coords, x, y


def _by_hand(p: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """Spec section 4 written out with loops."""
    n, k = p.shape
    counts = np.bincount(y, minlength=k)
    beta = k * (1 - counts / n)
    total = 0.0
    for i in range(n):
        for c in range(k):
            target = alpha if c == y[i] else 1 - alpha
            total -= target * beta[c] * math.log(max(p[i, c], math.exp(-20)))
    return total / n


@pytest.mark.parametrize("alpha", [1.0, 0.9, 0.6])
def test_loss_matches_hand_computation(problem, alpha):
    coords, x, y = problem
    p = np.asarray(dj.apply(SPEC, coords, x), np.float64)
    got = dj.debi_loss(SPEC, coords, x, y, config=dj.LossConfig(alpha=alpha))
    assert float(got) == pytest.approx(_by_hand(p, np.asarray(y), alpha), rel=1e-5)


def test_mask_equals_subset(problem):
    coords, x, y = problem
    keep = np.zeros(30, bool)
    keep[[0, 3, 5, 16, 17, 20, 26, 29]] = True
    masked = dj.debi_loss(SPEC, coords, x, y, mask=jnp.asarray(keep, jnp.float32))
    subset = dj.debi_loss(SPEC, coords, x[keep], y[keep])
    assert float(masked) == pytest.approx(float(subset), rel=1e-5)
    full = dj.debi_loss(SPEC, coords, x, y, mask=jnp.ones(30))
    assert float(full) == pytest.approx(float(dj.debi_loss(SPEC, coords, x, y)), rel=1e-6)


def test_class_weights_counted_on_mask():
    y = jnp.array([0, 0, 0, 1, 1, 2])
    np.testing.assert_allclose(
        dj.class_weights(y, 3, jnp.ones(6)), 3 * (1 - np.array([3, 2, 1]) / 6)
    )
    mask = jnp.array([1, 0, 0, 1, 0, 0], jnp.float32)
    np.testing.assert_allclose(dj.class_weights(y, 3, mask), [1.5, 1.5, 3.0])


def test_reference_head_floor():
    assert dj.loss_floor(2, 1.0) == pytest.approx(0.313, abs=1e-3)
    assert dj.loss_floor(2, 0.9) == pytest.approx(0.413, abs=1e-3)
    # A network that separates the data perfectly still cannot go below the floor.
    spec = dj.NetworkSpec(1, (), 2)
    x = jnp.array([[-3.0], [-2.0], [2.0], [3.0]])
    y = jnp.array([0, 0, 1, 1])
    best = np.inf
    for k in jax.random.split(jax.random.key(0), 64):
        best = min(best, float(dj.debi_loss(spec, dj.init_coords(k, spec), x, y)))
    assert best >= dj.loss_floor(2, 0.9) - 1e-5


def test_penalties_add_to_loss(problem):
    coords, x, y = problem
    base = dj.debi_loss(SPEC, coords, x, y)
    pen = dj.debi_loss(SPEC, coords, x, y, config=dj.LossConfig(l1=0.5, l2=0.25))
    ws = jnp.concatenate([w.ravel() for w in dj.layer_weights(SPEC, coords)])
    expected = 0.5 * jnp.mean(jnp.abs(ws)) + 0.25 * jnp.mean(ws**2)
    assert float(pen - base) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("kwargs,field", [(dict(alpha=1.5), "alpha"), (dict(l1=-1), "l1")])
def test_invalid_loss_config(kwargs, field):
    with pytest.raises(ValueError, match=field):
        dj.LossConfig(**kwargs)


@pytest.mark.parametrize("batch_size", [None, 2, pytest.param(4, marks=pytest.mark.slow)])
def test_population_loss_equals_loop(problem, batch_size):
    _, x, y = problem
    pop = jax.vmap(lambda k: dj.init_coords(k, SPEC))(jax.random.split(jax.random.key(3), 6))
    masks = (jax.random.uniform(jax.random.key(4), (6, 2, 30)) > 0.4).astype(jnp.float32)
    fn = jax.jit(lambda p, m: dj.population_loss(SPEC, p, x, y, m, batch_size=batch_size))
    got = np.asarray(fn(pop, masks))
    assert got.shape == (6, 2)
    for i in range(6):
        one = jax.tree_util.tree_map(lambda v, i=i: v[i], pop)
        for j in range(2):
            ref = dj.debi_loss(SPEC, one, x, y, mask=masks[i, j])
            assert got[i, j] == pytest.approx(float(ref), rel=1e-5)
    shared = fn(pop, masks[0])  # (M, N) masks shared by every individual
    assert shared.shape == (6, 2)
