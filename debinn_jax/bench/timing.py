"""Timing and process measurements: compile vs run time of a jitted function (best and median
of k calls after a warm-up), host-side timing, peak RSS, a measured matmul peak, and the machine
description recorded with every result."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import platform
import resource
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass
class Timing:
    """Compile time and best/median run time (seconds) of a compiled function."""

    compile_s: float
    best_s: float
    median_s: float
    repeats: int
    temp_bytes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _temp_bytes(compiled: Any) -> int | None:
    try:
        analysis = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    return None if analysis is None else int(analysis.temp_size_in_bytes)


def time_jax(fn: Callable, args: Sequence[Any], repeats: int) -> Timing:
    """Compile ``jax.jit(fn)`` for ``args`` (timed), warm up once, then time ``repeats`` calls."""
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(compiled(*args))
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - t0)
    return Timing(compile_s, min(times), float(np.median(times)), len(times), _temp_bytes(compiled))


def time_host(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Best and median seconds of ``repeats`` calls of ``fn()``."""
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB; Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measured_peak_gflops(n: int = 2048, repeats: int = 5) -> dict[str, float]:
    """Measured float32 peak: best GFLOP/s of an ``n x n`` jax matmul in this process."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    timing = time_jax(lambda m: m @ m, (a,), repeats)
    return {"matmul_n": n, "gflops": 2.0 * n**3 / timing.best_s / 1e9, "best_s": timing.best_s}


def machine_info() -> dict[str, Any]:
    """Host, CPU, affinity, load, versions and devices (recorded with every result)."""
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "affinity": affinity,
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "dtype": "float32",
    }
