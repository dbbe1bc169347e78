"""Running a grid: every :class:`~debinn_jax.execution.translate.GridRun` on every fold.

:func:`run_grid` trains the runs with batched, compiled sweeps (``sweep.run_many``): runs in one
:func:`compile_group` (they differ only in numbers) share one compiled program. Results are
written after every batch (``results.json``, and ``summary.csv`` in the authors' column format,
:func:`summary_csv`); an interrupted grid resumes without redoing finished columns, and a batch
killed part-way resumes from its checkpoint. Also here: :func:`precision` (the grid's float
width) and :func:`compile_timer` (XLA compile time while a block runs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data.dataset import DataError, Fold
from debinn_jax.execution.translate import GridRun


def compile_group(run: GridRun) -> tuple[Any, Any]:
    """The compiled-program key of a run: its network structure with every switch that any
    column may flip enabled, and its config without numbers (``static_config``)."""
    from debinn_jax.ga import static_config

    spec = dataclasses.replace(
        run.spec, standardize_weights=True, normalization="activation", spatial_dropout=True
    )
    return spec, static_config(run.config.resolve(run.spec))


@contextlib.contextmanager
def precision(name: str) -> Iterator[None]:
    """Compute in ``"float64"`` or ``"float32"`` inside the block (``jax_enable_x64``); the
    caller's setting is restored afterwards."""
    import jax

    if name not in ("float32", "float64"):
        raise ValueError(f"precision must be 'float32' or 'float64', got {name!r}")
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", name == "float64")
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


