"""Splits, Standardizer, and the GA's data-subset masks (spec 6.2)."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debinn_jax.data import (
    Standardizer,
    ga_subsets,
    individual_masks,
    make_moons_dataset,
    monte_carlo_cv,
    shuffle_individuals,
    stratified_kfold,
    stratified_split,
    subset_sizes,
    validation_mask,
)
from debinn_jax.data.splits import _take_per_class, stratified_fraction_mask, stratified_holdout

# --------------------------------------------------------------------------------------------
# stratified split, k-fold, Monte Carlo CV


def labels(counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def check_split(y: np.ndarray, train: np.ndarray, test: np.ndarray, test_size: float) -> None:
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(y.size))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    for c in np.unique(y):
        n_c = np.sum(y == c)
        assert abs(np.sum(y[test] == c) - test_size * n_c) <= 1 + 1e-9


def test_stratified_split_keeps_proportions() -> None:
    y = labels([1655, 295, 176])
    train, test = stratified_split(y, 0.3, seed=0)
    check_split(y, train, test, 0.3)
    assert test.size == round(0.3 * y.size)
    assert np.sum(y[test] == 2) == 53  # 52.8: largest remainder first


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    test_size=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_property(counts: list[int], test_size: float, seed: int) -> None:
    y = np.random.default_rng(seed).permutation(labels(counts))
    train, test = stratified_split(y, test_size, seed=seed)
    check_split(y, train, test, test_size)
    for c, n_c in enumerate(counts):  # both sides keep every class of >= 2 cases
        if n_c >= 2:
            assert 0 < np.sum(y[test] == c) < n_c
    # the count rule: per class floor or ceil of test_size n_c, the largest remainders rounded
    # up, then clipped to [1, n_c - 1] (0 for a class of one case)
    got = np.bincount(y[test], minlength=len(counts))
    exact = test_size * np.asarray(counts, np.float64)
    lo, hi = np.floor(exact), np.ceil(exact)
    clip = [(min(max(v, 1), n - 1) if n >= 2 else 0) for v, n in zip(lo, counts)]
    clip_hi = [(min(max(v, 1), n - 1) if n >= 2 else 0) for v, n in zip(hi, counts)]
    assert all(a <= g <= b for a, g, b in zip(clip, got, clip_hi))
    free = [c for c, n in enumerate(counts) if n >= 2 and 1 <= lo[c] and hi[c] <= n - 1]
    up = [c for c in free if got[c] > exact[c]]
    down = [c for c in free if got[c] < exact[c]]
    frac = exact - lo
    assert all(frac[u] >= frac[d] - 1e-12 for u in up for d in down)  # largest remainders
    if len(free) == len(counts):  # nothing clipped: the total is round(test_size n)
        assert got.sum() == np.floor(test_size * y.size + 0.5)


def test_stratified_split_seeds() -> None:
    y = labels([30, 20])
    a = stratified_split(y, seed=1)
    b = stratified_split(y, seed=1)
    c = stratified_split(y, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    gen = stratified_split(y, seed=np.random.default_rng(1))
    np.testing.assert_array_equal(a[1], gen[1])
    with pytest.raises(ValueError, match="seed must be given"):
        stratified_split(y, seed=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="test_size"):
        stratified_split(y, 1.0, seed=0)


def test_stratified_split_string_labels_and_singleton() -> None:
    y = np.array(["a"] * 6 + ["b"] * 3 + ["c"])
    train, test = stratified_split(y, 0.5, seed=0)
    assert 9 in train  # a class of one case stays in train
    assert np.sum(y[test] == "a") == 3


@pytest.mark.parametrize("k", [2, 5, 7])
def test_stratified_kfold_covers_each_index_once(k: int) -> None:
    y = np.random.default_rng(0).permutation(labels([23, 11, 6]))
    folds = stratified_kfold(y, k, seed=0)
    assert len(folds) == k
    tests = np.concatenate([te for _, te in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(y.size))
    sizes = [te.size for _, te in folds]
    assert max(sizes) - min(sizes) <= 1
    for train, test in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(y.size))
        assert np.intersect1d(train, test).size == 0
    for c in range(3):
        per_fold = [np.sum(y[te] == c) for _, te in folds]
        assert max(per_fold) - min(per_fold) <= 1
    again = stratified_kfold(y, k, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    with pytest.raises(ValueError, match="k must be in"):
        stratified_kfold(y, 1, seed=0)


def test_monte_carlo_cv() -> None:
    y = labels([40, 20])
    splits = monte_carlo_cv(y, n_splits=5, test_size=0.25, seed=0)
    assert len(splits) == 5
    for train, test in splits:
        check_split(y, train, test, 0.25)
    assert len({tuple(te) for _, te in splits}) == 5
    again = monte_carlo_cv(y, n_splits=5, test_size=0.25, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))


@settings(max_examples=15, deadline=None)
@given(
    counts=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    fraction=st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.5, 0.7]),
    seed=st.integers(0, 2**31 - 1),
)
def test_stratified_holdout_count_rule(counts: list[int], fraction: float, seed: int) -> None:
    """round(fraction n_c) per class (half to even), >= 1 from a class of >= 2 when
    fraction > 0, always >= 1 left for training; disjoint, sorted, deterministic in the key."""
    y = np.random.default_rng(seed).permutation(labels(counts)) * 2 + 1  # labels 1, 3, 5
    train, val = stratified_holdout(jax.random.key(seed), y, fraction)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(y.size))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    for c, n_c in enumerate(counts):
        want = round(fraction * n_c)
        if fraction > 0 and n_c >= 2:
            want = max(want, 1)
        assert np.sum(y[val] == 2 * c + 1) == min(want, n_c - 1)
    again = stratified_holdout(jax.random.key(seed), y, fraction)
    np.testing.assert_array_equal(val, again[1])


def test_stratified_holdout_round_half_to_even() -> None:
    y = labels([5, 3, 4])  # 0.5 n_c = 2.5, 1.5, 2 -> 2, 2, 2
    _, val = stratified_holdout(jax.random.key(0), y, 0.5)
    assert np.bincount(y[val]).tolist() == [2, 2, 2]


# --------------------------------------------------------------------------------------------
# Standardizer


def test_standardizer_uses_train_stats_only() -> None:
    X_train = np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]], dtype=np.float32)
    X_test = np.array([[100.0, 7.0]], dtype=np.float32)
    s = Standardizer().fit(X_train)
    np.testing.assert_allclose(s.mean_, [2.0, 5.0])
    np.testing.assert_allclose(s.std_, [np.sqrt(8 / 3), 1.0])  # constant column -> std 1
    Z = s.transform(X_test)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z, [[98 / np.sqrt(8 / 3), 2.0]], rtol=1e-6)
    Zt = Standardizer().fit_transform(X_train)
    np.testing.assert_allclose(Zt.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(s.inverse_transform(Z), X_test, rtol=1e-6)


def test_standardizer_dict_round_trip_and_errors() -> None:
    d = make_moons_dataset(n=50, seed=0)
    s = Standardizer().fit(d.X)
    s2 = Standardizer.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(s.transform(d.X), s2.transform(d.X))
    scaled = s.transform_dataset(d)
    assert scaled.keys == d.keys and not np.allclose(scaled.X, d.X)
    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform(d.X)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        s.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="missing field 'std'"):
        Standardizer.from_dict({"mean": [0.0]})


# --------------------------------------------------------------------------------------------
# GA subsets: sizes (numpy)


def test_subset_sizes() -> None:
    sizes = subset_sizes(labels([1655, 295, 176]), 3)
    assert sizes.n_validation == 52  # floor(0.3 * 176)
    assert sizes.pool_counts.tolist() == [1603, 243, 124]
    assert sizes.n_dropped == 24  # floor(0.2 * 124)
    assert sizes.individual_counts.tolist() == [1579, 219, 100]
    assert subset_sizes(labels([10, 10]), 2).n_validation == 3  # no float rounding down


def test_subset_sizes_errors() -> None:
    with pytest.raises(ValueError, match=r"need >= 2 cases per class"):
        subset_sizes(labels([5, 1]), 2)
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] have \[0\] case"):
        subset_sizes(labels([5, 5]), 3)
    with pytest.raises(ValueError, match="0..1"):
        subset_sizes(np.array([0, 1, 2]), 2)


# --------------------------------------------------------------------------------------------
# GA subsets: masks (JAX)

# One shape for every mask test (N samples, K classes, P individuals), so each jitted function
# compiles once; smaller sets are padded to N with a sample mask, as the GA pads folds.
N = 64
K = 3
P = 6

jit_validation = jax.jit(validation_mask, static_argnums=2)
jit_individuals = jax.jit(individual_masks, static_argnums=(2, 4))
jit_subsets = jax.jit(ga_subsets, static_argnums=(2, 3))


def padded(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``(N,)`` with ``counts`` cases per class, then padding (label 0, mask 0)."""
    y = np.zeros(N, np.int32)
    y[: sum(counts)] = labels(counts)
    sample = np.zeros(N, np.float32)
    sample[: sum(counts)] = 1
    return y, sample


