"""The seams shared by every trainer: the host driver (debinn_jax.driver) and the one check of
a training set (debinn_jax.data.dataset.check_training_data). Tiny inputs, nothing compiled."""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

import jax
import numpy as np
import pytest

import debinn_jax as dj
from debinn_jax.data.dataset import check_labels, check_training_data
from debinn_jax.driver import ChunkReport, drive
from debinn_jax.stopping import RunInterrupted


class RecordingSaver:
    """Stands in for a Checkpointer: records every write (step, final, the saved state)."""

    def __init__(self, every_chunk: bool = True) -> None:
        self.every_chunk = every_chunk
        self.writes: list[tuple[int, bool, Any]] = []

    def save(self, state, history, *, step, extra=None, final=False) -> bool:
        if not (final or self.every_chunk):
            return False
        self.writes.append((step, final, state() if callable(state) else state, history()))
        return True


def counter(n_chunks: int, per_chunk: int = 5, on_chunk=None):
    """A toy trainer: the state is the generations run; each chunk runs ``per_chunk``."""
    record: list[int] = []

    def advance(state: int, c: int) -> tuple[int, ChunkReport]:
        if on_chunk is not None:
            on_chunk(c)
        state += per_chunk
        record.append(state)
        done = state >= n_chunks * per_chunk
        return state, ChunkReport(state - 1, done, lambda s: f"gen {state - 1} in {s:.3f} s")

    return advance, record


def test_drive_runs_until_done_and_saves_every_chunk() -> None:
    advance, record = counter(4)
    saver = RecordingSaver()
    state = drive(
        0,
        advance,
        is_done=lambda s: s >= 20,
        where="toy",
        unit="generation",
        saver=saver,
        history=lambda: {"gens": list(record)},
        view=lambda: list(record),
    )
    assert state == 20 and record == [5, 10, 15, 20]
    assert [(w[0], w[1]) for w in saver.writes] == [(4, False), (9, False), (14, False), (19, True)]
    assert saver.writes[-1][3] == {"gens": [5, 10, 15, 20]}


def test_drive_runs_nothing_for_a_finished_state() -> None:
    advance, record = counter(4)
    saver = RecordingSaver()
    state = drive(
        20,
        advance,
        is_done=lambda s: s >= 20,
        where="toy",
        unit="generation",
        saver=saver,
        history=dict,
        view=list,
    )
    assert state == 20 and record == [] and saver.writes == []


def test_callback_stop_is_saved_as_final_and_sees_the_history() -> None:
    advance, record = counter(10)
    saver = RecordingSaver(every_chunk=False)  # periodic writes not due: only final ones
    seen = []

    def callback(step: int, view: list[int]) -> bool:
        seen.append((step, list(view)))
        return step >= 9

    state = drive(
        0,
        advance,
        is_done=lambda s: False,
        where="toy",
        unit="generation",
        saver=saver,
        history=lambda: {"n": len(record)},
        view=lambda: record,
        callback=callback,
        snapshot=lambda s: {"state": s},
    )
    assert state == 10
    assert seen == [(4, [5]), (9, [5, 10])]
    assert saver.writes == [(9, True, {"state": 10}, {"n": 2})]


def test_chunk_indices_and_progress_lines(caplog: pytest.LogCaptureFixture) -> None:
    seen = []
    advance, _ = counter(10, on_chunk=seen.append)
    log = logging.getLogger("test_driver")
    with caplog.at_level(logging.INFO, logger="test_driver"):
        state = drive(
            0,
            advance,
            is_done=lambda s: False,
            where="toy",
            unit="epoch",
            saver=RecordingSaver(),
            history=dict,
            view=list,
            log=log,
            chunks=range(3, 6),
        )
    assert seen == [3, 4, 5] and state == 15
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == [
        "gen 4",
        "gen 9",
        "gen 14",
    ]


def test_a_signal_stops_after_the_chunk_with_a_final_checkpoint() -> None:
    def on_chunk(c: int) -> None:
        if c == 1:
            os.kill(os.getpid(), signal.SIGINT)

    advance, record = counter(10, on_chunk=on_chunk)
    saver = RecordingSaver(every_chunk=False)
    # the handler in place before the run (SIG_IGN, not Python's default, when the test
    # process was started in the background by a non-interactive shell)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(RunInterrupted, match="toy: stopped by SIGINT after epoch 9"):
        drive(
            0,
            advance,
            is_done=lambda s: False,
            where="toy",
            unit="epoch",
            saver=saver,
            history=dict,
            view=list,
        )
    assert record == [5, 10]
    assert [(w[0], w[1]) for w in saver.writes] == [(9, True)]
    assert signal.getsignal(signal.SIGINT) is before


# --------------------------------------------------------------------------------------------
# One check of a training set, the same in every trainer

SPEC = dj.NetworkSpec(n_inputs=2, hidden=(3,), n_classes=2)
X_OK = np.random.default_rng(0).normal(size=(12, 2))
Y_OK = np.array([0, 1] * 6)


def _nan_x() -> np.ndarray:
    X = X_OK.copy()
    X[3, 1] = np.nan
    return X


BAD = [
    ("wrong columns", X_OK[:, :1], Y_OK, "X must have shape \\(n, 2\\)"),
    ("NaN feature", _nan_x(), Y_OK, "X must be finite: row index 3, column index 1"),
    ("text features", np.full((12, 2), "a"), Y_OK, "X must hold numbers"),
    (
        "fractional labels",
        X_OK,
        Y_OK + 0.5,
        "y must hold integer class indices, got non-integer values such as 0.5",
    ),
    (
        "text labels",
        X_OK,
        np.array(["a", "b"] * 6),
        "y must hold integer class indices, got dtype <U1",
    ),
    ("labels out of range", X_OK, Y_OK + 1, "y must hold class indices in 0..1"),
    ("one label short", X_OK, Y_OK[:-1], "y must have 12 labels"),
]


def _trainers() -> dict[str, Any]:
    key = jax.random.key(0)
    return {
        "train_ga": lambda X, y: dj.train_ga(SPEC, X, y, key),
        "train_gd": lambda X, y: dj.train_gd(SPEC, X, y, key),
        "run_many": lambda X, y: dj.run_many(SPEC, X, y, jax.random.split(key, 2)),
    }


@pytest.mark.parametrize("trainer", ["train_ga", "train_gd", "run_many"])
@pytest.mark.parametrize(("case", "X", "y", "message"), BAD, ids=[b[0] for b in BAD])
def test_every_trainer_rejects_bad_data_with_the_same_message(
    trainer: str, case: str, X: Any, y: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=f"{trainer}: {message}"):
        _trainers()[trainer](X, y)


def test_whole_number_float_labels_are_class_indices_everywhere() -> None:
    X, y = check_training_data(X_OK, Y_OK.astype(float), 2, 2, where="t")
    assert y.dtype == np.int32 and np.array_equal(y, Y_OK)
    assert X.dtype == np.float64
    assert check_labels(np.array([[1.0, 0.0]]), 2, where="t").tolist() == [[1, 0]]
    data = dj.Dataset(
        X=X_OK, y=Y_OK.astype(float), feature_names=("a", "b"), classes=(0, 1),
        keys=tuple(str(i) for i in range(12)), source="test",
    )  # fmt: skip
    assert data.y.dtype == np.int32


def test_sweep_layout_is_checked_per_run() -> None:
    X3 = np.stack([X_OK, _nan_x()])
    with pytest.raises(ValueError, match="run_many: X must be finite: row index 3"):
        check_training_data(X3, Y_OK, 2, 2, where="run_many", runs=True)
