"""Genetic-algorithm training of DEBI-NN (spec sections 4, 6 and 9).

Two layers:

* :class:`DebiGA`, the reference GA as an evosax 0.3 ``PopulationBasedAlgorithm``: per offspring
  two half-population tournaments, uniform crossover, per-gene mutation with probability ``q``
  and amplitude ``U(-r_t, r_t)`` (``linear`` or ``beat`` schedule), ``single`` or ``plus``
  replacement, optional elitism, z genes reflected to ``|z|``. It works on flat genomes and knows
  nothing about networks, so it is usable on any evosax problem.
* :func:`train_ga`, the DEBI training loop around *any* evosax algorithm: per-individual data
  subsets and a validation subset as ``(P, N)`` masks (built by ``debinn_jax.data``), one
  population forward per generation scoring both, hall of fame with the train/validation
  tolerance rule, early stopping, final selection on ``C`` fresh 70 % subsamples, gene averaging
  or prediction ensembles. Generations run in ``jax.lax.scan`` under ``jit``, in host-side chunks
  of ``GAConfig.chunk`` generations (progress and early stopping between chunks; a stopped run
  is frozen inside the chunk, so the result does not depend on the chunk length).

The per-run building blocks (:func:`make_runner`) are pure functions of one run; ``sweep.py``
maps them over many runs (seeds x folds x settings) in one compiled call.

Default settings: see :class:`GAConfig` (chosen on validation splits; numbers in its docstring).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from evosax.algorithms import algorithms as EVOSAX_ALGORITHMS
from evosax.algorithms.base import EvolutionaryAlgorithm
from evosax.algorithms.base import metrics_fn as default_metrics_fn
from evosax.algorithms.population_based.base import Params as PBParams
from evosax.algorithms.population_based.base import PopulationBasedAlgorithm
from evosax.algorithms.population_based.base import State as PBState
from evosax.core.fitness_shaping import identity_fitness_shaping_fn
from flax import struct
from jax import flatten_util

from debinn_jax.data.splits import ga_subsets, shuffle_individuals, subset_sizes
from debinn_jax.loss import LossConfig, population_loss
from debinn_jax.network import Coords, NetworkSpec, apply, init_coords, reflect_z

SCHEDULES = ("linear", "beat")
REPLACEMENTS = ("single", "plus")
ENSEMBLE_MODES = ("genes", "predictions")
POPULATION_INITS = ("uniform", "clones")
TOLERANCE_STEP = 0.05

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
    ``B`` generations.
    """
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
    """The DEBI-NN reference genetic algorithm (spec 6.3-6.6) as an evosax algorithm.

    Each ``ask`` makes P offspring: parents by :func:`half_tournament_ranked` (the closed form
    of :func:`half_tournament`), children by
    :func:`uniform_crossover` and :func:`mutate` with amplitude :func:`mutation_amplitude` of
    the generation counter; with ``elitism = k`` the first k offspring are unmutated copies of
    the k best parents (re-evaluated like everyone else). Genes flagged in ``reflect`` are
    replaced by their absolute value (the network reads z as |z|). ``tell`` replaces the
    population by the offspring (``single``) or keeps the best P of parents + offspring
    (``plus``).

    Args:
        population_size: P >= 2.
        solution: template pytree (structure, shapes and dtypes only).
        schedule: ``"linear"`` or ``"beat"``.
        replacement: ``"single"`` or ``"plus"``.
        elitism: number of best parents copied unchanged, ``0 <= k < P``.
        reflect: optional pytree of booleans like ``solution`` marking genes to reflect.
    """

    def __init__(
        self,
        population_size: int,
        solution: Any,
        schedule: str = "linear",
        replacement: str = "single",
        elitism: int = 0,
        reflect: Any = None,
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
        super().__init__(population_size, solution, fitness_shaping_fn, metrics_fn)
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
        return DebiGAState(
            population=jnp.full((self.population_size, self.num_dims), jnp.nan),
            fitness=jnp.full((self.population_size,), jnp.inf),
            best_solution=jnp.full((self.num_dims,), jnp.nan),
            best_fitness=jnp.inf,
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

    def _ask(
        self, key: jax.Array, state: DebiGAState, params: DebiGAParams
    ) -> tuple[jax.Array, DebiGAState]:
        n, d = self.population_size, self.num_dims
        # one fused draw (compiles much faster than one threefry call per operator)
        u = jax.random.uniform(key, (n, 1 + 3 * d))
        pop = state.population
        i1, i2 = half_tournament_ranked(None, state.fitness, n, uniforms=u[:, 0])
        children = uniform_crossover(
            None, pop[i1], pop[i2], params.crossover_prob, uniforms=u[:, 1 : 1 + d]
        )
        r = self.amplitude(state, params)
        u_mut = jnp.stack([u[:, 1 + d : 1 + 2 * d], u[:, 1 + 2 * d :]])
        children = mutate(None, children, params.mutation_prob, r, uniforms=u_mut)
        if self.elitism > 0:
            fit = jnp.where(jnp.isnan(state.fitness), jnp.inf, state.fitness)
            elite = pop[jnp.argsort(fit)[: self.elitism]]
            children = children.at[: self.elitism].set(elite)
        if self.reflect_flat is not None:
            children = jnp.where(self.reflect_flat, jnp.abs(children), children)
        return children, state.replace(amplitude=jnp.asarray(r, jnp.float32))

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


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

#: GAConfig fields that are numeric and may vary per run without recompiling (see sweep.py).
FLOAT_FIELDS = ("r_max", "r_min", "mutation_prob", "crossover_prob", "tolerance")
INT_FIELDS = ("generations", "beat_period", "resample_every", "early_stopping")
NUMERIC_FIELDS = FLOAT_FIELDS + INT_FIELDS
NEVER = 2**30  # early_stopping=None as a number


@dataclasses.dataclass(frozen=True)
class GAConfig:
    """Settings of :func:`train_ga` (frozen, hashable; change with ``dataclasses.replace``).

    Defaults = spec section 6 (reference 2023): P 50, T 1000, linear r 1.0 -> 0.5, q 0.5,
    uniform crossover 1/2, ``single`` replacement, F 10, margin 300, tolerance 0.05, C 10,
    E 1; to be used with ``NetworkSpec`` defaults (``reference`` head, no shift-scale) on the
    medical sets. Measured on validation splits (inner 70/30 splits of each seed's training
    set, P 50, T 1000, balanced accuracy mean +- sd over seeds; ``experiments/ga_study.py
    validate``; two-moons on 2-16-2, DLBCL 17-85-64-2, HECKTOR-LITE 36-180-2, CTG 21-85-64-3):

    ================================  ============  ============  ============  ============
    mutation / network                two-moons 5   DLBCL 30      HECKTOR 5     CTG 3
    ================================  ============  ============  ============  ============
    spec (r 1.0->0.5, q 0.5) / ref    0.867 (.029)  0.562 (.155)  0.656 (.038)  --
    spec / ref + shift-scale          0.946 (.047)  --            0.652 (.047)  0.739 (.043)
    spec / softmax + shift-scale      0.918 (.068)  --            0.632 (.068)  0.478 (.278)
    r 0.3->0.05, q 0.1 / ref          0.864 (.025)  0.584 (.139)  0.688 (.036)  --
    r 0.3->0.05, q 0.1 / ref + ss     0.981 (.013)  --            0.657 (.017)  0.796 (.039)
    r 0.3->0.05, q 0.1 / softmax + ss 0.994 (.009)  --            0.712 (.069)  0.657 (.071)
    r 0.5->0.1, q 0.2 / ref           0.860 (.024)  0.608 (.109)  0.658 (.030)  --
    r 0.5->0.1, q 0.2 / ref + ss      0.981 (.017)  --            0.661 (.065)  0.799 (.033)
    r 0.5->0.1, q 0.2 / softmax + ss  0.991 (.009)  --            --            0.619 (.119)
    ================================  ============  ============  ============  ============

    On DLBCL (10 seeds, spec mutation, an earlier run) shift-scale genes gave 0.580 and the
    softmax head with them 0.507 against 0.644 for the plain reference network; with 12
    validation cases per split, DLBCL differences below ~0.05 are noise.

    No single setting served all four: two-moons needs a bias (shift-scale genes) and does
    best with the ``softmax`` head, which is the worst choice on DLBCL and, on deep layouts,
    on CTG. Smaller, sparser mutation than the spec's was as good or better everywhere. The
    defaults stay the spec's (section 6) with the ``reference`` head and no shift-scale; the
    per-task configs in ``experiments/configs`` hold the validated choices. For
    two-moons-like low-dimensional data use ``NetworkSpec(head="softmax", shift_scale=True)``
    with ``GAConfig(r_max=0.3, r_min=0.05, mutation_prob=0.1)``.

    Attributes:
        population_size: P (>= 2).
        generations: T, the generation budget (generation 0 evaluates the initial population).
        r_max, r_min: mutation amplitude at the start and end of the schedule.
        schedule: ``"linear"`` (r_max -> r_min over T) or ``"beat"`` (over ``beat_period``
            generations, repeated).
        beat_period: B for the ``beat`` schedule.
        mutation_prob: q, per-gene mutation probability in [0, 1].
        crossover_prob: probability that a gene comes from parent 2 (uniform crossover).
        replacement: ``"single"`` (offspring replace parents) or ``"plus"`` (best P of both).
        elitism: k best parents copied unchanged into the next generation.
        resample_every: F, generations between re-draws of the data subsets.
        early_stopping: stop after this many generations without a hall-of-fame entry
            (``None`` = never).
        tolerance: largest |validation - training| fitness gap for a hall-of-fame entry.
        final_subsets: C, fresh stratified subsamples for the final re-scoring.
        final_fraction: share of the training split in each final subsample.
        ensemble: E, number of hall-of-fame members combined into the final model.
        ensemble_mode: ``"genes"`` (average the genes of the E best) or ``"predictions"``
            (average their predicted probabilities).
        population_init: ``"uniform"`` (independent U(-1, 1) individuals) or ``"clones"``
            (P copies of one network, the reference start).
        algorithm: ``"debi"`` (:class:`DebiGA`), an evosax algorithm name (``"SimpleGA"``,
            ``"CMA_ES"``, ``"Open_ES"``, ``"SNES"``, ``"DifferentialEvolution"``, ...) or a
            ready evosax algorithm instance built on a template of this network's coordinates.
        algorithm_params: ``(name, value)`` pairs replacing fields of the algorithm's
            ``default_params`` (e.g. ``(("std_init", 0.3),)`` for an ES).
        loss: the DEBI loss settings (fitness).
        batch_size: individuals evaluated together (``lax.map`` chunks; best on CPU),
            ``None`` = the whole population in one ``vmap`` (best on accelerators).
        chunk: generations per compiled chunk (progress / early stopping granularity).
    """

    population_size: int = 50
    generations: int = 1000
    r_max: float = 1.0
    r_min: float = 0.5
    schedule: str = "linear"
    beat_period: int = 8
    mutation_prob: float = 0.5
    crossover_prob: float = 0.5
    replacement: str = "single"
    elitism: int = 0
    resample_every: int = 10
    early_stopping: int | None = 300
    tolerance: float = 0.05
    final_subsets: int = 10
    final_fraction: float = 0.7
    ensemble: int = 1
    ensemble_mode: str = "genes"
    population_init: str = "uniform"
    algorithm: Any = "debi"
    algorithm_params: tuple = ()
    loss: LossConfig = LossConfig()
    batch_size: int | None = 4
    chunk: int = 100

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"GAConfig.{name} must be {expected}, got {getattr(self, name)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, int | np.integer) and not isinstance(v, bool)

        if not is_int(self.population_size) or self.population_size < 2:
            raise bad("population_size", "an integer >= 2")
        if not is_int(self.generations) or self.generations < 1:
            raise bad("generations", "an integer >= 1")
        for name in ("mutation_prob", "crossover_prob"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0.0 <= v <= 1.0):
                raise bad(name, "a number in [0, 1]")
        for name in ("r_max", "r_min"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise bad(name, "a finite number >= 0")
        if self.r_min > self.r_max:
            raise ValueError(
                f"GAConfig.r_min ({self.r_min}) must not exceed GAConfig.r_max ({self.r_max})"
            )
        if self.schedule not in SCHEDULES:
            raise bad("schedule", f"one of {SCHEDULES}")
        if not is_int(self.beat_period) or self.beat_period < 1:
            raise bad("beat_period", "an integer >= 1")
        if self.replacement not in REPLACEMENTS:
            raise bad("replacement", f"one of {REPLACEMENTS}")
        if not is_int(self.elitism) or not 0 <= self.elitism < self.population_size:
            raise bad("elitism", "an integer in [0, population_size)")
        if not is_int(self.resample_every) or self.resample_every < 1:
            raise bad("resample_every", "an integer >= 1")
        if self.early_stopping is not None and (
            not is_int(self.early_stopping) or self.early_stopping < 1
        ):
            raise bad("early_stopping", "None or an integer >= 1")
        if not (isinstance(self.tolerance, int | float) and self.tolerance >= 0):
            raise bad("tolerance", "a number >= 0")
        if not is_int(self.final_subsets) or self.final_subsets < 1:
            raise bad("final_subsets", "an integer >= 1")
        if not (isinstance(self.final_fraction, int | float) and 0 < self.final_fraction <= 1):
            raise bad("final_fraction", "a number in (0, 1]")
        if not is_int(self.ensemble) or not 1 <= self.ensemble <= self.population_size:
            raise bad("ensemble", "an integer in [1, population_size]")
        if self.ensemble_mode not in ENSEMBLE_MODES:
            raise bad("ensemble_mode", f"one of {ENSEMBLE_MODES}")
        if self.population_init not in POPULATION_INITS:
            raise bad("population_init", f"one of {POPULATION_INITS}")
        if isinstance(self.algorithm, str):
            if self.algorithm != "debi" and self.algorithm not in EVOSAX_ALGORITHMS:
                raise bad("algorithm", "'debi', an evosax algorithm name or instance")
        elif not isinstance(self.algorithm, EvolutionaryAlgorithm):
            raise bad("algorithm", "'debi', an evosax algorithm name or instance")
        if not isinstance(self.loss, LossConfig):
            raise bad("loss", "a LossConfig")
        if self.batch_size is not None and (not is_int(self.batch_size) or self.batch_size < 1):
            raise bad("batch_size", "None or an integer >= 1")
        if not is_int(self.chunk) or self.chunk < 1:
            raise bad("chunk", "an integer >= 1")
        if not isinstance(self.algorithm_params, tuple):
            raise bad("algorithm_params", "a tuple of (name, value) pairs")

    def numeric(self) -> dict[str, jax.Array]:
        """The per-run numeric settings (``NUMERIC_FIELDS``) as scalars: float32 for
        ``FLOAT_FIELDS``, int32 for ``INT_FIELDS`` (``early_stopping=None`` -> ``NEVER``).
        They are traced, not static: changing them does not recompile, and sweeps vmap them."""
        out = {name: jnp.float32(getattr(self, name)) for name in FLOAT_FIELDS}
        for name in INT_FIELDS:
            value = getattr(self, name)
            out[name] = jnp.int32(NEVER if value is None else value)
        return out


# --------------------------------------------------------------------------------------------
# Subsets: the GA's training/validation masks come from debinn_jax.data.splits (spec 6.2);
# the final re-scoring subsamples (spec 6.9) are drawn here.
# --------------------------------------------------------------------------------------------


def _select_per_class(
    key: jax.Array, y: jax.Array, n_classes: int, member: jax.Array, k: jax.Array
) -> jax.Array:
    """Boolean ``(N,)``: ``k[c]`` random members of every class c (``member`` is ``(N,)`` bool)."""
    u = jax.random.uniform(key, y.shape)
    # members of class c sort first inside class c, in random order
    order = jnp.argsort(y.astype(jnp.float32) * 4.0 + jnp.where(member, u, 2.0 + u))
    totals = jnp.zeros(n_classes, jnp.int32).at[y].add(1)
    starts = jnp.cumsum(totals) - totals
    rank = jnp.zeros_like(y).at[order].set(jnp.arange(y.shape[0], dtype=y.dtype))
    return member & (rank - starts[y] < k[y])


def _class_counts(y: jax.Array, n_classes: int, member: jax.Array) -> jax.Array:
    return jnp.zeros(n_classes, jnp.int32).at[y].add(member.astype(jnp.int32))


def stratified_fraction_mask(
    key: jax.Array, y: jax.Array, n_classes: int, sample_mask: jax.Array, fraction: float
) -> jax.Array:
    """A random ``floor(fraction * n_c)`` cases of every class among ``sample_mask``; ``(N,)``.

    JAX-pure (usable inside jit/vmap). Used for the final re-scoring subsamples (spec 6.9).
    """
    member = sample_mask > 0
    counts = _class_counts(y, n_classes, member)
    k = jnp.floor(counts.astype(jnp.float32) * fraction).astype(jnp.int32)
    return _select_per_class(key, y, n_classes, member, k).astype(jnp.float32)


# --------------------------------------------------------------------------------------------
# The training loop (one run; pure pieces, mapped over runs by sweep.py)
# --------------------------------------------------------------------------------------------


@struct.dataclass
class HallOfFame:
    """Best validated networks: ``genes (H, D)``, ``val (H,)``, ``train (H,)`` (+inf = empty)."""

    genes: jax.Array
    val: jax.Array
    train: jax.Array


@struct.dataclass
class LoopState:
    """Carry of one run between generations."""

    algo: Any
    hof: HallOfFame
    val_mask: jax.Array  # (N,)
    ind_masks: jax.Array  # (P, N)
    tolerance: jax.Array  # () effective tolerance (grown at generation 0)
    t: jax.Array  # () next generation index
    since_added: jax.Array  # () generations without a hall-of-fame entry
    done: jax.Array  # () bool
    key: jax.Array  # loop key; generation t uses fold_in(key, t)


def empty_hall_of_fame(capacity: int, n_dims: int) -> HallOfFame:
    """A hall of fame with ``capacity`` empty slots for ``n_dims``-gene genomes."""
    return HallOfFame(
        genes=jnp.zeros((capacity, n_dims), jnp.float32),
        val=jnp.full((capacity,), jnp.inf),
        train=jnp.full((capacity,), jnp.inf),
    )


def hof_insert(
    hof: HallOfFame, genes: jax.Array, val: jax.Array, train: jax.Array, tolerance: jax.Array
) -> tuple[HallOfFame, jax.Array]:
    """One generation of the hall-of-fame rule (spec 6.7).

    Members whose validation fitness beats the best in the hall (strictly) and whose
    ``|val - train| < tolerance`` enter; the hall keeps its ``H`` best by validation fitness.

    Args:
        hof: current hall (``H`` slots).
        genes: ``(P, D)`` genomes of this generation; ``val``, ``train``: ``(P,)`` fitness.
        tolerance: scalar.

    Returns:
        ``(new_hall, added)`` with ``added`` a bool scalar (any member entered).
    """
    best = jnp.min(hof.val)
    cand = (val < best) & (jnp.abs(val - train) < tolerance) & jnp.isfinite(val)
    all_val = jnp.concatenate([hof.val, jnp.where(cand, val, jnp.inf)])
    keep = jnp.argsort(all_val)[: hof.val.shape[0]]
    all_genes = jnp.concatenate([hof.genes, genes.astype(hof.genes.dtype)])
    all_train = jnp.concatenate([hof.train, jnp.where(cand, train, jnp.inf)])
    new = HallOfFame(genes=all_genes[keep], val=all_val[keep], train=all_train[keep])
    return new, jnp.any(cand)


def initial_tolerance(val: jax.Array, train: jax.Array, tolerance: jax.Array) -> jax.Array:
    """Generation-0 tolerance: ``tolerance`` grown in steps of 0.05 until every member
    (``(P,)`` fitness ``val``, ``train``) has ``|val - train| < tolerance``. It is kept for the
    rest of the run."""
    gap = jnp.max(jnp.where(jnp.isfinite(val) & jnp.isfinite(train), jnp.abs(val - train), 0.0))
    steps = jnp.where(gap >= tolerance, jnp.floor((gap - tolerance) / TOLERANCE_STEP) + 1, 0)
    return tolerance + TOLERANCE_STEP * steps


def early_stopping_step(
    since_added: jax.Array, added: jax.Array, margin: int | jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """Update the count of generations without a hall-of-fame entry; ``(count, stop)``.

    ``stop`` is True once ``margin`` generations in a row added nothing (never for None).
    """
    since = jnp.where(added, 0, since_added + 1)
    if margin is None:
        return since, jnp.bool_(False)
    return since, since >= margin


def z_gene_mask(coords: Coords) -> Coords:
    """Pytree like ``coords`` with True at every soma/axon z gene (the reflected genes)."""

    def layer_mask(layer: dict[str, Any]) -> dict[str, np.ndarray]:
        out = {}
        for name, value in layer.items():
            m = np.zeros(np.shape(value), bool)
            if name in ("soma", "axon"):
                m[..., 2] = True
            out[name] = m
        return out

    return tuple(layer_mask(layer) for layer in coords)


def _np_ravel(tree: Any) -> np.ndarray:
    """Host-side ravel in ``ravel_pytree`` order (leaf order of ``tree_leaves``)."""
    return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])


def coords_template(spec: NetworkSpec) -> Coords:
    """A zero coordinate pytree with the structure, shapes and dtypes of ``init_coords``."""
    shapes = jax.eval_shape(lambda k: init_coords(k, spec), jax.random.key(0))
    return jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), shapes)


