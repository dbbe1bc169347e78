"""Performance benchmark of debinn-jax: workloads, a NumPy baseline, timing and memory helpers.

What is measured (``run_benchmark``; the ``debinn bench`` command and ``experiments/bench.py``
are thin wrappers), per workload (DLBCL 17-85-64-2, HECKTOR-LITE 36-180-2, CTG 21-100-3; the
real training data when found, else synthetic data of the same shape and class counts):

* **population evaluation**: individual evaluations per second (forward pass + DEBI loss of every
  individual on all samples) for each population size P, with the library's evaluator
  (:func:`debinn_jax.loss.population_loss`) and with :func:`numpy_population_loss`, a plain NumPy
  loop over individuals (same math, one BLAS thread, best of ``numpy_repeats``). Their ratio is
  the headline. Compile time is reported separately from run time.
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
* **start-up** (:func:`bench_startup`): fresh Python processes, median of
  ``startup_repeats``, wall time from start to exit: ``import debinn_jax``; the import of the
  trainers (``from debinn_jax import train_ga``: jax, evosax); a DLBCL GA run
  (``startup_generations`` generations, population ``startup_population``, 17-85-64-2) with an
  empty persistent compilation cache (cold) and again with the cache the cold run left (warm).

Timings are best-of-k wall times (``time.perf_counter``) after a warm-up call, with
``block_until_ready``. Everything is written into one JSON document (atomic write).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax.io import to_jsonable
from debinn_jax.loss import LOG_P_FLOOR, LossConfig, population_loss
from debinn_jax.network import (
    EPS,
    LRELU_SLOPE,
    OUTPUT_ZLEN_PAD,
    Coords,
    NetworkSpec,
    init_coords,
    scores_t,
)

logger = logging.getLogger(__name__)

#: Published/measured seconds per generation of the authors' binary on this kind of machine:
#: workload -> (population size, seconds per generation).
REFERENCE_BINARY: dict[str, tuple[int, float]] = {
    "dlbcl": (61, 2.3),
    "hecktor-lite": (70, 10.0),
}

#: Workload shapes: name -> (n_inputs, hidden, n_classes, class counts of the training data).
WORKLOAD_SHAPES: dict[str, tuple[int, tuple[int, ...], int, tuple[int, ...]]] = {
    "dlbcl": (17, (85, 64), 2, (25, 16)),
    "hecktor-lite": (36, (180,), 2, (59, 99)),
    "ctg": (21, (100,), 3, (1655, 295, 176)),
}

DEFAULT_POPULATIONS = (16, 64, 256, 1024)
DEFAULT_RUNS = (1, 8, 32)
QUICK_POPULATIONS = (8, 16)
QUICK_RUNS = (1, 2)
#: Working-set budget of one population evaluation on CPU hosts (bytes).
CPU_MEMORY_BUDGET = 1 << 30
BYTES_F32 = 4

# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Workload:
    """One benchmark problem: a network and its training data.

    Attributes:
        name: ``"dlbcl"``, ``"hecktor-lite"`` or ``"ctg"``.
        spec: the network (NetworkSpec defaults: Gaussian-const kernel, leaky ReLU,
            reference head, weight standardisation).
        X: ``(N, F)`` float32 features (standardised).
        y: ``(N,)`` int32 class indices.
        source: the data file/folder, or ``"synthetic"``.
    """

    name: str
    spec: NetworkSpec
    X: np.ndarray
    y: np.ndarray
    source: str

    @property
    def shape_name(self) -> str:
        """Layer sizes such as ``"17-85-64-2"``."""
        return "-".join(str(n) for n in self.spec.layer_sizes)


def default_data_dir() -> Path:
    """The library's lookup (:func:`debinn_jax.data.locate.find_data_dir`):
    ``$DEBINN_DATA_DIR``, else ``../shared/data``."""
    from debinn_jax.data.locate import find_data_dir

    found = find_data_dir()
    return found if found is not None else Path("..") / "shared" / "data"


def synthetic_data(
    n_inputs: int, class_counts: Sequence[int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal features with class-shifted means; ``(X (N, F) float32, y (N,) int32)``."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(c, k, np.int32) for k, c in enumerate(class_counts)])
    rng.shuffle(y)
    centres = rng.normal(0.0, 1.0, (len(class_counts), n_inputs))
    X = rng.normal(0.0, 1.0, (y.shape[0], n_inputs)) + centres[y]
    X = (X - X.mean(0)) / X.std(0)
    return X.astype(np.float32), y


def load_workload(name: str, data_dir: Path | None = None) -> Workload:
    """The workload ``name`` on its real training data, or synthetic data when absent.

    DLBCL and HECKTOR-LITE: the ``Fold-1`` training split (already z-scored by the authors).
    CTG: all 2126 cases of ``fetal_health.csv``, z-scored.
    """
    if name not in WORKLOAD_SHAPES:
        raise ValueError(f"unknown workload {name!r}; expected one of {sorted(WORKLOAD_SHAPES)}")
    n_in, hidden, n_classes, counts = WORKLOAD_SHAPES[name]
    spec = NetworkSpec(n_in, hidden, n_classes)
    root = default_data_dir() if data_dir is None else Path(data_dir)
    path = root / ("ctg/fetal_health.csv" if name == "ctg" else f"{name}/Fold-1")
    if path.exists():
        from debinn_jax.data import Standardizer, load_fold, load_table

        if name == "ctg":
            data = load_table(path)
            X = Standardizer().fit_transform(data.X)
        else:
            data = load_fold(path).train
            X = data.X
        X, y = np.asarray(X, np.float32), np.asarray(data.y, np.int32)
        if X.shape[1] != n_in or int(y.max()) + 1 != n_classes:
            raise ValueError(f"{path}: expected {n_in} features and {n_classes} classes")
        return Workload(name, spec, X, y, str(path))
    X, y = synthetic_data(n_in, counts)
    return Workload(name, spec, X, y, "synthetic")


def random_population(key: jax.Array, spec: NetworkSpec, population: int) -> Coords:
    """``population`` independent U(-1, 1) networks (leading axis P on every leaf)."""
    return jax.vmap(lambda k: init_coords(k, spec))(jax.random.split(key, population))


def individuals(population: Coords) -> list[Coords]:
    """Split a population pytree into a list of per-individual NumPy pytrees."""
    host = jax.tree_util.tree_map(np.asarray, population)
    n = jax.tree_util.tree_leaves(host)[0].shape[0]
    return [jax.tree_util.tree_map(lambda a, i=i: a[i], host) for i in range(n)]


# --------------------------------------------------------------------------------------------
# The NumPy baseline (same math as network.py / loss.py; samples as rows, the natural layout)
# --------------------------------------------------------------------------------------------


def _np_kernel(name: str, d2: np.ndarray) -> np.ndarray:
    if name == "gaussian_const":
        return np.exp(-d2 / 9.0)
    if name == "gaussian":
        v = d2.mean(axis=0, keepdims=True) / 3.0
        return np.exp(-d2 / (2.0 * v + EPS))
    if name == "inverse":
        return 3.0 / np.sqrt(d2 + EPS)
    if name == "inverse_squared":
        return 9.0 / (d2 + EPS)
    raise ValueError(f"unknown kernel {name!r}")


def _np_std(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    mean = x.mean(axis=axis, keepdims=True)
    return np.sqrt(np.square(x - mean).mean(axis=axis, keepdims=keepdims) + EPS * EPS)


def _np_activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "lrelu":
        return np.where(z >= 0, z, LRELU_SLOPE * z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    raise ValueError(f"unknown activation {name!r}")


def numpy_weights(spec: NetworkSpec, coords: Coords) -> list[np.ndarray]:
    """Weight matrices ``(n_{l-1}, n_l)`` of one network, in NumPy (spec sections 2 and 3.1)."""
    L = spec.n_layers
    axon = np.array(coords[0]["axon"], copy=True)
    axon[:, 2] = np.abs(axon[:, 2])
    zs, ze = 0.0, float(axon[:, 2].max())
    weights = []
    for l in range(1, L + 1):
        layer = coords[l]
        delta = float(layer["delta"]) if spec.train_deltas else spec.layer_delta
        soma = np.array(layer["soma"], copy=True)
        s_z = np.abs(soma[:, 2])
        a_z = np.abs(layer["axon"][:, 2]) if l < L else None
        zlen = s_z + a_z if l < L else s_z + OUTPUT_ZLEN_PAD
        zs, ze = ze + delta * (ze - zs), ze + delta * (ze - zs) + float(zlen.max())
        soma[:, 2] = zs + s_z
        diff = axon[:, None, :] - soma[None, :, :]
        w = _np_kernel(spec.kernel, np.square(diff).sum(axis=-1))
        if spec.standardize_weights:
            w = (w - w.mean()) / (_np_std(w) + EPS)
        weights.append(w)
        if l < L:
            axon = np.array(layer["axon"], copy=True)
            axon[:, 2] = soma[:, 2] + a_z
    return weights


def numpy_scores(spec: NetworkSpec, coords: Coords, X: np.ndarray) -> np.ndarray:
    """Head scores ``(N, K)`` of one network (probabilities = softmax over axis 1)."""
    weights = numpy_weights(spec, coords)
    groups = spec.group_counts()
    h = np.asarray(X, weights[0].dtype)
    L = spec.n_layers
    for l in range(1, L + 1):
        w = weights[l - 1]
        u = h
        if spec.normalization == "input":
            u = (u - u.mean(axis=1, keepdims=True)) / (_np_std(u, axis=1, keepdims=True) + EPS)
        z = u @ w
        if spec.shift_scale:
            n, g = w.shape[1], groups[l - 1]
            idx = np.minimum(np.arange(n) // (n // g), g - 1)
            z = coords[l]["scale"][idx] * z + coords[l]["shift"][idx] * w.sum(axis=0)
        h = _np_activation(spec.activation, z) if l < L else z
    if spec.head == "reference":
        return h / (np.abs(h).sum(axis=1, keepdims=True) + EPS)
    return h / spec.temperature


def _np_log_softmax(s: np.ndarray) -> np.ndarray:
    e = s - s.max(axis=1, keepdims=True)
    return e - np.log(np.exp(e).sum(axis=1, keepdims=True))


def numpy_proba(spec: NetworkSpec, coords: Coords, X: np.ndarray) -> np.ndarray:
    """Class probabilities ``(N, K)`` of one network (same as :func:`debinn_jax.apply`)."""
    return np.exp(_np_log_softmax(numpy_scores(spec, coords, X)))


def numpy_loss(
    spec: NetworkSpec,
    coords: Coords,
    X: np.ndarray,
    y: np.ndarray,
    config: LossConfig = LossConfig(),  # noqa: B008 (frozen)
) -> float:
    """The DEBI loss of one network on all samples (spec section 4), in NumPy."""
    logp = np.maximum(_np_log_softmax(numpy_scores(spec, coords, X)), LOG_P_FLOOR)
    k = spec.n_classes
    onehot = np.eye(k, dtype=logp.dtype)[y]
    t = config.alpha * onehot + (1.0 - config.alpha) * (1.0 - onehot)
    terms = -t * logp
    if config.class_weights:
        beta = k * (1.0 - onehot.sum(axis=0) / y.shape[0])
        per_sample = terms @ beta
    else:
        per_sample = terms.sum(axis=1)
    loss = float(per_sample.mean())
    if config.l1 or config.l2:
        flat = np.concatenate([w.ravel() for w in numpy_weights(spec, coords)])
        loss += config.l1 * float(np.abs(flat).mean()) + config.l2 * float(np.square(flat).mean())
    return loss


def numpy_population_loss(
    spec: NetworkSpec,
    population: Sequence[Coords],
    X: np.ndarray,
    y: np.ndarray,
    config: LossConfig = LossConfig(),  # noqa: B008 (frozen)
) -> np.ndarray:
    """``(P,)`` losses: a plain Python loop of :func:`numpy_loss` over individuals."""
    return np.array([numpy_loss(spec, c, X, y, config) for c in population], np.float32)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit NumPy's BLAS to one thread inside the block (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# --------------------------------------------------------------------------------------------
# The JAX evaluators and their working set
# --------------------------------------------------------------------------------------------


def working_set_bytes(spec: NetworkSpec, n_samples: int, batch: int) -> int:
    """Estimated bytes live while ``batch`` individuals are evaluated together.

    Per individual: the widest layer's pre-activation and activation ``(n_l, N)`` (two float32
    buffers), the ``(K, N)`` head/loss temporaries (four buffers) and its weight matrices.
    """
    widest = max(spec.layer_sizes[1:])
    sizes = spec.layer_sizes
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    per_ind = n_samples * (2 * widest + 4 * spec.n_classes) + 2 * n_weights
    return BYTES_F32 * batch * per_ind


def plan_batch_size(
    spec: NetworkSpec,
    n_samples: int,
    population: int,
    budget_bytes: int = CPU_MEMORY_BUDGET,
    preferred: int | None = None,
) -> int | None:
    """Individuals to evaluate together so the working set stays within ``budget_bytes``.

    Args:
        preferred: the batch size to use when it fits (e.g. a CPU-tuned 1 or 4); ``None``
            prefers the whole population at once (``vmap``, best on accelerators).

    Returns:
        ``None`` (one ``vmap`` over the whole population) when that is wanted and fits, else the
        largest batch ``<= preferred`` (or ``< population``) whose working set fits (at least 1).
    """
    want = population if preferred is None else min(preferred, population)
    if working_set_bytes(spec, n_samples, want) <= budget_bytes:
        return None if want >= population else want
    per_one = working_set_bytes(spec, n_samples, 1)
    largest = max(1, min(want, budget_bytes // per_one))
    chunks = -(-want // largest)  # equal chunks: 16384 in 2 x 8192, not 15447 + 937
    return -(-want // chunks)


def make_evaluator(
    spec: NetworkSpec,
    x_t: jax.Array,
    y: jax.Array,
    batch_size: int | None,
    config: LossConfig = LossConfig(),  # noqa: B008 (frozen)
) -> Callable[[Coords], jax.Array]:
    """``population -> (P,)`` DEBI losses on all samples via the library's population_loss."""
    masks = jnp.ones((1, y.shape[0]), jnp.float32)

    def evaluate(population: Coords) -> jax.Array:
        return population_loss(spec, population, x_t, y, masks, config, batch_size)[:, 0]

    return evaluate


