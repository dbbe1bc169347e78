"""The benchmark's building blocks: NumPy baseline = apply, evaluator chunking, the command.

Behaviour only; no timing is asserted.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _shared import data_dir

from debinn_jax.bench.evaluators import (
    CPU_MEMORY_BUDGET,
    make_evaluator,
    plan_batch_size,
    working_set_bytes,
)
from debinn_jax.bench.reference import numpy_loss, numpy_population_loss, numpy_proba
from debinn_jax.bench.startup import bench_startup
from debinn_jax.bench.workloads import (
    WORKLOAD_SHAPES,
    individuals,
    load_workload,
    random_population,
)
from debinn_jax.loss import LossConfig, debi_loss, population_loss
from debinn_jax.network import NetworkSpec, apply, init_coords

GB4 = 4 * 1024**3


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The three workloads on synthetic data (no data folder)."""
    empty = tmp_path_factory.mktemp("no-data")
    return {name: load_workload(name, empty) for name in WORKLOAD_SHAPES}


def _f64(tree):
    return jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), tree)


@pytest.mark.parametrize("name", sorted(WORKLOAD_SHAPES))
def test_numpy_reference_equals_apply(synthetic, name):
    wl = synthetic[name]
    assert wl.source == "synthetic"
    assert wl.X.shape[1] == wl.spec.n_inputs and wl.y.max() + 1 == wl.spec.n_classes
    X = wl.X[:300].astype(np.float64)
    with jax.enable_x64(True):
        for c in individuals(random_population(jax.random.key(0), wl.spec, 3)):
            c = _f64(c)
            p_np = numpy_proba(wl.spec, c, X)
            p_jax = np.asarray(apply(wl.spec, jax.tree_util.tree_map(jnp.asarray, c), X))
            np.testing.assert_allclose(p_np, p_jax, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(WORKLOAD_SHAPES))
def test_numpy_reference_equals_apply_in_float32(synthetic, name):
    """The timed (float32) NumPy loop computes the same numbers up to float32 rounding."""
    wl = synthetic[name]
    c = individuals(random_population(jax.random.key(1), wl.spec, 1))[0]
    p_np = numpy_proba(wl.spec, c, wl.X)
    p_jax = np.asarray(apply(wl.spec, jax.tree_util.tree_map(jnp.asarray, c), wl.X))
    assert p_np.dtype == np.float32
    np.testing.assert_allclose(p_np, p_jax, atol=2e-4, rtol=0)


@pytest.mark.slow  # three network variants of the NumPy reference (30 s)
@pytest.mark.parametrize(
    "spec",
    [
        NetworkSpec(5, (7, 4), 3, kernel="gaussian", normalization="input", activation="tanh"),
        NetworkSpec(4, (6,), 2, kernel="inverse", head="softmax", shift_scale=True, groups=2),
        NetworkSpec(3, (5,), 2, kernel="inverse_squared", activation="sigmoid", train_deltas=True),
        NetworkSpec(3, (), 2, activation="relu", standardize_weights=False),
    ],
)
def test_numpy_reference_covers_network_options(spec):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, spec.n_inputs))
    y = np.arange(40) % spec.n_classes
    cfg = LossConfig(alpha=0.8, l1=0.01, l2=0.02)
    with jax.enable_x64(True):
        c = _f64(init_coords(jax.random.key(2), spec, dtype=jnp.float64))
        c_j = jax.tree_util.tree_map(jnp.asarray, c)
        np.testing.assert_allclose(numpy_proba(spec, c, X), apply(spec, c_j, X), atol=1e-9)
        ref = debi_loss(spec, c_j, jnp.asarray(X), jnp.asarray(y), config=cfg)
        np.testing.assert_allclose(numpy_loss(spec, c, X, y, cfg), float(ref), rtol=1e-9)


def test_numpy_population_loss_matches_library_evaluator(synthetic):
    wl = synthetic["hecktor-lite"]
    pop = random_population(jax.random.key(3), wl.spec, 6)
    ours = numpy_population_loss(wl.spec, individuals(pop), wl.X, wl.y)
    x_t, y = jnp.asarray(wl.X.T), jnp.asarray(wl.y)  # the evaluators' internal layout
    lib = population_loss(wl.spec, pop, wl.X, y, jnp.ones((1, y.shape[0])), batch_size=2)[:, 0]
    np.testing.assert_allclose(ours, np.asarray(lib), rtol=1e-4)
    np.testing.assert_allclose(make_evaluator(wl.spec, x_t, y, 2)(pop), lib, rtol=1e-6)


