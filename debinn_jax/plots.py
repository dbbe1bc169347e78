"""Figures: the 3-D neuron layout, 2-D decision boundaries and training curves.

Every function takes data, builds a :class:`matplotlib.figure.Figure` (no pyplot, no global
state; rendered with the Agg backend) and returns it; with ``path`` it also saves the figure
(atomically, the format from the file extension).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from debinn_jax.io import write_atomic
from debinn_jax.network import Coords, NetworkSpec, layer_weights, positions

PathLike = str | os.PathLike[str]

_LAYER_COLOURS = ("tab:green", "tab:blue", "tab:purple", "tab:orange", "tab:brown", "tab:pink")


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: PathLike, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` atomically; the format comes from the extension (png, pdf, svg)."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    if fmt not in fig.canvas.get_supported_filetypes():
        raise ValueError(
            f"cannot save a figure as {target.name!r}: unknown format {fmt!r}; use one of "
            f"{', '.join(sorted(fig.canvas.get_supported_filetypes()))}"
        )
    return write_atomic(
        target, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight"), "wb"
    )


def _layer_name(spec: NetworkSpec, layer: int) -> str:
    if layer == 0:
        return "input"
    if layer == spec.n_layers:
        return "output"
    return f"hidden {layer}"


def strongest_connections(
    weights: np.ndarray, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``top_k`` largest-|w| incoming connections of every receiving neuron.

    Args:
        weights: ``(n_in, n_out)`` weight matrix.
        top_k: connections kept per receiving neuron (clamped to ``n_in``).

    Returns:
        ``(src, dst, w)``, each of shape ``(n_out * k,)``: sending index, receiving index, weight.
    """
    w = np.asarray(weights)
    k = int(min(max(top_k, 0), w.shape[0]))
    if k == 0:
        empty = np.zeros((0,), dtype=np.int64)
        return empty, empty, np.zeros((0,), dtype=w.dtype)
    order = np.argsort(-np.abs(w), axis=0, kind="stable")[:k]  # (k, n_out)
    dst = np.broadcast_to(np.arange(w.shape[1]), order.shape)
    return order.ravel(), dst.ravel(), w[order, dst].ravel()


