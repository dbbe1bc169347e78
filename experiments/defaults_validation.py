"""Choose the library's default network and GA (issue 12, item 6) on validation splits only.

Usage::

    python experiments/defaults_validation.py [--seeds 3] [--tasks moons,dlbcl,hecktor,ctg]
        [--out experiments/results/defaults]

For every task and seed s, the task's training split (``_datasets.split_for(task, s)``: two-moons
and CTG a stratified 70/30 split with seed s; DLBCL and HECKTOR-LITE the authors' Fold-1 training
set) is split again, stratified 70/30 with seed s; each candidate trains one GA run on the 70 %
(key s) and is scored by balanced accuracy on the 30 %. The test splits are never read. The
network is the estimator's default size, one hidden layer of 16 neurons, on every task.

Candidates (network + GA, each with its own defaults otherwise):

* ``2022``: ``NetworkSpec(f, (16,), K)`` + ``GAConfig()`` (the defaults before this study);
* ``2022+ss``: the same with shift-scale genes;
* ``2025-S1`` / ``S2`` / ``S5`` / ``S6``: ``NetworkSpec.reference_2025`` +
  ``GAConfig.reference_2025()`` as the authors' grid settings 1 (nothing), 2 (shift-scale),
  5 (group normalisation), 6 (group normalisation + shift-scale).

Writes ``validation.json`` and ``validation.md`` (mean ± sd over seeds per task and candidate,
and the mean rank across tasks) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jax
import numpy as np
from _datasets import split_for  # experiments/ is on sys.path when a script runs

from debinn_jax.data import Standardizer, stratified_split
from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.metrics import balanced_accuracy
from debinn_jax.network import NetworkSpec

HIDDEN = (16,)


def candidates(f: int, k: int) -> dict[str, tuple[NetworkSpec, GAConfig]]:
    """The candidate defaults for ``f`` features and ``k`` classes."""

    def v2025(ss: bool, gn: bool) -> NetworkSpec:
        norm = "activation" if gn else "none"
        return NetworkSpec.reference_2025(f, HIDDEN, k, shift_scale=ss, normalization=norm)

    ga25 = GAConfig.reference_2025()
    return {
        "2022": (NetworkSpec(f, HIDDEN, k), GAConfig()),
        "2022+ss": (NetworkSpec(f, HIDDEN, k, shift_scale=True), GAConfig()),
        "2025-S1": (v2025(False, False), ga25),
        "2025-S2": (v2025(True, False), ga25),
        "2025-S5": (v2025(False, True), ga25),
        "2025-S6": (v2025(True, True), ga25),
    }


def inner_split(task: str, seed: int) -> tuple[np.ndarray, ...]:
    """``(X_fit, y_fit, X_val, y_val)``: a stratified 70/30 split of the training data."""
    X, y, _, _ = split_for(task, seed)
    fit, val = stratified_split(y, 0.3, seed=seed)
    if task in ("moons", "ctg"):  # re-standardise on the fitting part only
        sc = Standardizer().fit(X[fit])
        return sc.transform(X[fit]), y[fit], sc.transform(X[val]), y[val]
    return X[fit], y[fit], X[val], y[val]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--tasks", default="moons,dlbcl,hecktor,ctg")
    p.add_argument("--only", default="", help="comma-separated candidate names (default all)")
    p.add_argument("--out", type=Path, default=Path("experiments/results/defaults"))
    args = p.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    scores: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, dict[str, float]] = {}
    for task in tasks:
        scores[task], seconds[task] = {}, {}
        for seed in range(args.seeds):
            Xf, yf, Xv, yv = inner_split(task, seed)
            k = int(max(yf.max(), yv.max())) + 1
            for name, (spec, cfg) in candidates(Xf.shape[1], k).items():
                if args.only and name not in args.only.split(","):
                    continue
                t0 = time.perf_counter()
                r = train_ga(spec, Xf, yf, jax.random.key(seed), cfg)
                pred = np.asarray(r.predict_proba(Xv)).argmax(1)
                bacc = float(balanced_accuracy(yv, pred, k))
                dt = time.perf_counter() - t0
                scores[task].setdefault(name, []).append(bacc)
                seconds[task][name] = seconds[task].get(name, 0.0) + dt
                print(
                    f"{task} seed {seed} {name}: validation BACC {bacc:.3f} "
                    f"({int(r.generations_run)} generations, {dt:.1f} s)",
                    flush=True,
                )
    names = list(next(iter(scores.values())).keys()) if scores else []
    ranks = {n: [] for n in names}
    for task in tasks:
        means = {n: float(np.mean(scores[task][n])) for n in names}
        order = sorted(names, key=lambda n: -means[n])
        for n in names:
            ranks[n].append(1 + order.index(n))
    lines = [
        "# Default network and GA: validation balanced accuracy (test never read)",
        "",
        f"Inner stratified 70/30 split of each task's training data, {args.seeds} seeds; one "
        f"hidden layer of {HIDDEN[0]}; float32. Mean ± sd over seeds.",
        "",
        "| candidate | " + " | ".join(tasks) + " | mean rank |",
        "|---|" + "---|" * len(tasks) + "---:|",
    ]
    for n in names:
        cells = [
            f"{np.mean(scores[t][n]):.3f} ± {np.std(scores[t][n], ddof=1):.3f}"
            if len(scores[t][n]) > 1
            else f"{scores[t][n][0]:.3f}"
            for t in tasks
        ]
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {np.mean(ranks[n]):.2f} |")
    lines += [
        "",
        "Seconds per task and candidate (all seeds, compilation included): "
        + "; ".join(f"{t}: " + ", ".join(f"{n} {seconds[t][n]:.0f}" for n in names) for t in tasks),
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "validation.json").write_text(
        json.dumps({"scores": scores, "seconds": seconds, "ranks": ranks}, indent=1)
    )
    (args.out / "validation.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
