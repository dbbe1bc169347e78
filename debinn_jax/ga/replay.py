"""The authors' random streams for the 2025 GA: a run of their program, repeated exactly.

The authors' 2025 program takes every random number of a run from ``std::mt19937`` engines
with fixed seeds (DEBINN-2025 section 7), so its runs are deterministic. This module turns
those streams into the GA's per-generation random numbers (:class:`~debinn_jax.ga.operators.
Draws`), host side with NumPy; the compiled loop (``GAConfig(replay=True)``) consumes them
in place of its JAX key. What is drawn where:

* the GA engine ``E = mt19937(123)`` shuffles the tournament list ``0 .. P-1``, then draws P
  seeds ``U(1, P T)`` for the initial population (unused: it is P copies of the origin) and P
  more before every iteration, one per offspring;
* offspring k of an iteration: ``mt19937(s_k)`` shuffles a copy of the tournament list (the
  parents are the members at ranks ``min(perm[:TC])`` and ``min(perm[TC:2 TC])`` of the
  population sorted stably by training fitness); a second ``mt19937(s_k)``, from its start,
  gives three doubles ``u, v, w`` per gene in the authors' gene order: the gene is parent 1's
  if ``u > 0.5``, and it gets ``w (r - (-r)) + (-r)`` if ``v < MutationDelta``, with
  ``r = Max - (Max - Min) (i mod B) / B``.

Every quantity above depends only on (rules, P, T, TC, B, G, Max, Min, MutationDelta), not on
the data or the fitness: every run of a grid column with the same sizes gets the same numbers.
Integer draws and shuffles follow the rule set (:mod:`debinn_jax.cpp_random`).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from debinn_jax import cpp_random
from debinn_jax.network import NetworkSpec

GA_SEED = 123


@dataclasses.dataclass(frozen=True)
class StreamSettings:
    """What the authors' random numbers of a run depend on (all runs sharing these get the
    same numbers).

    Attributes:
        rules: ``"msvc"`` or ``"libstdc++"``.
        population_size: P.
        iterations: T, the configured iteration count (the seed range is ``1 .. P T``).
        tournament_size: TC.
        beat_period: B.
        genes: G, the genome length.
        r_max, r_min: the mutation amplitude's Max and Min.
        mutation_prob: MutationDelta (a gene mutates when ``v < MutationDelta``).
    """

    rules: str
    population_size: int
    iterations: int
    tournament_size: int
    beat_period: int
    genes: int
    r_max: float
    r_min: float
    mutation_prob: float

    def __post_init__(self) -> None:
        cpp_random.check_rules(self.rules)
        if not 1 <= self.tournament_size <= self.population_size // 2:
            raise ValueError(
                f"StreamSettings: tournament_size must be in [1, P // 2], got "
                f"{self.tournament_size} for P = {self.population_size}"
            )


def gene_permutation(spec: NetworkSpec) -> np.ndarray:
    """``perm`` ``(G,)``: the authors' gene ``a`` is gene ``perm[a]`` of the library's flat
    genome (``ravel_pytree`` of the coordinates). A library genome is ``lib[perm] = authors``."""
    import jax
    from jax import flatten_util

    from debinn_jax.authors import coords_to_genome
    from debinn_jax.ga.loop import coords_template

    flat, unravel = flatten_util.ravel_pytree(coords_template(spec))
    index = jax.tree_util.tree_map(np.asarray, unravel(np.arange(flat.size, dtype=np.float64)))
    perm = np.asarray(coords_to_genome(spec, index)).astype(np.int64)
    if sorted(perm.tolist()) != list(range(flat.size)):
        raise AssertionError("gene_permutation: the authors' gene order is not a permutation")
    return perm


class ReplayStreams:
    """The authors' random numbers of every generation of a run (host side).

    ``draws(t0, n)`` returns the numbers of library generations ``t0 .. t0 + n - 1`` stacked
    on a leading axis (generation ``t >= 1`` is the authors' iteration ``t - 1``; generation 0
    evaluates the initial population and draws nothing: zeros there, as for ``t > T``).
    ``seconds`` adds up the host time spent making the numbers.

    Args:
        settings: the sizes and rates (:class:`StreamSettings`).
        gene_perm: from :func:`gene_permutation` (None: the authors' gene order).
        dtype: float type of ``delta`` (float64 for a replay).
    """

    def __init__(
        self,
        settings: StreamSettings,
        gene_perm: np.ndarray | None = None,
        dtype: type = np.float64,
    ) -> None:
        s = settings
        self.settings = s
        self.gene_perm = None if gene_perm is None else np.asarray(gene_perm, np.int64)
        if self.gene_perm is not None and self.gene_perm.shape != (s.genes,):
            raise ValueError(
                f"ReplayStreams: gene_perm has {self.gene_perm.shape[0]} genes, settings {s.genes}"
            )
        self.dtype = dtype
        self.seconds = 0.0  # host time spent making the numbers (seeds and draws)
        t0 = time.perf_counter()
        engine = cpp_random.Engine(GA_SEED)
        tournament = list(range(s.population_size))
        cpp_random.shuffle(tournament, engine, s.rules)
        self.tournament_list = np.asarray(tournament, np.int64)
        top = s.population_size * s.iterations
        self.initial_seeds = cpp_random.uniform_ints(engine, 1, top, s.population_size, s.rules)
        self.seeds = cpp_random.uniform_ints(
            engine, 1, top, s.population_size * s.iterations, s.rules
        ).reshape(s.iterations, s.population_size)
        self._cache: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.seconds += time.perf_counter() - t0

    def amplitude(self, iteration: int) -> float:
        """``r = Max - (Max - Min) (i mod B) / B`` (in that order, float64)."""
        s = self.settings
        j = float(iteration % s.beat_period)
        return s.r_max - (s.r_max - s.r_min) * j / float(s.beat_period)

    def offspring_numbers(
        self, seeds: np.ndarray, r: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The numbers of offspring with these seeds (vectorised over them): ``ranks (U, 2)``,
        ``take_first (U, G)`` and ``delta (U, G)``, genes in the authors' order."""
        s = self.settings
        raw = cpp_random.raw_streams(seeds, 6 * s.genes)
        try:
            perm = cpp_random.shuffle_rows(self.tournament_list, raw, s.rules)
        except IndexError:  # a stream ran out (practically never): one engine per seed
            perm = np.stack([self._shuffled(seed) for seed in seeds])
        tc = s.tournament_size
        ranks = np.stack([perm[:, :tc].min(axis=1), perm[:, tc : 2 * tc].min(axis=1)], axis=1)
        d = cpp_random.doubles(raw, s.rules).reshape(len(seeds), s.genes, 3)
        u, v, w = d[..., 0], d[..., 1], d[..., 2]
        delta = np.where(v < s.mutation_prob, w * (r - (-r)) + (-r), 0.0)
        return ranks, u > 0.5, delta

    def _shuffled(self, seed: int) -> np.ndarray:
        perm = self.tournament_list.tolist()
        cpp_random.shuffle(perm, cpp_random.Engine(int(seed)), self.settings.rules)
        return np.asarray(perm)

    def iteration(self, i: int) -> dict[str, np.ndarray]:
        """The numbers of the authors' iteration ``i`` (0-based): ``ranks (P, 2)`` int32,
        ``take_first (P, G)`` bool, ``delta (P, G)``, ``amplitude ()``, ``seeds (P,)``;
        genes in the library's order when a ``gene_perm`` was given. Offspring with the same
        seed get the same numbers."""
        r = self.amplitude(i)
        seeds = self.seeds[i]
        unique, back = np.unique(seeds, return_inverse=True)
        ranks, take, delta = self.offspring_numbers(unique, r)
        ranks, take, delta = ranks[back], take[back], delta[back]
        if self.gene_perm is not None:
            take_lib = np.empty_like(take)
            delta_lib = np.empty_like(delta)
            take_lib[:, self.gene_perm] = take
            delta_lib[:, self.gene_perm] = delta
            take, delta = take_lib, delta_lib
        return {
            "ranks": ranks.astype(np.int32),
            "take_first": take,
            "delta": delta.astype(self.dtype),
            "amplitude": np.asarray(r, self.dtype),
            "seeds": seeds.astype(np.int64),
        }

    def draws(self, t0: int, n: int) -> dict[str, np.ndarray]:
        """Library generations ``t0 .. t0 + n - 1`` stacked: ``ranks (n, P, 2)``,
        ``take_first (n, P, G)``, ``delta (n, P, G)``, ``amplitude (n,)`` (zeros where the
        generation draws nothing). The last result is cached (see :meth:`prepare`)."""
        key = (int(t0), int(n))
        if key in self._cache:
            return self._cache.pop(key)
        start = time.perf_counter()
        s = self.settings
        out = {
            "ranks": np.zeros((n, s.population_size, 2), np.int32),
            "take_first": np.zeros((n, s.population_size, s.genes), bool),
            "delta": np.zeros((n, s.population_size, s.genes), self.dtype),
            "amplitude": np.zeros((n,), self.dtype),
        }
        for j in range(n):
            i = t0 + j - 1
            if 0 <= i < s.iterations:
                it = self.iteration(i)
                for name in out:
                    out[name][j] = it[name]
        self.seconds += time.perf_counter() - start
        return out

    def prepare(self, t0: int, n: int) -> None:
        """Compute :meth:`draws` ``(t0, n)`` now (e.g. while the device runs the previous
        chunk) and keep it for the next call."""
        key = (int(t0), int(n))
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = self.draws(t0, n)
