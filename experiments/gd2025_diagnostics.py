"""Gradient diagnostics of the 2025 network, per switch, at GD's start and after GD training.

For each task (two-moons 2-10-2, DLBCL 17-85-64-2, HECKTOR-LITE 36-180-2, CTG 21-105-3: the
2025 architectures of the study) and each switch configuration of the authors' grid (none;
group normalisation; group normalisation + shift-scale; weight standardisation; spatial
dropout; all four; all four + L1 + L2), ``debinn_jax.diagnostics.diagnose_2025`` measures, on
the training split (float64): gradient norms per layer and per kind of gene, the share of
position genes with no gradient, the per-sample gradient alignment (mean pairwise cosine, share
of conflicting pairs, signal-to-noise), overall, over the cases that have a gradient, and per
layer, the share of cases in the two-class head's flat region and of dead hidden units. Two
states: GD's initial coordinates (uniform in [-1, 1]^3, start 0 of seed 0) and the coordinates
GD reaches (``run_many_gd``: Adam 0.01, 4 starts, up to 300 epochs, patience 50, best start on
validation; the test balanced accuracy is recorded beside). References: the 2022 network with
and without weight standardisation (at its start; where the 2022 finding, position gradients
~100x smaller without standardisation, came from) and a plain MLP of the same sizes.

Writes ``--out/diagnostics.json`` and ``--out/diagnostics.md``.

Example::

    nice -n 10 .venv/bin/python experiments/gd2025_diagnostics.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

import debinn_jax as dj
from debinn_jax.diagnostics import diagnose_2025, mlp_alignment

TASKS = {"moons": (10,), "dlbcl": (85, 64), "hecktor": (180,), "ctg": (105,)}
CONFIGS = {
    "none": {},
    "gn": {"normalization": "activation"},
    "gn+ss": {"normalization": "activation", "shift_scale": True},
    "ws": {"standardize_weights": True},
    "sd": {"spatial_dropout": True},
    "all": {
        "normalization": "activation",
        "shift_scale": True,
        "standardize_weights": True,
        "spatial_dropout": True,
    },
}
PENALTY = {"all+L1+L2": ("all", 0.01, 0.01)}


def _data(task: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and test split of seed 0, as the study prepares them."""
    from debinn_jax import study

    cfg = study.load_configs(study.default_config_dir(), [task])[0]
    s0 = study.prepare_task(cfg.task, data_dir, [0]).splits[0]
    return s0.X_train, s0.y_train, s0.X_test, s0.y_test


def _spec(n_in: int, hidden: tuple[int, ...], k: int, switches: dict) -> dj.NetworkSpec:
    kw = {"normalization": "none", **switches}
    return dj.NetworkSpec.reference_2025(n_in, hidden, k, **kw)


