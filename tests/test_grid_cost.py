"""The cost report of a grid (issue 26, point 5): the analytic FLOP count (by hand on a tiny
network, and against XLA's own cost analysis on the DLBCL and HECKTOR-LITE shapes), the
report written per grid (phases that add up to the wall time, individuals evaluated, sessions
summed over a resume), ``debinn bench --grid``, and the small pieces (the matmul peak, the
compile-time union, the ETA).
"""

from __future__ import annotations

import json

import pytest
from test_grid import cli, column, write_fold, write_settings

from debinn_jax.execution import grid_run, precision
from debinn_jax.execution.cost import (
    individual_flops,
    matmul_peak,
    population_flops,
    xla_population_flops,
)
from debinn_jax.execution.grid import compile_seconds_within
from debinn_jax.execution.progress import WorkMeter, duration
from debinn_jax.network import NetworkSpec


def test_flops_of_a_tiny_network_by_hand():
    spec = NetworkSpec.reference_2025(
        2, (3,), 2, normalization="none", standardize_weights=True, spatial_dropout=True
    )
    off = {"standardize_weights": 0.0, "spatial_dropout": 0.0, "normalization": 0.0}
    # 2-3-2: 12 connections, 3 hidden neurons, 2 classes; 4 cases, 2 masks
    base = (
        12 * (8 + 3 + 4)  # distances, kernel, L1/L2 terms
        + 2 * 12 * 4  # matmuls
        + 3 * 3 * 4  # leaky ReLU
        + 12 * 2 * 4  # head, log-softmax, loss terms
        + 2 * 4 * (2 * 2 + 2)  # per mask
    )
    assert base == 456
    with precision("float64"):
        assert individual_flops(spec, 4, 2, off) == 456
        assert individual_flops(spec, 4, 2, {**off, "standardize_weights": 1.0}) == 456 + 11 * 12
        # the median search: at most 32 bisection passes of a compare and a count, then the
        # mask and kept means (4); in float64 also the rounding to float32 and the ties (4)
        sd = {**off, "spatial_dropout": 1.0}
        assert individual_flops(spec, 4, 2, sd) == 456 + (2 * 32 + 4 + 4) * 12
        assert population_flops(spec, 4, 2, 5, off) == 5 * 456 + 2 * 4 * (2 * 2 + 1)
    with precision("float32"):
        assert individual_flops(spec, 4, 2, sd) == 456 + (2 * 32 + 4) * 12  # no ties pass
    gn = NetworkSpec.reference_2025(2, (3,), 2, shift_scale=True)  # one group of 3
    with precision("float64"):
        assert individual_flops(gn, 4, 2) == 456 + (5 + 2) * 3 * 4 + 4 * 1 * 4


@pytest.mark.parametrize(
    "n_in, hidden, n, m, setting, low, high",
    [
        (17, "85,64", 41, 112, 1, 0.97, 1.03),  # DLBCL 2H-Hinton, S1: switches off
        # S8: shift-scale, weight standardisation, group normalisation: XLA's fusions
        # recompute element-wise producers, work this count leaves out
        (17, "85,64", 41, 112, 8, 0.75, 1.0),
    ],
)
def test_the_flop_count_agrees_with_xla_cost_analysis(n_in, hidden, n, m, setting, low, high):
    col = column(setting, Model__Layers__Hidden__NeuronCount=hidden)
    run = grid_run(col, f"S{setting}", n_in, 2)
    with precision("float64"):
        ours = population_flops(run.spec, n, m, 4, run.switches)
        xla = xla_population_flops(run, n, m, 4)
    assert low <= ours / xla <= high, (ours, xla)


def test_matmul_peak_is_measured_in_the_current_precision():
    with precision("float64"):
        peak = matmul_peak(n=64, repeats=1)
    assert peak["n"] == 64 and peak["dtype"] == "float64"
    assert peak["gflops"] > 0 and peak["seconds"] > 0


def test_nested_compile_spans_count_once():
    spans = [(0.0, 10.0), (2.0, 3.0), (12.0, 14.0), (13.0, 15.0)]
    assert compile_seconds_within(spans) == 13.0
    assert compile_seconds_within(spans, 9.0, 13.0) == 2.0
    assert compile_seconds_within([], 0.0, 1.0) == 0.0


