"""The benchmark's workloads: the three networks and their training data (real or synthetic),
the published timings of the authors' binary on them, and random populations to time."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import jax
import numpy as np

from debinn_jax.network import Coords, NetworkSpec, init_coords

#: Published/measured seconds per generation of the authors' binary on this kind of machine:
#: workload -> (population size, seconds per generation).
REFERENCE_BINARY: dict[str, tuple[int, float]] = {
    "dlbcl": (61, 2.3),
    "hecktor-lite": (70, 10.0),
}

#: Workload shapes: name -> (n_inputs, hidden, n_classes, class counts of the training data).
WORKLOAD_SHAPES: dict[str, tuple[int, tuple[int, ...], int, tuple[int, ...]]] = {
    "dlbcl": (17, (85, 64), 2, (25, 16)),
    "hecktor-lite": (36, (180,), 2, (59, 99)),
    "ctg": (21, (100,), 3, (1655, 295, 176)),
}


@dataclasses.dataclass(frozen=True, eq=False)
class Workload:
    """One benchmark problem: a network and its training data.

    Attributes:
        name: ``"dlbcl"``, ``"hecktor-lite"`` or ``"ctg"``.
        spec: the network (NetworkSpec defaults: Gaussian-const kernel, leaky ReLU,
            reference head, weight standardisation).
        X: ``(N, F)`` float32 features (standardised).
        y: ``(N,)`` int32 class indices.
        source: the data file/folder, or ``"synthetic"``.
    """

    name: str
    spec: NetworkSpec
    X: np.ndarray
    y: np.ndarray
    source: str

    @property
    def shape_name(self) -> str:
        """Layer sizes such as ``"17-85-64-2"``."""
        return "-".join(str(n) for n in self.spec.layer_sizes)


def default_data_dir() -> Path:
    """The library's lookup (:func:`debinn_jax.data.locate.find_data_dir`):
    ``$DEBINN_DATA_DIR``, else ``../shared/data``."""
    from debinn_jax.data.locate import find_data_dir

    found = find_data_dir()
    return found if found is not None else Path("..") / "shared" / "data"


def synthetic_data(
    n_inputs: int, class_counts: Sequence[int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal features with class-shifted means; ``(X (N, F) float32, y (N,) int32)``."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(c, k, np.int32) for k, c in enumerate(class_counts)])
    rng.shuffle(y)
    centres = rng.normal(0.0, 1.0, (len(class_counts), n_inputs))
    X = rng.normal(0.0, 1.0, (y.shape[0], n_inputs)) + centres[y]
    X = (X - X.mean(0)) / X.std(0)
    return X.astype(np.float32), y


def load_workload(name: str, data_dir: Path | None = None) -> Workload:
    """The workload ``name`` on its real training data, or synthetic data when absent.

    DLBCL and HECKTOR-LITE: the ``Fold-1`` training split (already z-scored by the authors).
    CTG: all 2126 cases of ``fetal_health.csv``, z-scored.
    """
    if name not in WORKLOAD_SHAPES:
        raise ValueError(f"unknown workload {name!r}; expected one of {sorted(WORKLOAD_SHAPES)}")
    n_in, hidden, n_classes, counts = WORKLOAD_SHAPES[name]
    spec = NetworkSpec(n_in, hidden, n_classes)
    from debinn_jax.data.locate import data_path

    root = default_data_dir() if data_dir is None else Path(data_dir)
    path = data_path(root, "ctg/fetal_health.csv" if name == "ctg" else f"{name}/Fold-1")
    if path.exists():
        from debinn_jax.data import Standardizer, load_fold, load_table

        if name == "ctg":
            data = load_table(path)
            X = Standardizer().fit_transform(data.X)
        else:
            data = load_fold(path).train
            X = data.X
        X, y = np.asarray(X, np.float32), np.asarray(data.y, np.int32)
        if X.shape[1] != n_in or int(y.max()) + 1 != n_classes:
            raise ValueError(f"{path}: expected {n_in} features and {n_classes} classes")
        return Workload(name, spec, X, y, str(path))
    X, y = synthetic_data(n_in, counts)
    return Workload(name, spec, X, y, "synthetic")


def random_population(key: jax.Array, spec: NetworkSpec, population: int) -> Coords:
    """``population`` independent U(-1, 1) networks (leading axis P on every leaf)."""
    return jax.vmap(lambda k: init_coords(k, spec))(jax.random.split(key, population))


def individuals(population: Coords) -> list[Coords]:
    """Split a population pytree into a list of per-individual NumPy pytrees."""
    host = jax.tree_util.tree_map(np.asarray, population)
    n = jax.tree_util.tree_leaves(host)[0].shape[0]
    return [jax.tree_util.tree_map(lambda a, i=i: a[i], host) for i in range(n)]