def make_forward(
    spec: NetworkSpec, x_t: jax.Array, batch_size: int | None
) -> Callable[[Coords], jax.Array]:
    """``population -> (P, K)`` summed head scores: the forward pass alone (for GFLOP/s)."""

    def one(coords: Coords) -> jax.Array:
        return jnp.sum(scores_t(spec, coords, x_t), axis=1)

    def forward(population: Coords) -> jax.Array:
        if batch_size is None:
            return jax.vmap(one)(population)
        return jax.lax.map(one, population, batch_size=batch_size)

    return forward


def forward_flops(spec: NetworkSpec, n_samples: int) -> int:
    """A simple FLOP count of one individual's forward pass on ``n_samples`` samples.

    ``2 N sum_l n_{l-1} n_l`` (matmuls) + ``N sum_hidden n_l`` (activations) + ``12`` per weight
    (squared distance 8, kernel 1, standardisation 3); softmax/head terms are ignored.
    """
    sizes = spec.layer_sizes
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 2 * n_samples * n_weights + n_samples * sum(spec.hidden) + 12 * n_weights


# --------------------------------------------------------------------------------------------
# Timing and memory helpers
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Timing:
    """Compile time and best/median run time (seconds) of a compiled function."""

    compile_s: float
    best_s: float
    median_s: float
    repeats: int
    temp_bytes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _temp_bytes(compiled: Any) -> int | None:
    try:
        analysis = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    return None if analysis is None else int(analysis.temp_size_in_bytes)


