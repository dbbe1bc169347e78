"""What the 2025 grids say beyond the table: spread, selection noise, switches, optimisers.

Reads the per-setting records that ``debinn reproduce --methods ga2025,gd2025`` wrote under
``--study/{ga2025,gd2025}/<task>/{grid-test,grid-validation,reruns}/results.json`` (nothing is
trained) and reports, per task and trainer:

* the distribution of test balanced accuracy over the grid (every setting trained once on the
  training split): quartiles, maximum, how many settings reach a threshold (``--target``);
* selection noise: Spearman correlation between a setting's inner-validation and test balanced
  accuracy, and the test score of the k best settings on validation;
* per GD hyper-parameter value and per regulariser switch, the mean test and validation
  balanced accuracy over the settings that have it (GD), and per switch (GA);
* the spread of the re-runs of each picked setting.

Writes ``--study/analysis.json`` and ``--study/analysis.md``.

Example::

    .venv/bin/python experiments/gd2025_analysis.py --study experiments/results/gd-vs-ga-2025
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

SWITCHES = ("shift_scale", "standardize_weights", "normalization", "spatial_dropout")


def _records(folder: Path) -> list[dict]:
    path = folder / "results.json"
    return json.loads(path.read_text())["records"] if path.is_file() else []


def _switches(rec: dict, trainer: str) -> dict[str, bool]:
    """The regulariser switches of a record (both grids store them the same way)."""
    out = {k: bool(rec["switches"][k]) for k in SWITCHES[1:]}
    out["shift_scale"] = bool(rec["shift_scale"])
    out["l1"] = rec["l1"] > 0
    out["l2"] = rec["l2"] > 0
    return out


def _by_value(recs_test: list, recs_val: dict, key) -> dict:
    groups: dict = {}
    for r in recs_test:
        groups.setdefault(str(key(r)), []).append(r)
    out = {}
    for value, rs in sorted(groups.items()):
        t = [r["test"]["BACC"] for r in rs]
        v = [recs_val[r["name"]]["test"]["BACC"] for r in rs if r["name"] in recs_val]
        out[value] = {
            "n": len(rs),
            "test_mean": float(np.mean(t)),
            "validation_mean": float(np.mean(v)) if v else None,
        }
    return out


def analyse(study: Path, target: float, gd_folder: str = "gd2025") -> dict:
    out: dict = {"target": target, "gd_folder": gd_folder, "tasks": {}}
    for trainer in ("ga", "gd"):
        root = study / ("ga2025" if trainer == "ga" else gd_folder)
        if not root.is_dir():
            continue
        for task_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            test = _records(task_dir / "grid-test")
            val = {r["name"]: r for r in _records(task_dir / "grid-validation")}
            reruns = _records(task_dir / "reruns")
            if not test:
                continue
            t = np.array([r["test"]["BACC"] for r in test])
            paired = [(val[r["name"]]["test"]["BACC"], r["test"]["BACC"]) for r in test
                      if r["name"] in val]  # fmt: skip
            entry: dict = {
                "settings": len(test),
                "test_quartiles": [float(q) for q in np.quantile(t, [0.25, 0.5, 0.75])],
                "test_max": float(t.max()),
                "train_bacc_median": float(np.median([r["train"]["BACC"] for r in test])),
                "at_or_above_target": int(np.sum(t >= target)),
            }
            if len(paired) > 2:
                v, tt = np.array(paired).T
                rho = spearmanr(v, tt)
                order = np.argsort(-v, kind="stable")
                entry["validation_vs_test_spearman"] = float(rho.statistic)
                entry["validation_vs_test_p"] = float(rho.pvalue)
                entry["top_by_validation"] = {
                    str(k): float(np.mean(tt[order[:k]])) for k in (1, 5, 10, 20)
                }
                entry["validation_max"] = float(v.max())
                entry["settings_at_validation_max"] = int(np.sum(v == v.max()))
            entry["by_switch"] = {
                name: _by_value(test, val, lambda r, name=name, tr=trainer: _switches(r, tr)[name])
                for name in (*SWITCHES, "l1", "l2")
            }
            if trainer == "gd":
                entry["by_hyper_parameter"] = {
                    k: _by_value(test, val, lambda r, k=k: r.get(k, 0.0))
                    for k in (
                        "optimizer",
                        "schedule",
                        "epochs",
                        "patience",
                        "starts",
                        "init_scale",
                        "head_temperature",
                    )
                }
                lr = np.array([r["learning_rate"] for r in test])
                bins = np.quantile(lr, [0, 0.25, 0.5, 0.75, 1.0])
                entry["by_learning_rate_quartile"] = _by_value(
                    test,
                    val,
                    lambda r, b=bins: f"{np.searchsorted(b[1:-1], r['learning_rate'])}",
                )
                entry["epochs_run_median"] = float(np.median([r["epochs_run"] for r in test]))
            runs: dict = {}
            for r in reruns:
                runs.setdefault(r["name"].split("/")[0], []).append(r["test"]["BACC"])
            entry["reruns"] = {
                k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)), "n": len(v)}
                for k, v in runs.items()
            }
            out["tasks"].setdefault(task_dir.name, {})[trainer] = entry
    return out


def report(a: dict) -> str:
    lines = [
        "# The 2025 grids of the study, analysed",
        "",
        "Written by `experiments/gd2025_analysis.py` from the per-setting records of "
        f"`debinn reproduce` (same folder; GD stages from `{a['gd_folder']}/`). Test balanced "
        "accuracy of every setting trained once on the training split; validation: the same "
        "setting trained on the inner training part and scored on the inner validation part.",
        "",
        f"| task | trainer | settings | train BACC median | test BACC quartiles | max | "
        f"settings >= {a['target']} | Spearman(val, test) | test of the best 1 / 5 / 10 on "
        "validation | ties at val max |",
        "|---|---|---:|---:|---|---:|---:|---|---|---:|",
    ]
    for task, tr in a["tasks"].items():
        for trainer, e in tr.items():
            q = ", ".join(f"{v:.3f}" for v in e["test_quartiles"])
            rho = e.get("validation_vs_test_spearman")
            top = e.get("top_by_validation", {})
            lines.append(
                f"| {task} | {trainer.upper()} | {e['settings']} | {e['train_bacc_median']:.3f} | "
                f"{q} | {e['test_max']:.3f} | "
                f"{e['at_or_above_target']} | "
                + ("-" if rho is None else f"{rho:+.2f} (p {e['validation_vs_test_p']:.2g})")
                + " | "
                + " / ".join(f"{top.get(k, float('nan')):.3f}" for k in ("1", "5", "10"))
                + f" | {e.get('settings_at_validation_max', '-')} |"
            )
    for task, tr in a["tasks"].items():
        gd = tr.get("gd")
        if not gd:
            continue
        lines += ["", f"## {task}: GD test (validation) BACC by value", ""]
        for group in ("by_hyper_parameter", "by_switch"):
            for name, values in gd.get(group, {}).items():
                parts = [
                    f"{v} {d['test_mean']:.3f} ({d['validation_mean']:.3f}, n {d['n']})"
                    if d["validation_mean"] is not None
                    else f"{v} {d['test_mean']:.3f} (n {d['n']})"
                    for v, d in values.items()
                ]
                lines.append(f"- {name}: " + "; ".join(parts))
        lr = gd.get("by_learning_rate_quartile", {})
        lines.append(
            "- learning-rate quartile (0 = smallest): "
            + "; ".join(f"{k} {d['test_mean']:.3f}" for k, d in lr.items())
        )
        ga = tr.get("ga")
        if ga:
            lines.append("")
            lines.append(f"GA test (validation) BACC by switch on {task}:")
            for name, values in ga["by_switch"].items():
                parts = [
                    f"{v} {d['test_mean']:.3f} ({d['validation_mean']:.3f})"
                    if d["validation_mean"] is not None
                    else f"{v} {d['test_mean']:.3f}"
                    for v, d in values.items()
                ]
                lines.append(f"- {name}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=Path("experiments/results/gd-vs-ga-2025"))
    parser.add_argument("--target", type=float, default=0.72)
    parser.add_argument("--gd-folder", default="gd2025", help="the GD stages' folder under --study")
    parser.add_argument("--name", default="analysis", help="output name (.json, .md)")
    args = parser.parse_args()
    a = analyse(args.study, args.target, args.gd_folder)
    (args.study / f"{args.name}.json").write_text(json.dumps(a, indent=1) + "\n")
    (args.study / f"{args.name}.md").write_text(report(a))
    print(report(a))


if __name__ == "__main__":
    main()
