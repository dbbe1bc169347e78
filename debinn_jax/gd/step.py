"""One GD epoch, compiled: the pure building blocks and the training chunk.

Pure functions of arrays (no host state): :func:`balanced_accuracy_t`, :func:`loss_and_logp`
(one forward pass for the DEBI loss and the scores), :func:`layer_grad_norms` and
:func:`z_sign_flips` (the per-epoch diagnostics), and ``_chunk_fn``, which builds and caches the
compiled ``(init_state, run_chunk)`` pair: a ``lax.scan`` of epochs over the population of
starts (``vmap`` or ``lax.map``), with early stopping and the best state kept in the carry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from debinn_jax.gd.config import GDConfig, make_optimizer, make_schedule
from debinn_jax.loss import LossConfig, LossFn, loss_of_log_proba_t
from debinn_jax.network import Coords, NetworkSpec
from debinn_jax.network.forward import log_proba_t

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
    """The DEBI loss (equal to :func:`debinn_jax.loss.debi_loss`) and the ``(K, N)`` log-probs,
    from the inputs ``x_t`` ``(n_inputs, N)`` (the trainer's internal layout).

    One forward pass serves the loss and the balanced accuracy.
    """
    logp = log_proba_t(spec, coords, x_t)
    return loss_of_log_proba_t(spec, loss_config, logp, y, mask, coords), logp


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
        return loss_fn(logp.T, y, mask, params), logp  # the user's LossFn: (N, K)

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
