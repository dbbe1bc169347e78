"""Running a grid: every :class:`~debinn_jax.execution.translate.GridRun` on every fold.

:func:`run_grid` trains the runs with batched, compiled sweeps (``sweep.run_many``): runs in one
:func:`compile_group` (they differ only in numbers) share one compiled program. Results are
merged into the output folder after every batch (``results.json``, and ``summary.csv`` in the
authors' column format, :func:`summary_csv`) under the folder lock, re-reading the file first,
and each process claims the runs it trains (:mod:`~debinn_jax.execution.lock`): several
processes may share a folder without losing records or training a run twice. An interrupted
grid resumes without redoing finished columns, a batch killed part-way resumes from its
checkpoint, and the interruption says where it stopped (:class:`GridInterrupted`). Also here:
:func:`precision` (the grid's float width), :func:`compile_timer` (XLA compile time while a
block runs) and the phases of the wall time for the cost report
(:mod:`~debinn_jax.execution.cost`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data.dataset import DataError, Fold
from debinn_jax.data.locate import natural_key
from debinn_jax.execution.progress import WorkMeter, count_runs
from debinn_jax.execution.translate import GridRun
from debinn_jax.stopping import RunInterrupted


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

    Yields a dict ``{"seconds": ..., "programs": ..., "spans": [...]}`` filled as compilations
    happen: ``seconds`` from the ``jax.monitoring`` event
    ``/jax/core/compile/backend_compile_duration`` (XLA compilation, or loading the program
    from the persistent cache; tracing and lowering are not included), ``programs`` counts
    every compiled XLA program, small helper computations included, and ``spans`` holds the
    ``(start, end)`` wall-clock times (``time.time()``) of tracing, lowering and compiling
    (:func:`compile_seconds_within` adds them up without counting nested ones twice).
    """
    import jax.monitoring

    out: dict[str, Any] = {"seconds": 0.0, "programs": 0, "spans": []}

    def listener(name: str, duration: float, **_: Any) -> None:
        if name == "/jax/core/compile/backend_compile_duration":
            out["seconds"] += duration
            out["programs"] += 1

    def spans(name: str, start: float, end: float, **_: Any) -> None:
        if name in _COMPILE_EVENTS:
            out["spans"].append((start, end))

    jax.monitoring.register_event_duration_secs_listener(listener)
    jax.monitoring.register_event_time_span_listener(spans)
    try:
        yield out
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
        jax.monitoring.unregister_event_time_span_listener(spans)


#: Tracing, lowering and compiling (or loading from the persistent cache) a program.
_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


