"""Where a grid (or a set of grids) stands: the work meter behind the ETA, and durations.

A run's *work* is its FLOP count at its full generation budget (:func:`run_units`, from
:func:`debinn_jax.execution.cost.run_flops`), so an 85-64 network weighs more than a 34-34
one and a HECKTOR run more than a DLBCL one. :class:`WorkMeter` adds up the work of the runs
finished in this session; the ETA is the remaining work at the rate achieved so far (runs that
stop early make the rate higher, and the ETA follows). Runs already finished when the session
started count as done and do not enter the rate.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from debinn_jax.execution.translate import GridRun


def run_units(run: GridRun, y: Any) -> float:
    """The work of ``run`` on training labels ``y`` ``(N,)`` at its full budget (FLOPs)."""
    from debinn_jax.execution.cost import run_flops

    w = run_flops(run, y)
    return float(w["generation_flops"] + w["final_flops"])


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2 h 05 min``."""
    s = max(0, int(round(seconds)))
    if s < 90:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    h, m = divmod(round(s / 60), 60)
    return f"{h} h {m:02d} min"


def count_runs(n: int) -> str:
    """``1 run``, ``3 runs``."""
    return f"{n} run{'s' * (n != 1)}"


@dataclasses.dataclass
class WorkMeter:
    """The work of a set of runs, for a progress line with an ETA.

    Attributes:
        total: work of the runs to train in this session (units of :func:`run_units`).
        runs_total: every run of the set, finished earlier or not (``done ∪ to do``).
        runs_done: runs finished, earlier sessions included.
        scope: ``""`` for one grid (the line is just the ETA) or a name such as
            ``"all grids"`` (the line also counts runs and the share of the work).
        done: work finished in this session.
        started: ``time.perf_counter()`` at the start of the session.
    """

    total: float
    runs_total: int = 0
    runs_done: int = 0
    scope: str = ""
    done: float = 0.0
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def advance(self, units: float, runs: int) -> None:
        """``runs`` runs of ``units`` work finished."""
        self.done += units
        self.runs_done += runs

    def eta(self, now: float | None = None) -> float | None:
        """Seconds until the rest of the work is done at the rate so far; None before any."""
        if self.done <= 0:
            return None
        elapsed = (time.perf_counter() if now is None else now) - self.started
        return elapsed * max(self.total - self.done, 0.0) / self.done

    def describe(self, now: float | None = None) -> str:
        """``ETA 12 min``, or ``all grids: 296/1920 runs, 14 % of the work, ETA 2 h 10 min``."""
        eta = self.eta(now)
        text = "ETA after the first batch" if eta is None else f"ETA {duration(eta)}"
        if not self.scope:
            return text
        share = 100.0 * self.done / self.total if self.total > 0 else 100.0
        return (
            f"{self.scope}: {self.runs_done}/{self.runs_total} runs, {share:.0f} % of the work, "
            f"{text}"
        )
