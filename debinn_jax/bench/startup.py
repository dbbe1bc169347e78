"""Start-up costs measured in fresh Python processes: importing the package and the trainers,
and a DLBCL GA run with an empty (cold) and a filled (warm) persistent compilation cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.bench.workloads import default_data_dir

#: The start-up GA run, in a fresh process: argv = data folder, generations, population; prints
#: one JSON line with the seconds spent importing, reading the data and in ``train_ga``.
STARTUP_GA = """
import json, sys, time
t0 = time.perf_counter()
import jax
from debinn_jax import GAConfig, NetworkSpec, load_fold, train_ga
t1 = time.perf_counter()
train = load_fold(sys.argv[1]).train
t2 = time.perf_counter()
config = GAConfig(
    population_size=int(sys.argv[3]), generations=int(sys.argv[2]), early_stopping=None
)
result = train_ga(NetworkSpec(17, (85, 64), 2), train.X, train.y, jax.random.key(0), config)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "data_s": t2 - t1, "train_ga_s": t3 - t2,
                  "generations_run": result.generations_run}))
"""


def _timed_process(
    code: str, args: Sequence[str] = (), env: dict[str, str] | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Run ``python -c code args`` in a fresh process; wall seconds from start to exit, plus
    the JSON of its last output line (if any)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["failed"]
        raise RuntimeError(f"start-up probe failed: {tail[0]}")
    lines = proc.stdout.strip().splitlines()
    out = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return {"wall_s": wall, **out}


def _median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float)]
    return {
        **{k: float(np.median([r[k] for r in rows])) for k in keys},
        "wall_s_all": [r["wall_s"] for r in rows],
    }


def bench_startup(
    data_dir: Path | None,
    repeats: int = 3,
    generations: int = 200,
    population: int = 64,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Start-up costs in fresh processes (median of ``repeats``; wall time, start to exit).

    * ``import``: ``import debinn_jax`` (lazy: loads no jax);
    * ``import_trainers``: ``from debinn_jax import train_ga`` (jax, evosax, the GA);
    * ``cold``: a DLBCL Fold-1 GA run (17-85-64-2, ``generations``, ``population``) with an
      empty persistent compilation cache (a new temporary ``DEBINN_CACHE_DIR`` per repeat);
    * ``warm``: the same run again in a new process with the cache its cold run left.

    The GA rows are skipped (``"skipped"`` says why) when ``<data_dir>/dlbcl/Fold-1`` is absent.
    """
    import tempfile

    env = {k: v for k, v in os.environ.items() if k not in ("DEBINN_CACHE", "DEBINN_CACHE_DIR")}
    out: dict[str, Any] = {"repeats": repeats, "load_average": list(os.getloadavg())}
    for name, code in (
        ("import", "import debinn_jax"),
        ("import_trainers", "from debinn_jax import train_ga"),
    ):
        out[name] = _median_row([_timed_process(code, env=env) for _ in range(repeats)])
        log(f"  {name:16s} {out[name]['wall_s']:6.2f} s (median of {repeats})")
    from debinn_jax.data.locate import data_path

    fold = data_path(default_data_dir() if data_dir is None else Path(data_dir), "dlbcl/Fold-1")
    if not fold.exists():
        out["skipped"] = f"{fold} not found: no GA start-up rows"
        log(f"  GA start-up skipped: {out['skipped']}")
        return out
    out["ga"] = {"data": str(fold), "generations": generations, "population": population}
    cold, warm = [], []
    args = [str(fold), str(generations), str(population)]
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="debinn-cache-") as tmp:
            run_env = {**env, "DEBINN_CACHE_DIR": tmp}
            cold.append(_timed_process(STARTUP_GA, args, run_env))
            warm.append(_timed_process(STARTUP_GA, args, run_env))
    out["cold"], out["warm"] = _median_row(cold), _median_row(warm)
    out["load_average_end"] = list(os.getloadavg())
    for name in ("cold", "warm"):
        row = out[name]
        log(
            f"  GA {name:4s} {row['wall_s']:6.2f} s end to end (import {row['import_s']:.2f} s, "
            f"train_ga {row['train_ga_s']:.2f} s; median of {repeats})"
        )
    return out
