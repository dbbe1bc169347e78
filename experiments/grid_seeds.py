"""How much a grid's median moves between seeds: several `debinn grid` runs of the same grids.

Usage::

    python experiments/grid_seeds.py RUN_DIR [RUN_DIR ...]
        [--out experiments/results/grid2025/seeds]

Each ``RUN_DIR`` holds one folder per grid (``DLBCL-1H/results.json`` ...), as written by
``debinn grid ... --out RUN_DIR/<DATASET>-<ARCH>``, each run with its own ``--seed``. Complete
grids (128 settings) are grouped by grid, key protocol (``--keys``) and precision; for every
group of two or more seeds this prints and writes (``seeds.md``, ``seeds.json``) the median
test balanced accuracy of each seed, their mean, sample sd and range, beside the authors'
median when ``--reference`` has it.

The authors ran each grid once, with one seed for every setting. Whether a gap between their
median and ours exceeds the target's 0.03 margin can only be judged against the spread of a grid
median between seeds, which this measures for our program under both key protocols (their
program's own spread is not observable from their single run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

GRID_SIZE = 128


def grid_median(doc: dict) -> float:
    """Median test balanced accuracy over a results.json's records."""
    return float(np.median([r["test"]["BACC"] for r in doc["records"]]))


def group_runs(
    docs: list[tuple[str, dict]], dtype_if_missing: str = "unrecorded"
) -> dict[tuple[str, str, str], dict[int, float]]:
    """Median per seed of complete grids, grouped by (grid, key protocol, precision).

    Args:
        docs: ``(grid name, results.json document)`` pairs.
        dtype_if_missing: the precision of files written before results.json recorded it
            (their key protocol was always per-column).

    Returns:
        ``{(grid, keys, dtype): {seed: median}}``; grids with fewer than 128 records are left
        out (an interrupted run's median is of another set of settings).

    Raises:
        ValueError: when two runs of one group have the same seed and different medians (two
            folders of the same run would otherwise count as two seeds).
    """
    groups: dict[tuple[str, str, str], dict[int, float]] = {}
    for grid, doc in docs:
        if len(doc["records"]) < GRID_SIZE:
            continue
        key = (grid, doc.get("keys", "per-column"), doc.get("dtype", dtype_if_missing))
        seed, med = int(doc["seed"]), grid_median(doc)
        seen = groups.setdefault(key, {})
        if seed in seen and seen[seed] != med:
            raise ValueError(f"{grid}: two {key[1]} runs with seed {seed} differ")
        seen[seed] = med
    return groups


def spread(medians: list[float]) -> dict[str, float]:
    """Mean, sample sd (NaN for one value) and range of the per-seed medians."""
    m = np.asarray(medians, dtype=float)
    return {
        "n": int(m.size),
        "mean": float(m.mean()),
        "sd": float(m.std(ddof=1)) if m.size > 1 else float("nan"),
        "range": float(m.max() - m.min()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+")
    ap.add_argument("--reference", type=Path, default=Path("../shared/reference/grid"))
    ap.add_argument("--out", type=Path, default=Path("experiments/results/grid2025/seeds"))
    ap.add_argument(
        "--dtype-if-missing",
        default="unrecorded",
        help="precision of results.json files that predate its record (e.g. float32)",
    )
    args = ap.parse_args()
    from grid_compare import authors_bacc  # experiments/ is on sys.path when a script runs

    docs = []
    for run in args.runs:
        for path in sorted(run.glob("*/results.json")):
            docs.append((path.parent.name, json.loads(path.read_text())))
    groups = group_runs(docs, args.dtype_if_missing)
    lines = [
        "| grid | keys | precision | seeds | median per seed | mean | sd | range | authors |",
        "|---|---|---|---:|---|---:|---:|---:|---:|",
    ]
    out = []
    for (grid, keys, dtype), by_seed in sorted(groups.items()):
        if len(by_seed) < 2:
            continue  # one seed says nothing about the spread
        seeds = sorted(by_seed)
        s = spread([by_seed[k] for k in seeds])
        summary = args.reference / grid / "summary.csv"
        theirs = (
            float(np.median(list(authors_bacc(summary).values()))) if summary.is_file() else None
        )
        per_seed = ", ".join(f"{by_seed[k]:.3f} (s{k})" for k in seeds)
        lines.append(
            f"| {grid} | {keys} | {dtype} | {s['n']} | {per_seed} | {s['mean']:.3f} | "
            f"{s['sd']:.3f} | {s['range']:.3f} | "
            f"{'' if theirs is None else f'{theirs:.3f}'} |"
        )
        out.append(
            {"grid": grid, "keys": keys, "dtype": dtype, "medians": by_seed, **s, "authors": theirs}
        )
    text = "\n".join(lines) + "\n"
    print(text)
    from debinn_jax.io import write_json_atomic, write_text_atomic

    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "seeds.md", text)
    write_json_atomic(args.out / "seeds.json", {"groups": out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
