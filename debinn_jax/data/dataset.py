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
        if y.size and not np.issubdtype(y.dtype, np.integer):
            if not np.all(np.equal(np.mod(y, 1), 0)):
                raise ValueError("Dataset.y must hold integer class indices")
        y = y.astype(np.int32)
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
    training labels).
    """

    train: Dataset
    test: Dataset
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
