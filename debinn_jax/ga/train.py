"""train_ga: one GA run of a DEBI-NN, driven chunk by chunk from the host."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax import checkpoint as ckpt
from debinn_jax import stopping
from debinn_jax.cache import ensure_compilation_cache
from debinn_jax.data.dataset import check_training_data
from debinn_jax.data.splits import (
    authors_splits,
    default_keys,
    leave_out_counts,
    leave_out_ratios,
    subset_sizes,
)
from debinn_jax.driver import ChunkReport, drive
from debinn_jax.ga.config import GAConfig, static_config
from debinn_jax.ga.loop import Runner, make_runner
from debinn_jax.ga.replay import ReplayStreams, StreamSettings, gene_permutation
from debinn_jax.loss import LossFn
from debinn_jax.network import Coords, NetworkSpec, model_proba, param_count

logger = logging.getLogger(__name__)


def _compiled(
    spec: NetworkSpec, config: GAConfig, n_classes: int, fitness: LossFn | None = None
) -> tuple[Runner, Any]:
    """The jitted per-run functions, cached per (spec, static config, classes, fitness, float
    dtype). A user ``fitness`` is cached by identity: pass the same function object to reuse
    the compiled program."""
    return _compiled_for(spec, config, n_classes, str(jnp.zeros(()).dtype), fitness)


@functools.lru_cache(maxsize=32)
def _compiled_for(
    spec: NetworkSpec, config: GAConfig, n_classes: int, dtype: str, fitness: LossFn | None
) -> tuple[Runner, Any]:
    # ``dtype`` is part of the key: make_runner reads the default float dtype when built
    runner = make_runner(spec, config, n_classes, fitness)
    return runner, (
        jax.jit(runner.start),
        jax.jit(runner.chunk),
        jax.jit(runner.finalize),
    )


def _static_key(config: GAConfig) -> GAConfig:
    # the linear-schedule std of SimpleGA depends on r_max/r_min at construction
    if config.algorithm == "SimpleGA":
        return config
    return static_config(config)


def split_counts(config: GAConfig, y: Any, sample_mask: Any = None) -> np.ndarray:
    """Per-ratio validation cases per class of the 2025 leave-out splits, ``(n_ratios,)``."""
    return leave_out_counts(y, leave_out_ratios(*config.leave_out), sample_mask)


def run_settings(
    config: GAConfig, y: Any, sample_mask: Any = None, keys: Sequence[str] | None = None
) -> dict[str, Any]:
    """The traced per-run settings of a resolved ``config`` for labels ``y`` (host side):
    :meth:`GAConfig.numeric`, plus ``split_counts`` with ``subsets="leave_out"``, plus with
    ``splits="authors"`` the authors' splits ``splits`` (training, seed base 0) and
    ``final_splits`` (seed base ``generations + 1``), each ``(train (S, N), val (S, N))``,
    built from the row ``keys`` (default ``"1" .. "N"``)."""
    hp = config.numeric()
    if config.subsets == "leave_out":
        hp["split_counts"] = jnp.asarray(split_counts(config, y, sample_mask), jnp.int32)
        if config.splits == "authors":
            hp["splits"], hp["final_splits"] = authors_split_pair(config, y, sample_mask, keys)
    return hp


def authors_split_pair(
    config: GAConfig, y: Any, sample_mask: Any = None, keys: Sequence[str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The authors' training splits (seed base 0) and final-selection splits (seed base
    ``generations + 1``) of a resolved 2025 ``config`` (:func:`authors_splits`)."""
    y = np.asarray(y)
    if keys is None:
        keys = default_keys(y.shape[0])
    ratios = leave_out_ratios(*config.leave_out)
    n_classes = int(np.max(y)) + 1

    def pair(base: int) -> tuple[np.ndarray, np.ndarray]:
        return authors_splits(
            keys, y, n_classes, ratios, config.splits_per_ratio, base, config.cpp_rules, sample_mask
        )

    return pair(0), pair(config.generations + 1)


