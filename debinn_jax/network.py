"""The DEBI-NN model as a pure function of a coordinate pytree (spec sections 1-3).

A network is described by a static, hashable :class:`NetworkSpec` and a *coordinate pytree*
``coords``: a tuple with one dict per layer (input, hidden..., output)::

    coords[0]   = {"axon": (n_inputs, 3)}
    coords[l]   = {"soma": (n_l, 3), "axon": (n_l, 3)}           hidden layers
    coords[L]   = {"soma": (n_classes, 3)}                        output layer
    # optional, for l >= 1:
    coords[l]["scale"], coords[l]["shift"]: (groups_l,)          shift-scale genes
    coords[l]["delta"]: ()                                        trained layer delta

Genes are *relative* coordinates (spec section 2): x and y are absolute, soma z is measured from
the start of the layer's z range and axon z from the neuron's own soma; z genes are read as |z|.
Every function here is pure and works under ``jax.jit``, ``jax.vmap`` (over a leading population
axis of every leaf) and ``jax.grad``.

Internally the forward pass runs with samples on the last axis (``x_t`` of shape ``(F, N)``): on
CPU this layout is several times faster for population evaluation (see JAX-NOTES section 3).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

Coords = tuple[dict[str, jax.Array], ...]

KERNELS = ("gaussian_const", "gaussian", "inverse", "inverse_squared")
ACTIVATIONS = ("lrelu", "relu", "sigmoid", "tanh")
HEADS = ("reference", "softmax")
EPS = 1e-8
LRELU_SLOPE = 0.01
OUTPUT_ZLEN_PAD = 0.5


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"NetworkSpec.{name} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """Static description of a DEBI-NN (hashable; pass it as a static argument).

    Attributes:
        n_inputs: number of input features (one input neuron each).
        hidden: sizes of the hidden layers, e.g. ``(85, 64)``; may be empty.
        n_classes: number of output neurons (classes), >= 2.
        kernel: distance-to-weight kernel, one of ``KERNELS``.
        activation: hidden-layer activation, one of ``ACTIVATIONS``.
        head: output head, ``"reference"`` (softmax of L1-normalised activations, capped
            probabilities) or ``"softmax"`` (softmax of activations / ``temperature``).
        temperature: softmax temperature of the ``softmax`` head (> 0).
        standardize_weights: z-score each layer's weight matrix (the only source of signs).
        group_norm: z-score each layer's input across its neurons, per sample.
        shift_scale: add per-group (scale, shift) genes to every non-input layer.
        groups: shift-scale group count per hidden layer: ``None`` (one group per neuron), an
            int for every hidden layer, or a tuple with one entry per hidden layer. Clamped to
            ``[1, n]``. Output layers always have one group per neuron.
        layer_delta: relative start of each layer inside the previous layer's z range.
        train_deltas: make the layer deltas genes (one per non-input layer).
    """

    n_inputs: int
    hidden: tuple[int, ...] = (16,)
    n_classes: int = 2
    kernel: str = "gaussian_const"
    activation: str = "lrelu"
    head: str = "reference"
    temperature: float = 1.0
    standardize_weights: bool = True
    group_norm: bool = False
    shift_scale: bool = False
    groups: int | tuple[int, ...] | None = None
    layer_delta: float = -0.7
    train_deltas: bool = False

    def __post_init__(self) -> None:
        _check_int("n_inputs", self.n_inputs, 1)
        _check_int("n_classes", self.n_classes, 2)
        if isinstance(self.hidden, int | str) or not isinstance(self.hidden, Sequence):
            raise ValueError(f"NetworkSpec.hidden must be a tuple of ints, got {self.hidden!r}")
        hidden = tuple(self.hidden)
        for h in hidden:
            _check_int("hidden", h, 1)
        object.__setattr__(self, "hidden", hidden)
        for name, allowed in (
            ("kernel", KERNELS),
            ("activation", ACTIVATIONS),
            ("head", HEADS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"NetworkSpec.{name} must be one of {allowed}, got {getattr(self, name)!r}"
                )
        if not (isinstance(self.temperature, int | float) and self.temperature > 0):
            raise ValueError(f"NetworkSpec.temperature must be > 0, got {self.temperature!r}")
        if not (isinstance(self.layer_delta, int | float) and math.isfinite(self.layer_delta)):
            raise ValueError(
                f"NetworkSpec.layer_delta must be a finite number, got {self.layer_delta!r}"
            )
        for name in ("standardize_weights", "group_norm", "shift_scale", "train_deltas"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"NetworkSpec.{name} must be True or False")
        groups = self.groups
        if groups is not None:
            if isinstance(groups, int) and not isinstance(groups, bool):
                groups = (groups,) * len(hidden)
            elif isinstance(groups, Sequence) and not isinstance(groups, str):
                groups = tuple(groups)
            else:
                raise ValueError(
                    f"NetworkSpec.groups must be None, an int or a tuple, got {groups!r}"
                )
            if len(groups) != len(hidden):
                raise ValueError(
                    f"NetworkSpec.groups needs one entry per hidden layer ({len(hidden)}), "
                    f"got {groups!r}"
                )
            for g in groups:
                if isinstance(g, bool) or not isinstance(g, int):
                    raise ValueError(f"NetworkSpec.groups entries must be ints, got {groups!r}")
            object.__setattr__(self, "groups", groups)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Neurons per layer: ``(n_inputs, *hidden, n_classes)``."""
        return (self.n_inputs, *self.hidden, self.n_classes)

    @property
    def n_layers(self) -> int:
        """Number of non-input layers L (hidden layers + output)."""
        return len(self.hidden) + 1

    def group_counts(self) -> tuple[int, ...]:
        """Shift-scale groups per non-input layer (clamped to [1, n]); output: one per neuron."""
        if self.groups is None:
            hidden_groups = self.hidden
        else:
            hidden_groups = tuple(min(max(g, 1), n) for g, n in zip(self.groups, self.hidden))
        return (*hidden_groups, self.n_classes)