def initial_population(
    key: jax.Array, spec: NetworkSpec, population_size: int, scheme: str = "uniform"
) -> jax.Array:
    """Initial flat genomes ``(P, D)`` (raveled like ``init_coords``), z genes reflected.

    ``uniform``: every gene U(-1, 1) independently (the distribution of
    ``init_coords(scheme="uniform")``; trained layer deltas start at ``spec.layer_delta``), drawn
    in one call (much faster to compile than P calls of ``init_coords``). ``clones``: one such
    network copied P times (the reference start).
    """
    template = coords_template(spec)
    flat_t = _np_ravel(template)
    n_dims = flat_t.shape[0]
    is_delta = _np_ravel(
        tuple({n: np.full(v.shape, n == "delta") for n, v in layer.items()} for layer in template)
    )
    reflect = _np_ravel(z_gene_mask(template))
    rows = 1 if scheme == "clones" else population_size
    genes = jax.random.uniform(key, (rows, n_dims), flat_t.dtype, minval=-1.0, maxval=1.0)
    genes = jnp.where(is_delta, jnp.asarray(spec.layer_delta, genes.dtype), genes)
    genes = jnp.where(reflect, jnp.abs(genes), genes)
    return jnp.broadcast_to(genes, (population_size, n_dims))


def make_algorithm(spec: NetworkSpec, config: GAConfig) -> tuple[EvolutionaryAlgorithm, Any]:
    """The evosax algorithm of ``config`` for ``spec`` and its params (with ``algorithm_params``).

    ``"debi"`` -> :class:`DebiGA`; ``"SimpleGA"`` gets ``crossover_rate = crossover_prob`` and
    a linear std schedule ``r_max -> r_min``; other names get evosax's defaults.
    """
    template = coords_template(spec)
    algo = config.algorithm
    if algo == "debi":
        algo = DebiGA(
            config.population_size,
            template,
            schedule=config.schedule,
            replacement=config.replacement,
            elitism=config.elitism,
            reflect=z_gene_mask(template),
        )
        params = algo.default_params.replace(
            r_max=config.r_max,
            r_min=config.r_min,
            mutation_prob=config.mutation_prob,
            crossover_prob=config.crossover_prob,
            generations=float(config.generations),
            beat_period=float(config.beat_period),
        )
    elif isinstance(algo, str):
        cls = EVOSAX_ALGORITHMS[algo]
        if algo == "SimpleGA":
            import optax  # noqa: PLC0415

            sched = optax.linear_schedule(config.r_max, config.r_min, config.generations)
            algo = cls(config.population_size, template, std_schedule=sched)
            params = algo.default_params.replace(crossover_rate=config.crossover_prob)
        else:
            algo = cls(config.population_size, template)
            params = algo.default_params
    else:
        if algo.population_size != config.population_size:
            raise ValueError(
                f"GAConfig.algorithm has population_size {algo.population_size}, "
                f"GAConfig.population_size is {config.population_size}"
            )
        params = algo.default_params
    if config.algorithm_params:
        params = params.replace(**dict(config.algorithm_params))
    return algo, params


