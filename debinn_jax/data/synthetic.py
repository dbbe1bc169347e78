"""Generated data: scikit-learn's two moons as a :class:`~debinn_jax.data.dataset.Dataset`."""

from __future__ import annotations

import numpy as np

from debinn_jax.data.dataset import Dataset


def make_moons_dataset(n: int = 300, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (``sklearn.datasets.make_moons``), classes 0 and 1.

    Args:
        n: number of cases (split evenly between the two classes; an odd one goes to class 1).
        noise: standard deviation of the Gaussian noise added to the points.
        seed: integer seed; the same seed gives the same data.

    Returns:
        Dataset with ``X`` ``(n, 2)`` (float32-rounded values; features ``x1``, ``x2``, not scaled),
        ``y`` ``(n,)``, keys ``"1" .. "n"``.
    """
    from sklearn.datasets import make_moons

    if n < 2:
        raise ValueError(f"make_moons_dataset: n must be >= 2, got {n}")
    if noise < 0:
        raise ValueError(f"make_moons_dataset: noise must be >= 0, got {noise}")
    X, y = make_moons(n_samples=n, noise=noise, random_state=int(seed))
    return Dataset(
        X=X.astype(np.float32),
        y=y.astype(np.int32),
        feature_names=("x1", "x2"),
        classes=(0, 1),
        keys=tuple(str(i + 1) for i in range(n)),
        source=f"moons(n={n}, noise={noise}, seed={seed})",
        label_name="moon",
    )
