"""Compare `debinn grid` results with the authors' own grid results (issue: the 2025 GA).

Usage::

    python experiments/grid_compare.py RUNS_DIR [--reference ../shared/reference/grid]
        [--out experiments/results/grid2025]

``RUNS_DIR`` holds one folder per grid (``DLBCL-2H-Hinton/results.json`` ...), as written by
``debinn grid ... --out RUNS_DIR/<DATASET>-<ARCH>``. For every grid found in both places this
prints and writes (``comparison.md``, ``comparison.json``, ``boxplot.png``): test balanced
accuracy over the settings, ours vs theirs (median, mean, quartiles, a two-sample
Kolmogorov-Smirnov test, a bootstrap 95 % interval of the median gap), the per-dataset pooled
medians, and the targets (a grid's median at least the authors' minus 0.03, the pooled median
per dataset at least the authors' minus 0.02). Timings come from each results.json.

The authors ran every setting with the same seed, and DropConnect (bit 4 of ``S - 1``) is inert
in their program: settings ``S`` and ``S + 16`` gave identical results in 61-64 of the 64 pairs
of every grid. Their 128 results per grid are therefore about 64 distinct runs. The bootstrap
resamples such pairs as units, the KS test compares the 64 DropConnect-off settings of each
side, and the table counts the identical pairs on both sides.

With ``--paired OTHER_RUNS_DIR`` (the same grids run again, e.g. in another precision or with
another seed) it also compares the two runs of each setting (``paired.md``): the per-setting
correlation, the mean and sd of the differences, a Wilcoxon signed-rank test and the bootstrap
interval of the median difference. One GA run per setting is noisy; this says how much of a
gap between two grids the run-to-run noise alone explains.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ARCHS = ("1H", "2H-Block", "2H-Hinton", "3H-Block", "3H-Hinton")
DATASETS = ("DLBCL", "HECKTOR-LITE")
GRID_MARGIN, POOLED_MARGIN = 0.03, 0.02
BOOTSTRAP = 4000  # resamples for the median-gap intervals (seeded: the same numbers every run)


#: The per-setting test metrics the comparison reads from both sides (fractions).
METRICS = ("BACC", "SNS", "SPC", "ACC")


def cost_timing(path: Path) -> dict | None:
    """The wall and compilation seconds over every session of a grid folder, from its cost
    report (``cost.json``, written by ``debinn grid``), in ``results.json``'s timing keys; None
    without one. (Before 2026-12-07 a resume that trained nothing overwrote ``results.json``'s
    timing with its own zero seconds; the cost report kept every session.)"""
    if not path.is_file():
        return None
    total = json.loads(path.read_text()).get("total", {}).get("seconds", {})
    if "wall" not in total:
        return None
    return {"seconds": total["wall"], "compile_seconds": total.get("compile", float("nan"))}


def authors_metrics(path: Path, metrics: tuple[str, ...] = METRICS) -> dict[str, tuple[float, ...]]:
    """The authors' test metrics per setting as fractions (``summary.csv``: ``<M> (m)`` in %)."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = lines[0].split(";")
    cols = [header.index(f"{m} (m)") for m in metrics]
    out = {}
    for ln in lines[1:]:
        cells = ln.split(";")
        out[cells[0]] = tuple(float(cells[c]) / 100.0 for c in cols)
    return out


def authors_bacc(path: Path) -> dict[str, float]:
    """The authors' test BACC per setting (``summary.csv``: ``BACC (m)`` in %)."""
    return {k: v[0] for k, v in authors_metrics(path, ("BACC",)).items()}


def ours_metrics(
    path: Path, metrics: tuple[str, ...] = METRICS
) -> tuple[dict[str, tuple[float, ...]], dict]:
    """Our test metrics per setting, keyed like the authors' summary (``<Data>-<column>``),
    and the run's timing."""
    doc = json.loads(path.read_text())
    values = {
        f"{doc['data']}-{r['name']}": tuple(r["test"][m] for m in metrics) for r in doc["records"]
    }
    return values, doc.get("timing", {})


