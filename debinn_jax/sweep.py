"""Many GA runs in one compiled call: seeds x CV folds x numeric settings.

:func:`run_many` maps the per-run functions of :func:`debinn_jax.ga.make_runner` over a leading
*runs* axis R. Everything that may differ between runs is an array with that axis:

* ``keys`` ``(R,)`` (seeds),
* the data: ``X`` ``(N, F)`` shared or ``(R, N, F)`` per run (CV folds; folds of different sizes
  are padded to one N by :func:`stack_folds` and ``sample_mask`` ``(R, N)`` marks real cases),
* numeric settings (``ga.NUMERIC_FIELDS``: ``r_max``, ``r_min``, ``mutation_prob``,
  ``crossover_prob``, ``tolerance``, ``l1``, ``l2``, ``generations``, ``beat_period``,
  ``resample_every``, ``early_stopping``) and network switches (``ga.FLAG_FIELDS``:
  ``standardize_weights``, ``normalization``, ``spatial_dropout`` as 0/1, turning off per run a
  feature the spec enables) as ``(R,)`` arrays, e.g. from :func:`grid`.

Static settings (population size, network, schedule kind, generation budget...) are shared by
all runs of one call. Runs are mapped with ``jax.vmap`` (``run_batch_size=None``; best on
accelerators) or ``jax.lax.map`` in batches of ``run_batch_size`` runs (often faster on CPU;
with 1, a plain scan in which a run that stopped early skips its remaining chunks, where inside
a batch every run is stepped until the batch's last one stops).
With several visible devices the runs axis is sharded over all of them (``jax.shard_map`` over
a 1-D ``Mesh`` named ``"runs"``; R is padded to a multiple of the device count and the padding
dropped again), so one call uses every GPU of a host.

Multi-host: call ``jax.distributed.initialize()`` at start-up in every process;
``jax.devices()`` then lists the devices of all processes and the same call shards the runs over
all of them. Every process must run the same program with the same arguments; inputs are
placed from the host copies each process holds (keys as raw key data) and every result is
gathered to every process (:func:`to_host`), so each process returns the same
:class:`SweepResult`.

Stopping: SIGINT and SIGTERM end the host loop after the current chunk with
:class:`~debinn_jax.stopping.RunInterrupted` (in every process at the same chunk; see
:mod:`debinn_jax.stopping`).

Early stopping: a run that stops is frozen inside the compiled chunk; the host loop ends when
every run has stopped, so a batch costs as much as its longest run.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from debinn_jax import checkpoint as ckpt
from debinn_jax import stopping
from debinn_jax.cache import ensure_compilation_cache
from debinn_jax.data.dataset import check_training_data
from debinn_jax.driver import ChunkReport, drive
from debinn_jax.ga import (
    FLAG_FIELDS,
    INT_FIELDS,
    NEVER,
    NUMERIC_FIELDS,
    GAConfig,
    GAResult,
    make_runner,
    split_counts,
)
from debinn_jax.ga.train import (
    _static_key,
    authors_split_pair,
    check_replay_precision,
    evaluated_generations,
    replay_streams,
)
from debinn_jax.loss import LossFn
from debinn_jax.network import NetworkSpec

logger = logging.getLogger(__name__)


def grid(**axes: Sequence[float]) -> dict[str, np.ndarray]:
    """Cartesian product of settings as flat ``(R,)`` arrays (last axis varies fastest).

    Example: ``grid(r_max=[1.0, 0.3], mutation_prob=[0.1, 0.5])`` gives 4 runs.
    """
    names = list(axes)
    combos = list(itertools.product(*(list(axes[n]) for n in names)))
    return {n: np.asarray([c[i] for c in combos]) for i, n in enumerate(names)}


def stack_folds(
    folds: Sequence[tuple[Any, Any]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad several ``(X (n_i, F), y (n_i,))`` training sets to one length.

    Returns:
        ``X (R, N, F)`` float32, ``y (R, N)`` int32 and ``sample_mask (R, N)`` float32 with
        ``N = max n_i``; padded rows are zeros with mask 0 (ignored by the GA).
    """
    n = max(len(y) for _, y in folds)
    f = np.asarray(folds[0][0]).shape[1]
    X = np.zeros((len(folds), n, f), np.float32)
    Y = np.zeros((len(folds), n), np.int32)
    M = np.zeros((len(folds), n), np.float32)
    for i, (x_i, y_i) in enumerate(folds):
        k = len(y_i)
        X[i, :k] = np.asarray(x_i, np.float32)
        Y[i, :k] = np.asarray(y_i)
        M[i, :k] = 1.0
    return X, Y, M


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """Outcome of :func:`run_many`; every array has the runs axis R first.

    Attributes:
        coords: final coordinate pytrees with a leading R axis.
        ensemble: ``(R, E, ...)`` coords for prediction ensembles, else None.
        history: dict of ``(R, G)`` arrays (G = most generations any run evaluated), NaN
            after a run stopped: ``train_fitness``, ``val_fitness``, ``hof_val``, ``amplitude``.
        stopped_at: ``(R,)`` last generation evaluated per run.
        generations_run: ``(R,)``.
        hall_of_fame_val: ``(R, H)``.
        final_scores: ``(R, E)``.
        settings: the per-run numeric settings used, dict of ``(R,)`` arrays.
        seconds: wall time of the whole call (compilation included).
        selection: every run's final selection (``candidate (R, E)``, ``candidate_scores
            (R, C)``, ``candidate_ids (R, C)``, ``last_entry (R,)``; see
            :attr:`debinn_jax.ga.GAResult.selection`).
        timing: host-side timings (a replay: ``replay_streams_seconds``, the time spent making
            the authors' random numbers).
    """

    spec: NetworkSpec
    config: GAConfig
    coords: Any
    ensemble: Any
    history: dict[str, np.ndarray]
    stopped_at: np.ndarray
    generations_run: np.ndarray
    hall_of_fame_val: np.ndarray
    final_scores: np.ndarray
    settings: dict[str, np.ndarray]
    seconds: float
    selection: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    timing: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return int(self.stopped_at.shape[0])

    def run(self, i: int) -> GAResult:
        """Run ``i`` as a :class:`GAResult` (for ``predict_proba`` and the like)."""
        take = functools.partial(jax.tree_util.tree_map, lambda a: np.asarray(a)[i])
        n = int(self.generations_run[i])
        values = {}
        for k, v in self.settings.items():
            if k in NUMERIC_FIELDS:
                values[k] = int(v[i]) if k in INT_FIELDS else float(v[i])
        if values.get("early_stopping") == NEVER:
            values["early_stopping"] = None
        loss = dataclasses.replace(
            self.config.loss, l1=values.pop("l1", 0.0), l2=values.pop("l2", 0.0)
        )
        cfg = dataclasses.replace(self.config, loss=loss, **values)
        return GAResult(
            coords=take(self.coords),
            ensemble=None if self.ensemble is None else take(self.ensemble),
            spec=self.spec,
            config=cfg,
            history={k: v[i, :n] for k, v in self.history.items()},
            stopped_at=int(self.stopped_at[i]),
            generations_run=n,
            early_stopped=n < evaluated_generations(cfg),
            hall_of_fame={"val": self.hall_of_fame_val[i]},
            final_scores=self.final_scores[i],
            seconds=self.seconds,
            selection={k: np.asarray(v)[i] for k, v in self.selection.items()},
        )

    def predict_proba(self, i: int, X: Any) -> np.ndarray:
        """Probabilities ``(n, K)`` of run ``i`` on ``X`` ``(n, F)``."""
        return self.run(i).predict_proba(X)