@dataclasses.dataclass(frozen=True)
class Runner:
    """Pure per-run functions of one (spec, static config); map them over runs to sweep.

    ``start(key, x_t, y, sample_mask, hp) -> LoopState`` (cheap: nothing evaluated yet);
    ``chunk(state, x_t, y, sample_mask, hp) -> (state, history)``: ``config.chunk``
    generations (generation 0 evaluates the initial population), history a dict of
    ``(chunk,)`` arrays ``train_fitness, val_fitness, hof_val, amplitude, ran``;
    ``finalize(state, key, x_t, y, sample_mask) -> (coords, ensemble_coords, final_scores)``.
    ``hp`` is :meth:`GAConfig.numeric` (a dict of scalars). ``x_t`` is ``(F, N)``, ``y`` and
    ``sample_mask`` ``(N,)`` (mask 0 = padding, ignored).
    """

    spec: NetworkSpec
    config: GAConfig
    algo: Any
    params: Any
    start: Callable
    chunk: Callable
    finalize: Callable
    unravel: Callable


def _with_numeric(algo: Any, params: Any, hp: dict[str, jax.Array]) -> Any:
    if isinstance(algo, DebiGA):
        return params.replace(
            r_max=hp["r_max"],
            r_min=hp["r_min"],
            mutation_prob=hp["mutation_prob"],
            crossover_prob=hp["crossover_prob"],
            generations=hp["generations"].astype(jnp.float32),
            beat_period=hp["beat_period"].astype(jnp.float32),
        )
    return params