def split_prevalence(rates: np.ndarray) -> float:
    """The share of class 1 (the positive class of SNS) in the test split, from the metrics.

    ``ACC = SNS * pi + SPC * (1 - pi)`` gives ``pi = (ACC - SPC) / (SNS - SPC)`` for every run
    whose sensitivity and specificity differ; the median over such runs is returned.

    Args:
        rates: ``(n, 3)`` rows of (SNS, SPC, ACC) of runs on one test split.

    Raises:
        ValueError: when no run has ``|SNS - SPC| >= 0.05`` (the share is then undetermined).
    """
    sns, spc, acc = rates[:, 0], rates[:, 1], rates[:, 2]
    usable = np.abs(sns - spc) >= 0.05
    if not usable.any():
        raise ValueError("every run has SNS == SPC: the test split's class shares are unknown")
    return float(np.median((acc[usable] - spc[usable]) / (sns[usable] - spc[usable])))


def predicted_class1_share(rates: np.ndarray, prevalence: float) -> np.ndarray:
    """Share of test cases each run predicts as class 1: ``SNS pi + (1 - SPC)(1 - pi)``.

    Args:
        rates: ``(n, 3)`` rows of (SNS, SPC, ACC).
        prevalence: the share of class 1 in the test split (:func:`split_prevalence`).

    Returns:
        ``(n,)`` shares in [0, 1].
    """
    return rates[:, 0] * prevalence + (1.0 - rates[:, 1]) * (1.0 - prevalence)


def ours_bacc(path: Path) -> tuple[dict[str, float], dict]:
    """Our test BACC per setting, keyed like the authors' summary, and the run's timing."""
    values, timing = ours_metrics(path, ("BACC",))
    return {k: v[0] for k, v in values.items()}, timing


def stats(x: np.ndarray) -> dict[str, float]:
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return {"n": int(x.size), "median": med, "mean": x.mean(), "q1": q1, "q3": q3}


def setting_number(key: str) -> int:
    """The setting number ``S`` of a key such as ``HECKTOR-3H-Hinton-S37``."""
    return int(key.rsplit("-S", 1)[1])


def dropconnect_pair(key: str) -> int:
    """The setting number with the DropConnect bit (bit 4, ``S - 1``'s value 16) cleared.

    The authors' program ran every setting with the same seed and DropConnect is inert there,
    so settings ``S`` and ``S + 16`` mostly gave identical results (61-64 of 64 pairs per grid):
    their 128 results per grid are about 64 distinct runs. Resampling such pairs as units keeps
    a bootstrap from counting each authors' run twice.
    """
    return (setting_number(key) - 1) & ~16


def identical_pairs(values: dict[str, float]) -> tuple[int, int]:
    """How many DropConnect pairs (``S``, ``S + 16``) of ``values`` hold equal results."""
    by_pair: dict[int, list[float]] = {}
    for key, v in values.items():
        by_pair.setdefault(dropconnect_pair(key), []).append(v)
    pairs = [v for v in by_pair.values() if len(v) == 2]
    return sum(v[0] == v[1] for v in pairs), len(pairs)


def median_gap_interval(
    a: np.ndarray,
    b: np.ndarray,
    seed: int = 0,
    n: int = BOOTSTRAP,
    clusters: np.ndarray | None = None,
) -> tuple[float, float]:
    """Bootstrap 95 % interval of ``median(a) - median(b)``, each sample resampled on its own.

    Args:
        a, b: ``(n_a,)`` and ``(n_b,)`` values (two independent sets of runs); with
            ``clusters``, ``n_a == n_b`` (the same settings).
        seed: NumPy seed of the resampling.
        n: number of resamples.
        clusters: ``(m,)`` integer cluster of each setting, or None (every setting its own);
            whole clusters are resampled (e.g. :func:`dropconnect_pair`, so that two settings
            the authors' program ran as one run count once).
    """
    rng = np.random.default_rng(seed)
    if clusters is None:
        ia = rng.integers(0, a.size, (n, a.size))
        ib = rng.integers(0, b.size, (n, b.size))
        gaps = np.median(a[ia], axis=1) - np.median(b[ib], axis=1)
        lo, hi = np.percentile(gaps, [2.5, 97.5])
        return float(lo), float(hi)
    ids = np.unique(clusters)
    members = [np.flatnonzero(clusters == c) for c in ids]
    gaps = np.empty(n)
    for t in range(n):
        pick_a = np.concatenate([members[c] for c in rng.integers(0, ids.size, ids.size)])
        pick_b = np.concatenate([members[c] for c in rng.integers(0, ids.size, ids.size)])
        gaps[t] = np.median(a[pick_a]) - np.median(b[pick_b])
    lo, hi = np.percentile(gaps, [2.5, 97.5])
    return float(lo), float(hi)