SWEEPABLE = NUMERIC_FIELDS + FLAG_FIELDS

# --------------------------------------------------------------------------------------------
# timing hook (``debinn grid``'s cost report; it measures and changes nothing)

#: ``phase(name)`` starts timing a phase of :func:`run_many` and returns the function that
#: ends it (see its ``phase`` argument).
PhaseHook = Callable[[str], Callable[[], None]]


def _no_phase(name: str) -> Callable[[], None]:
    return lambda: None


# --------------------------------------------------------------------------------------------


def _settings(config: GAConfig, settings: Mapping[str, Any] | None, n_runs: int) -> dict:
    settings = dict(settings or {})
    unknown = set(settings) - set(SWEEPABLE)
    if unknown:
        raise ValueError(
            f"settings: unknown field(s) {sorted(unknown)}; sweepable fields are {SWEEPABLE}"
        )
    defaults = {**config.numeric()}
    out = {}
    for name in SWEEPABLE:
        value = settings.get(name, defaults[name])
        if name in INT_FIELDS:
            value = np.asarray(NEVER if value is None else value)
            dtype = np.int32
        elif name in FLAG_FIELDS:
            value = np.asarray(value, np.float32)
            if np.any((value != 0) & (value != 1)):
                raise ValueError(f"settings: {name} must be 0 or 1 in every run")
            dtype = np.float32
        else:
            dtype = np.dtype(jnp.zeros(()).dtype)  # float64 under x64: 0.01 stays 0.01
        out[name] = np.broadcast_to(np.asarray(value, dtype), (n_runs,)).copy()
    if np.any(out["r_min"] > out["r_max"]):
        raise ValueError("settings: r_min must not exceed r_max in any run")
    for name in ("mutation_prob", "crossover_prob"):
        if np.any((out[name] < 0) | (out[name] > 1)):
            raise ValueError(f"settings: {name} must be in [0, 1] in every run")
    return out


