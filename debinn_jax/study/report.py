"""Study statistics, the ``summary.md`` report and the figures."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from debinn_jax.network import NetworkSpec
from debinn_jax.study.config import BASELINES, METHOD_LABELS, TaskConfig
from debinn_jax.study.gd2025 import GD_PROTOCOL_METHODS, PAIRED_WITH
from debinn_jax.study.grid import PROTOCOL_METHODS
from debinn_jax.study.runs import MethodOutcome
from debinn_jax.study.tasks import Split

# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; NaN for fewer than two values)."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan


def bootstrap_ci(
    values: Sequence[float], *, level: float = 0.95, n_boot: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean.

    Args:
        values: one value per run (seed).
        level: coverage, e.g. 0.95.
        n_boot: bootstrap resamples.
        seed: seed of the resampling (explicit, so the report is reproducible).

    Returns:
        ``(low, high)``; ``(nan, nan)`` for no values; ``(v, v)`` for one value.
    """
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    means = v[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def paired_comparison(
    a: Sequence[Mapping[str, Any]],
    b: Sequence[Mapping[str, Any]],
    *,
    key: str = "test_balanced_accuracy",
    seed: int = 0,
) -> dict[str, Any]:
    """``a - b`` paired by seed (the records' ``seed``; only seeds both have).

    Args:
        a, b: study records of two methods (e.g. the GA's and GD's re-runs of one protocol).
        key: the metric.
        seed: seed of the bootstrap.

    Returns:
        ``n`` (pairs), ``seeds``, ``mean`` and ``sd`` of the differences, ``ci95`` (percentile
        bootstrap of the mean difference over the pairs, :func:`bootstrap_ci`), and
        ``wilcoxon_p``: two-sided Wilcoxon signed-rank test of the differences (zeros dropped;
        1.0 when every difference is 0; NaN for no pair).
    """
    from scipy.stats import wilcoxon

    va = {int(r["seed"]): r.get(key) for r in a}
    vb = {int(r["seed"]): r.get(key) for r in b}
    seeds = sorted(s for s in set(va) & set(vb) if va[s] is not None and vb[s] is not None)
    d = np.asarray([va[s] - vb[s] for s in seeds], np.float64)
    m, sd = mean_sd(d.tolist())
    if d.size == 0:
        p = math.nan
    elif not np.any(d != 0):
        p = 1.0
    else:
        p = float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)
    return {
        "n": int(d.size),
        "seeds": seeds,
        "mean": m,
        "sd": sd,
        "ci95": list(bootstrap_ci(d.tolist(), seed=seed)),
        "wilcoxon_p": p,
    }


def comparisons_2025(
    records: Sequence[Mapping[str, Any]], *, seed: int = 0
) -> list[dict[str, Any]]:
    """The 2025 GA against the 2025 GD per task and protocol (:func:`paired_comparison`)."""
    by: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        by.setdefault((r["task"], r["method"]), []).append(r)
    out = []
    for task in dict.fromkeys(r["task"] for r in records):
        for gd_method, ga_method in PAIRED_WITH.items():
            ga, gd = by.get((task, ga_method)), by.get((task, gd_method))
            if not ga or not gd:
                continue
            row = {"task": task, "protocol": gd_method.removeprefix("gd2025_")}
            row.update(paired_comparison(ga, gd, seed=seed))
            out.append(row)
    return out


