"""The authors' random helpers (debinn_jax.cpp_random): mt19937, integer draws, shuffles,
doubles; by hand, and against the values of their program's runs (replay test vectors)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from debinn_jax import cpp_random
from debinn_jax.cpp_random import (
    M32,
    Engine,
    ListEngine,
    doubles,
    raw_streams,
    shuffle,
    shuffle_rows,
    uniform_int,
    uniform_ints,
)
from debinn_jax.ga.replay import GA_SEED, ReplayStreams, StreamSettings
from tests._shared import reference_dir

REPLAY = reference_dir() / "replay"


def _vector(name: str) -> dict:
    path = REPLAY / name if name.endswith(".json") else REPLAY / name / "replay.json"
    if not path.is_file():
        pytest.skip(f"replay test vector {path} not found (set DEBINN_REFERENCE_DIR)")
    return json.loads(path.read_text())


# --------------------------------------------------------------------------------------------
# by hand


def test_mt19937_stream_is_the_standard_one():
    # the C++ standard requires the 10000th output of a default mt19937 (seed 5489)
    assert int(raw_streams([5489], 10000)[0, -1]) == 4123659995
    e = Engine(5489, block=7)  # buffered reads in small blocks give the same stream
    first = [e.draw() for _ in range(20)]
    assert first == raw_streams([5489], 20)[0].tolist()
    assert e.position == 20


def test_integer_draws_by_hand():
    # msvc: x mod n, rejecting the last incomplete bucket; libstdc++: x // floor(M / n),
    # rejecting x >= n floor(M / n)
    n = 3  # M mod 3 = 0 != 2: a bucket rule applies
    top = (M32 // n) * n  # msvc rejects x // 3 >= M // 3, i.e. x >= top
    e = ListEngine([top, top + 1, 7], seed=0)
    assert uniform_int(e, 0, 2, "msvc") == 7 % 3 and e.position == 3
    e = ListEngine([5, 10**9], seed=0)
    assert uniform_int(e, 10, 12, "msvc") == 10 + 5 % 3 and e.position == 1
    scale = M32 // 3
    e = ListEngine([3 * scale, 2 * scale + 4], seed=0)  # the first is rejected
    assert uniform_int(e, 0, 2, "libstdc++") == 2 and e.position == 2
    # n divides 2^32: msvc never rejects (M mod n = n - 1)
    e = ListEngine([M32], seed=0)
    assert uniform_int(e, 0, 1, "msvc") == 1
    with pytest.raises(ValueError, match="rules"):
        uniform_int(ListEngine([1], 0), 0, 1, "gcc")
    with pytest.raises(ValueError, match="empty range"):
        uniform_int(ListEngine([1], 0), 2, 1, "msvc")


def test_shuffles_by_hand():
    # msvc, n = 3: i = 1: j = x0 mod 2; i = 2: j = x1 mod 3
    values = [0, 1, 2]
    shuffle(values, ListEngine([1, 4], 0), "msvc")  # j = 1 = i: no swap; then j = 1: swap
    assert values == [0, 2, 1]
    # libstdc++, n = 3 (odd): i = 1, q = 2: x = U(0, 5) = floor(x / floor(M / 6))
    s6 = M32 // 6
    values = [0, 1, 2]
    shuffle(values, ListEngine([4 * s6], 0), "libstdc++")  # x = 4: swap 1<->1, 2<->1
    assert values == [0, 2, 1]


def test_shuffle_rows_equals_shuffle_for_every_rule_and_size():
    seeds = list(range(1, 41))
    raw = raw_streams(seeds, 300)
    for rules in cpp_random.RULES:
        for n in (1, 2, 3, 8, 61, 62, 70):
            rows = shuffle_rows(np.arange(n), raw, rules)
            for k, seed in enumerate(seeds):
                expected = list(range(n))
                shuffle(expected, Engine(seed), rules)
                assert rows[k].tolist() == expected, (rules, n, seed)


def test_doubles_are_one_rounding_of_the_64_bit_sum():
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 2**32, size=(5000, 2), dtype=np.uint64)
    got = doubles(raw, "msvc")[:, 0]
    expected = (raw[:, 0].astype(np.float64) + raw[:, 1].astype(np.float64) * 2.0**32) / 2.0**64
    np.testing.assert_array_equal(got, expected)
    assert doubles(np.array([0, 0], np.uint64), "msvc")[0] == 0.0
    top = np.array([M32, M32], np.uint64)  # rounds to 1: libstdc++ maps it below 1
    assert doubles(top, "msvc")[0] == 1.0
    assert doubles(top, "libstdc++")[0] == np.nextafter(1.0, 0.0)


def test_seeds_are_checked():
    with pytest.raises(ValueError, match="seed"):
        raw_streams([-1], 3)
    with pytest.raises(ValueError, match="seed"):
        Engine(2**32)


# --------------------------------------------------------------------------------------------
# against the authors' program (replay test vectors)


def _start(p: int, t: int, rules: str) -> tuple[list[int], np.ndarray, np.ndarray]:
    e = Engine(GA_SEED)
    tl = list(range(p))
    shuffle(tl, e, rules)
    init = uniform_ints(e, 1, p * t, p, rules)
    gen0 = uniform_ints(e, 1, p * t, p, rules)
    return tl, init, gen0


@pytest.mark.parametrize("name", ["h-S1-T3", "h-S1-T1000", "k-S1-T3", "tiny-S1-T1000"])
def test_tournament_list_and_seeds_libstdcxx(name):
    d = _vector(name)
    tl, init, gen0 = _start(d["P"], d["T"], "libstdc++")
    assert tl == d["tournament_list"]  # P = 61 (DLBCL), 70 (HECKTOR), 21 (tiny)
    assert init.tolist() == d["init_seeds"]
    assert gen0.tolist() == d["generations"][0]["seeds"]
    streams = ReplayStreams(
        StreamSettings("libstdc++", d["P"], d["T"], d["TC"], d["B"], d["G"], 2.0, 0.5, 1.0)
    )
    for i, g in enumerate(d["generations"][:3]):
        assert streams.seeds[i].tolist() == g["seeds"]
        ranks = streams.iteration(i)["ranks"]
        if g.get("parents_rank1_rank2_p1_p2") is not None:
            expected = [p[:2] for p in g["parents_rank1_rank2_p1_p2"]]
            assert ranks.tolist() == expected


@pytest.mark.parametrize(
    "name,p", [("published-DLBCL-S69-msvc1.json", 61), ("published-HECKTOR-S24-msvc1-ws0.json", 70)]
)
def test_tournament_list_msvc(name, p):
    d = _vector(name)
    tl, _, _ = _start(p, 1000, "msvc")
    assert tl == d["tlist"]
