"""The DEBI loss (spec section 4; DEBINN-2025.md section 3): class-weighted cross-entropy.

One function serves both trainers: the GA evaluates it vmapped over a population with
per-individual sample masks, GD differentiates it with ``jax.grad``. Lower is better.

Public functions take samples first: inputs ``X`` ``(N, n_inputs)`` (:func:`debi_loss`,
:func:`population_loss`) and log-probabilities ``(N, K)`` (a :data:`LossFn`). Internally the
terms run with samples on the last axis (``(K, N)``, the forward pass's fast layout).

The loss splits into two pure steps so that one forward pass can be scored under several masks
(the GA's training subset and validation subset):

1. :func:`sample_terms` -> ``(K, N)`` per-sample, per-class terms ``-y_cn log(max(p_cn, e^-20))``;
2. :func:`masked_loss` -> the class-weighted mean of those terms over a 0/1 (or weighted) mask,
   with the class weights ``beta_c = K (1 - n_c / N)`` (2022) or ``1 - n_c / N`` (2025)
   counted on the masked samples.

The two variants (``LossConfig.variant``) differ only in the class-weight factor K and in the
log floor: 2022 uses ``max(log p, -20)``; 2025 uses ``-20`` where ``p < DBL_EPSILON`` and
``log p`` elsewhere (so probabilities between 2e-16 and 2e-9 count fully).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax.network import (
    DBL_EPS,
    Coords,
    Flags,
    NetworkSpec,
    weights_and_masks,
)
from debinn_jax.network.forward import log_proba_t

LossFn = Callable[[jax.Array, jax.Array, jax.Array, Coords], jax.Array]
"""A loss of one network that GA and GD both minimise:
``loss_fn(logp, y, mask, coords) -> ()``, with ``logp`` the ``(N, K)`` log-probabilities of the
network ``coords`` on the inputs (samples first, as :func:`debinn_jax.network.log_proba`),
``y`` the ``(N,)`` class indices and ``mask`` ``(N,)`` sample weights (0/1: the samples this
score is about). Must be traceable (``jax.numpy``); the GA vmaps it over masks and individuals,
GD differentiates it. :func:`debi_loss_fn` builds the DEBI loss in this form; add terms to it
to train on your own objective."""

LOG_P_FLOOR = -20.0
LOG_DBL_EPS = math.log(DBL_EPS)  # a Python float: importing inside a jit trace is safe
LOSS_VARIANTS = ("2022", "2025")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Settings of the DEBI loss.

    Attributes:
        alpha: target of the true class; every other class gets ``1 - alpha`` (1.0 = one-hot).
        l1: L1 penalty on the (standardised) weights, mean absolute value over all layers.
        l2: L2 penalty on the (standardised) weights, mean square over all layers.
        class_weights: use ``beta_c = K (1 - n_c / N)`` (2025: ``1 - n_c / N``); False gives
            every class weight 1.
        variant: ``"2022"`` (DEBINN-SPEC section 4) or ``"2025"`` (DEBINN-2025 section 3: no
            factor K, log floor only below DBL_EPSILON).
    """

    alpha: float = 0.9
    l1: float = 0.0
    l2: float = 0.0
    class_weights: bool = True
    variant: str = "2022"

    @classmethod
    def reference_2025(cls, l1: float = 0.0, l2: float = 0.0) -> LossConfig:
        """The authors' 2025 fitness: one-hot targets (alpha 1), 2025 weights and floor."""
        return cls(alpha=1.0, l1=l1, l2=l2, class_weights=True, variant="2025")

    def __post_init__(self) -> None:
        for name in ("alpha", "l1", "l2"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"LossConfig.{name} must be a number, got {v!r}")
        if not isinstance(self.class_weights, bool | np.bool_):
            raise ValueError(
                f"LossConfig.class_weights must be True or False, got {self.class_weights!r}"
            )
        if not isinstance(self.variant, str) or self.variant not in LOSS_VARIANTS:
            raise ValueError(
                f"LossConfig.variant must be one of {LOSS_VARIANTS}, got {self.variant!r}"
            )
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"LossConfig.alpha must be in [0, 1], got {self.alpha!r}")
        for name in ("l1", "l2"):
            if getattr(self, name) < 0:
                raise ValueError(f"LossConfig.{name} must be >= 0, got {getattr(self, name)!r}")


