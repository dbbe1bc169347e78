"""Many GD runs in one compiled call: settings x seeds, the GD counterpart of ``run_many``.

:func:`run_many_gd` trains R independent runs of the GD trainer (each run: its own
stratified validation split, its starts, early stopping, the best start picked on validation,
exactly as :func:`~debinn_jax.gd.train_gd` with a full batch) as one compiled program per
chunk of epochs. Everything that may differ between runs is an array with a leading runs
axis R, so a sweep over hundreds of settings compiles a handful of programs:

* ``keys`` ``(R,)`` (seeds);
* the data: ``X`` ``(N, F)`` shared or ``(R, N, F)`` per run, ``sample_mask`` marking real
  cases of padded folds;
* numeric settings (:data:`GD_FLOAT_FIELDS`, :data:`GD_INT_FIELDS`): learning rate, per-start
  learning-rate spread, initial coordinate scale, decoupled weight decay, gradient clipping
  (0 = off), the L1/L2 lambdas, the training head's temperature (0 = the spec's head; see
  below), epochs, patience, number of starts (at most ``max_starts``),
  warm-up epochs, the schedule (an index into :data:`SCHEDULES`), the optimiser (an index into
  the call's ``optimizers``, chosen per run by ``lax.switch``) and the monitor (an index into
  :data:`~debinn_jax.gd.MONITORS`); ``validation_fraction`` changes only the masks built on the
  host;
* the network switches (:data:`GD_FLAG_FIELDS` as 0/1): they turn off, per run, a feature
  that the spec enables (weight standardisation, group normalisation, spatial dropout), as the
  GA's sweep does.

Static (one compile each): the network (layer sizes, shift-scale genes, the features any run
may switch on), the loss's alpha / variant / class weighting, the tuple of optimisers, the
largest start count, the chunk length and the run mapping.

Runs are mapped with ``jax.lax.map`` (``run_batch_size=1``: a plain scan over runs, best on
CPU) or ``jax.vmap`` (``None``; accelerators). Inside a run, the starts are vmapped and the
epochs are a ``lax.while_loop`` that ends when every start has stopped: under ``lax.map`` a run
that stops early costs nothing more. Each epoch takes one forward pass over all N cases:
its log-probabilities give the training loss (differentiated), and the validation loss and
balanced accuracy of the same parameters, through the two masks. Every argument and result
is samples first (``X`` ``(N, F)``, probabilities ``(n, K)``); the compiled program transposes
the data once and runs the forward pass with samples on the last axis, the trainers' internal
layout (``debinn_jax.network.forward``).

Run i equals ``train_gd(spec_i, X_i, y_i, keys[i], config_i)`` with ``batch_size=None``
(same validation split, same initial coordinates, same updates) up to float rounding:
:meth:`GDSweepResult.run_config` and :meth:`GDSweepResult.run_spec` give ``config_i`` and
``spec_i``.

**Training head** (``head_temperature``): with a temperature T > 0 a run minimises the loss of
``softmax(z / T)`` over the output signals z instead of the spec's head (the network is the
same and so are its predictions, ``argmax z``, which both heads keep; its probabilities are
the spec's head's). The 2025 reference head has a flat region: with two classes its scores
``z / (|z_0| + |z_1|)`` differ by exactly 1 wherever the output signals differ in sign, so
such a case gives no gradient; a tempered softmax has none. Such a run equals ``train_gd``
with ``spec_i`` given ``head="softmax", temperature=T`` (then predicted with ``spec_i``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Mapping, Sequence
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
from debinn_jax.gd.config import MONITORS, SCHEDULES, GDConfig, _optax_factory
from debinn_jax.gd.step import balanced_accuracy_t
from debinn_jax.loss import log_proba_terms, masked_loss, weight_penalty
from debinn_jax.network import Coords, NetworkSpec, init_coords, model_proba
from debinn_jax.network.forward import head_scores, output_signals_t, scores_t

logger = logging.getLogger(__name__)

#: Per-run float settings (``clip_norm`` 0 = no clipping).
GD_FLOAT_FIELDS = (
    "learning_rate",
    "lr_spread",
    "init_scale",
    "weight_decay",
    "clip_norm",
    "l1",
    "l2",
    "head_temperature",
    "validation_fraction",
)
#: Per-run integer settings (``patience`` :data:`NEVER` = none; ``schedule``, ``optimizer`` and
#: ``monitor`` are indices, or names in ``settings``).
GD_INT_FIELDS = ("epochs", "patience", "starts", "warmup", "schedule", "optimizer", "monitor")
#: Network switches a sweep may turn off per run (0/1), as :data:`debinn_jax.ga.FLAG_FIELDS`.
GD_FLAG_FIELDS = ("standardize_weights", "normalization", "spatial_dropout")
GD_SWEEPABLE = GD_FLOAT_FIELDS + GD_INT_FIELDS + GD_FLAG_FIELDS
NEVER = 2**30
"""``patience=None`` as a number."""

OptimizerLike = str | tuple[str, Mapping[str, Any]] | optax.GradientTransformation
"""One entry of ``optimizers``: an optax optimiser name (built with ``learning_rate=1``), a
``(name, kwargs)`` pair, or a ready transformation whose update is proportional to its
learning rate, built with learning rate 1 (the run's rate and schedule multiply its update)."""


# --------------------------------------------------------------------------------------------
# optimisers and schedules


def _optimizer_key(opt: OptimizerLike) -> Any:
    """A hashable description of one optimiser entry (for the compile cache)."""
    if isinstance(opt, optax.GradientTransformation):
        return opt
    if isinstance(opt, str):
        _optax_factory(opt)
        return (opt, ())
    if (
        isinstance(opt, tuple)
        and len(opt) == 2
        and isinstance(opt[0], str)
        and isinstance(opt[1], Mapping | tuple)
    ):
        _optax_factory(opt[0])
        return (opt[0], tuple(sorted(dict(opt[1]).items())))
    raise ValueError(
        "optimizers: each entry must be an optax optimiser name, a (name, kwargs) pair or an "
        f"optax.GradientTransformation, got {opt!r}"
    )


def _optimizer_name(key: Any) -> str:
    if isinstance(key, optax.GradientTransformation):
        return ckpt.function_name(key.update) or "transformation"
    name, kwargs = key
    return name if not kwargs else f"{name}({', '.join(f'{k}={v}' for k, v in kwargs)})"


def _build_optimizer(key: Any) -> optax.GradientTransformation:
    if isinstance(key, optax.GradientTransformation):
        return key
    name, kwargs = key
    return _optax_factory(name)(learning_rate=1.0, **dict(kwargs))


def relative_rate(schedule: Any, step: Any, epochs: Any, warmup: Any) -> jax.Array:
    """The relative learning rate (peak 1) of :func:`debinn_jax.gd.make_schedule` with traced
    arguments (full batch: one step per epoch).

    Args:
        schedule: index into :data:`SCHEDULES` (0 constant, 1 cosine decay to 0 over
            ``epochs``, 2 linear warm-up over ``max(warmup, 1)`` steps then cosine to 0).
        step: optimiser steps taken; epochs, warmup: as in :class:`GDConfig`.

    Returns:
        A scalar (the default float dtype), equal to the optax schedules ``train_gd`` uses.
    """
    dtype = jnp.zeros(()).dtype
    t = jnp.asarray(step, dtype)
    total = jnp.asarray(epochs, dtype)
    cosine = 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(t, total) / total))
    w = jnp.maximum(jnp.asarray(warmup, dtype), 1.0)
    decay = jnp.maximum(total - w, 1.0)
    after = 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(t - w, decay) / decay))
    warm_cosine = jnp.where(t < w, t / w, after)
    return jnp.select([schedule == 0, schedule == 1], [jnp.ones((), dtype), cosine], warm_cosine)


