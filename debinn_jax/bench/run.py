"""The whole benchmark (:func:`run_benchmark`): every measurement in order, a summary line per
measurement on the ``debinn_jax.bench`` logger, and one JSON-ready document."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any

from debinn_jax.bench.config import BenchConfig
from debinn_jax.bench.evaluators import on_cpu
from debinn_jax.bench.memory import memory_probe_subprocess
from debinn_jax.bench.reference import check_numpy_reference
from debinn_jax.bench.startup import bench_startup
from debinn_jax.bench.throughput import (
    bench_evaluation,
    bench_forward,
    bench_generation,
    bench_sweep,
    bench_variants,
    tune_batch_size,
)
from debinn_jax.bench.timing import machine_info, measured_peak_gflops, peak_rss_mb
from debinn_jax.bench.workloads import REFERENCE_BINARY, load_workload

#: The benchmark's logger (the package's, as when it was one module); ``debinn bench`` shows it.
logger = logging.getLogger("debinn_jax.bench")


def _log(verbose: bool, message: str) -> None:
    if verbose:
        logger.info(message)


def run_benchmark(config: BenchConfig, verbose: bool = True) -> dict[str, Any]:
    """Run every measurement of :mod:`debinn_jax.bench`; returns the JSON-ready document.

    ``verbose``: log a summary line per measurement at INFO level on the ``debinn_jax.bench``
    logger (``debinn bench`` shows them).
    """
    started = time.perf_counter()
    doc: dict[str, Any] = {"meta": machine_info(), "settings": dataclasses.asdict(config)}
    _log(
        verbose,
        f"debinn bench on {doc['meta']['cpu']} ({doc['meta']['backend']}), "
        f"affinity {doc['meta']['affinity']}, load {doc['meta']['load_average']}",
    )
    data_dir = Path(config.data_dir) if config.data_dir else None
    if config.startup or config.only_startup:
        _log(verbose, "\n[start-up] fresh processes")
        doc["startup"] = bench_startup(
            data_dir,
            config.startup_repeats,
            config.startup_generations,
            config.startup_population,
            log=lambda m: _log(verbose, m),
        )
    if config.only_startup:
        doc["meta"]["wall_s"] = time.perf_counter() - started
        doc["meta"]["load_average_end"] = list(os.getloadavg())
        return doc
    peak = measured_peak_gflops(config.peak_n, config.repeats)
    doc["peak"] = peak
    _log(verbose, f"measured peak: {peak['gflops']:.1f} GFLOP/s ({config.peak_n}^2 matmul)")
    workloads = {}
    summary: dict[str, Any] = {}
    loaded = {}
    for name in config.workloads:
        wl = load_workload(name, data_dir)
        loaded[name] = wl
        entry: dict[str, Any] = {
            "shape": wl.shape_name,
            "n_samples": int(wl.X.shape[0]),
            "source": wl.source,
        }
        entry["numpy_max_abs_diff_vs_apply"] = check_numpy_reference(wl)
        entry["numpy_max_abs_diff_vs_apply_float32"] = check_numpy_reference(wl, float64=False)
        tune_p = min(256, max(config.populations))
        if config.batch_size > 0:
            batch, tuning = config.batch_size, {}
        else:
            batch, tuning = tune_batch_size(wl, tune_p, config.batch_candidates, config.repeats)
        entry["batch_size"] = batch
        entry["batch_tuning_s"] = {"population": tune_p, "best_s": tuning}
        _log(
            verbose,
            f"\n[{name}] {wl.shape_name}, N={wl.X.shape[0]} ({wl.source}), "
            f"evaluator batch {batch}, NumPy check {entry['numpy_max_abs_diff_vs_apply']:.1e}",
        )
        pops: dict[str, Any] = {}
        for p in config.populations:
            ev = bench_evaluation(wl, p, batch, config)
            gen = bench_generation(wl, p, batch, config)
            ev["ga"] = gen
            if ev["numpy"] is not None:
                ev["numpy_ms_per_generation_evals_only"] = ev["numpy"]["ms_per_population"]
            pops[str(p)] = ev
            np_part = (
                f"numpy {ev['numpy']['evals_per_s']:9.0f} ev/s  x{ev['speedup']:6.1f}"
                if ev["numpy"] is not None
                else "numpy skipped"
            )
            _log(
                verbose,
                f"  P={p:5d}  jax {ev['jax']['evals_per_s']:10.0f} ev/s "
                f"(compile {ev['jax']['compile_s']:.2f} s)  {np_part}  "
                f"GA {gen['ms_per_generation']:8.2f} ms/gen (compile {gen['compile_s']:.1f} s)",
            )
        entry["populations"] = pops
        p_max = max(config.populations)
        entry["forward"] = bench_forward(wl, p_max, batch, peak["gflops"], config.repeats)
        _log(
            verbose,
            f"  forward P={p_max}: {entry['forward']['gflops']:.1f} GFLOP/s = "
            f"{100 * entry['forward']['fraction_of_peak']:.0f} % of measured peak",
        )
        if config.reference and name in REFERENCE_BINARY:
            p_ref, s_ref = REFERENCE_BINARY[name]
            gen = bench_generation(wl, p_ref, batch, config)
            entry["reference_binary"] = {
                "population": p_ref,
                "reference_s_per_generation": s_ref,
                "ms_per_generation": gen["ms_per_generation"],
                "speedup": 1e3 * s_ref / gen["ms_per_generation"],
            }
            _log(
                verbose,
                f"  vs authors' binary at P={p_ref}: {gen['ms_per_generation']:.2f} "
                f"ms/gen vs {s_ref} s/gen = x{entry['reference_binary']['speedup']:.0f}",
            )
        workloads[name] = entry
        summary[name] = {
            "speedup_vs_numpy": {p: v["speedup"] for p, v in pops.items()},
            "forward_fraction_of_peak": entry["forward"]["fraction_of_peak"],
            "reference_speedup": entry.get("reference_binary", {}).get("speedup"),
        }
    doc["workloads"] = workloads
    variants = {}
    if config.variant_population > 0:
        for name in config.variant_workloads:
            if name not in loaded:
                loaded[name] = load_workload(name, data_dir)
            batch = workloads.get(name, {}).get("batch_size", 4 if on_cpu() else None)
            variants[name] = bench_variants(
                loaded[name], config.variant_population, batch, config.repeats
            )
            for v_name, v in variants[name].items():
                _log(
                    verbose,
                    f"[variants {name}] P={config.variant_population} {v_name:24s} "
                    f"{v['ms_per_population']:8.2f} ms  x{v['ratio_vs_2022']:.2f} of 2022",
                )
            summary.setdefault(name, {})["variant_ratio_vs_2022"] = {
                k: v["ratio_vs_2022"] for k, v in variants[name].items()
            }
    doc["variants"] = variants
    sweeps = {}
    for name in config.sweep_workloads:
        if name not in loaded:
            loaded[name] = load_workload(name, data_dir)
        wl = loaded[name]
        batch = workloads.get(name, {}).get("batch_size", 4 if on_cpu() else None)
        sweeps[name] = bench_sweep(wl, config.runs, config, batch)
        for r, v in sweeps[name]["runs"].items():
            _log(
                verbose,
                f"\n[sweep {name}] R={r:3s}: one call {v['sweep_s']:.2f} s "
                f"(= {v['sweep_over_one_run']:.2f} x one run), sequential "
                f"{v['sequential_s']:.2f} s (x{v['sequential_over_sweep']:.2f})",
            )
        summary.setdefault(name, {})["sweep_over_one_run"] = {
            r: v["sweep_over_one_run"] for r, v in sweeps[name]["runs"].items()
        }
    doc["sweep"] = sweeps
    memory: dict[str, Any] = {}
    if config.memory_population > 0:
        memory["probe"] = memory_probe_subprocess("ctg", config.memory_population, config.data_dir)
        _log(verbose, f"\nmemory probe CTG P={config.memory_population}: {memory['probe']}")
    memory["xla_temp_bytes"] = {
        name: {p: v["jax"]["temp_bytes"] for p, v in wl["populations"].items()}
        for name, wl in workloads.items()
    }
    memory["peak_rss_mb"] = peak_rss_mb()
    doc["memory"] = memory
    doc["summary"] = summary
    doc["meta"]["load_average_end"] = list(os.getloadavg())
    doc["meta"]["wall_s"] = time.perf_counter() - started
    _log(
        verbose,
        f"\npeak RSS {memory['peak_rss_mb']:.0f} MiB, wall {doc['meta']['wall_s']:.0f} s,"
        f" load at end {doc['meta']['load_average_end']}",
    )
    return doc