@contextlib.contextmanager
def compile_timer() -> Iterator[dict[str, float]]:
    """Collect XLA compilation time and count while the block runs.

    Yields a dict ``{"seconds": ..., "programs": ...}`` filled as compilations happen (from
    the ``jax.monitoring`` event ``/jax/core/compile/backend_compile_duration``; tracing and
    lowering are not included). ``programs`` counts every compiled XLA program, small helper
    computations included.
    """
    import jax.monitoring

    out = {"seconds": 0.0, "programs": 0}

    def listener(name: str, duration: float, **_: Any) -> None:
        if name == "/jax/core/compile/backend_compile_duration":
            out["seconds"] += duration
            out["programs"] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield out
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def _binary_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The authors' summary metrics (class 1 positive for two classes), as fractions, plus
    ``AUC``, ``ECE``, ``Brier`` and ``MCC`` (not in the authors' summary.csv)."""
    from debinn_jax.metrics import classification_metrics

    m = classification_metrics(y, proba)
    keys = {
        "SNS": "sensitivity",
        "SPC": "specificity",
        "PPV": "ppv",
        "NPV": "npv",
        "ACC": "accuracy",
        "BACC": "balanced_accuracy",
    }
    out = {k: float(m[v]) for k, v in keys.items()}
    out.update(AUC=float(m["auc"]), ECE=float(m["ece"]), Brier=float(m["brier"]))
    out["MCC"] = float(m["mcc"])
    return out


SUMMARY_METRICS = ("SNS", "SPC", "PPV", "NPV", "ACC", "BACC")


def summary_csv(records: Sequence[Mapping[str, Any]], data_name: str) -> str:
    """The authors' ``summary.csv``: per column, test metrics in % as mean ``(m)``, standard
    deviation ``(o)`` and 95 % confidence half-width ``(CI95%)`` over folds (0 for one fold)."""
    head = ["Key"] + [f"{m} ({s})" for s in ("m", "o", "CI95%") for m in SUMMARY_METRICS]
    lines = [";".join(head)]
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        by_name.setdefault(r["name"], []).append(r)
    for name, recs in by_name.items():
        vals = {m: np.array([100.0 * r["test"][m] for r in recs]) for m in SUMMARY_METRICS}
        mean = [float(np.mean(vals[m])) for m in SUMMARY_METRICS]
        sd = [float(np.std(vals[m], ddof=1)) if len(recs) > 1 else 0.0 for m in SUMMARY_METRICS]
        ci = [1.96 * s / math.sqrt(len(recs)) for s in sd]
        cells = [f"{data_name}-{name}"] + [repr(v) for v in (*mean, *sd, *ci)]
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class GridResult:
    """Outcome of :func:`run_grid`: one record per (column, fold) and the timings."""

    records: tuple[dict[str, Any], ...]
    timing: dict[str, Any]


def _write_outputs(
    out: Path, records: list[dict[str, Any]], data_name: str, meta: dict[str, Any]
) -> None:
    from debinn_jax.io import write_json_atomic, write_text_atomic

    records = sorted(records, key=lambda r: (r["fold"], r["index"]))
    write_json_atomic(out / "results.json", {**meta, "records": records})
    write_text_atomic(out / "summary.csv", summary_csv(records, data_name))


def _finished(out: Path | None, meta: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Records of an earlier, interrupted run of the same grid (``results.json``).

    Raises:
        DataError: the file is not a grid results file, or it was written with another seed,
            data name, precision, key protocol, zero-spread rule, split rule or C++ rules
            than ``meta`` (resuming would mix two grids).
    """
    if out is None or not (out / "results.json").is_file():
        return []
    path = out / "results.json"
    try:
        doc = json.loads(path.read_text())
        records = doc["records"]
        assert isinstance(records, list)
        records = [r for r in records if {"name", "fold", "test"} <= set(r)]
    except (json.JSONDecodeError, KeyError, AssertionError, TypeError):
        raise DataError(
            f"{path}: not a results file of 'debinn grid'; move it away or choose another --out"
        ) from None
    if meta is not None:  # files from before these fields: per-column keys, weights 0
        doc.setdefault("keys", "per-column")
        doc.setdefault("zero_spread_weight", 0)
    if meta is not None:  # files from before the authors' splits
        doc.setdefault("splits", "random")
        doc.setdefault("cpp_rules", "msvc")
    for key in ("seed", "data", "dtype", "keys", "zero_spread_weight", "splits", "cpp_rules"):
        if meta is not None and key in doc and doc[key] != meta[key]:
            raise DataError(
                f"{path}: written by a grid with {key} {doc[key]!r}, this one has "
                f"{meta[key]!r}; pass --restart to start over, or choose another --out"
            )
    return records


#: A decision whose two sides differ by less than this (a fitness gap) could flip between two
#: float64 implementations that differ in the last bits (about 50 ulps of a fitness near 0.3).
NEAR_TIE = 1e-14


def near_ties(history: Mapping[str, np.ndarray], candidate_scores: Any = None) -> dict[str, Any]:
    """How close a 2025 run's decisions came to flipping, from its history (one run's
    ``(G,)`` arrays ``gap_rank``, ``gap_alpha``, ``gap_tol``; NaN/inf where none).

    Returns ``{"rank"|"alpha"|"tol": [smallest gap, its iteration], "first_close":
    [iteration, which] or None (the first iteration with a gap below :data:`NEAR_TIE`),
    "final": the gap between the two best final candidates' scores}``. Iterations are the
    authors' (generation - 1): ``rank`` is the smallest gap between two training fitnesses
    of the population ranked for the tournaments, ``alpha`` the smallest ``|V - alpha0|`` of
    an offspring, ``tol`` the smallest ``||V - T| - tol|`` of an offspring that beat alpha0.
    """
    out: dict[str, Any] = {}
    first: list[Any] | None = None
    for name in ("rank", "alpha", "tol"):
        gaps = np.asarray(history.get(f"gap_{name}", []), np.float64)
        gaps = np.where(np.isfinite(gaps), gaps, np.inf)
        if gaps.size == 0 or not np.isfinite(gaps.min()):
            out[name] = None
            continue
        g = int(np.argmin(gaps))
        out[name] = [float(gaps[g]), g - 1]
        close = np.flatnonzero(gaps < NEAR_TIE)
        if close.size and (first is None or close[0] - 1 < first[0]):
            first = [int(close[0]) - 1, name]
    out["first_close"] = first
    scores = None if candidate_scores is None else np.sort(np.asarray(candidate_scores))
    if scores is not None and np.sum(np.isfinite(scores)) >= 2:
        out["final"] = float(scores[1] - scores[0])
    else:
        out["final"] = None
    return out


def run_grid(
    runs: Sequence[GridRun],
    folds: Sequence[tuple[str, Fold]],
    *,
    out: str | Path | None = None,
    seed: int = 0,
    batch: int = 16,
    resume: bool = True,
    progress: Callable[[str], None] | None = None,
    shared_key: bool = False,
    replay: str | None = None,
) -> GridResult:
    """Train every run on every fold (one GA run each, as the authors did); score the test sets.

    Runs that share a compiled program (:func:`compile_group`) go through
    :func:`~debinn_jax.sweep.run_many` together, ``batch`` runs per call (``lax.map`` over
    runs: a stopped run costs nothing while the others continue). After every call the
    records so far are written to ``out`` (``results.json``, ``summary.csv``, atomically);
    with ``resume``, (column, fold) pairs already in ``out/results.json`` are skipped, and a
    batch that was killed part-way resumes from its checkpoint in ``out/checkpoints`` (written
    after every chunk of generations, removed once the batch's records are saved; without
    ``resume`` the folder is cleared first), bit-identical to an uninterrupted grid.

    Args:
        runs: from :func:`grid_runs`.
        folds: ``(name, Fold)`` pairs; features are used as they are (the authors' folds are
            z-scored already).
        out: output folder (created), or None to write nothing.
        seed: the run of column i (``GridRun.index``) on fold f uses
            ``fold_in(fold_in(key(seed), f), i)``.
        batch: runs per compiled call.
        resume: skip finished (column, fold) pairs found in ``out``.
        progress: called with one line per chunk of generations and one per finished call.
        shared_key: every column on fold f uses ``fold_in(key(seed), f)``, as the authors'
            program ran every setting with the same seed. Columns whose network and GA
            settings are then equal (they differ only in keys without effect, such as
            DropConnect) are the same run: it is trained once and its record repeated, with
            ``same_run_as`` naming the column that was trained.
        replay: ``"msvc"`` or ``"libstdc++"``: repeat the authors' runs exactly with their
            random streams (``GAConfig.replay``; float64 only; ``seed`` and keys are unused).
            Columns with equal settings are then one run, as with ``shared_key``.

    Returns:
        A :class:`GridResult`; records hold ``name``, ``fold``, ``test``/``train`` metrics
        (fractions), ``generations_run``, ``stop_iteration`` (the authors' iteration before
        which the run stopped), ``last_entry`` (the iteration of the last hall-of-fame
        entry), ``candidate`` (the final candidate picked, as the authors number them),
        ``near_ties`` (:func:`near_ties`), ``seconds`` and the settings.
    """
    import jax
    import jax.numpy as jnp

    from debinn_jax.checkpoint import digest
    from debinn_jax.network import apply
    from debinn_jax.sweep import run_many

    if replay is not None:
        from debinn_jax.cpp_random import check_rules
        from debinn_jax.ga.train import check_replay_precision

        check_rules(replay)
        check_replay_precision("run_grid")
        runs = [
            dataclasses.replace(
                r, config=dataclasses.replace(r.config, replay=True, cpp_rules=replay)
            )
            for r in runs
        ]
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    data_name = runs[0].data if runs else ""

    meta = {
        "format": "debinn-grid",
        "format_version": 1,
        "seed": seed,
        "data": data_name,
        "dtype": str(jnp.zeros(()).dtype),
        "keys": "replay" if replay else ("shared" if shared_key else "per-column"),
        # the standardised weight at zero spread (0 before 2026-12-02): runs with
        # standardisation differ between the two rules, so a grid is not resumed across them
        "zero_spread_weight": _zero_spread(runs),
        # the authors' deterministic splits (2026-12-07 on) or splits drawn per run
        "splits": runs[0].config.splits if runs else "authors",
        "cpp_rules": runs[0].config.cpp_rules if runs else "msvc",
    }
    records = _finished(out_dir, meta) if resume else []
    done = {(r["name"], r["fold"]) for r in records}
    ckpt_dir = None if out_dir is None else out_dir / "checkpoints"
    if ckpt_dir is not None:
        if not resume and ckpt_dir.is_dir():
            shutil.rmtree(ckpt_dir)
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[Any, ...], list[tuple[int, GridRun]]] = {}
    for run in runs:
        key = compile_group(run)
        if replay is not None:  # the runs of a call share the authors' random numbers
            c = run.config
            key = (*key, c.generations, c.r_max, c.r_min, c.mutation_prob)
        groups.setdefault(key, []).append((run.index, run))
    t0 = time.perf_counter()
    timing: dict[str, Any] = {"calls": []}
    with compile_timer() as compiled:
        for f_idx, (fold_name, fold) in enumerate(folds):
            X = np.asarray(fold.train.X, np.float64)
            y = np.asarray(fold.train.y)
            for (spec, cfg, *_), members in groups.items():
                todo = [(i, r) for i, r in members if (r.name, fold_name) not in done]
                twins: dict[str, list[tuple[int, GridRun]]] = {}
                if shared_key or replay:  # equal settings and key: one training serves them all
                    todo, twins = _dedupe(todo, members, records, fold_name)
                for start in range(0, len(todo), batch):
                    part = todo[start : start + batch]
                    t_call = time.perf_counter()
                    c0 = compiled["seconds"]
                    fold_key = jax.random.fold_in(jax.random.key(seed), f_idx)
                    keys = jax.numpy.stack(
                        [
                            fold_key if shared_key else jax.random.fold_in(fold_key, i)
                            for i, _ in part
                        ]
                    )
                    settings = _sweep_settings([r for _, r in part])
                    ckpt_path = None
                    if ckpt_dir is not None:  # a killed batch resumes mid-run
                        which = digest(meta["keys"], [i for i, _ in part])[:12]
                        ckpt_path = ckpt_dir / (
                            f"{fold_name}-{part[0][0]}-{part[-1][0]}-n{len(part)}-{which}.ckpt"
                        )
                    sweep = run_many(
                        spec,
                        X,
                        y,
                        keys,
                        cfg,
                        settings=settings,
                        run_batch_size=1,
                        checkpoint=ckpt_path,
                        callback=None if progress is None else _chunk_progress(progress, part),
                        row_keys=fold.train.keys,
                    )
                    seconds = time.perf_counter() - t_call
                    for j, (i, r) in enumerate(part):
                        # the run's own spec: its switches set as the compiled flags had them
                        coords = sweep.run(j).coords
                        p_test = np.asarray(apply(r.spec, coords, _as_input(fold.test.X)))
                        p_train = np.asarray(apply(r.spec, coords, _as_input(fold.train.X)))
                        records.append(
                            {
                                "name": r.name,
                                "fold": fold_name,
                                "index": i,
                                "test": _binary_metrics(fold.test.y, p_test),
                                "train": _binary_metrics(fold.train.y, p_train),
                                "generations_run": int(sweep.generations_run[j]),
                                **_selection_fields(sweep, j, r),
                                "seconds": seconds / len(part),
                                "hidden": list(r.spec.hidden),
                                "switches": r.switches,
                                "l1": r.config.loss.l1,
                                "l2": r.config.loss.l2,
                                "shift_scale": r.spec.shift_scale,
                            }
                        )
                        trained = records[-1]
                        for i2, r2 in twins.get(r.name, []):
                            records.append(_twin_record(trained, r2.name, i2))
                    timing["calls"].append(
                        {
                            "runs": len(part),
                            "seconds": seconds,
                            "compile_seconds": compiled["seconds"] - c0,
                            **sweep.timing,
                        }
                    )
                    if out_dir is not None:
                        _write_outputs(out_dir, records, data_name, meta)
                    if ckpt_path is not None:  # its records are saved: the batch is done
                        ckpt_path.unlink(missing_ok=True)
                    if progress is not None:
                        n_done = len({(r["name"], r["fold"]) for r in records})
                        progress(
                            f"{n_done}/{len(runs) * len(folds)} runs  fold {fold_name}  "
                            f"{len(part)} runs in {seconds:.1f} s "
                            f"(compile {compiled['seconds'] - c0:.1f} s)"
                        )
    timing.update(
        seconds=time.perf_counter() - t0,
        compile_seconds=compiled["seconds"],
        programs_compiled=compiled["programs"],
        compile_groups=len(groups),
    )
    if out_dir is not None:
        _write_outputs(out_dir, records, data_name, {**meta, "timing": timing})
    records.sort(key=lambda r: (r["fold"], r["index"]))
    return GridResult(records=tuple(records), timing=timing)


def _zero_spread(runs: Sequence[GridRun]) -> float:
    """The standardised weight at zero spread that the runs' networks use."""
    return float(runs[0].spec.zero_spread) if runs else 1.0


def _selection_fields(sweep: Any, j: int, run: GridRun) -> dict[str, Any]:
    """Run ``j``'s stop, last entry, final candidate and near ties, for its record."""
    sel = {k: np.asarray(v)[j] for k, v in sweep.selection.items()}
    out: dict[str, Any] = {}
    if run.config.hof_rule == "2025":
        out["stop_iteration"] = int(sweep.generations_run[j]) - 1
        out["last_entry"] = int(sel["last_entry"]) if "last_entry" in sel else None
        history = {k: np.asarray(v)[j] for k, v in sweep.history.items() if k.startswith("gap_")}
        out["near_ties"] = near_ties(history, sel.get("candidate_scores"))
    if "candidate" in sel:
        out["candidate"] = int(np.ravel(sel["candidate"])[0])
    return out


def _twin_record(trained: Mapping[str, Any], name: str, index: int) -> dict[str, Any]:
    """The record of a column that is the same run as ``trained`` (shared keys, equal
    settings): its own name and index, no seconds of its own, ``same_run_as``."""
    return {**trained, "name": name, "index": index, "seconds": 0.0, "same_run_as": trained["name"]}


def _dedupe(
    todo: list[tuple[int, GridRun]],
    members: Sequence[tuple[int, GridRun]],
    records: list[dict[str, Any]],
    fold_name: str,
) -> tuple[list[tuple[int, GridRun]], dict[str, list[tuple[int, GridRun]]]]:
    """Shared keys: the columns of ``todo`` that need training, and the twins of each.

    Columns with equal network and GA settings are one run. A column whose run is already in
    ``records`` (an earlier, interrupted grid) gets its record appended here, without training.

    Returns:
        ``(unique, twins)``: the columns to train, and per trained column's name the other
        columns ``(index, run)`` that are the same run.
    """
    finished = {r["name"]: r for r in records if r["fold"] == fold_name}
    first: dict[tuple[Any, Any], GridRun] = {}
    for _, r in members:  # runs already trained come first
        if r.name in finished and "same_run_as" not in finished[r.name]:
            first.setdefault((r.spec, r.config), r)
    unique: list[tuple[int, GridRun]] = []
    twins: dict[str, list[tuple[int, GridRun]]] = {}
    for i, r in todo:
        sig = (r.spec, r.config)
        if sig not in first:
            first[sig] = r
            unique.append((i, r))
        elif first[sig].name in finished:
            records.append(_twin_record(finished[first[sig].name], r.name, i))
        else:
            twins.setdefault(first[sig].name, []).append((i, r))
    return unique, twins


def _chunk_progress(
    progress: Callable[[str], None], part: Sequence[tuple[int, GridRun]]
) -> Callable[[int, Mapping[str, Any]], None]:
    """A ``run_many`` chunk callback: one line per chunk of generations of a batch (a batch of
    slow settings runs for many minutes before its records are written)."""
    t0 = time.perf_counter()
    names = ",".join(r.name for _, r in part)
    if len(part) > 3:
        names = f"{part[0][1].name} ... {part[-1][1].name} ({len(part)} columns)"

    def report(step: int, history: Mapping[str, Any]) -> None:
        active = int(np.sum(np.isfinite(np.asarray(history["train_fitness"])[:, -1])))
        progress(
            f"  {names}: generation {step + 1}, {active}/{len(part)} runs still training "
            f"({time.perf_counter() - t0:.0f} s)"
        )

    return report


def _sweep_settings(runs: Sequence[GridRun]) -> dict[str, np.ndarray]:
    """The per-run numbers of ``runs`` (one compile group) as ``run_many`` settings."""
    from debinn_jax.ga import FLAG_FIELDS

    numeric = [r.config.resolve(r.spec).numeric() for r in runs]
    out = {name: np.array([np.asarray(hp[name]) for hp in numeric]) for name in numeric[0]}
    for flag in FLAG_FIELDS:
        out[flag] = np.array([r.switches[flag] for r in runs])
    return out


def _as_input(X: Any) -> Any:
    import jax.numpy as jnp

    return jnp.asarray(np.asarray(X, np.float64), jnp.zeros(()).dtype)