def class_counts(mask: jax.Array, y: np.ndarray) -> np.ndarray:
    """(..., N) masks -> (..., K) counts per class."""
    return np.asarray(mask) @ np.eye(K)[y]


def subsets(key: jax.Array, y: np.ndarray, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    val, ind = jit_subsets(key, jnp.asarray(y), K, P, jnp.asarray(sample))
    return np.asarray(val), np.asarray(ind)


jit_take = jax.jit(_take_per_class, static_argnums=2)


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(0, 20), min_size=K, max_size=K).filter(lambda c: sum(c) <= N),
    take=st.lists(st.integers(0, 25), min_size=K, max_size=K),
    seed=st.integers(0, 2**31 - 1),
)
def test_take_per_class_count_per_class(counts: list[int], take: list[int], seed: int) -> None:
    """``count`` of shape (K,): min(count[c], n_c) members of class c, only members, the same
    for the same key; a scalar count is the (K,) form with that count everywhere."""
    y, sample = padded(counts)
    members, yj = jnp.asarray(sample > 0), jnp.asarray(y)
    count = jnp.asarray(take, jnp.int32)
    noise = jax.random.uniform(jax.random.key(seed), (N,))
    got = np.asarray(jit_take(noise, yj, K, members, count))
    assert got.dtype == bool and not np.any(got & ~np.asarray(members))
    assert class_counts(got, y).tolist() == np.minimum(take, counts).tolist()
    again = jit_take(jax.random.uniform(jax.random.key(seed), (N,)), yj, K, members, count)
    np.testing.assert_array_equal(got, np.asarray(again))
    first = jnp.full((K,), take[0], jnp.int32)
    np.testing.assert_array_equal(
        np.asarray(jit_take(noise, yj, K, members, jnp.int32(take[0]))),
        np.asarray(jit_take(noise, yj, K, members, first)),
    )


