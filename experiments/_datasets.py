"""Data of the four study tasks for the experiment scripts (``ga_study``, ``gd_study``,
``bench_gd``): one place that knows where the files are and how each task is split."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from debinn_jax.data import (
    Standardizer,
    load_fold,
    load_table,
    make_moons_dataset,
    stratified_split,
)
from debinn_jax.data.locate import find_data_dir

FOLDERS = {"dlbcl": "dlbcl", "hecktor": "hecktor-lite"}


def data_dir() -> Path:
    """The library's lookup (``debinn_jax.data.locate.find_data_dir``): ``$DEBINN_DATA_DIR``,
    else ``../shared/data``."""
    found = find_data_dir()
    return found if found is not None else Path("..") / "shared" / "data"


def _require(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"data not found: {path} (set DEBINN_DATA_DIR)")
    return path


def split_for(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)`` of task ``name`` for ``seed``.

    ``moons`` (300 cases, noise 0.1, data seed 0) and ``ctg`` (fetal_health.csv): a stratified
    70/30 split with ``seed``, standardised on the training part (float32). ``dlbcl`` and
    ``hecktor``: the authors' Fold-1 split as stored (already z-scored by the authors; the
    same for every seed).
    """
    if name in FOLDERS:
        fold = load_fold(_require(data_dir() / FOLDERS[name] / "Fold-1"))
        return fold.train.X, fold.train.y, fold.test.X, fold.test.y
    if name == "moons":
        d = make_moons_dataset(300, 0.1, seed=0)
    elif name == "ctg":
        d = load_table(_require(data_dir() / "ctg" / "fetal_health.csv"))
    else:
        raise SystemExit(f"unknown dataset {name!r}")
    tr, te = stratified_split(d.y, 0.3, seed=seed)
    sc = Standardizer().fit(d.X[tr])
    return (
        sc.transform(d.X[tr]).astype(np.float32),
        d.y[tr],
        sc.transform(d.X[te]).astype(np.float32),
        d.y[te],
    )
