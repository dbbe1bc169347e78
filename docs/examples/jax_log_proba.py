import jax
import jax.numpy as jnp

import debinn_jax as dj

data = dj.make_moons_dataset()  # 300 cases, 2 features, 2 classes
X, y = jnp.asarray(data.X, jnp.float32), jnp.asarray(data.y)
spec = dj.NetworkSpec(n_inputs=2, hidden=(8,), n_classes=2)
coords = dj.init_coords(jax.random.key(0), spec)

logp = dj.log_proba(spec, coords, X)  # (N, n_inputs) -> (N, K), like apply
print(logp.shape, bool(jnp.allclose(jnp.exp(logp), dj.apply(spec, coords, X), atol=1e-6)))


def nll(c):  # any JAX code can use it: here a plain negative log-likelihood
    return -jnp.mean(jnp.take_along_axis(dj.log_proba(spec, c, X), y[:, None], axis=1))


grads = jax.jit(jax.grad(nll))(coords)
print({name: g.shape for name, g in grads[1].items()})

# the DEBI loss as a function of (N, K) log-probabilities, extended by a Brier term
config = dj.LossConfig()
base = dj.debi_loss_fn(spec, config)


def debi_plus_brier(logp, y, mask, coords):  # logp: (N, K), samples first
    onehot = jax.nn.one_hot(y, logp.shape[1])
    brier = jnp.sum(jnp.square(jnp.exp(logp) - onehot), axis=1)
    return base(logp, y, mask, coords) + 0.5 * jnp.sum(brier * mask) / jnp.sum(mask)


mask = jnp.ones(y.shape)
print(round(float(dj.debi_loss(spec, coords, X, y, config=config)), 4))
print(round(float(debi_plus_brier(dj.log_proba(spec, coords, X), y, mask, coords)), 4))