def _clip(grads: Coords, max_norm: jax.Array) -> Coords:
    """``optax.clip_by_global_norm(max_norm)`` with a traced bound; ``max_norm <= 0``: off."""
    norm = optax.tree.norm(grads)
    scale = jnp.where((max_norm > 0) & (norm >= max_norm), max_norm / jnp.maximum(norm, 1e-30), 1)
    return jax.tree_util.tree_map(lambda g: g * scale.astype(g.dtype), grads)


def start_rates(learning_rate: Any, lr_spread: Any, starts: Any, max_starts: int) -> jax.Array:
    """Per-start learning rates ``(max_starts,)``: :meth:`GDConfig.learning_rates` with
    traced ``starts`` (the first ``starts`` entries; the rest repeat the pattern's end)."""
    k = jnp.arange(max_starts, dtype=jnp.zeros(()).dtype)
    n = jnp.asarray(starts, k.dtype)
    u = jnp.where(n > 1, k / jnp.maximum(n - 1.0, 1.0) - 0.5, 0.0)
    return learning_rate * 10.0 ** (lr_spread * u)


def init_starts_traced(key: jax.Array, spec: NetworkSpec, scale: Any, max_starts: int) -> Coords:
    """:func:`debinn_jax.gd.init_starts` with a traced ``init_scale``: ``max_starts`` starts,
    start k drawn with ``fold_in(key, k)``; soma/axon genes times ``scale``."""

    def one(k: jax.Array) -> Coords:
        coords = init_coords(k, spec)
        return tuple(
            {n: v * scale if n in ("soma", "axon") else v for n, v in layer.items()}
            for layer in coords
        )

    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(max_starts))
    return jax.vmap(one)(keys)


# --------------------------------------------------------------------------------------------
# the compiled program


def _tree_where(cond: jax.Array, a: Any, b: Any) -> Any:
    return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)


def _mapped(fn: Any, run_batch_size: int | None) -> Any:
    """Map ``fn`` over the leading axis of its first argument (a tuple of per-run pytrees)."""
    if run_batch_size is None:
        return lambda per_run, *shared: jax.vmap(lambda a: fn(a, *shared))(per_run)
    batch = None if run_batch_size == 1 else run_batch_size
    return lambda per_run, *shared: jax.lax.map(lambda a: fn(a, *shared), per_run, batch_size=batch)


