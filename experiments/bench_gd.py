"""Speed of the GD trainer on fetal CTG (21-100-3): one full-batch Adam step, and populations.

Run pinned to one core (the figures in the report came from this exact command)::

    taskset -c 0 .venv/bin/python experiments/bench_gd.py

Prints milliseconds per epoch (one full-batch Adam step = forward + backward + update, plus the
validation forward and the early-stopping bookkeeping) measured on the second call of
``train_gd`` (compilation excluded), median of ``--repeats`` calls, and the population cost
ratio ``t(starts=32) / t(starts=1)`` for ``vmap`` and ``lax.map`` populations.
Data: fetal_health.csv (DEBINN_DATA_DIR or <repo>/../shared/data), 70 % stratified training
split (1488 cases), standardised on the training split.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np

from debinn_jax.data import Standardizer, load_table, stratified_split
from debinn_jax.gd import GDConfig, train_gd
from debinn_jax.network import NetworkSpec


def data_dir() -> Path:
    env = os.environ.get("DEBINN_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def time_train(spec, X, y, config, repeats: int) -> float:
    """Median seconds per epoch over ``repeats`` calls after one warm-up (compile) call."""
    train_gd(spec, X, y, jax.random.key(0), config)
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        res = train_gd(spec, X, y, jax.random.key(r + 1), config)
        times.append((time.perf_counter() - t0) / res.histories["train_loss"].shape[1])
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="random data of CTG's training shape (1488 x 21, 3 classes) instead of the file",
    )
    args = parser.parse_args()
    if args.synthetic:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(1488, 21)).astype(np.float32)
        y = rng.integers(0, 3, 1488).astype(np.int32)
    else:
        path = data_dir() / "ctg" / "fetal_health.csv"
        if not path.exists():
            sys.exit(f"fetal CTG data not found at {path} (set DEBINN_DATA_DIR)")
        data = load_table(path)
        tr, _ = stratified_split(data.y, 0.3, seed=0)
        X = Standardizer().fit_transform(data.X[tr]).astype(np.float32)
        y = data.y[tr]
    spec = NetworkSpec(21, (100,), 3, head="softmax", shift_scale=True)
    print(
        f"jax {jax.__version__} backend {jax.default_backend()}, affinity {os.sched_getaffinity(0)}"
    )
    print(f"load average {os.getloadavg()}")
    print(f"CTG {X.shape[0]} training cases, network 21-100-3, epochs per call {args.epochs}")

    base = GDConfig(epochs=args.epochs, patience=None, chunk=args.epochs, starts=1)
    # validation_fraction=0: every epoch = one step on all 1488 cases + one extra forward.
    one_full = time_train(
        spec, X, y, dataclasses.replace(base, validation_fraction=0.0), args.repeats
    )
    print(
        f"1 start, full batch on 1488 cases (+1 monitoring forward): {1e3 * one_full:.3f} ms/epoch"
    )
    one = time_train(spec, X, y, base, args.repeats)
    print(f"1 start, full batch 1190 train + 298 validation cases:  {1e3 * one:.3f} ms/epoch")
    for label, pb in (("vmap", None), ("lax.map(batch 4)", 4)):
        cfg = dataclasses.replace(base, starts=32, population_batch=pb)
        t = time_train(spec, X, y, cfg, args.repeats)
        print(
            f"32 starts, {label:17s}: {1e3 * t:8.3f} ms/epoch = {t / one:5.2f} x one start "
            f"({1e3 * t / 32:.3f} ms per start-epoch)"
        )


if __name__ == "__main__":
    main()
