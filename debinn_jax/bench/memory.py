"""The memory probe: one large chunked population evaluation, run in a fresh process (``python
-m debinn_jax.bench --probe WORKLOAD P``) so that the peak RSS it reports is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from debinn_jax.bench.evaluators import (
    CPU_MEMORY_BUDGET,
    device_memory_budget,
    make_evaluator,
    on_cpu,
    plan_batch_size,
    working_set_bytes,
)
from debinn_jax.bench.timing import peak_rss_mb, time_jax
from debinn_jax.bench.workloads import Workload, load_workload, random_population
from debinn_jax.io import to_jsonable


def memory_probe(
    workload: Workload, population: int, budget_bytes: int = CPU_MEMORY_BUDGET
) -> dict[str, Any]:
    """Evaluate ``population`` individuals once with the planned chunking; report memory."""
    spec = workload.spec
    n = workload.X.shape[0]
    rss0 = peak_rss_mb()
    batch = plan_batch_size(spec, n, population, budget_bytes, 4 if on_cpu() else None)
    pop = random_population(jax.random.key(3), spec, population)
    fn = make_evaluator(spec, jnp.asarray(workload.X.T), jnp.asarray(workload.y), batch)
    timing = time_jax(fn, (pop,), 1)
    return {
        "workload": workload.name,
        "population": population,
        "batch_size": batch,
        "estimated_working_set_bytes": working_set_bytes(spec, n, batch or population),
        "xla_temp_bytes": timing.temp_bytes,
        "peak_rss_mb_before": rss0,
        "peak_rss_mb": peak_rss_mb(),
        "seconds": timing.best_s,
    }


def memory_probe_subprocess(
    workload: str, population: int, data_dir: str | None, timeout: float = 300.0
) -> dict[str, Any]:
    """:func:`memory_probe` in a fresh Python process, so its peak RSS is its own."""
    cmd = [sys.executable, "-m", "debinn_jax.bench", "--probe", workload, str(population)]
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def probe_main(argv: Sequence[str]) -> int:
    """``python -m debinn_jax.bench --probe WORKLOAD P [--data-dir DIR]``: one JSON line."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m debinn_jax.bench")
    parser.add_argument("--probe", nargs=2, metavar=("WORKLOAD", "P"), required=True)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    name, population = args.probe[0], int(args.probe[1])
    wl = load_workload(name, Path(args.data_dir) if args.data_dir else None)
    print(json.dumps(memory_probe(wl, population, device_memory_budget()), default=to_jsonable))
    return 0