#: The grid's switches by bit of ``S - 1`` (bit 4, DropConnect, is inert and left out).
SWITCHES = {0: "shift-scale", 1: "standardisation", 2: "group norm", 3: "spatial dropout",
            5: "L2", 6: "L1"}  # fmt: skip


def switch_gaps(ours: dict[str, float], theirs: dict[str, float]) -> dict[str, list[float]]:
    """Median gap (ours - theirs) over the settings with each switch on, and with it off.

    Args:
        ours, theirs: test BACC per setting key (``...-S<n>``), the same keys on both sides.

    Returns:
        ``{switch name: [gap with the switch on, gap with it off]}``.
    """
    out = {}
    for bit, name in SWITCHES.items():
        gaps = []
        for on in (True, False):
            keys = [k for k in ours if bool((setting_number(k) - 1) >> bit & 1) == on]
            gaps.append(
                float(np.median([ours[k] for k in keys]) - np.median([theirs[k] for k in keys]))
            )
        out[name] = gaps
    return out


def class_shares(
    ours: dict[str, tuple[float, ...]], theirs: dict[str, tuple[float, ...]], keys: list[str]
) -> dict[str, float]:
    """Mean share of test cases predicted as class 1, ours vs the authors', over ``keys``.

    A Mann-Whitney test compares the two sets of shares (``keys`` should be the DropConnect-off
    settings, one per authors' run). Balanced accuracy does not show which class a program's
    networks favour; this does.

    Args:
        ours, theirs: (SNS, SPC, ACC) per setting key.
        keys: the settings to compare.
    """
    from scipy.stats import mannwhitneyu

    a = np.array([ours[k] for k in keys])
    b = np.array([theirs[k] for k in keys])
    prevalence = split_prevalence(np.concatenate([a, b]))
    sa, sb = predicted_class1_share(a, prevalence), predicted_class1_share(b, prevalence)
    return {
        "test_prevalence": prevalence,
        "ours": float(sa.mean()),
        "authors": float(sb.mean()),
        "mannwhitney_p": float(mannwhitneyu(sa, sb).pvalue),
    }


def paired_rows(runs: Path, other: Path) -> list[dict]:
    """Per grid found in both folders: the two runs of every setting side by side."""
    from scipy.stats import wilcoxon

    rows = []
    for data in DATASETS:
        for arch in ARCHS:
            name = f"{data}-{arch}"
            if not (
                (runs / name / "results.json").is_file()
                and (other / name / "results.json").is_file()
            ):
                continue
            first, _ = ours_bacc(runs / name / "results.json")
            second, _ = ours_bacc(other / name / "results.json")
            common = sorted(set(first) & set(second))
            if len(common) < 2:
                continue
            a = np.array([first[k] for k in common])
            b = np.array([second[k] for k in common])
            d = b - a
            lo, hi = median_gap_interval(b, a)
            rows.append(
                {
                    "grid": name,
                    "n": len(common),
                    "median_first": float(np.median(a)),
                    "median_second": float(np.median(b)),
                    "correlation": float(np.corrcoef(a, b)[0, 1]),
                    "diff_mean": float(d.mean()),
                    "diff_sd": float(d.std(ddof=1)),
                    "wilcoxon_p": float(wilcoxon(a, b).pvalue) if np.any(d != 0) else 1.0,
                    "median_diff_ci95": [lo, hi],
                }
            )
    return rows