def test_p4096_on_ctg_is_chunked_and_fits_in_4gb():
    spec = NetworkSpec(*WORKLOAD_SHAPES["ctg"][:3])
    n, population = 2126, 4096
    # all at once would need several GB of activations: the planner must chunk
    assert working_set_bytes(spec, n, population) > CPU_MEMORY_BUDGET
    batch = plan_batch_size(spec, n, population, CPU_MEMORY_BUDGET)
    assert batch is not None and 1 <= batch < population
    assert working_set_bytes(spec, n, batch) <= CPU_MEMORY_BUDGET
    # the CPU-preferred batch is kept when it fits
    assert plan_batch_size(spec, n, population, CPU_MEMORY_BUDGET, preferred=4) == 4
    # what XLA allocates for the chunked P = 4096 evaluation (compiled, not run)
    pop_shape = jax.eval_shape(lambda k: random_population(k, spec, population), jax.random.key(0))
    fn = make_evaluator(spec, jnp.zeros((21, n)), jnp.zeros((n,), jnp.int32), batch)
    compiled = jax.jit(fn).lower(pop_shape).compile()
    analysis = compiled.memory_analysis()
    if analysis is not None:
        assert analysis.temp_size_in_bytes <= CPU_MEMORY_BUDGET
        live = analysis.temp_size_in_bytes + analysis.argument_size_in_bytes
        assert live + analysis.output_size_in_bytes < GB4


def test_planner_uses_one_vmap_when_it_fits():
    spec = NetworkSpec(*WORKLOAD_SHAPES["dlbcl"][:3])
    assert plan_batch_size(spec, 41, 64, CPU_MEMORY_BUDGET) is None
    assert plan_batch_size(spec, 41, 64, CPU_MEMORY_BUDGET, preferred=4) == 4
    assert plan_batch_size(spec, 41, 3, CPU_MEMORY_BUDGET, preferred=4) is None
    # a tiny budget forces single individuals, never zero
    assert plan_batch_size(spec, 41, 64, budget_bytes=1) == 1
    # working set grows linearly with the batch
    assert working_set_bytes(spec, 41, 8) == 8 * working_set_bytes(spec, 41, 1)


@pytest.mark.slow  # the whole bench, quick (50 s cold)
def test_bench_command_quick_end_to_end(tmp_path, capsys):
    from debinn_jax.cli import main

    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--quick",
            "--workloads",
            "dlbcl",
            "--populations",
            "4",
            "--runs",
            "2",
            "--batch-size",
            "4",
            "--generations",
            "2",
            "--sweep-generations",
            "3",
            "--data-dir",
            str(tmp_path / "none"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert {"meta", "settings", "peak", "workloads", "sweep", "memory", "summary"} <= set(doc)
    assert len(doc["meta"]["load_average"]) == 3 and doc["meta"]["affinity"]
    wl = doc["workloads"]["dlbcl"]
    assert wl["shape"] == "17-85-64-2" and wl["source"] == "synthetic"
    assert wl["numpy_max_abs_diff_vs_apply"] < 1e-5
    row = wl["populations"]["4"]
    for side in ("jax", "numpy"):
        assert row[side]["evals_per_s"] > 0
    assert row["jax"]["compile_s"] > 0 and row["ga"]["ms_per_generation"] > 0
    assert row["speedup"] == pytest.approx(row["numpy"]["best_s"] / row["jax"]["best_s"], rel=1e-9)
    assert wl["forward"]["gflops"] > 0 and doc["peak"]["gflops"] > 0
    sweep = doc["sweep"]["dlbcl"]["runs"]
    assert set(sweep) == {"2"}
    assert all(v["sweep_s"] > 0 and v["sequential_s"] > 0 for v in sweep.values())
    assert doc["memory"]["peak_rss_mb"] > 0
    startup = doc["startup"]  # no DLBCL folder: the import rows only, and why
    assert startup["import"]["wall_s"] > 0 and startup["import_trainers"]["wall_s"] > 0
    assert "not found" in startup["skipped"] and "cold" not in startup
    out = capsys.readouterr().out
    assert "P=" in out and "GA start-up skipped" in out


def test_bench_command_rejects_bad_options(capsys):
    from debinn_jax.cli import main

    assert main(["bench", "--workloads", "nope", "--quick"]) == 2
    assert "unknown workload" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--populations", "0,4"])


@pytest.mark.slow
def test_startup_rows_cold_then_warm():
    """The GA start-up rows on the real DLBCL fold: a cold run, then a warm one that finds
    the programs in the cache the cold run wrote (tiny budget; no timing asserted)."""
    if not (data_dir() / "dlbcl" / "Fold-1").exists():
        pytest.skip(f"{data_dir() / 'dlbcl' / 'Fold-1'} not found")
    lines = []
    doc = bench_startup(data_dir(), repeats=1, generations=3, population=4, log=lines.append)
    for row in ("cold", "warm"):
        assert doc[row]["wall_s"] > doc[row]["train_ga_s"] > 0
        assert doc[row]["generations_run"] == 3
    assert any(line.strip().startswith("GA warm") for line in lines)