def time_jax(fn: Callable, args: Sequence[Any], repeats: int) -> Timing:
    """Compile ``jax.jit(fn)`` for ``args`` (timed), warm up once, then time ``repeats`` calls."""
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(compiled(*args))
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - t0)
    return Timing(compile_s, min(times), float(np.median(times)), len(times), _temp_bytes(compiled))


def time_host(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Best and median seconds of ``repeats`` calls of ``fn()``."""
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MiB; Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measured_peak_gflops(n: int = 2048, repeats: int = 5) -> dict[str, float]:
    """Measured float32 peak: best GFLOP/s of an ``n x n`` jax matmul in this process."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    timing = time_jax(lambda m: m @ m, (a,), repeats)
    return {"matmul_n": n, "gflops": 2.0 * n**3 / timing.best_s / 1e9, "best_s": timing.best_s}


def machine_info() -> dict[str, Any]:
    """Host, CPU, affinity, load, versions and devices (recorded with every result)."""
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "affinity": affinity,
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "dtype": "float32",
    }


def _on_cpu() -> bool:
    return jax.default_backend() == "cpu"


def _device_memory_budget() -> int:
    """Evaluation working-set budget: 1 GiB on CPU, a quarter of device memory elsewhere."""
    if _on_cpu():
        return CPU_MEMORY_BUDGET
    stats = jax.devices()[0].memory_stats() or {}
    limit = stats.get("bytes_limit")
    return int(limit) // 4 if limit else 4 * CPU_MEMORY_BUDGET