def paired_table(rows: list[dict], first: str, second: str) -> str:
    """Markdown table of :func:`paired_rows`."""
    lines = [
        f"Paired runs of the same settings: first = {first}, second = {second} "
        "(test BACC; difference = second - first)",
        "",
        "| grid | settings | median first | median second | per-setting correlation | "
        "difference mean (sd) | Wilcoxon p | median difference 95 % CI |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        lo, hi = r["median_diff_ci95"]
        lines.append(
            f"| {r['grid']} | {r['n']} | {r['median_first']:.3f} | {r['median_second']:.3f} | "
            f"{r['correlation']:.2f} | {r['diff_mean']:+.3f} ({r['diff_sd']:.3f}) | "
            f"{r['wilcoxon_p']:.2f} | {lo:+.3f} to {hi:+.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    from scipy.stats import ks_2samp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path)
    ap.add_argument("--reference", type=Path, default=Path("../shared/reference/grid"))
    ap.add_argument("--out", type=Path, default=Path("experiments/results/grid2025"))
    ap.add_argument("--paired", type=Path, default=None, help="a second run of the same grids")
    args = ap.parse_args()
    rows, boxes = [], []
    pooled: dict[str, tuple[list, list, list]] = {d: ([], [], []) for d in DATASETS}
    for data in DATASETS:
        for arch in ARCHS:
            name = f"{data}-{arch}"
            ours_path = args.runs / name / "results.json"
            ref_path = args.reference / name / "summary.csv"
            if not (ours_path.is_file() and ref_path.is_file()):
                continue
            ours_all, timing = ours_metrics(ours_path)
            timing = cost_timing(args.runs / name / "cost.json") or timing
            theirs_all = authors_metrics(ref_path)
            ours = {k: v[0] for k, v in ours_all.items()}  # BACC
            theirs = {k: v[0] for k, v in theirs_all.items()}
            common = sorted(set(ours) & set(theirs))
            if not common:
                continue
            a = np.array([ours[k] for k in common])
            b = np.array([theirs[k] for k in common])
            pair = np.array([dropconnect_pair(k) for k in common])
            # the authors' DropConnect-on half repeats the off half: test on the off halves
            off = np.array([dropconnect_pair(k) == setting_number(k) - 1 for k in common])
            ks = ks_2samp(a[off], b[off])
            so, st = stats(a), stats(b)
            gap_lo, gap_hi = median_gap_interval(a, b, clusters=pair)
            share = class_shares(
                {k: v[1:] for k, v in ours_all.items()},  # (SNS, SPC, ACC)
                {k: v[1:] for k, v in theirs_all.items()},
                [k for k, o in zip(common, off) if o],
            )
            same_ours, n_pairs = identical_pairs({k: ours[k] for k in common})
            same_theirs, _ = identical_pairs({k: theirs[k] for k in common})
            rows.append(
                {
                    "grid": name,
                    "complete": len(common) == len(theirs),
                    "ours": so,
                    "authors": st,
                    "ks_statistic": float(ks.statistic),
                    "ks_pvalue": float(ks.pvalue),
                    "ks_settings": int(off.sum()),
                    "identical_dropconnect_pairs": {
                        "ours": same_ours,
                        "authors": same_theirs,
                        "pairs": n_pairs,
                    },
                    "predicted_class1_share": share,
                    "switch_gaps": switch_gaps(
                        {k: ours[k] for k in common}, {k: theirs[k] for k in common}
                    ),
                    "median_gap": so["median"] - st["median"],
                    "median_gap_ci95": [gap_lo, gap_hi],
                    "meets_target": bool(so["median"] >= st["median"] - GRID_MARGIN),
                    "timing": timing,
                }
            )
            pooled[data][0].extend(a)
            pooled[data][1].extend(b)
            pooled[data][2].extend(len(rows) * 128 + pair)
            boxes.append((name, a, b))
    pooled_rows = {}
    for data, (a, b, cl) in pooled.items():
        if not a:
            continue
        a, b = np.array(a), np.array(b)
        pooled_rows[data] = {
            "ours_median": float(np.median(a)),
            "authors_median": float(np.median(b)),
            "n": int(a.size),
            "median_gap_ci95": list(median_gap_interval(a, b, clusters=np.array(cl))),
            "meets_target": bool(np.median(a) >= np.median(b) - POOLED_MARGIN),
        }
    lines = [
        "| grid | ours median | authors median | gap (95 % CI) | ours mean | authors mean | "
        "ours Q1-Q3 | authors Q1-Q3 | KS D (p) | identical pairs ours/authors | target | wall s | "
        "compile s | s/setting |",
        "|---|---:|---:|---:|---:|---:|---|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        o, t, tm = r["ours"], r["authors"], r["timing"]
        same = r["identical_dropconnect_pairs"]
        wall = tm.get("seconds", float("nan"))
        partial = "" if r["complete"] else f" ({o['n']} settings so far)"
        comp = tm.get("compile_seconds", float("nan"))
        lo, hi = r["median_gap_ci95"]
        lines.append(
            f"| {r['grid']} | {o['median']:.3f} | {t['median']:.3f} | "
            f"{r['median_gap']:+.3f} ({lo:+.3f} to {hi:+.3f}) | "
            f"{o['mean']:.3f} | {t['mean']:.3f} | {o['q1']:.3f}-{o['q3']:.3f} | "
            f"{t['q1']:.3f}-{t['q3']:.3f} | {r['ks_statistic']:.2f} ({r['ks_pvalue']:.2g}) | "
            f"{same['ours']}/{same['authors']} of {same['pairs']} | "
            f"{'met' if r['meets_target'] else 'MISSED'}{partial} | "
            f"{wall:.0f} | {comp:.0f} | "
            f"{wall / max(o['n'], 1):.2f} |"
        )
    lines.append("")
    lines.append(
        "| dataset | settings | ours pooled median | authors pooled median | gap (95 % CI) "
        "| target |"
    )
    lines.append("|---|---:|---:|---:|---|---|")
    for data, p in pooled_rows.items():
        lo, hi = p["median_gap_ci95"]
        gap = p["ours_median"] - p["authors_median"]
        lines.append(
            f"| {data} | {p['n']} | {p['ours_median']:.3f} | {p['authors_median']:.3f} | "
            f"{gap:+.3f} ({lo:+.3f} to {hi:+.3f}) | {'met' if p['meets_target'] else 'MISSED'} |"
        )
    lines += [
        "",
        "Share of test cases predicted as class 1 (the positive class of SNS), mean over the "
        "DropConnect-off settings; Mann-Whitney test ours vs the authors':",
        "",
        "| grid | class 1 in the test split | ours | authors | Mann-Whitney p |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        sh = r["predicted_class1_share"]
        lines.append(
            f"| {r['grid']} | {sh['test_prevalence']:.3f} | {sh['ours']:.3f} | "
            f"{sh['authors']:.3f} | {sh['mannwhitney_p']:.2g} |"
        )
    lines += [
        "",
        "Median gap (ours - authors) over the 64 settings with each switch on / off:",
        "",
        "| grid | " + " | ".join(SWITCHES.values()) + " |",
        "|---|" + "---|" * len(SWITCHES),
    ]
    for r in rows:
        cells = [f"{on:+.3f} / {off:+.3f}" for on, off in r["switch_gaps"].values()]
        lines.append(f"| {r['grid']} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    from debinn_jax.io import write_json_atomic, write_text_atomic

    write_text_atomic(args.out / "comparison.md", text)
    write_json_atomic(args.out / "comparison.json", {"grids": rows, "pooled": pooled_rows})
    if args.paired is not None:
        pairs = paired_rows(args.runs, args.paired)
        ptext = paired_table(pairs, str(args.runs), str(args.paired))
        print(ptext)
        write_text_atomic(args.out / "paired.md", ptext)
        write_json_atomic(args.out / "paired.json", {"grids": pairs})
    if boxes:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(12, 4.5))
        data, labels, colors = [], [], []
        for name, a, b in boxes:
            data += [a, b]
            labels += [f"{name}\nours", f"{name}\nauthors"]
            colors += ["tab:blue", "tab:orange"]
        bp = ax.boxplot(data, patch_artist=True, widths=0.6)
        for patch, c in zip(bp["boxes"], colors):
            patch.set_facecolor(c)
            patch.set_alpha(0.5)
        ax.set_xticks(range(1, len(labels) + 1), labels, rotation=90, fontsize=7)
        ax.set_ylabel("test balanced accuracy (Fold-1)")
        ax.set_title("2025 GA: debinn-jax (blue) vs the authors' program (orange), 128 settings")
        fig.tight_layout()
        fig.savefig(args.out / "boxplot.png", dpi=110)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
