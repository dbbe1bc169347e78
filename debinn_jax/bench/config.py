"""The benchmark's settings (:class:`BenchConfig`) and their default and quick sizes."""

from __future__ import annotations

import dataclasses
from typing import Any

DEFAULT_POPULATIONS = (16, 64, 256, 1024)
DEFAULT_RUNS = (1, 8, 32)
QUICK_POPULATIONS = (8, 16)
QUICK_RUNS = (1, 2)


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """Settings of :func:`run_benchmark`.

    Attributes:
        workloads: names from ``WORKLOAD_SHAPES``.
        populations: population sizes P.
        runs: sweep sizes R.
        data_dir: where the real data live (None = :func:`default_data_dir`).
        repeats: timed calls per JAX measurement (best is reported).
        numpy_repeats: timed passes of the NumPy loop (best of).
        generations: GA generations per timed call (ms/generation); scaled down by 256 / P
            above P = 256 (at least 2).
        sweep_generations: generations of every run in the sweep.
        sweep_population: P of the sweep runs.
        sweep_workloads: workloads the sweep runs on.
        batch_candidates: CPU ``lax.map`` batch sizes tried at the tuning population.
        batch_size: force the evaluator batch size (0 = tune / plan).
        peak_n: matrix size of the peak-GFLOP/s matmul.
        memory_population: P of the isolated memory probe on CTG (0 = skip).
        reference: also time generations at the authors' population sizes.
        variant_population: P of the 2022-vs-2025 forward comparison (0 = skip).
        variant_workloads: workloads of that comparison.
        numpy_max_population: run the NumPy loop only up to this P (0 = always).
        startup: measure start-up (:func:`bench_startup`).
        startup_repeats: fresh processes per start-up measurement (median reported).
        startup_generations: generations of the start-up GA run.
        startup_population: population of the start-up GA run.
        only_startup: measure start-up only (skip everything else).
        quick: record that this is a smoke run.
    """

    workloads: tuple[str, ...] = ("dlbcl", "hecktor-lite", "ctg")
    populations: tuple[int, ...] = DEFAULT_POPULATIONS
    runs: tuple[int, ...] = DEFAULT_RUNS
    data_dir: str | None = None
    repeats: int = 5
    numpy_repeats: int = 3
    generations: int = 20
    sweep_generations: int = 100
    sweep_population: int = 64
    sweep_workloads: tuple[str, ...] = ("dlbcl",)
    batch_candidates: tuple[int, ...] = (1, 2, 4, 8)
    batch_size: int = 0
    peak_n: int = 2048
    memory_population: int = 4096
    reference: bool = True
    variant_population: int = 64
    variant_workloads: tuple[str, ...] = ("dlbcl", "hecktor-lite")
    numpy_max_population: int = 0
    startup: bool = True
    startup_repeats: int = 3
    startup_generations: int = 200
    startup_population: int = 64
    only_startup: bool = False
    quick: bool = False

    @classmethod
    def quick_config(cls, **overrides: Any) -> BenchConfig:
        """Tiny sizes for a smoke test (seconds, not minutes)."""
        base = dict(
            populations=QUICK_POPULATIONS,
            runs=QUICK_RUNS,
            repeats=2,
            numpy_repeats=1,
            generations=3,
            sweep_generations=5,
            sweep_population=8,
            sweep_workloads=("dlbcl",),
            batch_candidates=(1, 4),
            peak_n=512,
            memory_population=0,
            reference=False,
            variant_population=8,
            variant_workloads=("dlbcl",),
            startup_repeats=1,
            startup_generations=5,
            startup_population=8,
            quick=True,
        )
        base.update(overrides)
        return cls(**base)
