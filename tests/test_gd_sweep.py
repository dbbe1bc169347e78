"""Many GD runs in one compiled call (debinn_jax.gd.run_many_gd) and the GD grid
(debinn_jax.execution.gd_grid): each run equals train_gd, traced settings do not recompile,
outputs and resume follow ``debinn grid``."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import debinn_jax as dj
from debinn_jax.data.dataset import DataError, Dataset, Fold
from debinn_jax.execution import GD_REGULARISER_BITS, GDSpace, compile_timer
from debinn_jax.gd import GDConfig, relative_rate, run_many_gd, train_gd
from debinn_jax.loss import LossConfig

# three classes: with two, the 2025 head is flat wherever the output signals differ in sign
# (test_gd2025.py), and runs that reach that plateau tie exactly between starts
SPEC = dj.NetworkSpec.reference_2025(
    3, (9,), 3, shift_scale=True, standardize_weights=True, spatial_dropout=True
)
CONFIG = GDConfig(epochs=30, starts=3, patience=8, chunk=12, loss=LossConfig.reference_2025())


def _blobs(n: int = 42, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 3-D, ``n`` cases in turn of classes 0, 1, 2."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = np.array([[1.0, 0.5, -0.3], [-1.0, 0.2, 0.8], [0.2, -1.0, -0.6]])
    return rng.normal(0.0, 0.6, (n, 3)) + centres[y], y


X, Y = _blobs()
# Settings chosen so that every traced path is used: both optimisers, the three schedules,
# clipping, weight decay, L1/L2, each switch on and off, fewer starts than computed, both
# monitors. Learning rates are powers of two (exact in float32: train_gd rounds its per-start
# rates to float32).
SETTINGS = {
    "learning_rate": [2**-5, 2**-4, 2**-6, 2**-5],
    "optimizer": [0, 1, 0, 1],
    "schedule": ["constant", "cosine", "warmup_cosine", "constant"],
    "warmup": [0, 0, 5, 0],
    "clip_norm": [0.0, 0.5, 0.0, None],
    "weight_decay": [0.0, 0.0, 0.01, 0.0],
    "l1": [0.0, 0.01, 0.0, 0.0],
    "l2": [0.0, 0.0, 0.02, 0.0],
    "standardize_weights": [1, 0, 1, 0],
    "normalization": [1, 1, 0, 0],
    "spatial_dropout": [0, 1, 1, 0],
    "starts": [3, 2, 1, 3],
    "init_scale": [1.0, 0.5, 2.0, 1.0],
    "patience": [8, None, 5, 8],
    "epochs": [30, 25, 30, 20],
    "monitor": ["val_loss", "val_bacc", "val_loss", "val_loss"],
    "validation_fraction": [0.2, 0.3, 0.25, 0.0],
}
# Every float64 call of this file compiles the same program (same network, config, optimisers,
# start count, chunk and data shape): the sweep's settings are all traced. The third entry, a
# ready transformation, equals the second at half the learning rate.
OPTIMIZERS = [
    "adam",
    ("sgd", {"momentum": 0.9}),
    optax.chain(optax.scale(0.5), optax.sgd(1.0, momentum=0.9)),
]
# runs 4 and 5: the same run through the custom transformation and through the named one
SETTINGS_ALL = {
    k: [*v, *(v[1:2] * 2)] for k, v in SETTINGS.items() if k not in ("optimizer", "learning_rate")
}
SETTINGS_ALL["optimizer"] = [*SETTINGS["optimizer"], 2, 1]
SETTINGS_ALL["learning_rate"] = [*SETTINGS["learning_rate"], 2**-3, 2**-4]


def _run64(X, Y, keys, settings, **kw):
    with jax.enable_x64(True):
        return run_many_gd(
            SPEC, X, Y, keys, CONFIG, settings=settings, optimizers=OPTIMIZERS, max_starts=3, **kw
        )


@pytest.fixture(scope="module")
def sweep64():
    keys = jax.random.split(jax.random.key(1), 5)
    keys = jnp.concatenate([keys, keys[4:]])  # runs 4 and 5 share their key
    return _run64(X, Y, keys, SETTINGS_ALL), keys


def test_each_run_equals_train_gd(sweep64) -> None:
    """Run i = train_gd(run_spec(i), X, y, keys[i], run_config(i)) (float64): the same
    validation split, initial starts, updates, early stopping and selected start."""
    result, keys = sweep64
    assert result.optimizer_names[:2] == ("adam", "sgd(momentum=0.9)")
    with jax.enable_x64(True):
        for i in range(4):
            cfg = result.run_config(i)
            if i % 2 == 1:  # the sgd entry: train_gd names it with its kwargs
                assert cfg.optimizer == "adam"  # (not a plain optax name: the default kept)
                sgd = (("momentum", 0.9),)
                cfg = dataclasses.replace(cfg, optimizer="sgd", optimizer_kwargs=sgd)
            ref = train_gd(result.run_spec(i), X, Y, keys[i], cfg)
            assert int(result.best_start[i]) == ref.best_start
            assert int(result.best_epoch[i]) == ref.best_epoch
            n = cfg.starts
            np.testing.assert_array_equal(result.epochs_run[i, :n], ref.histories["epochs_run"])
            np.testing.assert_array_equal(result.epochs_run[i, n:], 0)
            mine = jax.tree_util.tree_leaves(result.coords)
            for a, b in zip(mine, jax.tree_util.tree_leaves(ref.coords)):
                # (train_gd's optax schedules run in float32: differences of ~1e-8)
                np.testing.assert_allclose(np.asarray(a)[i], np.asarray(b), rtol=1e-6, atol=1e-8)
            b = ref.best_start
            ran = ref.histories["epochs_run"][b]
            np.testing.assert_allclose(
                result.history["val_loss"][i, :ran, b],
                ref.histories["val_loss"][b, :ran],
                rtol=1e-6,  # the sweep keeps its history in float32
            )
            assert np.all(np.isnan(result.history["val_loss"][i, ran:, b]))
            assert result.train_mask[i].sum() == ref.train_idx.size
            assert np.array_equal(np.flatnonzero(result.train_mask[i]), ref.train_idx)
            val = ref.val_idx if ref.val_idx.size else ref.train_idx
            assert np.array_equal(np.flatnonzero(result.val_mask[i]), val)
            p = result.predict_proba(i, X)
            np.testing.assert_allclose(p, np.asarray(ref.predict_proba(X)), atol=1e-7)


def test_a_training_head_temperature_trains_through_a_tempered_softmax(sweep64) -> None:
    """head_temperature T > 0: train_gd with the run's network given head="softmax",
    temperature=T; predictions stay the network's own head's (same argmax)."""
    keys = jax.random.split(jax.random.key(7), 6)
    settings = {"head_temperature": [7.0, 0.0, 0.0, 0.0, 0.0, 0.0], "epochs": 12}
    result = _run64(X, Y, keys, settings)
    with jax.enable_x64(True):
        spec = dataclasses.replace(result.run_spec(0), head="softmax", temperature=7.0)
        ref = train_gd(spec, X, Y, keys[0], result.run_config(0))
        plain = train_gd(result.run_spec(0), X, Y, keys[0], result.run_config(0))
        leaves = jax.tree_util.tree_leaves
        for a, b in zip(leaves(result.coords), leaves(ref.coords)):
            np.testing.assert_allclose(np.asarray(a)[0], np.asarray(b), rtol=1e-6, atol=1e-8)
        assert not np.allclose(np.asarray(leaves(result.coords)[0])[0], leaves(plain.coords)[0])
        p = result.predict_proba(0, X)
        np.testing.assert_array_equal(p.argmax(1), np.asarray(ref.predict_proba(X)).argmax(1))
        # the probabilities are the network's own (reference) head's, not the softmax's
        mine = np.asarray(dj.apply(result.run_spec(0), ref.coords, jnp.asarray(X)))
        np.testing.assert_allclose(p, mine, atol=1e-7)


def test_stopping_rules_and_unused_starts(sweep64) -> None:
    result, _ = sweep64
    s = result.settings
    assert np.all(result.epochs_run <= s["epochs"][:, None])
    assert int(result.epochs_run[1].max()) == 25  # no patience: every start runs its epochs
    assert int(result.epochs_run[2, 0]) < 30  # patience 5 stopped it
    assert np.all(np.isnan(result.start_scores[2, 1:])) and np.isfinite(result.start_scores[2, 0])
    assert result.history["val_loss"].shape == (6, int(result.epochs_run.max()), 3)


def test_predict_proba_runs_equals_each_run(sweep64) -> None:
    result, _ = sweep64
    with jax.enable_x64(True):
        all_runs = result.predict_proba_runs(X[:7])
        for i in range(result.n_runs):
            np.testing.assert_allclose(all_runs[i], result.predict_proba(i, X[:7]), atol=1e-12)


@pytest.mark.parametrize("schedule", [0, 1, 2])
def test_relative_rate_equals_the_optax_schedules(schedule: int) -> None:
    """The traced schedule equals the optax schedule train_gd builds (make_schedule)."""
    from debinn_jax.gd import SCHEDULES, make_schedule

    for epochs, warmup in ((50, 0), (50, 7), (9, 3)):
        cfg = GDConfig(epochs=epochs, warmup=warmup, schedule=SCHEDULES[schedule])
        ref = make_schedule(cfg, 1)
        steps = jnp.arange(epochs + 3)
        rate = jax.jit(jax.vmap(relative_rate, in_axes=(None, 0, None, None)))
        mine = rate(schedule, steps, epochs, warmup)
        np.testing.assert_allclose(np.asarray(mine), [float(ref(t)) for t in steps], atol=1e-6)


def test_new_numbers_do_not_recompile(sweep64) -> None:
    """Other learning rates, switches, epochs, optimiser choices and L1/L2 reuse the program."""
    keys = jax.random.split(jax.random.key(2), 6)  # the runs count is a shape: 6 as before
    second = {
        "learning_rate": [0.05, 0.001] * 3,
        "optimizer": [1, 2] * 3,
        "l1": [0.02, 0.0] * 3,
        "l2": [0.01, 0.0] * 3,
        "standardize_weights": [0, 1] * 3,
        "epochs": [4, 6] * 3,
        "schedule": ["cosine", "constant"] * 3,
        "starts": [1, 2] * 3,
        "patience": [None, 3] * 3,
    }
    with compile_timer() as compiled:
        _run64(X, Y, keys, second)
    assert compiled["programs"] == 0


def test_per_run_data_with_padding_equals_separate_runs(sweep64) -> None:
    """Per-run data padded to one length (sample_mask) train as each run's data alone."""
    n_a = 30
    Xa = np.where(np.arange(len(Y))[:, None] < n_a, X[::-1], 0.0)  # 30 real cases, 12 padding
    ya = np.where(np.arange(len(Y)) < n_a, Y[::-1], 0)
    real_a = (np.arange(len(Y)) < n_a).astype(float)
    keys = jax.random.split(jax.random.key(5), 2)
    settings = {"learning_rate": [0.03, 0.02], "epochs": 10}
    both = _run64(np.stack([Xa, X]), np.stack([ya, Y]), keys, settings,
                  sample_mask=np.stack([real_a, np.ones(len(Y))]))  # fmt: skip
    alone_a = _run64(Xa, ya, keys[:1], {"learning_rate": 0.03, "epochs": 10}, sample_mask=real_a)
    alone_b = _run64(X, Y, keys[1:], {"learning_rate": 0.02, "epochs": 10})
    assert not both.train_mask[0, n_a:].any() and not both.val_mask[0, n_a:].any()
    leaves = jax.tree_util.tree_leaves
    for i, single in enumerate((alone_a, alone_b)):
        assert np.array_equal(both.train_mask[i], single.train_mask[0])
        for a, b in zip(leaves(both.coords), leaves(single.coords)):
            np.testing.assert_allclose(np.asarray(a)[i], np.asarray(b)[0], rtol=1e-9, atol=1e-12)


