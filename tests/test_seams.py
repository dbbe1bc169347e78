"""The trainers take the ecosystem's objects: an optax transformation and a loss function for
``train_gd``, a fitness function for ``train_ga`` (with DebiGA and another evosax algorithm) and
``run_many``. Tiny networks, few generations."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import debinn_jax as dj
from debinn_jax.loss import debi_loss_fn

SPEC = dj.NetworkSpec(2, (5,), 2)


def _data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    d = dj.make_moons_dataset(n, 0.1, seed=seed)
    X = (d.X - d.X.mean(0)) / d.X.std(0)
    return X.astype(np.float32), d.y


def _leaves_equal(a, b) -> bool:
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    )


# --------------------------------------------------------------------------------------------
# the loss in one form


def test_debi_loss_fn_equals_debi_loss():
    X, y = _data()
    coords = dj.init_coords(jax.random.key(0), SPEC)
    cfg = dj.LossConfig(alpha=0.8, l1=0.01, l2=0.02)
    mask = jnp.asarray(np.arange(len(y)) % 3 != 0, jnp.float32)
    logp = dj.log_proba(SPEC, coords, jnp.asarray(X))  # (N, K), samples first
    got = debi_loss_fn(SPEC, cfg)(logp, jnp.asarray(y), mask, coords)
    want = dj.debi_loss(SPEC, coords, jnp.asarray(X), jnp.asarray(y), mask, cfg)
    np.testing.assert_allclose(float(got), float(want), rtol=1e-6)


def test_population_loss_with_a_loss_fn_equals_the_default():
    X, y = _data()
    pop = jax.vmap(lambda k: dj.init_coords(k, SPEC))(jax.random.split(jax.random.key(1), 4))
    masks = jnp.asarray(np.random.default_rng(0).integers(0, 2, (4, 3, len(y))), jnp.float32)
    cfg = dj.LossConfig(l2=0.1)
    x, yy = jnp.asarray(X), jnp.asarray(y)
    default = dj.population_loss(SPEC, pop, x, yy, masks, cfg)
    custom = dj.population_loss(SPEC, pop, x, yy, masks, cfg, loss_fn=debi_loss_fn(SPEC, cfg))
    assert custom.shape == (4, 3)
    np.testing.assert_allclose(np.asarray(custom), np.asarray(default), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# train_gd: any optax transformation, any loss

GD = dj.GDConfig(epochs=30, starts=2, patience=None, chunk=10, clip_norm=None)


def test_gd_optax_object_equals_the_named_optimiser():
    # named "adam" at learning rate 0.01 (constant schedule, no clipping, no spread) is
    # optax.adam(0.01): the same numbers
    X, y = _data()
    cfg = GD
    named = dj.train_gd(SPEC, X, y, jax.random.key(3), cfg)
    assert cfg.learning_rate == 0.01 and cfg.lr_spread == 0.0 and cfg.schedule == "constant"
    obj = dj.train_gd(SPEC, X, y, jax.random.key(3), cfg, optimizer=optax.adam(0.01))
    np.testing.assert_allclose(
        obj.history["train_loss"], named.history["train_loss"], rtol=1e-5, atol=1e-7
    )


def test_gd_takes_a_users_optax_chain():
    X, y = _data()
    schedule = optax.warmup_cosine_decay_schedule(0.0, 0.05, 5, 30)
    chain = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=1e-3))
    r = dj.train_gd(SPEC, X, y, jax.random.key(4), GD, optimizer=chain)
    loss = r.history["train_loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    frozen = dj.train_gd(SPEC, X, y, jax.random.key(4), GD, optimizer=optax.sgd(0.0))
    assert np.allclose(frozen.history["train_loss"], frozen.history["train_loss"][0])


def test_gd_loss_fn_is_what_gets_minimised():
    # a loss that only rewards class 0 drives every prediction to class 0
    X, y = _data()

    def class0(logp, y, mask, coords):
        return -jnp.sum(logp[:, 0] * mask) / jnp.sum(mask)  # logp: (N, K)

    cfg = dj.GDConfig(epochs=60, starts=1, patience=None, chunk=20, learning_rate=0.05)
    r = dj.train_gd(SPEC, X, y, jax.random.key(5), cfg, loss_fn=class0)
    assert np.all(r.predict(X) == 0)


def test_gd_rejects_a_name_as_optimizer():
    X, y = _data()
    with pytest.raises(ValueError, match="GradientTransformation"):
        dj.train_gd(SPEC, X, y, jax.random.key(0), GD, optimizer="adam")


# --------------------------------------------------------------------------------------------
# train_ga / run_many: any fitness, any evosax algorithm

GA = dj.GAConfig(population_size=8, generations=12, early_stopping=None, chunk=6, final_subsets=2)


def _brier_penalised(spec: dj.NetworkSpec, cfg: dj.GAConfig, weight: float):
    base = debi_loss_fn(spec, cfg.loss)

    def fitness(logp, y, mask, coords):
        onehot = jax.nn.one_hot(y, logp.shape[1], dtype=logp.dtype)  # logp: (N, K)
        brier = jnp.sum(jnp.square(jnp.exp(logp) - onehot), axis=1)
        return base(logp, y, mask, coords) + weight * jnp.sum(brier * mask) / jnp.sum(mask)

    return fitness


def test_ga_default_fitness_as_a_function_gives_the_same_run():
    X, y = _data()
    default = dj.train_ga(SPEC, X, y, jax.random.key(6), GA)
    same = dj.train_ga(SPEC, X, y, jax.random.key(6), GA, fitness=debi_loss_fn(SPEC, GA.loss))
    np.testing.assert_allclose(
        same.history["train_fitness"], default.history["train_fitness"], rtol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(dj.apply(SPEC, same.coords, X)),
        np.asarray(dj.apply(SPEC, default.coords, X)),
        rtol=1e-4,
        atol=1e-6,
    )


@pytest.mark.slow  # two GA compiles (9 s cold)
def test_ga_fitness_with_a_calibration_penalty_is_what_the_ga_reports():
    X, y = _data()
    fitness = _brier_penalised(SPEC, GA, 2.0)
    plain = dj.train_ga(SPEC, X, y, jax.random.key(7), GA)
    penalised = dj.train_ga(SPEC, X, y, jax.random.key(7), GA, fitness=fitness)
    # the Brier term is positive, so the reported best fitness is larger
    assert np.nanmin(penalised.history["train_fitness"]) > np.nanmin(plain.history["train_fitness"])


@pytest.mark.parametrize("algorithm", ["debi", "SimpleGA"])
def test_ga_user_fitness_steers_any_evosax_algorithm(algorithm):
    X, y = _data()

    def class1(logp, y, mask, coords):  # reward predicting class 1 everywhere
        return -jnp.sum(logp[:, 1] * mask) / jnp.sum(mask)  # logp: (N, K)

    cfg = dj.GAConfig(
        population_size=16, generations=40, early_stopping=None, chunk=20, algorithm=algorithm
    )
    r = dj.train_ga(SPEC, X, y, jax.random.key(8), cfg, fitness=class1)
    assert np.mean(np.asarray(dj.predict(SPEC, r.coords, X)) == 1) > 0.9


@pytest.mark.slow  # a run_many compile (12 s cold)
def test_run_many_takes_the_fitness_too():
    X, y = _data()
    fitness = _brier_penalised(SPEC, GA, 2.0)
    keys = jax.random.split(jax.random.key(9), 2)
    many = dj.run_many(SPEC, X, y, keys, GA, fitness=fitness)
    one = dj.train_ga(SPEC, X, y, keys[1], GA, fitness=fitness)
    np.testing.assert_allclose(
        np.asarray(many.run(1).history["train_fitness"]),
        one.history["train_fitness"],
        rtol=1e-5,
    )


# --------------------------------------------------------------------------------------------
# numbers in one pytree: every numeric setting is swept by run_many as train_ga runs it


def _numeric_values() -> dict[str, float]:
    """A value other than the default for every numeric GA setting (``NUMERIC_FIELDS``)."""
    return {
        "r_max": 0.6,
        "r_min": 0.2,
        "mutation_prob": 0.3,
        "crossover_prob": 0.7,
        "tolerance": 0.2,
        "l1": 0.05,
        "l2": 0.05,
        "generations": 7,
        "beat_period": 3,
        "resample_every": 2,
        "early_stopping": 4,
    }


def test_every_numeric_setting_is_one_registry_entry_swept_by_run_many():
    """Adding a numeric setting = a GAConfig field + its name in FLOAT_FIELDS/INT_FIELDS: then
    run_many sweeps it in one compiled program, and each run equals train_ga with that value
    (the numbers travel in one per-run pytree; nothing else has to know the field)."""
    from debinn_jax.ga import NEVER, NUMERIC_FIELDS

    values = _numeric_values()
    assert set(values) == set(NUMERIC_FIELDS)  # a new field must be added here too
    X, y = _data()
    base = dj.GAConfig(population_size=6, generations=10, chunk=5, early_stopping=None)
    names = sorted(values)
    keys = jax.random.split(jax.random.key(11), len(names))
    defaults = {**base.numeric()}
    settings = {
        n: [values[n] if n == m else np.asarray(defaults[n]).item() for m in names] for n in names
    }
    settings["early_stopping"] = [4 if m == "early_stopping" else NEVER for m in names]
    # float64: in float32 the batched and the single program round differently (1 ulp), and
    # a near-tie in a tournament then sends a run down another path
    with jax.enable_x64(True):
        many = dj.run_many(SPEC, X, y, keys, base, settings=settings)
        for i, name in enumerate(names):
            if name in ("l1", "l2"):
                cfg = dataclasses.replace(
                    base, loss=dataclasses.replace(base.loss, **{name: values[name]})
                )
            else:
                cfg = dataclasses.replace(base, **{name: values[name]})
            one = dj.train_ga(SPEC, X, y, keys[i], cfg)
            run = many.run(i)
            assert run.generations_run == one.generations_run, name
            np.testing.assert_allclose(
                run.history["train_fitness"], one.history["train_fitness"], rtol=1e-9, err_msg=name
            )