def replay_streams(spec: NetworkSpec, config: GAConfig) -> ReplayStreams:
    """The authors' random streams of a resolved replay ``config`` (host side)."""
    settings = StreamSettings(
        rules=config.cpp_rules,
        population_size=config.population_size,
        iterations=config.generations,
        tournament_size=config.tournament_size,
        beat_period=config.beat_period,
        genes=param_count(spec),
        r_max=float(config.r_max),
        r_min=float(config.r_min),
        mutation_prob=float(config.mutation_prob),
    )
    return ReplayStreams(settings, gene_permutation(spec), np.float64)


def check_replay_precision(where: str) -> None:
    """A replay computes in float64: raise a one-line ValueError otherwise."""
    if jnp.zeros(()).dtype != jnp.float64:
        raise ValueError(
            f"{where}: replaying the authors' runs needs float64 (enable it with "
            "jax.config.update('jax_enable_x64', True), or --precision float64); float32 "
            "cannot repeat their decisions"
        )


def evaluated_generations(config: GAConfig) -> int:
    """Generations a run evaluates when it never stops early: T, or T + 1 with the 2025 rules
    (the initial population plus T iterations)."""
    return config.generations + (1 if config.hof_rule == "2025" else 0)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class GAResult:
    """Outcome of :func:`train_ga`.

    Attributes:
        coords: final coordinate pytree (no population axis).
        ensemble: for ``ensemble_mode="predictions"`` and E > 1, the E members' coords with a
            leading axis; else None.
        spec: the network spec.
        config: the GA settings used (``"auto"`` fields resolved).
        history: the training trace, numpy arrays with one entry per generation run:
            ``train_fitness`` (best training fitness in the population), ``val_fitness`` (best
            validation fitness in the population), ``hof_val`` (best validation fitness in
            the hall of fame), ``tolerance`` (the hall-of-fame tolerance after that
            generation), ``amplitude`` (mutation amplitude used to make that generation; NaN
            at 0), ``hof_entries`` (members that entered the hall of fame).
        stopped_at: index of the last generation evaluated (``generations_run - 1``).
        generations_run: generations evaluated, generation 0 (initial population) included.
        early_stopped: whether the early-stopping rule ended the run.
        hall_of_fame: dict of numpy arrays ``val (H,)``, ``train (H,)`` and ``coords``
            (pytree with a leading H axis); empty slots have ``val = inf``.
        final_scores: mean re-scoring loss of the chosen member(s), ``(E,)``.
        seconds: wall time of the run (compilation included).
        selection: the final selection: ``candidate`` ``(E,)`` the chosen candidates'
            positions in the candidate list, ``candidate_scores`` ``(C,)`` (+inf = empty or
            skipped), ``candidate_ids`` ``(C,)`` (2025 rules: which individual, -1 none),
            ``last_entry`` (2025 rules: the iteration of the last hall-of-fame entry).
    """

    coords: Coords
    ensemble: Coords | None
    spec: NetworkSpec
    config: GAConfig
    history: dict[str, np.ndarray]
    stopped_at: int
    generations_run: int
    early_stopped: bool
    hall_of_fame: dict[str, Any]
    final_scores: np.ndarray
    seconds: float
    selection: dict[str, Any] = dataclasses.field(default_factory=dict)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` for inputs ``X`` ``(n, f)``; averages an ensemble."""
        X = np.asarray(X, np.float64).astype(jnp.zeros(()).dtype)
        return model_proba(self.spec, self.coords, X, self.ensemble)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class indices ``(n,)`` (argmax, ties to the lower index)."""
        return np.argmax(self.predict_proba(X), axis=1)


def _check_data(spec: NetworkSpec, X: Any, y: Any) -> tuple[jax.Array, jax.Array]:
    """``(X (N, F), y (N,))`` on the device, after the shared check and the subset sizes."""
    X, y = check_training_data(X, y, spec.n_inputs, spec.n_classes, where="train_ga")
    subset_sizes(y, spec.n_classes)
    return jnp.asarray(X, jnp.zeros(()).dtype), jnp.asarray(y, jnp.int32)


def _history(hists: list[dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The chunks' traces joined: (history without the generations that did not run, ran)."""
    history = {k: np.concatenate([h[k] for h in hists]) for k in hists[0]}
    ran = history.pop("ran")
    return {k: v[ran] for k, v in history.items()}, ran


def _generations(hists: list[dict[str, np.ndarray]]) -> int:
    """Generations evaluated in the chunks' traces."""
    return int(sum(np.sum(h["ran"]) for h in hists))


def _steps(hists: list[dict[str, np.ndarray]]) -> int:
    """Generation steps taken so far (run or skipped): the next chunk's first generation."""
    return int(sum(np.shape(h["ran"])[0] for h in hists))


def _progress_line(gen: int, hist: dict[str, np.ndarray], n_new: int, seconds: float) -> str:
    rate = n_new / max(seconds, 1e-9)
    return (
        f"gen {gen:6d}  train {np.nanmin(hist['train_fitness']):.4f}  "
        f"val {np.nanmin(hist['val_fitness']):.4f}  hof {np.nanmin(hist['hof_val']):.4f}  "
        f"{rate:8.1f} gen/s"
    )


def train_ga(
    spec: NetworkSpec,
    X: Any,
    y: Any,
    key: jax.Array,
    config: GAConfig = GAConfig(),  # noqa: B008 (frozen, hashable)
    *,
    progress: bool = False,
    callback: stopping.ChunkCallback | None = None,
    fitness: LossFn | None = None,
    checkpoint: ckpt.PathLike | None = None,
    checkpoint_every: float = 0.0,
    keys: Sequence[str] | None = None,
) -> GAResult:
    """Train a DEBI-NN with a genetic algorithm (spec section 6).

    Args:
        spec: the network.
        X: ``(n, f)`` float features, standardised by the caller on the training split.
        y: ``(n,)`` integer class indices.
        key: a ``jax.random`` key; the same key gives a bit-identical result on the same
            backend, jax version and ``batch_size``.
        config: GA settings.
        progress: log one line per chunk at INFO level on the ``debinn_jax.ga.train``
            logger (generation, best training / validation fitness, generations per second);
            the ``debinn`` command shows them, a script needs e.g.
            ``logging.basicConfig(level=logging.INFO)``.
        callback: ``callback(generation, history)`` after every chunk
            (:data:`debinn_jax.stopping.ChunkCallback`): ``generation`` is the last generation
            evaluated, ``history`` the :attr:`GAResult.history` so far. Returning True stops
            the run there: the result is the final selection of the generations run so far
            (``early_stopped`` True).
        fitness: what the GA minimises, a :data:`debinn_jax.loss.LossFn`
            ``fitness(logp (K, N), y (N,), mask (N,), coords) -> ()`` scored on every
            individual's training and validation subsets (default: the DEBI loss of
            ``config.loss``; :func:`debinn_jax.loss.debi_loss_fn` builds it, to extend it).
            Subsets, hall of fame, early stopping and the final selection are unchanged; the
            algorithm (``config.algorithm``) may be any evosax one.
        checkpoint: a file (:mod:`debinn_jax.checkpoint`) holding the loop state and history
            after the last chunk written. If it exists and belongs to this run (same spec,
            config, data, key, fitness name), the run resumes from it and ends bit-identical
            to an uninterrupted run (on the same backend and jax version; ``seconds`` then
            counts this call only). It is rewritten atomically after every chunk (see
            ``checkpoint_every``), before a SIGINT/SIGTERM stop and a callback's stop, and
            kept after the run ends (calling again then returns the same result without
            training; delete the file to train afresh). A user ``fitness`` is identified by
            its name only.
        checkpoint_every: seconds between periodic checkpoint writes; 0 = after every chunk.
        keys: the ``n`` row keys the authors' splits are built from (``splits="authors"``;
            the first column of the authors' training table); default ``"1" .. "n"``.

    Raises:
        debinn_jax.stopping.RunInterrupted: SIGINT or SIGTERM arrived during the run (it
            stops after the current chunk).
        ValueError: ``config.replay`` without float64.
        debinn_jax.checkpoint.CheckpointError: ``checkpoint`` is damaged or belongs to another
            run (a ``ValueError``; the file is left as it is).

    Returns:
        A :class:`GAResult`.
    """
    ensure_compilation_cache()
    start = time.perf_counter()
    config = config.resolve(spec)
    x_j, y_j = _check_data(spec, X, y)
    sample_mask = jnp.ones(y_j.shape, jnp.float32)
    if fitness is not None and not callable(fitness):
        raise ValueError(f"train_ga: fitness must be a function, got {type(fitness).__name__}")
    runner, (start_fn, chunk_fn, final_fn) = _compiled(
        spec, _static_key(config), spec.n_classes, fitness
    )
    if config.replay:
        check_replay_precision("train_ga")
    hp = run_settings(config, np.asarray(y_j), keys=keys)
    streams = replay_streams(spec, config) if config.replay else None
    k_run, k_final = jax.random.split(key)
    state = start_fn(k_run, x_j, y_j, sample_mask, hp)
    saver = ckpt.Checkpointer(
        checkpoint,
        "train_ga",
        {
            "network": ckpt.digest(spec),
            "config": ckpt.digest(config),
            # the (F, N) bytes, as checkpoints always had
            "data": ckpt.digest(x_j.T, y_j, *(np.asarray(a) for a in hp.get("splits", ()))),
            "key": ckpt.key_fingerprint(key),
            "fitness": str(ckpt.function_name(fitness)),
        },
        checkpoint_every,
    )
    hists: list[dict[str, np.ndarray]] = []
    resumed = saver.resume(state)
    if resumed is not None:
        state, hist0, _ = resumed
        if hist0:
            hists.append(hist0)
        logger.info(f"train_ga: resumed from {checkpoint} at generation {_generations(hists)}")

    def advance(state: Any, _: int) -> tuple[Any, ChunkReport]:
        t0 = _steps(hists)
        draws = None if streams is None else streams.draws(t0, config.chunk)
        state, h = chunk_fn(state, x_j, y_j, sample_mask, hp, draws)
        if streams is not None:  # the next chunk's numbers while the device works
            streams.prepare(t0 + config.chunk, config.chunk)
        hists.append(jax.device_get(h))
        gen = _generations(hists) - 1
        n_new = int(np.sum(hists[-1]["ran"]))
        line = functools.partial(_progress_line, gen, hists[-1], n_new)
        return state, ChunkReport(gen, bool(state.done), line)

    state = drive(
        state,
        advance,
        is_done=lambda s: bool(s.done),
        where="train_ga",
        unit="generation",
        saver=saver,
        history=lambda: {k: np.concatenate([h[k] for h in hists]) for k in hists[0]},
        view=lambda: _history(hists)[0],
        callback=callback,
        log=logger if progress else None,
    )
    coords, ensemble, scores, final = final_fn(state, k_final, x_j, y_j, sample_mask, hp)
    history, ran = _history(hists)
    n_run = int(ran.sum())
    hof = jax.device_get(state.hof)
    selection = {k: np.asarray(v) for k, v in jax.device_get(final).items()}
    selection["last_entry"] = int(state.last_entry)
    return GAResult(
        coords=jax.device_get(coords),
        ensemble=None if ensemble is None else jax.device_get(ensemble),
        spec=spec,
        config=config,
        history=history,
        stopped_at=n_run - 1,
        generations_run=n_run,
        early_stopped=n_run < evaluated_generations(config),
        hall_of_fame={
            "val": np.asarray(hof.val),
            "train": np.asarray(hof.train),
            "ids": np.asarray(hof.ids),
            "coords": jax.device_get(jax.vmap(runner.unravel)(jnp.asarray(hof.genes))),
        },
        final_scores=np.asarray(scores),
        seconds=time.perf_counter() - start,
        selection=selection,
    )
