"""The DEBI-NN model as a pure function of a coordinate pytree (spec sections 1-3).

A network is described by a static, hashable :class:`NetworkSpec` and a *coordinate pytree*
``coords``: a tuple with one dict per layer (input, hidden..., output)::

    coords[0]   = {"axon": (n_inputs, 3)}
    coords[l]   = {"soma": (n_l, 3), "axon": (n_l, 3)}           hidden layers
    coords[L]   = {"soma": (n_classes, 3)}                        output layer
    # optional, for l >= 1:
    coords[l]["scale"], coords[l]["shift"]: (groups_l,)          shift-scale genes
    coords[l]["delta"]: ()                                        trained layer delta

Two variants share this pytree and the one forward function :func:`apply`
(``NetworkSpec.variant``):

* ``"2022"`` (DEBINN-SPEC.md, the 2022/23 program): genes are *relative* coordinates (spec
  section 2): x and y are absolute, soma z is measured from the start of the layer's z range and
  axon z from the neuron's own soma; z genes are read as |z|. Shift-scale genes act on every
  non-input layer's input signals.
* ``"2025"`` (DEBINN-2025.md, the program behind the authors' published models and grids):
  genes are *absolute* points with signed z (no layer offsets, no deltas); scale/shift genes act
  only after the per-group activation normalisation of hidden layers (output genes inert);
  epsilons are DBL_EPSILON. :meth:`NetworkSpec.reference_2025` builds the authors' settings.

Every function here is pure and works under ``jax.jit``, ``jax.vmap`` (over a leading population
axis of every leaf) and ``jax.grad``, in float32 (default) and float64 (``jax_enable_x64``).

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

KERNELS = ("gaussian_const", "gaussian", "inverse", "inverse_squared", "gaussian_2025")
ACTIVATIONS = ("lrelu", "relu", "sigmoid", "tanh")
HEADS = ("reference", "softmax")
VARIANTS = ("2022", "2025")
NORMALIZATIONS = ("none", "input", "activation")
EPS = 1e-8
#: The 2025 program's epsilon (C's DBL_EPSILON), used everywhere in the 2025 variant.
DBL_EPS = 2.220446049250313e-16
#: The 2025 kernel w = A exp(-rho d^2) (DEBINN-2025.md section 2).
KERNEL_2025_A = 0.8920620580763856
KERNEL_2025_RHO = 0.4
#: ``groups="auto"``: floor(N / AUTO_GROUP_SIZE) groups per hidden layer (the 2025 AUTO rule).
AUTO_GROUP_SIZE = 8
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
        normalization: ``"none"`` (or None); ``"input"`` (2022: z-score each layer's input
            across its neurons, per sample); ``"activation"`` (2025: per sample and per group,
            z-score each hidden layer's own activations within the group, then
            ``scale * . + shift``; never on the output layer).
        shift_scale: add per-group (scale, shift) genes to every non-input layer. Where they
            act: with ``normalization="activation"`` after the group normalisation of hidden
            layers (output genes inert); otherwise, in the 2022 variant, on the input signals
            (``z = scale W u + shift W 1``); otherwise (2025 without group normalisation) inert.
            On by default: they are the network's only bias, and on validation splits of the
            four study tasks they were the best default (``experiments/defaults_validation.py``;
            two-moons 0.973 vs 0.846 without). ``shift_scale=False`` is the spec's network
            (its stated gene counts, e.g. 951 for 17-85-64-2).
        groups: group count per hidden layer: ``None`` (one group per neuron), ``"auto"``
            (floor(N/8), at least 1: the 2025 AUTO rule), an int for every hidden layer, or a
            tuple with one entry per hidden layer. Clamped to ``[1, n]``; contiguous blocks of
            floor(N/G) neurons, the remainder joining the last. Output layers always have one
            group per neuron.
        layer_delta: relative start of each layer inside the previous layer's z range (2022).
        train_deltas: make the layer deltas genes (one per non-input layer; 2022 only).
        variant: ``"2022"`` or ``"2025"`` (see the module docstring): geometry (relative |z|
            with layer offsets vs absolute signed points), where shift-scale genes act, the
            epsilons (1e-8 vs DBL_EPSILON) and the weight-standardisation formula.
        spatial_dropout: 2025 spatial dropout: per layer, connections longer than the value
            at index floor(n/2) of the sorted lengths (the median) are removed (weight 0, and
            left out of the weight standardisation and the L1/L2 means).
    """

    n_inputs: int
    hidden: tuple[int, ...] = (16,)
    n_classes: int = 2
    kernel: str = "gaussian_const"
    activation: str = "lrelu"
    head: str = "reference"
    temperature: float = 1.0
    standardize_weights: bool = True
    normalization: str | None = "none"  # None: "none" (the settings dialect)
    shift_scale: bool = True
    groups: int | str | tuple[int, ...] | None = None
    layer_delta: float = -0.7
    train_deltas: bool = False
    variant: str = "2022"
    spatial_dropout: bool = False

    def __post_init__(self) -> None:
        _check_int("n_inputs", self.n_inputs, 1)
        _check_int("n_classes", self.n_classes, 2)
        if isinstance(self.hidden, int | str) or not isinstance(self.hidden, Sequence):
            raise ValueError(f"NetworkSpec.hidden must be a tuple of ints, got {self.hidden!r}")
        hidden = tuple(self.hidden)
        for h in hidden:
            _check_int("hidden", h, 1)
        object.__setattr__(self, "hidden", hidden)
        if self.normalization is None:  # the settings dialect's "none" (debinn_jax.settings)
            object.__setattr__(self, "normalization", "none")
        for name, allowed in (
            ("kernel", KERNELS),
            ("activation", ACTIVATIONS),
            ("head", HEADS),
            ("variant", VARIANTS),
            ("normalization", NORMALIZATIONS),
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
        for name in ("standardize_weights", "shift_scale", "train_deltas", "spatial_dropout"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"NetworkSpec.{name} must be True or False")
        if self.variant == "2025" and self.train_deltas:
            raise ValueError(
                "NetworkSpec.train_deltas: the 2025 variant has absolute genes and no layer deltas"
            )
        groups = self.groups
        if groups == "auto":
            pass
        elif groups is not None:
            if isinstance(groups, int) and not isinstance(groups, bool):
                groups = (groups,) * len(hidden)
            elif isinstance(groups, Sequence) and not isinstance(groups, str):
                groups = tuple(groups)
            else:
                raise ValueError(
                    f"NetworkSpec.groups must be None, 'auto', an int or a tuple, got {groups!r}"
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

    @classmethod
    def reference_2025(
        cls,
        n_inputs: int,
        hidden: Sequence[int],
        n_classes: int = 2,
        *,
        shift_scale: bool = False,
        standardize_weights: bool = False,
        normalization: str = "activation",
        spatial_dropout: bool = False,
    ) -> NetworkSpec:
        """The authors' 2025 network (DEBINN-2025.md sections 1-2).

        Absolute signed genes, kernel ``A exp(-0.4 d^2)``, leaky ReLU, AUTO group count
        floor(N/8), the reference head on the output input signals with DBL_EPSILON. The
        keyword arguments are the switches of the authors' regulariser grid (defaults: the
        published DLBCL best model, ``GroupNormalization=Activation`` and nothing else).
        """
        return cls(
            n_inputs=n_inputs,
            hidden=tuple(hidden),
            n_classes=n_classes,
            kernel="gaussian_2025",
            activation="lrelu",
            head="reference",
            standardize_weights=standardize_weights,
            normalization=normalization,
            shift_scale=shift_scale,
            groups="auto",
            variant="2025",
            spatial_dropout=spatial_dropout,
        )

    @property
    def eps(self) -> float:
        """The variant's epsilon: 1e-8 (2022) or DBL_EPSILON (2025)."""
        return DBL_EPS if self.variant == "2025" else EPS

    @property
    def reflects_z(self) -> bool:
        """Whether z genes are read as |z| (2022) rather than signed (2025)."""
        return self.variant == "2022"

    def group_counts(self) -> tuple[int, ...]:
        """Groups per non-input layer (clamped to [1, n]); output: one per neuron."""
        if self.groups is None:
            hidden_groups = self.hidden
        elif self.groups == "auto":
            hidden_groups = tuple(max(n // AUTO_GROUP_SIZE, 1) for n in self.hidden)
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


Flags = dict[str, Any] | None
"""Optional traced 0/1 switches ``{"standardize_weights", "spatial_dropout", "normalization"}``
that turn features *enabled in the spec* off per run without recompiling (a sweep over the
authors' regulariser grid passes them as arrays). A feature the spec disables is never computed;
a missing key or ``flags=None`` means "as the spec says"."""


def _flag(flags: Flags, name: str) -> Any:
    """The traced switch ``name`` (a 0-d array) or None when the spec alone decides."""
    if flags is None or name not in flags:
        return None
    return jnp.asarray(flags[name])


def _switch(flag: Any, on: Any, off: Any, *operands: Any) -> Any:
    """``on(*operands)`` where the switch is on (or absent), else ``off(*operands)``.

    A real branch (``lax.cond``) for an unbatched switch, so a feature switched off costs
    nothing; under ``vmap`` over runs with batched switches it becomes a select of both.
    """
    if flag is None:
        return on(*operands)
    return jax.lax.cond(flag > 0, on, off, *operands)


def positions(spec: NetworkSpec, coords: Coords) -> tuple[dict[str, jax.Array], ...]:
    """Absolute soma and axon points per layer.

    2022 (spec section 2): relative genes, |z|, layer z ranges from the layer deltas. 2025: the
    genes are the points (signed z).

    Returns:
        A tuple like ``coords`` holding only ``"soma"`` and/or ``"axon"`` arrays of shape
        ``(n_l, 3)`` in absolute space, plus ``"z_range"``: a ``(2,)`` array ``[zs_l, ze_l]``
        (2025: the smallest and largest z of the layer's points).
    """
    if spec.variant == "2025":
        out = []
        for layer in coords:
            # The z "update" changes no value. It makes XLA copy the points into a fresh
            # buffer, as the 2022 geometry does: without it, XLA on CPU compiles the
            # population's weights into a program 5x slower (measured, jax 0.10.2: 2.4 vs
            # 0.49 ms for 64 DLBCL networks; an optimization_barrier does not help).
            entry = {
                k: jnp.asarray(layer[k]).at[:, 2].set(layer[k][:, 2])
                for k in ("soma", "axon")
                if k in layer
            }
            zs = jnp.concatenate([v[:, 2] for v in entry.values()])
            entry["z_range"] = jnp.stack([jnp.min(zs), jnp.max(zs)])
            out.append(entry)
        return tuple(out)
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
    ``inverse_squared``: 9 / (d2 + eps); ``gaussian_2025``: A exp(-rho d2) with
    A = 0.8920620580763856, rho = 0.4 (DEBINN-2025.md section 2).
    """
    if name == "gaussian_const":
        return jnp.exp(-d2 / 9.0)
    if name == "gaussian_2025":
        return KERNEL_2025_A * jnp.exp(-KERNEL_2025_RHO * d2)
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


def _safe_sqrt(x: jax.Array) -> jax.Array:
    """``sqrt(x)`` for ``x >= 0`` whose gradient is 0 (not inf/NaN) at ``x = 0``."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def standardize(w: jax.Array) -> jax.Array:
    """Weight standardisation (2022): (W - mean) / (std + eps) over all entries of one matrix."""
    return (w - jnp.mean(w)) / (_std(w) + EPS)


def standardize_2025(w: jax.Array, keep: jax.Array | None = None) -> jax.Array:
    """Weight standardisation (2025) over the kept entries of one matrix, any shape.

    ``m = mean``, ``sd = sqrt(sum (w - m)^2 / (n + DBL_EPS))`` over the ``n`` kept weights,
    ``w <- (w - m) / sd`` (no epsilon added to sd); at zero spread (the Singularity start) every
    weight becomes 0. Removed entries (``keep`` False) stay 0.
    """
    if keep is None:
        keep = jnp.ones(w.shape, bool)
    kept = keep.astype(w.dtype)
    n = jnp.sum(kept)
    m = jnp.sum(w * kept) / jnp.maximum(n, 1.0)
    sd = _safe_sqrt(jnp.sum(jnp.square(w - m) * kept) / (n + DBL_EPS))
    # zero spread decided exactly (all kept weights equal), not by sd > 0: the rounded mean of
    # equal weights can differ from them by an ulp, which would make every weight +-1
    spread = jnp.max(jnp.where(keep, w, -jnp.inf)) - jnp.min(jnp.where(keep, w, jnp.inf))
    varied = jax.lax.stop_gradient(spread) > 0
    out = (w - m) / jnp.where(varied, sd, 1.0)
    return jnp.where(keep & varied, out, 0.0)


def median_keep_mask(d2: jax.Array) -> jax.Array:
    """2025 spatial dropout of one layer: True for connections no longer than the median.

    The threshold is the element at index ``floor(n/2)`` of the sorted ``n`` squared lengths
    (any shape), found exactly by bisection on the float bit patterns (non-negative floats
    order like their bit patterns) instead of a sort, which is slow in XLA on CPU.

    Returns:
        Boolean mask, same shape: ``d2 <= threshold``.
    """
    d2 = jax.lax.stop_gradient(d2)
    int_t = jnp.int64 if d2.dtype == jnp.float64 else jnp.int32
    # no arithmetic before the bitcast: XLA on CPU flushes subnormal floats to zero
    bits = jax.lax.bitcast_convert_type(d2, int_t).ravel()
    bits = jnp.where(bits < 0, 0, bits)  # -0.0 (sign bit set) counts as 0
    k = d2.size // 2  # 0-based index of the threshold in sorted order
    n_bits = 64 if int_t == jnp.int64 else 32

    def body(_: int, lohi: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        lo, hi = lohi  # invariant: count(bits <= hi) > k, count(bits <= lo - 1) <= k
        mid = lo + (hi - lo) // 2
        enough = jnp.sum(bits <= mid) > k
        return jnp.where(enough, lo, mid + 1), jnp.where(enough, mid, hi)

    lo, _ = jax.lax.fori_loop(0, n_bits, body, (jnp.zeros((), int_t), jnp.max(bits)))
    return (bits <= lo).reshape(d2.shape)


def squared_distances(axons: jax.Array, somas: jax.Array) -> jax.Array:
    """Squared distances ``||axons[i] - somas[j]||^2``: ``(n_in, 3), (n_out, 3) -> (n_in, n_out)``.

    Written as a sum of three broadcast squares rather than a reduction over a trailing axis of
    3: XLA then vectorises along ``n_out`` and fuses the kernel's ``exp`` well (about 6x faster
    for a population on CPU than ``sum((a[:, None] - s[None]) ** 2, -1)``).
    """
    return sum(jnp.square(axons[:, None, k] - somas[None, :, k]) for k in range(3))


def weights_and_masks(
    spec: NetworkSpec, coords: Coords, flags: Flags = None
) -> tuple[list[jax.Array], list[jax.Array] | None]:
    """Weight matrices and, with spatial dropout, the kept-connection masks.

    Returns:
        ``(weights, masks)``: per non-input layer l, ``weights[l-1]`` ``(n_{l-1}, n_l)`` as
        the forward pass uses them (removed connections 0) and ``masks[l-1]`` the boolean
        kept connections (``masks`` is None without spatial dropout).
    """
    pos = positions(spec, coords)
    ws_flag = _flag(flags, "standardize_weights")
    sd_flag = _flag(flags, "spatial_dropout")
    weights, masks = [], []
    for l in range(1, spec.n_layers + 1):
        d2 = squared_distances(pos[l - 1]["axon"], pos[l]["soma"])
        w = kernel_fn(spec.kernel, d2)
        keep = None
        if spec.spatial_dropout:
            keep = _switch(sd_flag, median_keep_mask, lambda d: jnp.ones(d.shape, bool), d2)
            masks.append(keep)
        if spec.standardize_weights:
            if spec.variant == "2025":
                w = _switch(ws_flag, standardize_2025, lambda w, k: w, w, keep)
            else:
                w = _switch(ws_flag, standardize, lambda w: w, w)
        if keep is not None:
            w = jnp.where(keep, w, 0.0)
        weights.append(w)
    return weights, (masks if spec.spatial_dropout else None)


def layer_weights(spec: NetworkSpec, coords: Coords, flags: Flags = None) -> list[jax.Array]:
    """Weight matrices, one per non-input layer; entry l-1 has shape ``(n_{l-1}, n_l)``.

    Connections removed by spatial dropout are 0.
    """
    return weights_and_masks(spec, coords, flags)[0]


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
        where ``z`` are the output layer's input signals (no output activation).
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
            h = z
            break
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
    if spec.head == "reference":
        return h / (jnp.sum(jnp.abs(h), axis=0, keepdims=True) + eps)
    return h / spec.temperature


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
        f"  variant={spec.variant} standardize_weights={spec.standardize_weights} "
        f"normalization={spec.normalization} shift_scale={spec.shift_scale} "
        f"groups={spec.groups} spatial_dropout={spec.spatial_dropout}"
        + (
            f" layer_delta={spec.layer_delta} train_deltas={spec.train_deltas}"
            if spec.variant == "2022"
            else ""
        ),
        f"  trainable genes: {param_count(spec)} (a dense MLP of the same sizes: "
        f"{dense_param_count(spec)})",
    ]
    return "\n".join(lines)
