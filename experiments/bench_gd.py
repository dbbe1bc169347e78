"""Speed of the GD trainer: one full-batch Adam step, and populations of starts.

Run pinned to one core (the figures in the report came from these exact commands)::

    taskset -c 0 .venv/bin/python experiments/bench_gd.py
    taskset -c 0 .venv/bin/python experiments/bench_gd.py --dataset dlbcl

Prints milliseconds per epoch (one full-batch Adam step = forward + backward + update, plus the
validation forward and the early-stopping bookkeeping) measured on the second call of
``train_gd`` (compilation excluded), median of ``--repeats`` calls, and the population cost
ratio ``t(starts=32) / t(starts=1)`` for ``vmap`` and ``lax.map`` populations.
Data (``--dataset``): ``ctg`` (default; fetal_health.csv, 70 % stratified training split of
1488 cases, standardised on it, network 21-100-3), ``dlbcl`` (Fold-1 training split, 41 cases,
17-85-64-2), ``hecktor`` (Fold-1 training split, 158 cases, 36-180-2) or ``moons`` (210 cases,
2-100-2), read from DEBINN_DATA_DIR or <repo>/../shared/data. On CTG one start already keeps a
core busy, so 32 starts cost about 32x; on the small radiomics sets one start leaves most of
the core idle and a population amortises.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import jax
import numpy as np
from _datasets import split_for  # experiments/ is on sys.path when a script runs

from debinn_jax.gd import GDConfig, train_gd
from debinn_jax.network import NetworkSpec

HIDDEN = {"ctg": (100,), "dlbcl": (85, 64), "hecktor": (180,), "moons": (100,)}


def load(dataset: str, synthetic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Training features (standardised) and labels of ``dataset``."""
    if synthetic:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(1488, 21)).astype(np.float32)
        return X, rng.integers(0, 3, 1488).astype(np.int32)
    X, y, _, _ = split_for(dataset, 0)  # training split of seed 0
    return np.asarray(X, np.float32), np.asarray(y)


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
    parser.add_argument("--dataset", choices=sorted(HIDDEN), default="ctg")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="random data of CTG's training shape (1488 x 21, 3 classes) instead of the file",
    )
    args = parser.parse_args()
    X, y = load(args.dataset, args.synthetic)
    n_classes = int(y.max()) + 1
    hidden = HIDDEN[args.dataset]
    spec = NetworkSpec(X.shape[1], hidden, n_classes, head="softmax", shift_scale=True)
    print(
        f"jax {jax.__version__} backend {jax.default_backend()}, affinity {os.sched_getaffinity(0)}"
    )
    print(f"load average {os.getloadavg()}")
    layout = "-".join(str(n) for n in (X.shape[1], *hidden, n_classes))
    print(
        f"{args.dataset} {X.shape[0]} training cases, network {layout}, "
        f"epochs per call {args.epochs}"
    )

    base = GDConfig(epochs=args.epochs, patience=None, chunk=args.epochs, starts=1)
    # validation_fraction=0: every epoch = one step on all 1488 cases + one extra forward.
    one_full = time_train(
        spec, X, y, dataclasses.replace(base, validation_fraction=0.0), args.repeats
    )
    print(
        f"1 start, full batch on {X.shape[0]} cases (+1 monitoring forward): "
        f"{1e3 * one_full:.3f} ms/epoch"
    )
    one = time_train(spec, X, y, base, args.repeats)
    print(f"1 start, full batch with an 80/20 validation split: {1e3 * one:.3f} ms/epoch")
    for label, pb in (("vmap", None), ("lax.map(batch 4)", 4)):
        cfg = dataclasses.replace(base, starts=32, population_batch=pb)
        t = time_train(spec, X, y, cfg, args.repeats)
        print(
            f"32 starts, {label:17s}: {1e3 * t:8.3f} ms/epoch = {t / one:5.2f} x one start "
            f"({1e3 * t / 32:.3f} ms per start-epoch)"
        )


if __name__ == "__main__":
    main()
