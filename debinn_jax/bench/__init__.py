"""Performance benchmark of debinn-jax: workloads, a NumPy baseline, timing and memory helpers.

What is measured (``run_benchmark``; the ``debinn bench`` command and ``experiments/bench.py``
are thin wrappers), per workload (DLBCL 17-85-64-2, HECKTOR-LITE 36-180-2, CTG 21-100-3; the
real training data when found, else synthetic data of the same shape and class counts):

* **population evaluation**: individual evaluations per second (forward pass + DEBI loss of every
  individual on all samples) for each population size P, with the library's evaluator
  (:func:`debinn_jax.loss.population_loss`) and with
  :func:`~debinn_jax.bench.reference.numpy_population_loss`, a plain NumPy loop over individuals
  (same math, one BLAS thread, best of ``numpy_repeats``). Their ratio is the headline. Compile
  time is reported separately from run time.
* **GA generation**: milliseconds per generation of the real training loop
  (:func:`debinn_jax.ga.make_runner`: subsets, ``ask``, evaluation of the training and validation
  subsets, hall of fame, ``tell``) for each P, and at the population sizes of the published
  timings of the authors' binary (their seconds per generation are constants below).
* **forward pass throughput**: achieved GFLOP/s of the population forward pass (scores only)
  at the largest P, against a *measured* peak: the best float32 GFLOP/s of a large square
  ``jax`` matmul in this process (pinned to one core if the process is pinned).
* **sweep**: R independent GA runs of G generations in one call of
  :func:`debinn_jax.sweep.run_many` vs R sequential :func:`debinn_jax.ga.train_ga` calls.
* **memory**: XLA's temporary buffer size of each compiled evaluator, the process peak RSS, and
  a P = 4096 evaluation on CTG in a fresh subprocess (its own peak RSS).
* **start-up** (:func:`~debinn_jax.bench.startup.bench_startup`): fresh Python processes, median of
  ``startup_repeats``, wall time from start to exit: ``import debinn_jax``; the import of the
  trainers (``from debinn_jax import train_ga``: jax, evosax); a DLBCL GA run
  (``startup_generations`` generations, population ``startup_population``, 17-85-64-2) with an
  empty persistent compilation cache (cold) and again with the cache the cold run left (warm).

Timings are best-of-k wall times (``time.perf_counter``) after a warm-up call, with
``block_until_ready``. Everything is written into one JSON document (atomic write).

Layout: :mod:`~debinn_jax.bench.workloads` (the networks, their data, random populations),
:mod:`~debinn_jax.bench.reference` (the NumPy baseline and its check against ``apply``),
:mod:`~debinn_jax.bench.evaluators` (the timed JAX evaluators, FLOP count, batch planner),
:mod:`~debinn_jax.bench.timing` (timers, peak RSS, matmul peak, machine description),
:mod:`~debinn_jax.bench.config` (:class:`BenchConfig`), :mod:`~debinn_jax.bench.throughput`
(the in-process measurements), :mod:`~debinn_jax.bench.startup` (fresh-process start-up),
:mod:`~debinn_jax.bench.memory` (the isolated memory probe) and :mod:`~debinn_jax.bench.run`
(:func:`run_benchmark`). :func:`run_benchmark` and :class:`BenchConfig` are importable from here;
every other name from its module. The core library never imports the benchmark.
"""

from __future__ import annotations

from debinn_jax.bench.config import BenchConfig
from debinn_jax.bench.run import run_benchmark

__all__ = ["BenchConfig", "run_benchmark"]
