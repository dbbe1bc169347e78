"""Study data: one train/test split per seed for each task (generated, Fold folders, tables)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data import (
    Standardizer,
    load_fold,
    load_table,
    make_moons_dataset,
    stratified_split,
)
from debinn_jax.study.config import TaskConfig

# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


class DataMissing(Exception):
    """A task's data are not where its config says (the task is skipped)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """One seed's train/test split, features already scaled (on the training split only).

    Attributes:
        seed: the run seed.
        X_train, y_train, X_test, y_test: arrays ``(n, f)`` float32 and ``(n,)`` int32.
        X_train_raw: the training features before scaling (for inner validation splits).
    """

    seed: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_train_raw: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class TaskData:
    """A task's splits plus what the report says about them."""

    splits: tuple[Split, ...]
    n_features: int
    n_classes: int
    classes: tuple[Any, ...]
    source: str
    protocol: str
    feature_names: tuple[str, ...] = ()


def expected_data_path(task: TaskConfig, data_dir: Path | None) -> Path | None:
    """The file or folder a task reads (None for generated data)."""
    if task.kind == "moons":
        return None
    from debinn_jax.data.locate import data_path

    return data_path(data_dir or Path("."), task.path)


def scale_features(
    X_tr: np.ndarray, X_te: np.ndarray, standardize: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(X_tr, X_te)`` as float32, z-scored on ``X_tr`` when ``standardize``."""
    if not standardize:
        return X_tr.astype(np.float32), X_te.astype(np.float32)
    s = Standardizer().fit(X_tr)
    return s.transform(X_tr).astype(np.float32), s.transform(X_te).astype(np.float32)


def inner_split(
    split: Split, validation_size: float, seed: int, standardize: bool
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A stratified ``validation_size`` split of ``split``'s training data (never its test
    data): ``((X_fit, y_fit), (X_val, y_val))``, features re-scaled on the fitting part when
    ``standardize``."""
    fit, val = stratified_split(split.y_train, validation_size, seed=seed)
    X_fit, X_val = scale_features(split.X_train_raw[fit], split.X_train_raw[val], standardize)
    return (X_fit, split.y_train[fit]), (X_val, split.y_train[val])


def prepare_task(task: TaskConfig, data_dir: Path | None, seeds: Sequence[int]) -> TaskData:
    """Load a task's data and build one :class:`Split` per seed.

    Raises:
        DataMissing: the data file or folder does not exist (message names the expected path).
    """
    path = expected_data_path(task, data_dir)
    if path is not None and (data_dir is None or not path.exists()):
        raise DataMissing(
            f"skipping {task.name} ({task.title}): data not found at {path}"
            + (
                ""
                if data_dir is not None
                else " (no --data-dir, no $DEBINN_DATA_DIR and no fetched data: run "
                "'debinn data fetch' or pass --data-dir)"
            )
        )
    splits = []
    if task.kind == "fold":
        fold = load_fold(path)
        X_tr, X_te = scale_features(fold.train.X, fold.test.X, task.standardize)
        for s in seeds:
            splits.append(
                Split(s, X_tr, fold.train.y, X_te, fold.test.y, fold.train.X.astype(np.float32))
            )
        n_classes = fold.n_classes
        classes = fold.classes
        feature_names = fold.feature_names
        source = str(path)
        protocol = (
            f"fixed Fold-1 split of the authors ({len(fold.train.y)} train / {len(fold.test.y)} "
            "test cases); seeds vary the training only"
            + ("; features standardised on the training split" if task.standardize else "")
        )
    else:
        if task.kind == "moons":
            data = make_moons_dataset(task.n_samples, task.noise, task.data_seed)
        else:
            data = load_table(path, label=task.label or None)
        for s in seeds:
            tr, te = stratified_split(data.y, task.test_size, seed=task.split_seed + s)
            X_tr, X_te = scale_features(data.X[tr], data.X[te], task.standardize)
            splits.append(Split(s, X_tr, data.y[tr], X_te, data.y[te], data.X[tr]))
        n_classes = data.n_classes
        classes = data.classes
        feature_names = data.feature_names
        source = data.source
        pct = round(100 * (1 - task.test_size))
        protocol = (
            f"stratified {pct}/{100 - pct} train/test split per seed "
            f"({len(splits[0].y_train)} / {len(splits[0].y_test)} cases)"
            + ("; features standardised on each training split only" if task.standardize else "")
        )
    return TaskData(
        splits=tuple(splits),
        n_features=int(splits[0].X_train.shape[1]),
        n_classes=int(n_classes),
        classes=tuple(classes),
        source=source,
        protocol=protocol,
        feature_names=tuple(feature_names),
    )
