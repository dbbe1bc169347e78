"""Signals during a host loop: a flag read between chunks, handlers restored afterwards."""

from __future__ import annotations

import os
import signal

import pytest

from debinn_jax.stopping import RunInterrupted, interrupted, stop_requested, stop_signals


def test_a_signal_sets_the_flag_and_handlers_are_restored():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with stop_signals() as flag:
        assert stop_requested(flag) is None
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once: the process keeps running
        assert flag.signum == signal.SIGTERM
        assert stop_requested(flag) == signal.SIGTERM
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_second_signal_of_the_same_kind_interrupts_at_once():
    with pytest.raises(KeyboardInterrupt), stop_signals() as flag:
        os.kill(os.getpid(), signal.SIGINT)
        assert flag.signum == signal.SIGINT
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_exception_names_signal_place_and_exit_code():
    exc = interrupted(signal.SIGTERM, "run_many", "generation 40")
    assert isinstance(exc, RunInterrupted) and isinstance(exc, KeyboardInterrupt)
    assert not isinstance(exc, Exception)  # `except Exception` does not swallow it
    assert str(exc) == (
        "run_many: stopped by SIGTERM after generation 40 (between compiled chunks); no result"
    )
    assert exc.exit_code == 143 and exc.signum == signal.SIGTERM
