"""Composing DEBI-NN with other JAX code: ``log_proba`` (samples first, as ``apply``), the
public losses in the same layout, the Flax NNX head trained with other layers under optax, a
population of heads for evosax, and the end-to-end example ``experiments/flax_head.py``."""

from __future__ import annotations

import math

import chex
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from _shared import experiment_script
from evosax.algorithms import SimpleGA
from flax import nnx

import debinn_jax as dj
from debinn_jax.nnx import DEBIHead, head_coords, uncapped_head

SPEC = dj.NetworkSpec(3, (4,), 2)
CAP = math.e / (math.e + 1)  # the reference head's largest probability for two classes


def blobs(n: int = 40, seed: int = 0) -> tuple[jax.Array, jax.Array]:
    """Two separable blobs in 3-D; labels 0/1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(0.0, 0.4, (n, 3)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return jnp.asarray(X, jnp.float32), jnp.asarray(y)


# ------------------------------------------------------------------- log_proba and the layout


def test_log_proba_is_samples_first_and_matches_apply() -> None:
    X, _ = blobs(7)
    coords = dj.init_coords(jax.random.key(0), SPEC)
    logp = jax.jit(lambda c, x: dj.log_proba(SPEC, c, x))(coords, X)  # one compiled program
    chex.assert_shape(logp, (7, 2))
    chex.assert_type(logp, jnp.float32)
    chex.assert_trees_all_close(jnp.exp(logp), dj.apply(SPEC, coords, X), atol=1e-6)
    with pytest.raises(ValueError, match=r"log_proba: x must have shape \(n, 3\).*got \(3, 7\)"):
        dj.log_proba(SPEC, coords, X.T)


def test_log_proba_composes_with_grad_vmap_and_jit() -> None:
    X, y = blobs(12)
    pop = jax.vmap(lambda k: dj.init_coords(k, SPEC))(jax.random.split(jax.random.key(1), 5))
    per_member = jax.jit(jax.vmap(lambda c: dj.log_proba(SPEC, c, X)))(pop)
    chex.assert_shape(per_member, (5, 12, 2))

    def nll(c):
        return -jnp.mean(jnp.take_along_axis(dj.log_proba(SPEC, c, X), y[:, None], axis=1))

    grads = jax.jit(jax.grad(nll))(jax.tree.map(lambda a: a[0], pop))
    chex.assert_trees_all_equal_shapes(grads, jax.tree.map(lambda a: a[0], pop))
    chex.assert_tree_all_finite(grads)


def test_the_public_losses_take_samples_first() -> None:
    X, y = blobs(10)
    coords = dj.init_coords(jax.random.key(2), SPEC)
    config = dj.LossConfig(alpha=0.9, l1=0.01)
    pop = jax.tree.map(lambda a: a[None], coords)

    @jax.jit
    def three(c, p, x):
        direct = dj.debi_loss(SPEC, c, x, y, config=config)
        via_fn = dj.debi_loss_fn(SPEC, config)(dj.log_proba(SPEC, c, x), y, jnp.ones(10), c)
        return direct, via_fn, dj.population_loss(SPEC, p, x, y, jnp.ones((1, 10)), config)

    direct, via_fn, losses = three(coords, pop, X)
    chex.assert_trees_all_close(direct, via_fn, rtol=1e-6)
    chex.assert_shape(losses, (1, 1))
    chex.assert_trees_all_close(losses[0, 0], direct, rtol=1e-6)
    with pytest.raises(ValueError, match=r"drop the \.T of the old \(n_inputs, N\) layout"):
        dj.debi_loss(SPEC, coords, X.T, y)
    with pytest.raises(ValueError, match=r"population_loss: X must have shape \(N, 3\)"):
        dj.population_loss(SPEC, pop, X.T, y, jnp.ones((1, 10)))


# ------------------------------------------------------------------- the Flax NNX head


def test_head_is_log_proba_of_its_param_coordinates() -> None:
    X, _ = blobs(6)
    head = DEBIHead(SPEC, rngs=nnx.Rngs(0))
    params = nnx.state(head, nnx.Param)
    n_coords = len(jax.tree.leaves(dj.init_coords(jax.random.key(0), SPEC)))
    assert len(jax.tree.leaves(params)) == n_coords  # every coordinate is an nnx.Param
    chex.assert_trees_all_close(head(X), dj.log_proba(SPEC, head.coordinates(), X))
    # from given coordinates: exactly those
    start = dj.init_coords(jax.random.key(9), SPEC)
    chex.assert_trees_all_equal(DEBIHead(SPEC, rngs=nnx.Rngs(0), coords=start).coordinates(), start)
    # a learnable scale starts at 1: the same values; it adds one Param
    scaled = DEBIHead(SPEC, rngs=nnx.Rngs(0), learn_scale=True)
    chex.assert_trees_all_close(scaled(X), head(X))
    assert len(jax.tree.leaves(nnx.state(scaled, nnx.Param))) == n_coords + 1


def test_uncapped_head_is_the_softmax_head() -> None:
    head = uncapped_head(3, (4,), 2, rngs=nnx.Rngs(0), temperature=0.5)
    assert (head.spec.head, head.spec.temperature, head.log_scale) == ("softmax", 0.5, None)
    X, _ = blobs(5)
    z = head.logits(X) * 0.5  # the output signals
    chex.assert_trees_all_close(head(X), jax.nn.log_softmax(z / 0.5, axis=-1), rtol=1e-6)


def test_head_errors_name_the_argument() -> None:
    head = DEBIHead(SPEC, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"DEBIHead: x must have shape \(N, 3\).*got \(5, 4\)"):
        head(jnp.zeros((5, 4)))
    other = dj.init_coords(jax.random.key(0), dj.NetworkSpec(3, (4, 4), 2))
    with pytest.raises(ValueError, match="DEBIHead: coords must have the layout of init_coords"):
        DEBIHead(SPEC, rngs=nnx.Rngs(0), coords=other)
    with pytest.raises(ValueError, match="spec must be a NetworkSpec"):
        DEBIHead((3, 4, 2), rngs=nnx.Rngs(0))


class _Model(nnx.Module):
    def __init__(self, head: DEBIHead, rngs: nnx.Rngs) -> None:
        self.features = nnx.Linear(3, 3, rngs=rngs)
        self.head = head

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(jnp.tanh(self.features(x)))


def _train(model: nnx.Module, X: jax.Array, y: jax.Array, steps: int) -> list[float]:
    optimizer = nnx.Optimizer(model, optax.adam(0.05), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer):
        def loss_fn(m):
            return optax.softmax_cross_entropy_with_integer_labels(m(X), y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    return [float(step(model, optimizer)) for _ in range(steps)]


def test_head_trains_jointly_with_a_flax_layer_and_the_scale_lifts_the_cap() -> None:
    X, y = blobs()
    capped = _Model(DEBIHead(SPEC, rngs=nnx.Rngs(1)), nnx.Rngs(1))
    free = _Model(DEBIHead(SPEC, rngs=nnx.Rngs(1), learn_scale=True), nnx.Rngs(1))
    kernel0 = np.asarray(free.features.kernel[...])
    coords0 = free.head.coordinates()
    losses_capped = _train(capped, X, y, 60)
    losses_free = _train(free, X, y, 60)
    # both parts moved: the linear layer and the neurons' coordinates
    assert not np.allclose(np.asarray(free.features.kernel[...]), kernel0)
    moved = jax.tree.map(
        lambda a, b: float(jnp.max(jnp.abs(a - b))), free.head.coordinates(), coords0
    )
    assert min(jax.tree.leaves(moved)) > 0
    assert losses_free[-1] < losses_free[0] and losses_capped[-1] < losses_capped[0]
    # the reference head never passes its cap; with a learnt scale the model gets sure
    p_capped = np.exp(np.asarray(capped(X))).max(axis=1)
    p_free = np.exp(np.asarray(free(X))).max(axis=1)
    assert p_capped.max() <= CAP + 1e-6
    assert p_free.mean() > CAP and float(free.head.log_scale[...]) > 0
    assert losses_capped[-1] > -math.log(CAP) - 1e-3  # the capped head's loss floor


def test_a_population_of_heads_for_evosax() -> None:
    X, y = blobs(30, seed=3)
    head = DEBIHead(SPEC, rngs=nnx.Rngs(0), learn_scale=True)
    graphdef, params, rest = nnx.split(head, nnx.Param, ...)

    def loss(p):  # one individual: its Param state
        model = nnx.merge(graphdef, p, rest)
        return optax.softmax_cross_entropy_with_integer_labels(model(X), y).mean()

    def draw(key):  # one individual, as a fresh head's Param state
        _, p, _ = nnx.split(DEBIHead(SPEC, rngs=nnx.Rngs(key), learn_scale=True), nnx.Param, ...)
        return p

    keys = jax.random.split(jax.random.key(4), 8)
    population = jax.vmap(draw)(keys)
    chex.assert_shape(head_coords(population)[1]["soma"], (8, 4, 3))
    fitness = jax.jit(jax.vmap(loss))(population)
    chex.assert_shape(fitness, (8,))
    loop = [loss(draw(k)) for k in keys]  # vmapped = one at a time
    chex.assert_trees_all_close(fitness, jnp.stack(loop), rtol=1e-5)

    es = SimpleGA(population_size=8, solution=params)
    es_params = es.default_params
    state = es.init(jax.random.key(5), population, fitness, es_params)

    @jax.jit
    def generation(state, key):
        k_ask, k_tell = jax.random.split(key)
        pop, state = es.ask(k_ask, state, es_params)
        fit = jax.vmap(loss)(pop)
        state, _ = es.tell(k_tell, pop, fit, state, es_params)
        return state

    for t in range(10):
        state = generation(state, jax.random.key(100 + t))
    assert float(state.best_fitness) <= float(fitness.min())
    # evosax keeps the best so far flat: unravel it into a Param state, merge it into a head
    _, unravel = jax.flatten_util.ravel_pytree(params)
    best = unravel(state.best_solution)
    chex.assert_trees_all_equal_structs(best, params)
    chex.assert_trees_all_close(loss(best), state.best_fitness, rtol=1e-5)
    trained = nnx.merge(graphdef, best, rest)
    chex.assert_shape(trained(X), (30, 2))


# ------------------------------------------------------------------- the end-to-end example


def test_flax_head_example_runs_a_tiny_version(capsys: pytest.CaptureFixture) -> None:
    example = experiment_script("flax_head")
    result = example.main(["--epochs", "3", "--features", "4", "--hidden", "3"])
    out = capsys.readouterr().out
    assert out.startswith("head softmax: 3 epochs in ")
    assert "test accuracy" in out and "(171 cases)" in out
    assert 0.0 <= result["accuracy"] <= 1.0 and math.isfinite(result["loss"])
    assert 0.5 <= result["top_probability"] <= 1.0
