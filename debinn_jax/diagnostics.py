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

The 2025 network (``NetworkSpec.reference_2025``) has its own sources of flat or starved
gradients, measured by :func:`diagnose_2025` at one coordinate point: per-layer gradient norms
(positions, shift-scale genes), the per-sample alignment overall and per layer
(:func:`layer_alignment`), the share of cases in the two-class head's flat region
(:func:`flat_head_fraction`: opposite-sign output signals give p = sigmoid(+-1) and no
gradient), the share of position genes with no gradient at all (spatial dropout removes every
connection of a point) and the share of hidden units that are negative for every case.
:func:`mlp_alignment` gives the per-sample alignment of a plain MLP of the same sizes, the
reference point of an ordinary network.
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
from debinn_jax.network.forward import log_proba_t, scores_t

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
    x_t = jnp.asarray(X, jnp.zeros(()).dtype).T
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
    gradient (without the L1/L2 penalty, which no sample owns). Computed in the default float
    dtype (float64 under ``jax_enable_x64``).
    """
    x_t = jnp.asarray(X, jnp.zeros(()).dtype).T
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


# --------------------------------------------------------------------------------------------
# the 2025 network


def flat_head_fraction(spec: NetworkSpec, coords: Coords, X: Any) -> float:
    """Share of cases in the two-class head's flat region (NaN for more than two classes).

    With two classes the 2025 head's scores ``z / (|z_0| + |z_1|)`` differ by exactly 1 when
    the output signals have opposite signs: p = sigmoid(+-1) whatever their size, so such a
    case has a constant loss and no gradient.
    """
    if spec.n_classes != 2:
        return float("nan")
    s = scores_t(spec, coords, jnp.asarray(X, jnp.zeros(()).dtype).T)
    return float(jnp.mean(jnp.sign(s[0]) != jnp.sign(s[1])))


def _layer_slices(coords: Coords) -> list[slice]:
    """Where each layer's genes lie in ``ravel_pytree(coords)``'s flat vector."""
    out, start = [], 0
    for layer in coords:
        n = sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(layer))
        out.append(slice(start, start + n))
        start += n
    return out


def layer_alignment(per_sample: Any, coords: Coords) -> list[dict[str, float]]:
    """:func:`gradient_conflict` of each layer's genes alone (input layer first).

    Args:
        per_sample: ``(n, P)`` per-sample gradients (:func:`per_sample_grads`).
        coords: the coordinates they belong to (for the layer boundaries).
    """
    g = jnp.asarray(per_sample)
    return [gradient_conflict(g[:, sl]) for sl in _layer_slices(coords)]


def _dead_hidden(spec: NetworkSpec, coords: Coords, X: Any) -> float:
    """Share of hidden neurons whose input signal is negative (or 0) for every case."""
    from debinn_jax.network import layer_weights

    h = jnp.asarray(X, jnp.zeros(()).dtype).T
    weights = layer_weights(spec, coords)
    dead, total = 0, 0
    for l, w in enumerate(weights[:-1], start=1):
        z = w.T @ h
        dead += int(jnp.sum(jnp.all(z <= 0, axis=1)))
        total += z.shape[0]
        h = jnp.where(z >= 0, z, 0.01 * z)
        if spec.normalization == "activation":
            from debinn_jax.network import group_normalize

            layer = coords[l]
            h = group_normalize(
                h, spec.group_counts()[l - 1], layer.get("scale"), layer.get("shift"), spec.eps
            )
    return dead / max(total, 1)


def _spread_subset(y: np.ndarray, n: int) -> np.ndarray:
    """``n`` case indices spread evenly over every class (all cases when there are fewer)."""
    if n >= y.size:
        return np.arange(y.size)
    order = np.argsort(y, kind="stable")  # classes in blocks, cases in order within them
    return np.sort(order[np.linspace(0, y.size - 1, n).round().astype(int)])


def diagnose_2025(
    spec: NetworkSpec,
    coords: Coords,
    X: Any,
    y: Any,
    loss: LossConfig | None = None,
    per_sample_cases: int | None = 256,
) -> dict[str, Any]:
    """Gradient diagnostics of one network at one coordinate point.

    Args:
        spec: the network (its switches as it trains).
        coords: one coordinate pytree.
        X, y: the cases ``(n, F)``, ``(n,)`` the loss is taken on.
        loss: the loss (default: ``LossConfig.reference_2025()``).
        per_sample_cases: at most this many cases (spread over the classes) for the per-sample
            statistics (the Jacobian is ``cases x genes``); None = all.

    Returns:
        ``loss``; ``grad_norm`` (whole gradient, penalty included) and ``layer_norms``
        (input layer first); ``rms_position`` / ``rms_scale`` / ``rms_shift`` (root mean
        square per gene of each kind); ``zero_position_genes`` (share of position genes with
        an exactly zero gradient); ``alignment`` (:func:`gradient_conflict` of the per-sample
        gradients), ``alignment_active`` (the same over the cases whose gradient is not zero:
        cases in the flat head region give zero vectors) and ``layer_alignment``;
        ``zero_gradient_cases`` (their share); ``flat_head`` (:func:`flat_head_fraction`);
        ``dead_hidden`` (share of hidden neurons negative for every case).
    """
    loss = loss or LossConfig.reference_2025()
    value, grads = loss_grad(spec, coords, X, y, loss)
    br = grad_breakdown(grads)
    pos = np.concatenate(
        [np.asarray(g[n]).ravel() for g in grads for n in ("soma", "axon") if n in g]
    )
    y_np = np.asarray(y)
    sub = _spread_subset(y_np, y_np.size if per_sample_cases is None else per_sample_cases)
    per_sample = per_sample_grads(spec, coords, np.asarray(X)[sub], y_np[sub], loss)
    norms = np.linalg.norm(np.asarray(per_sample), axis=1)
    active = norms > 1e-12 * max(float(norms.max()), 1e-300)
    layer_norms = np.sqrt(sum(np.square(br[k]) for k in KINDS))  # (L + 1,): all genes of a layer
    return {
        "loss": value,
        "grad_norm": float(np.sqrt(np.sum(np.square(layer_norms)))),
        "layer_norms": [float(v) for v in layer_norms],
        "rms_position": float(np.sqrt(np.mean(np.square(pos)))),
        "rms_scale": float(br["rms_scale"]),
        "rms_shift": float(br["rms_shift"]),
        "zero_position_genes": float(np.mean(pos == 0.0)),
        "alignment": gradient_conflict(per_sample),
        "alignment_active": (gradient_conflict(per_sample[active]) if active.sum() > 1 else None),
        "zero_gradient_cases": float(np.mean(~active)),
        "layer_alignment": layer_alignment(per_sample, coords),
        "flat_head": flat_head_fraction(spec, coords, X),
        "dead_hidden": _dead_hidden(spec, coords, X),
    }


def mlp_alignment(
    sizes: tuple[int, ...], X: Any, y: Any, key: jax.Array, n_classes: int | None = None
) -> dict[str, float]:
    """Per-sample gradient alignment (:func:`gradient_conflict`) of a plain MLP at its
    initialisation: layers ``sizes`` (inputs, hidden...; outputs from ``n_classes`` or the
    labels), He-normal weights, zero biases, leaky ReLU, class-weighted cross-entropy. The
    reference point of an ordinary network for the DEBI-NN figures."""
    X = jnp.asarray(X, jnp.zeros(()).dtype)
    y = jnp.asarray(y, jnp.int32)
    k = int(n_classes or int(jnp.max(y)) + 1)
    dims = (*sizes, k)
    keys = jax.random.split(key, len(dims) - 1)
    params = [
        (
            jax.random.normal(kk, (a, b), X.dtype) * jnp.sqrt(2.0 / a),
            jnp.zeros((b,), X.dtype),
        )
        for kk, a, b in zip(keys, dims[:-1], dims[1:])
    ]
    beta = class_weights(y, k, jnp.ones(y.shape, X.dtype), "2025")
    flat, unravel = jax.flatten_util.ravel_pytree(params)

    def per_case(v: jax.Array) -> jax.Array:
        h = X
        layers = unravel(v)
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = jnp.where(h >= 0, h, 0.01 * h)
        logp = jax.nn.log_softmax(h, axis=1)
        return -beta[y] * logp[jnp.arange(y.shape[0]), y]

    return gradient_conflict(jax.jacrev(per_case)(flat))