def targets(y: jax.Array, n_classes: int, alpha: float | jax.Array) -> jax.Array:
    """Smoothed targets of shape ``(K, N)``: alpha for the true class, 1 - alpha elsewhere."""
    onehot = jax.nn.one_hot(y, n_classes, axis=0)
    return alpha * onehot + (1.0 - alpha) * (1.0 - onehot)


def class_weights(
    y: jax.Array, n_classes: int, mask: jax.Array, variant: str = "2022"
) -> jax.Array:
    """``beta_c = K (1 - n_c / N)`` (2025: ``1 - n_c / N``) over the masked samples; ``(K,)``.

    Args:
        y: integer labels ``(N,)``.
        n_classes: K.
        mask: sample weights ``(N,)`` (0/1 for subsets).
        variant: ``"2022"`` or ``"2025"``.
    """
    onehot = jax.nn.one_hot(y, n_classes, axis=0, dtype=mask.dtype)
    counts = onehot @ mask
    total = jnp.maximum(jnp.sum(mask), 1e-12)
    factor = 1.0 if variant == "2025" else n_classes
    return factor * (1.0 - counts / total)


def sample_terms(
    spec: NetworkSpec,
    coords: Coords,
    x_t: jax.Array,
    y: jax.Array,
    alpha: float | jax.Array = 0.9,
    variant: str = "2022",
    flags: Flags = None,
) -> jax.Array:
    """Unweighted loss terms ``-y_cn log p_cn`` with the variant's floor, shape ``(K, N)``.

    2022: ``log p`` floored at -20. 2025: ``-20`` where ``p < DBL_EPSILON``, else ``log p``.

    Args:
        x_t: inputs with samples on the last axis, ``(n_inputs, N)``.
        y: integer labels ``(N,)``.
        flags: optional traced network switches (see :data:`debinn_jax.network.Flags`).
    """
    return log_proba_terms(log_proba_t(spec, coords, x_t, flags), y, alpha, variant)


def log_proba_terms(
    logp: jax.Array, y: jax.Array, alpha: float | jax.Array = 0.9, variant: str = "2022"
) -> jax.Array:
    """Loss terms from log-probabilities ``(K, N)``: ``-y_cn floor(log p_cn)``, ``(K, N)``.

    The floor is the variant's (see :func:`sample_terms`); shared by GA, GD and diagnostics.
    """
    if variant == "2025":
        logp = jnp.where(logp < LOG_DBL_EPS, LOG_P_FLOOR, logp)
    else:
        logp = jnp.maximum(logp, LOG_P_FLOOR)
    return -targets(y, logp.shape[0], alpha).astype(logp.dtype) * logp


def masked_loss(
    terms: jax.Array,
    y: jax.Array,
    mask: jax.Array,
    use_class_weights: bool = True,
    variant: str = "2022",
) -> jax.Array:
    """Class-weighted mean of ``terms`` ``(K, N)`` over the samples selected by ``mask`` ``(N,)``.

    Returns a scalar; an empty mask gives 0.
    """
    mask = mask.astype(terms.dtype)
    n_classes = terms.shape[0]
    if use_class_weights:
        beta = class_weights(y, n_classes, mask, variant)
        per_sample = beta @ terms
    else:
        per_sample = jnp.sum(terms, axis=0)
    return jnp.sum(per_sample * mask) / jnp.maximum(jnp.sum(mask), 1e-12)


def weight_penalty(
    spec: NetworkSpec, coords: Coords, l1: Any, l2: Any, flags: Flags = None
) -> jax.Array:
    """``l1 * mean|W| + l2 * mean W^2`` over every connection of every layer (a scalar).

    The weights are those of the forward pass; with spatial dropout the means run over the
    kept connections. ``l1``/``l2`` may be traced scalars (a sweep varies them).
    """
    if _no_penalty(l1, l2):
        return jnp.zeros(())
    return penalty_of_weights(*weights_and_masks(spec, coords, flags), l1, l2)


def _no_penalty(l1: Any, l2: Any) -> bool:
    return isinstance(l1, int | float) and isinstance(l2, int | float) and l1 == 0 and l2 == 0


