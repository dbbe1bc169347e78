"""In-memory datasets: :class:`Dataset` (one table of cases), :class:`Fold` (train/test[/validate])
and :class:`DataError`, the error every reader raises for a bad input file."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

Label = int | float | str
"""An original label value as it appears in the file (numbers kept numeric: 1, 2.5, "benign")."""


class DataError(ValueError):
    """A data file or folder is missing or malformed.

    The message names the file (and the row key / column where it applies) and says what was
    expected, so it can be shown to a user as is.
    """


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled table of cases.

    Attributes:
        X: features, float64 ``(n, f)`` (trainers cast to their own dtype).
        y: class indices ``(n,)`` (int32) in ``0 .. K-1``; index ``c`` means label ``classes[c]``.
        feature_names: ``f`` column names.
        classes: the ``K`` original label values, sorted (numerically when all are numbers).
        keys: ``n`` row keys (the ``Key`` column, or 1-based data row numbers as strings).
        source: where the data came from (a file path, or a description for generated data).
        n_dropped_unlabelled: rows dropped because they have no label.
        n_dropped_missing: labelled rows dropped because a feature is missing
            (or, for Fold folders, label rows whose key has no feature row).
        label_name: name of the label column ("" when unknown).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    classes: tuple[Label, ...]
    keys: tuple[str, ...]
    source: str
    n_dropped_unlabelled: int = 0
    n_dropped_missing: int = 0
    label_name: str = ""

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=np.float64)
        y = np.asarray(self.y)
        if X.ndim != 2:
            raise ValueError(f"Dataset.X must be 2-D (n, f), got shape {X.shape}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"Dataset.y must have shape ({X.shape[0]},), got {y.shape}")
        y = check_labels(y, where="Dataset")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "feature_names", tuple(str(n) for n in self.feature_names))
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "keys", tuple(str(k) for k in self.keys))
        if len(self.feature_names) != X.shape[1]:
            raise ValueError(
                f"Dataset.feature_names has {len(self.feature_names)} names for "
                f"{X.shape[1]} feature columns"
            )
        if len(self.keys) != X.shape[0]:
            raise ValueError(f"Dataset.keys has {len(self.keys)} keys for {X.shape[0]} rows")
        if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
            raise ValueError(
                f"Dataset.y must be in 0..{len(self.classes) - 1} (one index per class), "
                f"got values in {int(y.min())}..{int(y.max())}"
            )

    @property
    def n_samples(self) -> int:
        """Number of cases ``n``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features ``f``."""
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes ``K`` (from ``classes``; a subset may miss some of them)."""
        return len(self.classes)

    def class_counts(self) -> np.ndarray:
        """Cases per class, int64 ``(K,)``."""
        return np.bincount(self.y, minlength=self.n_classes)

    def subset(self, idx: Sequence[int] | np.ndarray) -> Dataset:
        """The rows ``idx`` (integer indices ``(m,)`` or a boolean mask ``(n,)``), same classes."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (self.n_samples,):
                raise ValueError(f"boolean subset mask must have shape ({self.n_samples},)")
            idx = np.flatnonzero(idx)
        return dataclasses.replace(
            self, X=self.X[idx], y=self.y[idx], keys=tuple(self.keys[i] for i in idx.tolist())
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{c}: {n}" for c, n in zip(self.classes, self.class_counts()))
        return (
            f"Dataset(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"classes={{{counts}}}, label_name={self.label_name!r}, source={self.source!r}, "
            f"n_dropped_unlabelled={self.n_dropped_unlabelled}, "
            f"n_dropped_missing={self.n_dropped_missing})"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class Fold:
    """One DEBI-NN "Fold" folder: train and test sets (and the optional validation set).

    All sets share ``feature_names`` (in the training file's order) and ``classes`` (from the
    training labels). ``test`` is None only for a folder read with ``require_test=False``
    that has no test files.
    """

    train: Dataset
    test: Dataset | None
    validate: Dataset | None = None
    path: str = ""

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature column names, shared by all sets."""
        return self.train.feature_names

    @property
    def classes(self) -> tuple[Label, ...]:
        """Original label values, sorted; class index = position."""
        return self.train.classes

    @property
    def n_features(self) -> int:
        """Number of features."""
        return self.train.n_features

    @property
    def n_classes(self) -> int:
        """Number of classes (from the training labels)."""
        return self.train.n_classes


def _cell(
    i: int, j: int, rows: Sequence[str] | None, columns: Sequence[str] | None, source: str | None
) -> str:
    """``<source>, row key 'k', column 'c'`` (row/column indices when names are unknown)."""
    parts = [source] if source else []
    parts.append(f"row key {rows[i]!r}" if rows is not None else f"row index {i}")
    parts.append(f"column {columns[j]!r}" if columns is not None else f"column index {j}")
    return ", ".join(parts)


