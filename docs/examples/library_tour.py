import jax

import debinn_jax as dj

data = dj.make_moons_dataset(n=300, noise=0.1, seed=0)
train, test = dj.stratified_split(data.y, test_size=0.3, seed=0)
scaler = dj.Standardizer().fit(data.X[train])
X_train, X_test = scaler.transform(data.X[train]), scaler.transform(data.X[test])
y_train, y_test = data.y[train], data.y[test]

# The network: a static, hashable spec and a pytree of coordinates.
spec = dj.NetworkSpec(n_inputs=2, hidden=(16,), n_classes=2, head="softmax", shift_scale=True)
coords = dj.init_coords(jax.random.key(0), spec)  # a tuple of per-layer dicts of (n, 3) arrays
proba = dj.apply(spec, coords, X_test)  # (n, 2) class probabilities of an untrained network
print(f"{dj.param_count(spec)} genes; untrained probabilities {proba.shape}")

# GA: the authors' operators, hall of fame and early stopping, one compiled scan per chunk.
config = dj.GAConfig(population_size=50, generations=300, r_max=0.3, r_min=0.05, mutation_prob=0.1)
ga = dj.train_ga(spec, X_train, y_train, jax.random.key(1), config)
acc = dj.classification_metrics(y_test, ga.predict_proba(X_test))["accuracy"]
print(f"GA: {ga.generations_run} generations, test accuracy {acc:.3f}")

# GD: optax on the coordinates, 8 vmapped starts, the best one chosen on a validation split.
gd = dj.train_gd(spec, X_train, y_train, jax.random.key(2), dj.GDConfig(epochs=300))
acc = dj.classification_metrics(y_test, gd.predict_proba(X_test))["accuracy"]
print(f"GD: {gd.epochs_run} epochs, test accuracy {acc:.3f}")

# Many GA runs in one compiled call: 4 seeds x 2 mutation amplitudes (8 runs).
settings = dj.grid(r_max=[1.0, 0.3], seed=[0, 1, 2, 3])
keys = jax.vmap(jax.random.key)(settings.pop("seed").astype("uint32"))
sweep = dj.run_many(spec, X_train, y_train, keys, config, settings=settings)
for i in range(len(keys)):
    run = sweep.run(i)  # each run is a GAResult
    acc = dj.classification_metrics(y_test, run.predict_proba(X_test))["accuracy"]
    print(f"run {i}: r_max {settings['r_max'][i]:.1f}, test accuracy {acc:.3f}")
