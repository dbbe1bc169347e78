"""A grid's results set against the authors' own ``summary.csv``, row by row.

Used after a replay (``debinn grid --replay``): :func:`compare_rows` says for every setting
whether all six published test metrics (SNS, SPC, PPV, NPV, ACC, BACC) are reproduced
(``"exact"``), whether they are those of the setting's DropConnect twin (``"twin"``: DropConnect
is inert, so S and S +- 16 are the same training; the authors' own two runs of such a pair
occasionally differ), or neither (``"differs"``), with the run's stop, final candidate and the
closest near tie of its decisions (:func:`~debinn_jax.execution.grid.near_ties`);
:func:`replay_report` writes it as Markdown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from debinn_jax.data.dataset import DataError

METRICS = ("SNS", "SPC", "PPV", "NPV", "ACC", "BACC")
#: Metrics in % agree when they differ by less than this (a one-case change moves them by
#: 100 / n_test, at least about 0.1 for any test split below 1000 cases).
PERCENT_TOLERANCE = 1e-6
DROPCONNECT_BIT = 16


def read_authors_summary(path: str | Path) -> dict[str, dict[str, float]]:
    """The authors' ``summary.csv`` (``;``-separated; ``Key`` then ``<M> (m)`` columns in %):
    ``{key: {metric: value in %}}`` for the six metrics.

    Raises:
        DataError: the file is missing, or lacks the ``Key`` column or a metric column.
    """
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    except OSError as err:
        raise DataError(f"{path}: cannot read the authors' summary ({err.strerror})") from None
    if not lines:
        raise DataError(f"{path}: empty; expected the authors' summary.csv")
    header = [h.strip() for h in lines[0].split(";")]
    missing = [f"{m} (m)" for m in METRICS if f"{m} (m)" not in header]
    if header[0] != "Key" or missing:
        raise DataError(
            f"{path}: not an authors' summary.csv (expected 'Key' and the columns "
            f"{[f'{m} (m)' for m in METRICS]}; missing {missing or ['Key']})"
        )
    cols = {m: header.index(f"{m} (m)") for m in METRICS}
    out: dict[str, dict[str, float]] = {}
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(";")
        try:
            out[cells[0].strip()] = {m: float(cells[c]) for m, c in cols.items()}
        except (ValueError, IndexError):
            raise DataError(f"{path}: line {n}: expected numbers in the metric columns") from None
    return out


def setting_number(name: str) -> int | None:
    """The setting number S of a column name (``2H-Hinton-S21`` -> 21), or None."""
    m = re.search(r"S(\d+)$", name)
    return int(m.group(1)) if m else None


def twin_name(name: str) -> str | None:
    """The column whose settings differ only in DropConnect (S = 1 + bits, bit 4)."""
    s = setting_number(name)
    if s is None:
        return None
    twin = 1 + ((s - 1) ^ DROPCONNECT_BIT)
    return name[: len(name) - len(str(s))] + str(twin)


def _same(ours: Mapping[str, float], theirs: Mapping[str, float]) -> bool:
    for m in METRICS:
        a, b = 100.0 * float(ours[m]), float(theirs[m])
        if math.isnan(a) and math.isnan(b):
            continue
        if not abs(a - b) < PERCENT_TOLERANCE:
            return False
    return True


def compare_rows(
    records: Sequence[Mapping[str, Any]], authors: Mapping[str, Mapping[str, float]], data: str
) -> list[dict[str, Any]]:
    """One row per record: ``name``, ``status`` (``exact``/``twin``/``differs``/``missing``),
    ours and the authors' BACC (%), the stop iteration, last entry, final candidate and
    near ties of the record (see :func:`debinn_jax.execution.grid.run_grid`)."""
    rows = []
    for r in sorted(records, key=lambda r: (setting_number(r["name"]) or 0, r["name"])):
        key = f"{data}-{r['name']}"
        theirs = authors.get(key)
        twin = twin_name(r["name"])
        twin_theirs = authors.get(f"{data}-{twin}") if twin else None
        if theirs is None:
            status = "missing"
        elif _same(r["test"], theirs):
            status = "exact"
        elif twin_theirs is not None and _same(r["test"], twin_theirs):
            status = "twin"
        else:
            status = "differs"
        rows.append(
            {
                "name": r["name"],
                "fold": r.get("fold"),
                "status": status,
                "ours_bacc": 100.0 * float(r["test"]["BACC"]),
                "authors_bacc": None if theirs is None else theirs["BACC"],
                "twin": twin,
                "twin_agrees_with_authors": (
                    None
                    if theirs is None or twin_theirs is None
                    else all(abs(theirs[m] - twin_theirs[m]) < PERCENT_TOLERANCE for m in METRICS)
                ),
                "stop_iteration": r.get("stop_iteration"),
                "last_entry": r.get("last_entry"),
                "candidate": r.get("candidate"),
                "near_ties": r.get("near_ties"),
            }
        )
    return rows


def counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many rows have each status."""
    out = {s: 0 for s in ("exact", "twin", "differs", "missing")}
    for r in rows:
        out[r["status"]] += 1
    return out


def _gap(entry: Any) -> str:
    if not entry:
        return "-"
    return f"{entry[0]:.1e} (it. {entry[1]})"


def replay_report(rows: Sequence[Mapping[str, Any]], title: str) -> str:
    """Markdown: the match counts, then every row that is not exact with its near ties, then
    the full table."""
    c = counts(rows)
    compared = len(rows) - c["missing"]
    lines = [
        f"# {title}",
        "",
        f"{c['exact']} of {compared} rows reproduce all six published test metrics exactly, "
        f"{c['twin']} those of their DropConnect twin, {c['differs']} differ"
        + (f" ({c['missing']} not in the authors' summary)" if c["missing"] else "")
        + ".",
        "",
        "Near ties: the smallest gap of each decision kind over the run (tournament ranking by "
        "training fitness, |V - alpha0|, ||V - T| - tol|) with its iteration, and the first "
        "iteration where one was below 1e-14 (close enough for the last bits of the "
        "arithmetic to flip it).",
        "",
        "| setting | status | ours BACC | authors | stop | last entry | candidate | rank gap | "
        "alpha gap | tol gap | first near tie |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    order = sorted(rows, key=lambda r: (r["status"] == "exact", setting_number(r["name"]) or 0))
    for r in order:
        nt = r.get("near_ties") or {}
        first = nt.get("first_close")
        authors = "-" if r["authors_bacc"] is None else f"{r['authors_bacc']:.2f}"
        lines.append(
            f"| {r['name']} | {r['status']} | {r['ours_bacc']:.2f} | {authors} | "
            f"{r.get('stop_iteration', '-')} | {r.get('last_entry', '-')} | "
            f"{r.get('candidate', '-')} | {_gap(nt.get('rank'))} | {_gap(nt.get('alpha'))} | "
            f"{_gap(nt.get('tol'))} | {'-' if not first else f'it. {first[0]} ({first[1]})'} |"
        )
    return "\n".join(lines) + "\n"