def test_take_per_class_count_per_class_other_key_other_choice() -> None:
    y, sample = padded([20, 10, 15])
    members, yj = jnp.asarray(sample > 0), jnp.asarray(y)
    count = jnp.asarray([5, 0, 15], jnp.int32)
    a, b = (
        np.asarray(jit_take(jax.random.uniform(jax.random.key(s), (N,)), yj, K, members, count))
        for s in (0, 1)
    )
    assert class_counts(a, np.asarray(y)).tolist() == [5, 0, 15] == class_counts(b, y).tolist()
    assert not np.array_equal(a, b)


def test_stratified_fraction_mask_counts_and_key() -> None:
    y, sample = padded([30, 20, 7])
    sample[:3] = 0  # class 0 keeps 27
    f = jax.jit(stratified_fraction_mask, static_argnums=2)
    args = (jnp.asarray(y), K, jnp.asarray(sample), 0.5)
    a, b, c = (np.asarray(f(jax.random.key(s), *args)) for s in (0, 0, 1))
    assert a.dtype == np.float32 and np.all(a <= sample)
    assert class_counts(a, y).tolist() == [13, 10, 3]  # floor(0.5 n_c) among the samples
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_validation_mask_counts() -> None:
    y, sample = padded([30, 20, 10])  # m = 10 -> 3 per class
    mask = jit_validation(jax.random.key(0), jnp.asarray(y), K, jnp.asarray(sample))
    assert mask.shape == (N,) and mask.dtype == jnp.float32
    assert set(np.unique(np.asarray(mask)).tolist()) <= {0.0, 1.0}
    assert class_counts(mask, y).tolist() == [3, 3, 3]
    assert np.all(np.asarray(mask) <= sample)  # never a padded sample


def test_validation_mask_smallest_class_of_considered_samples() -> None:
    y, sample = padded([30, 20, 10])
    sample[:20] = 0  # class 0 keeps 10 cases
    sample[50:55] = 0  # class 2 keeps 5 -> m = 5 -> floor(1.5) = 1 per class
    mask = np.asarray(jit_validation(jax.random.key(1), jnp.asarray(y), K, jnp.asarray(sample)))
    assert class_counts(mask, y).tolist() == [1, 1, 1]
    assert np.all(mask <= sample)