def param_count(spec: NetworkSpec) -> int:
    """Number of trainable genes (spec section 1)."""
    count = 3 * spec.n_inputs + 6 * sum(spec.hidden) + 3 * spec.n_classes
    if spec.shift_scale:
        count += 2 * sum(spec.group_counts())
    if spec.train_deltas:
        count += spec.n_layers
    return count


def dense_param_count(spec: NetworkSpec) -> int:
    """Parameters of a dense MLP with the same layer sizes (weights + biases), for comparison."""
    sizes = spec.layer_sizes
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def group_index(n: int, groups: int) -> jax.Array:
    """Group of each of ``n`` neurons for ``groups`` contiguous blocks.

    Block size is ``floor(n / groups)``; the remainder joins the last block. Shape ``(n,)``.
    """
    groups = min(max(groups, 1), n)
    block = n // groups
    return jnp.minimum(jnp.arange(n) // block, groups - 1)


def init_coords(
    key: jax.Array, spec: NetworkSpec, scheme: str = "uniform", dtype: Any = None
) -> Coords:
    """Draw a coordinate pytree.

    Args:
        key: a ``jax.random`` key.
        spec: the network.
        scheme: ``"uniform"`` (every gene U(-1, 1); layer deltas start at ``spec.layer_delta``)
            or ``"singularity"`` (every position gene 0, scales 1, shifts 0).
        dtype: float dtype (default: JAX's default float, float32 unless x64 is on).

    Returns:
        The coordinate pytree described in the module docstring.
    """
    if scheme not in ("uniform", "singularity"):
        raise ValueError(f"init_coords: scheme must be 'uniform' or 'singularity', got {scheme!r}")
    dtype = dtype or jnp.zeros(()).dtype
    sizes = spec.layer_sizes
    keys = jax.random.split(key, len(sizes))

    def draw(k: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        if scheme == "singularity":
            return jnp.zeros(shape, dtype)
        return jax.random.uniform(k, shape, dtype, minval=-1.0, maxval=1.0)

    groups = spec.group_counts()
    layers = []
    for l, (k, n) in enumerate(zip(keys, sizes)):
        k_soma, k_axon, k_scale, k_shift = jax.random.split(k, 4)
        layer: dict[str, jax.Array] = {}
        if l > 0:
            layer["soma"] = draw(k_soma, (n, 3))
        if l < len(sizes) - 1:
            layer["axon"] = draw(k_axon, (n, 3))
        if l > 0 and spec.shift_scale:
            g = groups[l - 1]
            scale = draw(k_scale, (g,))
            layer["scale"] = jnp.ones((g,), dtype) if scheme == "singularity" else scale
            layer["shift"] = draw(k_shift, (g,))
        if l > 0 and spec.train_deltas:
            layer["delta"] = jnp.asarray(spec.layer_delta, dtype)
        layers.append(layer)
    return tuple(layers)


def reflect_z(coords: Coords) -> Coords:
    """Replace every soma/axon z gene by |z| (the network reads z as |z|); same structure."""

    def fix(layer: dict[str, jax.Array]) -> dict[str, jax.Array]:
        out = dict(layer)
        for name in ("soma", "axon"):
            if name in out:
                out[name] = out[name].at[..., 2].set(jnp.abs(out[name][..., 2]))
        return out

    return tuple(fix(layer) for layer in coords)


def positions(spec: NetworkSpec, coords: Coords) -> tuple[dict[str, jax.Array], ...]:
    """Absolute soma and axon points per layer (spec section 2).

    Returns:
        A tuple like ``coords`` holding only ``"soma"`` and/or ``"axon"`` arrays of shape
        ``(n_l, 3)`` in absolute space, plus ``"z_range"``: a ``(2,)`` array ``[zs_l, ze_l]``.
    """
    L = spec.n_layers
    axon0 = coords[0]["axon"]
    z0 = jnp.abs(axon0[:, 2])
    zs = jnp.zeros((), axon0.dtype)
    ze = jnp.max(z0)
    out = [{"axon": axon0.at[:, 2].set(z0), "z_range": jnp.stack([zs, ze])}]
    for l in range(1, L + 1):
        layer = coords[l]
        delta = layer["delta"] if spec.train_deltas else spec.layer_delta
        soma = layer["soma"]
        s_z = jnp.abs(soma[:, 2])
        if l < L:
            a_z = jnp.abs(layer["axon"][:, 2])
            zlen = s_z + a_z
        else:
            zlen = s_z + OUTPUT_ZLEN_PAD
        zs_new = ze + delta * (ze - zs)
        ze_new = zs_new + jnp.max(zlen)
        zs, ze = zs_new, ze_new
        soma_abs = soma.at[:, 2].set(zs + s_z)
        entry = {"soma": soma_abs, "z_range": jnp.stack([zs, ze])}
        if l < L:
            entry["axon"] = layer["axon"].at[:, 2].set(soma_abs[:, 2] + a_z)
        out.append(entry)
    return tuple(out)


def kernel_fn(name: str, d2: jax.Array) -> jax.Array:
    """Map squared distances ``d2`` of shape ``(n_in, n_out)`` to positive weights, same shape.

    ``gaussian_const``: exp(-d2 / 9); ``gaussian``: exp(-d2 / (2 v_j + eps)) with
    v_j = mean_i(d2_ij) / 3 per receiving neuron j; ``inverse``: 3 / sqrt(d2 + eps);
    ``inverse_squared``: 9 / (d2 + eps).
    """
    if name == "gaussian_const":
        return jnp.exp(-d2 / 9.0)
    if name == "gaussian":
        v = jnp.mean(d2, axis=0, keepdims=True) / 3.0
        return jnp.exp(-d2 / (2.0 * v + EPS))
    if name == "inverse":
        return 3.0 / jnp.sqrt(d2 + EPS)
    if name == "inverse_squared":
        return 9.0 / (d2 + EPS)
    raise ValueError(f"kernel must be one of {KERNELS}, got {name!r}")


def _std(x: jax.Array, axis: Any = None, keepdims: bool = False) -> jax.Array:
    """Population standard deviation with a gradient that stays finite at zero spread."""
    mean = jnp.mean(x, axis=axis, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axis, keepdims=keepdims)
    return jnp.sqrt(var + EPS * EPS)


def standardize(w: jax.Array) -> jax.Array:
    """Weight standardisation: (W - mean) / (std + eps) over all entries of one matrix."""
    return (w - jnp.mean(w)) / (_std(w) + EPS)


def squared_distances(axons: jax.Array, somas: jax.Array) -> jax.Array:
    """Squared distances ``||axons[i] - somas[j]||^2``: ``(n_in, 3), (n_out, 3) -> (n_in, n_out)``.

    Written as a sum of three broadcast squares rather than a reduction over a trailing axis of
    3: XLA then vectorises along ``n_out`` and fuses the kernel's ``exp`` well (about 6x faster
    for a population on CPU than ``sum((a[:, None] - s[None]) ** 2, -1)``).
    """
    return sum(jnp.square(axons[:, None, k] - somas[None, :, k]) for k in range(3))


def layer_weights(spec: NetworkSpec, coords: Coords) -> list[jax.Array]:
    """Weight matrices, one per non-input layer; entry l-1 has shape ``(n_{l-1}, n_l)``."""
    pos = positions(spec, coords)
    weights = []
    for l in range(1, spec.n_layers + 1):
        axon = pos[l - 1]["axon"]
        soma = pos[l]["soma"]
        w = kernel_fn(spec.kernel, squared_distances(axon, soma))
        if spec.standardize_weights:
            w = standardize(w)
        weights.append(w)
    return weights


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


def scores_t(spec: NetworkSpec, coords: Coords, x_t: jax.Array) -> jax.Array:
    """Head scores (pre-softmax) with samples on the last axis.

    Args:
        spec: the network.
        coords: one coordinate pytree (no population axis).
        x_t: inputs of shape ``(n_inputs, N)``.

    Returns:
        ``(n_classes, N)`` scores s such that the class probabilities are ``softmax(s, axis=0)``:
        ``a / (sum_c |a_c| + eps)`` for the reference head, ``a / T`` for the softmax head,
        where ``a`` are the output-layer activations.
    """
    weights = layer_weights(spec, coords)
    groups = spec.group_counts()
    h = x_t.astype(weights[0].dtype)
    L = spec.n_layers
    for l in range(1, L + 1):
        w = weights[l - 1]
        u = h
        if spec.group_norm:
            mu = jnp.mean(u, axis=0, keepdims=True)
            u = (u - mu) / (_std(u, axis=0, keepdims=True) + EPS)
        z = w.T @ u
        if spec.shift_scale:
            n = w.shape[1]
            scale = _expand_groups(coords[l]["scale"], n, groups[l - 1])
            shift = _expand_groups(coords[l]["shift"], n, groups[l - 1])
            z = scale * z + shift * jnp.sum(w, axis=0)[:, None]
        h = activation_fn(spec.activation, z) if l < L else z
    if spec.head == "reference":
        return h / (jnp.sum(jnp.abs(h), axis=0, keepdims=True) + EPS)
    return h / spec.temperature


def log_proba_t(spec: NetworkSpec, coords: Coords, x_t: jax.Array) -> jax.Array:
    """Log class probabilities, samples on the last axis: ``(n_inputs, N) -> (n_classes, N)``."""
    return jax.nn.log_softmax(scores_t(spec, coords, x_t), axis=0)


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


@functools.partial(jax.jit, static_argnums=0)
def predict(spec: NetworkSpec, coords: Coords, x: jax.Array) -> jax.Array:
    """Predicted class index per sample (argmax, ties to the lower index); shape ``(n,)``."""
    return jnp.argmax(apply(spec, coords, x), axis=1)


def summary(spec: NetworkSpec) -> str:
    """A short human-readable description of a network."""
    sizes = "-".join(str(n) for n in spec.layer_sizes)
    lines = [
        f"DEBI-NN {sizes}",
        f"  kernel={spec.kernel} activation={spec.activation} head={spec.head}"
        + (f" (T={spec.temperature})" if spec.head == "softmax" else ""),
        f"  standardize_weights={spec.standardize_weights} group_norm={spec.group_norm} "
        f"shift_scale={spec.shift_scale} layer_delta={spec.layer_delta} "
        f"train_deltas={spec.train_deltas}",
        f"  trainable genes: {param_count(spec)} (a dense MLP of the same sizes: "
        f"{dense_param_count(spec)})",
    ]
    return "\n".join(lines)
