"""Splits of a labelled set, feature scaling, and the GA's data-subset masks.

Host side (numpy, run once before training; every function takes an explicit ``seed``: an int,
a ``np.random.SeedSequence`` or a ``np.random.Generator``):

- :func:`stratified_split`, :func:`stratified_kfold`, :func:`monte_carlo_cv` -> index arrays;
- :func:`stratified_holdout`: the gradient-descent trainer's split (a JAX ``key``, not a seed);
- :class:`Standardizer`: z-scoring fitted on the training split only;
- :func:`subset_sizes`: checks up front that the GA's subsets can be drawn, and their sizes.

Device side (pure JAX, static shapes, usable inside ``jit``/``vmap``/``lax.scan``; randomness
only from the ``key`` argument) - the GA's data subsets of spec section 6.2 as 0/1 masks:

- :func:`validation_mask` -> ``(N,)``: floor(0.3 m) random cases of every class;
- :func:`individual_masks` -> ``(P, N)``: the training pool minus floor(0.2 m') random cases
  of every class, independently for each individual;
- :func:`ga_subsets`: both at once; :func:`shuffle_individuals`: permute the rows;
- :func:`stratified_fraction_mask` -> ``(N,)``: floor(fraction n_c) random cases of every
  class c (the 2022 GA's final re-scoring subsamples, spec 6.9).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax.data.dataset import Dataset

SeedLike = int | np.random.SeedSequence | np.random.Generator

VALIDATION_FRACTION = 0.3
"""Validation subset: floor(0.3 m) cases per class (m = smallest class of the set split)."""

DROP_FRACTION = 0.2
"""Each individual's subset: the pool minus floor(0.2 m') cases per class (m' = smallest class
of the pool)."""


# --------------------------------------------------------------------------------------------
# host side: index splits


def _rng(seed: SeedLike) -> np.random.Generator:
    if seed is None:
        raise ValueError("seed must be given (an int, SeedSequence or Generator), not None")
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _labels(y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of class labels, got shape {y.shape}")
    return y


def _deal_per_class(
    inverse: np.ndarray, n_taken: np.ndarray, permutation: Callable[[int, int], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Take ``n_taken[c]`` random cases of every class ``c``: the host's one per-class dealer.

    Class ``c`` (the cases with ``inverse == c``, in index order) is shuffled by
    ``permutation(c, n_c)`` (a permutation of ``0..n_c-1``) and its first ``n_taken[c]``
    cases are taken. Each caller keeps its own count rule and its own randomness source.

    Returns:
        ``(taken, rest)``: sorted int64 index arrays, disjoint, together ``0..n-1``.
    """
    taken = np.zeros(inverse.size, dtype=bool)
    for c in range(len(n_taken)):
        idx = np.flatnonzero(inverse == c)
        if idx.size:
            taken[idx[np.asarray(permutation(c, idx.size))[: n_taken[c]]]] = True
    return np.flatnonzero(taken).astype(np.int64), np.flatnonzero(~taken).astype(np.int64)


def stratified_split(
    y: np.ndarray, test_size: float = 0.3, *, seed: SeedLike
) -> tuple[np.ndarray, np.ndarray]:
    """Random train/test split that keeps the class proportions.

    Every class puts ``test_size * n_c`` cases in the test set, rounded so that the test set
    holds ``round(test_size * n)`` cases (largest remainders), but a class with >= 2 cases keeps
    at least one case on each side (a class with one case stays in train). So each class's
    test count is within 1 of ``test_size * n_c``.

    Args:
        y: labels ``(n,)`` (any values; classes are the distinct values).
        test_size: fraction of cases in the test set, in (0, 1).
        seed: int, SeedSequence or Generator.

    Returns:
        ``(train_idx, test_idx)``: sorted int64 index arrays, disjoint, together ``0..n-1``.
    """
    y = _labels(y)
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    rng = _rng(seed)
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    exact = test_size * counts
    n_test = np.floor(exact).astype(np.int64)
    total = int(np.floor(test_size * y.size + 0.5))
    remaining = max(total - int(n_test.sum()), 0)
    frac = exact - n_test
    # largest remainders first; random order among equal remainders
    order = np.lexsort((rng.random(len(classes)), -frac))
    n_test[order[:remaining]] += 1
    n_test = np.where(counts >= 2, np.clip(n_test, 1, counts - 1), 0)
    test_idx, train_idx = _deal_per_class(inverse, n_test, lambda c, n_c: rng.permutation(n_c))
    return train_idx, test_idx


