"""The in-process throughput measurements: evaluator batch tuning, population evaluation (JAX
vs the NumPy loop), GA generations, forward-pass GFLOP/s, the 2022-vs-2025 network variants and
R runs in one sweep call vs R sequential runs."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from debinn_jax.bench.config import BenchConfig
from debinn_jax.bench.evaluators import (
    device_memory_budget,
    forward_flops,
    make_evaluator,
    make_forward,
    on_cpu,
    plan_batch_size,
)
from debinn_jax.bench.reference import numpy_population_loss, one_blas_thread
from debinn_jax.bench.timing import Timing, time_host, time_jax
from debinn_jax.bench.workloads import Workload, individuals, random_population
from debinn_jax.loss import LossConfig
from debinn_jax.network import NetworkSpec


def tune_batch_size(
    workload: Workload, population: int, candidates: Sequence[int], repeats: int
) -> tuple[int | None, dict[str, float]]:
    """Fastest evaluator batch size among ``candidates`` (CPU) at ``population``.

    Off CPU the whole population is evaluated at once (``None``) when it fits the budget.
    Returns ``(batch_size, {str(candidate): best seconds})``.
    """
    if not on_cpu():
        return None, {}
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    pop = random_population(jax.random.key(0), workload.spec, population)
    results: dict[str, float] = {}
    for b in candidates:
        if b > population:
            continue
        fn = make_evaluator(workload.spec, x_t, y, b)
        results[str(b)] = time_jax(fn, (pop,), repeats).best_s
    best = min(results, key=results.get)
    return int(best), results


def bench_evaluation(
    workload: Workload, population: int, batch_size: int | None, config: BenchConfig
) -> dict[str, Any]:
    """JAX vs NumPy individual evaluations per second at one population size."""
    spec = workload.spec
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    pop = random_population(jax.random.key(population), spec, population)
    batch = plan_batch_size(
        spec, workload.X.shape[0], population, device_memory_budget(), batch_size
    )
    t_jax = time_jax(make_evaluator(spec, x_t, y, batch), (pop,), config.repeats)
    jax_part = {
        "evals_per_s": population / t_jax.best_s,
        "ms_per_population": 1e3 * t_jax.best_s,
        **t_jax.as_dict(),
    }
    if 0 < config.numpy_max_population < population:
        return {"batch_size": batch, "jax": jax_part, "numpy": None, "speedup": None}
    inds = individuals(pop)
    with one_blas_thread():
        t_np, t_np_med = time_host(
            lambda: numpy_population_loss(spec, inds, workload.X, workload.y),
            config.numpy_repeats,
        )
    return {
        "batch_size": batch,
        "jax": jax_part,
        "numpy": {
            "evals_per_s": population / t_np,
            "ms_per_population": 1e3 * t_np,
            "best_s": t_np,
            "median_s": t_np_med,
            "repeats": config.numpy_repeats,
            "blas_threads": 1,
        },
        "speedup": t_np / t_jax.best_s,
    }


def bench_generation(
    workload: Workload, population: int, batch_size: int | None, config: BenchConfig
) -> dict[str, Any]:
    """Milliseconds per GA generation of the real training loop (``ga.make_runner``)."""
    from debinn_jax.ga import GAConfig, make_runner

    spec = workload.spec
    batch = plan_batch_size(
        spec, workload.X.shape[0], population, device_memory_budget(), batch_size
    )
    # fewer generations per timed call for big populations (keeps the full run under 10 min)
    g = max(2, min(config.generations, math.ceil(config.generations * 256 / population)))
    ga_config = GAConfig(
        population_size=population,
        generations=10**6,
        early_stopping=None,
        chunk=g,
        batch_size=batch,
    )
    runner = make_runner(spec, ga_config)
    x, y = jnp.asarray(workload.X), jnp.asarray(workload.y)
    mask = jnp.ones(y.shape, jnp.float32)
    hp = ga_config.numeric()
    key = jax.random.key(0)
    t0 = time.perf_counter()
    if hasattr(runner, "start"):  # start() evaluates nothing; generation 0 is in chunk()
        state = jax.jit(runner.start)(key, x, y, mask, hp)
    else:
        state, _ = jax.jit(runner.init)(key, x, y, mask, hp)
    args = (state, x, y, mask, hp)
    chunk = jax.jit(runner.chunk).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    state, _ = chunk(*args)  # past generation 0: every timed call runs g plain generations
    args = (jax.block_until_ready(state), x, y, mask, hp)
    best_s, median_s = time_host(lambda: jax.block_until_ready(chunk(*args)), config.repeats)
    timing = Timing(compile_s, best_s, median_s, max(1, config.repeats))
    return {
        "batch_size": batch,
        "generations_per_call": g,
        "ms_per_generation": 1e3 * timing.best_s / g,
        "ms_per_generation_median": 1e3 * timing.median_s / g,
        "compile_s": timing.compile_s,
        "repeats": timing.repeats,
    }


def bench_forward(
    workload: Workload, population: int, batch_size: int | None, peak_gflops: float, repeats: int
) -> dict[str, Any]:
    """Achieved GFLOP/s of the population forward pass (scores only) at ``population``."""
    spec = workload.spec
    n = workload.X.shape[0]
    batch = plan_batch_size(spec, n, population, device_memory_budget(), batch_size)
    pop = random_population(jax.random.key(7), spec, population)
    timing = time_jax(make_forward(spec, jnp.asarray(workload.X.T), batch), (pop,), repeats)
    flops = population * forward_flops(spec, n)
    gflops = flops / timing.best_s / 1e9
    return {
        "population": population,
        "batch_size": batch,
        "gflop_per_call": flops / 1e9,
        "ms": 1e3 * timing.best_s,
        "gflops": gflops,
        "fraction_of_peak": gflops / peak_gflops if peak_gflops else None,
        "compile_s": timing.compile_s,
    }


#: 2025 networks timed against the 2022 default: the authors' published DLBCL model's
#: settings (group normalisation) and every switch of their grid on.
VARIANT_SPECS = {
    "2025 (GN)": dict(normalization="activation"),
    "2025 (GN+WS+SS)": dict(normalization="activation", standardize_weights=True, shift_scale=True),
    "2025 (all: GN+WS+SS+SD)": dict(
        normalization="activation", standardize_weights=True, shift_scale=True, spatial_dropout=True
    ),
}


def bench_variants(
    workload: Workload, population: int, batch_size: int | None, repeats: int
) -> dict[str, Any]:
    """Population forward + loss of the 2025 network against the 2022 one (same P, data).

    Returns ``{name: {"ms_per_population", "ratio_vs_2022", "compile_s"}}``; the 2025 rows use
    :meth:`NetworkSpec.reference_2025` with the settings of :data:`VARIANT_SPECS` and the 2025
    loss.
    """
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    spec22 = workload.spec
    n_in, hidden, k = spec22.n_inputs, spec22.hidden, spec22.n_classes
    specs = {"2022 (default)": (spec22, LossConfig())}
    for name, kw in VARIANT_SPECS.items():
        spec = NetworkSpec.reference_2025(n_in, hidden, k, **kw)
        specs[name] = (spec, LossConfig.reference_2025())
    out: dict[str, Any] = {}
    for name, (spec, loss) in specs.items():
        pop = random_population(jax.random.key(population), spec, population)
        t = time_jax(make_evaluator(spec, x_t, y, batch_size, loss), (pop,), repeats)
        out[name] = {"ms_per_population": 1e3 * t.best_s, "compile_s": t.compile_s}
    base = out["2022 (default)"]["ms_per_population"]
    for v in out.values():
        v["ratio_vs_2022"] = v["ms_per_population"] / base
    return out


def bench_sweep(
    workload: Workload, runs: Sequence[int], config: BenchConfig, batch_size: int | None
) -> dict[str, Any]:
    """R runs in one ``sweep.run_many`` call vs R sequential ``train_ga`` calls."""
    from debinn_jax.ga import GAConfig, train_ga
    from debinn_jax.sweep import run_many

    spec = workload.spec
    ga_config = GAConfig(
        population_size=config.sweep_population,
        generations=config.sweep_generations,
        early_stopping=None,
        chunk=config.sweep_generations,
        batch_size=batch_size,
    )
    X, y = workload.X, workload.y
    train_ga(spec, X, y, jax.random.key(0), ga_config)  # compile
    one_s, _ = time_host(lambda: train_ga(spec, X, y, jax.random.key(1), ga_config), 2)
    out: dict[str, Any] = {
        "population": config.sweep_population,
        "generations": config.sweep_generations,
        "one_run_s": one_s,
        "runs": {},
    }
    for r in runs:
        keys = jax.random.split(jax.random.key(100 + r), r)
        t0 = time.perf_counter()
        run_many(spec, X, y, keys, ga_config, devices=jax.devices()[:1])
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_many(spec, X, y, keys, ga_config, devices=jax.devices()[:1])
        sweep_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(r):
            train_ga(spec, X, y, keys[i], ga_config)
        seq_s = time.perf_counter() - t0
        out["runs"][str(r)] = {
            "sweep_s": sweep_s,
            "sweep_compile_s": max(0.0, first - sweep_s),
            "sequential_s": seq_s,
            "sequential_over_sweep": seq_s / sweep_s,
            "sweep_over_one_run": sweep_s / one_s,
        }
    return out
