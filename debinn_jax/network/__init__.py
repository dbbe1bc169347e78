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

Modules (every public name is importable from ``debinn_jax.network``):

* :mod:`~debinn_jax.network.spec`: :class:`NetworkSpec`, the constants, gene counts, drawing a
  coordinate pytree (:func:`init_coords`), the traced feature switches (:data:`Flags`) and
  :func:`summary`.
* :mod:`~debinn_jax.network.weights`: coordinates to weights: absolute positions, distances,
  kernels, weight standardisation, the spatial-dropout median mask (:func:`weights_and_masks`).
* :mod:`~debinn_jax.network.forward`: the forward pass: activations, group normalisation, head
  scores, :func:`apply` and :func:`predict`.
"""

from debinn_jax.network.forward import (
    activation_fn,
    apply,
    ensemble_proba,
    group_normalize,
    head_scores,
    log_proba_t,
    output_signals_t,
    predict,
    scores_t,
)
from debinn_jax.network.spec import (
    ACTIVATIONS,
    AUTO_GROUP_SIZE,
    DBL_EPS,
    EPS,
    HEADS,
    KERNEL_2025_A,
    KERNEL_2025_RHO,
    KERNELS,
    LRELU_SLOPE,
    NORMALIZATIONS,
    OUTPUT_ZLEN_PAD,
    VARIANTS,
    Coords,
    Flags,
    NetworkSpec,
    dense_param_count,
    group_index,
    init_coords,
    param_count,
    reflect_z,
    summary,
)
from debinn_jax.network.weights import (
    kernel_fn,
    layer_weights,
    median_keep_mask,
    positions,
    squared_distances,
    standardize,
    standardize_2025,
    weights_and_masks,
)

__all__ = [
    "ACTIVATIONS",
    "AUTO_GROUP_SIZE",
    "Coords",
    "DBL_EPS",
    "EPS",
    "Flags",
    "HEADS",
    "KERNELS",
    "KERNEL_2025_A",
    "KERNEL_2025_RHO",
    "LRELU_SLOPE",
    "NORMALIZATIONS",
    "NetworkSpec",
    "OUTPUT_ZLEN_PAD",
    "VARIANTS",
    "activation_fn",
    "apply",
    "ensemble_proba",
    "dense_param_count",
    "group_index",
    "group_normalize",
    "head_scores",
    "init_coords",
    "kernel_fn",
    "layer_weights",
    "log_proba_t",
    "median_keep_mask",
    "output_signals_t",
    "param_count",
    "positions",
    "predict",
    "reflect_z",
    "scores_t",
    "squared_distances",
    "standardize",
    "standardize_2025",
    "summary",
    "weights_and_masks",
]