def compile_seconds_within(
    spans: Sequence[tuple[float, float]], start: float = -math.inf, end: float = math.inf
) -> float:
    """Seconds of ``[start, end]`` covered by the ``(start, end)`` ``spans`` (their union:
    a trace nested in another counts once)."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if b > start and a < end)
    total, cur_a, cur_b = 0.0, None, None
    for a, b in clipped:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


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
    """Outcome of :func:`run_grid`: one record per (column, fold), the timings, the records
    trained in this session (``trained``; the others were found finished) and the generations
    each trained run ran in this session (``session_generations``, ``(column, fold) -> n``:
    fewer than its ``generations_run`` when its batch resumed from a checkpoint)."""

    records: tuple[dict[str, Any], ...]
    timing: dict[str, Any]
    trained: tuple[dict[str, Any], ...] = ()
    session_generations: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)


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


class GridInterrupted(RunInterrupted):
    """A grid stopped by SIGINT or SIGTERM (or Ctrl-C anywhere in it); what it had finished is
    saved. Its attributes say where it stood, for a message.

    Attributes:
        batch, batches: the batch running (1-based) and the batches of the session (0: none
            running, e.g. while waiting for another process).
        fold, label: that batch's fold and columns (:func:`column_label`).
        generation: generations that batch had run (None: not known).
        saved, total: runs in ``results.json`` and runs of the grid (done ∪ to do).
        out: the output folder (None: nothing written, nothing to resume).
        checkpoint: whether the batch's checkpoint was kept (the batch resumes from it).
        waiting_for: who the grid was waiting for (:meth:`Holder.describe`), or None.
    """

    def __init__(self, signum: int, position: _Position, saved: int, total: int, out: Any):
        self.signum = int(signum)
        self.batch, self.batches = position.batch, position.batches
        self.fold, self.label = position.fold, position.label
        self.generation = position.generation
        self.saved, self.total, self.out = saved, total, out
        self.checkpoint = position.checkpoint
        self.waiting_for = position.waiting_for
        hint = self.resume_hint("run it again")
        super().__init__(signum, self.where() + (f"; {hint}" if hint else ""))

    def where(self) -> str:
        """``interrupted by SIGINT in batch 2 of 5 (fold Fold-1: 2H-Hinton-S17..S32 (16 columns))
        after generation 40; 16/128 runs saved in runs/x/results.json``."""
        from debinn_jax.stopping import signal_name

        text = f"interrupted by {signal_name(self.signum)}"
        if self.waiting_for is not None:
            text += f" while waiting for {self.waiting_for}"
        elif self.batch:
            text += f" in batch {self.batch} of {self.batches} (fold {self.fold}: {self.label})"
            if self.generation is not None:
                text += f" after generation {self.generation}"
        if self.out is None:
            return text + "; nothing was saved (no output folder)"
        return text + f"; {self.saved}/{self.total} runs saved in {self.out / 'results.json'}"

    def resume_hint(self, rerun: str) -> str:
        """``run it again to resume (the batch from its checkpoint)``, with ``rerun`` the way to
        say how; "" without an output folder."""
        if self.out is None:
            return ""
        ckpt = " (the batch from its checkpoint)" if self.checkpoint and self.batch else ""
        return f"{rerun} to resume{ckpt}"


@dataclasses.dataclass
class _Position:
    """Where a grid session stands (for :class:`GridInterrupted`)."""

    batch: int = 0
    batches: int = 0
    fold: str = ""
    label: str = ""
    generation: int | None = None
    budget: int = 0
    checkpoint: bool = False
    waiting_for: str | None = None


class _PhaseClock:
    """``run_many``'s timing hook: seconds per phase, tracing and compilation inside them
    excluded (``compiled`` is :func:`compile_timer`'s dict)."""

    def __init__(self, compiled: Mapping[str, Any]) -> None:
        self.compiled = compiled
        self.seconds = {"generations": 0.0, "final": 0.0}

    def __call__(self, name: str) -> Callable[[], None]:
        t0 = time.time()

        def end() -> None:
            t1 = time.time()
            spans = self.compiled["spans"]
            self.seconds[name] += max(0.0, (t1 - t0) - compile_seconds_within(spans, t0, t1))

        return end


Pair = tuple[str, str]


def _pairs(records: Sequence[Mapping[str, Any]]) -> set[Pair]:
    return {(r["name"], r["fold"]) for r in records}


def _union(base: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``base`` with the records of ``new`` added (replacing those of the same run)."""
    out = {(r["name"], r["fold"]): r for r in base}
    out.update({(r["name"], r["fold"]): r for r in new})
    return list(out.values())


def _saved_timing(out: Path) -> dict[str, Any] | None:
    """The ``timing`` of ``out/results.json``, or None (no file, none saved, unreadable)."""
    try:
        saved = json.loads((out / "results.json").read_text()).get("timing")
    except (OSError, ValueError, AttributeError):
        return None
    return saved if isinstance(saved, dict) else None


def combined_timing(saved: Mapping[str, Any] | None, session: Mapping[str, Any]) -> dict[str, Any]:
    """A grid folder's timing over its sessions: ``saved`` (the file's) plus ``session``.

    A session that trained nothing (a resume of a finished folder) leaves the saved timing as
    it is; otherwise seconds, compilation, programs and phases add up, the calls are
    concatenated and ``sessions`` counts the sessions that trained.
    """
    session = dict(session)
    if saved is None:
        return {**session, "sessions": 1}
    if not session.get("calls"):
        return dict(saved)
    phases = dict(saved.get("phases", {}))
    for k, v in session.get("phases", {}).items():
        phases[k] = phases.get(k, 0.0) + v
    return {
        **session,
        "calls": [*saved.get("calls", []), *session["calls"]],
        "seconds": saved.get("seconds", 0.0) + session.get("seconds", 0.0),
        "compile_seconds": saved.get("compile_seconds", 0.0) + session.get("compile_seconds", 0.0),
        "programs_compiled": saved.get("programs_compiled", 0)
        + session.get("programs_compiled", 0),
        "phases": phases,
        "sessions": saved.get("sessions", 1) + 1,
    }


class _Store:
    """Where a grid's records live: ``out/results.json``, shared with other processes under the
    folder lock, with claims (:mod:`~debinn_jax.execution.lock`); or memory (``out`` None).

    Every method that reads or writes the folder re-reads ``results.json`` under the lock
    first, so records other processes merged meanwhile are kept.
    """

    def __init__(
        self,
        out: Path | None,
        me: Any,
        meta: dict[str, Any],
        data_name: str,
        notify: Callable[[str], None],
    ) -> None:
        from debinn_jax.execution.lock import Claims

        self.out, self.me, self.meta, self.data_name = out, me, meta, data_name
        self.notify = notify
        self.claims = None if out is None else Claims(out, me)
        self.waited = 0.0  # seconds spent waiting for other processes' runs

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.claims is not None:
            self.claims.close()

    def _lock(self) -> Any:
        from debinn_jax.execution.lock import folder_lock

        return folder_lock(self.out, self.me, notify=self.notify)

    def begin(self, resume: bool) -> list[dict[str, Any]]:
        """The finished records (``resume``), or none after clearing the folder (restart).

        Raises:
            FolderBusy: a restart while another live process trains in the folder.
            DataError: the folder holds another grid's results (see :func:`_finished`).
        """
        from debinn_jax.execution.lock import FolderBusy

        if self.out is None:
            return []
        with self._lock():
            if resume:
                return _finished(self.out, self.meta)
            others = self.claims.others()
            if others:
                holder = next(iter(others.values()))
                raise FolderBusy(
                    f"{self.out}: {count_runs(len(others))} "
                    f"{'is' if len(others) == 1 else 'are'} being trained there by "
                    f"{holder.describe()}; a restart would discard them: wait for it to end "
                    "or choose another output folder"
                )
            for name in ("results.json", "summary.csv"):
                (self.out / name).unlink(missing_ok=True)
            shutil.rmtree(self.out / "checkpoints", ignore_errors=True)
            return []

    def claim(
        self, records: list[dict[str, Any]], wanted: Sequence[Pair]
    ) -> tuple[list[dict[str, Any]], set[Pair], dict[Pair, Any]]:
        """Claim every wanted run that is neither finished nor claimed by a live process.

        Returns:
            ``(records, mine, held)``: the records now, the runs this process claimed, and the
            unfinished wanted runs other live processes claimed (with their :class:`Holder`).
        """
        if self.out is None:
            return records, set(wanted) - _pairs(records), {}
        with self._lock():
            records = _finished(self.out, self.meta)
            done = _pairs(records)
            others = self.claims.others()
            mine = {p for p in wanted if p not in done and p not in others}
            held = {p: others[p] for p in wanted if p not in done and p in others}
            self.claims.set(mine)
        return records, mine, held

    def merge(
        self,
        records: list[dict[str, Any]],
        new: Sequence[dict[str, Any]],
        extra: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Add ``new`` records to the file (re-read under the lock) and write the outputs; the
        claims of runs now finished are withdrawn. Returns every record now in the file."""
        if self.out is None:
            return _union(records, new)
        with self._lock():
            merged = _union(_finished(self.out, self.meta), new)
            extra = dict(extra or {})
            if "timing" in extra:  # the folder's time over every session, not the last one's
                extra["timing"] = combined_timing(_saved_timing(self.out), extra["timing"])
            _write_outputs(self.out, merged, self.data_name, {**self.meta, **extra})
            self.claims.set(self.claims.pairs - _pairs(merged))
        return merged

    def wait_for(
        self, held: Mapping[Pair, Any], poll: float, position: _Position
    ) -> list[dict[str, Any]]:
        """Wait until every run in ``held`` is finished or no longer claimed by a live process
        (its process ended without it); one line says who is waited for. Returns the records."""
        from debinn_jax.execution.settings import column_label

        holders = sorted({h.describe() for h in held.values()})
        names = sorted({name for name, _ in held}, key=lambda n: natural_key(n))
        position.batch, position.waiting_for = 0, " and ".join(holders)
        label = column_label(names)
        waiting = count_runs(len(held))
        self.notify(f"waiting for {waiting} ({label}) trained by {position.waiting_for}")
        t0 = time.perf_counter()
        while True:
            time.sleep(poll)
            with self._lock():
                records = _finished(self.out, self.meta)
                others = self.claims.others()
            left = [p for p in held if p not in _pairs(records) and p in others]
            if not left:
                position.waiting_for = None
                self.waited += time.perf_counter() - t0
                return records


@dataclasses.dataclass
class _Batch:
    """One compiled call of a session's plan."""

    f_idx: int
    fold_name: str
    fold: Fold
    spec: Any
    cfg: Any
    part: list[tuple[int, GridRun]]
    twins: dict[str, list[tuple[int, GridRun]]]


def _plan(
    mine: set[Pair],
    groups: Mapping[tuple[Any, ...], list[tuple[int, GridRun]]],
    folds: Sequence[tuple[str, Fold]],
    batch: int,
    dedupe: bool,
    records: list[dict[str, Any]],
) -> tuple[list[_Batch], list[dict[str, Any]]]:
    """The batches that train the runs in ``mine``: per fold and compile group, ``batch`` runs
    per call. Returns them and the records of columns that are the same run as one already
    finished (``dedupe``: shared keys or a replay), which need no training."""
    plan: list[_Batch] = []
    copied: list[dict[str, Any]] = []
    for f_idx, (fold_name, fold) in enumerate(folds):
        for (spec, cfg, *_), members in groups.items():
            todo = [(i, r) for i, r in members if (r.name, fold_name) in mine]
            twins: dict[str, list[tuple[int, GridRun]]] = {}
            if dedupe:  # equal settings and key: one training serves them all
                todo, twins, copies = _dedupe(todo, members, records + copied, fold_name)
                copied += copies
            for start in range(0, len(todo), batch):
                part = todo[start : start + batch]
                plan.append(_Batch(f_idx, fold_name, fold, spec, cfg, part, twins))
    return plan, copied


def backend_batching(backend: str | None = None) -> tuple[int, int | None]:
    """``(runs per compiled call, run_many's run_batch_size)`` of a grid on ``backend``
    (default: JAX's default backend).

    CPU: 16 runs per call, mapped one at a time (``run_batch_size=1``): a run that stopped
    early costs nothing while the others go on, and one run's population already fills the
    cores. Accelerators (GPU, TPU): every run of a compile group in one call (up to 256),
    vmapped (``run_batch_size=None``): thousands of networks per step keep the device busy, and
    stepping a stopped run (its result is masked) costs less than leaving the device idle.
    """
    import jax

    backend = backend or jax.default_backend()
    return (16, 1) if backend == "cpu" else (256, None)


def run_grid(
    runs: Sequence[GridRun],
    folds: Sequence[tuple[str, Fold]],
    *,
    out: str | Path | None = None,
    seed: int = 0,
    batch: int | None = None,
    resume: bool = True,
    progress: Callable[[str], None] | None = None,
    shared_key: bool = False,
    wait: bool = True,
    meter: WorkMeter | None = None,
    holder: Any = None,
    poll: float = 2.0,
    replay: str | None = None,
    threads: int | None = None,
) -> GridResult:
    """Train every run on every fold (one GA run each, as the authors did); score the test sets.

    Runs that share a compiled program (:func:`compile_group`) go through
    :func:`~debinn_jax.sweep.run_many` together, ``batch`` runs per call (``lax.map`` over
    runs: a stopped run costs nothing while the others continue). After every call the new
    records are merged into ``out`` (``results.json``, ``summary.csv``, atomically, under the
    folder lock, re-reading the file first: other processes may write into the same folder);
    with ``resume``, (column, fold) pairs already in ``out/results.json`` are skipped, and a
    batch that was killed part-way resumes from its checkpoint in ``out/checkpoints`` (written
    after every chunk of generations, removed once the batch's records are saved; without
    ``resume`` the folder is cleared first), bit-identical to an uninterrupted grid.

    Several processes on one folder (:mod:`~debinn_jax.execution.lock`): each claims the runs it
    trains; runs another live process claimed are not trained again: this one waits for their
    records at the end (``wait``) and trains those whose process died.

    Args:
        runs: from :func:`grid_runs`.
        folds: ``(name, Fold)`` pairs; features are used as they are (the authors' folds are
            z-scored already).
        out: output folder (created), or None to write nothing.
        seed: the run of column i (``GridRun.index``) on fold f uses
            ``fold_in(fold_in(key(seed), f), i)``.
        batch: runs per compiled call; default by backend (:func:`backend_batching`): 16 on a
            CPU, one call per compile group (up to 256 runs, vmapped) on an accelerator.
        resume: skip finished (column, fold) pairs found in ``out``.
        progress: called with one line per chunk of generations, one per finished call (with
            the ETA), and one for a resume or a wait.
        shared_key: every column on fold f uses ``fold_in(key(seed), f)``, as the authors'
            program ran every setting with the same seed. Columns whose network and GA
            settings are then equal (they differ only in keys without effect, such as
            DropConnect) are the same run: it is trained once and its record repeated, with
            ``same_run_as`` naming the column that was trained.
        wait: when another live process has claimed some of the runs, wait for them (True) or
            raise :class:`~debinn_jax.execution.lock.FolderBusy` before training (False).
        meter: the :class:`~debinn_jax.execution.progress.WorkMeter` of a set of grids (the
            progress lines then give the set's ETA); default: one for this grid.
        holder: who this process is (:class:`~debinn_jax.execution.lock.Holder`; default
            :func:`~debinn_jax.execution.lock.current_holder`).
        poll: seconds between looks at the folder while waiting for another process.
        replay: ``"msvc"`` or ``"libstdc++"``: repeat the authors' runs exactly with their
            random streams (``GAConfig.replay``; float64 only; ``seed`` and keys are unused).
            Columns with equal settings are then one run, as with ``shared_key``.
        threads: host threads of each call (:func:`~debinn_jax.sweep.run_many`; default one
            per CPU core on a CPU).

    Returns:
        A :class:`GridResult`; records hold ``name``, ``fold``, ``test``/``train`` metrics
        (fractions), ``generations_run``, ``stop_iteration`` (the authors' iteration before
        which the run stopped), ``last_entry`` (the iteration of the last hall-of-fame
        entry), ``candidate`` (the final candidate picked, as the authors number them),
        ``near_ties`` (:func:`near_ties`), ``seconds`` and the settings.

    Raises:
        GridInterrupted: SIGINT/SIGTERM or Ctrl-C (what was finished is saved).
        FolderBusy: ``wait`` False and runs claimed by another process, or a restart while
            another process trains in ``out``.
    """
    import jax
    import jax.numpy as jnp

    from debinn_jax.checkpoint import digest
    from debinn_jax.execution.lock import FolderBusy, current_holder
    from debinn_jax.execution.progress import run_units
    from debinn_jax.execution.settings import column_label
    from debinn_jax.network import apply
    from debinn_jax.sweep import run_many

    default_batch, run_batch_size = backend_batching()
    batch = default_batch if batch is None else batch
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
    say = progress if progress is not None else (lambda line: None)
    wanted = [(r.name, fold_name) for fold_name, _ in folds for r in runs]
    by_pair = {(r.name, fold_name): r for fold_name, _ in folds for r in runs}
    labels = {fold_name: np.asarray(fold.train.y) for fold_name, fold in folds}
    position = _Position()
    store = _Store(out_dir, holder or current_holder(), meta, data_name, say)
    with store:
        records = store.begin(resume)
        _say_resumed(say, records, runs, folds, out_dir)
        ckpt_dir = None if out_dir is None else out_dir / "checkpoints"
        if ckpt_dir is not None:
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
        trained: list[dict[str, Any]] = []
        session_generations: dict[Pair, int] = {}
        try:
            with compile_timer() as compiled:
                clock = _PhaseClock(compiled)
                first, previous = True, None
                while True:
                    records, mine, held = store.claim(records, wanted)
                    if mine and mine == previous:  # trained, yet still not in the folder
                        raise RuntimeError(f"run_grid: runs {sorted(mine)} were not recorded")
                    previous = mine
                    if held and not wait and first:
                        holder0 = next(iter(held.values()))
                        raise FolderBusy(
                            f"{out_dir}: {count_runs(len(held))} of those asked for "
                            f"{'is' if len(held) == 1 else 'are'} being trained by "
                            f"{holder0.describe()}; wait for it, or leave out --no-wait"
                        )
                    if first and meter is None:
                        units = sum(run_units(by_pair[p], labels[p[1]]) for p in mine)
                        meter = WorkMeter(units)
                    first = False
                    if not mine:
                        if not held:
                            break
                        records = store.wait_for(held, poll, position)
                        continue
                    dedupe = shared_key or replay is not None  # equal settings: one run
                    plan, copied = _plan(mine, groups, folds, batch, dedupe, records)
                    if copied:
                        records = store.merge(records, copied)
                    position.batches = len(plan)
                    for b_idx, step in enumerate(plan):
                        part, fold_name, fold = step.part, step.fold_name, step.fold
                        label = column_label([r.name for _, r in part])
                        position.batch, position.fold, position.label = b_idx + 1, fold_name, label
                        position.generation, position.checkpoint = None, False
                        position.budget = max(int(r.config.generations) for _, r in part)
                        X = np.asarray(fold.train.X, np.float64)
                        y = np.asarray(fold.train.y)
                        t_call = time.perf_counter()
                        c0 = compiled["seconds"]
                        fold_key = jax.random.fold_in(jax.random.key(seed), step.f_idx)
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
                            position.checkpoint = True
                        before = _resumed_generations(ckpt_path, len(part))
                        sweep = run_many(
                            step.spec,
                            X,
                            y,
                            keys,
                            step.cfg,
                            settings=settings,
                            run_batch_size=run_batch_size,
                            checkpoint=ckpt_path,
                            callback=_chunk_progress(say, part, position),
                            row_keys=fold.train.keys,
                            phase=clock,
                            threads=threads,
                        )
                        seconds = time.perf_counter() - t_call
                        c_call = compiled["seconds"] - c0
                        new: list[dict[str, Any]] = []
                        for j, (i, r) in enumerate(part):
                            ran_here = int(sweep.generations_run[j]) - int(before[j])
                            session_generations[(r.name, fold_name)] = max(ran_here, 0)
                            # the run's own spec: its switches set as the compiled flags had them
                            coords = sweep.run(j).coords
                            p_test = np.asarray(apply(r.spec, coords, _as_input(fold.test.X)))
                            p_train = np.asarray(apply(r.spec, coords, _as_input(fold.train.X)))
                            new.append(
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
                            trained_rec = new[-1]
                            for i2, r2 in step.twins.get(r.name, []):
                                new.append(_twin_record(trained_rec, r2.name, i2))
                        timing["calls"].append(
                            {
                                "runs": len(part),
                                "seconds": seconds,
                                "compile_seconds": c_call,
                                **sweep.timing,
                            }
                        )
                        records = store.merge(records, new)
                        trained += new
                        if ckpt_path is not None:  # its records are saved: the batch is done
                            ckpt_path.unlink(missing_ok=True)
                        position.checkpoint = False
                        meter.advance(
                            sum(run_units(r, y) for _, r in part),
                            len(new),
                        )
                        done = _pairs(records)
                        say(
                            f"{len(done)}/{len(done | set(wanted))} runs  fold {fold_name}  "
                            f"{len(part)} run{'s' if len(part) > 1 else ''} in {seconds:.1f} s "
                            f"(compile {c_call:.1f} s)  {meter.describe()}"
                        )
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", int(signal.SIGINT))
            if getattr(exc, "step", None) is not None:  # a chunk may overshoot the budget
                position.generation = min(int(exc.step) + 1, position.budget)
            done = _pairs(records)
            raise GridInterrupted(
                signum, position, len(done), len(done | set(wanted)), out_dir
            ) from None
        timing.update(
            seconds=time.perf_counter() - t0,
            compile_seconds=compiled["seconds"],
            programs_compiled=compiled["programs"],
            compile_groups=len(groups),
            phases={
                "compile": compile_seconds_within(compiled["spans"]),
                **clock.seconds,
                "waiting": store.waited,
            },
        )
        records = store.merge(records, [], {"timing": timing})
    records.sort(key=lambda r: (r["fold"], r["index"]))
    return GridResult(
        records=tuple(records),
        timing=timing,
        trained=tuple(trained),
        session_generations=session_generations,
    )


def _resumed_generations(ckpt_path: Path | None, n_runs: int) -> np.ndarray:
    """Generations each run of a batch has run in its checkpoint (0 without one), ``(n_runs,)``."""
    from debinn_jax.checkpoint import CheckpointError, stored_history

    try:
        ran = stored_history(ckpt_path).get("ran") if ckpt_path is not None else None
    except CheckpointError:  # run_many reports it
        ran = None
    if ran is None or ran.ndim != 2 or ran.shape[0] < n_runs:
        return np.zeros(n_runs, int)
    return np.asarray(ran[:n_runs], bool).sum(axis=1)


def _say_resumed(
    say: Callable[[str], None],
    records: Sequence[Mapping[str, Any]],
    runs: Sequence[GridRun],
    folds: Sequence[tuple[str, Fold]],
    out: Path | None,
) -> None:
    """One line when finished runs of this grid were found: how many settings are skipped."""
    done = _pairs(records)
    names = [r.name for r in runs]
    fold_names = [f for f, _ in folds]
    skipped_runs = sum((n, f) in done for n in names for f in fold_names)
    if not skipped_runs or out is None:
        return
    complete = sum(all((n, f) in done for f in fold_names) for n in names)
    runs_note = "" if len(fold_names) == 1 else f" ({skipped_runs} runs on {len(fold_names)} folds)"
    rest = len(names) * len(fold_names) - skipped_runs
    tail = "nothing left to train" if rest == 0 else f"{rest} run{'s' * (rest > 1)} to train"
    say(
        f"resume: {complete} of {len(names)} settings already in {out / 'results.json'}"
        f"{runs_note}, skipped; {tail}"
    )


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
) -> tuple[list[tuple[int, GridRun]], dict[str, list[tuple[int, GridRun]]], list[dict[str, Any]]]:
    """Shared keys: the columns of ``todo`` that need training, and the twins of each.

    Columns with equal network and GA settings are one run. A column whose run is already in
    ``records`` (an earlier, interrupted grid) gets its record copied, without training.

    Returns:
        ``(unique, twins, copies)``: the columns to train, per trained column's name the other
        columns ``(index, run)`` that are the same run, and the copied records.
    """
    finished = {r["name"]: r for r in records if r["fold"] == fold_name}
    first: dict[tuple[Any, Any], GridRun] = {}
    for _, r in members:  # runs already trained come first
        if r.name in finished and "same_run_as" not in finished[r.name]:
            first.setdefault((r.spec, r.config), r)
    unique: list[tuple[int, GridRun]] = []
    twins: dict[str, list[tuple[int, GridRun]]] = {}
    copies: list[dict[str, Any]] = []
    for i, r in todo:
        sig = (r.spec, r.config)
        if sig not in first:
            first[sig] = r
            unique.append((i, r))
        elif first[sig].name in finished:
            copies.append(_twin_record(finished[first[sig].name], r.name, i))
        else:
            twins.setdefault(first[sig].name, []).append((i, r))
    return unique, twins, copies


def _chunk_progress(
    progress: Callable[[str], None], part: Sequence[tuple[int, GridRun]], position: _Position
) -> Callable[[int, Mapping[str, Any]], None]:
    """A ``run_many`` chunk callback: one line per chunk of generations of a batch (a batch of
    slow settings runs for many minutes before its records are written); it also keeps
    ``position.generation``."""
    from debinn_jax.execution.settings import column_label

    t0 = time.perf_counter()
    names = column_label([r.name for _, r in part])

    def report(step: int, history: Mapping[str, Any]) -> None:
        fitness = np.isfinite(np.asarray(history["train_fitness"]))
        ran = int(np.max(np.sum(fitness, axis=1))) if fitness.size else step + 1
        position.generation = ran  # the longest run's generations (a chunk may overshoot)
        active = int(np.sum(fitness[:, -1])) if fitness.size else 0
        progress(
            f"  {names}: generation {ran}, {active}/{len(part)} runs still training "
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