def _mapped(fn: Any, run_batch_size: int | None, shared: int = 0) -> Any:
    """Map ``fn`` over the leading axis of its arguments; the last ``shared`` arguments are
    passed to every run as they are (not mapped)."""

    def split(args: tuple) -> tuple[tuple, tuple]:
        k = len(args) - shared
        return args[:k], args[k:]

    if run_batch_size is None:

        def vmapped(*args: Any) -> Any:
            mapped_args, common = split(args)
            return jax.vmap(lambda *a: fn(*a, *common))(*mapped_args)

        return vmapped
    # batches of one as a plain scan (batch_size None), no vmap inside: each run's
    # ``lax.cond(done, skip, step)`` stays a branch, so a stopped run costs nothing while the
    # others go on. (``batch_size=1`` vmaps a batch of one, which turns the cond into a select
    # that steps every run, stopped or not: a batch then cost its longest run times its size.)
    batch = None if run_batch_size == 1 else run_batch_size

    def mapped(*args: Any) -> Any:
        mapped_args, common = split(args)
        return jax.lax.map(lambda a: fn(*a, *common), mapped_args, batch_size=batch)

    return mapped


@functools.lru_cache(maxsize=16)
def _compiled_many(
    spec: NetworkSpec,
    config: GAConfig,
    n_classes: int,
    run_batch_size: int | None,
    devices: tuple[Any, ...],
    dtype: str,
    key_impl: str | None,
    fitness: LossFn | None = None,
) -> tuple[Any, ...]:
    # ``dtype`` (the default float dtype) is part of the cache key: make_runner reads it.
    # Keys arrive as raw key data (a typed key array cannot be placed on devices of other
    # processes) and are wrapped again here; ``key_impl`` None: legacy uint32 keys.
    runner = make_runner(spec, config, n_classes, fitness)

    def start(key_data, x, y, mask, hp):
        key = key_data if key_impl is None else jax.random.wrap_key_data(key_data, impl=key_impl)
        k_run, k_final = jax.random.split(key)
        return runner.start(k_run, x, y, mask, hp), k_final

    def finalize(state, k_final, x, y, mask, hp):
        out = runner.finalize(state, k_final, x, y, mask, hp)
        return out[:3], {**out[3], "last_entry": state.last_entry}

    # the chunk's last argument, the replay's draws, is shared by every run (not mapped)
    shared = (0, 1, 0)
    fns = [
        _mapped(f, run_batch_size, n)
        for f, n in zip((start, runner.chunk, finalize), shared, strict=True)
    ]
    if len(devices) > 1:
        mesh = Mesh(np.asarray(devices), ("runs",))
        spec_runs = P("runs")
        fns = [
            jax.shard_map(
                f,
                mesh=mesh,
                in_specs=(spec_runs,) * n_args + (P(),) * n,
                out_specs=spec_runs,
                check_vma=False,
            )
            for f, n, n_args in zip(fns, shared, (5, 5, 6), strict=True)
        ]
    return runner, tuple(jax.jit(f) for f in fns)


