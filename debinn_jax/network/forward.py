"""The forward pass of a DEBI-NN (spec section 3; DEBINN-2025 section 3).

Hidden activations, the 2022 input normalisation and the 2025 per-group activation
normalisation; the head scores with samples on the last axis (:func:`output_signals_t`,
:func:`head_scores`, :func:`scores_t`, :func:`log_proba_t`: the trainers' internal layout, not
exported from :mod:`debinn_jax.network`); and on rows of samples, the public layout
``(n, n_inputs)``: the jit-compiled :func:`apply` and :func:`predict`, :func:`log_proba`, and
:func:`model_proba`, the batch-invariant prediction of trained models.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax.network.spec import (
    ACTIVATIONS,
    DBL_EPS,
    EPS,
    LRELU_SLOPE,
    Coords,
    Flags,
    NetworkSpec,
    _flag,
    _switch,
    group_index,
)
from debinn_jax.network.weights import _safe_sqrt, _std, layer_weights


def activation_fn(name: str, z: jax.Array) -> jax.Array:
    """Hidden-layer activation, element-wise."""
    if name == "lrelu":
        return jnp.where(z >= 0, z, LRELU_SLOPE * z)
    if name == "relu":
        return jnp.maximum(z, 0.0)
    if name == "sigmoid":
        return jax.nn.sigmoid(z)
    if name == "tanh":
        return jnp.tanh(z)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def _expand_groups(values: jax.Array, n: int, groups: int) -> jax.Array:
    """Per-group genes ``(groups,)`` -> per-neuron values ``(n, 1)``."""
    return values[group_index(n, groups)][:, None]


def group_normalize(
    a: jax.Array,
    groups: int,
    scale: jax.Array | None = None,
    shift: jax.Array | None = None,
    eps: float = DBL_EPS,
) -> jax.Array:
    """The 2025 activation normalisation of one hidden layer, per sample and per group.

    With ``m_g`` the mean of group g's activations and
    ``s_g = sqrt(sum_{j in g} (a_j - m_g)^2 / (n_g + eps))``:
    ``a_j <- scale_g (a_j - m_g) / (s_g + eps) + shift_g``.

    Args:
        a: activations ``(n, N)`` (neurons x samples).
        groups: G contiguous groups (see :func:`group_index`: G - 1 blocks of floor(n/G)
            neurons, the remainder joining the last).
        scale, shift: ``(G,)`` genes, or None for 1 and 0.

    Returns:
        ``(n, N)`` normalised activations.
    """
    n = a.shape[0]
    g = min(max(groups, 1), n)
    block = n // g
    head = (g - 1) * block
    # the first G - 1 equal blocks as one (G - 1, block, N) array, the last block apart:
    # plain slices and reshapes (exact sums, several times faster on CPU than segment ops)
    parts = [a[:head].reshape(g - 1, block, -1), a[head:][None]] if g > 1 else [a[None]]
    out = []
    for i, part in enumerate(parts):
        mean = jnp.mean(part, axis=1, keepdims=True)
        dev = part - mean
        size = part.shape[1]
        sd = _safe_sqrt(jnp.sum(jnp.square(dev), axis=1, keepdims=True) / (size + eps))
        z = dev / (sd + eps)
        rows = slice(0, g - 1) if (g > 1 and i == 0) else slice(g - 1, g)
        if scale is not None:
            z = scale[rows][:, None, None] * z
        if shift is not None:
            z = z + shift[rows][:, None, None]
        out.append(z.reshape(-1, a.shape[1]))
    return jnp.concatenate(out, axis=0) if len(out) > 1 else out[0]


def _input_normalize(u: jax.Array) -> jax.Array:
    """2022 input normalisation: z-score ``u`` ``(n, N)`` across its neurons, per sample."""
    mu = jnp.mean(u, axis=0, keepdims=True)
    return (u - mu) / (_std(u, axis=0, keepdims=True) + EPS)


def output_signals_t(
    spec: NetworkSpec,
    coords: Coords,
    x_t: jax.Array,
    flags: Flags = None,
    weights: list[jax.Array] | None = None,
) -> jax.Array:
    """The output layer's input signals z ``(n_classes, N)`` (before the head), samples on the
    last axis. Both heads are increasing in z per sample, so ``argmax(z)`` is the prediction.

    Internal layout of the trainers (the GD sweep's training-head temperature scores these
    signals itself); not exported from :mod:`debinn_jax.network`.

    Args: as :func:`scores_t`.
    """
    if weights is None:
        weights = layer_weights(spec, coords, flags)
    groups = spec.group_counts()
    h = x_t.astype(weights[0].dtype)
    L = spec.n_layers
    eps = spec.eps
    act_norm = spec.normalization == "activation"
    norm_flag = _flag(flags, "normalization")
    for l in range(1, L + 1):
        w = weights[l - 1]
        u = h
        if spec.normalization == "input":
            u = _switch(norm_flag, _input_normalize, lambda u: u, u)
        z = w.T @ u
        if spec.shift_scale and spec.variant == "2022" and not act_norm:
            n = w.shape[1]
            scale = _expand_groups(coords[l]["scale"], n, groups[l - 1])
            shift = _expand_groups(coords[l]["shift"], n, groups[l - 1])
            z = scale * z + shift * jnp.sum(w, axis=0)[:, None]
        if l == L:
            return z
        h = activation_fn(spec.activation, z)
        if act_norm:
            scale = coords[l]["scale"] if spec.shift_scale else None
            shift = coords[l]["shift"] if spec.shift_scale else None
            h = _switch(
                norm_flag,
                lambda h, g=groups[l - 1], sc=scale, sh=shift: group_normalize(h, g, sc, sh, eps),
                lambda h: h,
                h,
            )
    raise AssertionError("unreachable: the output layer returns")


def scores_t(
    spec: NetworkSpec,
    coords: Coords,
    x_t: jax.Array,
    flags: Flags = None,
    weights: list[jax.Array] | None = None,
) -> jax.Array:
    """Head scores (pre-softmax) with samples on the last axis.

    Args:
        spec: the network.
        coords: one coordinate pytree (no population axis).
        x_t: inputs of shape ``(n_inputs, N)``.
        flags: optional traced switches (see :data:`Flags`).
        weights: the network's weight matrices if already computed
            (:func:`~debinn_jax.network.weights.layer_weights` of ``coords`` and ``flags``),
            so that a caller that also needs them (the L1/L2 penalty) computes them once.

    Returns:
        ``(n_classes, N)`` scores s such that the class probabilities are ``softmax(s, axis=0)``:
        ``z / (sum_c |z_c| + eps)`` for the reference head, ``z / T`` for the softmax head,
        where ``z`` are the output layer's input signals (:func:`output_signals_t`).
    """
    return head_scores(spec, output_signals_t(spec, coords, x_t, flags, weights))


def head_scores(spec: NetworkSpec, z: jax.Array) -> jax.Array:
    """The spec's head on output signals ``z`` ``(K, N)`` (samples last, as
    :func:`output_signals_t`): ``z / (sum_c |z_c| + eps)`` (reference) or ``z / T`` (softmax);
    probabilities are ``softmax(scores, axis=0)``."""
    if spec.head == "reference":
        return z / (jnp.sum(jnp.abs(z), axis=0, keepdims=True) + spec.eps)
    return z / spec.temperature


def log_proba_t(
    spec: NetworkSpec,
    coords: Coords,
    x_t: jax.Array,
    flags: Flags = None,
    weights: list[jax.Array] | None = None,
) -> jax.Array:
    """Log class probabilities, samples on the last axis: ``(n_inputs, N) -> (n_classes, N)``
    (``weights``: as in :func:`scores_t`).

    Internal layout of the trainers; the public function is :func:`log_proba`."""
    return jax.nn.log_softmax(scores_t(spec, coords, x_t, flags, weights), axis=0)


def _check_rows(where: str, spec: NetworkSpec, x: jax.Array) -> jax.Array:
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] != spec.n_inputs:
        raise ValueError(
            f"{where}: x must have shape (n, {spec.n_inputs}) for this network, got {x.shape}"
        )
    return x


def log_proba(spec: NetworkSpec, coords: Coords, x: jax.Array) -> jax.Array:
    """Log class probabilities of one network, with :func:`apply`'s layout.

    A pure function of ``coords``: differentiate it (``jax.grad``), ``jax.vmap`` it over a
    population, or use it as the last layer of a larger model (``debinn_jax.nnx.DEBIHead``);
    wrap it in ``jax.jit`` yourself. ``exp(log_proba(...))`` equals :func:`apply` up to float
    rounding, and ``log_proba`` is also valid logits for cross-entropy losses (e.g.
    ``optax.softmax_cross_entropy_with_integer_labels``).

    Args:
        spec: the network.
        coords: one coordinate pytree (no population axis).
        x: inputs ``(n, n_inputs)``.

    Returns:
        ``(n, n_classes)`` log-probabilities (each row's exp sums to 1).
    """
    x = _check_rows("log_proba", spec, x)
    return log_proba_t(spec, coords, x.T).T


@functools.partial(jax.jit, static_argnums=0)
def apply(spec: NetworkSpec, coords: Coords, x: jax.Array) -> jax.Array:
    """Class probabilities of one network (jit-compiled per spec and input shape).

    Args:
        spec: the network.
        coords: a coordinate pytree (vmap over a leading axis for populations).
        x: inputs of shape ``(n, n_inputs)``.

    Returns:
        ``(n, n_classes)`` probabilities (rows sum to 1).
    """
    x = _check_rows("apply", spec, x)
    return jax.nn.softmax(scores_t(spec, coords, x.T), axis=0).T


def ensemble_proba(
    spec: NetworkSpec, coords: Coords, x: jax.Array, ensemble: Coords | None = None
) -> jax.Array:
    """Probabilities ``(n, K)`` of a trained model: the mean over ``ensemble`` (its members'
    coordinates with a leading axis) when given, else :func:`apply` of ``coords``. Traceable;
    trained models predict through :func:`model_proba`, which runs this on fixed-size blocks."""
    if ensemble is not None:
        return jnp.mean(jax.vmap(lambda c: apply(spec, c, x))(ensemble), axis=0)
    return apply(spec, coords, x)


#: Rows per compiled block of :func:`model_proba`.
PREDICT_BLOCK = 256


@functools.partial(jax.jit, static_argnums=0)
def _block_proba(spec: NetworkSpec, coords: Coords, ensemble: Coords | None, x: jax.Array):
    return ensemble_proba(spec, coords, x, ensemble)


def model_proba(
    spec: NetworkSpec,
    coords: Coords,
    x: Any,
    ensemble: Coords | None = None,
    block: int = PREDICT_BLOCK,
) -> np.ndarray:
    """Class probabilities of a trained model, each row independent of the others in ``x``.

    Why: XLA compiles one program per input shape, and the programs for different batch
    sizes sum a row's products in different orders (for a single row the layer matmuls are
    rewritten into multiply-and-reduce; larger batches run a GEMM whose blocking, and on GPUs
    whose split of the contraction, depends on the shape). So :func:`apply` on a batch and on
    a subset of it may differ in the last bits (up to ~1e-7 in float32), which breaks
    scikit-learn's ``check_methods_subset_invariance``. Here every row goes through one
    compiled program of fixed shape ``(block, n_inputs)``: ``x`` is cut into blocks of
    ``block`` rows, the last one padded with zero rows, so a row's probabilities are
    bit-for-bit the same whichever rows share its batch (on one device and backend).

    Every trained model (``GAResult``, ``GDResult``, ``TrainedModel``, ``DEBIClassifier``)
    predicts through this. Host code: it loops over blocks (not traceable; use
    :func:`apply` / :func:`ensemble_proba` inside ``jit``).

    Args:
        spec: the network.
        coords: one coordinate pytree (ignored when ``ensemble`` is given).
        x: inputs ``(n, n_inputs)`` in the dtype to compute in.
        ensemble: members' coordinates with a leading axis E (probabilities are averaged).
        block: rows per compiled block.

    Returns:
        ``(n, n_classes)`` probabilities as a numpy array.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != spec.n_inputs:
        raise ValueError(
            f"model_proba: x must have shape (n, {spec.n_inputs}) for this network, got {x.shape}"
        )
    n = x.shape[0]
    out = []
    for start in range(0, n, block):
        part = x[start : start + block]
        if part.shape[0] < block:
            part = np.concatenate([part, np.zeros((block - part.shape[0], x.shape[1]), x.dtype)])
        out.append(np.asarray(_block_proba(spec, coords, ensemble, part)))
    if not out:
        return np.zeros((0, spec.n_classes), jnp.zeros((), x.dtype).dtype)
    return np.concatenate(out)[:n]


@functools.partial(jax.jit, static_argnums=0)
def predict(spec: NetworkSpec, coords: Coords, x: jax.Array) -> jax.Array:
    """Predicted class index per sample (argmax, ties to the lower index); shape ``(n,)``."""
    return jnp.argmax(apply(spec, coords, x), axis=1)