@functools.lru_cache(maxsize=16)
def _compiled(
    spec: NetworkSpec,
    loss_key: tuple[float, bool, str],
    optimizer_keys: tuple[Any, ...],
    max_starts: int,
    chunk: int,
    run_batch_size: int | None,
    per_run_x: bool,
    dtype: str,
    key_impl: str,
) -> tuple[Any, Any]:
    """Compiled ``(start, chunk)`` for one static configuration (``dtype`` is part of the key:
    the default float dtype shapes the program; keys arrive as key data of ``key_impl``)."""
    alpha, use_class_weights, variant = loss_key
    txs = tuple(_build_optimizer(k) for k in optimizer_keys)

    def flags_of(hp: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
        return {name: hp[name] for name in GD_FLAG_FIELDS}

    def loss_fn(params: Coords, hp, x_t, y, m_train):
        flags = flags_of(hp)
        z = output_signals_t(spec, params, x_t, flags)
        temp = hp["head_temperature"]
        tempered = z / jnp.where(temp > 0, temp, 1.0).astype(z.dtype)
        logp = jax.nn.log_softmax(jnp.where(temp > 0, tempered, head_scores(spec, z)), axis=0)
        terms = log_proba_terms(logp, y, alpha, variant)
        loss = masked_loss(terms, y, m_train, use_class_weights, variant)
        l1, l2 = hp["l1"], hp["l2"]
        penalty = jax.lax.cond(
            (l1 > 0) | (l2 > 0),
            lambda p: weight_penalty(spec, p, l1, l2, flags).astype(loss.dtype),
            lambda p: jnp.zeros((), loss.dtype),
            params,
        )
        return loss + penalty, (logp, terms, penalty)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def opt_init(params: Coords) -> tuple[Any, ...]:
        return tuple(tx.init(params) for tx in txs)

    def start(per_run: tuple) -> dict[str, Any]:
        key_data, hp = per_run
        key = jax.random.wrap_key_data(key_data, impl=key_impl)
        k_init = jax.random.split(key, 3)[1]
        params = init_starts_traced(k_init, spec, hp["init_scale"], max_starts)
        inf = jnp.full((max_starts,), jnp.inf, jnp.zeros(()).dtype)
        return {
            "params": params,
            "opt": jax.vmap(opt_init)(params),
            "best": params,
            "best_loss": inf,
            "best_bacc": jnp.full((max_starts,), -1.0, inf.dtype),
            "best_epoch": jnp.zeros((max_starts,), jnp.int32),
            "since": jnp.zeros((max_starts,), jnp.int32),
            "active": jnp.arange(max_starts) < hp["starts"],
            "step": jnp.zeros((max_starts,), jnp.int32),
            "epoch": jnp.zeros((max_starts,), jnp.int32),
        }

    def epoch_one(st, lr, hp, x_t, y, m_train, m_val):
        params = st["params"]
        (tr_loss, (logp, terms, penalty)), grads = grad_fn(params, hp, x_t, y, m_train)
        # the validation loss of the same parameters (same penalty), from the same pass
        va_loss = masked_loss(terms, y, m_val, use_class_weights, variant) + penalty
        va_bacc = balanced_accuracy_t(logp, y, m_val)
        grads = _clip(grads, hp["clip_norm"])
        branches = []
        for i, tx in enumerate(txs):

            def branch(g, opts, p, i=i, tx=tx):
                upd, new = tx.update(g, opts[i], p)
                return upd, opts[:i] + (new,) + opts[i + 1 :]

            branches.append(branch)
        if len(branches) == 1:
            upd, opt = branches[0](grads, st["opt"], params)
        else:
            upd, opt = jax.lax.switch(hp["optimizer"], branches, grads, st["opt"], params)
        rate = relative_rate(hp["schedule"], st["step"], hp["epochs"], hp["warmup"])
        decay = rate * hp["weight_decay"]
        upd = jax.tree_util.tree_map(
            lambda u, p: (lr * (rate * u - decay * p)).astype(p.dtype), upd, params
        )
        new_params = optax.apply_updates(params, upd)

        active = st["active"]
        by_bacc = hp["monitor"] == 1
        better = jnp.where(
            by_bacc,
            (va_bacc > st["best_bacc"])
            | ((va_bacc == st["best_bacc"]) & (va_loss < st["best_loss"])),
            va_loss < st["best_loss"],
        )
        improved = active & better
        since = jnp.where(improved, 0, st["since"] + 1)
        still = active & (st["epoch"] + 1 < hp["epochs"]) & (since < hp["patience"])
        new = {
            "params": _tree_where(still, new_params, params),
            "opt": _tree_where(still, opt, st["opt"]),
            "best": _tree_where(improved, params, st["best"]),
            "best_loss": jnp.where(improved, va_loss, st["best_loss"]),
            "best_bacc": jnp.where(improved, va_bacc, st["best_bacc"]),
            "best_epoch": jnp.where(improved, st["epoch"], st["best_epoch"]),
            "since": jnp.where(active, since, st["since"]),
            "active": still,
            "step": jnp.where(still, st["step"] + 1, st["step"]),
            "epoch": jnp.where(active, st["epoch"] + 1, st["epoch"]),
        }
        nan = jnp.asarray(jnp.nan, jnp.float32)
        metrics = {
            "train_loss": jnp.where(active, tr_loss.astype(jnp.float32), nan),
            "val_loss": jnp.where(active, va_loss.astype(jnp.float32), nan),
            "val_bacc": jnp.where(active, va_bacc.astype(jnp.float32), nan),
        }
        return new, metrics

    def run_chunk(per_run: tuple, x_shared, y_shared):
        state, hp, m_train, m_val, x_run, y_run = per_run
        x_t = x_run if per_run_x else x_shared
        y = y_run if per_run_x else y_shared
        lrs = start_rates(hp["learning_rate"], hp["lr_spread"], hp["starts"], max_starts)
        buf = {
            k: jnp.full((chunk, max_starts), jnp.nan, jnp.float32)
            for k in ("train_loss", "val_loss", "val_bacc")
        }

        def body(carry):
            k, st, b = carry
            st, m = jax.vmap(
                lambda s, lr: epoch_one(s, lr, hp, x_t, y, m_train, m_val), in_axes=(0, 0)
            )(st, lrs)
            b = {name: b[name].at[k].set(m[name]) for name in b}
            return k + 1, st, b

        def cond(carry):
            k, st, _ = carry
            return (k < chunk) & jnp.any(st["active"])

        _, state, buf = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), state, buf))
        return state, buf

    start_fn = jax.jit(_mapped(start, run_batch_size))
    chunk_fn = jax.jit(_mapped(run_chunk, run_batch_size))
    return start_fn, chunk_fn


