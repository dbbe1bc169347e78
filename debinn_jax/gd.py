"""Gradient-descent trainer for DEBI-NN ("spatial backpropagation", spec section 7).

The gradient of the DEBI loss (spec section 4, :mod:`debinn_jax.loss`) with respect to every
coordinate gene is taken with ``jax.grad`` and fed to any optax optimiser. A *population* of
independent starts (different initialisations and, optionally, learning rates) trains in one
compiled call (``vmap`` over starts, or ``lax.map`` chunks), and the start with the best
validation score is returned: the fair counterpart of a GA population of the same size.

Training is a ``lax.scan`` over epochs inside ``jit``. Early stopping freezes a start's state
once it has gone ``patience`` epochs without a validation improvement (so the population stays
vmappable); the host runs the scan in chunks of ``GDConfig.chunk`` epochs and stops as soon as
every start is frozen. The best state of each start (on the validation split) is kept in the
carry and restored at the end.

Metrics of epoch ``e`` all refer to the parameters *before* that epoch's update, so
``history["val_loss"][best_epoch]`` is the validation loss of the returned coordinates.

Project defaults, decided on validation splits only (``experiments/gd_study.py --stage
select``: 25 % outer validation split of each seed's training split, 5 seeds, balanced
accuracy, mean +- sd):

* network for GD: ``NetworkSpec(..., head="reference", shift_scale=True)``
  (:data:`GD_NETWORK_OPTIONS`). Shift-scale genes are the big step (they give the network
  biases: moons 0.872 -> 0.959, CTG 0.794 -> 0.833, HECKTOR 0.560 -> 0.664 for one start).
  The ``softmax`` head is best on moons (0.993) but unstable on the wider/deeper networks
  (CTG one start 0.709 +- 0.216, DLBCL 17-85-64-2 does not train: at the U(-1, 1) initialisation
  the median |logit| is 12-630 over 3 draws on CTG and DLBCL, so the softmax starts
  saturated), so it is not the default. The ``reference`` head divides by sum |a| and is
  immune to that scale.
* ``GDConfig()``: Adam, learning rate 0.01, constant schedule, full batch, 1000 epochs,
  patience 100 on the validation DEBI loss, 20 % stratified validation split, 8 starts with
  selection on validation, DEBI loss alpha 0.9. Outer-validation balanced accuracy of
  reference + shift-scale with 8 starts: moons 0.978 +- 0.015, CTG 0.831 +- 0.030,
  HECKTOR 0.712 +- 0.040 (best of all variants tried), DLBCL 0.558 +- 0.140 (10 outer cases:
  noise). Tried and not kept (no gain on validation): warm-up cosine schedule, gradient
  clipping at 1, per-start learning-rate spread of one decade, early stopping on validation
  balanced accuracy, alpha = 1.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from debinn_jax import checkpoint as ckpt
from debinn_jax import stopping
from debinn_jax.cache import ensure_compilation_cache
from debinn_jax.data.dataset import check_training_data
from debinn_jax.data.splits import stratified_holdout
from debinn_jax.driver import ChunkReport, drive
from debinn_jax.loss import LossConfig, LossFn, debi_loss_fn
from debinn_jax.network import Coords, NetworkSpec, apply, init_coords, log_proba_t

logger = logging.getLogger(__name__)

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


@dataclasses.dataclass(frozen=True)
class GDResult:
    """Outcome of :func:`train_gd`.

    Attributes:
        coords: best coordinate pytree of the selected start (no population axis).
        spec: the network.
        config: the settings used.
        history: per-epoch numpy arrays of the selected start, length ``epochs_run``:
            ``train_loss``, ``val_loss``, ``train_bacc``, ``val_bacc``, ``grad_norm``
            ``(epochs_run, L + 1)`` (one column per coordinate layer, input first),
            ``grad_norm_total``, ``z_flips`` (z genes whose sign changed in that update) and
            ``learning_rate`` (scheduled rate of the epoch's first step).
        histories: the same keys for every start, leading axis ``starts``, length = epochs
            computed for the population (frozen epochs repeat the frozen values).
        best_epoch: epoch of the returned coordinates (0 = the initialisation).
        epochs_run: epochs the selected start trained before it stopped.
        best_start: index of the selected start.
        start_scores: per-start best monitored validation value ``(starts,)`` (loss, or
            balanced accuracy for ``monitor="val_bacc"``).
        start_val_loss: per-start validation loss at its best epoch ``(starts,)``.
        learning_rates: per-start learning rates ``(starts,)``.
        train_idx: indices (into X) of the training split; val_idx: of the validation split.
        seconds: wall time of training (compilation included).
    """

    coords: Coords
    spec: NetworkSpec
    config: GDConfig
    history: dict[str, np.ndarray]
    histories: dict[str, np.ndarray]
    best_epoch: int
    epochs_run: int
    best_start: int
    start_scores: np.ndarray
    start_val_loss: np.ndarray
    learning_rates: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray
    seconds: float

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` for inputs ``X`` of shape ``(n, n_inputs)``."""
        X = jnp.asarray(np.asarray(X, np.float64), jnp.zeros(()).dtype)
        return np.asarray(apply(self.spec, self.coords, X))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class indices ``(n,)`` (argmax, ties to the lower index)."""
        return np.argmax(self.predict_proba(X), axis=1)


# ---------------------------------------------------------------------------------------------
# Pure building blocks


def balanced_accuracy_t(logp: jax.Array, y: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """Balanced accuracy (mean recall over the classes present) from ``(K, N)`` scores.

    Args:
        logp: class scores or log-probabilities ``(K, N)``; prediction = argmax over K.
        y: labels ``(N,)``.
        mask: optional sample weights ``(N,)``.
    """
    k = logp.shape[0]
    if mask is None:
        mask = jnp.ones(y.shape, logp.dtype)
    pred = jnp.argmax(logp, axis=0)
    onehot = jax.nn.one_hot(y, k, axis=0, dtype=logp.dtype) * mask
    counts = jnp.sum(onehot, axis=1)
    hits = jnp.sum(onehot * (pred == y), axis=1)
    present = counts > 0
    recall = jnp.where(present, hits / jnp.maximum(counts, 1e-12), 0.0)
    return jnp.sum(recall) / jnp.maximum(jnp.sum(present), 1)


def loss_and_logp(
    spec: NetworkSpec,
    coords: Coords,
    x_t: jax.Array,
    y: jax.Array,
    mask: jax.Array,
    loss_config: LossConfig,
) -> tuple[jax.Array, jax.Array]:
    """The DEBI loss (equal to :func:`debinn_jax.loss.debi_loss`) and the ``(K, N)`` log-probs.

    One forward pass serves the loss and the balanced accuracy.
    """
    logp = log_proba_t(spec, coords, x_t)
    return debi_loss_fn(spec, loss_config)(logp, y, mask, coords), logp


def layer_grad_norms(grads: Coords) -> jax.Array:
    """L2 norm of the gradient of each coordinate layer, shape ``(L + 1,)``."""
    return jnp.stack(
        [
            jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree_util.tree_leaves(layer)))
            for layer in grads
        ]
    )


def z_sign_flips(old: Coords, new: Coords) -> jax.Array:
    """Number of soma/axon z genes whose sign differs between ``old`` and ``new`` (a scalar).

    Each flip is a crossing of the |z| kink (the network reads z as |z|).
    """
    total = jnp.zeros((), jnp.int32)
    for lo, ln in zip(old, new, strict=True):
        for name in ("soma", "axon"):
            if name in lo:
                total = total + jnp.sum(
                    jnp.sign(lo[name][..., 2]) * jnp.sign(ln[name][..., 2]) < 0
                ).astype(jnp.int32)
    return total


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


# ---------------------------------------------------------------------------------------------
# The compiled training chunk


def _tree_where(cond: jax.Array, a: Any, b: Any) -> Any:
    return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)


@functools.lru_cache(maxsize=64)
def _chunk_fn(
    spec: NetworkSpec,
    config: GDConfig,
    n_train: int,
    chunk: int,
    optimizer: optax.GradientTransformation | None = None,
    loss_fn: LossFn | None = None,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compiled (init_state, run_chunk) for one static configuration.

    ``config`` here has its sweepable numbers (learning rate, spread, init scale) normalised,
    so changing them does not recompile. A user ``optimizer`` replaces the one the config
    names (with its schedule, clipping and weight decay); a user ``loss_fn`` replaces the DEBI
    loss. Both are cached by identity.
    """
    full_batch = config.batch_size is None or config.batch_size >= n_train
    bs = n_train if full_batch else config.batch_size
    n_batches = 1 if full_batch else -(-n_train // bs)
    if optimizer is None:
        tx = make_optimizer(config, n_batches)
        sched = make_schedule(config, n_batches)
        weight_decay = config.weight_decay
    else:  # the transformation owns its learning rate, schedule and decay
        tx, sched, weight_decay = optimizer, optax.constant_schedule(1.0), 0.0
    lc = config.loss
    by_bacc = config.monitor == "val_bacc"

    def lossfn(params: Coords, x_t: jax.Array, y: jax.Array, mask: jax.Array):
        if loss_fn is None:
            return loss_and_logp(spec, params, x_t, y, mask, lc)
        logp = log_proba_t(spec, params, x_t)
        return loss_fn(logp, y, mask, params), logp

    grad_fn = jax.value_and_grad(lossfn, has_aux=True)

    def init_state(params: Coords) -> dict[str, Any]:
        inf = jnp.asarray(jnp.inf, jnp.zeros(()).dtype)
        return {
            "params": params,
            "opt": tx.init(params),
            "best": params,
            "best_loss": inf,
            "best_bacc": jnp.asarray(-1.0, jnp.zeros(()).dtype),
            "best_epoch": jnp.zeros((), jnp.int32),
            "since": jnp.zeros((), jnp.int32),
            "active": jnp.asarray(True),
            "step": jnp.zeros((), jnp.int32),
            "epoch": jnp.zeros((), jnp.int32),
        }

    def update(params, opt, step, grads, lr):
        upd, opt = tx.update(grads, opt, params)
        if weight_decay > 0:
            factor = sched(step) * weight_decay
            upd = jax.tree_util.tree_map(lambda u, p: u - factor * p, upd, params)
        upd = jax.tree_util.tree_map(lambda u: lr * u, upd)
        return optax.apply_updates(params, upd), opt, step + 1

    def epoch_one(st, lr, key, data):
        xtr, ytr, xva, yva = data
        params = st["params"]
        ones_tr = jnp.ones(ytr.shape, xtr.dtype)
        if full_batch:
            (tr_loss, tr_logp), grads = grad_fn(params, xtr, ytr, ones_tr)
            new_params, opt, step = update(params, st["opt"], st["step"], grads, lr)
        else:
            tr_loss, tr_logp = lossfn(params, xtr, ytr, ones_tr)
            perm = jax.random.permutation(key, n_train)
            pad = n_batches * bs - n_train
            idx = jnp.concatenate([perm, perm[:pad]]).reshape(n_batches, bs)
            bmask = (jnp.arange(n_batches * bs) < n_train).astype(xtr.dtype).reshape(n_batches, bs)

            def batch_step(carry, inp):
                p, o, s, gsum = carry
                bi, bm = inp
                (_, _), g = grad_fn(p, xtr[:, bi], ytr[bi], bm)
                p, o, s = update(p, o, s, g, lr)
                gsum = jax.tree_util.tree_map(jnp.add, gsum, g)
                return (p, o, s, gsum), None

            zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
            (new_params, opt, step, gsum), _ = jax.lax.scan(
                batch_step, (params, st["opt"], st["step"], zeros), (idx, bmask)
            )
            grads = jax.tree_util.tree_map(lambda g: g / n_batches, gsum)
        tr_bacc = balanced_accuracy_t(tr_logp, ytr)
        va_loss, va_logp = lossfn(params, xva, yva, jnp.ones(yva.shape, xva.dtype))
        va_bacc = balanced_accuracy_t(va_logp, yva)

        active = st["active"]
        if by_bacc:
            better = (va_bacc > st["best_bacc"]) | (
                (va_bacc == st["best_bacc"]) & (va_loss < st["best_loss"])
            )
        else:
            better = va_loss < st["best_loss"]
        improved = active & better
        since = jnp.where(improved, 0, st["since"] + 1)
        still = active & (st["epoch"] + 1 < config.epochs)
        if config.patience is not None:
            still = still & (since < config.patience)
        new = {
            "params": _tree_where(still, new_params, params),
            "opt": _tree_where(still, opt, st["opt"]),
            "best": _tree_where(improved, params, st["best"]),
            "best_loss": jnp.where(improved, va_loss, st["best_loss"]),
            "best_bacc": jnp.where(improved, va_bacc, st["best_bacc"]),
            "best_epoch": jnp.where(improved, st["epoch"], st["best_epoch"]),
            "since": jnp.where(active, since, st["since"]),
            "active": still,
            "step": jnp.where(still, step, st["step"]),
            "epoch": jnp.where(active, st["epoch"] + 1, st["epoch"]),
        }
        gn = layer_grad_norms(grads)
        metrics = {
            "train_loss": tr_loss,
            "val_loss": va_loss,
            "train_bacc": tr_bacc,
            "val_bacc": va_bacc,
            "grad_norm": gn,
            "grad_norm_total": jnp.sqrt(jnp.sum(jnp.square(gn))),
            "z_flips": jnp.where(still, z_sign_flips(params, new_params), 0),
            "learning_rate": lr * sched(st["step"]),
            "active": active,
        }
        return new, metrics

    def epoch_pop(state, key, lrs, data):
        if lrs.shape[0] == 1:  # one start: no batch axis inside (better kernels on CPU)
            squeeze = functools.partial(jax.tree_util.tree_map, lambda v: v[0])
            st, m = epoch_one(squeeze(state), lrs[0], key, data)
            return jax.tree_util.tree_map(lambda v: v[None], (st, m))
        if config.population_batch is None:
            return jax.vmap(lambda s, lr: epoch_one(s, lr, key, data))(state, lrs)
        return jax.lax.map(
            lambda a: epoch_one(a[0], a[1], key, data),
            (state, lrs),
            batch_size=config.population_batch,
        )

    @jax.jit
    def run_chunk(state, lrs, keys, data):
        return jax.lax.scan(lambda s, k: epoch_pop(s, k, lrs, data), state, keys)

    return jax.jit(jax.vmap(init_state)), run_chunk


def _static_config(config: GDConfig) -> GDConfig:
    """The config with its sweepable numbers normalised (the part that shapes the program)."""
    return dataclasses.replace(config, learning_rate=1.0, lr_spread=0.0, init_scale=1.0, starts=1)


def _check_data(spec: NetworkSpec, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X (n, f) in the float dtype, y (n,) int32)`` after the shared check."""
    X, y = check_training_data(X, y, spec.n_inputs, spec.n_classes, where="train_gd")
    if X.ndim != 2:
        raise ValueError(f"train_gd: X must have shape (n, {spec.n_inputs}), got {X.shape}")
    return X.astype(jnp.zeros(()).dtype), y


def _progress_line(state: dict[str, Any], config: GDConfig, seconds: float) -> str:
    """One chunk's progress: epoch, starts still training or stopped early, best validation."""
    ran = np.asarray(state["epoch"])
    n_active = int(np.sum(np.asarray(state["active"])))
    n_early = int(np.sum(~np.asarray(state["active"]) & (ran < config.epochs)))
    status = f"{n_active} of {config.starts} starts still training"
    if n_early:
        status += f", {n_early} stopped early (no gain in {config.patience} epochs)"
    return (
        f"[gd] epoch {int(ran.max()):5d} of {config.epochs}: {status}; best val loss "
        f"{np.min(np.asarray(state['best_loss'])):.4f}, best val bacc "
        f"{np.max(np.asarray(state['best_bacc'])):.3f} ({seconds:.1f} s)"
    )


def _per_start(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The chunks' ``(epochs, starts, ...)`` metrics joined as ``(starts, epochs, ...)``."""
    return {k: np.moveaxis(np.concatenate([p[k] for p in parts], axis=0), 0, 1) for k in parts[0]}


def train_gd(
    spec: NetworkSpec,
    X: Any,
    y: Any,
    key: jax.Array,
    config: GDConfig = GDConfig(),
    *,
    progress: bool = False,
    init: Coords | None = None,
    callback: stopping.ChunkCallback | None = None,
    optimizer: optax.GradientTransformation | None = None,
    loss_fn: LossFn | None = None,
    checkpoint: ckpt.PathLike | None = None,
    checkpoint_every: float = 0.0,
) -> GDResult:
    """Train DEBI-NN coordinates by gradient descent; return the best start on validation.

    Args:
        spec: the network.
        X: standardised inputs ``(n, n_inputs)`` (the caller scales on its training split).
        y: integer class indices ``(n,)``.
        key: a ``jax.random`` key, typed (``jax.random.key``) or legacy
            (``jax.random.PRNGKey``, the same stream); the same key and config give the same
            result.
        config: the settings (:class:`GDConfig`).
        progress: log one line per compiled chunk at INFO level on the ``debinn_jax.gd``
            logger (the ``debinn`` command shows them; a script needs e.g.
            ``logging.basicConfig(level=logging.INFO)``).
        init: optional initial coordinates, either one pytree or a pytree with a leading
            axis of size ``config.starts`` (default: :func:`init_starts`).
        callback: ``callback(epoch, histories)`` after every chunk
            (:data:`debinn_jax.stopping.ChunkCallback`): ``epoch`` is the most epochs any
            start has run, ``histories`` the per-start metrics so far (``(starts, epochs)``
            arrays, the layout of :attr:`GDResult.histories` without ``epochs_run``).
            Returning True stops training there: the result is the best start's best
            epoch so far, as when the epoch budget ends.
        optimizer: any ``optax.GradientTransformation`` (e.g.
            ``optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule))``); it then
            owns the learning rate, schedule, clipping and weight decay (``config``'s
            ``optimizer``, ``learning_rate``, ``lr_spread``, ``schedule``, ``warmup``,
            ``clip_norm`` and ``weight_decay`` are not used; the history's
            ``learning_rate`` reads 1). Default: the one ``config`` names (:func:`make_optimizer`).
        loss_fn: what GD minimises, a :data:`debinn_jax.loss.LossFn`
            ``loss_fn(logp (K, N), y (N,), mask (N,), coords) -> ()`` (default: the DEBI loss
            of ``config.loss``; :func:`debinn_jax.loss.debi_loss_fn` builds it, to extend it).
            The validation loss that picks the best epoch and start is the same function.
        checkpoint: a file holding the starts' training state and metrics after the last
            chunk written; resumed from when it belongs to this run (same spec, config, data,
            key, initial coordinates, optimizer and loss names), rewritten atomically after
            chunks and kept after the end, as in :func:`debinn_jax.ga.train_ga`. A user
            ``optimizer`` or ``loss_fn`` is identified by its name only.
        checkpoint_every: seconds between periodic checkpoint writes; 0 = after every chunk.

    Raises:
        debinn_jax.stopping.RunInterrupted: SIGINT or SIGTERM arrived during the run (it
            stops after the current chunk).
        debinn_jax.checkpoint.CheckpointError: ``checkpoint`` is damaged or belongs to another
            run (a ``ValueError``; the file is left as it is).

    Returns:
        A :class:`GDResult`.
    """
    if not isinstance(config, GDConfig):
        raise ValueError(f"train_gd: config must be a GDConfig, got {type(config).__name__}")
    X, y = _check_data(spec, X, y)
    if optimizer is not None and not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(
            "train_gd: optimizer must be an optax.GradientTransformation (e.g. "
            f"optax.adam(1e-2)), got {type(optimizer).__name__}; a name goes in GDConfig"
        )
    if loss_fn is not None and not callable(loss_fn):
        raise ValueError(f"train_gd: loss_fn must be a function, got {type(loss_fn).__name__}")
    ensure_compilation_cache()
    key = jnp.asarray(key)
    if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        try:  # a legacy PRNGKey (uint32 key data): the same stream as a typed key
            key = jax.random.wrap_key_data(key)
        except (TypeError, ValueError):
            raise ValueError(
                f"train_gd: key must be a jax.random key, got an array of shape {key.shape} "
                f"and dtype {key.dtype}"
            ) from None
    t0 = time.perf_counter()
    k_split, k_init, k_train = jax.random.split(key, 3)
    tr_idx, va_idx = stratified_holdout(k_split, y, config.validation_fraction)
    if va_idx.size == 0:
        va_idx_eff = tr_idx
    else:
        va_idx_eff = va_idx
    data = (
        jnp.asarray(X[tr_idx].T),
        jnp.asarray(y[tr_idx]),
        jnp.asarray(X[va_idx_eff].T),
        jnp.asarray(y[va_idx_eff]),
    )
    if init is None:
        params0 = init_starts(k_init, spec, config)
    else:
        lead = jax.tree_util.tree_leaves(init)[0].ndim
        one_ndim = jax.tree_util.tree_leaves(init_coords(k_init, spec))[0].ndim
        if lead == one_ndim:
            init = jax.tree_util.tree_map(
                lambda v: jnp.broadcast_to(v, (config.starts, *v.shape)), init
            )
        params0 = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.zeros(()).dtype), init)
    if optimizer is None:
        lrs = jnp.asarray(config.learning_rates())
    else:  # the transformation's own learning rate, the same for every start
        lrs = jnp.ones((config.starts,), jnp.zeros(()).dtype)
    chunk = min(config.chunk, config.epochs)
    init_state, run_chunk = _chunk_fn(
        spec, _static_config(config), int(tr_idx.size), chunk, optimizer, loss_fn
    )
    state = init_state(params0)
    n_chunks = -(-config.epochs // chunk)
    epoch_keys = jax.random.split(k_train, n_chunks * chunk).reshape(n_chunks, chunk)
    saver = ckpt.Checkpointer(
        checkpoint,
        "train_gd",
        {
            "network": ckpt.digest(spec),
            "config": ckpt.digest(config),
            "data": ckpt.digest(X, y),
            "key": ckpt.key_fingerprint(key),
            "init": ckpt.digest(*jax.tree_util.tree_leaves(params0)),
            "optimizer": str(ckpt.function_name(optimizer)),
            "loss_fn": str(ckpt.function_name(loss_fn)),
        },
        checkpoint_every,
    )
    parts: list[dict[str, np.ndarray]] = []
    first_chunk = 0
    resumed = saver.resume(state)
    if resumed is not None:
        state, hist0, header = resumed
        parts.append(hist0)
        first_chunk = int(header["extra"]["chunks"])
        logger.info(f"train_gd: resumed from {checkpoint} at epoch {header['step']}")

    def any_active(state: dict[str, Any]) -> bool:
        return bool(np.any(np.asarray(state["active"])))

    def advance(state: dict[str, Any], c: int) -> tuple[dict[str, Any], ChunkReport]:
        state, m = run_chunk(state, lrs, epoch_keys[c], data)
        parts.append(jax.device_get(m))
        epoch = int(np.max(np.asarray(state["epoch"])))
        done = not any_active(state) or c == n_chunks - 1
        line = functools.partial(_progress_line, state, config)
        return state, ChunkReport(epoch, done, line, {"chunks": c + 1})

    state = drive(
        state,
        advance,
        # a fresh run has every start active; a resumed one may have none left
        is_done=lambda s: bool(parts) and not any_active(s),
        where="train_gd",
        unit="epoch",
        saver=saver,
        history=lambda: {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]},
        view=lambda: _per_start(parts),
        callback=callback,
        log=logger if progress else None,
        chunks=range(first_chunk, n_chunks),
    )
    # (epochs, starts, ...) -> (starts, epochs, ...)
    hist_all = _per_start(parts)
    best_loss = np.asarray(state["best_loss"])
    best_bacc = np.asarray(state["best_bacc"])
    if config.monitor == "val_bacc":
        order = np.lexsort((best_loss, -best_bacc))
        scores = best_bacc
    else:
        order = np.lexsort((-best_bacc, best_loss))
        scores = best_loss
    b = int(order[0])
    epochs_run = int(np.asarray(state["epoch"])[b])
    active_all = hist_all.pop("active")
    history = {k: v[b, :epochs_run].copy() for k, v in hist_all.items()}
    hist_all["epochs_run"] = np.asarray(state["epoch"])
    hist_all["active"] = active_all
    coords = jax.tree_util.tree_map(lambda v: v[b], state["best"])
    return GDResult(
        coords=coords,
        spec=spec,
        config=config,
        history=history,
        histories=hist_all,
        best_epoch=int(np.asarray(state["best_epoch"])[b]),
        epochs_run=epochs_run,
        best_start=b,
        start_scores=scores,
        start_val_loss=best_loss,
        learning_rates=np.asarray(lrs),
        train_idx=tr_idx,
        val_idx=va_idx,
        seconds=time.perf_counter() - t0,
    )
