"""DEBI-NN as a Flax NNX layer: coordinates as ``nnx.Param``s, trained with other layers.

:class:`DEBIHead` wraps one network of a :class:`~debinn_jax.network.NetworkSpec`: its
coordinate pytree (:func:`~debinn_jax.network.init_coords`) becomes ``nnx.Param`` variables,
and calling it maps features ``(N, n_inputs)`` to log-probabilities ``(N, K)`` (samples first,
as :func:`~debinn_jax.network.log_proba`). Put it after any Flax feature extractor and train
the whole model with ``nnx.Optimizer`` and an optax transformation; or split its state out
(``nnx.split``) and evaluate a population of heads with ``jax.vmap`` for an evolution
strategy (evosax), as the GA of this library does. See ``docs/jax.md`` and
``experiments/flax_head.py``.

The head and its cap: a spec's default ``"reference"`` head is the softmax of the
L1-normalised output signals ``s = z / sum|z|`` in [-1, 1], so a class probability never
exceeds ``e / (e + K - 1)`` (0.731 for two classes). That suits the GA's fitness but not a
model trained end to end with cross-entropy, whose loss then cannot approach 0. Two uncapped
choices:

* a spec with ``head="softmax"`` (recommended for model builders, and what
  :func:`uncapped_head` builds): the logits are ``z / temperature``. In
  ``experiments/flax_head.py`` (breast-cancer data, seeds 0-4) it trained on every seed
  (test accuracy 0.959-0.983), while both reference-normalised heads stalled at the majority
  or minority class on two of the five seeds;
* ``learn_scale=True``: the logits are ``exp(log_scale) * s`` with ``log_scale`` an
  ``nnx.Param`` (starting at 0, scale 1): the reference normalisation, bounded scores and a
  learnt temperature, without the cap (with the softmax head it is a learnt temperature).

This module imports Flax; the rest of debinn-jax does not need it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from debinn_jax.network import Coords, NetworkSpec, init_coords
from debinn_jax.network.forward import scores_t

__all__ = ["DEBIHead", "head_coords", "uncapped_head"]


def _is_variable(v: Any) -> bool:
    return isinstance(v, nnx.Variable)


class DEBIHead(nnx.Module):
    """A DEBI-NN as an NNX module: ``(N, n_inputs) -> (N, K)`` log-probabilities.

    Args:
        spec: the network; ``spec.n_inputs`` is the width of the features the head reads.
        rngs: ``nnx.Rngs``; the coordinates are drawn with its ``params`` stream.
        scheme: :func:`~debinn_jax.network.init_coords` scheme, ``"uniform"`` or
            ``"singularity"``.
        coords: start from these coordinates (e.g. a trained model's) instead of drawing.
        learn_scale: multiply the head scores by a learnable positive scale
            (``exp(log_scale)``): lifts the reference head's probability cap, or learns the
            softmax head's temperature (see the module docstring).
        dtype: float dtype of the coordinates (default JAX's default float).

    Attributes:
        spec: the network (static).
        coords: the coordinate pytree with ``nnx.Param`` leaves (one tuple entry per layer).
        log_scale: ``nnx.Param`` of shape ``()`` when ``learn_scale``, else None.
    """

    def __init__(
        self,
        spec: NetworkSpec,
        *,
        rngs: nnx.Rngs,
        scheme: str = "uniform",
        coords: Coords | None = None,
        learn_scale: bool = False,
        dtype: Any = None,
    ) -> None:
        if not isinstance(spec, NetworkSpec):
            raise ValueError(f"DEBIHead: spec must be a NetworkSpec, got {type(spec).__name__}")
        self.spec = spec
        if coords is None:
            coords = init_coords(rngs.params(), spec, scheme, dtype)
        else:
            template = jax.eval_shape(lambda: init_coords(jax.random.key(0), spec))
            if jax.tree.structure(coords) != jax.tree.structure(template):
                raise ValueError(
                    "DEBIHead: coords must have the layout of init_coords(key, spec) "
                    f"({jax.tree.structure(template)}), got {jax.tree.structure(coords)}"
                )
            coords = jax.tree.map(lambda c, t: jnp.asarray(c, dtype or t.dtype), coords, template)
        self.coords = nnx.data(jax.tree.map(nnx.Param, coords))
        scale_dtype = dtype or jnp.zeros(()).dtype
        self.log_scale = nnx.Param(jnp.zeros((), scale_dtype)) if learn_scale else None

    def coordinates(self) -> Coords:
        """The current coordinates as a plain pytree of arrays (for :func:`apply`, saving)."""
        return jax.tree.map(lambda p: p[...], self.coords, is_leaf=_is_variable)

    def logits(self, x: jax.Array) -> jax.Array:
        """Class scores ``(N, K)`` whose softmax is the head's probabilities.

        Args:
            x: features ``(N, n_inputs)``.
        """
        x = jnp.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.spec.n_inputs:
            raise ValueError(
                f"DEBIHead: x must have shape (N, {self.spec.n_inputs}) for this head, got "
                f"{x.shape}"
            )
        s = scores_t(self.spec, self.coordinates(), x.T).T
        if self.log_scale is not None:
            s = jnp.exp(self.log_scale[...]) * s
        return s

    def __call__(self, x: jax.Array) -> jax.Array:
        """Log-probabilities ``(N, K)`` of features ``x`` ``(N, n_inputs)``."""
        return jax.nn.log_softmax(self.logits(x), axis=-1)


def uncapped_head(
    n_inputs: int,
    hidden: tuple[int, ...],
    n_classes: int,
    *,
    rngs: nnx.Rngs,
    temperature: float = 1.0,
    **spec_options: Any,
) -> DEBIHead:
    """A :class:`DEBIHead` for model builders: the spec's softmax head, not capped.

    Args:
        n_inputs: width of the features it reads.
        hidden: hidden layer sizes (``()`` for none).
        n_classes: number of classes K.
        rngs: ``nnx.Rngs``.
        temperature: the softmax temperature T (logits ``z / T``).
        spec_options: other :class:`~debinn_jax.network.NetworkSpec` fields (kernel, ...).
    """
    spec = NetworkSpec(
        n_inputs,
        tuple(hidden),
        n_classes,
        head="softmax",
        temperature=temperature,
        **spec_options,
    )
    return DEBIHead(spec, rngs=rngs)


def head_coords(state: Any) -> Coords:
    """The coordinate pytree of a :class:`DEBIHead`'s state as plain arrays.

    Args:
        state: ``nnx.state(head)`` or the ``nnx.Param`` state from ``nnx.split(head,
            nnx.Param, ...)`` (leaves may carry a leading population axis).
    """
    pure = nnx.to_pure_dict(state)
    layers = pure["coords"]
    return tuple(dict(layers[i]) for i in range(len(layers)))
