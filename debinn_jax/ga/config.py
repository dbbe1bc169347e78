"""GAConfig: every setting of :func:`~debinn_jax.ga.train_ga`, the 2025 preset and AUTO rules."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax.numpy as jnp
import numpy as np
from evosax.algorithms import algorithms as EVOSAX_ALGORITHMS
from evosax.algorithms.base import EvolutionaryAlgorithm

from debinn_jax.ga.operators import REPLACEMENTS, SCHEDULES
from debinn_jax.loss import LossConfig
from debinn_jax.network import NetworkSpec, param_count

ENSEMBLE_MODES = ("genes", "predictions")
POPULATION_INITS = ("uniform", "clones", "singularity")
SUBSET_RULES = ("resampled", "leave_out")
HOF_RULES = ("2022", "2025")
FINAL_SELECTIONS = ("hof_subsamples", "all_in")
SPLIT_RULES = ("random", "authors")
AUTO = "auto"
#: Network switches a sweep may turn off per run (``debinn_jax.network.Flags``), as 0/1.
FLAG_FIELDS = ("standardize_weights", "normalization", "spatial_dropout")

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

#: GAConfig fields that are numeric and may vary per run without recompiling (see sweep.py).
FLOAT_FIELDS = ("r_max", "r_min", "mutation_prob", "crossover_prob", "tolerance", "l1", "l2")
INT_FIELDS = ("generations", "beat_period", "resample_every", "early_stopping")
NUMERIC_FIELDS = FLOAT_FIELDS + INT_FIELDS
NEVER = 2**30  # early_stopping=None as a number


@dataclasses.dataclass(frozen=True)
class GAConfig:
    """Settings of :func:`train_ga` (frozen, hashable; change with ``dataclasses.replace``).

    Defaults = spec section 6 (reference 2023): P 50, T 1000, linear r 1.0 -> 0.5, q 0.5,
    uniform crossover 1/2, ``single`` replacement, F 10, margin 300, tolerance 0.05, C 10,
    E 1; with the ``NetworkSpec`` defaults (``reference`` head; shift-scale genes, on by
    default since the validation below). Measured on validation splits (inner 70/30 splits
    of each seed's training set, P 50, T 1000, balanced accuracy mean +- sd over seeds;
    ``experiments/ga_study.py validate``; two-moons on 2-16-2, DLBCL 17-85-64-2, HECKTOR-LITE
    36-180-2, CTG 21-85-64-3):

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
    GA defaults stay the spec's (section 6); the per-task configs in
    ``debinn_jax/study/configs`` hold the validated choices.

    Defaults against the 2025 program (``experiments/defaults_validation.py``, 2026-12-02;
    inner 70/30 validation splits, 3 seeds, one hidden layer of 16, balanced accuracy):

    ======================  =============  =============  =============  =============
    network + GA            two-moons      DLBCL          HECKTOR-LITE   CTG
    ======================  =============  =============  =============  =============
    2022 + ``GAConfig()``   0.846 (.025)   0.619 (.097)   0.587 (.042)   0.789 (.011)
    same + shift-scale      0.973 (.033)   0.619 (.207)   0.609 (.042)   0.782 (.022)
    2025 S1 + reference     0.868 (.010)   0.638 (.137)   0.671 (.099)   0.662 (.069)
    2025 S5 (group norm.)   0.857 (.032)   0.633 (.087)   0.589 (.086)   0.673 (.011)
    ======================  =============  =============  =============  =============

    (2025: ``NetworkSpec.reference_2025`` + :meth:`reference_2025`; S2/S6 with shift-scale
    were not better.) Shift-scale genes had the best mean rank over the four tasks, so
    ``NetworkSpec`` turns them on by default; the 2025 program stays a preset. For
    two-moons-like low-dimensional data use ``NetworkSpec(head="softmax", shift_scale=True)``
    with ``GAConfig(r_max=0.3, r_min=0.05, mutation_prob=0.1)``.

    The authors' 2025 program (DEBINN-2025 section 4) is the preset
    :meth:`GAConfig.reference_2025`; each of its rules is also a field of its own
    (``population_init="singularity"``, ``subsets="leave_out"``, ``tournament_size``,
    ``schedule="beat_2025"``, ``hof_rule="2025"``, ``final_selection="all_in"``, ``"auto"``
    values). ``"auto"`` fields are resolved from the network by :meth:`resolve`.

    Attributes:
        population_size: P (>= 2), or ``"auto"``: floor(2 sqrt(G)), G the genome length.
        generations: T, the generation budget (generation 0 evaluates the initial population).
        r_max, r_min: mutation amplitude at the start and end of the schedule.
        schedule: ``"linear"`` (r_max -> r_min over T), ``"beat"`` (over ``beat_period``
            generations, repeated) or ``"beat_2025"`` (r_max (1 - j/B) + r_min j/B, j = t mod B).
        beat_period: B for the beat schedules, or ``"auto"``: floor(2 ln P).
        mutation_prob: q, per-gene mutation probability in [0, 1].
        crossover_prob: probability that a gene comes from parent 2 (uniform crossover).
        replacement: ``"single"`` (offspring replace parents) or ``"plus"`` (best P of both).
        elitism: k best parents copied unchanged into the next generation.
        resample_every: F, generations between re-draws of the data subsets.
        early_stopping: stop after this many generations without a hall-of-fame entry
            (``None`` = never; ``"auto"``: P).
        tolerance: largest |validation - training| fitness gap for a hall-of-fame entry.
        final_subsets: C, fresh stratified subsamples for the final re-scoring.
        final_fraction: share of the training split in each final subsample.
        ensemble: E, number of hall-of-fame members combined into the final model.
        ensemble_mode: ``"genes"`` (average the genes of the E best) or ``"predictions"``
            (average their predicted probabilities).
        population_init: ``"uniform"`` (independent U(-1, 1) individuals), ``"clones"``
            (P copies of one such network, the 2022 reference start) or ``"singularity"`` (P
            copies of the all-zero network, scales 1: the 2025 start).
        tournament_size: None (2022: two half-population tournaments) or TC for two disjoint
            tournaments of TC members (2025); ``"auto"``: floor(P/3), cut to floor(P/2).
        subsets: ``"resampled"`` (2022: a validation subset and per-individual training
            subsets re-drawn every ``resample_every`` generations) or ``"leave_out"`` (2025:
            fixed balanced leave-out splits for every ratio of ``leave_out``; fitness = mean
            over the splits).
        leave_out: ``(low, high, step)`` of the leave-out ratios (accumulated in float64).
        splits: how the leave-out splits are made: ``"authors"`` (the 2025 program's
            deterministic splits, :func:`~debinn_jax.data.splits.authors_splits`: the same
            for every run on a training set, from its row keys; the final re-scoring uses
            seed base ``generations + 1``) or ``"random"`` (drawn from each run's key, for
            studies of split variance).
        cpp_rules: ``"msvc"`` (the authors' published Windows runs) or ``"libstdc++"`` (their
            Linux binary): the C++ library whose integer draws and shuffles the authors'
            splits, and with ``replay`` the random streams, follow.
        replay: take every random number from the authors' ``std::mt19937`` streams
            (:mod:`debinn_jax.ga.replay`) instead of the run's key: the run then repeats the
            authors' program exactly (DEBINN-2025 section 7). Needs the 2025 rules,
            ``splits="authors"``, crossover 0.5 and float64 (``jax_enable_x64``); the key is
            not used by the GA.
        trace: record per generation, in the history, every individual's training and
            validation fitness (``population_train``, ``population_val``), the parents'
            ranks (``parent_ranks``), who entered the hall of fame (``entered``) and the best
            genome by training fitness
            (``best_genome``, flat, in ``ravel_pytree`` order): memory grows with the run.
        splits_per_ratio: splits per leave-out ratio, or ``"auto"``: floor(H1 / 10) (H1 the
            first hidden layer's size; at least 1).
        hof_rule: ``"2022"`` (initial tolerance grown in steps of 0.05 until the whole initial
            population qualifies, then fixed) or ``"2025"`` (initial tolerance = the smallest
            |val - train| gap, only individual 0 enters; after a generation with entries
            ``tol <- (tol + |mean val - mean train of the entries|) / 2``).
        final_selection: ``"hof_subsamples"`` (2022: re-score the hall of fame on C fresh
            subsamples) or ``"all_in"`` (2025: the hall of fame plus the best max(1, P // 10)
            of the last population, scored on fresh leave-out splits).
        algorithm: ``"debi"`` (:class:`DebiGA`), an evosax algorithm name (``"SimpleGA"``,
            ``"CMA_ES"``, ``"Open_ES"``, ``"SNES"``, ``"DifferentialEvolution"``, ...) or a
            ready evosax algorithm instance built on a template of this network's coordinates.
        algorithm_params: ``(name, value)`` pairs replacing fields of the algorithm's
            ``default_params`` (e.g. ``(("std_init", 0.3),)`` for an ES).
        loss: the DEBI loss settings (fitness); its ``l1``/``l2`` are numeric settings too.
        batch_size: individuals evaluated together (``lax.map`` chunks), ``None`` = the
            whole population in one ``vmap``, or ``"auto"``: :data:`CPU_BATCH_SIZE` on a CPU,
            ``None`` on an accelerator (the backend of ``jax.default_backend()``).
        chunk: generations per compiled chunk (progress / early stopping granularity).
    """

    population_size: int | str = 50
    generations: int = 1000
    r_max: float = 1.0
    r_min: float = 0.5
    schedule: str = "linear"
    beat_period: int | str = 8
    mutation_prob: float = 0.5
    crossover_prob: float = 0.5
    replacement: str = "single"
    elitism: int = 0
    resample_every: int = 10
    early_stopping: int | str | None = 300
    tolerance: float = 0.05
    final_subsets: int = 10
    final_fraction: float = 0.7
    ensemble: int = 1
    ensemble_mode: str = "genes"
    population_init: str = "uniform"
    tournament_size: int | str | None = None
    subsets: str = "resampled"
    leave_out: tuple[float, float, float] = (0.2, 0.5, 0.05)
    splits_per_ratio: int | str = AUTO
    splits: str = "random"
    cpp_rules: str = "msvc"
    replay: bool = False
    trace: bool = False
    hof_rule: str = "2022"
    final_selection: str = "hof_subsamples"
    algorithm: Any = "debi"
    algorithm_params: tuple = ()
    loss: LossConfig = LossConfig()
    batch_size: int | str | None = AUTO
    chunk: int = 100

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"GAConfig.{name} must be {expected}, got {getattr(self, name)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, int | np.integer) and not isinstance(v, bool)

        def is_auto(v: Any) -> bool:
            return isinstance(v, str) and v == AUTO

        p_auto = is_auto(self.population_size)
        if not p_auto and (not is_int(self.population_size) or self.population_size < 2):
            raise bad("population_size", "an integer >= 2 or 'auto'")
        p_max = math.inf if p_auto else self.population_size
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
        if not is_auto(self.beat_period) and (not is_int(self.beat_period) or self.beat_period < 1):
            raise bad("beat_period", "an integer >= 1 or 'auto'")
        if self.replacement not in REPLACEMENTS:
            raise bad("replacement", f"one of {REPLACEMENTS}")
        if not is_int(self.elitism) or not 0 <= self.elitism < p_max:
            raise bad("elitism", "an integer in [0, population_size)")
        if not is_int(self.resample_every) or self.resample_every < 1:
            raise bad("resample_every", "an integer >= 1")
        if not (self.early_stopping is None or is_auto(self.early_stopping)) and (
            not is_int(self.early_stopping) or self.early_stopping < 1
        ):
            raise bad("early_stopping", "None, 'auto' or an integer >= 1")
        if not (isinstance(self.tolerance, int | float) and self.tolerance >= 0):
            raise bad("tolerance", "a number >= 0")
        if not is_int(self.final_subsets) or self.final_subsets < 1:
            raise bad("final_subsets", "an integer >= 1")
        if not (isinstance(self.final_fraction, int | float) and 0 < self.final_fraction <= 1):
            raise bad("final_fraction", "a number in (0, 1]")
        if not is_int(self.ensemble) or not 1 <= self.ensemble <= p_max:
            raise bad("ensemble", "an integer in [1, population_size]")
        if self.ensemble_mode not in ENSEMBLE_MODES:
            raise bad("ensemble_mode", f"one of {ENSEMBLE_MODES}")
        if self.population_init not in POPULATION_INITS:
            raise bad("population_init", f"one of {POPULATION_INITS}")
        ts = self.tournament_size
        if not (ts is None or is_auto(ts)) and (not is_int(ts) or not 1 <= ts <= p_max // 2):
            raise bad("tournament_size", "None, 'auto' or an integer in [1, population_size // 2]")
        for name, allowed in (
            ("subsets", SUBSET_RULES),
            ("hof_rule", HOF_RULES),
            ("final_selection", FINAL_SELECTIONS),
            ("splits", SPLIT_RULES),
            ("cpp_rules", ("msvc", "libstdc++")),
        ):
            if getattr(self, name) not in allowed:
                raise bad(name, f"one of {allowed}")
        lo = self.leave_out
        if not (
            isinstance(lo, tuple)
            and len(lo) == 3
            and all(isinstance(v, int | float) for v in lo)
            and 0 < lo[0] <= lo[1] < 1
            and lo[2] > 0
        ):
            raise bad("leave_out", "a tuple (low, high, step) with 0 < low <= high < 1, step > 0")
        spr = self.splits_per_ratio
        if not is_auto(spr) and (not is_int(spr) or spr < 1):
            raise bad("splits_per_ratio", "an integer >= 1 or 'auto'")
        if isinstance(self.algorithm, str):
            if self.algorithm != "debi" and self.algorithm not in EVOSAX_ALGORITHMS:
                raise bad("algorithm", "'debi', an evosax algorithm name or instance")
        elif not isinstance(self.algorithm, EvolutionaryAlgorithm):
            raise bad("algorithm", "'debi', an evosax algorithm name or instance")
        if not isinstance(self.loss, LossConfig):
            raise bad("loss", "a LossConfig")
        bs = self.batch_size
        if not (bs is None or is_auto(bs)) and (not is_int(bs) or bs < 1):
            raise bad("batch_size", "None, 'auto' or an integer >= 1")
        if not is_int(self.chunk) or self.chunk < 1:
            raise bad("chunk", "an integer >= 1")
        if not isinstance(self.algorithm_params, tuple):
            raise bad("algorithm_params", "a tuple of (name, value) pairs")
        for name in ("replay", "trace"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise bad(name, "True or False")
        if self.replay:
            self._check_replay()

    def _check_replay(self) -> None:
        """``replay=True`` needs every 2025 rule the authors' streams drive."""
        needed = {
            "algorithm": "debi",
            "population_init": "singularity",
            "subsets": "leave_out",
            "splits": "authors",
            "hof_rule": "2025",
            "final_selection": "all_in",
            "schedule": "beat_2025",
            "replacement": "single",
            "elitism": 0,
        }
        for name, value in needed.items():
            have = getattr(self, name)
            if not (isinstance(have, type(value)) and have == value):
                raise ValueError(
                    f"GAConfig.replay=True needs {name}={value!r} (the authors' 2025 rules), "
                    f"got {have!r}; start from GAConfig.reference_2025(replay=True)"
                )
        if self.tournament_size is None:
            raise ValueError(
                "GAConfig.replay=True needs tournament_size ('auto' or TC: the 2025 "
                "tournaments), got None"
            )
        if self.crossover_prob != 0.5:
            raise ValueError(
                f"GAConfig.replay=True needs crossover_prob=0.5 (the authors' crossover), got "
                f"{self.crossover_prob!r}"
            )

    @classmethod
    def reference_2025(cls, l1: float = 0.0, l2: float = 0.0, **overrides: Any) -> GAConfig:
        """The authors' 2025 GA (DEBINN-2025 section 4), with the grid's L1/L2 lambdas.

        P, TC, B, the early-stopping margin and the split count are ``"auto"`` (resolved from
        the network by :meth:`resolve`); 1000 iterations; beat amplitude 2 -> 0.5; every gene
        mutated; uniform crossover; no elitism; Singularity start; fixed leave-out splits
        0.2..0.5 step 0.05; the 2025 hall-of-fame rule; "AllIn" final selection; the 2025
        fitness (``LossConfig.reference_2025``); the authors' deterministic splits
        (``splits="authors"``, ``cpp_rules="msvc"``). ``replay=True`` repeats the authors'
        program exactly (float64). ``overrides`` replace any field.
        """
        base = dict(
            population_size=AUTO,
            generations=1000,
            r_max=2.0,
            r_min=0.5,
            schedule="beat_2025",
            beat_period=AUTO,
            mutation_prob=1.0,
            crossover_prob=0.5,
            replacement="single",
            elitism=0,
            early_stopping=AUTO,
            ensemble=1,
            population_init="singularity",
            tournament_size=AUTO,
            subsets="leave_out",
            leave_out=(0.2, 0.5, 0.05),
            splits_per_ratio=AUTO,
            hof_rule="2025",
            final_selection="all_in",
            splits="authors",
            loss=LossConfig.reference_2025(l1=l1, l2=l2),
        )
        base.update(overrides)
        return cls(**base)

    @property
    def is_resolved(self) -> bool:
        """True when no field is ``"auto"``."""
        return AUTO not in (
            self.population_size,
            self.beat_period,
            self.early_stopping,
            self.tournament_size,
            self.splits_per_ratio,
            self.batch_size,
        )

    def resolve(self, spec: NetworkSpec) -> GAConfig:
        """This config with every ``"auto"`` field resolved for ``spec`` (DEBINN-2025 section 4).

        P = floor(2 sqrt(G)) (G = genome length, shift-scale genes included); TC = floor(P/3)
        (floor(P/2) if 2 TC > P); B = floor(2 ln P); margin = P; splits per ratio =
        floor(H1 / 10) (at least 1). DLBCL 17-85-64-2: P 61, TC 20, B 8, 8 splits per ratio.
        """
        if self.is_resolved:
            return self
        p = self.population_size
        if p == AUTO:
            p = max(int(math.floor(2.0 * math.sqrt(param_count(spec)))), 2)
        ts = self.tournament_size
        if ts == AUTO:
            ts = p // 3
            if 2 * ts > p:
                ts = p // 2
            ts = max(ts, 1)
        beat = self.beat_period
        if beat == AUTO:
            beat = max(int(math.floor(2.0 * math.log(p))), 1)
        margin = p if self.early_stopping == AUTO else self.early_stopping
        spr = self.splits_per_ratio
        if spr == AUTO:
            first = spec.hidden[0] if spec.hidden else spec.n_classes
            spr = max(first // 10, 1)
        batch = auto_batch_size() if self.batch_size == AUTO else self.batch_size
        return dataclasses.replace(
            self,
            population_size=p,
            tournament_size=ts,
            beat_period=beat,
            early_stopping=margin,
            splits_per_ratio=spr,
            batch_size=batch,
        )

    def numeric(self) -> dict[str, Any]:
        """The per-run numeric settings (``NUMERIC_FIELDS``) as scalars: floats for
        ``FLOAT_FIELDS``, int32 for ``INT_FIELDS`` (``early_stopping=None`` -> ``NEVER``), and
        the network switches ``FLAG_FIELDS`` (1 = as the spec says). Floats are in the
        default float type (float64 under ``jax_enable_x64``, so that 0.01 stays 0.01).
        ``l1``/``l2`` come from ``loss``. They are traced, not static: changing them does not
        recompile, and sweeps vmap them. ``beat_period`` and ``early_stopping`` must not be
        ``"auto"``."""
        if AUTO in (self.beat_period, self.early_stopping):
            raise ValueError(
                "GAConfig.numeric: beat_period/early_stopping are 'auto'; resolve them first "
                "(config.resolve(spec))"
            )
        values = {**{n: getattr(self, n, None) for n in NUMERIC_FIELDS}}
        values["l1"], values["l2"] = self.loss.l1, self.loss.l2
        dtype = jnp.zeros(()).dtype  # float64 under jax_enable_x64: lambdas stay exact
        out: dict[str, Any] = {name: jnp.asarray(values[name], dtype) for name in FLOAT_FIELDS}
        for name in INT_FIELDS:
            value = values[name]
            out[name] = jnp.int32(NEVER if value is None else value)
        for name in FLAG_FIELDS:
            out[name] = jnp.float32(1.0)
        return out


#: Individuals evaluated together on a CPU (``GAConfig.batch_size="auto"``), measured on the
#: DLBCL and HECKTOR-LITE networks (see ``experiments/bench_batch.py``).
CPU_BATCH_SIZE = 4


def auto_batch_size(backend: str | None = None) -> int | None:
    """``GAConfig.batch_size="auto"`` on ``backend`` (default: JAX's default backend):
    :data:`CPU_BATCH_SIZE` on a CPU (``lax.map`` in chunks), None on an accelerator (the
    whole population in one ``vmap``)."""
    import jax

    backend = backend or jax.default_backend()
    return CPU_BATCH_SIZE if backend == "cpu" else None


def static_config(config: GAConfig) -> GAConfig:
    """``config`` with its numeric fields reset: the part of a config that needs its own compile.

    The loss's L1/L2 lambdas are numeric too and are reset with them.
    """
    d = GAConfig()
    fields = {n: getattr(d, n) for n in NUMERIC_FIELDS if n not in ("l1", "l2")}
    loss = dataclasses.replace(config.loss, l1=0.0, l2=0.0)
    return dataclasses.replace(config, loss=loss, **fields)