def plot_network_3d(
    spec: NetworkSpec,
    coords: Coords,
    path: PathLike | None = None,
    top_k: int = 3,
    title: str | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[Any] | None = None,
    figsize: tuple[float, float] = (8.0, 7.0),
) -> Figure:
    """Draw the network in its 3-D space.

    Somas are dots, axons triangles, one colour per layer; a grey segment joins each hidden
    neuron's soma to its axon; for every receiving neuron its ``top_k`` strongest incoming
    connections (axon -> soma) are drawn, red for positive and blue for negative weights, more
    opaque when stronger. Input and output neurons are labelled when names are given.

    Args:
        spec: the network.
        coords: its coordinate pytree (no population axis).
        path: save the figure there when given.
        top_k: connections drawn per receiving neuron (0 = none).
        title: figure title (default: the layer sizes).
        feature_names: labels of the input neurons (drawn when there are at most 30).
        class_names: labels of the output neurons.
    """
    coords = jax.tree_util.tree_map(jnp.asarray, coords)
    pos = [{k: np.asarray(v) for k, v in p.items()} for p in positions(spec, coords)]
    weights = [np.asarray(w) for w in layer_weights(spec, coords)]
    fig = _new_figure(figsize)
    ax = fig.add_subplot(projection="3d")
    for layer, p in enumerate(pos):
        colour = _LAYER_COLOURS[layer % len(_LAYER_COLOURS)]
        name = _layer_name(spec, layer)
        if "soma" in p:
            s = p["soma"]
            ax.scatter(s[:, 0], s[:, 1], s[:, 2], c=colour, marker="o", s=22, label=f"{name} soma")
        if "axon" in p:
            a = p["axon"]
            ax.scatter(
                a[:, 0],
                a[:, 1],
                a[:, 2],
                c=colour,
                marker="^",
                s=16,
                alpha=0.7,
                label=f"{name} axon",
            )
        if "soma" in p and "axon" in p:
            for s, a in zip(p["soma"], p["axon"]):
                ax.plot(*zip(s, a), color="0.6", linewidth=0.6)
    for layer in range(1, spec.n_layers + 1):
        src, dst, w = strongest_connections(weights[layer - 1], top_k)
        if w.size == 0:
            continue
        scale = float(np.max(np.abs(w))) or 1.0
        axon, soma = pos[layer - 1]["axon"], pos[layer]["soma"]
        for i, j, wij in zip(src, dst, w):
            ax.plot(
                *zip(axon[i], soma[j]),
                color="tab:red" if wij > 0 else "tab:blue",
                alpha=0.15 + 0.75 * abs(float(wij)) / scale,
                linewidth=0.8,
            )
    if feature_names is not None and len(feature_names) <= 30:
        for (x, y, z), n in zip(pos[0]["axon"], feature_names):
            ax.text(x, y, z, str(n), fontsize=6)
    if class_names is not None:
        for (x, y, z), n in zip(pos[-1]["soma"], class_names):
            ax.text(x, y, z, str(n), fontsize=8, fontweight="bold")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("z (layer depth)")
    sizes = "-".join(str(n) for n in spec.layer_sizes)
    ax.set_title(title if title is not None else f"DEBI-NN {sizes} (top {top_k} inputs per neuron)")
    ax.legend(loc="upper left", fontsize=7)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    title: str | None = None,
    resolution: int = 200,
    margin: float = 0.5,
    path: PathLike | None = None,
) -> Figure:
    """Decision regions of a classifier on 2-D data, with the data points on top.

    Args:
        predict_fn: maps points ``(m, 2)`` to class probabilities ``(m, K)`` (binary tasks are
            shaded by the probability of class 1) or to class indices ``(m,)``.
        X: points ``(n, 2)``.
        y: class indices ``(n,)`` (colours of the points).
        ax: draw into this Axes (default: a new figure).
        title: Axes title.
        resolution: grid points per axis.
        margin: extra space around the data.
        path: save the figure there when given.

    Returns:
        The Figure holding the Axes.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points (n, 2), got shape {X.shape}")
    if ax is None:
        fig = _new_figure((6.0, 5.0))
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = np.asarray(predict_fn(grid))
    if out.ndim == 2 and out.shape[1] == 2:
        z = out[:, 1].reshape(gx.shape)
        cs = ax.contourf(gx, gy, z, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(gx, gy, z, levels=[0.5], colors="k", linewidths=1.0)
        fig.colorbar(cs, ax=ax, label="P(class 1)")
    else:
        labels = np.argmax(out, axis=1) if out.ndim == 2 else out
        z = labels.reshape(gx.shape).astype(np.float64)
        n_cls = int(max(z.max(), y.max() if y.size else 0)) + 1
        ax.contourf(
            gx, gy, z, levels=np.arange(n_cls + 1) - 0.5, cmap="tab10", alpha=0.35, vmin=0, vmax=9
        )
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, s=14, edgecolors="k", linewidths=0.4
    )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if title is not None:
        ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_training_curves(
    histories: Mapping[str, Mapping[str, Any]],
    path: PathLike | None = None,
    keys: Sequence[str] | None = None,
    xlabel: str = "generation / epoch",
    log_y: Sequence[str] = (),
) -> Figure:
    """One panel per curve name, one line per run.

    Args:
        histories: ``{run name: {curve name: values (T,)}}``, e.g. ``{"GA": result.history,
            "GD": result.history}``. Curves that are not 1-D (per-layer norms) are skipped;
            non-finite values leave gaps.
        path: save the figure there when given.
        keys: the curve names to draw, in this order (default: every 1-D curve found, in
            order of first appearance).
        xlabel: label of the x axes.
        log_y: curve names drawn on a log y axis.
    """
    if not histories:
        raise ValueError("plot_training_curves: no histories given")
    if keys is None:
        found: list[str] = []
        for hist in histories.values():
            for k, v in hist.items():
                if np.ndim(v) == 1 and k not in found:
                    found.append(k)
        keys = found
    keys = list(keys)
    if not keys:
        raise ValueError("plot_training_curves: the histories hold no 1-D curves")
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig = _new_figure((4.2 * cols, 3.0 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, key in zip(axes, keys):
        for run, hist in histories.items():
            if key in hist and np.ndim(hist[key]) == 1:
                values = np.asarray(hist[key], dtype=np.float64)
                ax.plot(np.arange(values.size), values, label=str(run), linewidth=1.2)
        ax.set_title(key)
        ax.set_xlabel(xlabel)
        if key in log_y:
            ax.set_yscale("log")
        if len(histories) > 1:
            ax.legend(fontsize=7)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
