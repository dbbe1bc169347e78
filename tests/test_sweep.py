"""Many GA runs in one compiled call: equality with separate runs, settings, folds, sharding."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.network import NetworkSpec
from debinn_jax.sweep import grid, run_many, stack_folds

SPEC = NetworkSpec(n_inputs=2, hidden=(4,), n_classes=2, head="softmax", shift_scale=True)
CFG = GAConfig(population_size=8, generations=40, chunk=20, early_stopping=None)


def _blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, 2)).astype(np.float32) + np.where(y[:, None] == 1, 1.5, -1.5)
    return X.astype(np.float32), y


def test_grid_is_a_cartesian_product():
    g = grid(r_max=[1.0, 0.3], mutation_prob=[0.1, 0.5, 1.0])
    np.testing.assert_allclose(g["mutation_prob"], [0.1, 0.5, 1.0] * 2)
    assert g["r_max"].tolist() == [1.0] * 3 + [0.3] * 3


@pytest.mark.slow  # test_seams sweeps every numeric setting against train_ga in the default suite
def test_vmapped_runs_equal_separate_runs():
    X, y = _blobs()
    keys = jax.random.split(jax.random.key(0), 3)
    settings = {"r_max": [1.0, 0.5, 0.3], "r_min": 0.1, "early_stopping": [10_000, 10_000, 8]}
    many = run_many(SPEC, X, y, keys, CFG, settings=settings)
    assert many.n_runs == 3
    for i in range(3):
        cfg = dataclasses.replace(
            CFG,
            r_max=settings["r_max"][i],
            r_min=0.1,
            early_stopping=settings["early_stopping"][i],
        )
        one = train_ga(SPEC, X, y, keys[i], cfg)
        run = many.run(i)
        assert run.generations_run == one.generations_run
        for k in one.history:
            np.testing.assert_allclose(run.history[k], one.history[k], rtol=1e-5)
        for a, b in zip(
            jax.tree_util.tree_leaves(run.coords), jax.tree_util.tree_leaves(one.coords)
        ):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(run.predict_proba(X), one.predict_proba(X), atol=1e-5)
    assert np.isnan(many.history["train_fitness"][2, -1])  # run 2 stopped early
    np.testing.assert_allclose(many.history["amplitude"][:, 1], [1.0, 0.5, 0.3])


def test_one_run_at_a_time_keeps_a_stopped_run_a_skipped_branch():
    """run_batch_size=1 maps runs with a plain scan: the per-run ``lax.cond(done, ...)`` stays a
    conditional (a stopped run's chunk is skipped); batches of more vmap it into a select."""
    import jax.numpy as jnp

    from debinn_jax.sweep import _mapped

    def f(done, x):
        return jax.lax.cond(done, lambda v: v, lambda v: v + 1.0, x)

    args = (jnp.array([True, False, False]), jnp.zeros(3))
    one = str(jax.make_jaxpr(_mapped(f, 1))(*args))
    two = str(jax.make_jaxpr(_mapped(f, 2))(*args))
    assert "cond[" in one and "select_n" not in one
    assert "select_n" in two
    for b in (None, 1, 2):
        np.testing.assert_array_equal(_mapped(f, b)(*args), [0.0, 1.0, 1.0])


def test_runs_stopping_at_different_generations_agree_across_run_batch_sizes():
    X, y = _blobs()
    keys = jax.random.split(jax.random.key(1), 3)
    settings = {"early_stopping": [3, 10_000, 6]}
    cfg = dataclasses.replace(CFG, generations=24, chunk=4)
    one = run_many(SPEC, X, y, keys, cfg, settings=settings, run_batch_size=1)
    two = run_many(SPEC, X, y, keys, cfg, settings=settings, run_batch_size=2)
    assert one.generations_run.tolist() == two.generations_run.tolist()
    assert len(set(one.generations_run.tolist())) > 1  # they did stop at different generations
    for k in one.history:
        np.testing.assert_allclose(one.history[k], two.history[k], rtol=1e-6, equal_nan=True)
    for a, b in zip(jax.tree_util.tree_leaves(one.coords), jax.tree_util.tree_leaves(two.coords)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_padded_folds_ignore_padding():
    X, y = _blobs()
    folds = [(X[10:50], y[10:50]), (X, y), (X[5:], y[5:])]
    Xs, Ys, M = stack_folds(folds)
    assert Xs.shape == (3, 60, 2) and M[0].sum() == 40 and M[2].sum() == 55
    Xs[0, 40:] = 1e6  # garbage in the padding must not matter
    # 3 runs of 60 cases: the same compiled program as the test above
    res = run_many(SPEC, Xs, Ys, jax.random.split(jax.random.key(1), 3), CFG, sample_mask=M)
    assert np.all(np.isfinite(res.final_scores))
    for i in range(3):
        assert np.mean(res.run(i).predict(X) == y) > 0.85


def test_bad_sweep_settings():
    X, y = _blobs()
    keys = jax.random.split(jax.random.key(0), 2)
    with pytest.raises(ValueError, match="r_min"):
        run_many(SPEC, X, y, keys, CFG, settings={"r_min": [0.1, 2.0]})
    with pytest.raises(ValueError, match="population_size"):
        run_many(SPEC, X, y, keys, CFG, settings={"population_size": [4, 8]})


SHARDED = textwrap.dedent(
    """
    import jax, numpy as np
    from debinn_jax.ga import GAConfig
    from debinn_jax.network import NetworkSpec
    from debinn_jax.sweep import run_many
    assert len(jax.devices()) == 4, jax.devices()
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = (rng.normal(size=(60, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)).astype(np.float32)
    spec = NetworkSpec(n_inputs=2, hidden=(4,), n_classes=2, head="softmax", shift_scale=True)
    cfg = GAConfig(population_size=8, generations=30, chunk=15, early_stopping=None)
    keys = jax.random.split(jax.random.key(0), 6)  # 6 runs on 4 devices: padded to 8
    a = run_many(spec, X, y, keys, cfg, settings={"r_max": np.linspace(0.6, 1.0, 6)})
    b = run_many(spec, X, y, keys, cfg, settings={"r_max": np.linspace(0.6, 1.0, 6)},
                 devices=jax.devices()[:1])
    for k in a.history:
        np.testing.assert_allclose(a.history[k], b.history[k], rtol=1e-5)
    for u, v in zip(jax.tree_util.tree_leaves(a.coords), jax.tree_util.tree_leaves(b.coords)):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    print("SHARDED-OK", a.n_runs)
    """
)


def test_sharded_runs_equal_single_device_runs():
    """6 runs sharded over 4 forced CPU devices (subprocess) == the same runs on one device."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run(
        [sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARDED-OK 6" in out.stdout
