"""The NumPy baseline: the forward pass and DEBI loss of one network in plain NumPy (same math
as :mod:`debinn_jax.network` and :mod:`debinn_jax.loss`; samples as rows, the natural layout),
the per-individual loop the benchmark times against, and the check that it equals ``apply``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax.bench.workloads import Workload, individuals, random_population
from debinn_jax.loss import LOG_P_FLOOR, LossConfig
from debinn_jax.network import EPS, LRELU_SLOPE, OUTPUT_ZLEN_PAD, Coords, NetworkSpec


def _np_kernel(name: str, d2: np.ndarray) -> np.ndarray:
    if name == "gaussian_const":
        return np.exp(-d2 / 9.0)
    if name == "gaussian":
        v = d2.mean(axis=0, keepdims=True) / 3.0
        return np.exp(-d2 / (2.0 * v + EPS))
    if name == "inverse":
        return 3.0 / np.sqrt(d2 + EPS)
    if name == "inverse_squared":
        return 9.0 / (d2 + EPS)
    raise ValueError(f"unknown kernel {name!r}")


def _np_std(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    mean = x.mean(axis=axis, keepdims=True)
    return np.sqrt(np.square(x - mean).mean(axis=axis, keepdims=keepdims) + EPS * EPS)


def _np_activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "lrelu":
        return np.where(z >= 0, z, LRELU_SLOPE * z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    raise ValueError(f"unknown activation {name!r}")


def numpy_weights(spec: NetworkSpec, coords: Coords) -> list[np.ndarray]:
    """Weight matrices ``(n_{l-1}, n_l)`` of one network, in NumPy (spec sections 2 and 3.1)."""
    L = spec.n_layers
    axon = np.array(coords[0]["axon"], copy=True)
    axon[:, 2] = np.abs(axon[:, 2])
    zs, ze = 0.0, float(axon[:, 2].max())
    weights = []
    for l in range(1, L + 1):
        layer = coords[l]
        delta = float(layer["delta"]) if spec.train_deltas else spec.layer_delta
        soma = np.array(layer["soma"], copy=True)
        s_z = np.abs(soma[:, 2])
        a_z = np.abs(layer["axon"][:, 2]) if l < L else None
        zlen = s_z + a_z if l < L else s_z + OUTPUT_ZLEN_PAD
        zs, ze = ze + delta * (ze - zs), ze + delta * (ze - zs) + float(zlen.max())
        soma[:, 2] = zs + s_z
        diff = axon[:, None, :] - soma[None, :, :]
        w = _np_kernel(spec.kernel, np.square(diff).sum(axis=-1))
        if spec.standardize_weights:
            w = (w - w.mean()) / (_np_std(w) + EPS)
        weights.append(w)
        if l < L:
            axon = np.array(layer["axon"], copy=True)
            axon[:, 2] = soma[:, 2] + a_z
    return weights


def numpy_scores(spec: NetworkSpec, coords: Coords, X: np.ndarray) -> np.ndarray:
    """Head scores ``(N, K)`` of one network (probabilities = softmax over axis 1)."""
    weights = numpy_weights(spec, coords)
    groups = spec.group_counts()
    h = np.asarray(X, weights[0].dtype)
    L = spec.n_layers
    for l in range(1, L + 1):
        w = weights[l - 1]
        u = h
        if spec.normalization == "input":
            u = (u - u.mean(axis=1, keepdims=True)) / (_np_std(u, axis=1, keepdims=True) + EPS)
        z = u @ w
        if spec.shift_scale:
            n, g = w.shape[1], groups[l - 1]
            idx = np.minimum(np.arange(n) // (n // g), g - 1)
            z = coords[l]["scale"][idx] * z + coords[l]["shift"][idx] * w.sum(axis=0)
        h = _np_activation(spec.activation, z) if l < L else z
    if spec.head == "reference":
        return h / (np.abs(h).sum(axis=1, keepdims=True) + EPS)
    return h / spec.temperature


def _np_log_softmax(s: np.ndarray) -> np.ndarray:
    e = s - s.max(axis=1, keepdims=True)
    return e - np.log(np.exp(e).sum(axis=1, keepdims=True))


def numpy_proba(spec: NetworkSpec, coords: Coords, X: np.ndarray) -> np.ndarray:
    """Class probabilities ``(N, K)`` of one network (same as :func:`debinn_jax.apply`)."""
    return np.exp(_np_log_softmax(numpy_scores(spec, coords, X)))


def numpy_loss(
    spec: NetworkSpec,
    coords: Coords,
    X: np.ndarray,
    y: np.ndarray,
    config: LossConfig = LossConfig(),  # noqa: B008 (frozen)
) -> float:
    """The DEBI loss of one network on all samples (spec section 4), in NumPy."""
    logp = np.maximum(_np_log_softmax(numpy_scores(spec, coords, X)), LOG_P_FLOOR)
    k = spec.n_classes
    onehot = np.eye(k, dtype=logp.dtype)[y]
    t = config.alpha * onehot + (1.0 - config.alpha) * (1.0 - onehot)
    terms = -t * logp
    if config.class_weights:
        beta = k * (1.0 - onehot.sum(axis=0) / y.shape[0])
        per_sample = terms @ beta
    else:
        per_sample = terms.sum(axis=1)
    loss = float(per_sample.mean())
    if config.l1 or config.l2:
        flat = np.concatenate([w.ravel() for w in numpy_weights(spec, coords)])
        loss += config.l1 * float(np.abs(flat).mean()) + config.l2 * float(np.square(flat).mean())
    return loss


def numpy_population_loss(
    spec: NetworkSpec,
    population: Sequence[Coords],
    X: np.ndarray,
    y: np.ndarray,
    config: LossConfig = LossConfig(),  # noqa: B008 (frozen)
) -> np.ndarray:
    """``(P,)`` losses: a plain Python loop of :func:`numpy_loss` over individuals."""
    return np.array([numpy_loss(spec, c, X, y, config) for c in population], np.float32)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit NumPy's BLAS to one thread inside the block (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def check_numpy_reference(
    workload: Workload, n_individuals: int = 4, seed: int = 1, float64: bool = True
) -> float:
    """Largest |NumPy - apply| probability difference over a few random individuals.

    With ``float64`` both sides run in double precision (``jax.enable_x64``), which checks the
    math; in float32 (the timed setting) the two differ by float32 rounding (~1e-5).
    """
    from debinn_jax.network import apply

    dtype = np.float64 if float64 else np.float32
    pop = random_population(jax.random.key(seed), workload.spec, n_individuals)
    X = np.asarray(workload.X, dtype)
    worst = 0.0
    with jax.enable_x64(float64):
        for c in individuals(pop):
            c = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype), c)
            p_np = numpy_proba(workload.spec, c, X)
            c_j = jax.tree_util.tree_map(jnp.asarray, c)
            p_jax = np.asarray(apply(workload.spec, c_j, jnp.asarray(X)))
            worst = max(worst, float(np.max(np.abs(p_np - p_jax))))
    return worst
