"""Watching and stopping long runs between compiled chunks: callbacks, SIGINT, SIGTERM.

The trainers (:func:`~debinn_jax.ga.train_ga`, :func:`~debinn_jax.gd.train_gd`,
:func:`~debinn_jax.sweep.run_many`) run compiled chunks of generations or epochs from a host
loop.

Callbacks (:data:`ChunkCallback`): ``callback(step, history)`` is called after every chunk with
the generation (GA) or epoch (GD) reached and the history so far (numpy arrays, the same keys
and layout as the trainer's result). A truthy return value asks the trainer to stop: it ends
the loop there and returns a consistent result of the generations/epochs run so far (as if
the budget had ended). None or False: go on. The callback runs on the host between compiled
chunks, so it may log, plot or write files; with several processes it runs in each (the
run goes on only if no process asked to stop).

Signals: while the loop runs, :func:`stop_signals` turns SIGINT (Ctrl-C) and SIGTERM (``kill``,
``scancel``, a scheduler's time limit) into a request that the loop reads after the current chunk;
the trainer then raises :class:`RunInterrupted` with a one-line message. A second signal of the
same kind interrupts at once (``KeyboardInterrupt``).

Checkpoints: with ``checkpoint=PATH`` the trainers write their checkpoint
(:mod:`debinn_jax.checkpoint`) after the chunk they stop after, before raising
:class:`RunInterrupted` or returning for a callback's stop; calling them again with the same
arguments resumes there.

Several processes (``jax.distributed.initialize``): every process must leave the loop after the
same chunk, or the others would wait forever in the next collective. :func:`stop_requested` is
therefore collective there: each process contributes its own request and all stop if any asked.
SIGTERM is special in that mode: ``jax.distributed.initialize`` starts JAX's *preemption
service* (config ``jax_enable_preemption_service``, on by default), which installs its own
SIGTERM handler, so the signal no longer ends the process. We leave that handler in place and
ask the service instead (``multihost_utils.reached_preemption_sync_point``): when any process
received SIGTERM, the service picks one chunk at which every process sees the request. With the
service switched off (``jax.config.update("jax_enable_preemption_service", False)`` before
``initialize``) SIGTERM is handled here like SIGINT.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

#: ``callback(step, history) -> bool | None`` called after every compiled chunk; truthy = stop.
ChunkCallback = Callable[[int, Mapping[str, Any]], "bool | None"]

#: Chunk counter shared by every host loop of this process: the preemption service needs step
#: numbers that only grow within a process, across calls.
_STEPS = itertools.count()


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM between two compiled chunks (no result).

    A ``KeyboardInterrupt`` so that ``except Exception`` does not swallow it.

    Attributes:
        signum: the signal number.
        exit_code: ``128 + signum``, the shell's convention for a process ended by a signal.
        step: the last generation or epoch run (None when the trainer did not say).
    """

    def __init__(self, signum: int, message: str, step: int | None = None) -> None:
        super().__init__(message)
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        self.step = step

    def __str__(self) -> str:
        return str(self.args[0])


def signal_name(signum: int) -> str:
    """``"SIGTERM"`` for ``signal.SIGTERM`` and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@dataclasses.dataclass
class StopFlag:
    """The signal received while a host loop ran (None: none yet)."""

    signum: int | None = None


def _preemption_service_active() -> bool:
    """Whether ``jax.distributed`` runs JAX's preemption service (it owns SIGTERM then)."""
    import jax

    if not jax.distributed.is_initialized():
        return False
    try:
        from jax._src import distributed

        return distributed.global_state.preemption_sync_manager is not None
    except (ImportError, AttributeError):  # a newer jax: assume the documented default
        return bool(jax.config.jax_enable_preemption_service)


@contextlib.contextmanager
def stop_signals() -> Iterator[StopFlag]:
    """Within the block, SIGINT and SIGTERM set the yielded :class:`StopFlag`.

    The previous handlers are restored on exit. A second signal of the kind already received
    raises ``KeyboardInterrupt`` at once. Outside the main thread (where Python cannot set
    handlers) the flag is never set. SIGTERM is left to JAX while its preemption service runs
    (see the module docstring).
    """
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    signums = [signal.SIGINT]
    if not _preemption_service_active():
        signums.append(signal.SIGTERM)

    def handler(signum: int, frame: object) -> None:
        if flag.signum == signum:
            raise KeyboardInterrupt
        flag.signum = signum

    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, signal.SIG_DFL if h is None else h)


def stop_requested(flag: StopFlag) -> int | None:
    """The signal that asks this loop to stop now, or None; call once after every chunk.

    With several JAX processes this is collective (every process must call it after the same
    chunks) and all processes get the same answer.
    """
    import jax

    step = next(_STEPS)
    signum = flag.signum or 0
    if jax.process_count() == 1:
        return signum or None
    from jax.experimental import multihost_utils

    signum = int(np.max(multihost_utils.process_allgather(np.int32(signum))))
    if not signum and _preemption_service_active():
        if multihost_utils.reached_preemption_sync_point(step):
            signum = int(signal.SIGTERM)
    return signum or None


def interrupted(signum: int, where: str, progress: str, step: int | None = None) -> RunInterrupted:
    """The exception a trainer raises, e.g. ``run_many: stopped by SIGTERM after generation 40
    (between compiled chunks); no result``; ``step`` is the generation or epoch (40)."""
    return RunInterrupted(
        signum,
        f"{where}: stopped by {signal_name(signum)} after {progress} (between compiled chunks); "
        "no result",
        step,
    )


def callback_stop(callback: ChunkCallback | None, step: int, history: Any) -> bool:
    """Call ``callback(step, history())`` if given; whether it asked to stop.

    ``history`` is a zero-argument function (built only when there is a callback). With
    several JAX processes the answer is collective: True in every process if any asked.
    """
    if callback is None:
        return False
    stop = bool(callback(int(step), history()))
    import jax

    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        stop = bool(np.max(multihost_utils.process_allgather(np.int32(stop))))
    return stop
