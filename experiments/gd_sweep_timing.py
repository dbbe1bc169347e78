"""Wall time of the 128-setting GD sweep on DLBCL against the GA's regulariser grid.

The GD sweep (``debinn_jax.gd_grid_runs`` + ``debinn_jax.run_gd_grid``: the GA grid's 64
distinct regulariser settings, each twice with GD hyper-parameters from the seeded design) and,
with ``--with-ga``, the authors' 128-setting GA grid (``debinn grid``'s library functions) on
the same data, network and precision, one after the other, each trained once per setting on the
DLBCL Fold-1 training split and scored on its test split. Writes into ``--out/<precision>/``:
``GD-DLBCL-2H-Hinton/`` and ``GA-DLBCL-2H-Hinton/`` (``results.json``, ``summary.csv``: the
grids' own outputs) and ``timing.json`` (wall and compile seconds, load average before and
after, machine, versions).

Examples::

    nice -n 10 .venv/bin/python experiments/gd_sweep_timing.py --precision float32
    nice -n 10 .venv/bin/python experiments/gd_sweep_timing.py --precision float64 --with-ga
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import jax
import numpy as np

import debinn_jax as dj
from debinn_jax.data.locate import find_data_dir

HIDDEN = (85, 64)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} logical cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", choices=("float32", "float64"), default="float32")
    parser.add_argument("--data", type=Path, default=None, help="DLBCL Fold-1 folder")
    parser.add_argument("--out", type=Path, default=Path("experiments/results/gd2025/timing"))
    parser.add_argument("--settings", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32, help="GD runs per compiled call")
    parser.add_argument("--with-ga", action="store_true", help="also run the GA grid")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", args.precision == "float64")
    data = args.data
    if data is None:
        root = find_data_dir()  # $DEBINN_DATA_DIR, else ../shared/data (the library's lookup)
        if root is None:
            parser.error("no data folder: pass --data or set DEBINN_DATA_DIR")
        data = root / "dlbcl" / "Fold-1"
    fold = dj.load_fold(data)
    out = args.out / args.precision
    out.mkdir(parents=True, exist_ok=True)
    timing: dict = {
        "machine": _machine(),
        "jax": jax.__version__,
        "precision": args.precision,
        "data": str(data),
        "network": f"{fold.n_features}-{'-'.join(map(str, HIDDEN))}-{fold.n_classes}",
    }

    runs = dj.gd_grid_runs(HIDDEN, fold.n_features, fold.n_classes, settings=args.settings)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    gd = dj.run_gd_grid(
        runs,
        [("Fold-1", fold)],
        out=out / "GD-DLBCL-2H-Hinton",
        batch=args.batch,
        resume=False,
        progress=lambda line: print("  gd " + line, flush=True),
        data_name="DLBCL",
    )
    bacc = np.array([r["test"]["BACC"] for r in gd.records])
    epochs = sum(sum(r["start_epochs"]) for r in gd.records)
    timing["gd"] = {
        "settings": len(runs),
        "seconds": time.perf_counter() - t0,
        "compile_seconds": gd.timing["compile_seconds"],
        "programs_compiled": gd.timing["programs_compiled"],
        "start_epochs": epochs,
        "test_bacc_median": float(np.median(bacc)),
        "test_bacc_max": float(bacc.max()),
        "load_before": load0,
        "load_after": os.getloadavg(),
    }
    print(f"GD sweep: {timing['gd']}", flush=True)
    if args.with_ga:
        grid = dj.regulariser_grid(HIDDEN, data="DLBCL", prefix="2H-Hinton-S")
        ga_runs = dj.grid_runs(grid, fold.n_features, fold.n_classes)
        load0 = os.getloadavg()
        t0 = time.perf_counter()
        ga = dj.run_grid(
            ga_runs,
            [("Fold-1", fold)],
            out=out / "GA-DLBCL-2H-Hinton",
            resume=False,
            progress=lambda line: print("  ga " + line, flush=True),
        )
        bacc = np.array([r["test"]["BACC"] for r in ga.records])
        timing["ga"] = {
            "settings": len(ga_runs),
            "seconds": time.perf_counter() - t0,
            "compile_seconds": ga.timing["compile_seconds"],
            "programs_compiled": ga.timing["programs_compiled"],
            "generations": int(sum(r["generations_run"] for r in ga.records)),
            "test_bacc_median": float(np.median(bacc)),
            "test_bacc_max": float(bacc.max()),
            "load_before": load0,
            "load_after": os.getloadavg(),
        }
        print(f"GA grid: {timing['ga']}", flush=True)
    path = out / "timing.json"
    path.write_text(json.dumps(timing, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