# --------------------------------------------------------------------------------------------
# settings


def _index_of(name: str, value: Any, names: Sequence[str]) -> np.ndarray:
    """Names or indices -> int32 indices into ``names`` (ValueError naming the field)."""
    arr = np.asarray(value)
    if arr.dtype.kind in "US" or arr.dtype == object:
        flat = [str(v) for v in np.ravel(arr)]
        bad = [v for v in flat if v not in names]
        if bad:
            raise ValueError(f"settings: {name} {bad[0]!r} is not one of {list(names)}")
        return np.asarray([names.index(v) for v in flat], np.int32).reshape(arr.shape)
    idx = arr.astype(np.int64)
    if not np.array_equal(idx, arr) or np.any((idx < 0) | (idx >= len(names))):
        raise ValueError(f"settings: {name} must be names in {list(names)} or indices, got {value}")
    return idx.astype(np.int32)


def gd_settings(
    config: GDConfig,
    settings: Mapping[str, Any] | None,
    n_runs: int,
    optimizer_names: Sequence[str],
    max_starts: int,
) -> dict[str, np.ndarray]:
    """Per-run settings as ``(R,)`` arrays, defaults from ``config``, every value checked.

    Args:
        config: the defaults of every field (``optimizer`` defaults to index 0, the first of
            the call's optimisers).
        settings: ``name -> (R,)`` values or a scalar, for names in :data:`GD_SWEEPABLE`;
            ``schedule``, ``optimizer`` and ``monitor`` may be names; ``patience`` and
            ``clip_norm`` may be None (off).
        n_runs: R.
        optimizer_names: names of the call's optimisers (for ``optimizer`` given by name).
        max_starts: the largest start count of the call.

    Raises:
        ValueError: an unknown field or a value out of range (the message names the field).
    """
    settings = dict(settings or {})
    unknown = set(settings) - set(GD_SWEEPABLE)
    if unknown:
        raise ValueError(
            f"settings: unknown field(s) {sorted(unknown)}; sweepable fields are {GD_SWEEPABLE}"
        )
    defaults: dict[str, Any] = {
        "learning_rate": config.learning_rate,
        "lr_spread": config.lr_spread,
        "init_scale": config.init_scale,
        "weight_decay": config.weight_decay,
        "clip_norm": 0.0 if config.clip_norm is None else config.clip_norm,
        "l1": config.loss.l1,
        "l2": config.loss.l2,
        "head_temperature": 0.0,
        "validation_fraction": config.validation_fraction,
        "epochs": config.epochs,
        "patience": NEVER if config.patience is None else config.patience,
        "starts": config.starts,
        "warmup": config.warmup,
        "schedule": config.schedule,
        "optimizer": 0,
        "monitor": config.monitor,
        **{f: 1.0 for f in GD_FLAG_FIELDS},
    }
    out: dict[str, np.ndarray] = {}
    fdtype = jnp.zeros(()).dtype
    for name in GD_SWEEPABLE:
        value = settings.get(name, defaults[name])
        if name == "schedule":
            arr = _index_of(name, value, SCHEDULES)
        elif name == "optimizer":
            arr = _index_of(name, value, optimizer_names)
        elif name == "monitor":
            arr = _index_of(name, value, MONITORS)
        elif name in GD_INT_FIELDS:
            raw = np.asarray(value, dtype=object)
            raw = np.where(np.equal(raw, None), NEVER, raw) if name == "patience" else raw
            arr = np.asarray(raw, np.float64)
            if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
                raise ValueError(f"settings: {name} must be integers, got {value!r}")
            arr = arr.astype(np.int32)
        elif name in GD_FLAG_FIELDS:
            arr = np.asarray(value, np.float64)
            if np.any((arr != 0) & (arr != 1)):
                raise ValueError(f"settings: {name} must be 0 or 1 in every run, got {value!r}")
            arr = arr.astype(fdtype)
        else:
            raw = np.asarray(value, dtype=object)
            raw = np.where(np.equal(raw, None), 0.0, raw) if name == "clip_norm" else raw
            arr = np.asarray(raw, np.float64)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"settings: {name} must be finite numbers, got {value!r}")
            arr = arr.astype(np.float64 if name == "validation_fraction" else fdtype)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n_runs):
            raise ValueError(
                f"settings: {name} must be a scalar or have one value per run ({n_runs}), "
                f"got shape {arr.shape}"
            )
        out[name] = np.broadcast_to(arr, (n_runs,)).copy()
    checks = (
        ("learning_rate", out["learning_rate"] > 0, "> 0"),
        ("lr_spread", out["lr_spread"] >= 0, ">= 0"),
        ("init_scale", out["init_scale"] > 0, "> 0"),
        ("weight_decay", out["weight_decay"] >= 0, ">= 0"),
        ("clip_norm", out["clip_norm"] >= 0, ">= 0 (0 or None: off)"),
        ("l1", out["l1"] >= 0, ">= 0"),
        ("l2", out["l2"] >= 0, ">= 0"),
        ("head_temperature", out["head_temperature"] >= 0, ">= 0 (0: the spec's head)"),
        (
            "validation_fraction",
            (out["validation_fraction"] >= 0) & (out["validation_fraction"] <= 0.9),
            "in [0, 0.9]",
        ),
        ("epochs", out["epochs"] >= 1, ">= 1"),
        ("patience", out["patience"] >= 1, ">= 1 (or None)"),
        ("starts", (out["starts"] >= 1) & (out["starts"] <= max_starts), f"in [1, {max_starts}]"),
        ("warmup", out["warmup"] >= 0, ">= 0"),
    )
    for name, ok, expected in checks:
        if not np.all(ok):
            i = int(np.flatnonzero(~ok)[0])
            raise ValueError(
                f"settings: {name} must be {expected} in every run; run {i} has {out[name][i]!r}"
            )
    warm = (out["schedule"] == 2) & (out["warmup"] >= out["epochs"])
    if np.any(warm):
        i = int(np.flatnonzero(warm)[0])
        raise ValueError(
            f"settings: warmup must be < epochs for warmup_cosine; run {i} has warmup "
            f"{out['warmup'][i]} and epochs {out['epochs'][i]}"
        )
    return out


