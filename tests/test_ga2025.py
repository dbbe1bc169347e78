"""The authors' 2025 GA (DEBINN-2025.md section 4): operators, splits, AUTO values, the hall of
fame and tolerance rules, early stopping, the "AllIn" final selection, float64 and per-run
network switches in sweeps.

Tiny networks and a few generations; the runs share compiled programs through module-scoped
fixtures (the tiny 2025 config differs between tests only in numeric fields, which do not
recompile). The DLBCL check reads ``$DEBINN_DATA_DIR`` (else ``<repo>/../shared/data``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _shared import data_dir
from jax import flatten_util

import debinn_jax as dj
from debinn_jax.data.splits import leave_out_counts, leave_out_ratios, leave_out_splits
from debinn_jax.ga import (
    DebiGA,
    GAConfig,
    empty_hall_of_fame,
    hof_candidates,
    hof_insert,
    initial_population,
    make_algorithm,
    mutation_amplitude,
    tolerance_update_2025,
    train_ga,
    two_tournaments,
    z_gene_mask,
)
from debinn_jax.ga.operators import _np_ravel
from debinn_jax.ga.train import _compiled, _static_key, run_settings
from debinn_jax.network import NetworkSpec, param_count
from debinn_jax.sweep import run_many

# --------------------------------------------------------------------------------------------
# shared data, networks and configs


def _blobs(n0: int = 24, n1: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], [n0, n1])
    X = rng.normal(size=(n0 + n1, 3)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return X, y


# 3-(4)-2: G = 39 genes -> P 12, TC 4, B 4, 1 split per ratio (7 splits). The same network
# and static settings as the small grid of test_grid.py, which shares the compiled sweep.
TINY = NetworkSpec.reference_2025(3, (4,), 2, normalization="none")
TINY_CFG = GAConfig.reference_2025(generations=12)
# TINY with every per-run switch compiled in (each run of a sweep turns them on or off)
TINY_ALL_SWITCHES = dataclasses.replace(
    TINY, standardize_weights=True, normalization="activation", spatial_dropout=True
)


def _flat(coords) -> np.ndarray:
    return np.asarray(flatten_util.ravel_pytree(coords)[0])


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return _blobs()


# --------------------------------------------------------------------------------------------
# two tournaments


def _literal_two_tournaments(u: np.ndarray, fitness: np.ndarray, size: int):
    """NumPy transcription of the rule: a permutation from the uniforms (ascending order),
    parent 1 = the best of its first ``size`` members, parent 2 of the next ``size``; ties go
    to the earlier member; NaN counts as +inf."""
    fit = np.where(np.isnan(fitness), np.inf, fitness)
    i1, i2 = [], []
    for row in u:
        perm = np.argsort(row, kind="stable")
        for out, members in ((i1, perm[:size]), (i2, perm[size : 2 * size])):
            best = members[0]
            for m in members[1:]:
                if fit[m] < fit[best]:  # strictly better: ties keep the earlier member
                    best = m
            out.append(best)
    return np.array(i1), np.array(i2)


def test_two_tournaments_matches_a_literal_implementation():
    fitness = jnp.array([3.0, 0.0, 5.0, 1.0, 4.0, 2.0])
    n_off = 400
    u = jax.random.uniform(jax.random.key(0), (n_off, 6))
    i1, i2 = map(np.asarray, two_tournaments(None, fitness, n_off, 3, uniforms=u))
    e1, e2 = _literal_two_tournaments(np.asarray(u), np.asarray(fitness), 3)
    np.testing.assert_array_equal(i1, e1)
    np.testing.assert_array_equal(i2, e2)
    # disjoint sets: parent 1 among the first three of the permutation, parent 2 among the rest
    perm = np.argsort(np.asarray(u), axis=1, kind="stable")
    for r in range(n_off):
        assert i1[r] in perm[r, :3] and i2[r] in perm[r, 3:6]
    assert np.all(i1 != i2)
    # the worst member (index 2) never wins a tournament of three distinct members
    assert not np.any((i1 == 2) | (i2 == 2))
    # the key version draws its own uniforms: same shapes, valid and disjoint
    k1, k2 = two_tournaments(jax.random.key(1), fitness, 50, 3)
    assert k1.shape == k2.shape == (50,) and np.all(np.asarray(k1) != np.asarray(k2))


def _exact_rank_pairs(n: int, size: int) -> dict[tuple[int, int], float]:
    """Exact distribution of (rank of parent 1, rank of parent 2) by enumerating every ordered
    pair of disjoint tournaments (ranks 0 = best); all pairs are equally likely."""
    counts: dict[tuple[int, int], int] = {}
    total = 0
    for a in itertools.combinations(range(n), size):
        rest = [i for i in range(n) if i not in a]
        for b in itertools.combinations(rest, size):
            key = (min(a), min(b))
            counts[key] = counts.get(key, 0) + 1
            total += 1
    return {k: v / total for k, v in counts.items()}


def test_two_tournaments_rank_distribution_is_exact():
    n, size, draws = 7, 2, 40_000
    rank_of = np.array([4, 0, 6, 2, 5, 1, 3])  # index -> rank (0 = best)
    fitness = jnp.asarray(rank_of * 0.5 + 1.0)
    i1, i2 = map(np.asarray, two_tournaments(jax.random.key(3), fitness, draws, size))
    r1, r2 = rank_of[i1], rank_of[i2]
    exact = _exact_rank_pairs(n, size)
    assert sum(exact.values()) == pytest.approx(1.0)
    for (a, b), p in exact.items():
        assert abs(np.mean((r1 == a) & (r2 == b)) - p) < 0.01, (a, b)
    assert np.all(r1 != r2)
    # marginal of one tournament: P(best of a random TC-subset has rank r) = C(n-1-r, TC-1)/C(n, TC)
    for r in range(n):
        p = math.comb(n - 1 - r, size - 1) / math.comb(n, size)
        assert abs(np.mean(r1 == r) - p) < 0.01
        assert abs(np.mean(r2 == r) - p) < 0.01


def test_two_tournaments_ties_go_to_the_earlier_member_and_nan_is_worst():
    n_off = 300
    u = np.asarray(jax.random.uniform(jax.random.key(5), (n_off, 8)))
    perm = np.argsort(u, axis=1, kind="stable")
    # all equal: the first member of each tournament wins
    i1, i2 = map(np.asarray, two_tournaments(None, jnp.ones(8), n_off, 3, uniforms=u))
    np.testing.assert_array_equal(i1, perm[:, 0])
    np.testing.assert_array_equal(i2, perm[:, 3])
    # two tied bests and NaNs: the earlier of the tied ones; NaN only if nothing else
    fitness = np.array([1.0, 0.0, np.nan, 0.0, 2.0, np.nan, 1.0, 0.0])
    i1, i2 = map(np.asarray, two_tournaments(None, jnp.asarray(fitness), n_off, 3, uniforms=u))
    e1, e2 = _literal_two_tournaments(u, fitness, 3)
    np.testing.assert_array_equal(i1, e1)
    np.testing.assert_array_equal(i2, e2)
    nan_wins = np.isnan(fitness[i1]) & ~np.all(np.isnan(fitness[perm[:, :3]]), axis=1)
    assert not np.any(nan_wins)


@pytest.mark.parametrize("n, size", [(6, 0), (6, 4), (7, 4), (2, 2), (6, -1)])
def test_two_tournaments_invalid_size_raises(n, size):
    with pytest.raises(ValueError, match="size"):
        two_tournaments(jax.random.key(0), jnp.arange(float(n)), 4, size)


def test_debiga_tournament_size_is_checked():
    with pytest.raises(ValueError, match="tournament_size"):
        DebiGA(6, jnp.zeros(3), tournament_size=4)
    with pytest.raises(ValueError, match="tournament_size"):
        DebiGA(6, jnp.zeros(3), tournament_size=0)
    DebiGA(6, jnp.zeros(3), tournament_size=3)


# --------------------------------------------------------------------------------------------
# amplitude schedule


def test_beat_2025_amplitude_sequence():
    got = [float(mutation_amplitude(t, 2.0, 0.5, 1000, "beat_2025", 8)) for t in range(17)]
    one_beat = [2.0, 1.8125, 1.625, 1.4375, 1.25, 1.0625, 0.875, 0.6875]
    np.testing.assert_allclose(got, one_beat * 2 + [2.0], rtol=0, atol=1e-7)
    assert min(got) > 0.5  # r_min itself is never reached (j/B < 1)
    # B = 5 (the tiny network's AUTO value): 2, 1.7, 1.4, 1.1, 0.8, 2
    got5 = [float(mutation_amplitude(t, 2.0, 0.5, 1000, "beat_2025", 5)) for t in range(6)]
    np.testing.assert_allclose(got5, [2.0, 1.7, 1.4, 1.1, 0.8, 2.0], atol=1e-6)
    with pytest.raises(ValueError, match="schedule"):
        mutation_amplitude(0, 2.0, 0.5, 1000, "beat2025")


# --------------------------------------------------------------------------------------------
# leave-out ratios, counts and splits


def test_leave_out_ratios_accumulate_in_float64():
    ratios = leave_out_ratios()
    assert len(ratios) == 7
    assert ratios[0] == 0.2
    assert ratios[-1] == 0.49999999999999994 and ratios[-1] < 0.5
    np.testing.assert_allclose(ratios, np.arange(0.2, 0.5001, 0.05), atol=1e-15)
    assert leave_out_ratios(0.2, 0.5, 0.05) == ratios
    with pytest.raises(ValueError):
        leave_out_ratios(0.5, 0.2, 0.05)
    with pytest.raises(ValueError):
        leave_out_ratios(0.2, 0.5, 0.0)


def test_leave_out_counts_dlbcl_like():
    y = np.repeat([0, 1], [25, 16])  # DLBCL Fold-1: m = 16
    counts = leave_out_counts(y, leave_out_ratios())
    assert counts.tolist() == [3, 4, 4, 5, 6, 7, 7]
    assert math.floor(0.49999999999999994 * 16) == 7 and math.floor(0.5 * 16) == 8
    # m is the minority count among usable cases (the padding is ignored)
    y_pad = np.concatenate([y, [1] * 9])
    mask = np.concatenate([np.ones(41), np.zeros(9)])
    np.testing.assert_array_equal(leave_out_counts(y_pad, leave_out_ratios(), mask), counts)
    assert leave_out_counts(np.repeat([0, 1, 2], [30, 10, 20]), (0.2, 0.45)).tolist() == [2, 4]


def test_leave_out_splits_are_balanced_and_fixed_by_the_key():
    y_real = np.repeat([0, 1], [25, 16])
    n_pad = 9
    y = jnp.asarray(np.concatenate([y_real, np.arange(n_pad) % 2]), jnp.int32)
    mask = jnp.asarray(np.concatenate([np.ones(41), np.zeros(n_pad)]), jnp.float32)
    counts = leave_out_counts(y_real, leave_out_ratios())
    per_ratio = 3
    train, val = leave_out_splits(jax.random.key(0), y, 2, jnp.asarray(counts), per_ratio, mask)
    train, val = np.asarray(train), np.asarray(val)
    assert train.shape == val.shape == (7 * per_ratio, 50)
    y_np, usable = np.asarray(y), np.asarray(mask) > 0
    for s in range(7 * per_ratio):
        k = s // per_ratio  # ratio-major
        for c in (0, 1):
            assert val[s][(y_np == c) & usable].sum() == counts[k]
        np.testing.assert_array_equal(train[s], (usable & (val[s] == 0)).astype(np.float32))
        assert not np.any(val[s][~usable]) and not np.any(train[s][~usable])
        assert set(np.unique(val[s])) <= {0.0, 1.0}
    # different splits of one ratio differ; the same key gives the same splits
    assert not np.array_equal(val[0], val[1])
    again = leave_out_splits(jax.random.key(0), y, 2, jnp.asarray(counts), per_ratio, mask)
    np.testing.assert_array_equal(np.asarray(again[1]), val)
    np.testing.assert_array_equal(np.asarray(again[0]), train)
    other = leave_out_splits(jax.random.key(1), y, 2, jnp.asarray(counts), per_ratio, mask)
    assert not np.array_equal(np.asarray(other[1]), val)


# --------------------------------------------------------------------------------------------
# AUTO values


def test_auto_values_dlbcl():
    spec = NetworkSpec.reference_2025(17, (85, 64), 2)
    assert param_count(spec) == 951
    cfg = GAConfig.reference_2025().resolve(spec)
    assert cfg.is_resolved
    assert cfg.population_size == 61
    assert cfg.tournament_size == 20
    assert cfg.beat_period == 8
    assert cfg.early_stopping == 61
    assert cfg.splits_per_ratio == 8
    assert len(leave_out_ratios(*cfg.leave_out)) * cfg.splits_per_ratio == 56
    # overrides stay, AUTO fields that depend on them follow
    small = GAConfig.reference_2025(population_size=10, early_stopping=4).resolve(spec)
    assert (small.population_size, small.tournament_size, small.beat_period) == (10, 3, 4)
    assert small.early_stopping == 4
    assert GAConfig.reference_2025().resolve(spec).resolve(spec) == cfg


def test_auto_values_hecktor_with_shift_scale():
    spec = NetworkSpec.reference_2025(36, (180,), 2, shift_scale=True)
    assert param_count(spec) == 1242
    cfg = GAConfig.reference_2025().resolve(spec)
    assert (cfg.population_size, cfg.tournament_size, cfg.beat_period) == (70, 23, 8)
    assert cfg.early_stopping == 70 and cfg.splits_per_ratio == 18


def test_tiny_network_auto_values():
    cfg = TINY_CFG.resolve(TINY)
    assert param_count(TINY) == 39
    assert (cfg.population_size, cfg.tournament_size, cfg.beat_period) == (12, 4, 4)
    assert cfg.early_stopping == 12 and cfg.splits_per_ratio == 1


# --------------------------------------------------------------------------------------------
# the deterministic DLBCL start


@pytest.fixture(scope="module")
def dlbcl_run():
    folder = data_dir() / "dlbcl" / "Fold-1"
    if not (folder / "TrainF.csv").is_file():
        pytest.skip(f"DLBCL Fold-1 not found at {folder} (set DEBINN_DATA_DIR)")
    fold = dj.load_fold(folder)
    spec = NetworkSpec.reference_2025(17, (85, 64), 2, normalization="none")
    cfg = GAConfig.reference_2025(generations=3, chunk=3)
    return fold, train_ga(spec, fold.train.X, fold.train.y, jax.random.key(0), cfg)


def test_dlbcl_initial_tolerance_and_constant_losses(dlbcl_run):
    fold, res = dlbcl_run
    assert np.bincount(fold.train.y).tolist() == [25, 16]
    h = res.history
    assert res.generations_run == 4  # the initial population + IterationCount 3
    # every initial individual predicts (1/2, 1/2): the population's best = its only value
    assert h["val_fitness"][0] == pytest.approx(math.log(2) / 2, abs=1e-6)
    assert h["val_fitness"][0] == pytest.approx(0.3465736, abs=1e-6)
    assert h["train_fitness"][0] == pytest.approx(0.3159906, abs=1e-6)
    assert h["tolerance"][0] == pytest.approx(0.0305829, abs=1e-6)
    assert h["hof_entries"][0] == 1
    assert h["hof_val"][0] == pytest.approx(math.log(2) / 2, abs=1e-6)
    np.testing.assert_allclose(h["amplitude"][1:], [2.0, 1.8125, 1.625])
    assert np.isnan(h["amplitude"][0])
    assert res.config.population_size == 61 and res.config.tournament_size == 20


# --------------------------------------------------------------------------------------------
# hall of fame and tolerance rules (hand-made numbers)


def test_tolerance_update_2025_by_hand():
    tol = jnp.float32(0.1)
    val = jnp.array([0.5, 0.4, 0.3])
    train = jnp.array([0.45, 0.2, 0.35])
    # entries 0 and 1: |mean(0.5, 0.4) - mean(0.45, 0.2)| = 0.125 -> (0.1 + 0.125) / 2
    out = tolerance_update_2025(tol, val, train, jnp.array([True, True, False]))
    assert float(out) == pytest.approx(0.1125, abs=1e-7)
    assert out.dtype == tol.dtype
    # entries 0 and 2: the means are equal -> the tolerance halves
    out = tolerance_update_2025(tol, val, train, jnp.array([True, False, True]))
    assert float(out) == pytest.approx(0.05, abs=1e-7)
    # one entry: its own gap
    out = tolerance_update_2025(tol, val, train, jnp.array([False, True, False]))
    assert float(out) == pytest.approx((0.1 + 0.2) / 2, abs=1e-7)
    # no entries: unchanged, whatever the (even infinite) fitness of the others
    val_inf = jnp.array([jnp.inf, 0.4, 0.3])
    out = tolerance_update_2025(tol, val_inf, train, jnp.zeros(3, bool))
    assert float(out) == float(tol)
    # an absent member's infinite fitness does not leak into the mean of the entries
    out = tolerance_update_2025(tol, val_inf, train, jnp.array([False, True, True]))
    assert float(out) == pytest.approx((0.1 + abs(0.35 - 0.275)) / 2, abs=1e-7)


def test_hof_candidates_are_strict():
    hof = empty_hall_of_fame(3, 2)
    hof, _ = hof_insert(hof, jnp.zeros((1, 2)), jnp.array([0.5]), jnp.array([0.5]), jnp.inf)
    val = jnp.array([0.5, 0.25, 0.25, 0.375, jnp.inf, jnp.nan, 0.375])
    train = jnp.array([0.5, 0.5, 0.375, jnp.inf, jnp.inf, 0.375, 0.4375])
    tol = jnp.float32(0.25)
    cand = np.asarray(hof_candidates(hof, val, train, tol))
    # equal to the hall's best: no; gap == tol: no; inf/NaN: no; gap 0.125 / 0.0625: yes
    assert cand.tolist() == [False, False, True, False, False, False, True]
    # an empty hall accepts any finite member within the tolerance
    cand = np.asarray(hof_candidates(empty_hall_of_fame(3, 2), val, train, tol))
    assert cand.tolist() == [True, False, True, False, False, False, True]
    # hof_insert adds exactly the candidates, best first, and reports it
    new, added = hof_insert(hof, jnp.arange(14.0).reshape(7, 2), val, train, tol)
    assert bool(added)
    np.testing.assert_allclose(np.asarray(new.val), [0.25, 0.375, 0.5])
    np.testing.assert_allclose(np.asarray(new.genes)[:2], [[4.0, 5.0], [12.0, 13.0]])
    _, added = hof_insert(new, jnp.zeros((7, 2)), val, train, tol)
    assert not bool(added)


# --------------------------------------------------------------------------------------------
# Singularity start and the 2025 DebiGA


def test_singularity_population():
    spec = NetworkSpec.reference_2025(3, (9, 5), 2, shift_scale=True)
    pop = np.asarray(initial_population(jax.random.key(0), spec, 6, "singularity"))
    assert pop.shape == (6, param_count(spec))
    template = dj.init_coords(jax.random.key(0), spec, "singularity")
    _, unravel = flatten_util.ravel_pytree(template)
    for row in pop:
        coords = unravel(jnp.asarray(row))
        for layer in coords:
            for name, value in layer.items():
                expected = 1.0 if name == "scale" else 0.0
                np.testing.assert_array_equal(np.asarray(value), expected)
    assert np.sum(pop == 1.0) == 6 * sum(spec.group_counts())  # one scale gene per group
    # the same for every key; no shift-scale genes: all zeros
    again = np.asarray(initial_population(jax.random.key(9), spec, 6, "singularity"))
    np.testing.assert_array_equal(again, pop)
    plain = initial_population(jax.random.key(0), TINY, 4, "singularity")
    np.testing.assert_array_equal(np.asarray(plain), 0.0)


def test_debiga_2025_mutates_every_gene_and_keeps_z_signed():
    d, p = 12, 8
    algo = DebiGA(p, jnp.zeros(d), schedule="beat_2025", tournament_size=3)
    params = algo.default_params.replace(r_max=2.0, r_min=0.5, mutation_prob=1.0, beat_period=8.0)
    state = algo.init(jax.random.key(0), jnp.zeros((p, d)), jnp.arange(float(p)), params)
    pop, state = algo.ask(jax.random.key(1), state, params)
    pop = np.asarray(pop)
    assert np.all(pop != 0.0) and np.all(np.abs(pop) <= 2.0)
    assert float(state.amplitude) == 2.0
    assert np.any(pop < 0) and np.any(pop > 0)

    # the network version: make_algorithm on a 2025 spec reflects nothing
    spec = NetworkSpec.reference_2025(3, (9,), 2, shift_scale=True)
    cfg = GAConfig.reference_2025(population_size=10).resolve(spec)
    algo, params = make_algorithm(spec, cfg)
    assert isinstance(algo, DebiGA) and algo.reflect_flat is None
    assert algo.tournament_size == cfg.tournament_size == 3
    assert algo.schedule == "beat_2025"
    genes = initial_population(jax.random.key(0), spec, 10, "singularity")
    template = dj.init_coords(jax.random.key(0), spec, "singularity")
    _, unravel = flatten_util.ravel_pytree(template)
    state = algo.init(jax.random.key(0), jax.vmap(unravel)(genes), jnp.zeros(10), params)
    children, _ = algo.ask(jax.random.key(2), state, params)
    flat = np.asarray(jax.vmap(lambda c: flatten_util.ravel_pytree(c)[0])(children))
    assert np.all(flat != np.asarray(genes))  # every gene moved
    z = _np_ravel(z_gene_mask(template))
    assert np.any(flat[:, z] < 0)  # signed z


# --------------------------------------------------------------------------------------------
# tiny 2025 runs (one compiled program; numeric fields change between them)


@pytest.fixture(scope="module")
def tiny_runs(blobs):
    X, y = blobs
    key = jax.random.key(0)
    runs = {
        # one iteration without mutation: no offspring can enter the hall of fame
        "first": train_ga(
            TINY, X, y, key, dataclasses.replace(TINY_CFG, generations=1, r_max=0.0, r_min=0.0)
        ),
        "beat8": train_ga(
            TINY, X, y, key, dataclasses.replace(TINY_CFG, beat_period=8, early_stopping=None)
        ),
        "margin3": train_ga(
            TINY, X, y, key, dataclasses.replace(TINY_CFG, generations=200, early_stopping=3)
        ),
        "frozen": train_ga(
            TINY,
            X,
            y,
            key,
            dataclasses.replace(TINY_CFG, generations=200, early_stopping=3, r_max=0.0, r_min=0.0),
        ),
    }
    return runs


def test_first_hall_of_fame_holds_only_individual_0(tiny_runs, blobs):
    res = tiny_runs["first"]
    assert res.generations_run == 2 and res.history["hof_entries"].tolist() == [1, 0]
    val = res.hall_of_fame["val"]
    assert val.shape == (12,) and np.sum(np.isfinite(val)) == 1
    assert res.hall_of_fame["ids"].tolist() == [0] + [-1] * 11  # initial individual 0
    # the member is the Singularity network; its gap set the initial tolerance
    member = jax.tree_util.tree_map(lambda a: a[0], res.hall_of_fame["coords"])
    np.testing.assert_array_equal(_flat(member), 0.0)
    gap = abs(res.hall_of_fame["val"][0] - res.hall_of_fame["train"][0])
    assert res.history["tolerance"][0] == pytest.approx(gap, abs=1e-7)
    assert res.history["val_fitness"][0] == pytest.approx(math.log(2) / 2, abs=1e-6)
    # with nothing else in the hall, the final model is the Singularity network or the best of
    # the unmutated offspring: all genes 0
    np.testing.assert_array_equal(_flat(res.coords), 0.0)
    X, _ = blobs
    np.testing.assert_allclose(res.predict_proba(X), 0.5, atol=1e-6)
    # the longer runs start the same way
    for name in ("beat8", "margin3"):
        assert tiny_runs[name].history["hof_entries"][0] == 1


def test_amplitude_trace_is_the_beat_schedule(tiny_runs):
    res = tiny_runs["beat8"]
    assert res.generations_run == 13 and not res.early_stopped  # initial + 12 iterations
    amp = res.history["amplitude"]
    assert np.isnan(amp[0])
    expected = [float(mutation_amplitude(t, 2.0, 0.5, 12, "beat_2025", 8)) for t in range(12)]
    np.testing.assert_allclose(amp[1:], expected, atol=1e-7)
    np.testing.assert_allclose(
        amp[1:10], [2, 1.8125, 1.625, 1.4375, 1.25, 1.0625, 0.875, 0.6875, 2]
    )
    # the AUTO beat (B = 4) of the same network
    auto = tiny_runs["margin3"].history["amplitude"]
    np.testing.assert_allclose(auto[1:6], [2.0, 1.625, 1.25, 0.875, 2.0][: len(auto) - 1])


def test_tolerance_trace_follows_the_2025_rule(tiny_runs):
    h = tiny_runs["beat8"].history
    for g in range(1, len(h["tolerance"])):
        if h["hof_entries"][g] == 0:
            assert h["tolerance"][g] == h["tolerance"][g - 1]
        else:
            # (tol + gap) / 2 with gap >= 0 and every entry's gap < tol: tol/2 <= new < tol
            assert h["tolerance"][g - 1] / 2 - 1e-7 <= h["tolerance"][g] < h["tolerance"][g - 1]
    assert np.all(np.diff(h["hof_val"]) <= 0)
    assert np.sum(h["hof_entries"][1:]) > 0


def test_early_stopping_margin_after_the_last_entry(tiny_runs):
    margin = 3
    res = tiny_runs["margin3"]
    entries = res.history["hof_entries"]
    later = np.flatnonzero(entries[1:] > 0) + 1
    assert later.size > 0, "the tiny run should improve at least once"
    last = int(later[-1])
    # authors: stop before iteration i when i - last improvement > margin (iteration i is our
    # generation i + 1): the last generation run is `margin` after the last entry
    assert res.early_stopped
    assert res.stopped_at == last + margin
    assert res.generations_run == last + margin + 1
    assert np.all(entries[last + 1 :] == 0)
    # no entry after generation 0 at all (no mutation: offspring equal the Singularity start):
    # the last improvement counts as the first GA iteration, so margin + 1 generations run
    frozen = tiny_runs["frozen"]
    assert frozen.early_stopped
    assert frozen.history["hof_entries"].tolist() == [1] + [0] * (margin + 1)
    assert frozen.stopped_at == margin + 1


def test_all_in_final_selection_returns_a_candidate(blobs):
    X, y = blobs
    cfg = dataclasses.replace(TINY_CFG, generations=8, early_stopping=None).resolve(TINY)
    runner, (start_fn, chunk_fn, final_fn) = _compiled(TINY, _static_key(cfg), 2)
    x = jnp.asarray(X, jnp.float32)  # samples first, as every Runner function takes it
    y_j = jnp.asarray(y, jnp.int32)
    mask = jnp.ones(y.shape, jnp.float32)
    hp = run_settings(cfg, y)
    k_run, k_final = jax.random.split(jax.random.key(4))
    state = start_fn(k_run, x, y_j, mask, hp)
    while not bool(state.done):
        state, _ = chunk_fn(state, x, y_j, mask, hp)
    coords, ensemble, scores, final = final_fn(state, k_final, x, y_j, mask, hp)
    assert ensemble is None and scores.shape == (1,) and np.isfinite(scores).all()
    hof_genes = np.asarray(state.hof.genes)[np.isfinite(np.asarray(state.hof.val))]
    fit = np.asarray(state.algo.fitness)
    k = max(1, cfg.population_size // 10)
    last_best = np.asarray(state.algo.population)[np.argsort(fit, kind="stable")[:k]]
    # the authors' candidate order: the last population's best, then the hall of fame
    candidates = np.concatenate([last_best, hof_genes])
    chosen = _flat(coords)
    pick = int(final["candidate"][0])
    np.testing.assert_array_equal(chosen, candidates[pick])
    # the first minimum of the candidates' scores (skipped ones are +inf)
    cand_scores = np.asarray(final["candidate_scores"])
    assert pick == int(np.argmin(cand_scores)) and cand_scores[pick] == float(scores[0])
    # the last population's members are numbered P t + j, t its generation
    ids = np.asarray(final["candidate_ids"])
    t_last = int(state.t) - 1
    np.testing.assert_array_equal(
        ids[:k], cfg.population_size * t_last + np.argsort(fit, kind="stable")[:k]
    )
    # the same through train_ga (same key): finite scores, coords from the same candidate set
    res = train_ga(TINY, X, y, jax.random.key(4), cfg)
    np.testing.assert_array_equal(_flat(res.coords), chosen)
    assert np.isfinite(res.final_scores).all() and res.final_scores.shape == (1,)


# --------------------------------------------------------------------------------------------
# float64 end to end, 2025 and 2022


def test_float64_runs_end_to_end(blobs, tiny_runs):
    X, y = blobs
    with jax.enable_x64(True):
        res = train_ga(TINY, X, y, jax.random.key(0), dataclasses.replace(TINY_CFG, generations=3))
        leaves = jax.tree_util.tree_leaves(res.coords)
        assert all(np.asarray(a).dtype == np.float64 for a in leaves)
        assert res.generations_run == 4 and np.isfinite(res.final_scores).all()
        assert res.hall_of_fame["val"].dtype == np.float64
        assert res.history["hof_entries"][0] == 1
        assert res.predict_proba(X).dtype == np.float64

        # the 2022 GA (half tournaments, resampled subsets, hall-of-fame subsamples)
        spec22 = NetworkSpec(n_inputs=3, hidden=(), n_classes=2)
        cfg22 = GAConfig(
            population_size=6, generations=3, chunk=3, early_stopping=None, batch_size=None
        )
        res22 = train_ga(spec22, X, y, jax.random.key(0), cfg22)
        leaves = jax.tree_util.tree_leaves(res22.coords)
        assert all(np.asarray(a).dtype == np.float64 for a in leaves)
        assert res22.generations_run == 3 and np.isfinite(res22.final_scores).all()


def test_float64_run_after_a_float32_run_computes_in_float64(blobs, tiny_runs):
    # tiny_runs ran TINY with TINY_CFG in float32 (the same compiled-runner cache entry)
    X, y = blobs
    with jax.enable_x64(True):
        cfg = dataclasses.replace(TINY_CFG, generations=1, r_max=0.0, r_min=0.0)
        res = train_ga(TINY, X, y, jax.random.key(0), cfg)
    val = res.hall_of_fame["val"]
    assert val.dtype == np.float64 and np.sum(np.isfinite(val)) == 1
    # the Singularity network's mean validation loss is ln(2)/2; float32 gives 0.34657362
    assert val[0] == pytest.approx(math.log(2) / 2, abs=1e-12)


# --------------------------------------------------------------------------------------------
# run_many: per-run network switches without recompiling


def test_run_many_switches_off_equal_a_spec_without_the_features(blobs):
    X, y = blobs
    cfg = dataclasses.replace(TINY_CFG, generations=6, early_stopping=None)
    # every switch enabled in the spec (as test_grid.py's compiled group), turned off per run
    spec_on = TINY_ALL_SWITCHES
    key = jax.random.key(7)
    keys = jnp.stack([key, key, key])
    settings = {
        "standardize_weights": [0, 1, 0],
        "normalization": [0, 0, 0],
        "spatial_dropout": [0, 0, 0],
    }
    many = run_many(spec_on, X, y, keys, cfg, settings=settings, run_batch_size=1)
    one = train_ga(TINY, X, y, key, cfg)  # the tiny spec has none of the three features
    for i in (0, 2):
        off = many.run(i)
        assert off.generations_run == one.generations_run == 7
        np.testing.assert_allclose(_flat(off.coords), _flat(one.coords), rtol=1e-5, atol=1e-6)
        for name in ("train_fitness", "val_fitness", "tolerance", "hof_entries"):
            np.testing.assert_allclose(off.history[name], one.history[name], rtol=1e-5)
    # the switch matters: the same key with standardisation on gives another run
    assert not np.allclose(many.history["train_fitness"][1], many.history["train_fitness"][0])
    with pytest.raises(ValueError, match="0 or 1"):
        run_many(spec_on, X, y, keys, cfg, settings={"standardize_weights": [0.5, 1, 1]})


def test_l2_is_inert_under_weight_standardisation_in_float64(blobs):
    # The authors ran every grid setting with one seed; settings S and S + 32 (L2 0.01 added)
    # gave identical results with weight standardisation on (316 of the 320 such pairs in the
    # 10 grids of ../shared/reference/grid; 2-10 of 32 per grid without it). Standardised
    # weights have mean w^2 = (n + eps) / n = 1 for every individual, the Singularity start
    # included (its weights standardise to 1; with 0 there, this test fails: the hall of fame
    # takes other entries in generation 1), and the same penalty is added to the train and the
    # validation parts. With standardisation off L2 changes the run. (In float32 the constant's
    # rounding can differ between individuals: on this tiny network the runs drift apart; on
    # DLBCL 1H the 32 such pairs stayed identical.)
    X, y = blobs
    cfg = dataclasses.replace(TINY_CFG, generations=16, early_stopping=None)
    spec_on = TINY_ALL_SWITCHES
    key = jax.random.key(3)
    settings = {
        "standardize_weights": [1, 1, 0, 0],
        "normalization": [1, 1, 1, 1],
        "spatial_dropout": [0, 0, 0, 0],
        "l2": [0.0, 0.01, 0.0, 0.01],
    }
    with jax.enable_x64(True):
        many = run_many(spec_on, X, y, jnp.stack([key] * 4), cfg, settings=settings)
        runs = [many.run(i) for i in range(4)]
    for name in ("hof_entries", "amplitude"):
        np.testing.assert_array_equal(runs[0].history[name], runs[1].history[name])
    # the tolerance is a difference of two fitnesses that both carry the penalty: its last
    # bit may move, the decisions do not
    np.testing.assert_allclose(runs[0].history["tolerance"], runs[1].history["tolerance"], 1e-12)
    for name in ("train_fitness", "val_fitness", "hof_val"):  # the constant 0.01 on each
        np.testing.assert_allclose(runs[1].history[name] - runs[0].history[name], 0.01, atol=1e-7)
    np.testing.assert_array_equal(_flat(runs[0].coords), _flat(runs[1].coords))
    assert runs[0].history["hof_entries"][1:].sum() > 0  # the hall of fame took entries
    # L2 counts where the weights are raw
    assert not np.array_equal(_flat(runs[2].coords), _flat(runs[3].coords))
