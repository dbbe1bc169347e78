"""GA speed figures (printed, never asserted).

1. HECKTOR-LITE shape (36-180-2, 158 training cases), P = 64: milliseconds per generation,
   compilation excluded, for several population-evaluator batch sizes (``GAConfig.batch_size``:
   ``lax.map`` chunks; ``None`` = one ``vmap`` over the population).
2. DLBCL shape (17-85-64-2, 41 training cases), P = 64: 1000 generations of ``train_ga``
   end to end, compilation included (a fresh process compiles from scratch).

Data: the real training sets when present ($DEBINN_DATA_DIR or ../shared/data), else random
data of the same shape (speed does not depend on the values). Early stopping is off so that
every generation runs. Pin the process for stable numbers, e.g.::

    taskset -c 0 python experiments/bench_ga.py
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import jax
import numpy as np

from debinn_jax.data import load_fold
from debinn_jax.data.locate import find_data_dir
from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.network import NetworkSpec


def data(name: str, n: int, f: int) -> tuple[np.ndarray, np.ndarray, str]:
    root = find_data_dir() or Path("..") / "shared" / "data"
    folder = root / name / "Fold-1"
    if folder.exists():
        fold = load_fold(folder)
        X = fold.train.X
        X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
        return X.astype(np.float32), np.asarray(fold.train.y), "real"
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, f)).astype(np.float32), np.arange(n) % 2, "random"


def per_generation(spec, X, y, cfg, gens: int) -> tuple[float, float]:
    """(first call seconds incl. compile, ms per generation of a second, compiled call)."""
    cfg = dataclasses.replace(cfg, generations=gens, chunk=gens, early_stopping=None)
    t = time.perf_counter()
    train_ga(spec, X, y, jax.random.key(0), cfg)
    first = time.perf_counter() - t
    t = time.perf_counter()
    train_ga(spec, X, y, jax.random.key(1), cfg)
    return first, (time.perf_counter() - t) / gens * 1e3


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch-sizes", default="none,1,2,4,8,16")
    p.add_argument("--gens", type=int, default=200)
    p.add_argument("--skip-dlbcl", action="store_true")
    p.add_argument("--skip-hecktor", action="store_true")
    args = p.parse_args()
    aff = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(
        f"# jax {jax.__version__}, backend {jax.default_backend()}, cpus {aff}, "
        f"loadavg {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    if not args.skip_dlbcl:
        X, y, kind = data("dlbcl", 41, 17)
        spec = NetworkSpec(n_inputs=17, hidden=(85, 64), n_classes=2)
        cfg = GAConfig(population_size=64, generations=1000, early_stopping=None, chunk=1000)
        t = time.perf_counter()
        res = train_ga(spec, X, y, jax.random.key(0), cfg)
        total = time.perf_counter() - t
        t = time.perf_counter()
        train_ga(spec, X, y, jax.random.key(1), cfg)
        warm = time.perf_counter() - t
        print(
            f"DLBCL 17-85-64-2 ({kind}, n={len(y)}), P=64, {res.generations_run} generations: "
            f"{total:.1f} s including compilation; {warm:.1f} s compiled "
            f"({warm / res.generations_run * 1e3:.2f} ms/generation)",
            flush=True,
        )

    if not args.skip_hecktor:
        X, y, kind = data("hecktor-lite", 158, 36)
        spec = NetworkSpec(n_inputs=X.shape[1], hidden=(180,), n_classes=2)
        for b in args.batch_sizes.split(","):
            bs = None if b == "none" else int(b)
            cfg = GAConfig(population_size=64, batch_size=bs)
            first, ms = per_generation(spec, X, y, cfg, args.gens)
            print(
                f"HECKTOR-LITE 36-180-2 ({kind}, n={len(y)}), P=64, batch_size={b}: "
                f"{ms:.2f} ms/generation (first call {first:.1f} s incl. compile)",
                flush=True,
            )


if __name__ == "__main__":
    main()
