"""How good can gradient descent on DEBI-NN coordinates be? (issue 4)

Two stages, never mixing selection and testing:

* ``--stage select``: on each seed's *training* split only, hold out a stratified 25 % outer
  validation split, train on the rest (train_gd does its own inner 20 % split for early
  stopping and start selection) and report the outer-validation balanced accuracy. Settings
  (head, shift-scale, starts, schedule, ...) are chosen from these numbers.
* ``--stage test``: train on the whole training split and report balanced accuracy (and
  accuracy) on the held-out test split.

Data (DEBINN_DATA_DIR or <repo>/../shared/data): two-moons (300 cases, noise 0.1, generated),
DLBCL and HECKTOR-LITE (authors' fixed Fold-1 train/test split; seeds vary the training),
fetal CTG (fetal_health.csv, raw features z-scored on the training split only, 70/30 stratified
split per seed). Prints one line per (dataset, config): mean +- sd over seeds.

Example (the commands behind the report)::

    taskset -c 0 .venv/bin/python experiments/gd_study.py --stage test --datasets moons \
        --configs paper ref_ss soft_ss soft_ss_x8 --seeds 5
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Any

import jax
import numpy as np
from _datasets import split_for  # experiments/ is on sys.path when a script runs

from debinn_jax.data import (
    stratified_split,
)
from debinn_jax.gd import GDConfig, train_gd
from debinn_jax.loss import LossConfig
from debinn_jax.metrics import accuracy, balanced_accuracy
from debinn_jax.network import NetworkSpec

PAPER_GD = {"moons": 0.83, "dlbcl": 0.78, "hecktor": 0.67, "ctg": 0.66}
PAPER_GA = {"moons": 1.00, "dlbcl": 0.83, "hecktor": 0.80, "ctg": 0.81}
HIDDEN = {"moons": (16,), "dlbcl": (85, 64), "hecktor": (100,), "ctg": (100,)}

# name -> (NetworkSpec overrides, GDConfig overrides)
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # what a reader of the paper would run first: reference head, no shift-scale, one start
    "paper": ({"head": "reference", "shift_scale": False}, {"starts": 1}),
    "ref_ss": ({"head": "reference", "shift_scale": True}, {"starts": 1}),
    "ref_ss_x8": ({"head": "reference", "shift_scale": True}, {"starts": 8}),
    "soft": ({"head": "softmax", "shift_scale": False}, {"starts": 1}),
    "soft_ss": ({"head": "softmax", "shift_scale": True}, {"starts": 1}),
    "soft_ss_x8": ({"head": "softmax", "shift_scale": True}, {"starts": 8}),
    "soft_ss_x32": ({"head": "softmax", "shift_scale": True}, {"starts": 32}),
    "soft_ss_x8_a1": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "loss": LossConfig(alpha=1.0)},
    ),
    "soft_ss_x8_spread": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "lr_spread": 1.0},
    ),
    "soft_ss_x8_cos": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "schedule": "warmup_cosine", "warmup": 50},
    ),
    "soft_ss_x8_clip": ({"head": "softmax", "shift_scale": True}, {"starts": 8, "clip_norm": 1.0}),
    "soft_ss_x8_bacc": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "monitor": "val_bacc"},
    ),
    "soft_ss_x8_lr03": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "learning_rate": 0.03},
    ),
    "soft_ss_x8_lr003": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "learning_rate": 0.003},
    ),
    "soft_ss_x8_init05": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "init_scale": 0.5},
    ),
    "soft_ss_x8_init2": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "init_scale": 2.0},
    ),
    "ref_ss_x8_a1": (
        {"head": "reference", "shift_scale": True},
        {"starts": 8, "loss": LossConfig(alpha=1.0)},
    ),
    "soft_ss_x8_a1_lr003": (
        {"head": "softmax", "shift_scale": True},
        {"starts": 8, "loss": LossConfig(alpha=1.0), "learning_rate": 0.003},
    ),
    "soft_ss_x8_a1_t3": (
        {"head": "softmax", "shift_scale": True, "temperature": 3.0},
        {"starts": 8, "loss": LossConfig(alpha=1.0)},
    ),
    "soft_ss_x8_nostd": (
        {"head": "softmax", "shift_scale": True, "standardize_weights": False},
        {"starts": 8},
    ),
}


def run_one(name: str, cfg_name: str, seed: int, stage: str, epochs: int) -> dict[str, float]:
    Xtr, ytr, Xte, yte = split_for(name, seed)
    if stage == "select":
        fit, val = stratified_split(ytr, 0.25, seed=1000 + seed)
        Xtr, ytr, Xte, yte = Xtr[fit], ytr[fit], Xtr[val], ytr[val]
    spec_kw, gd_kw = CONFIGS[cfg_name]
    k = int(ytr.max()) + 1
    spec = NetworkSpec(Xtr.shape[1], HIDDEN[name], k, **spec_kw)
    config = dataclasses.replace(GDConfig(epochs=epochs), **gd_kw)
    res = train_gd(spec, Xtr, ytr, jax.random.key(seed), config)
    pred = res.predict(Xte)
    return {
        "bacc": balanced_accuracy(yte, pred, k),
        "acc": accuracy(yte, pred),
        "inner_val_bacc": float(res.history["val_bacc"][res.best_epoch]),
        "train_bacc": float(res.history["train_bacc"][res.best_epoch]),
        "epochs": res.epochs_run,
        "seconds": res.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="GD study (issue 4)")
    parser.add_argument("--stage", choices=("select", "test"), default="test")
    parser.add_argument("--datasets", nargs="+", default=["moons", "dlbcl", "hecktor", "ctg"])
    parser.add_argument("--configs", nargs="+", default=["paper", "soft_ss_x8"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1000)
    args = parser.parse_args()
    for c in args.configs:
        if c not in CONFIGS:
            sys.exit(f"unknown config {c!r}; known: {', '.join(CONFIGS)}")
    print(f"stage={args.stage} seeds={args.seeds} epochs={args.epochs} jax {jax.__version__}")
    col = "outer-val" if args.stage == "select" else "test"
    for name in args.datasets:
        for cfg_name in args.configs:
            t0 = time.time()
            rows = [run_one(name, cfg_name, s, args.stage, args.epochs) for s in range(args.seeds)]
            b = np.array([r["bacc"] for r in rows])
            a = np.array([r["acc"] for r in rows])
            iv = np.array([r["inner_val_bacc"] for r in rows])
            trb = np.array([r["train_bacc"] for r in rows])
            ep = np.array([r["epochs"] for r in rows])
            paper = f"  (paper GD {PAPER_GD[name]:.2f}, GA {PAPER_GA[name]:.2f})"
            print(
                f"{name:8s} {cfg_name:18s} {col} bacc {b.mean():.3f} +- {b.std(ddof=1):.3f}  "
                f"acc {a.mean():.3f} +- {a.std(ddof=1):.3f}  | inner-val bacc {iv.mean():.3f} "
                f"train bacc {trb.mean():.3f} epochs {ep.mean():.0f}  "
                f"[{time.time() - t0:.0f}s]{paper if args.stage == 'test' else ''}",
                flush=True,
            )


if __name__ == "__main__":
    main()
