"""The DEBI training loop around any evosax algorithm: one run as pure functions.

Per run: the initial population and the evosax algorithm (:func:`initial_population`,
:func:`make_algorithm`), then one population forward per generation scoring training and
validation fitness together (:mod:`~debinn_jax.ga.fitness`: data subsets or fixed leave-out
splits), the hall of fame with its tolerance rule and early stopping
(:mod:`~debinn_jax.ga.hall_of_fame`), and the final selection. :func:`make_runner` returns the
pure per-run pieces (:class:`Runner`); :func:`~debinn_jax.ga.train_ga` drives one run,
``sweep.run_many`` maps them over many. Rules of both generations of the authors' program are
switches of :class:`~debinn_jax.ga.GAConfig` (``subsets``, ``hof_rule``, ``final_selection``,
...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from evosax.algorithms import algorithms as EVOSAX_ALGORITHMS
from evosax.algorithms.base import EvolutionaryAlgorithm
from evosax.algorithms.population_based.base import PopulationBasedAlgorithm
from flax import struct
from jax import flatten_util

from debinn_jax.data.splits import stratified_fraction_mask
from debinn_jax.ga.config import GAConfig
from debinn_jax.ga.fitness import (
    _population_scores,
    leave_out_fitness,
    resampled_subsets,
    split_mean,
)
from debinn_jax.ga.hall_of_fame import (
    HallOfFame,
    empty_hall_of_fame,
    hof_candidates,
    hof_insert,
    initial_tolerance,
    tolerance_update_2025,
)
from debinn_jax.ga.operators import (
    DebiGA,
    DebiGAState,
    Draws,
    _np_ravel,
    fitness_order,
    smallest_gap,
)
from debinn_jax.loss import LossFn
from debinn_jax.network import Coords, NetworkSpec, init_coords, reflect_z

# --------------------------------------------------------------------------------------------
# Starting a run: the genome layout, the initial population, the algorithm
# --------------------------------------------------------------------------------------------


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


def coords_template(spec: NetworkSpec) -> Coords:
    """A zero coordinate pytree with the structure, shapes and dtypes of ``init_coords``."""
    shapes = jax.eval_shape(lambda k: init_coords(k, spec), jax.random.key(0))
    return jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), shapes)


def initial_population(
    key: jax.Array, spec: NetworkSpec, population_size: int, scheme: str = "uniform"
) -> jax.Array:
    """Initial flat genomes ``(P, D)`` (raveled like ``init_coords``), z genes reflected (2022).

    ``uniform``: every gene U(-1, 1) independently (the distribution of
    ``init_coords(scheme="uniform")``; trained layer deltas start at ``spec.layer_delta``), drawn
    in one call (much faster to compile than P calls of ``init_coords``). ``clones``: one such
    network copied P times (the 2022 reference start). ``singularity``: P copies of the
    all-zero network with scales 1 (the 2025 start).
    """
    template = coords_template(spec)
    flat_t = _np_ravel(template)
    n_dims = flat_t.shape[0]
    if scheme == "singularity":
        one = _np_ravel(
            tuple(
                {n: np.full(v.shape, 1.0 if n == "scale" else 0.0) for n, v in layer.items()}
                for layer in template
            )
        )
        return jnp.broadcast_to(jnp.asarray(one, flat_t.dtype), (population_size, n_dims))
    is_delta = _np_ravel(
        tuple({n: np.full(v.shape, n == "delta") for n, v in layer.items()} for layer in template)
    )
    reflect = _np_ravel(z_gene_mask(template))
    rows = 1 if scheme == "clones" else population_size
    genes = jax.random.uniform(key, (rows, n_dims), flat_t.dtype, minval=-1.0, maxval=1.0)
    genes = jnp.where(is_delta, jnp.asarray(spec.layer_delta, genes.dtype), genes)
    if spec.reflects_z:
        genes = jnp.where(reflect, jnp.abs(genes), genes)
    return jnp.broadcast_to(genes, (population_size, n_dims))


def make_algorithm(spec: NetworkSpec, config: GAConfig) -> tuple[EvolutionaryAlgorithm, Any]:
    """The evosax algorithm of ``config`` for ``spec`` and its params (with ``algorithm_params``).

    ``config`` must be resolved (:meth:`GAConfig.resolve`).

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
            reflect=z_gene_mask(template) if spec.reflects_z else None,
            tournament_size=config.tournament_size,
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