def stratified_kfold(
    y: np.ndarray, k: int = 5, *, seed: SeedLike
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold cross-validation.

    Each class is shuffled and dealt round-robin to the folds (continuing where the previous
    class stopped), so fold sizes differ by at most 1, overall and per class. A class with
    fewer than ``k`` cases is simply absent from some test folds.

    Args:
        y: labels ``(n,)``.
        k: number of folds, 2 <= k <= n.
        seed: int, SeedSequence or Generator.

    Returns:
        ``k`` pairs ``(train_idx, test_idx)`` of sorted int64 arrays; every index is in exactly
        one test fold.
    """
    y = _labels(y)
    if not 2 <= k <= y.size:
        raise ValueError(f"k must be in [2, n={y.size}], got {k}")
    rng = _rng(seed)
    classes, inverse = np.unique(y, return_inverse=True)
    fold_of = np.empty(y.size, dtype=np.int64)
    offset = 0
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        fold_of[members] = (offset + np.arange(members.size)) % k
        offset += members.size
    return [
        (
            np.flatnonzero(fold_of != i).astype(np.int64),
            np.flatnonzero(fold_of == i).astype(np.int64),
        )
        for i in range(k)
    ]


def monte_carlo_cv(
    y: np.ndarray, n_splits: int = 10, test_size: float = 0.3, *, seed: SeedLike
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Monte Carlo cross-validation: ``n_splits`` independent :func:`stratified_split` draws.

    Returns:
        ``n_splits`` pairs ``(train_idx, test_idx)`` of sorted int64 arrays.
    """
    if n_splits < 1:
        raise ValueError(f"n_splits must be >= 1, got {n_splits}")
    rng = _rng(seed)
    return [stratified_split(y, test_size, seed=rng) for _ in range(n_splits)]


def stratified_holdout(
    key: jax.Array, y: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (train, validation), taking ``round(fraction * n_c)`` of every class.

    A class with at least 2 cases gives at least 1 to validation when ``fraction > 0``, and
    always keeps at least 1 for training. Deterministic in ``key``: class ``c`` is shuffled by
    ``jax.random.permutation(jax.random.fold_in(key, c), n_c)`` (``c`` the label value). The
    gradient-descent trainer's validation split. Returns sorted index arrays.
    """
    y = np.asarray(y)
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    n_val = np.round(fraction * counts).astype(np.int64)  # half to even, like round()
    if fraction > 0:
        n_val = np.where(counts >= 2, np.maximum(n_val, 1), n_val)
    n_val = np.minimum(n_val, counts - 1)
    val, train = _deal_per_class(
        inverse,
        n_val,
        lambda c, n_c: jax.random.permutation(jax.random.fold_in(key, int(classes[c])), n_c),
    )
    return train, val


# --------------------------------------------------------------------------------------------
# host side: scaling


@dataclasses.dataclass
class Standardizer:
    """Z-scoring ``(x - mean) / std`` per feature, fitted on the training split only.

    ``std`` is the population standard deviation; a constant feature gets ``std = 1``.
    Scikit-learn style: ``fit`` returns self, fitted state ends in ``_``.

    Attributes:
        mean_: per-feature mean ``(f,)`` (float64), None before ``fit``.
        std_: per-feature std ``(f,)`` (float64, zeros replaced by 1), None before ``fit``.
    """

    mean_: np.ndarray | None = None
    std_: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        """Learn mean and std from ``X`` ``(n, f)``; returns self."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"Standardizer.fit: X must be 2-D (n >= 1, f), got shape {X.shape}")
        std = X.std(axis=0)
        self.mean_ = X.mean(axis=0)
        self.std_ = np.where(std == 0, 1.0, std)
        return self

    def _check(self, X: np.ndarray) -> np.ndarray:
        if self.mean_ is None or self.std_ is None:
            raise ValueError("Standardizer is not fitted; call fit(X_train) first")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.mean_.shape[0]:
            raise ValueError(
                f"Standardizer: X must have shape (n, {self.mean_.shape[0]}), got {X.shape}"
            )
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(X - mean) / std``, shape ``(n, f)``; float inputs keep their dtype."""
        X = self._check(X)
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        return ((X - self.mean_) / self.std_).astype(dtype)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """``Z * std + mean``, shape ``(n, f)``."""
        Z = self._check(Z)
        dtype = Z.dtype if np.issubdtype(Z.dtype, np.floating) else np.float64
        return (Z * self.std_ + self.mean_).astype(dtype)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def transform_dataset(self, data: Dataset) -> Dataset:
        """The same :class:`Dataset` with ``X`` transformed."""
        return dataclasses.replace(data, X=self.transform(data.X))

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-ready ``{"mean": [...], "std": [...]}``."""
        if self.mean_ is None or self.std_ is None:
            raise ValueError("Standardizer is not fitted; nothing to save")
        return {"mean": self.mean_.tolist(), "std": self.std_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Standardizer:
        """Inverse of :meth:`to_dict`."""
        try:
            mean = np.asarray(d["mean"], dtype=np.float64)
            std = np.asarray(d["std"], dtype=np.float64)
        except KeyError as e:
            raise ValueError(f"Standardizer.from_dict: missing field {e.args[0]!r}") from None
        if mean.ndim != 1 or mean.shape != std.shape:
            raise ValueError(
                f"Standardizer.from_dict: 'mean' and 'std' must be 1-D of the same length, "
                f"got {mean.shape} and {std.shape}"
            )
        if np.any(std <= 0):
            raise ValueError("Standardizer.from_dict: 'std' must be > 0")
        return cls(mean_=mean, std_=std)


# --------------------------------------------------------------------------------------------
# host side: the GA's subset sizes


class SubsetSizes(NamedTuple):
    """Sizes of the GA's data subsets (spec 6.2) for a training set; see :func:`subset_sizes`."""

    class_counts: np.ndarray
    """Cases per class ``(K,)``."""
    n_validation: int
    """Validation cases per class: floor(0.3 m), m = min(class_counts)."""
    pool_counts: np.ndarray
    """Training-pool cases per class ``(K,)``: class_counts - n_validation."""
    n_dropped: int
    """Cases per class left out of each individual's subset: floor(0.2 m'), m' = min(pool)."""
    individual_counts: np.ndarray
    """Cases per class in each individual's subset ``(K,)``: pool_counts - n_dropped."""


def _n_per_class_np(fraction: float, m: int) -> int:
    return int(np.floor(np.float64(fraction) * m * (1.0 + 1e-6)))


def subset_sizes(
    y: np.ndarray,
    n_classes: int,
    validation_fraction: float = VALIDATION_FRACTION,
    drop_fraction: float = DROP_FRACTION,
) -> SubsetSizes:
    """Check that the GA's data subsets can be drawn from labels ``y`` ``(N,)``; their sizes.

    Same arithmetic as :func:`validation_mask` and :func:`individual_masks`.

    Raises:
        ValueError: ``y`` is not in ``0..n_classes-1``, or a class has fewer than 2 cases
            (the GA's data subsets need >= 2 cases per class).
    """
    y = _labels(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"y must hold class indices in 0..{n_classes - 1} (n_classes={n_classes}), "
            f"got values in {int(y.min())}..{int(y.max())}"
        )
    counts = np.bincount(y, minlength=n_classes)
    small = np.flatnonzero(counts < 2)
    if small.size:
        raise ValueError(
            f"y: class(es) {small.tolist()} have {counts[small].tolist()} case(s); the GA's data "
            f"subsets need >= 2 cases per class (class counts: {counts.tolist()})"
        )
    n_val = _n_per_class_np(validation_fraction, int(counts.min()))
    pool = counts - n_val
    n_drop = _n_per_class_np(drop_fraction, int(pool.min()))
    return SubsetSizes(counts, n_val, pool, n_drop, pool - n_drop)


# --------------------------------------------------------------------------------------------
# device side: the GA's masks (pure JAX)


def _members(y: jax.Array, n_classes: int, mask: jax.Array | None) -> jax.Array:
    """Boolean ``(N,)``: in the mask (> 0) and a valid class index."""
    ok = (y >= 0) & (y < n_classes)
    return ok if mask is None else ok & (jnp.asarray(mask) > 0)


def _class_counts(y: jax.Array, n_classes: int, members: jax.Array) -> jax.Array:
    """Members per class, int32 ``(K,)``."""
    onehot = (y[None, :] == jnp.arange(n_classes, dtype=y.dtype)[:, None]) & members[None, :]
    return jnp.sum(onehot, axis=1, dtype=jnp.int32)


def _smallest_class(counts: jax.Array) -> jax.Array:
    """Size of the smallest non-empty class (0 when all are empty); int32 scalar."""
    big = jnp.iinfo(jnp.int32).max
    m = jnp.min(jnp.where(counts > 0, counts, big))
    return jnp.where(m == big, 0, m)


def _n_per_class(fraction: float | jax.Array, m: jax.Array) -> jax.Array:
    """floor(fraction * m) (with a 1e-6 relative guard against float32 rounding); int32."""
    f = jnp.asarray(fraction, jnp.float32)
    return jnp.floor(f * m.astype(jnp.float32) * (1.0 + 1e-6)).astype(jnp.int32)


def _take_per_class(
    noise: jax.Array, y: jax.Array, n_classes: int, members: jax.Array, count: jax.Array
) -> jax.Array:
    """Boolean ``(N,)``: in every class, the ``count`` members of smallest noise.

    The device side's one stratified selection. ``count`` is a traced int: a scalar (the same
    number from every class) or ``(K,)`` (``count[c]`` from class ``c``). With uniform ``noise``
    ``(N,)`` these are random members of each class (all of them when a class has fewer).
    Sorting by (class, noise) and subtracting the start of its class gives each member's rank
    within the class; the members of rank < count are taken.
    """
    n = y.shape[0]
    group = jnp.where(members, y, n_classes).astype(jnp.int32)  # non-members sort last
    order = jnp.lexsort((noise, group))
    position = jnp.zeros(n, jnp.int32).at[order].set(jnp.arange(n, dtype=jnp.int32))
    counts = _class_counts(y, n_classes, members)
    start = jnp.concatenate([jnp.zeros(1, jnp.int32), jnp.cumsum(counts, dtype=jnp.int32)])
    rank = position - start[group]
    count = jnp.asarray(count, jnp.int32)
    if count.ndim:  # per class; non-members (group K) get 0
        count = jnp.concatenate([count, jnp.zeros(1, jnp.int32)])[group]
    return members & (rank < count)


def validation_mask(
    key: jax.Array,
    y: jax.Array,
    n_classes: int,
    sample_mask: jax.Array | None = None,
    fraction: float | jax.Array = VALIDATION_FRACTION,
) -> jax.Array:
    """The GA's validation subset (spec 6.2): floor(fraction m) random cases of every class.

    ``m`` is the size of the smallest class among the samples considered (classes with no
    sample there are ignored). Pure; jit/vmap-able (``n_classes`` must be static).

    Args:
        key: PRNG key; the same key gives the same mask.
        y: class indices ``(N,)``, int.
        n_classes: K (static).
        sample_mask: ``(N,)`` 0/1: samples that may be used (e.g. padding = 0); default all.
        fraction: 0.3 in the reference.

    Returns:
        float32 ``(N,)`` 0/1 mask, 1 = validation case.
    """
    y = jnp.asarray(y)
    members = _members(y, n_classes, sample_mask)
    count = _n_per_class(fraction, _smallest_class(_class_counts(y, n_classes, members)))
    noise = jax.random.uniform(key, y.shape)
    return _take_per_class(noise, y, n_classes, members, count).astype(jnp.float32)


def individual_masks(
    key: jax.Array,
    y: jax.Array,
    n_classes: int,
    pool_mask: jax.Array,
    population_size: int,
    fraction: float | jax.Array = DROP_FRACTION,
) -> jax.Array:
    """Each individual's training subset (spec 6.2): the pool minus floor(fraction m') random
    cases of every class, drawn independently per individual.

    ``m'`` is the size of the smallest class in the pool (classes absent from the pool are
    ignored). Pure; jit/vmap-able (``n_classes`` and ``population_size`` must be static).

    Args:
        key: PRNG key; the same key gives the same masks.
        y: class indices ``(N,)``, int.
        n_classes: K (static).
        pool_mask: ``(N,)`` 0/1 training pool (``sample_mask - validation_mask``).
        population_size: P (static).
        fraction: 0.2 in the reference.

    Returns:
        float32 ``(P, N)`` 0/1 masks; row k = individual k's training cases.
    """
    y = jnp.asarray(y)
    pool = _members(y, n_classes, pool_mask)
    count = _n_per_class(fraction, _smallest_class(_class_counts(y, n_classes, pool)))
    noise = jax.random.uniform(key, (population_size, y.shape[0]))  # independent rows
    dropped = jax.vmap(lambda u: _take_per_class(u, y, n_classes, pool, count))(noise)
    return (pool[None, :] & ~dropped).astype(jnp.float32)


def ga_subsets(
    key: jax.Array,
    y: jax.Array,
    n_classes: int,
    population_size: int,
    sample_mask: jax.Array | None = None,
    validation_fraction: float | jax.Array = VALIDATION_FRACTION,
    drop_fraction: float | jax.Array = DROP_FRACTION,
) -> tuple[jax.Array, jax.Array]:
    """Validation mask ``(N,)`` and individual masks ``(P, N)`` drawn together (one redraw).

    The pool is ``sample_mask`` minus the validation cases; see :func:`validation_mask` and
    :func:`individual_masks`. Pure; jit/vmap-able.
    """
    k_val, k_ind = jax.random.split(key)
    y = jnp.asarray(y)
    val = validation_mask(k_val, y, n_classes, sample_mask, validation_fraction)
    usable = _members(y, n_classes, sample_mask).astype(jnp.float32)
    pool = usable * (1.0 - val)
    return val, individual_masks(k_ind, y, n_classes, pool, population_size, drop_fraction)


def stratified_fraction_mask(
    key: jax.Array, y: jax.Array, n_classes: int, sample_mask: jax.Array, fraction: float
) -> jax.Array:
    """A random ``floor(fraction * n_c)`` cases of every class among ``sample_mask``; ``(N,)``.

    ``n_c`` is class c's count among the samples (``fraction * n_c`` in float32). Pure;
    jit/vmap-able (``n_classes`` static). The 2022 GA's final re-scoring subsamples (spec 6.9).

    Returns:
        float32 ``(N,)`` 0/1 mask.
    """
    y = jnp.asarray(y)
    members = _members(y, n_classes, sample_mask)
    counts = _class_counts(y, n_classes, members)
    count = jnp.floor(counts.astype(jnp.float32) * fraction).astype(jnp.int32)
    # u rounded as the earlier sort key ``4 y + u`` rounded it, so that a key gives the same
    # mask as before: in float32, members of a class whose u round alike keep index order.
    shift = y.astype(jnp.float32) * 4.0
    noise = (shift + jax.random.uniform(key, y.shape)) - shift
    return _take_per_class(noise, y, n_classes, members, count).astype(jnp.float32)


def shuffle_individuals(key: jax.Array, masks: jax.Array) -> jax.Array:
    """Permute the rows of ``(P, N)`` masks: hand the subsets to other individuals (spec 6.2
    re-shuffles them every generation). Pure; jit/vmap-able."""
    return jax.random.permutation(key, masks, axis=0)


# --------------------------------------------------------------------------------------------
# The 2025 GA's fixed leave-out splits (DEBINN-2025 section 4)


def leave_out_ratios(low: float = 0.2, high: float = 0.5, step: float = 0.05) -> tuple[float, ...]:
    """Leave-out ratios ``low, low + step, ...`` accumulated in float64 while ``<= high``.

    The accumulation is the 2025 program's: with the defaults the 7 ratios end in
    0.49999999999999994, not 0.5 (which changes ``floor(r m)`` for some ``m``).
    """
    if not (0 < low <= high < 1 and step > 0):
        raise ValueError(
            f"leave-out ratios need 0 < low <= high < 1 and step > 0, got {low}, {high}, {step}"
        )
    ratios, r = [], float(low)
    while r <= high:
        ratios.append(r)
        r += step
    return tuple(ratios)


def leave_out_counts(y: Any, ratios: Sequence[float], sample_mask: Any = None) -> np.ndarray:
    """Validation cases per class for each ratio: ``floor(r m)`` in float64, ``(n_ratios,)``.

    ``m`` is the smallest class count of ``y`` (host NumPy; among ``sample_mask > 0``).
    """
    y = np.asarray(y)
    if sample_mask is not None:
        y = y[np.asarray(sample_mask) > 0]
    counts = np.bincount(y.astype(np.int64))
    m = int(counts[counts > 0].min())
    return np.array([math.floor(r * m) for r in ratios], np.int32)


def leave_out_splits(
    key: jax.Array,
    y: jax.Array,
    n_classes: int,
    counts: jax.Array,
    splits_per_ratio: int,
    sample_mask: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The 2025 GA's fixed balanced leave-out splits (DEBINN-2025 section 4).

    For each ratio k (``counts[k]`` = floor(r_k m) from :func:`leave_out_counts`) and each of
    ``splits_per_ratio`` splits, the validation part takes ``counts[k]`` random cases of every
    class; the train part is every other usable case. Pure; jit/vmap-able (``n_classes`` and
    ``splits_per_ratio`` static).

    Args:
        key: PRNG key; the same key gives the same splits.
        y: class indices ``(N,)``.
        counts: ``(n_ratios,)`` int validation cases per class.
        sample_mask: ``(N,)`` usable cases (padding 0); default all.

    Returns:
        ``(train, val)``: float32 ``(n_ratios * splits_per_ratio, N)`` 0/1 masks, ratio-major.
    """
    y = jnp.asarray(y)
    members = _members(y, n_classes, sample_mask)
    counts = jnp.repeat(jnp.asarray(counts, jnp.int32), splits_per_ratio)
    noise = jax.random.uniform(key, (counts.shape[0], y.shape[0]))
    val = jax.vmap(lambda u, c: _take_per_class(u, y, n_classes, members, c))(noise, counts)
    train = members[None, :] & ~val
    return train.astype(jnp.float32), val.astype(jnp.float32)


def default_keys(n: int) -> tuple[str, ...]:
    """Row keys of a table without a key column: ``"1" .. "n"`` (1-based row numbers)."""
    return tuple(str(i + 1) for i in range(n))


def authors_splits(
    keys: Sequence[str],
    y: Any,
    n_classes: int,
    ratios: Sequence[float],
    splits_per_ratio: int,
    seed_base: int,
    rules: str = "msvc",
    sample_mask: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The 2025 program's leave-out splits, exactly (DEBINN-2025 sections 4 and 7.3; host side).

    Deterministic: no random key, the same splits for every run on the same training set.
    Ratio k (``ratios[k]``, ``m`` the smallest class count) uses the engine
    ``std::mt19937(seed_base + k)``. For every ratio, each class's list of training keys is
    sorted as strings (``"1" < "10" < "2"``); then for each of the ``splits_per_ratio`` splits
    and each class in class order, that class's list is shuffled in place (the next split
    shuffles the already shuffled list) with the C++ library ``rules``
    (:mod:`debinn_jax.cpp_random`); the split's validation part is the first ``floor(r m)``
    keys of every class, its train part every other case. The authors' program trains on
    ``seed_base`` 0 and re-scores its final candidates on ``seed_base`` T + 1 (T the iteration
    count).

    Args:
        keys: ``N`` unique row keys (the first column of the training table; see
            :func:`default_keys` for tables without one).
        y: ``(N,)`` class indices (class order = sorted label strings).
        n_classes: K.
        ratios: leave-out ratios (:func:`leave_out_ratios`).
        splits_per_ratio: splits per ratio.
        seed_base: the first engine seed.
        rules: ``"msvc"`` or ``"libstdc++"``.
        sample_mask: ``(N,)`` usable rows (padding 0); default all.

    Returns:
        ``(train, val)``: float32 ``(len(ratios) * splits_per_ratio, N)`` 0/1 masks,
        ratio-major (the order of :func:`leave_out_splits`).

    Raises:
        ValueError: keys are not unique or not one per row, or a class has no usable case.
    """
    from debinn_jax import cpp_random

    cpp_random.check_rules(rules)
    y = np.asarray(y).astype(np.int64)
    keys = [str(k) for k in keys]
    if len(keys) != y.shape[0]:
        raise ValueError(f"authors_splits: {len(keys)} keys for {y.shape[0]} labels")
    use = np.ones(y.shape, bool) if sample_mask is None else np.asarray(sample_mask) > 0
    used = [k for k, u in zip(keys, use, strict=True) if u]
    if len(set(used)) != len(used):
        dup = sorted({k for k in used if used.count(k) > 1})[:5]
        raise ValueError(f"authors_splits: row keys must be unique, got duplicates {dup}")
    row = {k: i for i, k in enumerate(keys) if use[i]}
    counts = np.bincount(y[use], minlength=n_classes)
    if counts.min() < 1:
        raise ValueError(f"authors_splits: every class needs a case, got counts {counts.tolist()}")
    m = int(counts.min())
    n = y.shape[0]
    train, val = [], []
    for k, r in enumerate(ratios):
        engine = cpp_random.Engine(seed_base + k)
        lists = [
            sorted(kk for kk, c, u in zip(keys, y, use, strict=True) if u and c == cls)
            for cls in range(n_classes)
        ]
        count = math.floor(r * m)
        for _ in range(splits_per_ratio):
            v = np.zeros(n, bool)
            for members in lists:
                cpp_random.shuffle(members, engine, rules)
                v[[row[kk] for kk in members[:count]]] = True
            val.append(v)
            train.append(use & ~v)
    return np.asarray(train, np.float32), np.asarray(val, np.float32)
