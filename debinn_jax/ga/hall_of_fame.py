"""The hall of fame and the rules around it (spec 6.7; DEBINN-2025 section 4), as pure array
functions of one generation's fitness.

The hall keeps the best validated genomes; a member enters when its validation fitness beats
the hall's best and its ``|val - train|`` is below the tolerance. The tolerance is set at
generation 0 (2022: grown in steps of :data:`TOLERANCE_STEP` until every member fits) and, with
the 2025 rules, moves towards the entries' gap after each generation. Early stopping counts the
generations in a row that added nothing. :func:`~debinn_jax.ga.loop.make_runner` applies these
rules each generation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

TOLERANCE_STEP = 0.05


@struct.dataclass
class HallOfFame:
    """Best validated networks: ``genes (H, D)``, ``val (H,)``, ``train (H,)`` (+inf = empty)
    and ``ids (H,)``: which individual each member is (-1 = empty; the 2025 rules number the
    initial population 0 .. P-1 and offspring ``j`` of generation ``t`` ``P t + j``)."""

    genes: jax.Array
    val: jax.Array
    train: jax.Array
    ids: jax.Array


def empty_hall_of_fame(capacity: int, n_dims: int) -> HallOfFame:
    """A hall of fame with ``capacity`` empty slots for ``n_dims``-gene genomes."""
    dtype = jnp.zeros(()).dtype
    return HallOfFame(
        genes=jnp.zeros((capacity, n_dims), dtype),
        val=jnp.full((capacity,), jnp.inf, dtype),
        train=jnp.full((capacity,), jnp.inf, dtype),
        ids=jnp.full((capacity,), -1, jnp.int32),
    )


def hof_candidates(
    hof: HallOfFame, val: jax.Array, train: jax.Array, tolerance: jax.Array
) -> jax.Array:
    """Bool ``(P,)``: members whose validation fitness beats the hall's best (strictly) and
    whose ``|val - train| < tolerance`` (spec 6.7; DEBINN-2025 section 4)."""
    best = jnp.min(hof.val)
    return (val < best) & (jnp.abs(val - train) < tolerance) & jnp.isfinite(val)


def hof_insert(
    hof: HallOfFame,
    genes: jax.Array,
    val: jax.Array,
    train: jax.Array,
    tolerance: jax.Array,
    ids: jax.Array | None = None,
    entered: jax.Array | None = None,
) -> tuple[HallOfFame, jax.Array]:
    """One generation of the hall-of-fame rule (spec 6.7; DEBINN-2025 section 7.8).

    Members whose validation fitness beats the best in the hall (strictly) and whose
    ``|val - train| < tolerance`` enter (or those flagged in ``entered``). The hall stays
    sorted by validation fitness, an entry going after existing equal keys and entries in
    population order; it keeps its ``H`` best.

    Args:
        hof: current hall (``H`` slots).
        genes: ``(P, D)`` genomes of this generation; ``val``, ``train``: ``(P,)`` fitness.
        tolerance: scalar.
        ids: ``(P,)`` int individual numbers (default -1).
        entered: optional bool ``(P,)`` overriding the entry rule.

    Returns:
        ``(new_hall, added)`` with ``added`` a bool scalar (any member entered).
    """
    cand = hof_candidates(hof, val, train, tolerance) if entered is None else entered
    if ids is None:
        ids = jnp.full(val.shape, -1, jnp.int32)
    all_val = jnp.concatenate([hof.val, jnp.where(cand, val, jnp.inf)])
    keep = jnp.argsort(all_val, stable=True)[: hof.val.shape[0]]
    all_genes = jnp.concatenate([hof.genes, genes.astype(hof.genes.dtype)])
    all_train = jnp.concatenate([hof.train, jnp.where(cand, train, jnp.inf)])
    all_ids = jnp.concatenate([hof.ids, jnp.where(cand, ids.astype(jnp.int32), -1)])
    new = HallOfFame(
        genes=all_genes[keep], val=all_val[keep], train=all_train[keep], ids=all_ids[keep]
    )
    return new, jnp.any(cand)


def ordered_sum(x: jax.Array) -> jax.Array:
    """``x[0] + x[1] + ... + x[n-1]`` added left to right along the first axis (``(n, ...)
    -> (...)``): the order of a plain loop, which XLA keeps (its reductions may add in another
    order, which changes the last bit)."""
    total = x[0]
    for i in range(1, x.shape[0]):
        total = total + x[i]
    return total


def initial_tolerance(val: jax.Array, train: jax.Array, tolerance: jax.Array) -> jax.Array:
    """Generation-0 tolerance: ``tolerance`` grown in steps of 0.05 until every member
    (``(P,)`` fitness ``val``, ``train``) has ``|val - train| < tolerance``. It is kept for the
    rest of the run."""
    gap = jnp.max(jnp.where(jnp.isfinite(val) & jnp.isfinite(train), jnp.abs(val - train), 0.0))
    steps = jnp.where(gap >= tolerance, jnp.floor((gap - tolerance) / TOLERANCE_STEP) + 1, 0)
    return tolerance + TOLERANCE_STEP * steps


def tolerance_update_2025(
    tolerance: jax.Array, val: jax.Array, train: jax.Array, entered: jax.Array
) -> jax.Array:
    """The 2025 tolerance rule after a generation (DEBINN-2025 sections 4 and 7.8).

    With at least one entry: ``tol <- (tol + |mean val - mean train of the entries|) / 2``,
    each mean summed in population order and divided by the count; otherwise unchanged.
    ``val``, ``train``: ``(P,)``; ``entered``: bool ``(P,)``.
    """
    n = jnp.sum(entered)
    count = jnp.maximum(n, 1).astype(val.dtype)
    mean_val = ordered_sum(jnp.where(entered, val, 0.0)) / count
    mean_train = ordered_sum(jnp.where(entered, train, 0.0)) / count
    gap = jnp.abs(mean_val - mean_train)
    return jnp.where(n > 0, (tolerance + gap) / 2.0, tolerance).astype(tolerance.dtype)


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
