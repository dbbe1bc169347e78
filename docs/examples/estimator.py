from sklearn.model_selection import cross_val_score

import debinn_jax as dj

data = dj.make_moons_dataset(n=300, noise=0.1, seed=0)
clf = dj.DEBIClassifier(hidden=(16,), trainer="gd", shift_scale=True, epochs=300, random_state=0)
print("3-fold accuracy:", cross_val_score(clf, data.X, data.y, cv=3).round(3))
clf.fit(data.X, data.y).save("moons.debinn")
again = dj.DEBIClassifier.load("moons.debinn")
print("reloaded model predicts", again.predict(data.X[:5]), "for labels", data.y[:5])