def test_checkpoint_resumes_an_interrupted_sweep(tmp_path, sweep64) -> None:
    keys = jax.random.split(jax.random.key(6), 2)
    settings = {"learning_rate": [0.02, 0.05], "epochs": 24, "patience": None}
    full = _run64(X, Y, keys, settings)
    path = tmp_path / "sweep.ckpt"
    calls = []

    def stop_after_first(epoch, history):
        calls.append(epoch)
        return True

    part = _run64(X, Y, keys, settings, checkpoint=path, callback=stop_after_first)
    assert calls == [12] and int(part.epochs_run.max()) == 12
    resumed = _run64(X, Y, keys, settings, checkpoint=path)
    leaves = jax.tree_util.tree_leaves
    for a, b in zip(leaves(full.coords), leaves(resumed.coords)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(full.history["val_loss"], resumed.history["val_loss"])
    with pytest.raises(dj.CheckpointError, match="settings"):
        _run64(X, Y, keys, {**settings, "learning_rate": 0.1}, checkpoint=path)


def test_a_ready_transformation_is_an_optimiser_entry(sweep64) -> None:
    """Runs 4 and 5 of the fixture: the custom chain (scale 1/2, sgd with momentum) at twice
    the learning rate equals the named sgd entry."""
    result, _ = sweep64
    assert len(result.optimizer_names) == 3
    for a in jax.tree_util.tree_leaves(result.coords):
        np.testing.assert_allclose(np.asarray(a)[4], np.asarray(a)[5], rtol=1e-10, atol=1e-12)
    assert int(result.epochs_run[4].max()) > 1


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"learning_rate": [0.1, -1.0]}, "learning_rate must be > 0 in every run; run 1"),
        ({"starts": [1, 9]}, r"starts must be in \[1, 8\]"),
        ({"schedule": "linear"}, "schedule 'linear' is not one of"),
        ({"optimizer": 3}, "optimizer must be names in"),
        ({"standardize_weights": 0.5}, "standardize_weights must be 0 or 1"),
        ({"schedule": "warmup_cosine", "warmup": 40}, "warmup must be < epochs"),
        ({"momentum": 0.9}, "unknown field"),
        ({"learning_rate": [0.1, 0.2, 0.3]}, "one value per run"),
        ({"validation_fraction": 0.95}, r"validation_fraction must be in \[0, 0.9\]"),
        ({"head_temperature": -1.0}, "head_temperature must be >= 0"),
    ],
)
def test_bad_settings_name_the_field(settings: dict, match: str) -> None:
    keys = jax.random.split(jax.random.key(0), 2)
    with pytest.raises(ValueError, match=match):
        run_many_gd(SPEC, X, Y, keys, CONFIG, settings=settings, max_starts=8)