def _amplitude_of(algo: Any, state: Any) -> jax.Array:
    if isinstance(state, DebiGAState):
        return state.amplitude
    std = getattr(state, "std", None)
    if std is None:
        return jnp.float32(jnp.nan)
    return jnp.mean(jnp.asarray(std, jnp.float32))


def make_runner(spec: NetworkSpec, config: GAConfig, n_classes: int | None = None) -> Runner:
    """Build the pure per-run functions for ``spec`` and ``config`` (see :class:`Runner`).

    Only the static part of ``config`` is used here; numeric settings come in as ``hp``.
    """
    n_classes = n_classes or spec.n_classes
    algo, params0 = make_algorithm(spec, config)
    template = coords_template(spec)
    _, unravel = flatten_util.ravel_pytree(template)
    n_dims = _np_ravel(template).shape[0]
    pop_size = config.population_size
    population_based = isinstance(algo, PopulationBasedAlgorithm)

    def evaluate(pop_flat: jax.Array, x_t, y, val_mask, ind_masks) -> jax.Array:
        """(P, D) genomes -> (P, 2) losses: [training subset, validation subset]."""
        pop = jax.vmap(unravel)(pop_flat)
        masks = jnp.stack([ind_masks, jnp.broadcast_to(val_mask, ind_masks.shape)], axis=1)
        out = population_loss(spec, pop, x_t, y, masks, config.loss, config.batch_size)
        return jnp.where(jnp.isnan(out), jnp.inf, out)

    def start(key, x_t, y, sample_mask, hp):
        k_algo, k_loop = jax.random.split(key)
        params = _with_numeric(algo, params0, hp)
        zeros = jnp.zeros((pop_size, n_dims), jnp.float32)
        # placeholder algorithm state (same structure); generation 0 re-initialises it
        if population_based:
            algo_state = algo.init(k_algo, jax.vmap(unravel)(zeros), zeros[:, 0], params)
        else:
            algo_state = algo.init(k_algo, unravel(zeros[0]), params)
        n = y.shape[0]
        return LoopState(
            algo=algo_state,
            hof=empty_hall_of_fame(pop_size, n_dims),
            val_mask=jnp.zeros((n,), jnp.float32),
            ind_masks=jnp.zeros((pop_size, n), jnp.float32),
            tolerance=jnp.asarray(hp["tolerance"], jnp.float32),
            t=jnp.int32(0),
            since_added=jnp.int32(0),
            done=jnp.bool_(False),
            key=k_loop,
        )

    def generation(state: LoopState, x_t, y, sample_mask, hp):
        params = _with_numeric(algo, params0, hp)
        key = jax.random.fold_in(state.key, state.t)
        k_masks, k_shuffle, k_ask, k_tell = jax.random.split(key, 4)
        first = state.t == 0
        val_mask, ind_masks = jax.lax.cond(
            first | (state.t % hp["resample_every"] == 0),
            lambda: ga_subsets(k_masks, y, n_classes, pop_size, sample_mask),
            lambda: (state.val_mask, state.ind_masks),
        )
        ind_masks = shuffle_individuals(k_shuffle, ind_masks)

        def ask():
            pop, algo_state = algo.ask(k_ask, state.algo, params)
            if population_based and not isinstance(algo, DebiGA):
                pop = reflect_z(pop)
            return jax.vmap(lambda c: flatten_util.ravel_pytree(c)[0])(pop), algo_state

        def initial():
            pop = initial_population(k_ask, spec, pop_size, config.population_init)
            return pop, state.algo

        pop_flat, algo_state = jax.lax.cond(first, initial, ask)
        losses = evaluate(pop_flat, x_t, y, val_mask, ind_masks)
        train, val = losses[:, 0], losses[:, 1]
        amp = jnp.where(first, jnp.nan, _amplitude_of(algo, algo_state))
        pop = jax.vmap(unravel)(pop_flat)

        def tell():
            return algo.tell(k_tell, pop, train, algo_state, params)[0]

        def init_algo():
            if population_based:
                return algo.init(k_tell, pop, train, params)
            best = jnp.argmin(jnp.where(jnp.isfinite(train), train, jnp.inf))
            return algo.init(k_tell, unravel(pop_flat[best]), params)

        algo_state = jax.lax.cond(first, init_algo, tell)
        tol = jnp.where(
            first, initial_tolerance(val, train, hp["tolerance"]), state.tolerance
        ).astype(jnp.float32)
        hof, added = hof_insert(state.hof, pop_flat, val, train, tol)
        since, stop = early_stopping_step(state.since_added, added | first, hp["early_stopping"])
        t_next = state.t + 1
        done = (t_next >= hp["generations"]) | stop
        new = LoopState(
            algo=algo_state,
            hof=hof,
            val_mask=val_mask,
            ind_masks=ind_masks,
            tolerance=tol,
            t=t_next,
            since_added=since,
            done=done,
            key=state.key,
        )
        hist = {
            "train_fitness": jnp.min(train),
            "val_fitness": jnp.min(val),
            "hof_val": jnp.min(hof.val),
            "amplitude": amp.astype(jnp.float32),
        }
        return new, hist

    nan_hist = {
        "train_fitness": jnp.float32(jnp.nan),
        "val_fitness": jnp.float32(jnp.nan),
        "hof_val": jnp.float32(jnp.nan),
        "amplitude": jnp.float32(jnp.nan),
    }

    def chunk(state: LoopState, x_t, y, sample_mask, hp):
        def body(s, _):
            def step(s):
                new, h = generation(s, x_t, y, sample_mask, hp)
                return new, {**h, "ran": jnp.bool_(True)}

            def skip(s):
                return s, {**nan_hist, "ran": jnp.bool_(False)}

            return jax.lax.cond(s.done, skip, step, s)

        return jax.lax.scan(body, state, None, length=config.chunk)

    def finalize(state: LoopState, key, x_t, y, sample_mask):
        hof = state.hof
        keys = jax.random.split(key, config.final_subsets)
        masks = jax.vmap(
            lambda k: stratified_fraction_mask(k, y, n_classes, sample_mask, config.final_fraction)
        )(keys)
        pop = jax.vmap(unravel)(hof.genes)
        scores = population_loss(spec, pop, x_t, y, masks, config.loss, config.batch_size)
        score = jnp.mean(scores, axis=1)
        score = jnp.where(jnp.isfinite(hof.val) & jnp.isfinite(score), score, jnp.inf)
        top = jnp.argsort(score)[: config.ensemble]
        valid = jnp.isfinite(score[top]).at[0].set(True)
        # fall back to the best member wherever fewer than E are valid
        top = jnp.where(valid, top, top[0])
        genes = hof.genes[top]
        if config.ensemble_mode == "genes" or config.ensemble == 1:
            coords = unravel(jnp.mean(genes, axis=0))
            ensemble = None
        else:
            coords = unravel(genes[0])
            ensemble = jax.vmap(unravel)(genes)
        return coords, ensemble, score[top]

    return Runner(
        spec=spec,
        config=config,
        algo=algo,
        params=params0,
        start=start,
        chunk=chunk,
        finalize=finalize,
        unravel=unravel,
    )