# --------------------------------------------------------------------------------------------
# result


@dataclasses.dataclass(frozen=True, eq=False)
class GDSweepResult:
    """Outcome of :func:`run_many_gd`; every array has the runs axis R first.

    Attributes:
        spec: the compiled network (every switch any run may flip enabled).
        config: the defaults of the settings (static fields shared by every run).
        coords: the selected start's best coordinates per run, a pytree with leading axis R.
        best_start: ``(R,)`` index of the selected start.
        best_epoch: ``(R,)`` epoch of the returned coordinates (0 = the initialisation).
        epochs_run: ``(R, S)`` epochs each start trained (S = ``max_starts``; 0 for starts
            beyond a run's ``starts``).
        start_scores: ``(R, S)`` best monitored value per start (validation loss, or balanced
            accuracy for ``monitor="val_bacc"``); NaN beyond a run's starts.
        start_val_loss: ``(R, S)`` validation loss at each start's best epoch.
        history: ``train_loss``, ``val_loss``, ``val_bacc``: ``(R, E, S)`` float32 per epoch
            (E = most epochs any run trained; NaN where a start did not train).
        train_mask, val_mask: ``(R, N)`` bool, each run's training and validation cases.
        settings: the per-run settings used (:func:`gd_settings`), dict of ``(R,)`` arrays.
        optimizer_names: the call's optimisers, indexed by ``settings["optimizer"]``.
        seconds: wall time of the whole call (compilation included).
    """

    spec: NetworkSpec
    config: GDConfig
    coords: Any
    best_start: np.ndarray
    best_epoch: np.ndarray
    epochs_run: np.ndarray
    start_scores: np.ndarray
    start_val_loss: np.ndarray
    history: dict[str, np.ndarray]
    train_mask: np.ndarray
    val_mask: np.ndarray
    settings: dict[str, np.ndarray]
    optimizer_names: tuple[str, ...]
    seconds: float

    @property
    def n_runs(self) -> int:
        return int(self.best_start.shape[0])

    def run_spec(self, i: int) -> NetworkSpec:
        """Run ``i``'s network: the compiled spec with the switches that run had off turned off
        (equal outputs; use it to predict or save run ``i``)."""
        s = self.settings
        spec = self.spec
        if spec.standardize_weights and not s["standardize_weights"][i]:
            spec = dataclasses.replace(spec, standardize_weights=False)
        if spec.normalization != "none" and not s["normalization"][i]:
            spec = dataclasses.replace(spec, normalization="none")
        if spec.spatial_dropout and not s["spatial_dropout"][i]:
            spec = dataclasses.replace(spec, spatial_dropout=False)
        return spec

    def run_config(self, i: int) -> GDConfig:
        """Run ``i``'s settings as a :class:`GDConfig` (full batch); the optimiser is named by
        ``optimizer_names[settings["optimizer"][i]]`` (``config.optimizer`` is kept when that
        entry is a ready transformation). A run with a training-head temperature trained as
        :meth:`run_spec` with ``head="softmax", temperature=T`` (module docstring)."""
        s = {k: np.asarray(v)[i] for k, v in self.settings.items()}
        name = self.optimizer_names[int(s["optimizer"])]
        optimizer, kwargs = self.config.optimizer, self.config.optimizer_kwargs
        if "(" not in name and callable(getattr(optax, name, None)):
            optimizer, kwargs = name, ()
        loss = dataclasses.replace(self.config.loss, l1=float(s["l1"]), l2=float(s["l2"]))
        return dataclasses.replace(
            self.config,
            optimizer=optimizer,
            optimizer_kwargs=kwargs,
            learning_rate=float(s["learning_rate"]),
            lr_spread=float(s["lr_spread"]),
            init_scale=float(s["init_scale"]),
            weight_decay=float(s["weight_decay"]),
            clip_norm=None if float(s["clip_norm"]) == 0 else float(s["clip_norm"]),
            validation_fraction=float(s["validation_fraction"]),
            epochs=int(s["epochs"]),
            patience=None if int(s["patience"]) >= NEVER else int(s["patience"]),
            starts=int(s["starts"]),
            warmup=int(s["warmup"]),
            schedule=SCHEDULES[int(s["schedule"])],
            monitor=MONITORS[int(s["monitor"])],
            batch_size=None,
            loss=loss,
        )

    def predict_proba(self, i: int, X: Any) -> np.ndarray:
        """Probabilities ``(n, K)`` of run ``i`` on ``X`` ``(n, F)`` (samples first), through
        :func:`~debinn_jax.network.model_proba` as every trained model: a row's probabilities
        do not depend on the other rows of ``X``."""
        coords = jax.tree_util.tree_map(lambda a: np.asarray(a)[i], self.coords)
        X = np.asarray(X, np.float64).astype(jnp.zeros(()).dtype)
        return model_proba(self.run_spec(i), coords, X)

    def predict_proba_runs(self, X: Any) -> np.ndarray:
        """Probabilities ``(R, n, K)`` of every run on ``X`` ``(n, F)`` (samples first): one
        compiled program for all runs (their switches as traced flags), equal to
        :meth:`predict_proba` up to float rounding (not batch-invariant: for scoring a sweep)."""
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != self.spec.n_inputs:
            raise ValueError(
                f"predict_proba_runs: X must have shape (n, {self.spec.n_inputs}), got {X.shape}"
            )
        x_t = jnp.asarray(X.T, jnp.zeros(()).dtype)
        flags = {f: jnp.asarray(self.settings[f]) for f in GD_FLAG_FIELDS}
        return np.asarray(_proba_runs(self.spec, self.coords, flags, x_t))