def test_bad_arguments_name_the_argument() -> None:
    keys = jax.random.split(jax.random.key(0), 2)
    with pytest.raises(ValueError, match="keys must be a 1-D array of typed"):
        run_many_gd(SPEC, X, Y, jax.random.PRNGKey(0), CONFIG)
    with pytest.raises(ValueError, match="batch_size must be None"):
        run_many_gd(SPEC, X, Y, keys, dataclasses.replace(CONFIG, batch_size=8))
    with pytest.raises(ValueError, match="optimizers: each entry"):
        run_many_gd(SPEC, X, Y, keys, CONFIG, optimizers=[3])
    with pytest.raises(ValueError, match="X must have shape"):
        run_many_gd(SPEC, X[:, :2], Y, keys, CONFIG)


# --------------------------------------------------------------------------------------------
# the GD grid


def test_gd_grid_design_covers_every_regulariser_twice_and_balances_the_draws() -> None:
    runs = dj.gd_grid_runs((9,), 3, 2, settings=128, seed=0)
    assert [r.name for r in runs[:2]] == ["GD-S1", "GD-S2"] and len(runs) == 128
    combos = {}
    for r in runs:
        key = (
            r.spec.shift_scale,
            r.switches["standardize_weights"],
            r.switches["normalization"],
            r.switches["spatial_dropout"],
            r.config.loss.l2,
            r.config.loss.l1,
        )
        combos[key] = combos.get(key, 0) + 1
        assert r.spec.standardize_weights == bool(r.switches["standardize_weights"])
    assert len(combos) == 64 and set(combos.values()) == {2}
    assert GD_REGULARISER_BITS[-1] == "shift_scale"  # settings 1-32: one compiled program
    assert not any(r.spec.shift_scale for r in runs[:32])
    assert all(r.spec.shift_scale for r in runs[32:64])
    space = GDSpace()
    for field, values in (("starts", space.starts), ("epochs", space.epochs)):
        counts = [sum(getattr(r.config, field) == v for r in runs) for v in values]
        assert max(counts) - min(counts) <= 1
    lr = np.log10([r.config.learning_rate for r in runs])
    lo, hi = np.log10(space.learning_rate)
    strata = np.floor((lr - lo) / (hi - lo) * 128).astype(int)
    assert len(set(np.clip(strata, 0, 127))) >= 120  # about one value per stratum (rounding)
    # the GA setting with the same regularisers: S1 is the plain network, S64 -> S1+15+32+64
    assert runs[0].ga_setting == 1 and runs[63].ga_setting == 112
    again = dj.gd_grid_runs((9,), 3, 2, settings=128, seed=0)
    assert [r.config for r in again] == [r.config for r in runs]
    temps = [r.head_temperature for r in runs]
    assert {t: temps.count(t) for t in set(temps)} == dict.fromkeys(space.head_temperature, 32)
    # the head axis is drawn last: without it every other draw is the same
    authors_head = dj.gd_grid_runs((9,), 3, 2, space=GDSpace(head_temperature=(0.0,)))
    assert [r.config for r in authors_head] == [r.config for r in runs]
    assert {r.head_temperature for r in authors_head} == {0.0}
    other = dj.gd_grid_runs((9,), 3, 2, settings=128, seed=1)
    assert [r.config for r in other] != [r.config for r in runs]


