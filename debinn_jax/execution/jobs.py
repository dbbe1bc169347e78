"""Execution folders as jobs: one grid's settings, data and reference results, and the set of
grids of an ``Executions`` folder with its overall table.

:func:`prepare_job` reads an execution folder (or ``executionSettings.csv``) into a
:class:`GridJob`: its runs (``--only`` applied by
:func:`~debinn_jax.execution.settings.select_columns`), its folds (:func:`resolve_folds`:
``--data``, else the folder's ``DataPool``, else the ``Datasets`` folder of the authors'
repository above it) and the authors' ``summary.csv`` (:func:`authors_summary`: next to the
settings, or ``<reference>/<grid>/summary.csv``). :func:`pending_work` says how much of a job
is left in its output folder (for the ETA of a set); :func:`overview_row` and
:func:`overview_markdown` / :func:`overview_csv` set each grid's test BACC against the
authors'.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data.dataset import DataError, Fold
from debinn_jax.data.locate import (
    LayoutError,
    find_data_dir,
    find_folds,
    match_score,
    repository_datasets,
)
from debinn_jax.execution.settings import ExecutionSettings, read_execution_settings
from debinn_jax.execution.translate import GridRun

#: The authors' results file next to their settings.
AUTHORS_SUMMARY = "summary.csv"


@dataclasses.dataclass(frozen=True, eq=False)
class GridJob:
    """One grid, ready to run.

    Attributes:
        name: the grid's name (its execution folder's name, ``DLBCL-2H-Hinton``).
        settings: its columns (all of them).
        runs: the runs to train (``--only`` applied).
        folds: ``(fold name, Fold)`` pairs.
        data_source: the folder the folds came from.
        authors_summary: the authors' ``summary.csv`` of this grid, or None.
    """

    name: str
    settings: ExecutionSettings
    runs: tuple[GridRun, ...]
    folds: tuple[tuple[str, Fold], ...]
    data_source: str
    authors_summary: Path | None

    @property
    def data_name(self) -> str:
        """The settings' ``Data`` value."""
        return self.settings.columns[0].get("Data", "data") if self.settings.columns else "data"


def grid_name(settings_path: str | Path) -> str:
    """A grid's name: the name of the folder holding its ``executionSettings.csv``."""
    return Path(settings_path).resolve().parent.name


def resolve_folds(
    execution: Path, data: str | Path | None, data_name: str, name: str
) -> tuple[list[Path], Path]:
    """The Fold folders of a grid, and the folder they were found in.

    ``data`` (``--data``): a Fold folder, a folder of Fold folders, a dataset folder or a
    folder of datasets (the authors' ``Datasets``, our ``shared/data``), matched to the grid by
    its ``Data`` value and name (:func:`~debinn_jax.data.locate.find_folds`). Without it: the
    execution folder's ``DataPool``, else the ``Datasets`` folder of the authors' repository
    that holds the execution folder (``<repo>/Executions/<GRID>`` -> ``<repo>/Datasets``),
    else the library's data folder (:func:`~debinn_jax.data.locate.find_data_dir`:
    ``$DEBINN_DATA_DIR``, or the data home that ``debinn data fetch`` fills).

    Raises:
        LayoutError: nothing found, or a ``Datasets`` folder without this grid's data.
    """
    hints = (data_name, name)
    if data is not None:
        return find_folds(data, hints), Path(data)
    pool = execution / "DataPool"
    if pool.is_dir():
        return find_folds(pool, hints), pool
    datasets = repository_datasets(execution)
    if datasets is None:
        ours = find_data_dir()
        if ours is not None and ours.is_dir():
            return find_folds(ours, hints), ours
        raise LayoutError(
            f"{execution}: no DataPool folder, no Datasets folder of the authors' "
            f"repository above it, and no fetched data (debinn data fetch) for data "
            f"{data_name!r}; pass --data with a Fold folder or the Datasets folder"
        )
    folds = find_folds(datasets, hints)
    top = datasets / folds[0].relative_to(datasets).parts[0]
    if match_score(top.name, (data_name,)) == 0:  # the grid's name alone is not enough
        raise LayoutError(
            f"{datasets}: no dataset folder for data {data_name!r} of {name} (found "
            f"{top.name}); pass --data with its Fold folder"
        )
    return folds, datasets


def authors_summary(execution: Path, name: str, reference: str | Path | None) -> Path | None:
    """The authors' ``summary.csv`` of a grid: ``<reference>/<name>/summary.csv`` when
    ``reference`` is given and has it, else the one next to the settings, else None."""
    candidates = []
    if reference is not None:
        candidates.append(Path(reference) / name / AUTHORS_SUMMARY)
    candidates.append(execution / AUTHORS_SUMMARY)
    return next((p for p in candidates if p.is_file()), None)


