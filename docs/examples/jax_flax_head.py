import jax.numpy as jnp
import optax
from flax import nnx

import debinn_jax as dj
from debinn_jax.nnx import uncapped_head

data = dj.make_moons_dataset()  # 300 cases, 2 features, 2 classes
X, y = jnp.asarray(data.X, jnp.float32), jnp.asarray(data.y)


class Model(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.features = nnx.Linear(2, 4, rngs=rngs)
        self.head = uncapped_head(4, (8,), 2, rngs=rngs)  # a DEBIHead with the softmax head

    def __call__(self, x):
        return self.head(jnp.tanh(self.features(x)))  # (N, 2) log-probabilities


model = Model(nnx.Rngs(0))
optimizer = nnx.Optimizer(model, optax.adam(0.02), wrt=nnx.Param)


@nnx.jit
def step(model, optimizer, x, y):
    def loss_fn(m):
        return optax.softmax_cross_entropy_with_integer_labels(m(x), y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)  # the Linear weights and the head's coordinates together
    return loss


for _ in range(300):
    loss = step(model, optimizer, X, y)
proba = jnp.exp(model(X))
print(f"loss {float(loss):.3f}, accuracy {float(jnp.mean(proba.argmax(1) == y)):.3f}")
print(f"mean top-class probability {float(proba.max(1).mean()):.3f}")
print(model.head.spec.head, model.head.coordinates()[1]["soma"].shape)
