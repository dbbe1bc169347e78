import jax
import jax.flatten_util
import jax.numpy as jnp
import optax
from evosax.algorithms import SimpleGA
from flax import nnx

import debinn_jax as dj
from debinn_jax.nnx import DEBIHead

data = dj.make_moons_dataset()  # 300 cases, 2 features, 2 classes
X, y = jnp.asarray(data.X, jnp.float32), jnp.asarray(data.y)
spec = dj.NetworkSpec(n_inputs=2, hidden=(8,), n_classes=2)

head = DEBIHead(spec, rngs=nnx.Rngs(0))
graphdef, params, rest = nnx.split(head, nnx.Param, ...)  # the coordinates as a pytree


def fitness(p):  # one individual: a Param state
    logits = nnx.merge(graphdef, p, rest)(X)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def individual(key):  # a freshly drawn head's Param state
    return nnx.split(DEBIHead(spec, rngs=nnx.Rngs(key)), nnx.Param, ...)[1]


population = jax.vmap(individual)(jax.random.split(jax.random.key(1), 32))
scores = jax.vmap(fitness)(population)  # 32 heads in one call
print(jax.tree.leaves(population)[0].shape, scores.shape)

es = SimpleGA(population_size=32, solution=params)
es_params = es.default_params
state = es.init(jax.random.key(2), population, scores, es_params)


@jax.jit
def generation(state, key):
    k_ask, k_tell = jax.random.split(key)
    pop, state = es.ask(k_ask, state, es_params)
    state, _ = es.tell(k_tell, pop, jax.vmap(fitness)(pop), state, es_params)
    return state


for t in range(200):
    state = generation(state, jax.random.key(100 + t))
_, unravel = jax.flatten_util.ravel_pytree(params)
best = nnx.merge(graphdef, unravel(state.best_solution), rest)  # back to a DEBIHead
first, last = float(scores.min()), float(state.best_fitness)
print(f"best of the first population {first:.3f}, after 200 generations {last:.3f}")
print(f"accuracy of the best head {float(jnp.mean(best(X).argmax(1) == y)):.3f}")