def penalty_of_weights(
    weights: list[jax.Array], masks: list[jax.Array] | None, l1: Any, l2: Any
) -> jax.Array:
    """:func:`weight_penalty` from the network's weights and spatial-dropout masks
    (:func:`~debinn_jax.network.weights_and_masks`), already computed: the pooled means over
    every (kept) connection of every layer."""
    flat = jnp.concatenate([w.ravel() for w in weights])
    if masks is None:
        mean_abs, mean_sq = jnp.mean(jnp.abs(flat)), jnp.mean(jnp.square(flat))
    else:
        kept = jnp.concatenate([m.ravel() for m in masks]).astype(flat.dtype)
        n = jnp.maximum(jnp.sum(kept), 1.0)
        mean_abs = jnp.sum(jnp.abs(flat) * kept) / n
        mean_sq = jnp.sum(jnp.square(flat) * kept) / n
    return l1 * mean_abs + l2 * mean_sq


def _samples_first(where: str, spec: NetworkSpec, X: Any) -> jax.Array:
    """``X`` as an array of shape ``(N, n_inputs)``; ValueError otherwise (naming the old,
    transposed layout when ``X`` has it)."""
    X = jnp.asarray(X)
    if X.ndim != 2 or X.shape[1] != spec.n_inputs:
        hint = ""
        if X.ndim == 2 and X.shape[0] == spec.n_inputs:
            hint = " (inputs are samples first now; drop the .T of the old (n_inputs, N) layout)"
        raise ValueError(
            f"{where}: X must have shape (N, {spec.n_inputs}) for this network, got {X.shape}{hint}"
        )
    return X


def debi_loss(
    spec: NetworkSpec,
    coords: Coords,
    X: jax.Array,
    y: jax.Array,
    mask: jax.Array | None = None,
    config: LossConfig = LossConfig(),
) -> jax.Array:
    """The DEBI loss of one network on the masked samples (a scalar; lower is better).

    Args:
        spec: the network.
        coords: one coordinate pytree.
        X: inputs ``(N, n_inputs)`` (samples first, as :func:`~debinn_jax.network.apply`).
        y: integer labels ``(N,)``.
        mask: optional sample weights ``(N,)``; default all ones.
        config: alpha, penalties and class weighting.
    """
    x_t = _samples_first("debi_loss", spec, X).T
    if mask is None:
        mask = jnp.ones(y.shape, dtype=x_t.dtype)
    return loss_of_log_proba_t(spec, config, log_proba_t(spec, coords, x_t), y, mask, coords)


def loss_of_log_proba_t(
    spec: NetworkSpec,
    config: LossConfig,
    logp_t: jax.Array,
    y: jax.Array,
    mask: jax.Array,
    coords: Coords,
) -> jax.Array:
    """The DEBI loss from log-probabilities with samples last, ``(K, N)`` (the trainers'
    internal layout; :func:`debi_loss_fn` is the public, samples-first form)."""
    terms = log_proba_terms(logp_t, y, config.alpha, config.variant)
    loss = masked_loss(terms, y, mask, config.class_weights, config.variant)
    return loss + weight_penalty(spec, coords, config.l1, config.l2)


def debi_loss_fn(spec: NetworkSpec, config: LossConfig = LossConfig()) -> LossFn:
    """The DEBI loss as a :data:`LossFn` (equal to :func:`debi_loss` on the same network).

    Args:
        spec: the network (for the L1/L2 penalty on its weights).
        config: alpha, penalties, class weighting and variant.

    Returns:
        ``loss_fn(logp (N, K), y (N,), mask (N,), coords) -> ()``.

    Example (a Brier-score penalty on top of the DEBI loss)::

        base = debi_loss_fn(spec, config.loss)

        def loss_fn(logp, y, mask, coords):
            onehot = jax.nn.one_hot(y, logp.shape[1])
            brier = jnp.sum(jnp.square(jnp.exp(logp) - onehot), axis=1)
            return base(logp, y, mask, coords) + 0.5 * jnp.sum(brier * mask) / jnp.sum(mask)
    """

    def loss_fn(logp: jax.Array, y: jax.Array, mask: jax.Array, coords: Coords) -> jax.Array:
        return loss_of_log_proba_t(spec, config, logp.T, y, mask, coords)

    return loss_fn


