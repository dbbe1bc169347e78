"""The host side of the GD trainer: :func:`train_gd` and its :class:`GDResult`.

:func:`train_gd` checks the data, splits off the stratified validation set, draws the starts,
runs the compiled chunks of :mod:`debinn_jax.gd.step` through :func:`debinn_jax.driver.drive`
(progress lines, signals, checkpoints, callback) and returns the best start on validation.
Progress lines go to the ``debinn_jax.gd`` logger.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
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
from debinn_jax.gd.config import GDConfig, _static_config, init_starts
from debinn_jax.gd.step import _chunk_fn
from debinn_jax.loss import LossFn
from debinn_jax.network import Coords, NetworkSpec, init_coords, model_proba

logger = logging.getLogger("debinn_jax.gd")  # the documented name, as before the split


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
        X = np.asarray(X, np.float64).astype(jnp.zeros(()).dtype)
        return model_proba(self.spec, self.coords, X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class indices ``(n,)`` (argmax, ties to the lower index)."""
        return np.argmax(self.predict_proba(X), axis=1)


def _check_data(spec: NetworkSpec, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X (n, f) in the float dtype, y (n,) int32)`` after the shared check."""
    X, y = check_training_data(X, y, spec.n_inputs, spec.n_classes, where="train_gd")
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
    config: GDConfig = GDConfig(),  # noqa: B008 (frozen, hashable)
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
            ``loss_fn(logp (N, K), y (N,), mask (N,), coords) -> ()`` (default: the DEBI loss
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