def static_config(config: GAConfig) -> GAConfig:
    """``config`` with its numeric fields reset: the part of a config that needs its own compile."""
    d = GAConfig()
    return dataclasses.replace(config, **{n: getattr(d, n) for n in NUMERIC_FIELDS})


@functools.lru_cache(maxsize=32)
def _compiled(spec: NetworkSpec, config: GAConfig, n_classes: int) -> tuple[Runner, Any]:
    runner = make_runner(spec, config, n_classes)
    return runner, (
        jax.jit(runner.start),
        jax.jit(runner.chunk),
        jax.jit(runner.finalize),
    )


def _static_key(config: GAConfig) -> GAConfig:
    # the linear-schedule std of SimpleGA depends on r_max/r_min at construction
    if config.algorithm == "SimpleGA":
        return config
    return static_config(config)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class GAResult:
    """Outcome of :func:`train_ga`.

    Attributes:
        coords: final coordinate pytree (no population axis).
        ensemble: for ``ensemble_mode="predictions"`` and E > 1, the E members' coords with a
            leading axis; else None.
        spec: the network spec.
        config: the GA settings used.
        history: dict of numpy arrays, one entry per generation run: ``train_fitness`` (best
            training-subset fitness), ``val_fitness`` (best validation fitness in the
            population), ``hof_val`` (best validation fitness in the hall of fame),
            ``amplitude`` (mutation amplitude used to make that generation; NaN at 0).
        stopped_at: index of the last generation evaluated (``generations_run - 1``).
        generations_run: generations evaluated, generation 0 (initial population) included.
        early_stopped: whether the early-stopping rule ended the run.
        hall_of_fame: dict of numpy arrays ``val (H,)``, ``train (H,)`` and ``coords``
            (pytree with a leading H axis); empty slots have ``val = inf``.
        final_scores: mean re-scoring loss of the chosen member(s), ``(E,)``.
        seconds: wall time of the run (compilation included).
    """

    coords: Coords
    ensemble: Coords | None
    spec: NetworkSpec
    config: GAConfig
    history: dict[str, np.ndarray]
    stopped_at: int
    generations_run: int
    early_stopped: bool
    hall_of_fame: dict[str, Any]
    final_scores: np.ndarray
    seconds: float

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` for inputs ``X`` ``(n, f)``; averages an ensemble."""
        X = jnp.asarray(X, jnp.float32)
        if self.ensemble is not None:
            ens = jax.tree_util.tree_map(jnp.asarray, self.ensemble)
            probs = jax.vmap(lambda c: apply(self.spec, c, X))(ens)
            return np.asarray(jnp.mean(probs, axis=0))
        return np.asarray(apply(self.spec, jax.tree_util.tree_map(jnp.asarray, self.coords), X))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class indices ``(n,)`` (argmax, ties to the lower index)."""
        return np.argmax(self.predict_proba(X), axis=1)


def _check_data(spec: NetworkSpec, X: Any, y: Any) -> tuple[jax.Array, jax.Array]:
    X = np.asarray(X, np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != spec.n_inputs:
        raise ValueError(f"X must have shape (n, {spec.n_inputs}) for this network, got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= spec.n_classes:
        raise ValueError(f"y must hold integer class indices in [0, {spec.n_classes})")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (no NaN or inf)")
    subset_sizes(y, spec.n_classes)
    return jnp.asarray(X.T), jnp.asarray(y, jnp.int32)


def _progress_line(gen: int, hist: dict[str, np.ndarray], rate: float) -> str:
    return (
        f"gen {gen:6d}  train {np.nanmin(hist['train_fitness']):.4f}  "
        f"val {np.nanmin(hist['val_fitness']):.4f}  hof {np.nanmin(hist['hof_val']):.4f}  "
        f"{rate:8.1f} gen/s"
    )


def train_ga(
    spec: NetworkSpec,
    X: Any,
    y: Any,
    key: jax.Array,
    config: GAConfig = GAConfig(),
    *,
    progress: bool = False,
) -> GAResult:
    """Train a DEBI-NN with a genetic algorithm (spec section 6).

    Args:
        spec: the network.
        X: ``(n, f)`` float features, standardised by the caller on the training split.
        y: ``(n,)`` integer class indices.
        key: a ``jax.random`` key; the same key gives a bit-identical result on the same
            backend, jax version and ``batch_size``.
        config: GA settings.
        progress: print one line per chunk (generation, best training / validation fitness,
            generations per second).

    Returns:
        A :class:`GAResult`.
    """
    start = time.perf_counter()
    x_t, y_j = _check_data(spec, X, y)
    sample_mask = jnp.ones(y_j.shape, jnp.float32)
    runner, (start_fn, chunk_fn, final_fn) = _compiled(spec, _static_key(config), spec.n_classes)
    hp = config.numeric()
    k_run, k_final = jax.random.split(key)
    state = start_fn(k_run, x_t, y_j, sample_mask, hp)
    hists = []
    done_gens = 0
    while not bool(state.done):
        t0 = time.perf_counter()
        state, h = chunk_fn(state, x_t, y_j, sample_mask, hp)
        h = jax.device_get(h)
        hists.append(h)
        n_new = int(np.sum(h["ran"]))
        done_gens += n_new
        if progress:
            rate = n_new / max(time.perf_counter() - t0, 1e-9)
            print(_progress_line(done_gens - 1, h, rate), flush=True)
    coords, ensemble, scores = final_fn(state, k_final, x_t, y_j, sample_mask)
    history = {k: np.concatenate([h[k] for h in hists]) for k in hists[0]}
    ran = history.pop("ran")
    history = {k: v[ran] for k, v in history.items()}
    n_run = int(ran.sum())
    hof = jax.device_get(state.hof)
    return GAResult(
        coords=jax.device_get(coords),
        ensemble=None if ensemble is None else jax.device_get(ensemble),
        spec=spec,
        config=config,
        history=history,
        stopped_at=n_run - 1,
        generations_run=n_run,
        early_stopped=n_run < config.generations,
        hall_of_fame={
            "val": np.asarray(hof.val),
            "train": np.asarray(hof.train),
            "coords": jax.device_get(jax.vmap(runner.unravel)(jnp.asarray(hof.genes))),
        },
        final_scores=np.asarray(scores),
        seconds=time.perf_counter() - start,
    )
