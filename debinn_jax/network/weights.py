"""From coordinates to weight matrices (spec sections 2-3; DEBINN-2025 section 2).

Absolute soma and axon points per layer (:func:`positions`), squared axon-soma distances, the
distance-to-weight kernels, weight standardisation (2022 and 2025 formulas), the 2025 spatial
dropout's median mask, and :func:`weights_and_masks` / :func:`layer_weights`, which the forward
pass and the L1/L2 terms of the loss use.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from debinn_jax.network.spec import (
    DBL_EPS,
    EPS,
    KERNEL_2025_A,
    KERNEL_2025_RHO,
    KERNELS,
    OUTPUT_ZLEN_PAD,
    Coords,
    Flags,
    NetworkSpec,
    _flag,
    _switch,
)


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


def standardize_2025(
    w: jax.Array, keep: jax.Array | None = None, zero_spread: float = 1.0
) -> jax.Array:
    """Weight standardisation (2025) over the kept entries of one matrix, any shape.

    ``m = mean``, ``sd = sqrt(sum (w - m)^2 / (n + DBL_EPS))`` over the ``n`` kept weights,
    ``w <- (w - m) / sd`` (no epsilon added to sd); at zero spread (the Singularity start) every
    kept weight becomes ``zero_spread`` (1 or 0). Removed entries (``keep`` False) stay 0.

    Zero spread: the authors' program divides the deviations from the rounded mean, which for
    equal weights are one common rounding residue, by their own root mean square, giving every
    weight +-1 (the sign depends on how the mean rounds). Their grids show it: adding L2 to a
    setting with standardisation left the run unchanged in 316 of 320 such pairs, which is
    guaranteed only when the L2 term (mean w^2) is the same at the start as after it
    (``(n + eps) / n`` = 1; with 0 at the start a tiny network's hall of fame took other
    entries, though on DLBCL 1H no run changed). We use +1: the L1/L2 terms are then 1, and at
    the Singularity start, where every layer's weights are equal, the outputs are uniform
    whatever the sign.

    The deviations are divided by their largest magnitude before they are squared (the result
    is the same up to rounding): in float32 the squares of a layer whose weights are all below
    about 1e-18 (every connection longer than d^2 ~ 100) would underflow, giving wrong or
    non-finite weights where float64 gives the right ones.
    """
    if keep is None:
        keep = jnp.ones(w.shape, bool)
    kept = keep.astype(w.dtype)
    n = jnp.sum(kept)
    m = jnp.sum(w * kept) / jnp.maximum(n, 1.0)
    dev = (w - m) * kept
    # zero spread decided exactly (all kept weights equal), not by sd > 0: the rounded mean of
    # equal weights may or may not differ from them by an ulp (XLA sums in another order than
    # the authors' loop), so the residue's sign and even its existence are not reproducible
    spread = jnp.max(jnp.where(keep, w, -jnp.inf)) - jnp.min(jnp.where(keep, w, jnp.inf))
    varied = jax.lax.stop_gradient(spread) > 0
    # the result does not depend on this factor, so its gradient is not needed
    big = jax.lax.stop_gradient(jnp.max(jnp.abs(dev)))
    big = jnp.where(varied & (big > 0), big, 1.0)
    u = dev / big
    sd = _safe_sqrt(jnp.sum(jnp.square(u)) / (n + DBL_EPS))
    out = jnp.where(varied, u / jnp.where(varied, sd, 1.0), jnp.asarray(zero_spread, w.dtype))
    return jnp.where(keep, out, 0.0)


def _kth_bits(bits: jax.Array, k: int | jax.Array, counted: jax.Array | None = None) -> jax.Array:
    """The k-th smallest (0-based) of non-negative integer ``bits`` ``(n,)`` (those flagged in
    ``counted``, default all), by bisection on the value: a ``while_loop`` that halves
    ``[min, max]`` until one value is left (no pass at all when they are all equal)."""
    big = jnp.iinfo(bits.dtype).max
    if counted is None:
        counted = jnp.ones(bits.shape, bool)
    lo = jnp.min(jnp.where(counted, bits, big))
    hi = jnp.max(jnp.where(counted, bits, 0))

    def body(lohi: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        lo, hi = lohi  # invariant: count(<= hi) > k, count(<= lo - 1) <= k
        mid = lo + (hi - lo) // 2
        enough = jnp.sum(counted & (bits <= mid)) > k
        return jnp.where(enough, lo, mid + 1), jnp.where(enough, mid, hi)

    lo, _ = jax.lax.while_loop(lambda lohi: lohi[0] < lohi[1], body, (lo, hi))
    return lo


def median_keep_mask(d2: jax.Array) -> jax.Array:
    """2025 spatial dropout of one layer: True for connections no longer than the median.

    The threshold is the element at index ``floor(n/2)`` of the sorted ``n`` squared lengths
    (any shape), found exactly, without a sort (slow in XLA on CPU): non-negative floats order
    like their bit patterns, so a bisection on the bits finds it in at most 32 passes over
    the lengths. In float64 the search runs first on the lengths rounded to float32 (rounding
    keeps the order, so the float64 median rounds to the float32 one); only lengths that round
    to that same float32 value are then searched in float64, which almost always means one
    value and no further pass (64 passes over float64 bits before, 4x the cost).

    Returns:
        Boolean mask, same shape: ``d2 <= threshold``.
    """
    d2 = jax.lax.stop_gradient(d2)
    k = d2.size // 2  # 0-based index of the threshold in sorted order
    flat = d2.ravel()
    # no arithmetic before the bitcasts: XLA on CPU flushes subnormal floats to zero
    if d2.dtype == jnp.float64:
        bits = jax.lax.bitcast_convert_type(flat, jnp.int64)
        bits = jnp.where(bits < 0, 0, bits)  # -0.0 (sign bit set) counts as 0
        # rounding to float32 is monotone (subnormals flushed to 0 or overflow to inf too)
        r = jax.lax.bitcast_convert_type(flat.astype(jnp.float32), jnp.int32)
        r = jnp.where(r < 0, 0, r)
        t = _kth_bits(r, k)
        below = r < t
        tied = r == t
        j = k - jnp.sum(below)  # the threshold is the j-th smallest of the tied lengths
        keep = below | (tied & (bits <= _kth_bits(bits, j, tied)))
    else:
        bits = jax.lax.bitcast_convert_type(flat.astype(jnp.float32), jnp.int32)
        bits = jnp.where(bits < 0, 0, bits)
        keep = bits <= _kth_bits(bits, k)
    return keep.reshape(d2.shape)


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
                w = _switch(
                    ws_flag,
                    lambda w, k: standardize_2025(w, k, spec.zero_spread),
                    lambda w, k: w,
                    w,
                    keep,
                )
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
