"""The forward pass of a DEBI-NN (spec section 3; DEBINN-2025 section 3).

Hidden activations, the 2022 input normalisation and the 2025 per-group activation
normalisation, the head scores with samples on the last axis (:func:`scores_t`,
:func:`log_proba_t`, used by the loss), and the jit-compiled :func:`apply` and :func:`predict`
on rows of samples.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

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
    spec: NetworkSpec, coords: Coords, x_t: jax.Array, flags: Flags = None
) -> jax.Array:
    """The output layer's input signals z ``(n_classes, N)`` (before the head), samples on the
    last axis. Both heads are increasing in z per sample, so ``argmax(z)`` is the prediction.

    Args: as :func:`scores_t`.
    """
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


def scores_t(spec: NetworkSpec, coords: Coords, x_t: jax.Array, flags: Flags = None) -> jax.Array:
    """Head scores (pre-softmax) with samples on the last axis.

    Args:
        spec: the network.
        coords: one coordinate pytree (no population axis).
        x_t: inputs of shape ``(n_inputs, N)``.
        flags: optional traced switches (see :data:`Flags`).

    Returns:
        ``(n_classes, N)`` scores s such that the class probabilities are ``softmax(s, axis=0)``:
        ``z / (sum_c |z_c| + eps)`` for the reference head, ``z / T`` for the softmax head,
        where ``z`` are the output layer's input signals (:func:`output_signals_t`).
    """
    return head_scores(spec, output_signals_t(spec, coords, x_t, flags))


def head_scores(spec: NetworkSpec, z: jax.Array) -> jax.Array:
    """The spec's head on output signals ``z`` ``(K, N)``: ``z / (sum_c |z_c| + eps)``
    (reference) or ``z / T`` (softmax); probabilities are ``softmax(scores, axis=0)``."""
    if spec.head == "reference":
        return z / (jnp.sum(jnp.abs(z), axis=0, keepdims=True) + spec.eps)
    return z / spec.temperature


def log_proba_t(
    spec: NetworkSpec, coords: Coords, x_t: jax.Array, flags: Flags = None
) -> jax.Array:
    """Log class probabilities, samples on the last axis: ``(n_inputs, N) -> (n_classes, N)``."""
    return jax.nn.log_softmax(scores_t(spec, coords, x_t, flags), axis=0)


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
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] != spec.n_inputs:
        raise ValueError(
            f"apply: x must have shape (n, {spec.n_inputs}) for this network, got {x.shape}"
        )
    return jax.nn.softmax(scores_t(spec, coords, x.T), axis=0).T


def ensemble_proba(
    spec: NetworkSpec, coords: Coords, x: jax.Array, ensemble: Coords | None = None
) -> jax.Array:
    """Probabilities ``(n, K)`` of a trained model: the mean over ``ensemble`` (its members'
    coordinates with a leading axis) when given, else :func:`apply` of ``coords``. Every
    trained model (``GAResult``, ``GDResult``, ``TrainedModel``) predicts through this."""
    if ensemble is not None:
        return jnp.mean(jax.vmap(lambda c: apply(spec, c, x))(ensemble), axis=0)
    return apply(spec, coords, x)


@functools.partial(jax.jit, static_argnums=0)
def predict(spec: NetworkSpec, coords: Coords, x: jax.Array) -> jax.Array:
    """Predicted class index per sample (argmax, ties to the lower index); shape ``(n,)``."""
    return jnp.argmax(apply(spec, coords, x), axis=1)