def summarize(records: Sequence[Mapping[str, Any]], *, seed: int = 0) -> list[dict[str, Any]]:
    """Per (task, method): mean, sd and bootstrap 95 % CI of the test metrics, and costs."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["task"], r["method"]), []).append(r)
    rows = []
    for (task, method), rs in groups.items():
        row: dict[str, Any] = {"task": task, "method": method, "n_runs": len(rs)}
        for key in (
            "test_balanced_accuracy",
            "test_accuracy",
            "test_auc",
            "test_ece",
            "train_balanced_accuracy",
            "train_seconds",
            "generations_or_epochs",
        ):
            vals = [r.get(key) for r in rs]
            m, sd = mean_sd(vals)
            row[key] = {"mean": m, "sd": sd}
            if key in ("test_balanced_accuracy", "test_accuracy"):
                row[key]["ci95"] = list(bootstrap_ci(vals, seed=seed))
        row["n_params"] = rs[0].get("n_params")
        row["architecture"] = rs[0].get("architecture")
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def _pm(stat: Mapping[str, Any], digits: int = 3) -> str:
    m, sd = stat["mean"], stat["sd"]
    if m is None or not math.isfinite(m):
        return "n/a"
    finite_sd = sd is not None and math.isfinite(sd)  # JSON turns NaN into null
    return _fmt(m, digits) + (f" ± {_fmt(sd, digits)}" if finite_sd else "")


def _ci(stat: Mapping[str, Any]) -> str:
    lo, hi = stat.get("ci95", (math.nan, math.nan))
    return f"[{_fmt(lo)}, {_fmt(hi)}]"


def verdict(row: Mapping[str, Any], paper: float | None, tol: float = 0.02) -> tuple[bool, str]:
    """Whether a GA row reproduces the paper's accuracy figure ``paper``.

    Reproduced = our mean test accuracy is at least ``paper - tol`` or the paper's figure lies
    inside (or below) the bootstrap 95 % CI of our mean. Returns ``(ok, sentence)``.
    """
    if paper is None:
        return True, "no paper figure"
    acc = row["test_accuracy"]
    lo, hi = acc.get("ci95", (math.nan, math.nan))
    m = acc["mean"]
    ok = bool(m >= paper - tol or (math.isfinite(hi) and paper <= hi))
    diff = m - paper
    if ok:
        text = (
            f"reproduced: mean test accuracy {m:.3f} (95 % CI [{lo:.3f}, {hi:.3f}]) vs the "
            f"paper's {paper:.2f} (difference {diff:+.3f})"
        )
    else:
        text = (
            f"**not reproduced**: mean test accuracy {m:.3f} (95 % CI [{lo:.3f}, {hi:.3f}]) is "
            f"below the paper's {paper:.2f} (difference {diff:+.3f})"
        )
    return ok, text


def _ga2025_lines(
    g: Mapping[str, Any],
    rows: Mapping[tuple[str, str], Mapping[str, Any]],
    task: str,
    paper: float | None,
) -> list[str]:
    """The summary's paragraph on the 2025 GA's two protocols."""
    seconds = g.get("seconds", {})
    lines = [
        "",
        f"2025 GA ({g['precision']}): the authors' regulariser grid {g['architecture']} "
        f"{tuple(g['hidden'])}, {g['settings']} settings x 1 run, {g['iterations']} iterations "
        f"(grid on test: median test balanced accuracy {_fmt(g['grid_test_median'])}). "
        f"Authors' protocol: best on test **{g['test_picked']}**. Honest protocol: best on an "
        f"inner validation split ({g['n_inner_train']} / {g['n_validation']} training cases) "
        f"**{g['val_picked']}**; each picked setting re-trained with {g['seeds']} new seeds "
        "on the whole training split. Time: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
        + ".",
    ]
    top = rows.get((task, "ga2025_grid_max"))
    picked = rows.get((task, "ga2025_test_picked"))
    honest = rows.get((task, "ga2025_val_picked"))
    if top is not None and picked is not None:
        gap = top["test_balanced_accuracy"]["mean"] - picked["test_balanced_accuracy"]["mean"]
        lines.append(
            f"Picking on test: the grid maximum {_fmt(top['test_balanced_accuracy']['mean'])} "
            f"is {gap:+.3f} above the same setting re-trained with new seeds "
            f"({_pm(picked['test_balanced_accuracy'])})"
            + (
                f"; the paper reports {paper:.2f} (the maximum of the authors' grid)."
                if paper is not None
                else "."
            )
        )
    if honest is not None:
        lines.append(
            "Honest estimate of the 2025 GA on this split (setting picked without test labels): "
            f"test balanced accuracy {_pm(honest['test_balanced_accuracy'])}."
        )
    return lines


def verdict_2025(row: Mapping[str, Any], paper: float, tol: float = 0.02) -> tuple[bool, str]:
    """Whether the 2025 grid's test maximum (one run, picked on test as the paper did) reaches
    the paper's GA figure (which equals the maximum of the authors' grid, a balanced accuracy).
    Reproduced = at least ``paper - tol``."""
    m = row["test_balanced_accuracy"]["mean"]
    ok = bool(m >= paper - tol)
    word = "reproduced" if ok else "**not reproduced**"
    return ok, (
        f"{word}: best test balanced accuracy of the grid {m:.3f} vs the paper's {paper:.2f} "
        f"(difference {m - paper:+.3f}; both picked on test)"
    )


PROTOCOL_NAMES = {
    "grid_max": "authors' protocol: best of the grid on test (1 run; optimistic)",
    "test_picked": "the test-picked setting re-trained (new seeds; optimistic pick)",
    "val_picked": "honest protocol: setting picked on inner validation, re-trained",
}


def _gd2025_lines(g: Mapping[str, Any], rows: Mapping[tuple[str, str], Any], task: str) -> list:
    """The summary's paragraph on the GD sweep's two protocols."""
    seconds = g.get("seconds", {})
    design = g.get("design", {})
    space = design.get("space", {})

    def values(v: Mapping[str, Any]) -> str:
        on = [k for k in ("shift_scale", "standardize_weights", "normalization",
                          "spatial_dropout") if v.get(k)]  # fmt: skip
        pen = [f"{k.upper()} {v[k]}" for k in ("l1", "l2") if v.get(k)]
        t = v.get("head_temperature", 0.0)
        head = "the reference head" if not t else f"trained through softmax(z / {t:g})"
        return (
            f"{head}; {v['optimizer']} lr {v['learning_rate']:.3g}, {v['schedule']}, "
            f"{v['epochs']} epochs, patience {v['patience']}, {v['starts']} starts, init scale "
            f"{v['init_scale']}; switches: {', '.join(on + pen) or 'none'} "
            f"(= GA setting S{v['ga_setting']})"
        )

    lines = [
        "",
        f"2025 GD ({g['precision']}): {g['settings']} settings on the same network "
        f"{g['architecture']} {tuple(g['hidden'])} (the GA grid's regulariser switches x GD "
        f"hyper-parameters: optimisers {[str(o) for o in space.get('optimizers', [])]}, "
        f"learning rate {space.get('learning_rate')}, epochs {space.get('epochs')}, patience "
        f"{space.get('patience')}, starts {space.get('starts')}, init scale "
        f"{space.get('init_scale')}, training head temperature (0: the reference head) "
        f"{space.get('head_temperature', [0.0])}; design seed {design.get('design_seed')}); "
        "sweep on test: "
        f"median test balanced accuracy {_fmt(g['grid_test_median'])}. Authors' protocol: "
        f"best on test **{g['test_picked']}** ({values(g['test_picked_values'])}). Honest "
        f"protocol: best on the inner validation split **{g['val_picked']}** "
        f"({values(g['val_picked_values'])}). Time: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
        + ".",
    ]
    honest = rows.get((task, "gd2025_val_picked"))
    if honest is not None:
        lines.append(
            "Honest estimate of the 2025 GD on this split: test balanced accuracy "
            f"{_pm(honest['test_balanced_accuracy'])}."
        )
    return lines


def like_for_like_table(results: Mapping[str, Any]) -> list[str]:
    """The summary's first table: 2025 GA vs 2025 GD per task and protocol, with paired
    differences (bootstrap CI, Wilcoxon) and the paper's figures (empty without records)."""
    rows = {(r["task"], r["method"]): r for r in results["summary"]}
    comps = {(c["task"], c["protocol"]): c for c in results.get("comparisons_2025", [])}
    tasks = [t for t in results["tasks"] if not t.get("skipped")]
    if not any((t["name"], m) in rows for t in tasks for m in GD_PROTOCOL_METHODS):
        return []
    meta = results["meta"]
    lines = [
        "## GA vs GD on the 2025 network, like for like",
        "",
        "The authors' 2025 network (the one behind the paper's GA figures) trained by the 2025 "
        "GA, tuned by the authors' regulariser grid, and by gradient descent, tuned by a GD "
        "sweep over the same switches and GD hyper-parameters; both on the same split, the "
        "same inner validation split and the same seeds. Balanced accuracy on the held-out "
        "test split: mean ± sd over seeds [95 % bootstrap CI of the mean]. GA − GD: mean of "
        f"the per-seed differences (paired by seed) [95 % bootstrap CI] (seed "
        f"{meta['bootstrap_seed']}) and the two-sided Wilcoxon signed-rank p. The *authors' "
        "protocol* picks the best setting on test (as the paper did): optimistic, labelled "
        "as such.",
        "",
        "| task | protocol | GA 2025 | GD 2025 | GA − GD [95 % CI] | Wilcoxon p | paper GA / GD |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in tasks:
        name = t["name"]
        paper = t.get("paper", {})
        pg, pd = paper.get("ga_accuracy"), paper.get("gd_accuracy")
        paper_text = "-" if pg is None or pd is None else f"{pg:.2f} / {pd:.2f}"
        for gd_method, ga_method in PAIRED_WITH.items():
            ga, gd = rows.get((name, ga_method)), rows.get((name, gd_method))
            if ga is None and gd is None:
                continue
            protocol = gd_method.removeprefix("gd2025_")

            def cell(r: Mapping[str, Any] | None) -> str:
                if r is None:
                    return "n/a"
                stat = r["test_balanced_accuracy"]
                return _pm(stat) + (f" {_ci(stat)}" if r["n_runs"] > 1 else "")

            c = comps.get((name, protocol))
            if c is None or c["n"] == 0:
                diff, p = "n/a", "-"
            elif c["n"] == 1:
                diff, p = f"{c['mean']:+.3f}", "-"
            else:
                lo, hi = c["ci95"]
                diff = f"{c['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]"
                p = _fmt(c["wilcoxon_p"], 3)
            lines.append(
                f"| {t['title']} | {PROTOCOL_NAMES[protocol]} | {cell(ga)} | {cell(gd)} | "
                f"{diff} | {p} | {paper_text if protocol == 'grid_max' else '-'} |"
            )
    lines.append("")
    return lines


def machine_description() -> str:
    """One line: OS, CPU, core count, jax version and backend."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} logical cores, "
        f"jax {jax.__version__} ({jax.default_backend()}), Python {platform.python_version()}"
    )


TABLE_2025 = (*PROTOCOL_METHODS, *GD_PROTOCOL_METHODS)
TABLE_2022 = ("ga", "gd", *BASELINES)


def _method_table(
    rows: Mapping[tuple[str, str], Mapping[str, Any]],
    task: str,
    methods: Sequence[str],
    paper: Mapping[str, Any],
) -> list[str]:
    """One per-task table: a row per method that ran."""
    lines = [
        "| method | params | test balanced acc. (mean ± sd) | 95 % CI | test accuracy "
        "(mean ± sd) | 95 % CI | AUC | ECE | s/run | gens/epochs | paper acc. |",
        "|---|---:|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for method in methods:
        r = rows.get((task, method))
        if r is None:
            continue
        pf = {
            "ga": paper.get("ga_accuracy"),
            "gd": paper.get("gd_accuracy"),
            "ga2025_grid_max": paper.get("ga_accuracy"),
            "gd2025_grid_max": paper.get("gd_accuracy"),
        }.get(method)
        cells = [
            METHOD_LABELS[method],
            "-" if r["n_params"] is None else f"{r['n_params']:,}",
            _pm(r["test_balanced_accuracy"]),
            _ci(r["test_balanced_accuracy"]) if r["n_runs"] > 1 else "-",
            _pm(r["test_accuracy"]),
            _ci(r["test_accuracy"]) if r["n_runs"] > 1 else "-",
            _fmt(r["test_auc"]["mean"]),
            _fmt(r["test_ece"]["mean"]),
            _fmt(r["train_seconds"]["mean"], 1),
            _fmt(r["generations_or_epochs"]["mean"], 0),
            "-" if pf is None else f"{pf:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_summary(results: Mapping[str, Any]) -> str:
    """The ``summary.md`` text for a ``results.json`` object (see :func:`run_study`)."""
    meta = results["meta"]
    rows = {(r["task"], r["method"]): r for r in results["summary"]}
    lines = [
        "# DEBI-NN: GA vs GD reproduction (arXiv 2605.27411)",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- seeds per task and method: {meta['seeds']}"
        + (" (**--quick: reduced budgets, not the full study**)" if meta["quick"] else ""),
        f"- total wall time: {meta.get('total_seconds', math.nan):.0f} s"
        + (" (summed over the invocations of a resumed study)" if meta.get("resumed_from") else ""),
        "- every number is measured on held-out test splits; layouts are chosen on an inner "
        "validation split of the training data, never on test (except the rows labelled "
        "*authors' protocol*, which pick the best of the 2025 grid on test, as the paper did).",
        "- mean ± sample sd over seeds; 95 % CI: percentile bootstrap of the mean over seeds "
        f"(10,000 resamples, seed {meta['bootstrap_seed']}). For the fixed-split tasks the "
        "spread is over training seeds only: it does not include the sampling noise of the "
        "small test sets.",
        "- paper figures: headline test accuracy as reported in the paper (GA / GD).",
        "- s/run: wall time per run, compilation included (the first run of a method pays it); "
        "where the GA trains all seeds in one compiled call, that call's time divided by the "
        "number of runs. GD trains its starts together in one call per seed.",
        "",
    ]
    if meta.get("status"):
        lines.insert(4, f"- status: {meta['status']}")
    lines += like_for_like_table(results)
    verdicts = []
    for t in results["tasks"]:
        name = t["name"]
        if t.get("skipped"):
            lines += [f"## {t['title']}", "", f"Skipped: {t['skipped']}", ""]
            continue
        sel = t["selection"]
        lines += [
            f"## {t['title']}",
            "",
            f"- data: {t['source']}; {t['n_features']} features, {t['n_classes']} classes",
            f"- protocol: {t['protocol']}",
        ]
        if any((name, m) in rows for m in ("ga", "gd", *BASELINES)):
            lines.append(f"- layout: **{sel['selected']}** {tuple(t['hidden'])} ({sel['method']})")
            if sel.get("scores"):
                parts = [f"{n} {_fmt(s['mean'])}" for n, s in sel["scores"].items()]
                lines.append(f"- validation balanced accuracy per layout: {', '.join(parts)}")
            lines.append(
                f"- GA: population {t['ga']['population_size']}, up to "
                f"{t['ga']['generations']} generations (early stopping "
                f"{t['ga']['early_stopping']}); GD: {t['gd']['optimizer']} "
                f"lr {t['gd']['learning_rate']}, up to {t['gd']['epochs']} epochs, "
                f"{t['gd']['starts']} starts, patience {t['gd']['patience']}"
            )
        paper = t["paper"]
        for heading, methods in (
            ("2025 network (the authors' 2025 program), GA and GD", TABLE_2025),
            ("2022 network (library settings) and baselines", TABLE_2022),
        ):
            if not any((name, m) in rows for m in methods):
                continue
            lines += ["", f"{heading}:", ""]
            lines += _method_table(rows, name, methods, paper)
        lines.append("")
        ga = rows.get((name, "ga"))
        gd = rows.get((name, "gd"))
        if ga is not None:
            ok, text = verdict(ga, paper.get("ga_accuracy"))
            verdicts.append((t["title"], ok, text))
            lines.append(f"GA vs paper: {text}.")
        top = rows.get((name, "ga2025_grid_max"))
        if top is not None and paper.get("ga_accuracy") is not None:
            ok, text = verdict_2025(top, paper["ga_accuracy"])
            verdicts.append((f"{t['title']}, 2025 GA (authors' protocol)", ok, text))
            lines.append(f"2025 GA, authors' protocol, vs paper: {text}.")
        if ga is not None and gd is not None:
            d = ga["test_balanced_accuracy"]["mean"] - gd["test_balanced_accuracy"]["mean"]
            paper_gap = None
            if paper.get("ga_accuracy") is not None and paper.get("gd_accuracy") is not None:
                paper_gap = paper["ga_accuracy"] - paper["gd_accuracy"]
            lines.append(
                f"2022 network, GA minus GD (test balanced accuracy): {d:+.3f}"
                + (f" (paper, accuracy: {paper_gap:+.2f})." if paper_gap is not None else ".")
            )
        if t.get("ga2025"):
            lines += _ga2025_lines(t["ga2025"], rows, name, paper.get("ga_accuracy"))
        if t.get("gd2025"):
            lines += _gd2025_lines(t["gd2025"], rows, name)
        if paper.get("note"):
            lines.append(f"Note: {paper['note']}")
        lines.append("")
    lines += ["## Where the GA does (not) reproduce the paper", ""]
    if not verdicts:
        lines.append("No GA results.")
    for title, _ok, text in verdicts:
        lines.append(f"- {title}: {text}.")
    missing = [v for v in verdicts if not v[1]]
    lines.append("")
    if missing:
        lines.append(
            "The GA does **not** reproduce the paper's figure on: "
            + ", ".join(v[0] for v in missing)
            + "."
        )
    elif verdicts:
        lines.append("The GA reproduces the paper's GA figure on every task that ran.")
    if meta["quick"]:
        lines.append("")
        lines.append(
            "This was a `--quick` run with reduced budgets: these numbers are a smoke test, "
            "not the study."
        )
    if results.get("figures"):
        lines += ["", "## Figures", ""]
        for f in results["figures"]:
            lines.append(f"- `{f}`")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def make_figures(
    out: Path,
    task: TaskConfig,
    spec_ga: NetworkSpec,
    outcomes: Mapping[str, MethodOutcome],
    split: Split,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[Any] | None = None,
) -> list[str]:
    """Write the task's figures (PNG) into ``out``; returns their file names.

    Two-moons: decision boundaries of GA, GD and the MLP of the first seed, drawn over that
    seed's test split. Every task: training curves of the first seed (GA best fitness per
    generation, GD loss per epoch) and a 3-D view of the first seed's GA network.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from debinn_jax import plots

    names = []
    if task.kind == "moons":
        panels = [(m, outcomes[m]) for m in ("ga", "gd", "mlp") if m in outcomes]
        panels = [(m, o) for m, o in panels if o.predict_proba is not None]
        if panels:
            fig = Figure(figsize=(5.2 * len(panels), 4.4))
            FigureCanvasAgg(fig)
            axes = np.atleast_1d(fig.subplots(1, len(panels)))
            for ax, (m, o) in zip(axes, panels):
                rec = o.records[0]
                title = f"{METHOD_LABELS[m]}: test acc. {rec['test_accuracy']:.2f}"
                plots.plot_decision_boundary(o.predict_proba, split.X_test, split.y_test, ax, title)
            fig.suptitle(
                f"Two-moons decision boundaries (seed {split.seed}, test split, standardised "
                "features)"
            )
            fig.tight_layout()
            name = "moons_decision_boundaries.png"
            plots.save_figure(fig, out / name)
            names.append(name)
    histories: dict[str, dict[str, np.ndarray]] = {}
    if "ga" in outcomes and outcomes["ga"].history is not None:
        h = outcomes["ga"].history
        histories["GA (best of population, per generation)"] = {
            "training loss": h["train_fitness"],
            "validation loss": h["val_fitness"],
        }
    if "gd" in outcomes and outcomes["gd"].history is not None:
        h = outcomes["gd"].history
        histories["GD (per epoch)"] = {
            "training loss": h["train_loss"],
            "validation loss": h["val_loss"],
        }
    if histories:
        fig = plots.plot_training_curves(
            histories,
            xlabel="generation (GA) / epoch (GD)",
            log_y=("training loss", "validation loss"),
        )
        fig.suptitle(f"{task.title}: DEBI loss during training (seed {split.seed})", y=1.03)
        name = f"{task.name}_training_curves.png"
        plots.save_figure(fig, out / name)
        names.append(name)
    if "ga" in outcomes and outcomes["ga"].model is not None:
        name = f"{task.name}_network_3d.png"
        sizes = "-".join(str(n) for n in spec_ga.layer_sizes)
        plots.plot_network_3d(
            spec_ga,
            outcomes["ga"].model.coords,
            out / name,
            title=(
                f"{task.title}: GA-trained DEBI-NN {sizes} (seed {split.seed}); "
                "somas, axons, 3 strongest inputs per neuron"
            ),
            feature_names=feature_names,
            class_names=class_names,
        )
        names.append(name)
    return names