def _place(tree: Any, devices: tuple[Any, ...]) -> Any:
    """Host arrays (numpy, leading runs axis) -> device arrays sharded over ``devices``.

    Placing host copies works when ``devices`` include other processes' devices (every
    process passes the same values); typed PRNG keys cannot be placed so (pass key data).
    """
    if len(devices) <= 1:
        return jax.device_put(tree, devices[0] if devices else None)
    sharding = NamedSharding(Mesh(np.asarray(devices), ("runs",)), P("runs"))
    return jax.device_put(tree, sharding)


def to_host(tree: Any) -> Any:
    """NumPy copy of a pytree of arrays, gathering arrays that span other processes' devices.

    ``np.asarray`` fails on an array sharded over devices of several processes (after
    ``jax.distributed.initialize``); such arrays are gathered with
    ``multihost_utils.process_allgather`` (collective: every process must call this with
    arrays of the same structure). Arrays local to this process are copied as they are.
    """

    def one(a: Any) -> np.ndarray:
        if isinstance(a, jax.Array) and not a.is_fully_addressable:
            return np.asarray(multihost_utils.process_allgather(a, tiled=True))
        return np.asarray(a)

    return jax.tree_util.tree_map(one, tree)


def _host_state(state: Any) -> Any:
    """The loop state as host numpy arrays (PRNG keys as key data), gathered from every
    process (collective with several processes)."""
    return to_host(ckpt.without_keys(state))


def _progress_line(
    gen: int, ran: np.ndarray, h: dict[str, np.ndarray], n_runs: int, seconds: float
) -> str:
    """One chunk's progress: generations, runs still active, best fitness, speed."""
    return (
        f"gen {gen:6d}  runs active {int(ran[:n_runs, -1].sum()):4d}/{n_runs}  "
        f"best train {np.nanmin(h['train_fitness']):.4f}  "
        f"best val {np.nanmin(h['val_fitness']):.4f}  "
        f"{ran.shape[1] / max(seconds, 1e-9):8.1f} gen/s"
    )