def _fold() -> Fold:
    Xt, yt = _blobs(24, seed=9)

    def ds(x, y, what):
        return Dataset(
            X=x,
            y=np.asarray(y, np.int32),
            feature_names=("a", "b", "c"),
            classes=(0, 1, 2),
            keys=tuple(str(i) for i in range(len(y))),
            source=what,
        )

    return Fold(train=ds(X, Y, "train"), test=ds(Xt, yt, "test"))


def test_run_gd_grid_writes_after_each_batch_and_resumes(tmp_path) -> None:
    space = GDSpace(epochs=(6,), patience=(3,), starts=(2,))
    # settings 1-4: no shift-scale genes (its bit comes last), so one compile group
    runs = dj.gd_grid_runs((9,), 3, 3, settings=4, seed=0, space=space)
    lines = []
    res = dj.run_gd_grid(
        runs, [("Fold-1", _fold())], out=tmp_path, batch=2, progress=lines.append, data_name="T"
    )
    assert len(res.records) == 4 and res.timing["compile_groups"] == 1
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["format"] == "debinn-gd-grid" and len(doc["records"]) == 4
    rec = doc["records"][0]
    for key in ("test", "train", "epochs_run", "optimizer", "learning_rate", "switches", "l1"):
        assert key in rec
    assert 0.0 <= rec["test"]["BACC"] <= 1.0
    csv = (tmp_path / "summary.csv").read_text().splitlines()
    assert csv[0].startswith("Key;SNS (m)") and csv[1].startswith("T-GD-S1;")
    assert len(lines) == 2  # one line per compiled call: 4 runs in batches of 2
    assert not list((tmp_path / "checkpoints").iterdir())
    again = dj.run_gd_grid(runs, [("Fold-1", _fold())], out=tmp_path, batch=2, data_name="T")
    assert again.timing["calls"] == []  # everything was finished: nothing trained
    assert [r["test"] for r in again.records] == [r["test"] for r in res.records]
    with pytest.raises(DataError, match="seed"):
        dj.run_gd_grid(runs, [("Fold-1", _fold())], out=tmp_path, seed=1, data_name="T")