# --------------------------------------------------------------------------------------------
# The per-run functions (one run; mapped over runs by sweep.py)
# --------------------------------------------------------------------------------------------


#: The 2025 history's near-tie gaps (see ``make_runner``'s ``near_ties``).
GAP_NAMES = ("gap_rank", "gap_alpha", "gap_tol")


@struct.dataclass
class LoopState:
    """Carry of one run between generations."""

    algo: Any
    hof: HallOfFame
    data: Any  # the fitness evaluator's masks: (val (N,), individual (P, N)) or splits
    tolerance: jax.Array  # () effective tolerance (set at generation 0)
    t: jax.Array  # () next generation index
    since_added: jax.Array  # () generations without a hall-of-fame entry (2022 rules)
    last_entry: jax.Array  # () the authors' iteration of the last entry (2025 rules; 0 first)
    done: jax.Array  # () bool
    key: jax.Array  # loop key; generation t uses fold_in(key, t)


@dataclasses.dataclass(frozen=True)
class Runner:
    """Pure per-run functions of one (spec, static config); map them over runs to sweep.

    ``start(key, x, y, sample_mask, hp) -> LoopState`` (cheap: nothing evaluated yet);
    ``chunk(state, x, y, sample_mask, hp, draws=None) -> (state, history)``:
    ``config.chunk`` generations (generation 0 evaluates the initial population), history a
    dict of ``(chunk, ...)`` arrays ``train_fitness, val_fitness, hof_val, tolerance,
    amplitude, hof_entries, ran`` (2025 rules: also the near-tie gaps ``gap_rank, gap_alpha,
    gap_tol``; with ``config.trace`` also ``population_train, population_val, parent_ranks,
    best_genome``); ``draws``: with ``config.replay`` the authors' random numbers of the
    chunk's generations (:meth:`debinn_jax.ga.replay.ReplayStreams.draws`, shared by every
    run), else None;
    ``finalize(state, key, x, y, sample_mask, hp) -> (coords, ensemble_coords,
    final_scores, final)`` with ``final`` a dict: ``candidate`` ``(E,)`` the chosen
    candidates' positions in the candidate list, ``candidate_scores`` ``(C,)`` every
    candidate's score (+inf = not a candidate or skipped), ``candidate_ids`` ``(C,)``
    (2025 rules: the individuals' numbers, -1 for none). ``hp`` is :meth:`GAConfig.numeric`
    (a dict of scalars; with ``subsets="leave_out"`` also ``split_counts``, or with
    ``splits="authors"`` ``splits`` and ``final_splits``). ``x`` is ``(N, F)`` (samples first,
    as everywhere in the public API; transposed once per call to the fast internal layout),
    ``y`` and ``sample_mask`` ``(N,)`` (mask 0 = padding, ignored).
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
    """The algorithm's params with every field that is also a per-run setting taken from ``hp``
    (in the default float type): a numeric setting is a ``GAConfig`` field listed in
    ``FLOAT_FIELDS`` or ``INT_FIELDS``, plus a ``DebiGAParams`` field of the same name if the
    algorithm reads it."""
    if not isinstance(algo, DebiGA):
        return params
    dtype = jnp.zeros(()).dtype
    names = [f.name for f in dataclasses.fields(params) if f.name in hp]
    return params.replace(**{n: jnp.asarray(hp[n]).astype(dtype) for n in names})


def _amplitude_of(algo: Any, state: Any) -> jax.Array:
    if isinstance(state, DebiGAState):
        return state.amplitude
    std = getattr(state, "std", None)
    if std is None:
        return jnp.float32(jnp.nan)
    return jnp.mean(jnp.asarray(std, jnp.float32))


def make_runner(
    spec: NetworkSpec,
    config: GAConfig,
    n_classes: int | None = None,
    fitness: LossFn | None = None,
) -> Runner:
    """Build the pure per-run functions for ``spec`` and ``config`` (see :class:`Runner`).

    Only the static part of ``config`` is used here; numeric settings come in as ``hp``.
    ``config`` is resolved for ``spec`` first (``"auto"`` fields). ``fitness``: a
    :data:`~debinn_jax.loss.LossFn` to minimise instead of the DEBI loss (the subsets, hall of
    fame, early stopping and final selection stay; swept ``l1``/``l2`` are then unused).

    The 2025 rules (``hof_rule="2025"``, DEBINN-2025 section 7) number generations as the
    authors' iterations plus one: generation 0 scores the initial population, generation
    ``t >= 1`` is iteration ``t - 1``; a run stops before iteration ``i`` when ``i`` reaches
    ``generations`` (T) or ``i - last entry > early_stopping``; so a run that never stops early
    evaluates T + 1 generations.
    """
    config = config.resolve(spec)
    n_classes = n_classes or spec.n_classes
    algo, params0 = make_algorithm(spec, config)
    template = coords_template(spec)
    _, unravel = flatten_util.ravel_pytree(template)
    n_dims = _np_ravel(template).shape[0]
    pop_size = config.population_size
    population_based = isinstance(algo, PopulationBasedAlgorithm)
    rules_2025 = config.hof_rule == "2025"
    replay = config.replay
    trace = config.trace
    if replay and not (isinstance(algo, DebiGA) and algo.tournament_size is not None):
        raise ValueError("make_runner: replay needs the 2025 DebiGA (tournament_size set)")
    if config.subsets == "leave_out":
        evaluator, final_splits = leave_out_fitness(spec, config, unravel, n_classes, fitness)
    else:
        evaluator = resampled_subsets(spec, config, unravel, n_classes, fitness)
        final_splits = None
    dtype = jnp.zeros(()).dtype

    def start(key, x, y, sample_mask, hp):
        del x  # the signature of every Runner function; nothing is evaluated yet
        k_algo, k_loop = jax.random.split(key)
        params = _with_numeric(algo, params0, hp)
        zeros = jnp.zeros((pop_size, n_dims), dtype)
        # placeholder algorithm state (same structure); generation 0 re-initialises it
        if population_based:
            algo_state = algo.init(k_algo, jax.vmap(unravel)(zeros), zeros[:, 0], params)
        else:
            algo_state = algo.init(k_algo, unravel(zeros[0]), params)
        n = y.shape[0]
        data = evaluator.init_data(n, hp) if final_splits else evaluator.init_data(n)
        return LoopState(
            algo=algo_state,
            hof=empty_hall_of_fame(pop_size, n_dims),
            data=data,
            tolerance=jnp.asarray(hp["tolerance"], dtype),
            t=jnp.int32(0),
            since_added=jnp.int32(0),
            last_entry=jnp.int32(0),
            done=jnp.bool_(False),
            key=k_loop,
        )

    def first_hall(state: LoopState, pop_flat, val, train, hp):
        """Generation 0: the initial tolerance and hall of fame."""
        if rules_2025:
            gaps = jnp.where(jnp.isfinite(val) & jnp.isfinite(train), jnp.abs(val - train), jnp.inf)
            tol = jnp.min(gaps).astype(dtype)
            only_first = jnp.arange(pop_size) == 0
            hof, _ = hof_insert(
                state.hof,
                pop_flat,
                val,
                train,
                jnp.inf,
                ids=jnp.arange(pop_size, dtype=jnp.int32),
                entered=only_first,
            )
            return hof, tol
        tol = initial_tolerance(val, train, hp["tolerance"]).astype(dtype)
        hof, _ = hof_insert(state.hof, pop_flat, val, train, tol)
        return hof, tol

    def next_hall(state: LoopState, pop_flat, val, train, ids):
        """Generations >= 1: entries and the tolerance update (2025)."""
        tol = state.tolerance
        entered = hof_candidates(state.hof, val, train, tol)
        hof, added = hof_insert(state.hof, pop_flat, val, train, tol, ids=ids, entered=entered)
        if rules_2025:
            tol = tolerance_update_2025(tol, val, train, entered)
        return hof, tol, added, entered

    def near_ties(state: LoopState, val, train):
        """How close this generation's decisions came to flipping (2025 rules, generation >= 1):
        the smallest gap between two training fitnesses of the population the parents were
        ranked in, the smallest |val - alpha0| of an offspring, and the smallest
        ||val - train| - tol| of an offspring that beat alpha0."""
        alpha0 = jnp.min(state.hof.val)
        gap_rank = smallest_gap(state.algo.fitness, state.algo.population)
        gap_alpha = jnp.min(jnp.where(jnp.isfinite(val), jnp.abs(val - alpha0), jnp.inf))
        beat = (val < alpha0) & jnp.isfinite(val)
        gap_tol = jnp.min(jnp.where(beat, jnp.abs(jnp.abs(val - train) - state.tolerance), jnp.inf))
        return gap_rank, gap_alpha, gap_tol

    def generation(state: LoopState, x_t, y, sample_mask, hp, draws: Draws | None):
        params = _with_numeric(algo, params0, hp)
        key = jax.random.fold_in(state.key, state.t)
        k_masks, k_shuffle, k_ask, k_tell = jax.random.split(key, 4)
        first = state.t == 0
        data = evaluator.masks((k_masks, k_shuffle), first, state.t, state.data, y, sample_mask, hp)

        def ask():
            if draws is not None:
                pop, algo_state = algo.ask_with(draws, state.algo, params)
            else:
                pop, algo_state = algo.ask(k_ask, state.algo, params)
            if population_based and not isinstance(algo, DebiGA) and spec.reflects_z:
                pop = reflect_z(pop)
            return jax.vmap(lambda c: flatten_util.ravel_pytree(c)[0])(pop), algo_state

        def initial():
            pop = initial_population(k_ask, spec, pop_size, config.population_init)
            return pop.astype(dtype), state.algo

        pop_flat, algo_state = jax.lax.cond(first, initial, ask)
        train, val = evaluator.score(pop_flat, data, x_t, y, hp)
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
        ids = pop_size * state.t + jnp.arange(pop_size, dtype=jnp.int32)
        hof0, tol0 = first_hall(state, pop_flat, val, train, hp)
        hof1, tol1, added, entered = next_hall(state, pop_flat, val, train, ids)
        hof = jax.tree_util.tree_map(lambda a, b: jnp.where(first, a, b), hof0, hof1)
        tol = jnp.where(first, tol0, tol1).astype(dtype)
        t_next = state.t + 1
        if rules_2025:
            # the authors' iteration that would come next is i = t; it does not run when
            # i reaches T or i - (iteration of the last entry) > margin
            last = jnp.where(~first & added, state.t - 1, state.last_entry)
            since = state.since_added
            stop = state.t - last > hp["early_stopping"]
            done = (state.t >= hp["generations"]) | stop
        else:
            last = state.last_entry
            since = jnp.where(first, 0, jnp.where(added, 0, state.since_added + 1))
            stop = since >= hp["early_stopping"]
            done = (t_next >= hp["generations"]) | stop
        new = LoopState(
            algo=algo_state,
            hof=hof,
            data=data,
            tolerance=tol,
            t=t_next,
            since_added=since,
            last_entry=last,
            done=done,
            key=state.key,
        )
        hist = {
            "train_fitness": jnp.min(train).astype(dtype),
            "val_fitness": jnp.min(val).astype(dtype),
            "hof_val": jnp.min(hof.val).astype(dtype),
            "tolerance": tol.astype(dtype),
            "amplitude": amp.astype(dtype),
            "hof_entries": jnp.where(
                first, jnp.sum(jnp.isfinite(hof0.val)), jnp.sum(entered)
            ).astype(jnp.int32),
        }
        if rules_2025:
            gaps = near_ties(state, val, train)
            for name, gap in zip(GAP_NAMES, gaps, strict=True):
                hist[name] = jnp.where(first, jnp.inf, gap).astype(dtype)
        if trace:
            hist["population_train"] = train.astype(dtype)
            hist["population_val"] = val.astype(dtype)
            hist["best_genome"] = pop_flat[fitness_order(train)[0]].astype(dtype)
            ranks = draws.ranks if draws is not None else jnp.full((pop_size, 2), -1, jnp.int32)
            hist["parent_ranks"] = jnp.where(first, -1, ranks).astype(jnp.int32)
            hist["entered"] = jnp.where(first, jnp.arange(pop_size) == 0, entered)
        return new, hist

    def skipped_history() -> dict[str, Any]:
        """The history entry of a generation that did not run (NaN, 0, -1)."""
        nan = jnp.asarray(jnp.nan, dtype)
        out = {name: nan for name in ("train_fitness", "val_fitness", "hof_val")}
        out.update(tolerance=nan, amplitude=nan, hof_entries=jnp.int32(0))
        if rules_2025:
            out.update({name: jnp.asarray(jnp.nan, dtype) for name in GAP_NAMES})
        if trace:
            out["population_train"] = jnp.full((pop_size,), jnp.nan, dtype)
            out["population_val"] = jnp.full((pop_size,), jnp.nan, dtype)
            out["best_genome"] = jnp.full((n_dims,), jnp.nan, dtype)
            out["parent_ranks"] = jnp.full((pop_size, 2), -1, jnp.int32)
            out["entered"] = jnp.zeros((pop_size,), bool)
        return out

    def chunk(state: LoopState, x, y, sample_mask, hp, draws=None):
        x_t = x.T  # samples last inside: the fast layout of the population's forward passes
        if replay and draws is None:
            raise ValueError("chunk: a replay needs the authors' draws of the chunk")

        def body(s, d):
            gen_draws = None if d is None else Draws(**d)

            def step(s):
                new, h = generation(s, x_t, y, sample_mask, hp, gen_draws)
                return new, {**h, "ran": jnp.bool_(True)}

            def skip(s):
                return s, {**skipped_history(), "ran": jnp.bool_(False)}

            return jax.lax.cond(s.done, skip, step, s)

        xs = None
        if replay:
            xs = {k: draws[k] for k in ("ranks", "take_first", "delta", "amplitude")}
        return jax.lax.scan(body, state, xs, length=config.chunk)

    def candidates(state: LoopState) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Final candidates ``(C, D)``, whether each is a real one ``(C,)`` and their ids.

        ``all_in`` (2025, rule 7.9): the best max(1, P // 10) of the last population (stable
        order by training fitness), then the hall of fame in its order; a hall member that
        is the same individual as one of the first is skipped."""
        hof = state.hof
        hof_real = jnp.isfinite(hof.val)
        if config.final_selection == "hof_subsamples":
            return hof.genes, hof_real, hof.ids
        k = max(1, pop_size // 10)
        if population_based:
            fit = state.algo.fitness
            best = fitness_order(fit)[:k]
            last = state.algo.population[best].astype(hof.genes.dtype)
            last_ok = jnp.ones((k,), bool) if rules_2025 else jnp.isfinite(fit[best])
            last_ids = pop_size * (state.t - 1) + best.astype(jnp.int32)
        else:  # distribution-based algorithms keep no population: the hall alone
            last = hof.genes[:k]
            last_ok = jnp.zeros((k,), bool)
            last_ids = jnp.full((k,), -1, jnp.int32)
        same = jnp.any((hof.ids[:, None] == last_ids[None, :]) & (hof.ids[:, None] >= 0), axis=1)
        genes = jnp.concatenate([last, hof.genes])
        real = jnp.concatenate([last_ok, hof_real & ~same])
        return genes, real, jnp.concatenate([last_ids, hof.ids])

    def final_scores(genes, key, x_t, y, sample_mask, hp):
        """Mean fitness of each candidate on fresh subsamples (2022) or splits (2025)."""
        if config.final_selection == "hof_subsamples":
            keys = jax.random.split(key, config.final_subsets)
            masks = jax.vmap(
                lambda k: stratified_fraction_mask(
                    k, y, n_classes, sample_mask, config.final_fraction
                )
            )(keys)
            scores = _population_scores(spec, config, unravel, genes, x_t, y, masks, hp, fitness)
            return jnp.mean(scores, axis=1)
        _, val_masks = final_splits(key, y, sample_mask, hp)
        scores = _population_scores(spec, config, unravel, genes, x_t, y, val_masks, hp, fitness)
        return split_mean(scores)

    def finalize(state: LoopState, key, x, y, sample_mask, hp):
        x_t = x.T
        genes, real, ids = candidates(state)
        score = final_scores(genes, key, x_t, y, sample_mask, hp)
        score = jnp.where(real & jnp.isfinite(score), score, jnp.inf)
        top = jnp.argsort(score, stable=True)[: config.ensemble]  # first minimum first
        valid = jnp.isfinite(score[top]).at[0].set(True)
        # fall back to the best member wherever fewer than E are valid
        top = jnp.where(valid, top, top[0])
        chosen = genes[top]
        if config.ensemble_mode == "genes" or config.ensemble == 1:
            coords = unravel(jnp.mean(chosen, axis=0))
            ensemble = None
        else:
            coords = unravel(chosen[0])
            ensemble = jax.vmap(unravel)(chosen)
        final = {
            "candidate": top.astype(jnp.int32),
            "candidate_scores": score,
            "candidate_ids": ids,
        }
        return coords, ensemble, score[top], final

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