def test_the_eta_is_the_rest_of_the_work_at_the_rate_so_far():
    meter = WorkMeter(100.0, runs_total=8, runs_done=2, scope="all grids", started=0.0)
    assert (
        meter.describe(now=5.0) == "all grids: 2/8 runs, 0 % of the work, ETA after the first batch"
    )
    meter.advance(25.0, 2)
    assert meter.eta(now=10.0) == pytest.approx(30.0)
    assert meter.describe(now=10.0) == "all grids: 4/8 runs, 25 % of the work, ETA 30 s"
    assert WorkMeter(10.0, started=0.0, done=5.0).describe(now=3600.0) == "ETA 1 h 00 min"
    assert duration(7500) == "2 h 05 min"


@pytest.fixture
def tiny(tmp_path):
    fold = write_fold(tmp_path / "Fold-1")
    cols = {f"T-S{i}": column(i) for i in (1, 3, 5)}
    return write_settings(tmp_path / "executionSettings.csv", cols), fold


def test_the_cost_report_of_a_grid_and_its_sessions(tiny, tmp_path):
    settings, fold = tiny
    out = tmp_path / "out"
    code, text, err = cli("grid", settings, "--data", fold, "--out", out, "--only", "S1,S3")
    assert code == 0, err
    assert "cost of " in text and "GFLOP/s" in text and "compute floor" in text
    doc = json.loads((out / "cost.json").read_text())
    report = doc["latest"]
    s = report["seconds"]
    parts = s["compile"] + s["generations"] + s["final"] + s["waiting"] + s["host"]
    assert parts == pytest.approx(s["wall"]) and s["waiting"] == 0
    assert min(s.values()) >= 0 and s["generations"] > 0  # compile: 0 if traced before
    records = json.loads((out / "results.json").read_text())["records"]
    from debinn_jax.execution import grid_runs, read_execution_settings

    runs = {r.name: r for r in grid_runs(read_execution_settings(settings), 3, 2)}
    pop = {n: r.config.resolve(r.spec).population_size for n, r in runs.items()}
    work = report["work"]
    assert work["runs"] == 2
    assert work["generations"] == sum(r["generations_run"] for r in records)
    assert work["individuals"] == sum(r["generations_run"] * pop[r["name"]] for r in records)
    assert work["final_individuals"] == sum(
        pop[n] + max(1, pop[n] // 10) for n in pop if n != "T-S5"
    )
    assert report["flops"] > 0 and report["peak"]["gflops"] > 0
    assert report["floor_seconds"] == pytest.approx(
        report["flops"] / report["peak"]["gflops"] / 1e9
    )
    assert (out / "cost.md").read_text().startswith("# Cost of ")
    # a second session adds its own report; the total sums both
    code, text, err = cli("grid", settings, "--data", fold, "--out", out)
    assert code == 0, err
    doc = json.loads((out / "cost.json").read_text())
    assert len(doc["sessions"]) == 2 and doc["latest"]["work"]["runs"] == 1
    assert doc["total"]["work"]["runs"] == 3 and doc["total"]["sessions"] == 2
    # nothing to train: no new session
    assert cli("grid", settings, "--data", fold, "--out", out)[0] == 0
    assert len(json.loads((out / "cost.json").read_text())["sessions"]) == 2


def test_bench_grid_prints_the_cost_report_and_the_xla_check(tiny, tmp_path):
    settings, fold = tiny
    target = tmp_path / "bench.json"
    code, text, err = cli(
        "bench",
        "--grid",
        settings,
        "--data",
        fold,
        "--only",
        "S1",
        "--iterations",
        "2",
        "--out",
        target,
    )
    assert code == 0, err
    assert "cost of " in text and "matmul peak" in text
    assert "one population evaluation of T-S1 on Fold-1" in text
    assert "by XLA's cost analysis" in text
    doc = json.loads(target.read_text())
    assert doc["cost"]["work"]["runs"] == 1
    assert doc["cost"]["work"]["generations"] <= 3  # 2 iterations + generation 0
    check = doc["xla_check"]
    assert 0.8 < check["analytic"] / check["xla"] < 1.2
