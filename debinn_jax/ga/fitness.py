"""Fitness evaluators: how one run scores a population on its training data.

Two rules, one per generation of the authors' program (``GAConfig.subsets``):
:func:`resampled_subsets`, the 2022 one (a validation subset and per-individual training
subsets, re-drawn every ``resample_every`` generations and shuffled across individuals), and
:func:`leave_out_fitness`, the 2025 one (fixed balanced leave-out splits drawn at generation 0,
fitness averaged over the splits). Each returns an :class:`Evaluator`: its masks per generation
and the ``(train, val)`` fitness of a population under them, from one population forward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from debinn_jax.data.splits import ga_subsets, leave_out_splits, shuffle_individuals
from debinn_jax.ga.config import FLAG_FIELDS, GAConfig
from debinn_jax.ga.hall_of_fame import ordered_sum
from debinn_jax.loss import LossFn, population_loss_t
from debinn_jax.network import NetworkSpec


@dataclasses.dataclass(frozen=True)
class Evaluator:
    """How a population is scored in one run (pure functions; static configuration).

    ``masks(key, first, t, data, y, sample_mask, hp) -> data``: this generation's masks
    (``data`` is the previous generation's; ``first`` is generation 0);
    ``score(pop_flat, data, x_t, y, hp) -> (train (P,), val (P,))``.
    """

    init_data: Callable
    masks: Callable
    score: Callable


def _loss_kwargs(hp: dict[str, Any]) -> dict[str, Any]:
    """Traced loss settings of a run: L1/L2 lambdas and the network switches."""
    return {
        "l1": hp["l1"],
        "l2": hp["l2"],
        "flags": {name: hp[name] for name in FLAG_FIELDS},
    }


def _population_scores(
    spec: NetworkSpec,
    config: GAConfig,
    unravel: Callable,
    pop_flat,
    x_t,
    y,
    masks,
    hp,
    loss_fn: LossFn | None = None,
) -> jax.Array:
    """``(P, D)`` genomes -> ``(P, M)`` fitness under ``masks`` (NaN -> +inf).

    ``loss_fn``: a user :data:`~debinn_jax.loss.LossFn` instead of the DEBI loss."""
    pop = jax.vmap(unravel)(pop_flat)
    out = population_loss_t(
        spec,
        pop,
        x_t,
        y,
        masks,
        config.loss,
        config.batch_size,
        **_loss_kwargs(hp),
        loss_fn=loss_fn,
    )
    return jnp.where(jnp.isnan(out), jnp.inf, out)


def resampled_subsets(
    spec: NetworkSpec,
    config: GAConfig,
    unravel: Callable,
    n_classes: int,
    loss_fn: LossFn | None = None,
):
    """The 2022 evaluator (spec 6.2): a validation subset and per-individual training subsets,
    re-drawn every ``resample_every`` generations and shuffled across individuals each one."""
    pop_size = config.population_size

    def init_data(n: int) -> Any:
        return (jnp.zeros((n,), jnp.float32), jnp.zeros((pop_size, n), jnp.float32))

    def masks(key, first, t, data, y, sample_mask, hp):
        k_masks, k_shuffle = key
        val_mask, ind_masks = jax.lax.cond(
            first | (t % hp["resample_every"] == 0),
            lambda: ga_subsets(k_masks, y, n_classes, pop_size, sample_mask),
            lambda: data,
        )
        return val_mask, shuffle_individuals(k_shuffle, ind_masks)

    def score(pop_flat, data, x_t, y, hp):
        val_mask, ind_masks = data
        both = jnp.stack([ind_masks, jnp.broadcast_to(val_mask, ind_masks.shape)], axis=1)
        out = _population_scores(spec, config, unravel, pop_flat, x_t, y, both, hp, loss_fn)
        return out[:, 0], out[:, 1]

    return Evaluator(init_data, masks, score)


def leave_out_fitness(
    spec: NetworkSpec,
    config: GAConfig,
    unravel: Callable,
    n_classes: int,
    loss_fn: LossFn | None = None,
):
    """The 2025 evaluator (DEBINN-2025 sections 4 and 7.4): fixed balanced leave-out splits;
    fitness_T / fitness_V = the mean over the splits of the fitness F (loss + penalty) of each
    part, summed in split order and divided by the split count.

    ``config.splits == "authors"``: the splits are the authors' deterministic ones, given as
    ``hp["splits"] = (train (S, N), val (S, N))`` (host side,
    :func:`~debinn_jax.data.splits.authors_splits`). ``"random"``: drawn from the run's key at
    generation 0, with the per-ratio validation counts ``hp["split_counts"]``.

    Returns:
        ``(evaluator, final_splits)``: ``final_splits(key, y, sample_mask, hp) -> (train,
        val)``, the final selection's splits (``hp["final_splits"]`` for the authors' rule).
    """
    per_ratio = config.splits_per_ratio
    given = config.splits == "authors"

    def n_splits(hp: dict[str, Any]) -> int:
        if given:
            return hp["splits"][0].shape[-2]
        return hp["split_counts"].shape[-1] * per_ratio

    def init_data(n: int, hp: dict[str, Any]) -> Any:
        if given:  # the masks live in hp; nothing to carry
            return ()
        s = n_splits(hp)
        return (jnp.zeros((s, n), jnp.float32), jnp.zeros((s, n), jnp.float32))

    def draw(key, y, sample_mask, hp):
        return leave_out_splits(key, y, n_classes, hp["split_counts"], per_ratio, sample_mask)

    def final_splits(key, y, sample_mask, hp):
        if given:
            return hp["final_splits"]
        return draw(key, y, sample_mask, hp)

    def masks(key, first, t, data, y, sample_mask, hp):
        if given:
            return ()
        k_masks, _ = key
        return jax.lax.cond(first, lambda: draw(k_masks, y, sample_mask, hp), lambda: data)

    def score(pop_flat, data, x_t, y, hp):
        train_masks, val_masks = hp["splits"] if given else data
        s = train_masks.shape[0]
        both = jnp.concatenate([train_masks, val_masks], axis=0)
        out = _population_scores(spec, config, unravel, pop_flat, x_t, y, both, hp, loss_fn)
        return split_mean(out[:, :s]), split_mean(out[:, s:])

    return Evaluator(init_data, masks, score), final_splits


def split_mean(scores: jax.Array) -> jax.Array:
    """``(P, S)`` per-split fitness -> ``(P,)``: summed over the splits in order, divided by S
    (the authors' arithmetic: the last bit matters when a replay compares two fitnesses)."""
    return ordered_sum(scores.T) / scores.shape[1]
