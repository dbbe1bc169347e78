"""Behavioural tests of the GD trainer (debinn_jax.gd)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from debinn_jax.gd import (
    GDConfig,
    GDResult,
    balanced_accuracy_t,
    init_starts,
    loss_and_logp,
    stratified_holdout,
    train_gd,
)
from debinn_jax.loss import LossConfig, debi_loss
from debinn_jax.network import NetworkSpec, apply

SPEC = NetworkSpec(n_inputs=2, hidden=(4,), n_classes=2, head="softmax", shift_scale=True)


def _blobs(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated Gaussian blobs (linearly separable, not through the origin only)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(0.0, 0.3, (n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return X.astype(np.float32), y.astype(np.int32)


X, Y = _blobs()
BASE = GDConfig(epochs=60, starts=1, patience=None, chunk=30, learning_rate=0.05)


@pytest.fixture(scope="module")
def base_result() -> GDResult:
    return train_gd(SPEC, X, Y, jax.random.key(0), BASE)


def test_loss_decreases_on_separable_problem(base_result: GDResult) -> None:
    h = base_result.history
    assert h["train_loss"].shape == (60,)
    assert h["train_loss"][-1] < 0.6 * h["train_loss"][0]
    assert h["train_bacc"][-1] == 1.0
    assert base_result.predict_proba(X).shape == (60, 2)
    np.testing.assert_allclose(base_result.predict_proba(X).sum(1), 1.0, rtol=1e-5)
    assert np.mean(base_result.predict(X) == Y) == 1.0


def test_history_shapes(base_result: GDResult) -> None:
    h = base_result.history
    for name in ("train_loss", "val_loss", "train_bacc", "val_bacc", "grad_norm_total"):
        assert h[name].shape == (base_result.epochs_run,)
        assert np.all(np.isfinite(h[name]))
    assert h["grad_norm"].shape == (base_result.epochs_run, SPEC.n_layers + 1)
    np.testing.assert_allclose(
        h["grad_norm_total"], np.sqrt(np.sum(h["grad_norm"] ** 2, axis=1)), rtol=1e-5
    )
    assert base_result.histories["val_loss"].shape[0] == 1


def test_result_coords_are_best_epoch(base_result: GDResult) -> None:
    r = base_result
    h = r.history
    assert r.best_epoch == int(np.argmin(h["val_loss"]))
    x_val = jnp.asarray(X[r.val_idx])
    v = debi_loss(SPEC, r.coords, x_val, jnp.asarray(Y[r.val_idx]))
    np.testing.assert_allclose(float(v), h["val_loss"][r.best_epoch], rtol=1e-5)


def test_train_loss_matches_debi_loss() -> None:
    coords = jax.tree_util.tree_map(lambda v: v[0], init_starts(jax.random.key(3), SPEC, BASE))
    x_t, y = jnp.asarray(X.T), jnp.asarray(Y)
    lc = LossConfig(alpha=0.8, l2=0.01)
    mask = jnp.ones(y.shape)
    loss, logp = loss_and_logp(SPEC, coords, x_t, y, mask, lc)
    np.testing.assert_allclose(float(loss), float(debi_loss(SPEC, coords, x_t.T, y, config=lc)))
    assert logp.shape == (2, 60)


STOP = dataclasses.replace(BASE, epochs=400, patience=5, learning_rate=0.5, chunk=40)


def test_early_stopping_restores_best_state() -> None:
    # A too-large learning rate makes validation loss bounce; patience stops early.
    r = train_gd(SPEC, X, Y, jax.random.key(1), STOP)
    h = r.history
    assert r.epochs_run < 400
    assert r.epochs_run == r.best_epoch + 1 + 5
    assert h["val_loss"][r.best_epoch] == np.min(h["val_loss"])
    # The returned coordinates are the best epoch's, not the last ones.
    x_val = jnp.asarray(X[r.val_idx])
    v = float(debi_loss(SPEC, r.coords, x_val, jnp.asarray(Y[r.val_idx])))
    np.testing.assert_allclose(v, h["val_loss"][r.best_epoch], rtol=1e-5)
    # Frozen after stopping: the population history repeats the frozen values.
    act = r.histories["active"][0]
    assert act[: r.epochs_run].all() and not act[r.epochs_run :].any()


def test_determinism(base_result: GDResult) -> None:
    again = train_gd(SPEC, X, Y, jax.random.key(0), BASE)
    leaves_a = jax.tree_util.tree_leaves(base_result.coords)
    for a, b in zip(leaves_a, jax.tree_util.tree_leaves(again.coords), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(base_result.history["val_loss"], again.history["val_loss"])
    other = train_gd(SPEC, X, Y, jax.random.key(7), BASE)
    assert not np.array_equal(other.history["train_loss"], base_result.history["train_loss"])


@pytest.mark.parametrize("population_batch", [None, pytest.param(2, marks=pytest.mark.slow)])
def test_population_equals_separate_runs(population_batch: int | None) -> None:
    """vmap (None) and lax.map (2) populations equal one run per start."""
    cfg = dataclasses.replace(
        STOP, starts=3, learning_rate=0.1, lr_spread=1.0, population_batch=population_batch
    )
    pop0 = init_starts(jax.random.key(5), SPEC, cfg)
    together = train_gd(SPEC, X, Y, jax.random.key(2), cfg, init=pop0)
    np.testing.assert_allclose(together.learning_rates, 0.1 * 10.0 ** np.array([-0.5, 0, 0.5]))
    for i in range(3):
        init_i = jax.tree_util.tree_map(lambda v, i=i: v[i], pop0)
        one_cfg = dataclasses.replace(
            STOP, starts=1, learning_rate=float(together.learning_rates[i])
        )
        alone = train_gd(SPEC, X, Y, jax.random.key(2), one_cfg, init=init_i)
        n = alone.epochs_run
        assert together.histories["epochs_run"][i] == n
        np.testing.assert_allclose(
            together.histories["train_loss"][i, :n], alone.history["train_loss"], rtol=1e-4
        )
        np.testing.assert_allclose(together.start_val_loss[i], alone.start_val_loss[0], rtol=1e-4)
    # Selection: the chosen start has the lowest best validation loss.
    assert together.best_start == int(np.argmin(together.start_val_loss))


def test_minibatch_schedule_clip_decay_other_optimizer() -> None:
    cfg = dataclasses.replace(
        BASE,
        optimizer="sgd",
        optimizer_kwargs=(("momentum", 0.9),),
        learning_rate=0.1,
        batch_size=16,
        epochs=30,
        chunk=30,
        schedule="warmup_cosine",
        warmup=5,
        clip_norm=1.0,
        weight_decay=1e-3,
    )
    r = train_gd(SPEC, X, Y, jax.random.key(0), cfg)
    h = r.history
    assert h["train_loss"][-1] < h["train_loss"][0]
    lr = h["learning_rate"]
    assert lr[0] == 0.0 and lr.max() <= 0.1 + 1e-7
    assert np.argmax(lr) in (4, 5)
    assert lr[-1] < lr[10]


def test_no_validation_split() -> None:
    cfg = dataclasses.replace(BASE, validation_fraction=0.0, epochs=10, chunk=10)
    r = train_gd(SPEC, X, Y, jax.random.key(0), cfg)
    assert r.val_idx.size == 0 and r.train_idx.size == 60
    np.testing.assert_allclose(r.history["val_loss"], r.history["train_loss"], rtol=1e-6)


def test_stratified_holdout() -> None:
    y = np.array([0] * 30 + [1] * 10 + [2] * 3)
    tr, va = stratified_holdout(jax.random.key(0), y, 0.2)
    assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == y.size
    assert [int(np.sum(y[va] == c)) for c in range(3)] == [6, 2, 1]
    tr2, va2 = stratified_holdout(jax.random.key(0), y, 0.2)
    np.testing.assert_array_equal(va, va2)


def test_balanced_accuracy_hand_case() -> None:
    logp = jnp.log(jnp.array([[0.9, 0.8, 0.3, 0.4], [0.1, 0.2, 0.7, 0.6]]))
    y = jnp.array([0, 1, 1, 1])  # class 0: 1/1, class 1: 2/3
    np.testing.assert_allclose(float(balanced_accuracy_t(logp, y)), (1 + 2 / 3) / 2, rtol=1e-6)


def test_init_scale_and_apply_shape() -> None:
    pop = init_starts(jax.random.key(0), SPEC, dataclasses.replace(BASE, starts=2, init_scale=0.1))
    assert float(jnp.max(jnp.abs(pop[0]["axon"]))) <= 0.1
    one = jax.tree_util.tree_map(lambda v: v[0], pop)
    assert apply(SPEC, one, X).shape == (60, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("optimizer", "no_such_optimizer"),
        ("learning_rate", 0.0),
        ("learning_rate", float("nan")),
        ("schedule", "linear"),
        ("epochs", 0),
        ("warmup", -1),
        ("clip_norm", -1.0),
        ("weight_decay", -0.1),
        ("batch_size", 0),
        ("validation_fraction", 1.5),
        ("patience", 0),
        ("monitor", "accuracy"),
        ("starts", 0),
        ("lr_spread", -1.0),
        ("init_scale", 0.0),
        ("loss", "ce"),
        ("optimizer_kwargs", (("no_such_arg", 1),)),
    ],
)
def test_invalid_settings_raise(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        GDConfig(**{field: value})


def test_warmup_must_be_shorter_than_epochs() -> None:
    with pytest.raises(ValueError, match="warmup"):
        GDConfig(schedule="warmup_cosine", warmup=10, epochs=10)


def test_bad_data_raises() -> None:
    with pytest.raises(ValueError, match="X"):
        train_gd(SPEC, X[:, :1], Y, jax.random.key(0), BASE)
    with pytest.raises(ValueError, match="class indices"):
        train_gd(SPEC, X, Y + 5, jax.random.key(0), BASE)


@pytest.mark.slow
def test_two_moons_default_gd_reaches_097() -> None:
    """Issue 4 criterion: two-moons (300, noise 0.1, 70/30), mean test accuracy >= 0.97."""
    from debinn_jax.data import Standardizer, make_moons_dataset, stratified_split
    from debinn_jax.gd import GD_NETWORK_OPTIONS

    d = make_moons_dataset(300, 0.1, seed=0)
    spec = NetworkSpec(2, (16,), 2, **GD_NETWORK_OPTIONS)
    accs = []
    for seed in range(5):
        tr, te = stratified_split(d.y, 0.3, seed=seed)
        sc = Standardizer().fit(d.X[tr])
        r = train_gd(spec, sc.transform(d.X[tr]), d.y[tr], jax.random.key(seed), GDConfig())
        accs.append(np.mean(r.predict(sc.transform(d.X[te])) == d.y[te]))
    assert np.mean(accs) >= 0.97
