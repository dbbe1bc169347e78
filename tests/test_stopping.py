"""Between compiled chunks: signals set a flag (handlers restored afterwards); callbacks see
the progress and can stop a run with a consistent result."""

from __future__ import annotations

import os
import signal

import jax
import numpy as np
import pytest

from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.gd import GDConfig, train_gd
from debinn_jax.network import NetworkSpec
from debinn_jax.stopping import RunInterrupted, interrupted, stop_requested, stop_signals
from debinn_jax.sweep import run_many


def test_a_signal_sets_the_flag_and_handlers_are_restored():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with stop_signals() as flag:
        assert stop_requested(flag) is None
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once: the process keeps running
        assert flag.signum == signal.SIGTERM
        assert stop_requested(flag) == signal.SIGTERM
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_second_signal_of_the_same_kind_interrupts_at_once():
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when pytest runs in the background
    with pytest.raises(KeyboardInterrupt), stop_signals() as flag:
        os.kill(os.getpid(), signal.SIGINT)
        assert flag.signum == signal.SIGINT
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_the_exception_names_signal_place_and_exit_code():
    exc = interrupted(signal.SIGTERM, "run_many", "generation 40")
    assert isinstance(exc, RunInterrupted) and isinstance(exc, KeyboardInterrupt)
    assert not isinstance(exc, Exception)  # `except Exception` does not swallow it
    assert str(exc) == (
        "run_many: stopped by SIGTERM after generation 40 (between compiled chunks); no result"
    )
    assert exc.exit_code == 143 and exc.signum == signal.SIGTERM


# ------------------------------------------------------------------ per-chunk callbacks

SPEC = NetworkSpec(n_inputs=2, hidden=(4,), n_classes=2, head="softmax", shift_scale=True)
GA = GAConfig(population_size=8, generations=40, chunk=10, early_stopping=None)


def _blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
    return X.astype(np.float32), y


def test_train_ga_callback_sees_every_chunk_and_can_stop_it():
    X, y = _blobs()
    seen = []
    full = train_ga(SPEC, X, y, jax.random.key(0), GA, callback=lambda g, h: seen.append((g, h)))
    gens = [g for g, _ in seen]
    assert gens == sorted(set(gens)) and len(gens) == 4  # one call per chunk, increasing
    assert gens[-1] == full.stopped_at
    for g, h in seen:
        assert all(len(v) == g + 1 for v in h.values())  # the history so far
    np.testing.assert_array_equal(seen[-1][1]["train_fitness"], full.history["train_fitness"])

    stop_at = gens[1]
    part = train_ga(SPEC, X, y, jax.random.key(0), GA, callback=lambda g, h: g >= stop_at)
    assert part.stopped_at == stop_at and part.generations_run == stop_at + 1
    assert part.early_stopped
    for k, v in part.history.items():  # the same run, cut after the second chunk
        np.testing.assert_array_equal(v, full.history[k][: stop_at + 1], err_msg=k)
    proba = part.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow  # the callback stop is the shared driver's (train_ga/train_gd tests stay)
def test_run_many_callback_stops_every_run():
    X, y = _blobs()
    keys = jax.random.split(jax.random.key(1), 2)
    seen = []

    def callback(gen, history):
        seen.append((gen, history["train_fitness"].shape))
        return gen >= 15

    res = run_many(SPEC, X, y, keys, GA, callback=callback)
    assert [g for g, _ in seen] == [9, 19]
    assert seen == [(9, (2, 10)), (19, (2, 20))]
    assert res.generations_run.tolist() == [20, 20]
    assert res.history["train_fitness"].shape == (2, 20)
    assert np.all(np.isfinite(res.final_scores))
    one = train_ga(SPEC, X, y, keys[0], GA, callback=lambda g, h: g >= 15)
    run = res.run(0)  # equal up to last-bit float differences from batching the runs
    assert run.generations_run == one.generations_run == 20
    np.testing.assert_allclose(run.history["train_fitness"], one.history["train_fitness"], 1e-5)


def test_train_gd_callback_sees_epochs_and_can_stop():
    X, y = _blobs()
    config = GDConfig(epochs=60, chunk=20, starts=2, validation_fraction=0.25)
    seen = []

    def callback(epoch, histories):
        seen.append((epoch, histories["train_loss"].shape))
        return epoch >= 40

    res = train_gd(NetworkSpec(2, (3,), 2), X, y, jax.random.key(2), config, callback=callback)
    assert seen == [(20, (2, 20)), (40, (2, 40))]
    assert res.epochs_run == 40 and len(res.history["train_loss"]) == 40
    assert res.histories["train_loss"].shape == (2, 40)
    assert 0 <= res.best_epoch < 40
