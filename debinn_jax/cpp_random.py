"""The random draws of the authors' 2025 program, reproduced exactly (host side, NumPy).

The authors' program draws every random number from ``std::mt19937`` engines with fixed seeds.
The raw 32-bit stream of ``std::mt19937(seed)`` is the one of NumPy's legacy
``RandomState(seed)`` (both seed the Mersenne Twister with ``init_genrand``); what differs
between C++ standard libraries is how raw numbers become integers in a range and how a list is
shuffled. Two rule sets are implemented (``RULES``):

* ``"msvc"``: the Microsoft C++ library (the Windows build behind the authors' published
  results). Integer in ``[a, b]`` (``n = b - a + 1``, ``M = 2^32 - 1``): draw ``x`` until
  ``floor(x / n) < floor(M / n)`` or ``M mod n = n - 1``; return ``a + x mod n``. Shuffle: for
  ``i = 1 .. n-1``, ``j = U(0, i)``, swap ``L[i]`` and ``L[j]``.
* ``"libstdc++"``: the GNU library (the authors' Linux binary). Integer: ``s = floor(M / n)``;
  draw ``x`` until ``x < n s``; return ``a + floor(x / s)``. Shuffle, two positions per draw
  (while ``floor(M / n) >= n``): ``i = 1``; if ``n`` is even, swap ``L[1]`` with
  ``L[U(0, 1)]`` and ``i = 2``; then while ``i < n``: ``q = i + 1``, ``x = U(0, q (q + 1) - 1)``,
  swap ``L[i]`` with ``L[floor(x / (q + 1))]`` and ``L[i + 1]`` with ``L[x mod (q + 1)]``,
  ``i += 2``.

A uniform double in ``[0, 1)`` takes two raw numbers ``r0, r1``: ``(r0 + r1 2^32) / 2^64`` in
both rule sets (rounded once, to nearest; libstdc++ maps a result of 1 to the largest double
below 1).

Everything here is plain NumPy and deterministic; :mod:`debinn_jax.ga.replay` builds the GA's
per-generation draws from it and :func:`debinn_jax.data.splits.authors_splits` the training
splits.
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence

import numpy as np

RULES = ("msvc", "libstdc++")
M32 = 2**32 - 1
_TWO32 = 4294967296.0
_TWO64 = 18446744073709551616.0
_BELOW_ONE = float(np.nextafter(1.0, 0.0))


def check_rules(rules: str) -> str:
    """``rules`` if it names a rule set, else a ValueError listing the choices."""
    if rules not in RULES:
        raise ValueError(f"C++ library rules must be one of {RULES}, got {rules!r}")
    return rules


def raw_stream(seed: int, n: int) -> np.ndarray:
    """The first ``n`` raw outputs of ``std::mt19937(seed)``, ``(n,)`` uint64 (values < 2^32).

    Args:
        seed: 0 <= seed < 2^32.
        n: how many.
    """
    return raw_streams([seed], n)[0]


def raw_streams(seeds: Sequence[int], n: int) -> np.ndarray:
    """The first ``n`` raw outputs of ``std::mt19937(s)`` for every seed, ``(len(seeds), n)``
    uint64. One bit generator is re-seeded for each (``init_genrand``, as ``RandomState``
    seeds it): about 15x faster than a ``RandomState`` per seed."""
    out = np.empty((len(seeds), int(n)), np.uint64)
    bg = np.random.MT19937()
    reseed = getattr(bg, "_legacy_seeding", None)
    for i, seed in enumerate(seeds):
        if not 0 <= int(seed) <= M32:
            raise ValueError(f"mt19937 seed must be in [0, 2^32 - 1], got {seed}")
        if reseed is not None:
            reseed(int(seed))
            out[i] = bg.random_raw(int(n))
        else:  # a NumPy without the private re-seeding: the same stream, slower
            rs = np.random.RandomState(int(seed))
            out[i] = rs.randint(0, 2**32, size=int(n), dtype=np.uint32)
    return out


class Engine:
    """An ``std::mt19937(seed)`` whose raw outputs are read in order (buffered).

    ``draw()`` is one raw output; ``position`` counts the outputs read so far.
    """

    def __init__(self, seed: int, block: int = 1024) -> None:
        if not 0 <= int(seed) <= M32:
            raise ValueError(f"mt19937 seed must be in [0, 2^32 - 1], got {seed}")
        self._rs = np.random.RandomState(int(seed))
        self._block = int(block)
        self._buf: list[int] = []
        self._pos = 0
        self.position = 0

    def draw(self) -> int:
        """The next raw 32-bit output."""
        if self._pos >= len(self._buf):
            raw = self._rs.randint(0, 2**32, size=self._block, dtype=np.uint32)
            self._buf = raw.tolist()
            self._pos = 0
        x = self._buf[self._pos]
        self._pos += 1
        self.position += 1
        return x


class ListEngine:
    """An engine over precomputed raw outputs (e.g. :func:`raw_stream`); falls back to
    ``std::mt19937(seed)`` itself if more outputs are read than were given."""

    def __init__(self, raw: Sequence[int], seed: int) -> None:
        self._raw = raw
        self._seed = int(seed)
        self.position = 0
        self._more: Engine | None = None

    def draw(self) -> int:
        """The next raw 32-bit output."""
        if self.position < len(self._raw):
            x = int(self._raw[self.position])
        else:
            if self._more is None:
                self._more = Engine(self._seed)
                for _ in range(self.position):
                    self._more.draw()
            x = self._more.draw()
        self.position += 1
        return x


def uniform_int(engine: Engine | ListEngine, a: int, b: int, rules: str) -> int:
    """An integer in ``[a, b]`` drawn from ``engine`` by the rule set's method."""
    n = b - a + 1
    if n < 1:
        raise ValueError(f"uniform_int: empty range [{a}, {b}]")
    if n - 1 == M32:
        return a + engine.draw()
    if rules == "msvc":
        bucket = M32 // n
        exact = M32 % n == n - 1
        while True:
            x = engine.draw()
            if exact or x // n < bucket:
                return a + x % n
    if rules == "libstdc++":
        scale = M32 // n
        past = n * scale
        while True:
            x = engine.draw()
            if x < past:
                return a + x // scale
    raise ValueError(f"C++ library rules must be one of {RULES}, got {rules!r}")


