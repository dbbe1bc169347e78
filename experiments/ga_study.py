"""GA settings study on two-moons, DLBCL, HECKTOR-LITE and fetal CTG (validation, then test).

Usage (each run prints one line per setting, mean +- sd over seeds)::

    python experiments/ga_study.py validate moons  --presets spec,small,beat --nets ref_ss,soft_ss
    python experiments/ga_study.py test     dlbcl  --presets spec --nets ref --seeds 10

``validate``: every seed s draws a stratified 70/30 split of the *training* set (seed s) and
trains on the 70 %, scoring balanced accuracy on the 30 % (the test set is never read).
``test``: trains on the whole training split with GA key s and scores the held-out test split.
Two-moons: 300 cases, noise 0.1 (data seed 0), a stratified 70/30 train/test split with seed s.
DLBCL / HECKTOR-LITE: the authors' single Fold (read from $DEBINN_DATA_DIR or ../shared/data).
CTG: fetal_health.csv, a stratified 70/30 train/test split with seed s (as in ``reproduce``).
Features are z-scored on the training part only. All seeds of one setting run in one
compiled ``run_many`` call.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import numpy as np
from _datasets import split_for  # experiments/ is on sys.path when a script runs

from debinn_jax.data import (
    Standardizer,
    stratified_split,
)
from debinn_jax.ga import GAConfig
from debinn_jax.metrics import accuracy, balanced_accuracy
from debinn_jax.network import NetworkSpec
from debinn_jax.sweep import run_many

PRESETS = {
    # spec section 6 defaults (reference 2023): linear 1.0 -> 0.5, q = 0.5
    "spec": {},
    # smaller, sparser mutation
    "small": {"r_max": 0.3, "r_min": 0.05, "mutation_prob": 0.1},
    "mid": {"r_max": 0.5, "r_min": 0.1, "mutation_prob": 0.2},
    # the authors' 2025 runs: beat B = 8, 2.0 -> 0.5, q = 1.0
    "beat": {
        "schedule": "beat",
        "beat_period": 8,
        "r_max": 2.0,
        "r_min": 0.5,
        "mutation_prob": 1.0,
    },
    "spec_elite": {"elitism": 1},
    "spec_plus": {"replacement": "plus"},
}
NETS = {
    "ref": {"head": "reference", "shift_scale": False},
    "ref_ss": {"head": "reference", "shift_scale": True},
    "soft": {"head": "softmax", "shift_scale": False},
    "soft_ss": {"head": "softmax", "shift_scale": True},
}
HIDDEN = {"moons": (16,), "dlbcl": (85, 64), "hecktor": (180,), "ctg": (85, 64)}


def standardise(X_train, X_other):
    s = Standardizer().fit(X_train)
    return s.transform(X_train).astype(np.float32), s.transform(X_other).astype(np.float32)


def splits(dataset: str, mode: str, seeds: list[int]):
    """Per seed: (X_train, y_train, X_eval, y_eval), standardised on X_train (the inner
    training part in ``validate`` mode)."""
    pairs = [split_for(dataset, s) for s in seeds]  # CTG and moons: re-split per seed
    out = []
    for s, (Xtr, ytr, Xte, yte) in zip(seeds, pairs):
        if mode == "validate":  # inner split of the training part; test is never used
            a, b = stratified_split(ytr, 0.3, seed=1000 + s)
            Xtr, ytr, Xte, yte = Xtr[a], ytr[a], Xtr[b], ytr[b]
        Xtr_s, Xte_s = standardise(np.asarray(Xtr), np.asarray(Xte))
        out.append((Xtr_s, np.asarray(ytr), Xte_s, np.asarray(yte)))
    return out


def run_setting(dataset, mode, preset, net, seeds, base: GAConfig, hidden=None):
    data = splits(dataset, mode, seeds)
    n_feat = data[0][0].shape[1]
    n_classes = int(max(d[1].max() for d in data)) + 1
    hidden = HIDDEN[dataset] if hidden is None else hidden
    spec = NetworkSpec(n_inputs=n_feat, hidden=hidden, n_classes=n_classes, **NETS[net])
    cfg = dataclasses.replace(base, **PRESETS[preset])
    X = np.stack([d[0] for d in data])
    y = np.stack([d[1] for d in data])
    keys = jax.vmap(jax.random.key)(np.asarray(seeds))
    t0 = time.perf_counter()
    res = run_many(spec, X, y, keys, cfg)
    secs = time.perf_counter() - t0
    bacc, acc = [], []
    for i, (_, _, Xe, ye) in enumerate(data):
        pred = res.run(i).predict(Xe)
        bacc.append(balanced_accuracy(ye, pred))
        acc.append(accuracy(ye, pred))
    bacc, acc = np.array(bacc), np.array(acc)
    gens = res.generations_run
    print(
        f"{dataset:8s} {mode:8s} {preset:11s} {net:8s} seeds={len(seeds):2d} "
        f"BACC {bacc.mean():.3f} +- {bacc.std(ddof=1):.3f}  ACC {acc.mean():.3f} +- "
        f"{acc.std(ddof=1):.3f}  gens {gens.mean():.0f} [{gens.min()}-{gens.max()}]  "
        f"{secs:.0f} s",
        flush=True,
    )
    return bacc, acc


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["validate", "test"])
    p.add_argument("dataset", choices=["moons", "dlbcl", "hecktor", "ctg"])
    p.add_argument("--hidden", default=None, help="hidden sizes, e.g. 85,64 (default per dataset)")
    p.add_argument("--presets", default="spec")
    p.add_argument("--nets", default="ref_ss")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--generations", type=int, default=1000)
    p.add_argument("--population", type=int, default=50)
    args = p.parse_args()
    base = GAConfig(population_size=args.population, generations=args.generations, chunk=250)
    seeds = list(range(args.seeds))
    hidden = tuple(int(h) for h in args.hidden.split(",")) if args.hidden else None
    print(
        f"# jax {jax.__version__} {jax.devices()[0].platform}; P={args.population} "
        f"T={args.generations}",
        flush=True,
    )
    for preset in args.presets.split(","):
        for net in args.nets.split(","):
            run_setting(args.dataset, args.mode, preset, net, seeds, base, hidden)


if __name__ == "__main__":
    main()