def prepare_job(
    settings_path: str | Path,
    *,
    data: str | Path | None = None,
    only: Sequence[str] | None = None,
    reference: str | Path | None = None,
    iterations: int | None = None,
) -> GridJob:
    """Read an execution folder (or its ``executionSettings.csv``) into a :class:`GridJob`.

    ``iterations`` replaces every column's ``Optimizer/IterationCount`` (a short benchmark).

    Raises:
        DataError: unreadable settings or data; LayoutError: no data found;
        SettingsError: a column that cannot be run; ValueError: a bad ``only`` name.
    """
    from debinn_jax.data import load_fold
    from debinn_jax.execution.settings import select_columns
    from debinn_jax.execution.translate import grid_runs

    settings = read_execution_settings(settings_path)
    if not settings.names:
        raise DataError(f"{settings.path}: no setting columns")
    if iterations is not None:
        columns = tuple(
            {**c, "Optimizer/IterationCount": str(int(iterations))} for c in settings.columns
        )
        settings = dataclasses.replace(settings, columns=columns)
    execution = Path(settings.path).parent
    name = grid_name(settings.path)
    data_name = settings.columns[0].get("Data", "data")
    fold_paths, source = resolve_folds(execution, data, data_name, name)
    folds = tuple((p.name, load_fold(p)) for p in fold_paths)
    first = folds[0][1]
    runs = grid_runs(settings, first.n_features, first.n_classes)
    if only:
        chosen = set(select_columns(only, settings.names, settings.path))
        runs = [r for r in runs if r.name in chosen]
    return GridJob(
        name=name,
        settings=settings,
        runs=tuple(runs),
        folds=folds,
        data_source=str(source),
        authors_summary=authors_summary(execution, name, reference),
    )


def finished_pairs(out: Path) -> set[tuple[str, str]]:
    """The (column, fold) runs in ``out/results.json`` (none when absent).

    Raises:
        DataError: a file that is not a grid results file.
    """
    path = out / "results.json"
    if not path.is_file():
        return set()
    try:
        records = json.loads(path.read_text())["records"]
        return {(str(r["name"]), str(r["fold"])) for r in records if "test" in r}
    except (json.JSONDecodeError, KeyError, TypeError):
        raise DataError(
            f"{path}: not a results file of 'debinn grid'; move it away or choose another --out"
        ) from None


def pending_work(job: GridJob, out: Path, restart: bool = False) -> tuple[float, int, int]:
    """``(work, runs_done, runs_total)`` of a job whose output folder is ``out``: the work
    units (:func:`~debinn_jax.execution.progress.run_units`) of its runs not yet in
    ``out/results.json``, and its runs done and in all (done ∪ to do)."""
    from debinn_jax.execution.progress import run_units

    done = set() if restart else finished_pairs(out)
    wanted = {(r.name, f) for f, _ in job.folds for r in job.runs}
    labels = {f: np.asarray(fold.train.y) for f, fold in job.folds}
    by_name = {r.name: r for r in job.runs}
    units = sum(run_units(by_name[n], labels[f]) for n, f in wanted - done)
    return units, len(done), len(done | wanted)


def authors_bacc(job: GridJob) -> dict[str, float]:
    """The authors' test BACC per column of ``job`` (those in their summary.csv)."""
    from debinn_jax.execution.compare import read_authors_summary

    if job.authors_summary is None:
        return {}
    table = read_authors_summary(job.authors_summary)  # in %
    prefix = f"{job.data_name}-"
    return {key.removeprefix(prefix): m["BACC"] / 100.0 for key, m in table.items()}


OVERVIEW_COLUMNS = (
    "grid",
    "settings",
    "runs",
    "ours_median",
    "ours_mean",
    "authors_settings",
    "authors_median",
    "authors_mean",
    "median_gap",
)


def overview_row(job: GridJob, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One grid of the overall table: our test BACC (median, mean over the job's columns, and
    folds) against the authors' over the same columns (where their summary.csv has them)."""
    names = {r.name for r in job.runs}
    ours = [r for r in records if r["name"] in names]
    bacc = np.array([r["test"]["BACC"] for r in ours], float)
    theirs = authors_bacc(job)
    same = [theirs[n] for n in sorted(names) if n in theirs]
    row: dict[str, Any] = {
        "grid": job.name,
        "settings": len({r["name"] for r in ours}),
        "runs": len(ours),
        "ours_median": float(np.nanmedian(bacc)) if len(bacc) else None,
        "ours_mean": float(np.nanmean(bacc)) if len(bacc) else None,
        "authors_settings": len(same),
        "authors_median": float(np.median(same)) if same else None,
        "authors_mean": float(np.mean(same)) if same else None,
    }
    both = row["ours_median"] is not None and row["authors_median"] is not None
    row["median_gap"] = row["ours_median"] - row["authors_median"] if both else None
    return row


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def overview_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The overall table as markdown (test BACC; "-" where the authors' summary is missing)."""
    head = (
        "| grid | settings | ours median | ours mean | authors median | authors mean | "
        "median gap |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        gap = "-" if r["median_gap"] is None else f"{r['median_gap']:+.3f}"
        authors = "" if not r["authors_settings"] else f" ({r['authors_settings']})"
        lines.append(
            f"| {r['grid']} | {r['settings']} | {_cell(r['ours_median'])} | "
            f"{_cell(r['ours_mean'])} | {_cell(r['authors_median'])}{authors} | "
            f"{_cell(r['authors_mean'])} | {gap} |"
        )
    return "\n".join(lines) + "\n"


def overview_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The overall table as CSV (``,``-separated, empty cells where there is no value)."""
    lines = [",".join(OVERVIEW_COLUMNS)]
    for r in rows:
        cells = []
        for c in OVERVIEW_COLUMNS:
            v = r.get(c)
            cells.append("" if v is None else (repr(v) if isinstance(v, float) else str(v)))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