def shuffle(values: MutableSequence, engine: Engine | ListEngine, rules: str) -> None:
    """Shuffle ``values`` in place with ``std::shuffle`` of the rule set."""
    n = len(values)
    if n < 2:
        return
    if rules == "msvc":
        for i in range(1, n):
            j = uniform_int(engine, 0, i, rules)
            if j != i:
                values[i], values[j] = values[j], values[i]
        return
    if rules != "libstdc++":
        raise ValueError(f"C++ library rules must be one of {RULES}, got {rules!r}")
    if M32 // n < n:  # one position per draw
        for i in range(1, n):
            j = uniform_int(engine, 0, i, rules)
            values[i], values[j] = values[j], values[i]
        return
    i = 1
    if n % 2 == 0:
        j = uniform_int(engine, 0, 1, rules)
        values[1], values[j] = values[j], values[1]
        i = 2
    while i < n:
        q = i + 1
        x = uniform_int(engine, 0, q * (q + 1) - 1, rules)
        j1, j2 = x // (q + 1), x % (q + 1)
        values[i], values[j1] = values[j1], values[i]
        values[i + 1], values[j2] = values[j2], values[i + 1]
        i += 2


def doubles(raw: np.ndarray, rules: str) -> np.ndarray:
    """Uniform doubles in ``[0, 1)`` from pairs of raw outputs: ``(..., 2k) -> (..., k)``.

    ``(r0 + r1 2^32) / 2^64`` with ``r0, r1`` consecutive outputs (rounded once, to nearest).
    """
    raw = np.asarray(raw, np.uint64)
    # the 64-bit integer r0 + r1 2^32 is exact; its conversion rounds once, to nearest even,
    # as the double sum r0 + r1 2^32 does; dividing by 2^64 is exact
    whole = raw[..., 0::2] | (raw[..., 1::2] << np.uint64(32))
    out = whole.astype(np.float64) / _TWO64
    if rules == "libstdc++":
        out = np.where(out >= 1.0, _BELOW_ONE, out)
    return out


def uniform_ints(engine: Engine, a: int, b: int, count: int, rules: str) -> np.ndarray:
    """``count`` integers in ``[a, b]`` drawn in order from ``engine``, ``(count,)`` int64."""
    return np.array([uniform_int(engine, a, b, rules) for _ in range(count)], np.int64)


def _draw_rows(
    raw: np.ndarray, pos: np.ndarray, n: int, rules: str
) -> tuple[np.ndarray, np.ndarray]:
    """One integer in ``[0, n - 1]`` per row of ``raw`` ``(R, m)``, reading row r from
    ``pos[r]`` on (rejected draws are skipped as :func:`uniform_int` skips them); returns the
    integers ``(R,)`` and the positions after them."""
    rows = np.arange(raw.shape[0])
    if rules == "msvc":
        bucket, exact = M32 // n, M32 % n == n - 1

        def ok(x: np.ndarray) -> np.ndarray:
            return np.full(x.shape, True) if exact else x // n < bucket

        def value(x: np.ndarray) -> np.ndarray:
            return x % n
    else:
        scale = M32 // n
        past = n * scale

        def ok(x: np.ndarray) -> np.ndarray:
            return x < past

        def value(x: np.ndarray) -> np.ndarray:
            return x // scale

    pos = pos.copy()
    if np.any(pos >= raw.shape[1]):
        raise IndexError("_draw_rows: the raw streams are too short")
    x = raw[rows, pos]
    bad = ~ok(x)
    while np.any(bad):  # rare: probability below n / 2^32 per draw
        pos[bad] += 1
        if np.any(pos >= raw.shape[1]):
            raise IndexError("_draw_rows: the raw streams are too short")
        x[bad] = raw[rows[bad], pos[bad]]
        bad = ~ok(x)
    return value(x).astype(np.int64), pos + 1


def shuffle_rows(values: np.ndarray, raw: np.ndarray, rules: str) -> np.ndarray:
    """:func:`shuffle` of ``values`` ``(n,)`` once per row of ``raw`` ``(R, m)`` (each row the
    raw outputs of one engine from its start), vectorised over the rows: ``(R, n)``."""
    check_rules(rules)
    raw = np.asarray(raw, np.uint64)
    n_rows = raw.shape[0]
    out = np.tile(np.asarray(values), (n_rows, 1))
    n = out.shape[1]
    rows = np.arange(n_rows)
    pos = np.zeros(n_rows, np.int64)

    def swap(i: np.ndarray | int, j: np.ndarray) -> None:
        a = out[rows, i].copy()
        out[rows, i] = out[rows, j]
        out[rows, j] = a

    if n < 2:
        return out
    if rules == "msvc" or M32 // n < n:
        for i in range(1, n):
            j, pos = _draw_rows(raw, pos, i + 1, rules)
            swap(i, j)
        return out
    i = 1
    if n % 2 == 0:
        j, pos = _draw_rows(raw, pos, 2, rules)
        swap(1, j)
        i = 2
    while i < n:
        q = i + 1
        x, pos = _draw_rows(raw, pos, q * (q + 1), rules)
        swap(i, x // (q + 1))
        swap(i + 1, x % (q + 1))
        i += 2
    return out