def _history(
    hists: list[dict[str, np.ndarray]], rans: list[np.ndarray], n_runs: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The chunks' traces joined: ``(R, G)`` arrays, NaN where a run did not run; and ``ran``."""
    ran = np.concatenate(rans, axis=1)[:n_runs]
    g_max = int(ran.sum(axis=1).max())
    history = {}
    for k in hists[0]:
        full = np.concatenate([h[k] for h in hists], axis=1)[:n_runs]
        mask = ran.reshape(ran.shape + (1,) * (full.ndim - 2))  # traces have trailing axes
        if np.issubdtype(full.dtype, np.floating):
            history[k] = np.where(mask, full, np.nan)[:, :g_max]
        else:  # integer and boolean traces keep their type (their filler is 0 / -1)
            history[k] = full[:, :g_max]
    return history, ran


def run_many(
    spec: NetworkSpec,
    X: Any,
    y: Any,
    keys: jax.Array,
    config: GAConfig = GAConfig(),  # noqa: B008 (frozen, hashable)
    *,
    settings: Mapping[str, Any] | None = None,
    sample_mask: Any = None,
    run_batch_size: int | None = None,
    devices: Sequence[Any] | None = None,
    progress: bool = False,
    callback: stopping.ChunkCallback | None = None,
    fitness: LossFn | None = None,
    checkpoint: ckpt.PathLike | None = None,
    checkpoint_every: float = 0.0,
    row_keys: Sequence[str] | Sequence[Sequence[str]] | None = None,
    phase: PhaseHook | None = None,
    threads: int | None = None,
) -> SweepResult:
    """Train R independent GA runs in one compiled call per chunk of generations.

    Args:
        spec: the network (shared).
        X: ``(N, F)`` shared or ``(R, N, F)`` per-run features (standardised by the caller).
        y: ``(N,)`` or ``(R, N)`` integer class indices.
        keys: ``(R,)`` typed PRNG keys, one per run. Run i equals
            ``train_ga(spec, X_i, y_i, keys[i], config_i)`` up to last-bit float differences
            from batching (bit-identical on this CPU in our tests).
        config: shared settings; its numeric fields are the defaults of ``settings``.
        settings: per-run numeric settings, dict ``name -> (R,)`` (or scalar) for names in
            ``NUMERIC_FIELDS``.
        sample_mask: ``(N,)`` or ``(R, N)`` 0/1 real-case mask for padded folds (default all 1).
        run_batch_size: None = ``vmap`` over runs; an int = ``lax.map`` in batches of that many
            (1: one run at a time, and a stopped run costs nothing; in a batch of more, or
            under ``vmap``, stopped runs are stepped with the others and their results masked).
        devices: devices to shard the runs over (default ``jax.devices()``); one device = no
            sharding.
        progress: log one line per chunk at INFO level on the ``debinn_jax.sweep`` logger.
        callback: ``callback(generation, history)`` after every chunk
            (:data:`debinn_jax.stopping.ChunkCallback`): ``generation`` is the last generation
            stepped, ``history`` the :attr:`SweepResult.history` so far (``(R, G)`` arrays,
            NaN after a run stopped). Returning True stops every run there: the result is the
            final selection of the generations run so far. With several processes it is
            called in each, with the same arguments.
        fitness: what every run minimises (:data:`debinn_jax.loss.LossFn`; default the DEBI
            loss), as in :func:`debinn_jax.ga.train_ga`.
        checkpoint: a file holding every run's loop state and history after the last chunk
            written; resumed from when it belongs to this call (same spec, config, settings,
            data, masks, keys, fitness name, device count and ``run_batch_size``), rewritten
            atomically after chunks and kept after the end, as in
            :func:`debinn_jax.ga.train_ga`. With several processes the path must be on a
            file system all of them see (process 0 writes, all read) and it is written
            after every chunk.
        checkpoint_every: seconds between periodic checkpoint writes; 0 = after every chunk.
        row_keys: the training rows' keys for the authors' splits (``splits="authors"``):
            ``N`` keys shared by every run or ``(R, N)``; default ``"1" .. "N"``.
        phase: timing hook (:data:`PhaseHook`), called at the start of the device work of
            every compiled chunk (``"generations"``, until its history is on the host) and of
            the final selection (``"final"``, until its result is on the host); it only
            measures.
        threads: host threads, each stepping its own group of the runs (run i in group
            i mod W) through the same compiled program, side by side; default: one per CPU
            core when the runs go one at a time (``run_batch_size=1``) on one CPU device (XLA
            runs one run's small operations on one core), else 1. A run's result does not
            depend on the thread count.

    With ``config.replay`` (float64 only) every run takes the authors' random numbers, which
    depend on P, T, TC, B, the genome length and the mutation settings only: the runs of one
    call must share ``generations``, ``r_max``, ``r_min``, ``mutation_prob`` and
    ``crossover_prob``; their numbers are made once per chunk on the host (while the device
    works on the previous chunk) and used by every run.

    Returns:
        A :class:`SweepResult`.

    Raises:
        debinn_jax.stopping.RunInterrupted: SIGINT or SIGTERM arrived during the call (it
            stops after the current chunk, in every process at the same chunk).
        debinn_jax.checkpoint.CheckpointError: ``checkpoint`` is damaged or belongs to another
            call (a ``ValueError``; the file is left as it is).
    """
    ensure_compilation_cache()
    start = time.perf_counter()
    timed = _no_phase if phase is None else phase  # timing hook
    config = config.resolve(spec)
    keys = jnp.asarray(keys)
    n_runs = keys.shape[0]
    X, y = check_training_data(X, y, spec.n_inputs, spec.n_classes, where="run_many", runs=True)
    X = X.astype(jnp.zeros(()).dtype)
    if X.ndim == 2:
        X = np.broadcast_to(X, (n_runs, *X.shape))
    if y.ndim == 1:
        y = np.broadcast_to(y, (n_runs, *y.shape))
    if X.shape[0] != n_runs or y.shape[:2] != X.shape[:2] or X.shape[2] != spec.n_inputs:
        raise ValueError(
            f"X must be (N, {spec.n_inputs}) or (R={n_runs}, N, {spec.n_inputs}) and y (N,) or "
            f"(R, N); got X {X.shape}, y {y.shape}"
        )
    mask = np.ones(y.shape, np.float32) if sample_mask is None else np.asarray(sample_mask)
    mask = np.broadcast_to(mask.astype(np.float32), y.shape)
    for i in range(n_runs):
        counts = np.bincount(y[i][mask[i] > 0], minlength=spec.n_classes)
        if counts.min() < 2:
            raise ValueError(
                f"y: run {i} has class counts {counts.tolist()}; the GA's subsets need >= 2 "
                "cases per class"
            )
    hp = _settings(config, settings, n_runs)
    if config.subsets == "leave_out":
        hp["split_counts"] = np.stack([split_counts(config, y[i], mask[i]) for i in range(n_runs)])
        if config.splits == "authors":
            hp.update(_authors_splits(config, hp, y, mask, row_keys))
    streams = _replay_streams(spec, config, hp) if config.replay else None

    devices = tuple(jax.devices() if devices is None else devices)
    n_dev = len(devices)
    n_threads = _thread_count(threads, run_batch_size, devices, n_runs)
    pad = (-n_runs) % (n_dev * n_threads)
    take_pad = np.concatenate([np.arange(n_runs), np.full(pad, n_runs - 1)]).astype(int)
    # runs in groups, one per host thread, interleaved (run i in group i mod W): a group is a
    # compiled call of its own, and W calls run side by side on W cores
    groups = [np.arange(g, n_runs + pad, n_threads) for g in range(n_threads)]
    back = np.argsort(np.concatenate(groups))  # group order -> run order

    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        key_impl = str(jax.random.key_impl(keys))
        key_data = np.asarray(jax.random.key_data(keys))
    else:  # legacy uint32 keys (R, 2)
        key_impl, key_data = None, np.asarray(keys)
    x_runs = np.ascontiguousarray(np.asarray(X)[take_pad])  # (R, N, F), samples first
    args = (
        key_data[take_pad],
        x_runs,
        np.asarray(y[take_pad], np.int32),
        np.ascontiguousarray(mask[take_pad]),
        jax.tree_util.tree_map(lambda v: np.asarray(v)[take_pad], hp),
    )
    runner, (start_fn, chunk_fn, final_fn) = _compiled_many(
        spec,
        _static_key(config),
        spec.n_classes,
        run_batch_size,
        devices,
        str(X.dtype),
        key_impl,
        fitness,
    )
    placed = [
        _place(jax.tree_util.tree_map(lambda a, idx=idx: a[idx], args), devices) for idx in groups
    ]
    started = [start_fn(*group) for group in placed]
    state = [st for st, _ in started]  # one loop state per group
    k_finals = [k for _, k in started]
    saver = ckpt.Checkpointer(
        checkpoint,
        "run_many",
        {
            "network": ckpt.digest(spec),
            "config": ckpt.digest(config),
            "settings": ckpt.digest(*(np.asarray(hp[k]) for k in sorted(hp)), sorted(hp)),
            # the (R, F, N) bytes, as checkpoints always had
            "data": ckpt.digest(np.transpose(x_runs, (0, 2, 1)), args[2], args[3]),
            "key": ckpt.digest(key_impl, key_data),
            "fitness": str(ckpt.function_name(fitness)),
            "layout": ckpt.digest(n_dev, run_batch_size, n_threads),
        },
        checkpoint_every if jax.process_count() == 1 else 0.0,
    )
    hists, rans = [], []
    gen = 0
    resumed = saver.resume(state)
    if resumed is not None:
        state, hist0, _ = resumed
        if hist0:
            rans.append(hist0.pop("ran"))
            hists.append(hist0)
            gen = rans[0].shape[1]
        logger.info(f"run_many: resumed from {checkpoint} at generation {gen}")

    def joined() -> dict[str, np.ndarray]:
        out = {k: np.concatenate([h[k] for h in hists], axis=1) for k in hists[0]}
        out["ran"] = np.concatenate(rans, axis=1)
        return out

    def all_done(state: Any) -> bool:
        return all(bool(np.all(to_host(st.done))) for st in state)

    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    x64 = bool(jnp.zeros(()).dtype == jnp.float64)  # the caller's precision, for the threads

    def advance(state: Any, _: int) -> tuple[Any, ChunkReport]:
        nonlocal gen
        draws = None if streams is None else streams.draws(gen, config.chunk)
        phase_end = timed("generations")  # timing hook

        def one(g: int) -> tuple[Any, Any]:
            # a thread does not inherit a `with jax.enable_x64(...)` block of the caller's
            with jax.enable_x64(x64):
                st, h = chunk_fn(state[g], *placed[g][1:], draws)
                return st, to_host(h)

        if pool is None:
            parts = [one(0)]
            if streams is not None:  # the next chunk's numbers while the device works
                streams.prepare(gen + config.chunk, config.chunk)
        else:
            futures = [pool.submit(one, g) for g in range(n_threads)]
            if streams is not None:
                streams.prepare(gen + config.chunk, config.chunk)
            parts = [f.result() for f in futures]
        state = [st for st, _ in parts]
        h = _in_run_order([h for _, h in parts], back)
        rans.append(h.pop("ran"))
        hists.append(h)
        gen += rans[-1].shape[1]
        phase_end()  # timing hook
        line = functools.partial(_progress_line, gen, rans[-1], h, n_runs)
        return state, ChunkReport(gen - 1, all_done(state), line)

    try:
        state = drive(
            state,
            advance,
            is_done=all_done,
            where="run_many",
            unit="generation",
            saver=saver,
            history=joined,
            view=lambda: _history(hists, rans, n_runs)[0],
            callback=callback,
            log=logger if progress else None,
            snapshot=_host_state,
        )
    finally:
        if pool is not None:
            pool.shutdown()
    phase_end = timed("final")  # timing hook
    finals = [
        to_host((final_fn(st, k, *group[1:]), st.hof.val))
        for st, k, group in zip(state, k_finals, placed, strict=True)
    ]
    ((coords, ensemble, scores), selection), hof_val = _in_run_order(finals, back, axis=0)
    history, ran = _history(hists, rans, n_runs)
    n_gen = ran.sum(axis=1)
    phase_end()  # timing hook
    cut = functools.partial(jax.tree_util.tree_map, lambda a: a[:n_runs])
    return SweepResult(
        spec=spec,
        config=config,
        coords=cut(coords),
        ensemble=None if ensemble is None else cut(ensemble),
        history=history,
        stopped_at=n_gen - 1,
        generations_run=n_gen,
        hall_of_fame_val=hof_val[:n_runs],
        final_scores=scores[:n_runs],
        settings={k: v for k, v in hp.items() if k in SWEEPABLE},
        seconds=time.perf_counter() - start,
        selection=cut(selection),
        timing={} if streams is None else {"replay_streams_seconds": streams.seconds},
    )


def _thread_count(
    threads: int | None, run_batch_size: int | None, devices: Sequence[Any], n_runs: int
) -> int:
    """Host threads of :func:`run_many`: ``threads``, or by default one per CPU core (at most
    one per run) when the runs go one at a time (``run_batch_size=1``) on one CPU device:
    XLA runs such a run's small operations on one core, so the others would sit idle."""
    if threads is not None:
        if not (isinstance(threads, int) and threads >= 1):
            raise ValueError(f"run_many: threads must be an integer >= 1, got {threads!r}")
        return min(threads, n_runs)
    if run_batch_size != 1 or len(devices) != 1 or devices[0].platform != "cpu":
        return 1
    if jax.process_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, n_runs))