# --------------------------------------------------------------------------------------------
# Benchmark settings
# --------------------------------------------------------------------------------------------


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


def _log(verbose: bool, message: str) -> None:
    if verbose:
        logger.info(message)


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def check_numpy_reference(
    workload: Workload, n_individuals: int = 4, seed: int = 1, float64: bool = True
) -> float:
    """Largest |NumPy - apply| probability difference over a few random individuals.

    With ``float64`` both sides run in double precision (``jax.enable_x64``), which checks the
    math; in float32 (the timed setting) the two differ by float32 rounding (~1e-5).
    """
    from debinn_jax.network import apply

    dtype = np.float64 if float64 else np.float32
    pop = random_population(jax.random.key(seed), workload.spec, n_individuals)
    X = np.asarray(workload.X, dtype)
    worst = 0.0
    with jax.enable_x64(float64):
        for c in individuals(pop):
            c = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype), c)
            p_np = numpy_proba(workload.spec, c, X)
            c_j = jax.tree_util.tree_map(jnp.asarray, c)
            p_jax = np.asarray(apply(workload.spec, c_j, jnp.asarray(X)))
            worst = max(worst, float(np.max(np.abs(p_np - p_jax))))
    return worst


def tune_batch_size(
    workload: Workload, population: int, candidates: Sequence[int], repeats: int
) -> tuple[int | None, dict[str, float]]:
    """Fastest evaluator batch size among ``candidates`` (CPU) at ``population``.

    Off CPU the whole population is evaluated at once (``None``) when it fits the budget.
    Returns ``(batch_size, {str(candidate): best seconds})``.
    """
    if not _on_cpu():
        return None, {}
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    pop = random_population(jax.random.key(0), workload.spec, population)
    results: dict[str, float] = {}
    for b in candidates:
        if b > population:
            continue
        fn = make_evaluator(workload.spec, x_t, y, b)
        results[str(b)] = time_jax(fn, (pop,), repeats).best_s
    best = min(results, key=results.get)
    return int(best), results


def bench_evaluation(
    workload: Workload, population: int, batch_size: int | None, config: BenchConfig
) -> dict[str, Any]:
    """JAX vs NumPy individual evaluations per second at one population size."""
    spec = workload.spec
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    pop = random_population(jax.random.key(population), spec, population)
    batch = plan_batch_size(
        spec, workload.X.shape[0], population, _device_memory_budget(), batch_size
    )
    t_jax = time_jax(make_evaluator(spec, x_t, y, batch), (pop,), config.repeats)
    jax_part = {
        "evals_per_s": population / t_jax.best_s,
        "ms_per_population": 1e3 * t_jax.best_s,
        **t_jax.as_dict(),
    }
    if 0 < config.numpy_max_population < population:
        return {"batch_size": batch, "jax": jax_part, "numpy": None, "speedup": None}
    inds = individuals(pop)
    with one_blas_thread():
        t_np, t_np_med = time_host(
            lambda: numpy_population_loss(spec, inds, workload.X, workload.y),
            config.numpy_repeats,
        )
    return {
        "batch_size": batch,
        "jax": jax_part,
        "numpy": {
            "evals_per_s": population / t_np,
            "ms_per_population": 1e3 * t_np,
            "best_s": t_np,
            "median_s": t_np_med,
            "repeats": config.numpy_repeats,
            "blas_threads": 1,
        },
        "speedup": t_np / t_jax.best_s,
    }