@functools.partial(jax.jit, static_argnums=0)
def _proba_runs(spec: NetworkSpec, coords: Coords, flags: dict, x_t: jax.Array) -> jax.Array:
    """``(R, n, K)`` probabilities of R runs (leading axis of ``coords`` and ``flags``)."""

    def one(args: tuple) -> jax.Array:
        c, f = args
        return jax.nn.softmax(scores_t(spec, c, x_t, f), axis=0).T

    return jax.lax.map(one, (coords, flags))


# --------------------------------------------------------------------------------------------
# host side


def _masks(
    keys: jax.Array, y: np.ndarray, real: np.ndarray, fractions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-run training and validation masks ``(R, N)``: the split of
    :func:`~debinn_jax.gd.train_gd` (``stratified_holdout`` with the run key's first part),
    over the real cases; without a validation part the training cases are monitored."""
    n_runs, n = y.shape
    m_tr = np.zeros((n_runs, n), bool)
    m_va = np.zeros((n_runs, n), bool)
    for i in range(n_runs):
        k_split = jax.random.split(keys[i], 3)[0]
        idx = np.flatnonzero(real[i])
        tr, va = stratified_holdout(k_split, y[i][idx], float(fractions[i]))
        m_tr[i, idx[tr]] = True
        m_va[i, idx[va if va.size else tr]] = True
    return m_tr, m_va


def _select(
    best_loss: np.ndarray, best_bacc: np.ndarray, monitor: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """The selected start per run, as :func:`~debinn_jax.gd.train_gd` picks it."""
    out = np.zeros(best_loss.shape[0], np.int64)
    for i in range(best_loss.shape[0]):
        n = int(starts[i])
        loss, bacc = best_loss[i, :n], best_bacc[i, :n]
        order = np.lexsort((loss, -bacc)) if monitor[i] == 1 else np.lexsort((-bacc, loss))
        out[i] = int(order[0])
    return out


def run_many_gd(
    spec: NetworkSpec,
    X: Any,
    y: Any,
    keys: jax.Array,
    config: GDConfig = GDConfig(),  # noqa: B008 (frozen, hashable)
    *,
    settings: Mapping[str, Any] | None = None,
    optimizers: Sequence[OptimizerLike] | None = None,
    max_starts: int | None = None,
    sample_mask: Any = None,
    run_batch_size: int | None = 1,
    progress: bool = False,
    callback: stopping.ChunkCallback | None = None,
    checkpoint: ckpt.PathLike | None = None,
    checkpoint_every: float = 0.0,
) -> GDSweepResult:
    """Train R independent GD runs (full batch) in one compiled call per chunk of epochs.

    Args:
        spec: the network, with every feature enabled that any run may use (runs switch
            features off with the ``settings`` flags).
        X: ``(N, F)`` shared or ``(R, N, F)`` per-run features (standardised by the caller).
        y: ``(N,)`` or ``(R, N)`` integer class indices.
        keys: ``(R,)`` PRNG keys, one per run; run i draws its validation split and initial
            coordinates from ``keys[i]`` as ``train_gd`` does.
        config: defaults of every per-run setting, and the static ones: ``loss`` (alpha,
            variant, class weighting), ``chunk``. ``batch_size`` must be None (full batch);
            ``optimizer_kwargs`` belong to ``config.optimizer`` when ``optimizers`` is None.
        settings: per-run values, ``name -> (R,)`` array or scalar, for the names in
            :data:`GD_SWEEPABLE` (see the module docstring); ``optimizer`` indexes
            ``optimizers`` (or names one of them).
        optimizers: the optimisers runs choose from (default: ``config.optimizer`` with its
            kwargs); see :data:`OptimizerLike`.
        max_starts: starts computed per run (static; default the largest ``starts``
            setting). Every run computes this many starts; those beyond its ``starts`` are
            frozen from the start and never selected.
        sample_mask: ``(N,)`` or ``(R, N)`` 0/1: the real cases of padded per-run data.
        run_batch_size: 1 (default) = ``lax.map`` one run at a time (a run that stops costs
            nothing more); an int = ``lax.map`` in batches; None = ``vmap`` over all runs.
        progress: log one line per chunk at INFO level on the ``debinn_jax.gd.sweep`` logger.
        callback: ``callback(epoch, history)`` after every chunk
            (:data:`debinn_jax.stopping.ChunkCallback`); True stops every run there.
        checkpoint: a file holding every run's state and history after the last chunk
            written; resumed from when it belongs to this call (same network, settings, data,
            keys, optimisers and layout), rewritten atomically, kept after the end.
        checkpoint_every: seconds between periodic checkpoint writes; 0 = after every chunk.

    Returns:
        A :class:`GDSweepResult`.

    Raises:
        ValueError: bad data, keys, settings or optimisers (the message names the argument).
        debinn_jax.stopping.RunInterrupted: SIGINT or SIGTERM during the call.
        debinn_jax.checkpoint.CheckpointError: ``checkpoint`` belongs to another call.
    """
    ensure_compilation_cache()
    t_start = time.perf_counter()
    if not isinstance(config, GDConfig):
        raise ValueError(f"run_many_gd: config must be a GDConfig, got {type(config).__name__}")
    if config.batch_size is not None:
        raise ValueError(
            f"run_many_gd: config.batch_size must be None (full batch), got {config.batch_size}"
        )
    keys = jnp.asarray(keys)
    if not jnp.issubdtype(keys.dtype, jax.dtypes.prng_key) or keys.ndim != 1:
        raise ValueError(
            "run_many_gd: keys must be a 1-D array of typed jax.random keys "
            f"(e.g. jax.random.split(jax.random.key(0), R)), got dtype {keys.dtype} and "
            f"shape {keys.shape}"
        )
    n_runs = int(keys.shape[0])
    X, y = check_training_data(X, y, spec.n_inputs, spec.n_classes, where="run_many_gd", runs=True)
    per_run_x = X.ndim == 3 or y.ndim == 2
    X = np.broadcast_to(X, (n_runs, *X.shape[-2:])) if X.ndim == 2 else X
    Y = np.broadcast_to(y, (n_runs, y.shape[-1])) if y.ndim == 1 else y
    if X.shape[0] != n_runs or Y.shape != X.shape[:2]:
        raise ValueError(
            f"run_many_gd: X must be (N, {spec.n_inputs}) or (R={n_runs}, N, {spec.n_inputs}) "
            f"and y (N,) or (R, N); got X {X.shape}, y {np.shape(y)}"
        )
    real = np.ones(Y.shape, bool) if sample_mask is None else np.asarray(sample_mask) > 0
    real = np.broadcast_to(real, Y.shape)
    if optimizers is None:
        opt_keys: tuple[Any, ...] = (
            _optimizer_key((config.optimizer, dict(config.optimizer_kwargs))),
        )
    else:
        if isinstance(optimizers, str | optax.GradientTransformation) or not optimizers:
            raise ValueError(
                "run_many_gd: optimizers must be a non-empty sequence of optimisers, got "
                f"{optimizers!r}"
            )
        opt_keys = tuple(_optimizer_key(o) for o in optimizers)
    names = tuple(_optimizer_name(k) for k in opt_keys)
    starts_setting = np.asarray((settings or {}).get("starts", config.starts))
    if max_starts is None:
        max_starts = int(np.max(starts_setting))
    if isinstance(max_starts, bool) or not isinstance(max_starts, int | np.integer):
        raise ValueError(f"run_many_gd: max_starts must be an integer >= 1, got {max_starts!r}")
    if max_starts < 1:
        raise ValueError(f"run_many_gd: max_starts must be an integer >= 1, got {max_starts!r}")
    hp = gd_settings(config, settings, n_runs, names, int(max_starts))
    m_tr, m_va = _masks(keys, np.asarray(Y), real, hp["validation_fraction"])
    for i in range(n_runs):
        counts = np.bincount(Y[i][m_tr[i]], minlength=spec.n_classes)
        if counts.min() < 1:
            raise ValueError(
                f"run_many_gd: run {i}'s training split has class counts {counts.tolist()}; "
                "every class needs a training case"
            )
    dtype = jnp.zeros(()).dtype
    x_t = np.ascontiguousarray(np.transpose(X, (0, 2, 1))).astype(dtype)
    device_hp = {k: jnp.asarray(v) for k, v in hp.items() if k != "validation_fraction"}
    chunk = int(config.chunk)  # not cut to the epochs: a shorter sweep reuses the program
    loss_key = (float(config.loss.alpha), bool(config.loss.class_weights), config.loss.variant)
    key_impl = str(jax.random.key_impl(keys))
    start_fn, chunk_fn = _compiled(
        spec,
        loss_key,
        opt_keys,
        int(max_starts),
        chunk,
        run_batch_size,
        per_run_x,
        str(dtype),
        key_impl,
    )
    key_data = jax.random.key_data(keys)
    state = start_fn((key_data, device_hp))
    masks = (jnp.asarray(m_tr, dtype), jnp.asarray(m_va, dtype))
    if per_run_x:
        x_run, y_run = jnp.asarray(x_t), jnp.asarray(Y, jnp.int32)
        x_sh, y_sh = jnp.zeros((), dtype), jnp.zeros((), jnp.int32)
    else:
        x_run = jnp.zeros((n_runs,), dtype)
        y_run = jnp.zeros((n_runs,), jnp.int32)
        x_sh, y_sh = jnp.asarray(x_t[0]), jnp.asarray(Y[0], jnp.int32)
    saver = ckpt.Checkpointer(
        checkpoint,
        "run_many_gd",
        {
            "network": ckpt.digest(spec),
            "config": ckpt.digest(dataclasses.replace(config, optimizer_kwargs=())),
            "settings": ckpt.digest(*(np.asarray(hp[k]) for k in sorted(hp)), sorted(hp)),
            "data": ckpt.digest(x_t, np.asarray(Y), m_tr, m_va),
            "key": ckpt.digest(np.asarray(key_data)),
            "optimizers": ckpt.digest(names),
            "layout": ckpt.digest(run_batch_size, int(max_starts), chunk),
        },
        checkpoint_every,
    )
    parts: list[dict[str, np.ndarray]] = []
    resumed = saver.resume(state)
    if resumed is not None:
        state, hist0, _ = resumed
        if hist0:
            parts.append(hist0)
        logger.info(f"run_many_gd: resumed from {checkpoint}")

    def joined() -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}

    def all_done(st: Any) -> bool:
        return not bool(np.any(np.asarray(st["active"])))

    def advance(st: Any, c: int) -> tuple[Any, ChunkReport]:
        st, h = chunk_fn((st, device_hp, *masks, x_run, y_run), x_sh, y_sh)
        parts.append({k: np.asarray(v) for k, v in h.items()})
        epoch = int(np.max(np.asarray(st["epoch"])))
        done = all_done(st)

        def line(seconds: float) -> str:
            n_active = int(np.sum(np.any(np.asarray(st["active"]), axis=1)))
            return (
                f"[gd sweep] epoch {epoch:5d}: {n_active}/{n_runs} runs still training; best "
                f"val loss {np.nanmin(np.asarray(st['best_loss'])):.4f} ({seconds:.1f} s)"
            )

        return st, ChunkReport(epoch, done, line)

    state = drive(
        state,
        advance,
        is_done=lambda st: bool(parts) and all_done(st),
        where="run_many_gd",
        unit="epoch",
        saver=saver,
        history=joined,
        view=joined,
        callback=callback,
        log=logger if progress else None,
    )
    host = jax.tree_util.tree_map(np.asarray, state)
    best = _select(host["best_loss"], host["best_bacc"], hp["monitor"], hp["starts"])
    rows = np.arange(n_runs)
    coords = jax.tree_util.tree_map(lambda a: a[rows, best], host["best"])
    inactive = np.arange(int(max_starts))[None, :] >= hp["starts"][:, None]
    monitored = np.where(hp["monitor"][:, None] == 1, host["best_bacc"], host["best_loss"])
    history = joined() if parts else {}
    n_epochs = int(np.max(host["epoch"])) if host["epoch"].size else 0
    history = {k: v[:, :n_epochs] for k, v in history.items()}
    return GDSweepResult(
        spec=spec,
        config=config,
        coords=coords,
        best_start=best,
        best_epoch=host["best_epoch"][rows, best],
        epochs_run=host["epoch"],
        start_scores=np.where(inactive, np.nan, monitored),
        start_val_loss=np.where(inactive, np.nan, host["best_loss"]),
        history=history,
        train_mask=m_tr,
        val_mask=m_va,
        settings=hp,
        optimizer_names=names,
        seconds=time.perf_counter() - t_start,
    )