def _in_run_order(parts: Sequence[Any], back: np.ndarray, axis: int = 1) -> Any:
    """The groups' results joined along the runs axis and put back in run order.

    ``parts``: one pytree per group, the runs on axis 0 (``axis=0``) or the history's runs
    axis 0 with generations on axis 1 (``axis=1``: the same, the runs are axis 0)."""
    del axis  # the runs axis is the first in both cases

    def join(*leaves: Any) -> Any:
        if leaves[0] is None:
            return None
        return np.concatenate([np.asarray(a) for a in leaves], axis=0)[back]

    return jax.tree_util.tree_map(join, *parts, is_leaf=lambda a: a is None)


def _authors_splits(
    config: GAConfig,
    hp: Mapping[str, np.ndarray],
    y: np.ndarray,
    mask: np.ndarray,
    row_keys: Any,
) -> dict[str, np.ndarray]:
    """Every run's authors' splits (:func:`~debinn_jax.ga.train.authors_split_pair`), stacked:
    ``splits`` and ``final_splits`` as ``(train (R, S, N), val (R, S, N))``. A run's final
    splits use seed base ``generations + 1`` of that run."""
    n_runs, n = y.shape
    if row_keys is None:
        keys = [None] * n_runs
    elif len(row_keys) == n and all(isinstance(k, str | int | np.integer) for k in row_keys):
        keys = [[str(k) for k in row_keys]] * n_runs
    else:
        keys = [list(map(str, k)) for k in row_keys]
        if len(keys) != n_runs or any(len(k) != n for k in keys):
            raise ValueError(
                f"run_many: row_keys must be N = {n} keys or (R = {n_runs}, N) keys, got "
                f"{len(row_keys)} entries"
            )
    cache: dict[Any, Any] = {}
    pairs = []
    for i in range(n_runs):
        run_cfg = dataclasses.replace(config, generations=int(hp["generations"][i]))
        sig = (
            run_cfg.generations,
            None if keys[i] is None else tuple(keys[i]),
            y[i].tobytes(),
            mask[i].tobytes(),
        )
        if sig not in cache:
            cache[sig] = authors_split_pair(run_cfg, y[i], mask[i], keys[i])
        pairs.append(cache[sig])
    return {
        "splits": tuple(np.stack([p[0][j] for p in pairs]) for j in range(2)),
        "final_splits": tuple(np.stack([p[1][j] for p in pairs]) for j in range(2)),
    }


def _replay_streams(spec: NetworkSpec, config: GAConfig, hp: Mapping[str, np.ndarray]) -> Any:
    """The authors' streams shared by every run of a replay (their settings must agree)."""
    check_replay_precision("run_many")
    values = {}
    for name in ("generations", "r_max", "r_min", "mutation_prob", "crossover_prob"):
        column = np.asarray(hp[name])
        if np.any(column != column[0]):
            raise ValueError(
                f"run_many: a replay's runs share the authors' random numbers, so they must "
                f"have the same {name}; got {sorted(set(column.tolist()))}"
            )
        values[name] = column[0].item()
    if values["crossover_prob"] != 0.5:
        raise ValueError(
            f"run_many: a replay needs crossover_prob 0.5, got {values['crossover_prob']}"
        )
    return replay_streams(
        spec,
        dataclasses.replace(
            config, **{k: values[k] for k in ("generations", "r_max", "r_min", "mutation_prob")}
        ),
    )
