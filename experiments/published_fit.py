"""The authors' published models among our runs of the same setting.

Usage::

    python experiments/published_fit.py MODEL.bin --data FOLD [--seeds 40] [--generations T]
        [--out FILE.json]

A published ``*BestModel.bin`` of the 2025 program stores its settings and the metrics of the
run that made it, on the training split (``EntropyLoss``: the section 3 fitness F on all
training cases, penalty included; BACC; ACC) and on the test split. These are the only
per-run results of the authors' GA we have besides the grids' test metrics. This script trains
the model's own setting (``debinn grid``'s translation of the settings stored in the file) with
``--seeds`` keys of our 2025 GA on the model's Fold folder, in float64 as the authors' program
computes, and reports where the authors' run lies among ours: the share of our runs that fit
the training split at least as well (F as low, BACC and ACC as high) and that score at least
as high on test. Per seed it also keeps the run's length and its hall-of-fame trace
(entries over the run, the generation of the last entry, the final tolerance).

The published models are the maxima of the authors' grids picked on the test split, so their
test scores are selected; their training fit is selected only as far as it goes with test.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

# (our field, the authors' stored part and metric, lower is better)
COMPARED = (
    ("train_fitness", "Train", "EntropyLoss", True),
    ("train_bacc", "Train", "BACC", False),
    ("train_acc", "Train", "ACC", False),
    ("test_bacc", "Test", "BACC", False),
    ("test_acc", "Test", "ACC", False),
)


def share_at_least_as_good(ours: np.ndarray, theirs: float, lower_is_better: bool) -> float:
    """Fraction of ``ours`` ``(n,)`` at least as good as ``theirs`` (ties count as good).

    Values within 1e-12 of ``theirs`` are ties (metrics on the same cases are equal fractions,
    computed in another order).
    """
    ours = np.asarray(ours, np.float64)
    tie = np.abs(ours - theirs) <= 1e-12
    better = ours < theirs if lower_is_better else ours > theirs
    return float(np.mean(better | tie))


def hall_of_fame_trace(history: dict[str, np.ndarray]) -> dict[str, float]:
    """Summary of one run's trace: entries over the run (generation 0, the initial network,
    excluded), the generation of the last entry (0: none) and the final tolerance."""
    entries = np.asarray(history["hof_entries"])[1:]
    entered = np.flatnonzero(entries > 0)
    return {
        "entries": int(entries.sum()),
        "entry_generations": int(entered.size),
        "last_entry": int(entered[-1] + 1) if entered.size else 0,
        "final_tolerance": float(np.asarray(history["tolerance"])[-1]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="a published *BestModel.bin")
    ap.add_argument("--data", type=Path, required=True, help="its Fold folder (TrainF.csv ...)")
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--generations", type=int, default=None, help="override the budget (tests)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import debinn_jax as dj
    from debinn_jax.authors import load_authors_model
    from debinn_jax.execution.translate import grid_run
    from debinn_jax.ga import train_ga
    from debinn_jax.io import write_json_atomic
    from debinn_jax.loss import debi_loss
    from debinn_jax.metrics import accuracy, balanced_accuracy

    model = load_authors_model(args.model)
    fold = dj.load_fold(args.data)
    # the stored settings are one executionSettings.csv column (``Section/Key`` -> value)
    values = {**model.settings, "Data": args.data.name}
    run = grid_run(values, args.model.parent.name or args.model.stem, fold.train.X.shape[1], 2)
    cfg = run.config
    if args.generations is not None:
        cfg = dataclasses.replace(cfg, generations=args.generations)
    x, y = jnp.asarray(fold.train.X), jnp.asarray(fold.train.y)
    rows = []
    for seed in range(args.seeds):
        r = train_ga(run.spec, fold.train.X, fold.train.y, jax.random.key(seed), cfg)
        pred_train, pred_test = r.predict(fold.train.X), r.predict(fold.test.X)
        rows.append(
            {
                "seed": seed,
                "generations_run": r.generations_run,
                "train_fitness": float(debi_loss(run.spec, r.coords, x, y, config=r.config.loss)),
                "train_bacc": balanced_accuracy(fold.train.y, pred_train),
                "train_acc": accuracy(fold.train.y, pred_train),
                "test_bacc": balanced_accuracy(fold.test.y, pred_test),
                "test_acc": accuracy(fold.test.y, pred_test),
                **hall_of_fame_trace(r.history),
            }
        )
    authors = {f"{part}/{metric}": model.metrics[part][metric] for _, part, metric, _ in COMPARED}
    shares = {}
    print(f"{run.name} ({'-'.join(map(str, run.spec.layer_sizes))}): {args.seeds} seeds, float64")
    print("  measure: ours Q1 / median / Q3 | the authors' | share of ours at least as good")
    for field, part, metric, lower in COMPARED:
        ours = np.array([row[field] for row in rows])
        theirs = authors[f"{part}/{metric}"]
        shares[field] = share_at_least_as_good(ours, theirs, lower)
        q = np.quantile(ours, [0.25, 0.5, 0.75])
        print(
            f"  {field}: {q[0]:.4f} / {q[1]:.4f} / {q[2]:.4f} | {theirs:.4f} | {shares[field]:.2f}"
        )
    for field in ("generations_run", "entries", "last_entry", "final_tolerance"):
        q = np.quantile([row[field] for row in rows], [0.25, 0.5, 0.75])
        print(f"  {field}: {q[0]:.4g} / {q[1]:.4g} / {q[2]:.4g}")
    if args.out is not None:
        write_json_atomic(
            args.out,
            {
                "model": str(args.model),
                "column": run.name,
                "layers": list(run.spec.layer_sizes),
                "seeds": args.seeds,
                "generations": cfg.generations,
                "authors": authors,
                "share_at_least_as_good": shares,
                "runs": rows,
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
