"""The static description of a DEBI-NN and its coordinate pytree.

:class:`NetworkSpec` and the constants of both variants, gene counts (:func:`param_count`),
drawing coordinates (:func:`init_coords`, :func:`reflect_z`), the group layout of a layer
(:func:`group_index`), the traced switches that turn spec features off per run
(:data:`Flags`) and a one-screen :func:`summary`. The package docstring
(:mod:`debinn_jax.network`) describes the pytree and the two variants.
"""

from __future__ import annotations

import dataclasses
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
        zero_spread: what the 2025 weight standardisation gives a layer whose (kept) weights
            are all equal, as at the Singularity start, where ``(w - m) / sd`` is 0/0: 1.0
            or 0.0 (see :func:`~debinn_jax.network.weights.standardize_2025`). Outputs are
            uniform either way; only an L1/L2 penalty at the origin tells them apart.
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
    zero_spread: float = 1.0

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
        if isinstance(self.zero_spread, bool) or self.zero_spread not in (0, 1):
            raise ValueError(
                f"NetworkSpec.zero_spread must be 0.0 or 1.0, got {self.zero_spread!r}"
            )
        object.__setattr__(self, "zero_spread", float(self.zero_spread))
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
