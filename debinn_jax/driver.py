"""The host driver shared by the chunked trainers (``train_ga``, ``run_many``, ``train_gd``).

A trainer compiles a chunk of generations (GA) or epochs (GD) as one program and calls it from
the host until its run is done. Everything around those calls is the same for all three and
lives here once: the progress line, SIGINT/SIGTERM (stop after the current chunk,
:mod:`debinn_jax.stopping`), the checkpoint after every chunk (:mod:`debinn_jax.checkpoint`),
and a user callback that may stop the run early. The trainer supplies ``advance``, which runs
one chunk and keeps the trainer's own history, and says after it where the run stands
(:class:`ChunkReport`).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from debinn_jax import stopping
from debinn_jax.checkpoint import Checkpointer

State = TypeVar("State")


@dataclasses.dataclass(frozen=True)
class ChunkReport:
    """Where a run stands after a chunk.

    Attributes:
        step: the last generation or epoch evaluated (the callback's first argument and the
            checkpoint's step).
        done: the run needs no further chunk.
        describe: ``describe(seconds)`` -> the progress line of the chunk (called only when
            progress is logged; ``seconds`` is the chunk's wall time).
        extra: JSON-ready values stored with the checkpoint (e.g. chunks run).
    """

    step: int
    done: bool
    describe: Callable[[float], str]
    extra: Mapping[str, Any] | None = None


def drive(
    state: State,
    advance: Callable[[State, int], tuple[State, ChunkReport]],
    *,
    is_done: Callable[[State], bool],
    where: str,
    unit: str,
    saver: Checkpointer,
    history: Callable[[], dict[str, Any]],
    view: Callable[[], Any],
    callback: stopping.ChunkCallback | None = None,
    log: logging.Logger | None = None,
    chunks: Iterable[int] | None = None,
    snapshot: Callable[[State], Any] | None = None,
) -> State:
    """Run ``advance`` chunk by chunk until the run is done, stopped or interrupted.

    Args:
        state: the trainer's loop state (a pytree on the device).
        advance: ``advance(state, chunk_index) -> (state, report)``: run one compiled chunk,
            append its history to the trainer's own record, report where the run stands.
        is_done: whether ``state`` needs no chunk at all (asked once, before the first: a run
            resumed after its end runs none); after that each chunk's report says it.
        where, unit: for the interruption message, e.g. ``"train_ga"`` and ``"generation"``.
        saver: the trainer's checkpoint (a no-op without a path).
        history: zero-argument function giving the history dict the checkpoint stores.
        view: zero-argument function giving the history the callback sees (built only when
            there is a callback).
        callback: ``callback(step, view())`` after every chunk; True stops the run there.
        log: logger for one progress line per chunk (INFO); None = no progress lines.
        chunks: the chunk indices to run (default: 0, 1, 2, ... until done).
        snapshot: ``snapshot(state)`` -> what the checkpoint stores (default: the state); it is
            called only when a checkpoint is written (in every JAX process: it may gather).

    Returns:
        The state after the last chunk run.

    Raises:
        debinn_jax.stopping.RunInterrupted: SIGINT or SIGTERM arrived (the checkpoint, if any,
            holds the last chunk).
    """
    if is_done(state):  # e.g. resumed from the checkpoint of a finished run
        return state
    with stopping.stop_signals() as flag:
        for c in itertools.count() if chunks is None else chunks:
            t0 = time.perf_counter()
            state, report = advance(state, c)
            if log is not None:
                log.info(report.describe(time.perf_counter() - t0))
            signum = stopping.stop_requested(flag)
            to_save = state if snapshot is None else functools.partial(snapshot, state)
            save = functools.partial(
                saver.save, to_save, history, step=report.step, extra=report.extra
            )
            saved = save(final=signum is not None or report.done)
            if signum is not None:
                raise stopping.interrupted(signum, where, f"{unit} {report.step}", report.step)
            if stopping.callback_stop(callback, report.step, view):
                if not saved:
                    save(final=True)
                break
            if report.done:
                break
    return state