def bench_generation(
    workload: Workload, population: int, batch_size: int | None, config: BenchConfig
) -> dict[str, Any]:
    """Milliseconds per GA generation of the real training loop (``ga.make_runner``)."""
    from debinn_jax.ga import GAConfig, make_runner

    spec = workload.spec
    batch = plan_batch_size(
        spec, workload.X.shape[0], population, _device_memory_budget(), batch_size
    )
    # fewer generations per timed call for big populations (keeps the full run under 10 min)
    g = max(2, min(config.generations, math.ceil(config.generations * 256 / population)))
    ga_config = GAConfig(
        population_size=population,
        generations=10**6,
        early_stopping=None,
        chunk=g,
        batch_size=batch,
    )
    runner = make_runner(spec, ga_config)
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    mask = jnp.ones(y.shape, jnp.float32)
    hp = ga_config.numeric()
    key = jax.random.key(0)
    t0 = time.perf_counter()
    if hasattr(runner, "start"):  # start() evaluates nothing; generation 0 is in chunk()
        state = jax.jit(runner.start)(key, x_t, y, mask, hp)
    else:
        state, _ = jax.jit(runner.init)(key, x_t, y, mask, hp)
    args = (state, x_t, y, mask, hp)
    chunk = jax.jit(runner.chunk).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    state, _ = chunk(*args)  # past generation 0: every timed call runs g plain generations
    args = (jax.block_until_ready(state), x_t, y, mask, hp)
    best_s, median_s = time_host(lambda: jax.block_until_ready(chunk(*args)), config.repeats)
    timing = Timing(compile_s, best_s, median_s, max(1, config.repeats))
    return {
        "batch_size": batch,
        "generations_per_call": g,
        "ms_per_generation": 1e3 * timing.best_s / g,
        "ms_per_generation_median": 1e3 * timing.median_s / g,
        "compile_s": timing.compile_s,
        "repeats": timing.repeats,
    }


def bench_forward(
    workload: Workload, population: int, batch_size: int | None, peak_gflops: float, repeats: int
) -> dict[str, Any]:
    """Achieved GFLOP/s of the population forward pass (scores only) at ``population``."""
    spec = workload.spec
    n = workload.X.shape[0]
    batch = plan_batch_size(spec, n, population, _device_memory_budget(), batch_size)
    pop = random_population(jax.random.key(7), spec, population)
    timing = time_jax(make_forward(spec, jnp.asarray(workload.X.T), batch), (pop,), repeats)
    flops = population * forward_flops(spec, n)
    gflops = flops / timing.best_s / 1e9
    return {
        "population": population,
        "batch_size": batch,
        "gflop_per_call": flops / 1e9,
        "ms": 1e3 * timing.best_s,
        "gflops": gflops,
        "fraction_of_peak": gflops / peak_gflops if peak_gflops else None,
        "compile_s": timing.compile_s,
    }


#: 2025 networks timed against the 2022 default: the authors' published DLBCL model's
#: settings (group normalisation) and every switch of their grid on.
VARIANT_SPECS = {
    "2025 (GN)": dict(normalization="activation"),
    "2025 (GN+WS+SS)": dict(normalization="activation", standardize_weights=True, shift_scale=True),
    "2025 (all: GN+WS+SS+SD)": dict(
        normalization="activation", standardize_weights=True, shift_scale=True, spatial_dropout=True
    ),
}


def bench_variants(
    workload: Workload, population: int, batch_size: int | None, repeats: int
) -> dict[str, Any]:
    """Population forward + loss of the 2025 network against the 2022 one (same P, data).

    Returns ``{name: {"ms_per_population", "ratio_vs_2022", "compile_s"}}``; the 2025 rows use
    :meth:`NetworkSpec.reference_2025` with the settings of :data:`VARIANT_SPECS` and the 2025
    loss.
    """
    x_t, y = jnp.asarray(workload.X.T), jnp.asarray(workload.y)
    spec22 = workload.spec
    n_in, hidden, k = spec22.n_inputs, spec22.hidden, spec22.n_classes
    specs = {"2022 (default)": (spec22, LossConfig())}
    for name, kw in VARIANT_SPECS.items():
        spec = NetworkSpec.reference_2025(n_in, hidden, k, **kw)
        specs[name] = (spec, LossConfig.reference_2025())
    out: dict[str, Any] = {}
    for name, (spec, loss) in specs.items():
        pop = random_population(jax.random.key(population), spec, population)
        t = time_jax(make_evaluator(spec, x_t, y, batch_size, loss), (pop,), repeats)
        out[name] = {"ms_per_population": 1e3 * t.best_s, "compile_s": t.compile_s}
    base = out["2022 (default)"]["ms_per_population"]
    for v in out.values():
        v["ratio_vs_2022"] = v["ms_per_population"] / base
    return out


