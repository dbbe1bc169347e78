"""Genetic-algorithm training of DEBI-NN (DEBINN-SPEC sections 4, 6, 9; DEBINN-2025 section 4).

* :mod:`~debinn_jax.ga.operators`: operators on flat genomes and :class:`DebiGA`, the authors'
  GA as an evosax 0.3 ``PopulationBasedAlgorithm`` (2022 half tournaments or 2025 two
  tournaments of TC, linear/beat/beat_2025 amplitude schedules).
* :mod:`~debinn_jax.ga.config`: :class:`GAConfig` (every setting; ``GAConfig.reference_2025()``
  the authors' 2025 program; ``"auto"`` values resolved from the network).
* :mod:`~debinn_jax.ga.fitness`: the fitness evaluators, the 2022 resampled subsets and the
  2025 fixed leave-out splits.
* :mod:`~debinn_jax.ga.hall_of_fame`: the hall of fame, its tolerance rules and early stopping.
* :mod:`~debinn_jax.ga.loop`: the DEBI training loop around any evosax algorithm as pure
  per-run functions (:func:`make_runner`): initial population, evaluation, hall of fame, final
  selection. ``sweep.py`` maps them over runs.
* :mod:`~debinn_jax.ga.train`: :func:`train_ga`, one run driven chunk by chunk.
"""

from debinn_jax.data.splits import stratified_fraction_mask
from debinn_jax.ga.config import (
    AUTO,
    FINAL_SELECTIONS,
    FLAG_FIELDS,
    FLOAT_FIELDS,
    HOF_RULES,
    INT_FIELDS,
    NEVER,
    NUMERIC_FIELDS,
    SUBSET_RULES,
    GAConfig,
    static_config,
)
from debinn_jax.ga.hall_of_fame import (
    HallOfFame,
    early_stopping_step,
    empty_hall_of_fame,
    hof_candidates,
    hof_insert,
    initial_tolerance,
    tolerance_update_2025,
)
from debinn_jax.ga.loop import (
    LoopState,
    Runner,
    coords_template,
    initial_population,
    make_algorithm,
    make_runner,
    z_gene_mask,
)
from debinn_jax.ga.operators import (
    REPLACEMENTS,
    SCHEDULES,
    DebiGA,
    DebiGAParams,
    DebiGAState,
    half_tournament,
    half_tournament_ranked,
    mutate,
    mutation_amplitude,
    tournament_outcomes,
    two_tournaments,
    uniform_crossover,
)
from debinn_jax.ga.train import GAResult, run_settings, split_counts, train_ga

__all__ = [
    "AUTO",
    "FINAL_SELECTIONS",
    "FLAG_FIELDS",
    "FLOAT_FIELDS",
    "HOF_RULES",
    "INT_FIELDS",
    "NEVER",
    "NUMERIC_FIELDS",
    "REPLACEMENTS",
    "SCHEDULES",
    "SUBSET_RULES",
    "DebiGA",
    "DebiGAParams",
    "DebiGAState",
    "GAConfig",
    "GAResult",
    "HallOfFame",
    "LoopState",
    "Runner",
    "coords_template",
    "early_stopping_step",
    "empty_hall_of_fame",
    "half_tournament",
    "half_tournament_ranked",
    "hof_candidates",
    "hof_insert",
    "initial_population",
    "initial_tolerance",
    "make_algorithm",
    "make_runner",
    "mutate",
    "mutation_amplitude",
    "run_settings",
    "split_counts",
    "static_config",
    "stratified_fraction_mask",
    "tolerance_update_2025",
    "tournament_outcomes",
    "train_ga",
    "two_tournaments",
    "uniform_crossover",
    "z_gene_mask",
]
