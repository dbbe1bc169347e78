"""The JAX evaluators the benchmark times (population loss, forward pass alone), their FLOP
count, and the working-set planner that picks how many individuals run together."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from debinn_jax.loss import LossConfig, population_loss_t
from debinn_jax.network import Coords, NetworkSpec
from debinn_jax.network.forward import scores_t

#: Working-set budget of one population evaluation on CPU hosts (bytes).
CPU_MEMORY_BUDGET = 1 << 30
BYTES_F32 = 4


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
        return population_loss_t(spec, population, x_t, y, masks, config, batch_size)[:, 0]

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


def on_cpu() -> bool:
    """Whether jax runs on the CPU (where small ``lax.map`` batches beat one ``vmap``)."""
    return jax.default_backend() == "cpu"


def device_memory_budget() -> int:
    """Evaluation working-set budget: 1 GiB on CPU, a quarter of device memory elsewhere."""
    if on_cpu():
        return CPU_MEMORY_BUDGET
    stats = jax.devices()[0].memory_stats() or {}
    limit = stats.get("bytes_limit")
    return int(limit) // 4 if limit else 4 * CPU_MEMORY_BUDGET