def bench_sweep(
    workload: Workload, runs: Sequence[int], config: BenchConfig, batch_size: int | None
) -> dict[str, Any]:
    """R runs in one ``sweep.run_many`` call vs R sequential ``train_ga`` calls."""
    from debinn_jax.ga import GAConfig, train_ga
    from debinn_jax.sweep import run_many

    spec = workload.spec
    ga_config = GAConfig(
        population_size=config.sweep_population,
        generations=config.sweep_generations,
        early_stopping=None,
        chunk=config.sweep_generations,
        batch_size=batch_size,
    )
    X, y = workload.X, workload.y
    train_ga(spec, X, y, jax.random.key(0), ga_config)  # compile
    one_s, _ = time_host(lambda: train_ga(spec, X, y, jax.random.key(1), ga_config), 2)
    out: dict[str, Any] = {
        "population": config.sweep_population,
        "generations": config.sweep_generations,
        "one_run_s": one_s,
        "runs": {},
    }
    for r in runs:
        keys = jax.random.split(jax.random.key(100 + r), r)
        t0 = time.perf_counter()
        run_many(spec, X, y, keys, ga_config, devices=jax.devices()[:1])
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_many(spec, X, y, keys, ga_config, devices=jax.devices()[:1])
        sweep_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(r):
            train_ga(spec, X, y, keys[i], ga_config)
        seq_s = time.perf_counter() - t0
        out["runs"][str(r)] = {
            "sweep_s": sweep_s,
            "sweep_compile_s": max(0.0, first - sweep_s),
            "sequential_s": seq_s,
            "sequential_over_sweep": seq_s / sweep_s,
            "sweep_over_one_run": sweep_s / one_s,
        }
    return out


#: The start-up GA run, in a fresh process: argv = data folder, generations, population; prints
#: one JSON line with the seconds spent importing, reading the data and in ``train_ga``.
STARTUP_GA = """
import json, sys, time
t0 = time.perf_counter()
import jax
from debinn_jax import GAConfig, NetworkSpec, load_fold, train_ga
t1 = time.perf_counter()
train = load_fold(sys.argv[1]).train
t2 = time.perf_counter()
config = GAConfig(
    population_size=int(sys.argv[3]), generations=int(sys.argv[2]), early_stopping=None
)
result = train_ga(NetworkSpec(17, (85, 64), 2), train.X, train.y, jax.random.key(0), config)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "data_s": t2 - t1, "train_ga_s": t3 - t2,
                  "generations_run": result.generations_run}))
"""


def _timed_process(
    code: str, args: Sequence[str] = (), env: dict[str, str] | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Run ``python -c code args`` in a fresh process; wall seconds from start to exit, plus
    the JSON of its last output line (if any)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["failed"]
        raise RuntimeError(f"start-up probe failed: {tail[0]}")
    lines = proc.stdout.strip().splitlines()
    out = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return {"wall_s": wall, **out}


def _median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float)]
    return {
        **{k: float(np.median([r[k] for r in rows])) for k in keys},
        "wall_s_all": [r["wall_s"] for r in rows],
    }