def check_feature_values(
    X: Any,
    *,
    standardizer: Any = None,
    dtype: Any = np.float32,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    source: str | None = None,
) -> np.ndarray:
    """Check feature values in float64 before the network's cast; return them standardised.

    Every value must be finite and fit ``dtype`` (the type the network computes in: float32,
    largest value 3.4e38) both as it is and after ``standardizer.transform`` (so a finite
    1e45 or 1e300 never becomes inf, then NaN, in the network). The checks run in float64.

    Args:
        X: features ``(n, f)``.
        standardizer: a fitted :class:`~debinn_jax.data.Standardizer`, or None.
        dtype: the network's float type.
        rows: ``n`` row keys for the message (default: 0-based row indices).
        columns: ``f`` column names for the message (default: 0-based column indices).
        source: the file the values come from, for the message.

    Returns:
        float64 ``(n, f)``: ``standardizer.transform(X)``, or ``X`` when it is None.

    Raises:
        DataError: naming the first bad value's source, row and column.
    """
    X = np.asarray(X, dtype=np.float64)
    big = float(np.finfo(dtype).max)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{_cell(i, j, rows, columns, source)}: {X[i, j]} is not a finite number (NaN or "
            f"infinity); every feature must be a finite number"
        )
    bad = np.abs(X) > big
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{_cell(i, j, rows, columns, source)}: {X[i, j]:g} is too large; the network "
            f"computes in {np.dtype(dtype).name}, whose values stop at {big:.3g} (rescale the "
            f"feature, e.g. use other units, or fix the value)"
        )
    if standardizer is None:
        return X
    with np.errstate(over="ignore", invalid="ignore"):
        Z = np.asarray(standardizer.transform(X), dtype=np.float64)
    bad = ~np.isfinite(Z) | (np.abs(Z) > big)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        mean, std = float(standardizer.mean_[j]), float(standardizer.std_[j])
        raise DataError(
            f"{_cell(i, j, rows, columns, source)}: {X[i, j]:g} is {Z[i, j]:.3g} standard "
            f"deviations from the training mean ({mean:.4g}, std {std:.4g}), beyond the "
            f"{np.dtype(dtype).name} range ({big:.3g}) the network computes in; check the value"
        )
    return Z


def check_labels(
    y: Any, n_classes: int | None = None, *, where: str, n: int | None = None
) -> np.ndarray:
    """Class indices as int32, checked: the one label rule of the trainers and :class:`Dataset`.

    Integers, and floats that are whole numbers (``1.0``), are accepted; anything else
    (fractions, NaN, text, booleans) is a ValueError naming ``where``.

    Args:
        y: labels of any shape (``(n,)`` for a training set, ``(R, n)`` for a sweep).
        n_classes: K; when given, every label must be in ``0..K-1``.
        where: the caller, for the message (e.g. ``"train_ga"``).
        n: when given, the number of labels the last axis must hold (the rows of X).

    Returns:
        ``y`` as int32, same shape.
    """
    y = np.asarray(y)
    if n is not None and (y.ndim < 1 or y.shape[-1] != n):
        raise ValueError(f"{where}: y must have {n} labels (one per row of X), got shape {y.shape}")
    if y.size and not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"{where}: y must hold integer class indices, got dtype {y.dtype}")
    if y.size and np.issubdtype(y.dtype, np.floating) and not np.all(np.mod(y, 1) == 0):
        raise ValueError(
            f"{where}: y must hold integer class indices, got non-integer values such as "
            f"{float(y[np.mod(y, 1) != 0].flat[0])}"
        )
    if y.size and n_classes is not None and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"{where}: y must hold class indices in 0..{n_classes - 1} (n_classes={n_classes}), "
            f"got values in {int(y.min())}..{int(y.max())}"
        )
    return y.astype(np.int32)


def check_training_data(
    X: Any, y: Any, n_features: int, n_classes: int, *, where: str, runs: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The one check of a training set ``(X, y)`` for a network of ``n_features`` inputs and
    ``n_classes`` outputs, shared by ``train_ga``, ``run_many`` and ``train_gd``.

    Args:
        X: ``(n, f)`` features, or ``(R, n, f)`` for a sweep of R runs.
        y: ``(n,)`` labels, or ``(R, n)``; see :func:`check_labels`.
        where: the caller, for the message.
        runs: accept the sweep layout ``(R, n, f)`` too.

    Returns:
        ``(X float64, y int32)`` with the input shapes.

    Raises:
        ValueError: a wrong shape, a non-number or a non-finite feature value (naming its row
            and column), or a label that is not a class index.
    """
    try:
        X = np.asarray(X, np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: X must hold numbers: {err}") from None
    if X.ndim not in ((2, 3) if runs else (2,)) or X.shape[-1] != n_features:
        raise ValueError(
            f"{where}: X must have shape (n, {n_features}) for this network, got {X.shape}"
        )
    y = check_labels(y, n_classes, where=where, n=X.shape[-2])
    if not np.all(np.isfinite(X)):
        i, j = (int(v) for v in np.argwhere(~np.isfinite(X.reshape(-1, n_features)))[0])
        raise ValueError(
            f"{where}: X must be finite: row index {i % X.shape[-2]}, column index {j} holds "
            f"{X.reshape(-1, n_features)[i, j]}"
        )
    return X, y