def test_individual_masks_direct() -> None:
    y, pool = padded([12, 8, 9])
    pool[[0, 1, 12]] = 0  # pool: 10, 7, 9 -> m' = 7 -> drop floor(1.4) = 1 per class
    ind = np.asarray(jit_individuals(jax.random.key(3), jnp.asarray(y), K, jnp.asarray(pool), P))
    assert ind.shape == (P, N) and ind.dtype == np.float32
    assert class_counts(ind, y).tolist() == [[9, 6, 8]] * P
    assert np.all(ind <= pool)


def test_subsets_counts_and_disjoint() -> None:
    y, sample = padded([30, 20, 10])
    sizes = subset_sizes(labels([30, 20, 10]), K)
    val, ind = subsets(jax.random.key(2), y, sample)
    assert class_counts(val, y).tolist() == [sizes.n_validation] * K
    assert np.all(ind <= (sample - val)[None, :])  # inside the pool: disjoint from validation
    assert np.all(ind * val[None, :] == 0)
    np.testing.assert_array_equal(class_counts(ind, y), np.tile(sizes.individual_counts, (P, 1)))
    assert len({tuple(row) for row in ind}) == P  # drawn independently per individual


def test_masks_same_key_same_masks_other_key_other_masks() -> None:
    y, sample = padded([20, 20, 24])
    a = subsets(jax.random.key(0), y, sample)
    b = subsets(jax.random.key(0), y, sample)
    c = subsets(jax.random.key(1), y, sample)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[1], c[1])


def test_masks_vmap_over_keys() -> None:
    y, sample = padded([30, 24, 10])
    keys = jax.random.split(jax.random.key(5), 4)
    many = jax.jit(jax.vmap(lambda k, y, s: ga_subsets(k, y, K, P, s), (0, None, None)))
    vals, inds = many(keys, jnp.asarray(y), jnp.asarray(sample))
    assert vals.shape == (4, N) and inds.shape == (4, P, N)
    for s in range(4):  # vmapped == one key at a time
        val, ind = subsets(keys[s], y, sample)
        np.testing.assert_array_equal(vals[s], val)
        np.testing.assert_array_equal(inds[s], ind)
    assert len({tuple(np.asarray(v)) for v in vals}) == 4


def test_masks_inside_scan_with_shuffle() -> None:
    """The GA redraws the subsets inside ``lax.scan``; shapes stay static."""
    y, sample = padded([40, 14, 10])
    yj, sj = jnp.asarray(y), jnp.asarray(sample)

    def step(carry: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        k1, k2 = jax.random.split(key)
        val, ind = ga_subsets(k1, yj, K, P, sj)
        shuffled = shuffle_individuals(k2, ind)
        same_rows = jnp.all(jnp.sort(shuffled.sum(1)) == jnp.sort(ind.sum(1)))
        return carry + jnp.sum(val), (jnp.sum(shuffled, axis=1), same_rows)

    total, (sizes, same_rows) = jax.jit(lambda k: jax.lax.scan(step, 0.0, jax.random.split(k, 5)))(
        jax.random.key(0)
    )
    expected = subset_sizes(labels([40, 14, 10]), K)
    assert float(total) == 5 * K * expected.n_validation
    assert np.all(np.asarray(sizes) == expected.individual_counts.sum())
    assert bool(np.all(same_rows))


def test_shuffle_individuals_permutes_rows() -> None:
    masks = jnp.eye(P, N)
    out = np.asarray(shuffle_individuals(jax.random.key(0), masks))
    assert sorted(map(tuple, out)) == sorted(map(tuple, np.asarray(masks)))
    assert not np.array_equal(out, np.asarray(masks))


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(2, 20), min_size=K, max_size=K).filter(lambda c: sum(c) <= N),
    seed=st.integers(0, 2**31 - 1),
)
def test_masks_property_padded(counts: list[int], seed: int) -> None:
    """Random class sizes (padded to N, one compile): the sizes match :func:`subset_sizes`."""
    y, sample = padded(counts)
    val, ind = subsets(jax.random.key(seed), y, sample)
    sizes = subset_sizes(labels(counts), K)
    assert class_counts(val, y).tolist() == [sizes.n_validation] * K
    np.testing.assert_array_equal(class_counts(ind, y), np.tile(sizes.individual_counts, (P, 1)))
    assert np.all(val <= sample) and np.all(ind <= (sample - val)[None, :])
