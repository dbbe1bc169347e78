import jax
import jax.numpy as jnp
import optax

import debinn_jax as dj

data = dj.make_moons_dataset(n=300, noise=0.1, seed=0)
train, test = dj.stratified_split(data.y, test_size=0.3, seed=0)
scaler = dj.Standardizer().fit(data.X[train])
X_train, X_test = scaler.transform(data.X[train]), scaler.transform(data.X[test])
y_train, y_test = data.y[train], data.y[test]
spec = dj.NetworkSpec(n_inputs=2, hidden=(16,), n_classes=2, head="softmax", shift_scale=True)
config = dj.GAConfig(population_size=50, generations=300, r_max=0.3, r_min=0.05, mutation_prob=0.1)

# A fitness or loss function: logp (N, K) log-probabilities, y (N,), mask (N,), coords.
base = dj.debi_loss_fn(spec, config.loss)  # the default DEBI loss in that form


def debi_plus_brier(logp, y, mask, coords):  # the DEBI loss plus a calibration penalty
    onehot = jax.nn.one_hot(y, logp.shape[1])
    brier = jnp.sum(jnp.square(jnp.exp(logp) - onehot), axis=1)
    return base(logp, y, mask, coords) + 0.5 * jnp.sum(brier * mask) / jnp.sum(mask)


# GD with your own optax chain (it owns the learning rate, schedule, clipping and decay).
schedule = optax.warmup_cosine_decay_schedule(0.0, 0.05, 20, 300)
tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=1e-4))
gd = dj.train_gd(
    spec,
    X_train,
    y_train,
    jax.random.key(2),
    dj.GDConfig(epochs=300),
    optimizer=tx,
    loss_fn=debi_plus_brier,
)
m = dj.classification_metrics(y_test, gd.predict_proba(X_test))
print(f"GD + Brier: accuracy {m['accuracy']:.3f}, Brier score {m['brier']:.3f}")

# The GA on the same objective (any evosax algorithm: GAConfig(algorithm="SimpleGA"), ...).
ga = dj.train_ga(spec, X_train, y_train, jax.random.key(1), config, fitness=debi_plus_brier)
m = dj.classification_metrics(y_test, ga.predict_proba(X_test))
print(f"GA + Brier: accuracy {m['accuracy']:.3f}, Brier score {m['brier']:.3f}")


# Watch a run and stop it: the callback runs after every compiled chunk (100 generations by
# default) with the last generation run (0-based) and the history so far.
def watch(generation, history):
    return generation >= 99  # True stops the run; the result is the final selection so far


ga = dj.train_ga(spec, X_train, y_train, jax.random.key(1), config, callback=watch)
print(f"stopped by the callback after {ga.generations_run} generations")
