"""Replay mode of the 2025 GA (``GAConfig(replay=True)``): the authors' runs, repeated exactly.

By hand on tiny inputs (the draws, the splits, the rules around them), then against the authors'
program's own runs (``reference/replay`` test vectors: every snapshot genome, every offspring's
fitness, the hall-of-fame entries, the tolerance, the final candidates and ``BestModel.bin``),
and (slow) the two published models from their own settings.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import flatten_util

import debinn_jax as dj
from debinn_jax import cpp_random
from debinn_jax.authors import coords_to_genome
from debinn_jax.authors_file import read_authors_file
from debinn_jax.data.splits import authors_splits, default_keys, leave_out_ratios
from debinn_jax.execution.compare import compare_rows, counts, read_authors_summary, twin_name
from debinn_jax.execution.grid import near_ties
from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.ga.operators import DebiGA, Draws
from debinn_jax.ga.replay import ReplayStreams, StreamSettings, gene_permutation
from debinn_jax.network import NetworkSpec
from debinn_jax.sweep import run_many
from tests._shared import data_dir, reference_dir

REPLAY = reference_dir() / "replay"
MODELS = reference_dir() / "models"


def _x64():
    return jax.enable_x64(True)


# --------------------------------------------------------------------------------------------
# the draws and what the GA does with them (by hand)


def test_offspring_follow_the_draws():
    # 4 individuals of 3 genes; fitness ties keep population order (stable sort)
    algo = DebiGA(4, jnp.zeros(3), schedule="beat_2025", tournament_size=2)
    state = algo.init(jax.random.key(0), jnp.zeros((4, 3)), jnp.zeros(4), algo.default_params)
    pop = jnp.arange(12.0).reshape(4, 3)
    state = state.replace(population=pop, fitness=jnp.array([0.5, 0.1, 0.5, 0.3]))
    # ranks: 0 -> member 1 (0.1), 1 -> member 3 (0.3), 2 -> member 0, 3 -> member 2 (tie: 0 first)
    draws = Draws(
        ranks=jnp.array([[0, 1], [2, 3], [3, 2], [1, 1]]),
        take_first=jnp.array([[True, False, True]] * 4),
        delta=jnp.array([[0.0, 0.5, -1.0]] * 4),
        amplitude=jnp.asarray(1.0),
    )
    children = np.asarray(algo.offspring(draws, state))
    p = np.asarray(pop)

    def child(a, b):
        return np.array([p[a, 0], p[b, 1] + 0.5, p[a, 2] - 1.0])

    expected = np.stack([child(1, 3), child(0, 2), child(2, 0), child(3, 3)])
    np.testing.assert_array_equal(children, expected)


def test_jax_draws_use_the_same_operator():
    # ask() = offspring(draw(key)): the JAX random source and a replay share one operator
    algo = DebiGA(6, jnp.zeros(5), schedule="beat_2025", tournament_size=2)
    params = algo.default_params.replace(r_max=2.0, r_min=0.5, mutation_prob=1.0, beat_period=4.0)
    state = algo.init(
        jax.random.key(0), jax.random.normal(jax.random.key(1), (6, 5)), jnp.arange(6.0), params
    )
    key = jax.random.key(3)
    asked, _ = algo.ask(key, state, params)
    draws = algo.draw(key, state, params)
    with_draws, _ = algo.ask_with(draws, state, params)
    np.testing.assert_array_equal(np.asarray(asked), np.asarray(with_draws))
    d = np.asarray(draws.delta)
    r = float(draws.amplitude)
    assert r == 2.0 and np.all(np.abs(d) <= r) and np.all(np.asarray(draws.ranks) < 6)
    # rank 1 of two disjoint tournaments of 2: ranks are distinct minima
    assert np.all(np.asarray(draws.ranks)[:, 0] != np.asarray(draws.ranks)[:, 1])


def test_stream_numbers_follow_the_rules():
    s = StreamSettings("msvc", 8, 10, 2, 3, 5, 2.0, 0.5, 0.7)
    streams = ReplayStreams(s)
    it = streams.iteration(4)
    r = 2.0 - (2.0 - 0.5) * (4 % 3) / 3
    assert float(it["amplitude"]) == r
    for k, seed in enumerate(streams.seeds[4]):
        raw = cpp_random.raw_stream(int(seed), 6 * s.genes)
        perm = streams.tournament_list.tolist()
        cpp_random.shuffle(perm, cpp_random.ListEngine(raw, int(seed)), "msvc")
        assert it["ranks"][k].tolist() == [min(perm[:2]), min(perm[2:4])]
        u, v, w = cpp_random.doubles(raw, "msvc").reshape(s.genes, 3).T
        np.testing.assert_array_equal(it["take_first"][k], u > 0.5)
        np.testing.assert_array_equal(it["delta"][k], np.where(v < 0.7, w * (r - (-r)) + (-r), 0))
    # generation t >= 1 of the library is iteration t - 1; generation 0 draws nothing
    d = streams.draws(0, 6)
    assert np.all(d["delta"][0] == 0) and np.array_equal(d["delta"][5], it["delta"])
    with pytest.raises(ValueError, match="tournament_size"):
        StreamSettings("msvc", 8, 10, 5, 3, 5, 2.0, 0.5, 1.0)


def test_authors_splits_by_hand():
    y = np.array([0] * 7 + [1] * 5)
    keys = [str(i + 1) for i in range(12)]
    ratios = leave_out_ratios()
    train, val = authors_splits(keys, y, 2, ratios, 2, 0, "msvc")
    assert train.shape == val.shape == (14, 12)
    m = 5
    for k, r in enumerate(ratios):
        for j in range(2):
            v = val[2 * k + j].astype(bool)
            # floor(r m) of every class in the validation part; the train part is the rest
            assert np.bincount(y[v], minlength=2).tolist() == [math.floor(r * m)] * 2
            np.testing.assert_array_equal(train[2 * k + j], (~v).astype(np.float32))
    again = authors_splits(keys, y, 2, ratios, 2, 0, "msvc")
    np.testing.assert_array_equal(again[1], val)  # no key: deterministic
    other = authors_splits(keys, y, 2, ratios, 2, 1001, "msvc")
    assert not np.array_equal(other[1], val)
    # keys are sorted as strings: renaming rows changes which rows are drawn
    renamed = authors_splits([f"k{i:02d}" for i in range(12)], y, 2, ratios, 2, 0, "msvc")
    assert not np.array_equal(renamed[1], val)
    assert default_keys(3) == ("1", "2", "3")
    with pytest.raises(ValueError, match="unique"):
        authors_splits(["1"] * 12, y, 2, ratios, 2, 0, "msvc")


# --------------------------------------------------------------------------------------------
# replay on synthetic data: refusals, determinism, batching

TINY = NetworkSpec.reference_2025(3, (6,), 2, normalization="activation")


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-0.7, 1, (14, 3)), rng.normal(0.7, 1, (10, 3))])
    y = np.array([0] * 14 + [1] * 10)
    return X, y


def test_replay_is_refused_in_float32_and_without_the_2025_rules(blobs):
    X, y = blobs
    cfg = GAConfig.reference_2025(replay=True, generations=2)
    with pytest.raises(ValueError, match="float64"):
        train_ga(TINY, X, y, jax.random.key(0), cfg)
    with pytest.raises(ValueError, match="splits='authors'"):
        GAConfig.reference_2025(replay=True, splits="random")
    with pytest.raises(ValueError, match="crossover_prob=0.5"):
        GAConfig.reference_2025(replay=True, crossover_prob=0.3)
    with pytest.raises(ValueError, match="population_init='singularity'"):
        dataclasses.replace(GAConfig.reference_2025(), population_init="uniform", replay=True)


def test_replay_ignores_the_key_and_batched_runs_make_the_same_decisions(blobs):
    X, y = blobs
    cfg = GAConfig.reference_2025(replay=True, generations=12, chunk=5, trace=True)
    spec_all = dataclasses.replace(TINY, standardize_weights=True, spatial_dropout=True)
    with _x64():
        a = train_ga(TINY, X, y, jax.random.key(0), cfg)
        b = train_ga(TINY, X, y, jax.random.key(99), cfg)
        np.testing.assert_array_equal(a.history["best_genome"], b.history["best_genome"])
        # two runs in one call (switches traced), each equal to its own train_ga run
        many = run_many(
            spec_all,
            X,
            y,
            jnp.stack([jax.random.key(1), jax.random.key(2)]),
            cfg,
            settings={
                "standardize_weights": [0, 1],
                "spatial_dropout": [0, 0],
                "normalization": [1, 1],
            },
            run_batch_size=1,
        )
        ws = train_ga(
            dataclasses.replace(TINY, standardize_weights=True), X, y, jax.random.key(5), cfg
        )
    for i, single in enumerate((a, ws)):
        run = many.run(i)
        assert run.generations_run == single.generations_run
        np.testing.assert_array_equal(
            np.asarray(flatten_util.ravel_pytree(run.coords)[0]),
            np.asarray(flatten_util.ravel_pytree(single.coords)[0]),
        )
        # another compiled program (switches traced, or absent) may round the last bit of a
        # fitness differently; the decisions, and so the genomes above, are the same
        np.testing.assert_allclose(
            run.history["population_train"], single.history["population_train"], rtol=0, atol=1e-14
        )
    assert many.selection["candidate"].shape == (2, 1)


def test_replay_refuses_runs_with_different_streams(blobs):
    X, y = blobs
    cfg = GAConfig.reference_2025(replay=True, generations=4)
    with _x64(), pytest.raises(ValueError, match="same generations"):
        run_many(
            TINY,
            X,
            y,
            jnp.stack([jax.random.key(1)] * 2),
            cfg,
            settings={"generations": [4, 5]},
        )


# --------------------------------------------------------------------------------------------
# reporting: near ties and the comparison with the authors' summary


def test_near_ties_report():
    h = {
        "gap_rank": np.array([np.inf, 1e-3, 2e-17, 1e-5]),
        "gap_alpha": np.array([np.inf, 1e-16, 1e-4, np.nan]),
        "gap_tol": np.array([np.inf, np.inf, np.inf, np.inf]),
    }
    out = near_ties(h, np.array([0.3, 0.25, np.inf, 0.2500001]))
    assert out["rank"] == [2e-17, 1] and out["alpha"] == [1e-16, 0] and out["tol"] is None
    assert out["first_close"] == [0, "alpha"]
    assert out["final"] == pytest.approx(1e-7)


def test_compare_rows_exact_twin_differs_missing(tmp_path):
    summary = tmp_path / "summary.csv"
    head = "Key;" + ";".join(f"{m} (m)" for m in ("SNS", "SPC", "PPV", "NPV", "ACC", "BACC"))
    summary.write_text(
        head + "\nD-A-S1;50;50;50;50;50;50\nD-A-S17;60;60;60;60;60;60\nD-A-S2;10;10;10;10;10;10\n"
    )
    authors = read_authors_summary(summary)

    def rec(name, v):
        return {"name": name, "test": {m: v for m in ("SNS", "SPC", "PPV", "NPV", "ACC", "BACC")}}

    rows = compare_rows(
        [rec("A-S1", 0.5), rec("A-S17", 0.5), rec("A-S2", 0.2), rec("A-S3", 0.2)], authors, "D"
    )
    status = {r["name"]: r["status"] for r in rows}
    assert status == {"A-S1": "exact", "A-S17": "twin", "A-S2": "differs", "A-S3": "missing"}
    assert counts(rows) == {"exact": 1, "twin": 1, "differs": 1, "missing": 1}
    assert twin_name("2H-Hinton-S5") == "2H-Hinton-S21" and twin_name("X-S21") == "X-S5"
    bad = tmp_path / "bad.csv"
    bad.write_text("Key;BACC\nx;1\n")
    with pytest.raises(ValueError, match="not an authors' summary"):
        read_authors_summary(bad)


# --------------------------------------------------------------------------------------------
# against the authors' program: the replay test vectors (libstdc++ rules)


def _vector(name: str) -> dict:
    path = REPLAY / name / "replay.json"
    if not path.is_file():
        pytest.skip(f"replay test vector {path} not found (set DEBINN_REFERENCE_DIR)")
    return json.loads(path.read_text())


def _fold(name: str):
    folder = data_dir() / name / "Fold-1"
    if not (folder / "TrainF.csv").is_file():
        pytest.skip(f"{folder} not found (set DEBINN_DATA_DIR)")
    return dj.load_fold(folder, class_order="string")


@pytest.mark.parametrize("name,data", [("h-S1-T3", "dlbcl"), ("k-S1-T3", "hecktor-lite")])
def test_authors_splits_match_the_program(name, data):
    d = _vector(name)
    fold = _fold(data)
    tr = fold.train
    assert list(tr.keys) == d["train_keys"]
    for base, expected in (
        (0, d["splits_seed0_val_keys"]),
        (d["T"] + 1, d["final"]["splits_val_keys"]),
    ):
        _, val = authors_splits(
            tr.keys, tr.y, 2, leave_out_ratios(), d["S_per_ratio"], base, "libstdc++"
        )
        got = [{tr.keys[i] for i in np.flatnonzero(v)} for v in val]
        assert got == [set(e) for e in expected]


def _settings_of(s: int) -> dict[str, float]:
    bits = s - 1
    return {
        "standardize_weights": float(bool(bits & 2)),
        "normalization": float(bool(bits & 4)),
        "spatial_dropout": float(bool(bits & 8)),
        "l2": 0.01 if bits & 32 else 0.0,
        "l1": 0.01 if bits & 64 else 0.0,
    }


def _run_vectors(spec, fold, names, iterations, stop_after=None):
    """run_many over the vectors ``names`` (same T), replay with libstdc++ rules, traced."""
    cfg = GAConfig.reference_2025(
        replay=True, cpp_rules="libstdc++", trace=True, chunk=10, generations=iterations
    )
    per = [_settings_of(int(n.split("-")[1][1:])) for n in names]
    settings = {k: [p[k] for p in per] for k in per[0]}
    callback = None if stop_after is None else (lambda gen, h: gen + 1 >= stop_after)
    with _x64():
        return run_many(
            spec,
            np.asarray(fold.train.X, np.float64),
            fold.train.y,
            jnp.stack([jax.random.key(0)] * len(names)),
            cfg,
            settings=settings,
            run_batch_size=1,
            row_keys=fold.train.keys,
            callback=callback,
        )


def _check_vector(run, d, spec, folder=None):
    """Every offspring's fitness, entries, tolerance, snapshot genome, final candidates and the
    best model of one vector against our run."""
    h = run.history
    perm = gene_permutation(spec)
    assert h["tolerance"][0] == pytest.approx(d["tol0"], rel=1e-13)
    for i, g in enumerate(d["generations"]):
        t = i + 1  # our generation t is the authors' iteration t - 1
        np.testing.assert_allclose(h["population_train"][t], g["T"], rtol=0, atol=1e-14)
        np.testing.assert_allclose(h["population_val"][t], g["V"], rtol=0, atol=1e-14)
        assert np.flatnonzero(h["entered"][t]).tolist() == g["accepted_offspring"]
        assert h["tolerance"][t] == pytest.approx(g["tol_after"], rel=1e-13)
        if g.get("parents_rank1_rank2_p1_p2") is not None:
            expected = [p[:2] for p in g["parents_rank1_rank2_p1_p2"]]
            assert h["parent_ranks"][t].tolist() == expected
    if folder is not None:
        snaps = sorted(folder.glob("*Iteration-*.bin"))
        # snapshot i is taken at the start of iteration i, also the one the run stops before
        assert len(snaps) == min(d["T"], run.generations_run)
        for i, path in enumerate(snaps):
            genome = h["best_genome"][i][perm]
            assert np.max(np.abs(genome - read_authors_file(path).genome)) == 0.0, path.name
        best = next(folder.glob("*BestModel.bin"))
        ours = coords_to_genome(spec, run.coords)
        assert np.max(np.abs(ours - read_authors_file(best).genome)) == 0.0
        sel = run.selection
        assert int(sel["candidate"][0]) == d["final"]["best_index"]
        scores = sel["candidate_scores"]
        for c in d["final"]["candidates"]:
            if c["meanV_with_penalty"] is None:  # the same individual as an earlier one
                assert scores[c["index"]] == np.inf
            else:
                assert scores[c["index"]] == pytest.approx(c["meanV_with_penalty"], abs=1e-14)
        assert np.sum(np.isfinite(scores)) == sum(
            c["meanV_with_penalty"] is not None for c in d["final"]["candidates"]
        )


DLBCL_2H = NetworkSpec.reference_2025(
    17, (85, 64), 2, standardize_weights=True, normalization="activation", spatial_dropout=True
)


@pytest.fixture(scope="module")
def dlbcl_vectors():
    """The DLBCL 2H-Hinton vectors (S1 and S69; T 3, 5 and 1000 stopped after iteration 8),
    through one compiled program (the switches traced)."""
    vectors = {n: _vector(n) for n in ("h-S1-T3", "h-S69-T3", "h-S1-T5", "h-S69-T5")}
    fold = _fold("dlbcl")
    out = {}
    for t, names in ((3, ["h-S1-T3", "h-S69-T3"]), (5, ["h-S1-T5", "h-S69-T5"])):
        many = _run_vectors(DLBCL_2H, fold, names, t)
        out.update({n: many.run(i) for i, n in enumerate(names)})
    long = {n: _vector(n) for n in ("h-S1-T1000", "h-S69-T1000")}
    many = _run_vectors(DLBCL_2H, fold, list(long), 1000, stop_after=10)
    out.update({n: many.run(i) for i, n in enumerate(long)})
    return out, {**vectors, **long}


@pytest.mark.parametrize("name", ["h-S1-T3", "h-S69-T3", "h-S1-T5", "h-S69-T5"])
def test_dlbcl_vectors_replay_exactly(dlbcl_vectors, name):
    runs, vectors = dlbcl_vectors
    spec = dataclasses.replace(
        DLBCL_2H,
        standardize_weights=False,
        spatial_dropout=False,
        normalization="activation" if "S69" in name else "none",
    )
    _check_vector(runs[name], vectors[name], spec, REPLAY / name)


@pytest.mark.parametrize("name", ["h-S1-T1000", "h-S69-T1000"])
def test_dlbcl_long_runs_first_iterations(dlbcl_vectors, name):
    runs, vectors = dlbcl_vectors
    assert len(vectors[name]["generations"]) == 9
    _check_vector(runs[name], vectors[name], DLBCL_2H)


def test_tiny_network_run_to_its_early_stop():
    d = _vector("tiny-S1-T1000")
    fold = _fold("dlbcl")
    spec = NetworkSpec.reference_2025(17, (10,), 2, normalization="none")
    run = _run_vectors(spec, fold, ["tiny-S1"], 1000).run(0)
    assert run.generations_run == 71  # stopped before iteration 70
    _check_vector(run, d, spec, REPLAY / "tiny-S1-T1000")


@pytest.mark.slow
def test_hecktor_vector_replays_exactly():
    d = _vector("k-S1-T3")
    fold = _fold("hecktor-lite")
    spec = NetworkSpec.reference_2025(36, (180,), 2, normalization="none")
    run = _run_vectors(spec, fold, ["k-S1"], 3).run(0)
    _check_vector(run, d, spec, REPLAY / "k-S1-T3")


# --------------------------------------------------------------------------------------------
# the published models from their own settings (msvc rules), by the command line


@pytest.mark.slow
@pytest.mark.parametrize(
    "model,data,stop,candidate",
    [("DLBCL-2H-Hinton-S69", "dlbcl", 221, 6), ("HECKTOR-1H-S24", "hecktor-lite", 144, 0)],
)
def test_published_models_from_their_settings(model, data, stop, candidate):
    path = MODELS / model / "BestModel.bin"
    if not path.is_file():
        pytest.skip(f"{path} not found (set DEBINN_REFERENCE_DIR)")
    folder = data_dir() / data / "Fold-1"
    if not (folder / "TrainF.csv").is_file():
        pytest.skip(f"{folder} not found (set DEBINN_DATA_DIR)")
    out = subprocess.run(
        [sys.executable, "-m", "debinn_jax.cli", "replay", str(path), "--data", str(folder)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, out.stderr
    assert "max |diff| 0 (identical)" in out.stdout
    assert f"stopped before iteration {stop} " in out.stdout
    assert f"final candidate {candidate} " in out.stdout


def test_spatial_dropout_penalty_means_run_over_the_kept_connections():
    """With spatial dropout the L1/L2 means are the sums over the kept connections of every
    layer divided by their number (the rule that reproduces the authors' rows S73 and S77);
    the GA scores this penalty in the JAX and the replay mode alike (one loss function)."""
    from debinn_jax.loss import weight_penalty
    from debinn_jax.network import weights_and_masks

    spec = NetworkSpec.reference_2025(3, (6, 4), 2, spatial_dropout=True, standardize_weights=True)
    with _x64():
        coords = dj.init_coords(jax.random.key(3), spec)
        weights, masks = weights_and_masks(spec, coords)
        got = float(weight_penalty(spec, coords, 0.3, 0.7))
    kept = np.concatenate([np.asarray(w)[np.asarray(m)] for w, m in zip(weights, masks)])
    assert (
        kept.size
        == sum(int(np.asarray(m).sum()) for m in masks)
        < sum(np.asarray(w).size for w in weights)
    )
    expected = 0.3 * np.abs(kept).sum() / kept.size + 0.7 * np.square(kept).sum() / kept.size
    assert got == pytest.approx(expected, rel=1e-13)
    # not the mean over all connections (removed ones count 0 there)
    every = np.concatenate([np.asarray(w).ravel() for w in weights])
    assert abs(got - (0.3 * np.abs(every).mean() + 0.7 * np.square(every).mean())) > 1e-3
