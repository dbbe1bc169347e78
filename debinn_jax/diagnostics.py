"""Gradient diagnostics: why (and when) gradient descent on DEBI-NN coordinates struggles.

Three kinds of evidence, each a small pure function:

* :func:`grad_breakdown` splits a coordinate gradient by layer and *kind* of gene (soma x/y,
  soma z, axon x/y, axon z, shift-scale genes, layer deltas) so one sees where the gradient
  signal goes (and which genes it starves).
* :func:`gradient_conflict` measures how *entangled* the per-sample gradients are: the mean
  pairwise cosine between per-sample gradients and the share of pairs pointing in opposite
  directions. Every weight depends on two points and every point feeds many weights, so a
  step that helps one case easily hurts another; this quantifies it.
* :func:`kink_fraction` turns the per-epoch count of z genes that crossed 0 (the |z| kink;
  recorded by :func:`debinn_jax.gd.train_gd` as ``history["z_flips"]``) into a rate.

:func:`trainability` runs the GD trainer over the head x weight-standardisation grid and
reports, per variant, the training and validation outcome with these diagnostics, so the
effect of the head and of weight standardisation on trainability is one call.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from debinn_jax.gd import GDConfig, init_starts, loss_and_logp, train_gd
from debinn_jax.loss import LossConfig, class_weights, log_proba_terms
from debinn_jax.network import Coords, NetworkSpec
from debinn_jax.network.forward import log_proba_t

_DEFAULT_LOSS = LossConfig()
_DEFAULT_GD = GDConfig()
KINDS = ("soma_xy", "soma_z", "axon_xy", "axon_z", "scale", "shift", "delta")


def grad_breakdown(grads: Coords) -> dict[str, np.ndarray]:
    """L2 norms of a coordinate gradient (or of any coordinate-shaped pytree) by gene kind.

    Args:
        grads: a pytree shaped like the coordinates; leaves may carry leading batch axes
            (e.g. ``(starts, ...)``), which are kept.

    Returns:
        ``{kind: (..., L + 1)}`` norms per layer for every kind in :data:`KINDS` (0 where a
        layer has no gene of that kind), plus ``"rms_<kind>"``: the root-mean-square gradient
        per gene of that kind over all layers (comparable across kinds of different sizes).
    """
    out: dict[str, list[Any]] = {k: [] for k in KINDS}
    sums = {k: 0.0 for k in KINDS}
    counts = {k: 0 for k in KINDS}
    lead = None
    for layer in grads:
        parts: dict[str, jax.Array] = {}
        for name in ("soma", "axon"):
            if name in layer:
                g = layer[name]
                parts[f"{name}_xy"] = g[..., :2]
                parts[f"{name}_z"] = g[..., 2:]
        for name in ("scale", "shift", "delta"):
            if name in layer:
                parts[name] = layer[name]
        if lead is None:
            any_leaf = layer["soma"] if "soma" in layer else layer["axon"]
            lead = any_leaf.shape[:-2]
        for kind in KINDS:
            if kind in parts:
                g = parts[kind]
                axes = tuple(range(len(lead), g.ndim))
                sq = jnp.sum(jnp.square(g), axis=axes)
                out[kind].append(jnp.sqrt(sq))
                sums[kind] = sums[kind] + sq
                counts[kind] += int(np.prod(g.shape[len(lead) :]))
            else:
                out[kind].append(jnp.zeros(lead))
    result = {k: np.asarray(jnp.stack(v, axis=-1)) for k, v in out.items()}
    for k in KINDS:
        result[f"rms_{k}"] = np.asarray(jnp.sqrt(sums[k] / max(counts[k], 1)))
    return result


def loss_grad(
    spec: NetworkSpec, coords: Coords, X: Any, y: Any, loss: LossConfig = _DEFAULT_LOSS
) -> tuple[float, Coords]:
    """DEBI loss and its coordinate gradient on ``X`` ``(n, F)``, ``y`` ``(n,)``."""
    x_t = jnp.asarray(X, jnp.float32).T
    y = jnp.asarray(y, jnp.int32)
    mask = jnp.ones(y.shape, x_t.dtype)

    def f(c: Coords) -> jax.Array:
        return loss_and_logp(spec, c, x_t, y, mask, loss)[0]

    value, grads = jax.value_and_grad(f)(coords)
    return float(value), grads


def per_sample_grads(
    spec: NetworkSpec, coords: Coords, X: Any, y: Any, loss: LossConfig = _DEFAULT_LOSS
) -> jax.Array:
    """Flat gradient of each sample's loss term, shape ``(n, P)`` (P = number of genes).

    Class weights are computed on the whole set, so the mean of the rows is the full-batch
    gradient.
    """
    x_t = jnp.asarray(X, jnp.float32).T
    y = jnp.asarray(y, jnp.int32)
    flat, unravel = jax.flatten_util.ravel_pytree(coords)
    if loss.class_weights:
        beta = class_weights(y, spec.n_classes, jnp.ones(y.shape, x_t.dtype), loss.variant)
    else:
        beta = jnp.ones((spec.n_classes,), x_t.dtype)

    def per_sample(v: jax.Array) -> jax.Array:
        logp = log_proba_t(spec, unravel(v), x_t)
        return beta @ log_proba_terms(logp, y, loss.alpha, loss.variant)

    return jax.jacrev(per_sample)(flat)


def gradient_conflict(per_sample: jax.Array) -> dict[str, float]:
    """How entangled are per-sample gradients?

    Args:
        per_sample: ``(n, P)`` per-sample gradients (:func:`per_sample_grads`).

    Returns:
        ``mean_cosine``: mean pairwise cosine over distinct pairs; ``conflict``: share of
        pairs with negative cosine; ``signal_to_noise``: ||mean gradient|| / mean ||per-sample
        gradient|| (1 = every case pulls the same way; ~1/sqrt(n) = random directions).
    """
    g = jnp.asarray(per_sample)
    norms = jnp.linalg.norm(g, axis=1)
    unit = g / jnp.maximum(norms[:, None], 1e-20)
    cos = unit @ unit.T
    n = g.shape[0]
    off = ~jnp.eye(n, dtype=bool)
    mean_cos = jnp.sum(jnp.where(off, cos, 0.0)) / (n * (n - 1))
    conflict = jnp.sum(off & (cos < 0)) / (n * (n - 1))
    snr = jnp.linalg.norm(jnp.mean(g, axis=0)) / jnp.maximum(jnp.mean(norms), 1e-20)
    return {
        "mean_cosine": float(mean_cos),
        "conflict": float(conflict),
        "signal_to_noise": float(snr),
    }


def n_z_genes(spec: NetworkSpec) -> int:
    """Number of soma/axon z genes (each one has a |z| kink at 0)."""
    return spec.n_inputs + 2 * sum(spec.hidden) + spec.n_classes


def kink_fraction(spec: NetworkSpec, z_flips: Any) -> dict[str, float]:
    """Rates of |z|-kink crossings from a per-epoch count (``history["z_flips"]``).

    Returns ``per_epoch`` (mean share of z genes crossing 0 per epoch) and ``total`` (all
    crossings / number of z genes: > 1 means genes went back and forth).
    """
    flips = np.asarray(z_flips, dtype=np.float64)
    nz = n_z_genes(spec)
    if flips.size == 0:
        return {"per_epoch": 0.0, "total": 0.0}
    return {"per_epoch": float(flips.mean() / nz), "total": float(flips.sum() / nz)}


def trainability(
    spec: NetworkSpec,
    X: Any,
    y: Any,
    key: jax.Array,
    config: GDConfig = _DEFAULT_GD,
    heads: tuple[str, ...] = ("reference", "softmax"),
    standardize: tuple[bool, ...] = (True, False),
    n_conflict: int = 128,
) -> list[dict[str, Any]]:
    """Train the same data under each head x weight-standardisation variant and diagnose.

    Args:
        spec: base network (its ``head`` and ``standardize_weights`` are overridden).
        X, y: standardised training data ``(n, F)``, ``(n,)``.
        key: one key for all variants (same splits and initial coordinates).
        config: the GD settings.
        n_conflict: cases used for the per-sample gradient statistics (first n).

    Returns:
        One dict per variant: ``head``, ``standardize_weights``, ``train_loss``,
        ``train_bacc``, ``val_bacc`` (at the best epoch), ``best_epoch``, ``epochs_run``,
        ``grad_init`` (:func:`grad_breakdown` rms values at the initial coordinates),
        ``conflict_init`` (:func:`gradient_conflict` at init), ``kinks``
        (:func:`kink_fraction` of the selected start).
    """
    X = np.asarray(X, np.float32)
    y = np.asarray(y)
    rows = []
    for head in heads:
        for std in standardize:
            s = dataclasses.replace(spec, head=head, standardize_weights=std)
            res = train_gd(s, X, y, key, config)
            k_init = jax.random.split(key, 3)[1]
            c0 = jax.tree_util.tree_map(lambda v: v[0], init_starts(k_init, s, config))
            _, g0 = loss_grad(s, c0, X[res.train_idx], y[res.train_idx], config.loss)
            br = grad_breakdown(g0)
            sub = res.train_idx[:n_conflict]
            conf = gradient_conflict(per_sample_grads(s, c0, X[sub], y[sub], config.loss))
            h = res.history
            rows.append(
                {
                    "head": head,
                    "standardize_weights": std,
                    "train_loss": float(h["train_loss"][res.best_epoch]),
                    "train_bacc": float(h["train_bacc"][res.best_epoch]),
                    "val_bacc": float(h["val_bacc"][res.best_epoch]),
                    "best_epoch": res.best_epoch,
                    "epochs_run": res.epochs_run,
                    "grad_init": {k: float(v) for k, v in br.items() if k.startswith("rms_")},
                    "conflict_init": conf,
                    "kinks": kink_fraction(s, h["z_flips"]),
                }
            )
    return rows