def _round(obj):
    if isinstance(obj, float):
        return float(f"{obj:.4g}")
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    return obj


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--out", type=Path, default=Path("experiments/results/gd2025/diagnostics"))
    parser.add_argument("--cases", type=int, default=128, help="cases for per-sample statistics")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    from debinn_jax import study

    data_dir = study.default_data_dir()
    out: dict = {
        "load_before": os.getloadavg(),
        "jax": jax.__version__,
        "gd": "adam lr 0.01 constant, 4 starts, <= 300 epochs, patience 50, 2025 loss",
        "tasks": {},
    }
    t_start = time.perf_counter()
    for task in args.tasks.split(","):
        hidden = TASKS[task]
        Xtr, ytr, Xte, yte = _data(task, data_dir)
        k = int(max(ytr.max(), yte.max())) + 1
        n_in = Xtr.shape[1]
        rows: dict = {}
        configs = {**{n: (sw, 0.0, 0.0) for n, sw in CONFIGS.items()}}
        configs.update({n: (CONFIGS[base], l1, l2) for n, (base, l1, l2) in PENALTY.items()})
        # GD training of every configuration: one run_many_gd call per shift-scale setting
        trained: dict = {}
        for ss in (False, True):
            names = [n for n, (sw, _, _) in configs.items() if sw.get("shift_scale", False) == ss]
            all_on = _spec(
                n_in,
                hidden,
                k,
                {
                    "normalization": "activation",
                    "standardize_weights": True,
                    "spatial_dropout": True,
                    "shift_scale": ss,
                },
            )
            sw = [configs[n][0] for n in names]
            settings = {
                "standardize_weights": [float(s.get("standardize_weights", False)) for s in sw],
                "normalization": [float(s.get("normalization") == "activation") for s in sw],
                "spatial_dropout": [float(s.get("spatial_dropout", False)) for s in sw],
                "l1": [configs[n][1] for n in names],
                "l2": [configs[n][2] for n in names],
            }
            cfg = dj.GDConfig(
                epochs=300, starts=4, patience=50, chunk=100, loss=dj.LossConfig.reference_2025()
            )
            keys = jax.numpy.stack([jax.random.key(0)] * len(names))
            res = dj.run_many_gd(all_on, Xtr, ytr, keys, cfg, settings=settings)
            for i, n in enumerate(names):
                p = res.predict_proba(i, Xte)
                bacc = dj.classification_metrics(yte, p)["balanced_accuracy"]
                coords = jax.tree_util.tree_map(lambda a, i=i: np.asarray(a)[i], res.coords)
                trained[n] = (coords, bacc, int(res.epochs_run[i].max()))
        for name, (sw, l1, l2) in configs.items():
            spec = _spec(n_in, hidden, k, sw)
            loss = dj.LossConfig.reference_2025(l1=l1, l2=l2)
            k_init = jax.random.split(jax.random.key(0), 3)[1]  # train_gd's start 0 of key 0
            c0 = dj.init_coords(jax.random.fold_in(k_init, 0), spec)
            t0 = time.perf_counter()
            init = diagnose_2025(spec, c0, Xtr, ytr, loss, per_sample_cases=args.cases)
            coords, bacc, epochs = trained[name]
            after = diagnose_2025(spec, coords, Xtr, ytr, loss, per_sample_cases=args.cases)
            rows[name] = {
                "init": init,
                "trained": after,
                "gd_test_bacc": bacc,
                "gd_epochs": epochs,
            }
            print(
                f"[{task}] {name}: init |g| {init['grad_norm']:.3g} rms pos "
                f"{init['rms_position']:.3g} cos {init['alignment']['mean_cosine']:+.3f} flat "
                f"{init['flat_head']:.2f}; trained |g| {after['grad_norm']:.3g} cos "
                f"{after['alignment']['mean_cosine']:+.3f} flat {after['flat_head']:.2f} "
                f"zero-grad cases {after['zero_gradient_cases']:.2f}; GD test BACC {bacc:.3f} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
        ref = {}
        for ws in (True, False):
            spec22 = dj.NetworkSpec(n_in, hidden, k, standardize_weights=ws)
            c22 = dj.init_coords(jax.random.key(0), spec22)
            ref[f"2022 ws={int(ws)}"] = diagnose_2025(
                spec22, c22, Xtr, ytr, dj.LossConfig(), per_sample_cases=args.cases
            )
        mlp = mlp_alignment((n_in, *hidden), Xtr[: args.cases], ytr[: args.cases],
                            jax.random.key(0), k)  # fmt: skip
        out["tasks"][task] = {
            "network": f"{n_in}-{'-'.join(map(str, hidden))}-{k}",
            "n_train": int(len(ytr)),
            "configs": rows,
            "reference_2022": ref,
            "mlp_alignment": mlp,
        }
        print(f"[{task}] 2022 ws=1 rms pos {ref['2022 ws=1']['rms_position']:.3g}, ws=0 "
              f"{ref['2022 ws=0']['rms_position']:.3g}; MLP cos {mlp['mean_cosine']:+.3f}",
              flush=True)  # fmt: skip
    out["seconds"] = time.perf_counter() - t_start
    out["load_after"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "diagnostics.json").write_text(json.dumps(_round(out), indent=1) + "\n")
    (args.out / "diagnostics.md").write_text(report(out))
    print(f"wrote {args.out / 'diagnostics.json'} and diagnostics.md")


def report(out: dict) -> str:
    """The markdown tables of ``diagnostics.json``."""
    lines = [
        "# Gradient diagnostics of the 2025 network",
        "",
        "Written by `experiments/gd2025_diagnostics.py` (float64, training split of seed 0; "
        f"{out['gd']}). |g|: gradient norm; rms pos: root mean square gradient per position "
        "gene; cos: mean pairwise cosine of per-sample gradients (all cases / cases with a "
        "gradient); conflict: share of case pairs with negative cosine; flat: share of cases "
        "in the two-class head's flat region; zero: share of cases with no gradient.",
        "",
    ]
    for task, t in out["tasks"].items():
        lines += [
            f"## {task} ({t['network']}, {t['n_train']} training cases)",
            "",
            "| switches | state | loss | |g| | rms pos | zero pos genes | cos (all / active) "
            "| conflict | flat | zero cases | GD test BACC |",
            "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
        ]
        for name, r in t["configs"].items():
            for state in ("init", "trained"):
                d = r[state]
                act = d["alignment_active"]
                cos = f"{d['alignment']['mean_cosine']:+.3f} / " + (
                    "-" if act is None else f"{act['mean_cosine']:+.3f}"
                )
                flat = "-" if d["flat_head"] != d["flat_head"] else f"{d['flat_head']:.2f}"
                lines.append(
                    f"| {name} | {state} | {d['loss']:.3f} | {d['grad_norm']:.3g} | "
                    f"{d['rms_position']:.3g} | {d['zero_position_genes']:.2f} | {cos} | "
                    f"{d['alignment']['conflict']:.2f} | {flat} | "
                    f"{d['zero_gradient_cases']:.2f} | "
                    + (f"{r['gd_test_bacc']:.3f}" if state == "trained" else "")
                    + " |"
                )
        for name, d in t["reference_2022"].items():
            flat = "-" if d["flat_head"] != d["flat_head"] else f"{d['flat_head']:.2f}"
            lines.append(
                f"| {name} (reference) | init | {d['loss']:.3f} | {d['grad_norm']:.3g} | "
                f"{d['rms_position']:.3g} | {d['zero_position_genes']:.2f} | "
                f"{d['alignment']['mean_cosine']:+.3f} | {d['alignment']['conflict']:.2f} | "
                f"{flat} | "
                f"{d['zero_gradient_cases']:.2f} | |"
            )
        m = t["mlp_alignment"]
        lines += [
            f"| MLP {t['network']} (reference) | init | | | | | {m['mean_cosine']:+.3f} | "
            f"{m['conflict']:.2f} | | | |",
            "",
        ]
    lines.append(f"Total {out['seconds']:.0f} s; load average before {out['load_before']}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
