"""GA operators on flat genomes and :class:`DebiGA`, the DEBI-NN GA as an evosax algorithm.

Operators are pure functions of flat ``(P, D)`` genomes; :class:`DebiGA` composes them into an
evosax 0.3 ``PopulationBasedAlgorithm`` and knows nothing about networks, so it is usable on any
evosax problem. Both generations of the authors' GA are covered:

* 2022 (DEBINN-SPEC section 6): two half-population tournaments, uniform crossover, per-gene
  mutation with probability q and a linear (or beat) amplitude schedule, z genes reflected.
* 2025 (DEBINN-2025 section 4): two disjoint tournaments of TC members from one random
  permutation, every gene mutated with the ``beat_2025`` schedule, signed z (no reflection).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from evosax.algorithms.base import metrics_fn as default_metrics_fn
from evosax.algorithms.population_based.base import Params as PBParams
from evosax.algorithms.population_based.base import PopulationBasedAlgorithm
from evosax.algorithms.population_based.base import State as PBState
from evosax.core.fitness_shaping import identity_fitness_shaping_fn
from flax import struct

SCHEDULES = ("linear", "beat", "beat_2025")
REPLACEMENTS = ("single", "plus")

# --------------------------------------------------------------------------------------------
# Operators (flat genomes, pure)
# --------------------------------------------------------------------------------------------


def half_tournament(
    key: jax.Array | None, fitness: jax.Array, n_offspring: int, *, uniforms: Any = None
) -> tuple[jax.Array, jax.Array]:
    """Parents by the reference's two half-population tournaments (spec 6.3).

    For each offspring the population is shuffled and split into halves of sizes
    ``floor(P/2)`` and ``P - floor(P/2)``; parent 1 is the fittest (lowest) member of the first
    half, parent 2 of the second. NaN fitness counts as +inf.

    Args:
        key: PRNG key.
        fitness: ``(P,)`` fitness, lower is better; P >= 2.
        n_offspring: number of parent pairs to draw.
        uniforms: optional pre-drawn U(0, 1) numbers ``(n_offspring, P)`` used instead of
            ``key`` (lets a caller fuse its random draws into one).

    Returns:
        ``(i1, i2)``: two ``(n_offspring,)`` int index arrays into the population.
    """
    n = fitness.shape[0]
    fit = jnp.where(jnp.isnan(fitness), jnp.inf, fitness)
    if uniforms is None:
        uniforms = jax.random.uniform(key, (n_offspring, n))
    perm = jnp.argsort(uniforms, axis=1)
    half = n // 2
    rows = jnp.arange(n_offspring)
    first, second = perm[:, :half], perm[:, half:]
    i1 = first[rows, jnp.argmin(fit[first], axis=1)]
    i2 = second[rows, jnp.argmin(fit[second], axis=1)]
    return i1, i2


def tournament_outcomes(population_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed form of :func:`half_tournament` as a distribution over fitness ranks.

    The two halves partition the population, so the fittest member is always a parent; the
    other parent is the fittest member of the other half. With halves ``h1 = floor(P/2)``
    (parent 1's) and ``h2 = P - h1``, the best sits in half 1 with probability ``h1 / P``, and
    the other parent then has rank ``r >= 1`` with probability
    ``prod_{i < r-1} (h1 - 1 - i) / (P - 1 - i) * h2 / (P - r)`` (ranks 1..r-1 all in half 1,
    rank r in half 2); symmetrically for half 2.

    Returns:
        ``(best_in_first, other_rank, prob)``: three ``(n_outcomes,)`` arrays (bool, int, float64)
        listing every outcome with its probability (they sum to 1).
    """
    n = population_size
    h = (n // 2, n - n // 2)
    first, ranks, probs = [], [], []
    for half in (0, 1):
        mine, other = h[half], h[1 - half]
        p_best = mine / n
        run = 1.0  # probability that ranks 1..r-1 all share the best's half
        for r in range(1, mine + 1):
            probs.append(p_best * run * other / (n - r))
            first.append(half == 0)
            ranks.append(r)
            run *= (mine - r) / (n - r)
    return np.array(first), np.array(ranks), np.array(probs)


def half_tournament_ranked(
    key: jax.Array | None, fitness: jax.Array, n_offspring: int, *, uniforms: Any = None
) -> tuple[jax.Array, jax.Array]:
    """Same distribution as :func:`half_tournament` in O(P log P) instead of O(P^2 log P).

    Draws each offspring's parents from the closed form of :func:`tournament_outcomes` with one
    uniform number per offspring instead of a shuffle of the population. Among members of
    equal fitness the lower index wins (the shuffle version picks one of them at random).

    Args:
        key: PRNG key (or ``uniforms``: ``(n_offspring,)`` pre-drawn U(0, 1) numbers).
        fitness: ``(P,)`` fitness, lower is better; NaN counts as +inf.

    Returns:
        ``(i1, i2)``: two ``(n_offspring,)`` int index arrays (parent 1 from the first half).
    """
    n = fitness.shape[0]
    first, ranks, probs = tournament_outcomes(n)
    cdf = np.cumsum(probs)
    cdf /= cdf[-1]
    if uniforms is None:
        uniforms = jax.random.uniform(key, (n_offspring,))
    outcome = jnp.minimum(jnp.searchsorted(jnp.asarray(cdf, jnp.float32), uniforms), len(cdf) - 1)
    order = jnp.argsort(jnp.where(jnp.isnan(fitness), jnp.inf, fitness), stable=True)
    best, other = order[0], order[jnp.asarray(ranks)[outcome]]
    in_first = jnp.asarray(first)[outcome]
    return jnp.where(in_first, best, other), jnp.where(in_first, other, best)


def two_tournaments(
    key: jax.Array | None,
    fitness: jax.Array,
    n_offspring: int,
    size: int,
    *,
    uniforms: Any = None,
) -> tuple[jax.Array, jax.Array]:
    """Parents by two disjoint tournaments of ``size`` members (DEBINN-2025 section 4).

    For each offspring a random permutation of the population is drawn; parent 1 is the
    fittest (lowest) of its first ``size`` members, parent 2 the fittest of the next ``size``.
    Ties go to the member earlier in the permutation; NaN fitness counts as +inf. The first
    ``2 size`` members of a random permutation are the ``2 size`` smallest of P uniforms, taken
    with ``lax.top_k`` (no full sort).

    Args:
        key: PRNG key (or ``uniforms``: pre-drawn U(0, 1) numbers ``(n_offspring, P)``).
        fitness: ``(P,)`` fitness, lower is better; ``2 size <= P``.
        n_offspring: parent pairs to draw.
        size: tournament size TC >= 1.

    Returns:
        ``(i1, i2)``: two ``(n_offspring,)`` int index arrays into the population.
    """
    n = fitness.shape[0]
    if not 1 <= size <= n // 2:
        raise ValueError(f"two_tournaments: size must be in [1, P // 2 = {n // 2}], got {size}")
    fit = jnp.where(jnp.isnan(fitness), jnp.inf, fitness)
    if uniforms is None:
        uniforms = jax.random.uniform(key, (n_offspring, n))
    _, order = jax.lax.top_k(-uniforms, 2 * size)  # permutation prefix, (n_off, 2 size)
    rows = jnp.arange(n_offspring)
    first, second = order[:, :size], order[:, size:]
    i1 = first[rows, jnp.argmin(fit[first], axis=1)]
    i2 = second[rows, jnp.argmin(fit[second], axis=1)]
    return i1, i2


def tournament_ranks(
    key: jax.Array | None,
    n_offspring: int,
    population_size: int,
    size: int,
    *,
    uniforms: Any = None,
) -> jax.Array:
    """Parent ranks by two disjoint tournaments of ``size`` (DEBINN-2025 sections 4 and 7.7).

    For each offspring a random permutation of the ranks ``0 .. P-1`` is drawn; parent 1 is
    the member at rank ``min(perm[:size])`` of the population sorted (stably) by fitness,
    parent 2 the one at rank ``min(perm[size:2 size])``. The first ``2 size`` entries of a
    random permutation are the ``2 size`` smallest of P uniforms (``lax.top_k``).

    Args:
        key: PRNG key (or ``uniforms``: pre-drawn U(0, 1) numbers ``(n_offspring, P)``).
        n_offspring: parent pairs to draw.
        population_size: P.
        size: tournament size TC, ``1 <= TC <= P // 2``.

    Returns:
        ``(n_offspring, 2)`` int32 ranks (0 = the fittest); see :func:`parents_from_ranks`.
    """
    n = population_size
    if not 1 <= size <= n // 2:
        raise ValueError(f"tournament_ranks: size must be in [1, P // 2 = {n // 2}], got {size}")
    if uniforms is None:
        uniforms = jax.random.uniform(key, (n_offspring, n))
    _, order = jax.lax.top_k(-uniforms, 2 * size)  # permutation prefix, (n_off, 2 size)
    return jnp.stack(
        [jnp.min(order[:, :size], axis=1), jnp.min(order[:, size:], axis=1)], axis=1
    ).astype(jnp.int32)


def fitness_order(fitness: jax.Array) -> jax.Array:
    """Indices that sort ``fitness`` ``(P,)`` ascending, **stably** (ties keep their order);
    NaN counts as +inf. Position r holds the member of rank r."""
    return jnp.argsort(jnp.where(jnp.isnan(fitness), jnp.inf, fitness), stable=True)


def parents_from_ranks(fitness: jax.Array, ranks: jax.Array) -> jax.Array:
    """Population indices of the members at ``ranks`` ``(..., 2)`` in the stable fitness order
    of ``fitness`` ``(P,)`` (:func:`fitness_order`); same shape as ``ranks``."""
    return fitness_order(fitness)[ranks]


def smallest_gap(values: jax.Array, genomes: jax.Array | None = None) -> jax.Array:
    """Smallest positive difference between two fitness values ``values`` ``(P,)`` that are
    neighbours in sorted order (+inf if none): how close the stable sort came to ordering two
    individuals the other way. With ``genomes`` ``(P, D)``, neighbours with equal genomes
    (duplicates, whose order changes nothing, but whose fitness may differ in the last bit
    when they sit in different lanes of a vectorised evaluation) are left out. Exact ties
    (gap 0) are left out too: they are degenerate networks with the same saturated output
    (e.g. a dead last layer), equal in any arithmetic, and the stable sort keeps their order."""
    order = fitness_order(values)
    v = jnp.where(jnp.isnan(values), jnp.inf, values)[order]
    d = v[1:] - v[:-1]
    counts = (d > 0) & jnp.isfinite(d)
    if genomes is not None:
        g = genomes[order]
        counts = counts & jnp.any(g[1:] != g[:-1], axis=1)
    return jnp.min(jnp.where(counts, d, jnp.inf))


def uniform_crossover(
    key: jax.Array | None,
    parent_1: jax.Array,
    parent_2: jax.Array,
    prob: float | jax.Array = 0.5,
    *,
    uniforms: Any = None,
) -> jax.Array:
    """Uniform crossover: each gene from ``parent_2`` with probability ``prob``, else ``parent_1``.

    Args:
        parent_1, parent_2: genomes of the same shape, e.g. ``(P, D)``.
        uniforms: optional pre-drawn U(0, 1) numbers of that shape, used instead of ``key``.

    Returns:
        Children, same shape.
    """
    if uniforms is None:
        uniforms = jax.random.uniform(key, parent_1.shape)
    take_2 = uniforms < prob
    return jnp.where(take_2, parent_2, parent_1)


def mutate(
    key: jax.Array | None,
    genes: jax.Array,
    prob: float | jax.Array,
    amplitude: float | jax.Array,
    *,
    uniforms: Any = None,
) -> jax.Array:
    """Per-gene mutation: with probability ``prob`` a gene gets ``+ U(-amplitude, amplitude)``.

    Args:
        genes: any shape, e.g. ``(P, D)``.
        uniforms: optional pre-drawn U(0, 1) numbers ``(2, *genes.shape)`` (hit, delta), used
            instead of ``key``.

    Returns:
        Mutated genes, same shape.
    """
    u = uniforms if uniforms is not None else jax.random.uniform(key, (2, *genes.shape))
    hit = u[0] < prob
    delta = (2.0 * u[1] - 1.0) * amplitude
    return jnp.where(hit, genes + delta, genes)


def mutation_amplitude(
    t: jax.Array | int,
    r_max: float | jax.Array,
    r_min: float | jax.Array,
    generations: float | jax.Array,
    schedule: str = "linear",
    beat_period: float | jax.Array = 8,
) -> jax.Array:
    """Mutation amplitude ``r_t`` at generation ``t`` (a scalar).

    ``linear``: ``r_t = (1 - t/T) r_max + (t/T) r_min`` (spec 6.5). ``beat``: the same line from
    ``r_max`` (at ``t mod B = 0``) down to ``r_min`` (at ``t mod B = B - 1``), repeated every
    ``B`` generations. ``beat_2025`` (DEBINN-2025 section 4): ``r_max - (r_max - r_min) j / B`` with
    ``j = t mod B``, computed in that order in the float type of ``r_max`` (with B = 8,
    r 2 -> 0.5: 2, 1.8125, ..., 0.6875, then 2 again).
    """
    if schedule == "beat_2025":
        dtype = jnp.result_type(r_max, r_min, jnp.float32)
        period = jnp.maximum(jnp.asarray(beat_period, dtype), 1.0)
        r_max, r_min = jnp.asarray(r_max, dtype), jnp.asarray(r_min, dtype)
        j = jnp.mod(jnp.asarray(t, dtype), period)
        # the authors' order of operations: Max - ((Max - Min) j) / B (DEBINN-2025 section 4)
        return r_max - (r_max - r_min) * j / period
    t = jnp.asarray(t, jnp.float32)
    if schedule == "linear":
        frac = jnp.clip(t / jnp.maximum(generations, 1.0), 0.0, 1.0)
    elif schedule == "beat":
        period = jnp.asarray(beat_period, jnp.float32)
        frac = jnp.mod(t, period) / jnp.maximum(period - 1.0, 1.0)
    else:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    return (1.0 - frac) * r_max + frac * r_min


# --------------------------------------------------------------------------------------------
# DebiGA: the reference GA as an evosax algorithm
# --------------------------------------------------------------------------------------------


@struct.dataclass
class Draws:
    """The random numbers of one 2025 generation (P offspring, D genes).

    ``ranks`` ``(P, 2)`` int: each offspring's parents as ranks into the population sorted
    stably by fitness; ``take_first`` ``(P, D)`` bool: the gene comes from parent 1;
    ``delta`` ``(P, D)``: added to the gene (0 where it is not mutated); ``amplitude`` ``()``:
    the mutation amplitude r they were made with. :meth:`DebiGA.draw` makes them from a JAX
    key; :mod:`debinn_jax.ga.replay` from the authors' ``std::mt19937`` streams.
    """

    ranks: jax.Array
    take_first: jax.Array
    delta: jax.Array
    amplitude: jax.Array


@struct.dataclass
class DebiGAState(PBState):
    """evosax state plus the amplitude used by the last ``ask``."""

    amplitude: jax.Array


@struct.dataclass
class DebiGAParams(PBParams):
    """Numeric (vmappable) settings of :class:`DebiGA`."""

    r_max: float = 1.0
    r_min: float = 0.5
    mutation_prob: float = 0.5
    crossover_prob: float = 0.5
    generations: float = 1000.0
    beat_period: float = 8.0


class DebiGA(PopulationBasedAlgorithm):
    """The DEBI-NN reference genetic algorithm (spec 6.3-6.6; DEBINN-2025 section 4) as an
    evosax algorithm.

    Each ``ask`` makes P offspring: parents by :func:`half_tournament_ranked` (the closed form
    of :func:`half_tournament`; 2022) or, with ``tournament_size``, by :func:`two_tournaments`
    (2025), children by
    :func:`uniform_crossover` and :func:`mutate` with amplitude :func:`mutation_amplitude` of
    the generation counter; with ``elitism = k`` the first k offspring are unmutated copies of
    the k best parents (re-evaluated like everyone else). Genes flagged in ``reflect`` are
    replaced by their absolute value (the network reads z as |z|). ``tell`` replaces the
    population by the offspring (``single``) or keeps the best P of parents + offspring
    (``plus``).

    Args:
        population_size: P >= 2.
        solution: template pytree (structure, shapes and dtypes only).
        schedule: ``"linear"``, ``"beat"`` or ``"beat_2025"``.
        replacement: ``"single"`` or ``"plus"``.
        elitism: number of best parents copied unchanged, ``0 <= k < P``.
        reflect: optional pytree of booleans like ``solution`` marking genes to reflect.
        tournament_size: None for the 2022 half-population tournaments, else TC for two
            disjoint tournaments of TC members (``1 <= TC <= P // 2``).
    """

    def __init__(
        self,
        population_size: int,
        solution: Any,
        schedule: str = "linear",
        replacement: str = "single",
        elitism: int = 0,
        reflect: Any = None,
        tournament_size: int | None = None,
        fitness_shaping_fn: Callable = identity_fitness_shaping_fn,
        metrics_fn: Callable = default_metrics_fn,
    ):
        if population_size < 2:
            raise ValueError(f"DebiGA: population_size must be >= 2, got {population_size}")
        if schedule not in SCHEDULES:
            raise ValueError(f"DebiGA: schedule must be one of {SCHEDULES}, got {schedule!r}")
        if replacement not in REPLACEMENTS:
            raise ValueError(
                f"DebiGA: replacement must be one of {REPLACEMENTS}, got {replacement!r}"
            )
        if not 0 <= elitism < population_size:
            raise ValueError(f"DebiGA: elitism must be in [0, population_size), got {elitism}")
        if tournament_size is not None and not 1 <= tournament_size <= population_size // 2:
            raise ValueError(
                f"DebiGA: tournament_size must be None or in [1, population_size // 2], "
                f"got {tournament_size}"
            )
        super().__init__(population_size, solution, fitness_shaping_fn, metrics_fn)
        self.tournament_size = tournament_size
        self.schedule = schedule
        self.replacement = replacement
        self.elitism = elitism
        if reflect is None:
            self.reflect_flat = None
        else:
            self.reflect_flat = _np_ravel(reflect).astype(bool)

    @property
    def _default_params(self) -> DebiGAParams:
        return DebiGAParams()

    def _init(self, key: jax.Array, params: DebiGAParams) -> DebiGAState:
        dtype = jnp.zeros(()).dtype  # the template's float (float64 under jax_enable_x64)
        return DebiGAState(
            population=jnp.full((self.population_size, self.num_dims), jnp.nan, dtype),
            fitness=jnp.full((self.population_size,), jnp.inf, dtype),
            best_solution=jnp.full((self.num_dims,), jnp.nan, dtype),
            best_fitness=jnp.asarray(jnp.inf, dtype),
            generation_counter=0,
            amplitude=jnp.asarray(params.r_max, jnp.float32),
        )

    def amplitude(self, state: DebiGAState, params: DebiGAParams) -> jax.Array:
        """Mutation amplitude the next ``ask`` will use."""
        return mutation_amplitude(
            state.generation_counter,
            params.r_max,
            params.r_min,
            params.generations,
            self.schedule,
            params.beat_period,
        )

    def draw(self, key: jax.Array, state: DebiGAState, params: DebiGAParams) -> Draws:
        """The random numbers of one 2025 ``ask`` (``tournament_size`` set), from ``key``.

        Parent ranks by :func:`tournament_ranks`; a gene comes from parent 2 with probability
        ``crossover_prob``; it is mutated with probability ``mutation_prob`` by
        ``w (r - (-r)) + (-r)``, ``w`` ~ U(0, 1) (the authors' formula).

        One threefry draw of 32-bit words: P per offspring for the tournaments, and two per
        gene: the first gives ``w`` (its high 24 bits in float32, all 32 in float64), the
        second the crossover coin (its high 16 bits) and the mutation coin (its low 16 bits),
        each compared with its probability at a resolution of 2^-16 (exact for 0, 1/2 and 1).
        Three uniform floats per gene cost 1.5x the words in float32 and 3x in float64 (two
        words a double), and the threefry hash was 90 % of the GA's own work per generation
        (1.2 of 1.4 ms on DLBCL, P 61, 951 genes, float32).
        """
        n, d = self.population_size, self.num_dims
        dtype = state.population.dtype
        bits = jax.random.bits(key, (n, n + 2 * d), jnp.uint32)
        ranks = tournament_ranks(None, n, n, self.tournament_size, uniforms=_unit24(bits[:, :n]))
        amount, coins = bits[:, n : n + d], bits[:, n + d :]
        if dtype == jnp.float64:
            w = amount.astype(dtype) * (1.0 / 2.0**32)
        else:
            w = _unit24(amount).astype(dtype)
        take_first = (coins >> 16).astype(dtype) * (1.0 / 65536.0) >= params.crossover_prob
        hit = (coins & 0xFFFF).astype(dtype) * (1.0 / 65536.0) < params.mutation_prob
        r = self.amplitude(state, params).astype(dtype)
        delta = jnp.where(hit, w * (r - (-r)) + (-r), 0.0)
        return Draws(ranks=ranks, take_first=take_first, delta=delta, amplitude=r)

    def offspring(self, draws: Draws, state: DebiGAState) -> jax.Array:
        """Flat ``(P, D)`` offspring of ``state``'s population under ``draws`` (2025 rules).

        Parents are the members at ``draws.ranks`` of the population sorted stably by
        fitness; each gene comes from parent 1 where ``draws.take_first``, else from parent 2,
        plus ``draws.delta``. Deterministic: the same draws give the same offspring, whoever
        made them (:meth:`draw`, or the authors' random streams of
        :mod:`debinn_jax.ga.replay`).
        """
        pop = state.population
        parents = parents_from_ranks(state.fitness, draws.ranks)
        children = jnp.where(draws.take_first, pop[parents[:, 0]], pop[parents[:, 1]])
        return children + draws.delta.astype(children.dtype)

    def ask_with(
        self, draws: Draws, state: DebiGAState, params: DebiGAParams
    ) -> tuple[Any, DebiGAState]:
        """``ask`` with given random numbers (2025 rules): ``(population pytree, state)``."""
        children, state = self._finish(self.offspring(draws, state), draws.amplitude, state)
        return jax.vmap(self._unravel_solution)(children), state

    def _finish(
        self, children: jax.Array, r: jax.Array, state: DebiGAState
    ) -> tuple[jax.Array, DebiGAState]:
        if self.elitism > 0:
            fit = jnp.where(jnp.isnan(state.fitness), jnp.inf, state.fitness)
            elite = state.population[jnp.argsort(fit, stable=True)[: self.elitism]]
            children = children.at[: self.elitism].set(elite)
        if self.reflect_flat is not None:
            children = jnp.where(self.reflect_flat, jnp.abs(children), children)
        return children, state.replace(amplitude=jnp.asarray(r, state.amplitude.dtype))

    def _ask(
        self, key: jax.Array, state: DebiGAState, params: DebiGAParams
    ) -> tuple[jax.Array, DebiGAState]:
        if self.tournament_size is not None:
            draws = self.draw(key, state, params)
            return self._finish(self.offspring(draws, state), draws.amplitude, state)
        n, d = self.population_size, self.num_dims
        # one fused draw (compiles much faster than one threefry call per operator)
        dtype = state.population.dtype
        pop = state.population
        u = jax.random.uniform(key, (n, 1 + 3 * d), dtype)
        i1, i2 = half_tournament_ranked(None, state.fitness, n, uniforms=u[:, 0])
        u = u[:, 1:]
        children = uniform_crossover(
            None, pop[i1], pop[i2], params.crossover_prob, uniforms=u[:, :d]
        )
        r = self.amplitude(state, params).astype(dtype)
        u_mut = jnp.stack([u[:, d : 2 * d], u[:, 2 * d :]])
        children = mutate(None, children, params.mutation_prob, r, uniforms=u_mut)
        return self._finish(children, r, state)

    def _tell(
        self,
        key: jax.Array,
        population: jax.Array,
        fitness: jax.Array,
        state: DebiGAState,
        params: DebiGAParams,
    ) -> DebiGAState:
        if self.replacement == "single":
            return state.replace(population=population, fitness=fitness)
        merged = jnp.concatenate([state.population, population], axis=0)
        merged_fit = jnp.concatenate([state.fitness, fitness], axis=0)
        keep = jnp.argsort(jnp.where(jnp.isnan(merged_fit), jnp.inf, merged_fit))
        keep = keep[: self.population_size]
        return state.replace(population=merged[keep], fitness=merged_fit[keep])


def _unit24(words: jax.Array) -> jax.Array:
    """Uniform float32 numbers in [0, 1) from uint32 ``words``: their high 24 bits / 2^24."""
    return (words >> 8).astype(jnp.float32) * (1.0 / 16777216.0)


def _np_ravel(tree: Any) -> np.ndarray:
    """Host-side ravel in ``ravel_pytree`` order (leaf order of ``tree_leaves``)."""
    return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])
