"""Settings of the GD trainer and what they build.

:class:`GDConfig` (every setting, checked on construction), the optax optimiser and relative
learning-rate schedule it names (:func:`make_optimizer`, :func:`make_schedule`), the initial
coordinates of the starts (:func:`init_starts`) and ``_static_config``, the part of a config
that shapes the compiled program (the sweepable numbers normalised).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from debinn_jax.loss import LossConfig
from debinn_jax.network import Coords, NetworkSpec, init_coords

SCHEDULES = ("constant", "cosine", "warmup_cosine")
#: NetworkSpec options the GD experiments use (chosen on validation splits; see module doc).
GD_NETWORK_OPTIONS: dict[str, Any] = {"head": "reference", "shift_scale": True}
MONITORS = ("val_loss", "val_bacc")


def _optax_factory(name: Any) -> Callable[..., optax.GradientTransformation]:
    """The optax optimiser constructor called ``name`` (e.g. ``"adam"``), or ValueError."""
    fn = getattr(optax, name, None) if isinstance(name, str) else None
    if fn is None or not callable(fn) or name.startswith("_"):
        raise ValueError(f"GDConfig.optimizer must be the name of an optax optimiser, got {name!r}")
    return fn


@dataclasses.dataclass(frozen=True)
class GDConfig:
    """Settings of the GD trainer (frozen, hashable; change with ``dataclasses.replace``).

    Attributes:
        optimizer: name of any optax optimiser taking ``learning_rate`` (``"adam"``, ``"sgd"``,
            ``"adamw"``, ``"lion"``, ...).
        optimizer_kwargs: extra constructor arguments as a tuple of ``(name, value)`` pairs,
            e.g. ``(("b1", 0.8),)`` (a tuple keeps the config hashable).
        learning_rate: peak learning rate (> 0).
        schedule: ``"constant"``, ``"cosine"`` (decay to 0 over ``epochs``) or
            ``"warmup_cosine"`` (linear warm-up over ``warmup`` epochs, then cosine to 0).
        warmup: warm-up length in epochs (``warmup_cosine`` only; 0 <= warmup < epochs).
        clip_norm: clip the gradient to this global norm before the optimiser; None = off.
        weight_decay: decoupled weight decay (AdamW-style: ``-lr * wd * params`` added to each
            update), pulling coordinates towards the origin; 0 = off.
        epochs: maximum number of epochs (passes over the training split).
        batch_size: mini-batch size; None = full batch (one step per epoch).
        validation_fraction: share of every class held out (stratified) for early stopping and
            selection of the best epoch and start; 0 = no validation split (the training split
            is monitored instead, and early stopping watches the training loss).
        patience: stop a start after this many epochs without a validation improvement; None =
            run all epochs (the best epoch is still restored).
        monitor: ``"val_loss"`` (DEBI loss on the validation split) or ``"val_bacc"``
            (validation balanced accuracy, ties broken by the lower validation loss).
        starts: number of independent starts trained together; the best on validation wins.
        lr_spread: width, in decades, of the per-start learning rates: start k uses
            ``learning_rate * 10 ** (lr_spread * u_k)`` with ``u_k`` evenly spaced in
            ``[-1/2, 1/2]``; 0 = every start uses ``learning_rate``.
        init_scale: soma/axon genes start U(-init_scale, init_scale) (shift-scale genes as
            :func:`debinn_jax.network.init_coords` draws them).
        loss: the DEBI loss settings (shared with the GA).
        chunk: epochs per compiled chunk; the host checks early stopping between chunks.
        population_batch: None = ``vmap`` over all starts (accelerators); an int = ``lax.map``
            over starts in batches of that size (often faster on CPU for large networks).
    """

    optimizer: str = "adam"
    learning_rate: float = 0.01
    schedule: str = "constant"
    warmup: int = 0
    clip_norm: float | None = None
    weight_decay: float = 0.0
    epochs: int = 1000
    batch_size: int | None = None
    validation_fraction: float = 0.2
    patience: int | None = 100
    monitor: str = "val_loss"
    starts: int = 8
    lr_spread: float = 0.0
    init_scale: float = 1.0
    loss: LossConfig = LossConfig()
    chunk: int = 100
    population_batch: int | None = None
    optimizer_kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        _optax_factory(self.optimizer)

        def positive_int(name: str, allow_none: bool = False, minimum: int = 1) -> None:
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
                raise ValueError(f"GDConfig.{name} must be an integer >= {minimum}, got {v!r}")

        def number(name: str, lo: float, lo_open: bool, hi: float = math.inf) -> None:
            v = getattr(self, name)
            ok = isinstance(v, int | float | np.floating) and not isinstance(v, bool)
            ok = ok and math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi
            if not ok:
                rel = ">" if lo_open else ">="
                raise ValueError(f"GDConfig.{name} must be a finite number {rel} {lo}, got {v!r}")

        number("learning_rate", 0.0, True)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"GDConfig.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        positive_int("epochs")
        positive_int("warmup", minimum=0)
        if self.schedule == "warmup_cosine" and self.warmup >= self.epochs:
            raise ValueError(
                f"GDConfig.warmup must be < epochs ({self.epochs}) for warmup_cosine, "
                f"got {self.warmup}"
            )
        if self.clip_norm is not None:
            number("clip_norm", 0.0, True)
        number("weight_decay", 0.0, False)
        positive_int("batch_size", allow_none=True)
        number("validation_fraction", 0.0, False, hi=0.9)
        positive_int("patience", allow_none=True)
        if self.monitor not in MONITORS:
            raise ValueError(f"GDConfig.monitor must be one of {MONITORS}, got {self.monitor!r}")
        positive_int("starts")
        number("lr_spread", 0.0, False)
        number("init_scale", 0.0, True)
        if not isinstance(self.loss, LossConfig):
            raise ValueError(f"GDConfig.loss must be a LossConfig, got {self.loss!r}")
        positive_int("chunk")
        positive_int("population_batch", allow_none=True)
        try:
            kwargs = dict(self.optimizer_kwargs)
            hash(tuple(kwargs.items()))
        except (TypeError, ValueError) as err:
            raise ValueError(
                "GDConfig.optimizer_kwargs must be a tuple of (name, hashable value) pairs, "
                f"got {self.optimizer_kwargs!r}"
            ) from err
        try:
            _optax_factory(self.optimizer)(learning_rate=1.0, **kwargs)
        except TypeError as err:
            raise ValueError(
                f"GDConfig.optimizer {self.optimizer!r} cannot be built with learning_rate and "
                f"optimizer_kwargs {self.optimizer_kwargs!r}: {err}"
            ) from err

    def learning_rates(self) -> np.ndarray:
        """Per-start learning rates, shape ``(starts,)`` (float32)."""
        u = np.linspace(-0.5, 0.5, self.starts) if self.starts > 1 else np.zeros(1)
        return (self.learning_rate * 10.0 ** (self.lr_spread * u)).astype(np.float32)


def make_schedule(config: GDConfig, steps_per_epoch: int) -> optax.Schedule:
    """Relative learning-rate schedule (peak 1) over optimiser steps."""
    total = config.epochs * steps_per_epoch
    if config.schedule == "constant":
        return optax.constant_schedule(1.0)
    if config.schedule == "cosine":
        return optax.cosine_decay_schedule(1.0, total, alpha=0.0)
    warm = config.warmup * steps_per_epoch
    return optax.warmup_cosine_decay_schedule(0.0, 1.0, max(warm, 1), total, end_value=0.0)


def make_optimizer(config: GDConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    """The optax chain with a *relative* learning rate (peak 1): clipping + the optimiser.

    The per-start learning rate multiplies the resulting updates (a traced array, so starts
    with different rates share one compiled program). This is exact for every optax optimiser
    whose learning rate is a final scaling of the update (adam, sgd, rmsprop, lion, ...).
    """
    factory = _optax_factory(config.optimizer)
    base = factory(
        learning_rate=make_schedule(config, steps_per_epoch), **dict(config.optimizer_kwargs)
    )
    if config.clip_norm is None:
        return base
    return optax.chain(optax.clip_by_global_norm(config.clip_norm), base)


def init_starts(key: jax.Array, spec: NetworkSpec, config: GDConfig) -> Coords:
    """Initial coordinates of every start: a pytree with leading axis ``config.starts``.

    Start k is drawn with ``fold_in(key, k)``; soma/axon genes are scaled by ``init_scale``.
    """

    def one(k: jax.Array) -> Coords:
        coords = init_coords(k, spec)
        return tuple(
            {
                name: v * config.init_scale if name in ("soma", "axon") else v
                for name, v in layer.items()
            }
            for layer in coords
        )

    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(config.starts))
    return jax.vmap(one)(keys)


def _static_config(config: GDConfig) -> GDConfig:
    """The config with its sweepable numbers normalised (the part that shapes the program)."""
    return dataclasses.replace(config, learning_rate=1.0, lr_spread=0.0, init_scale=1.0, starts=1)