def loss_floor(n_classes: int, alpha: float) -> float:
    """Smallest loss the ``reference`` head can reach on balanced data (spec section 3.3)."""
    import math

    p_max = math.e / (math.e + n_classes - 1)
    p_other = 1.0 / (math.e + n_classes - 1)
    return -(alpha * math.log(p_max) + (n_classes - 1) * (1 - alpha) * math.log(p_other))


def population_loss(
    spec: NetworkSpec,
    population: Coords,
    X: jax.Array,
    y: jax.Array,
    masks: jax.Array,
    config: LossConfig = LossConfig(),
    batch_size: int | None = None,
    *,
    l1: Any = None,
    l2: Any = None,
    flags: Flags = None,
    loss_fn: LossFn | None = None,
) -> jax.Array:
    """Loss of every individual of a population under several masks.

    Args:
        population: coordinate pytree with a leading population axis P on every leaf.
        X: ``(N, n_inputs)`` inputs shared by the population (samples first).
        y: ``(N,)`` labels.
        masks: ``(P, M, N)`` sample masks: M masks per individual (e.g. its training subset and
            the shared validation subset), or ``(M, N)`` masks shared by every individual.
        batch_size: individuals evaluated together; ``None`` = all at once (``vmap``, best on
            accelerators), a small number (4) = ``lax.map`` chunks (several times faster on CPU).
        l1, l2: optional (traced) penalty lambdas replacing ``config.l1``/``config.l2``.
        flags: optional traced network switches (:data:`debinn_jax.network.Flags`).
        loss_fn: a :data:`LossFn` replacing the DEBI loss (``config``, ``l1`` and ``l2`` are
            then not used; ``flags`` still switch the network). One forward pass per
            individual serves all its masks.

    Returns:
        ``(P, M)`` losses (penalties included).
    """
    return population_loss_t(
        spec,
        population,
        _samples_first("population_loss", spec, X).T,
        y,
        masks,
        config,
        batch_size,
        l1=l1,
        l2=l2,
        flags=flags,
        loss_fn=loss_fn,
    )


def population_loss_t(
    spec: NetworkSpec,
    population: Coords,
    x_t: jax.Array,
    y: jax.Array,
    masks: jax.Array,
    config: LossConfig = LossConfig(),
    batch_size: int | None = None,
    *,
    l1: Any = None,
    l2: Any = None,
    flags: Flags = None,
    loss_fn: LossFn | None = None,
) -> jax.Array:
    """:func:`population_loss` with the inputs ``x_t`` ``(n_inputs, N)`` (samples last: the
    GA's internal layout, transposed once per compiled call)."""
    shared = masks.ndim == 2

    def one(args: tuple) -> jax.Array:
        coords, m = args
        m = masks if shared else m
        if loss_fn is not None:
            logp = log_proba_t(spec, coords, x_t, flags).T  # (N, K) for the user's LossFn
            return jax.vmap(lambda mm: loss_fn(logp, y, mm.astype(logp.dtype), coords))(m)
        # the weights (distances, kernel, spatial dropout's median, standardisation) once,
        # for the forward pass and the penalty: computed twice, inside their switches' branches,
        # they cost twice (XLA does not merge the two conditionals)
        weights, sd_masks = weights_and_masks(spec, coords, flags)
        logp = log_proba_t(spec, coords, x_t, flags, weights)
        terms = log_proba_terms(logp, y, config.alpha, config.variant)
        lam1 = config.l1 if l1 is None else l1
        lam2 = config.l2 if l2 is None else l2
        if _no_penalty(lam1, lam2):
            pen = jnp.zeros((), terms.dtype)
        else:
            pen = penalty_of_weights(weights, sd_masks, lam1, lam2)
        losses = jax.vmap(
            lambda mm: masked_loss(terms, y, mm, config.class_weights, config.variant)
        )(m)
        return losses + pen

    n_pop = jax.tree_util.tree_leaves(population)[0].shape[0]
    per_ind_masks = jnp.zeros((n_pop, 0)) if shared else masks
    if batch_size is None or batch_size >= n_pop:
        return jax.vmap(one)((population, per_ind_masks))
    return jax.lax.map(one, (population, per_ind_masks), batch_size=batch_size)