def bench_startup(
    data_dir: Path | None,
    repeats: int = 3,
    generations: int = 200,
    population: int = 64,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Start-up costs in fresh processes (median of ``repeats``; wall time, start to exit).

    * ``import``: ``import debinn_jax`` (lazy: loads no jax);
    * ``import_trainers``: ``from debinn_jax import train_ga`` (jax, evosax, the GA);
    * ``cold``: a DLBCL Fold-1 GA run (17-85-64-2, ``generations``, ``population``) with an
      empty persistent compilation cache (a new temporary ``DEBINN_CACHE_DIR`` per repeat);
    * ``warm``: the same run again in a new process with the cache its cold run left.

    The GA rows are skipped (``"skipped"`` says why) when ``<data_dir>/dlbcl/Fold-1`` is absent.
    """
    import tempfile

    env = {k: v for k, v in os.environ.items() if k not in ("DEBINN_CACHE", "DEBINN_CACHE_DIR")}
    out: dict[str, Any] = {"repeats": repeats, "load_average": list(os.getloadavg())}
    for name, code in (
        ("import", "import debinn_jax"),
        ("import_trainers", "from debinn_jax import train_ga"),
    ):
        out[name] = _median_row([_timed_process(code, env=env) for _ in range(repeats)])
        log(f"  {name:16s} {out[name]['wall_s']:6.2f} s (median of {repeats})")
    fold = (default_data_dir() if data_dir is None else Path(data_dir)) / "dlbcl" / "Fold-1"
    if not fold.exists():
        out["skipped"] = f"{fold} not found: no GA start-up rows"
        log(f"  GA start-up skipped: {out['skipped']}")
        return out
    out["ga"] = {"data": str(fold), "generations": generations, "population": population}
    cold, warm = [], []
    args = [str(fold), str(generations), str(population)]
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="debinn-cache-") as tmp:
            run_env = {**env, "DEBINN_CACHE_DIR": tmp}
            cold.append(_timed_process(STARTUP_GA, args, run_env))
            warm.append(_timed_process(STARTUP_GA, args, run_env))
    out["cold"], out["warm"] = _median_row(cold), _median_row(warm)
    out["load_average_end"] = list(os.getloadavg())
    for name in ("cold", "warm"):
        row = out[name]
        log(
            f"  GA {name:4s} {row['wall_s']:6.2f} s end to end (import {row['import_s']:.2f} s, "
            f"train_ga {row['train_ga_s']:.2f} s; median of {repeats})"
        )
    return out


def memory_probe(
    workload: Workload, population: int, budget_bytes: int = CPU_MEMORY_BUDGET
) -> dict[str, Any]:
    """Evaluate ``population`` individuals once with the planned chunking; report memory."""
    spec = workload.spec
    n = workload.X.shape[0]
    rss0 = peak_rss_mb()
    batch = plan_batch_size(spec, n, population, budget_bytes, 4 if _on_cpu() else None)
    pop = random_population(jax.random.key(3), spec, population)
    fn = make_evaluator(spec, jnp.asarray(workload.X.T), jnp.asarray(workload.y), batch)
    timing = time_jax(fn, (pop,), 1)
    return {
        "workload": workload.name,
        "population": population,
        "batch_size": batch,
        "estimated_working_set_bytes": working_set_bytes(spec, n, batch or population),
        "xla_temp_bytes": timing.temp_bytes,
        "peak_rss_mb_before": rss0,
        "peak_rss_mb": peak_rss_mb(),
        "seconds": timing.best_s,
    }


def memory_probe_subprocess(
    workload: str, population: int, data_dir: str | None, timeout: float = 300.0
) -> dict[str, Any]:
    """:func:`memory_probe` in a fresh Python process, so its peak RSS is its own."""
    cmd = [sys.executable, "-m", "debinn_jax.bench", "--probe", workload, str(population)]
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# The whole benchmark
# --------------------------------------------------------------------------------------------


def run_benchmark(config: BenchConfig, verbose: bool = True) -> dict[str, Any]:
    """Run every measurement of the module docstring; returns the JSON-ready document.

    ``verbose``: log a summary line per measurement at INFO level on the ``debinn_jax.bench``
    logger (``debinn bench`` shows them).
    """
    started = time.perf_counter()
    doc: dict[str, Any] = {"meta": machine_info(), "settings": dataclasses.asdict(config)}
    _log(
        verbose,
        f"debinn bench on {doc['meta']['cpu']} ({doc['meta']['backend']}), "
        f"affinity {doc['meta']['affinity']}, load {doc['meta']['load_average']}",
    )
    data_dir = Path(config.data_dir) if config.data_dir else None
    if config.startup or config.only_startup:
        _log(verbose, "\n[start-up] fresh processes")
        doc["startup"] = bench_startup(
            data_dir,
            config.startup_repeats,
            config.startup_generations,
            config.startup_population,
            log=lambda m: _log(verbose, m),
        )
    if config.only_startup:
        doc["meta"]["wall_s"] = time.perf_counter() - started
        doc["meta"]["load_average_end"] = list(os.getloadavg())
        return doc
    peak = measured_peak_gflops(config.peak_n, config.repeats)
    doc["peak"] = peak
    _log(verbose, f"measured peak: {peak['gflops']:.1f} GFLOP/s ({config.peak_n}^2 matmul)")
    workloads = {}
    summary: dict[str, Any] = {}
    loaded = {}
    for name in config.workloads:
        wl = load_workload(name, data_dir)
        loaded[name] = wl
        entry: dict[str, Any] = {
            "shape": wl.shape_name,
            "n_samples": int(wl.X.shape[0]),
            "source": wl.source,
        }
        entry["numpy_max_abs_diff_vs_apply"] = check_numpy_reference(wl)
        entry["numpy_max_abs_diff_vs_apply_float32"] = check_numpy_reference(wl, float64=False)
        tune_p = min(256, max(config.populations))
        if config.batch_size > 0:
            batch, tuning = config.batch_size, {}
        else:
            batch, tuning = tune_batch_size(wl, tune_p, config.batch_candidates, config.repeats)
        entry["batch_size"] = batch
        entry["batch_tuning_s"] = {"population": tune_p, "best_s": tuning}
        _log(
            verbose,
            f"\n[{name}] {wl.shape_name}, N={wl.X.shape[0]} ({wl.source}), "
            f"evaluator batch {batch}, NumPy check {entry['numpy_max_abs_diff_vs_apply']:.1e}",
        )
        pops: dict[str, Any] = {}
        for p in config.populations:
            ev = bench_evaluation(wl, p, batch, config)
            gen = bench_generation(wl, p, batch, config)
            ev["ga"] = gen
            if ev["numpy"] is not None:
                ev["numpy_ms_per_generation_evals_only"] = ev["numpy"]["ms_per_population"]
            pops[str(p)] = ev
            np_part = (
                f"numpy {ev['numpy']['evals_per_s']:9.0f} ev/s  x{ev['speedup']:6.1f}"
                if ev["numpy"] is not None
                else "numpy skipped"
            )
            _log(
                verbose,
                f"  P={p:5d}  jax {ev['jax']['evals_per_s']:10.0f} ev/s "
                f"(compile {ev['jax']['compile_s']:.2f} s)  {np_part}  "
                f"GA {gen['ms_per_generation']:8.2f} ms/gen (compile {gen['compile_s']:.1f} s)",
            )
        entry["populations"] = pops
        p_max = max(config.populations)
        entry["forward"] = bench_forward(wl, p_max, batch, peak["gflops"], config.repeats)
        _log(
            verbose,
            f"  forward P={p_max}: {entry['forward']['gflops']:.1f} GFLOP/s = "
            f"{100 * entry['forward']['fraction_of_peak']:.0f} % of measured peak",
        )
        if config.reference and name in REFERENCE_BINARY:
            p_ref, s_ref = REFERENCE_BINARY[name]
            gen = bench_generation(wl, p_ref, batch, config)
            entry["reference_binary"] = {
                "population": p_ref,
                "reference_s_per_generation": s_ref,
                "ms_per_generation": gen["ms_per_generation"],
                "speedup": 1e3 * s_ref / gen["ms_per_generation"],
            }
            _log(
                verbose,
                f"  vs authors' binary at P={p_ref}: {gen['ms_per_generation']:.2f} "
                f"ms/gen vs {s_ref} s/gen = x{entry['reference_binary']['speedup']:.0f}",
            )
        workloads[name] = entry
        summary[name] = {
            "speedup_vs_numpy": {p: v["speedup"] for p, v in pops.items()},
            "forward_fraction_of_peak": entry["forward"]["fraction_of_peak"],
            "reference_speedup": entry.get("reference_binary", {}).get("speedup"),
        }
    doc["workloads"] = workloads
    variants = {}
    if config.variant_population > 0:
        for name in config.variant_workloads:
            if name not in loaded:
                loaded[name] = load_workload(name, data_dir)
            batch = workloads.get(name, {}).get("batch_size", 4 if _on_cpu() else None)
            variants[name] = bench_variants(
                loaded[name], config.variant_population, batch, config.repeats
            )
            for v_name, v in variants[name].items():
                _log(
                    verbose,
                    f"[variants {name}] P={config.variant_population} {v_name:24s} "
                    f"{v['ms_per_population']:8.2f} ms  x{v['ratio_vs_2022']:.2f} of 2022",
                )
            summary.setdefault(name, {})["variant_ratio_vs_2022"] = {
                k: v["ratio_vs_2022"] for k, v in variants[name].items()
            }
    doc["variants"] = variants
    sweeps = {}
    for name in config.sweep_workloads:
        if name not in loaded:
            loaded[name] = load_workload(name, data_dir)
        wl = loaded[name]
        batch = workloads.get(name, {}).get("batch_size", 4 if _on_cpu() else None)
        sweeps[name] = bench_sweep(wl, config.runs, config, batch)
        for r, v in sweeps[name]["runs"].items():
            _log(
                verbose,
                f"\n[sweep {name}] R={r:3s}: one call {v['sweep_s']:.2f} s "
                f"(= {v['sweep_over_one_run']:.2f} x one run), sequential "
                f"{v['sequential_s']:.2f} s (x{v['sequential_over_sweep']:.2f})",
            )
        summary.setdefault(name, {})["sweep_over_one_run"] = {
            r: v["sweep_over_one_run"] for r, v in sweeps[name]["runs"].items()
        }
    doc["sweep"] = sweeps
    memory: dict[str, Any] = {}
    if config.memory_population > 0:
        memory["probe"] = memory_probe_subprocess("ctg", config.memory_population, config.data_dir)
        _log(verbose, f"\nmemory probe CTG P={config.memory_population}: {memory['probe']}")
    memory["xla_temp_bytes"] = {
        name: {p: v["jax"]["temp_bytes"] for p, v in wl["populations"].items()}
        for name, wl in workloads.items()
    }
    memory["peak_rss_mb"] = peak_rss_mb()
    doc["memory"] = memory
    doc["summary"] = summary
    doc["meta"]["load_average_end"] = list(os.getloadavg())
    doc["meta"]["wall_s"] = time.perf_counter() - started
    _log(
        verbose,
        f"\npeak RSS {memory['peak_rss_mb']:.0f} MiB, wall {doc['meta']['wall_s']:.0f} s,"
        f" load at end {doc['meta']['load_average_end']}",
    )
    return doc


def _probe_main(argv: Sequence[str]) -> int:
    """``python -m debinn_jax.bench --probe WORKLOAD P [--data-dir DIR]``: one JSON line."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m debinn_jax.bench")
    parser.add_argument("--probe", nargs=2, metavar=("WORKLOAD", "P"), required=True)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    name, population = args.probe[0], int(args.probe[1])
    wl = load_workload(name, Path(args.data_dir) if args.data_dir else None)
    print(json.dumps(memory_probe(wl, population, _device_memory_budget()), default=to_jsonable))
    return 0


if __name__ == "__main__":
    sys.exit(_probe_main(sys.argv[1:]))
