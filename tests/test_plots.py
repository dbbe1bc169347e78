"""Figures (debinn_jax.plots): built from data, returned, saved atomically."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pytest
from matplotlib.figure import Figure

from debinn_jax.network import NetworkSpec, init_coords
from debinn_jax.plots import (
    plot_decision_boundary,
    plot_network_3d,
    plot_training_curves,
    save_figure,
    strongest_connections,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SPEC = NetworkSpec(n_inputs=3, hidden=(4,), n_classes=2)
COORDS = init_coords(jax.random.key(0), SPEC)


def test_strongest_connections_hand_computed() -> None:
    w = np.array([[0.1, -2.0], [-0.5, 0.3], [0.4, 1.0]])
    src, dst, vals = strongest_connections(w, top_k=2)
    assert sorted(zip(dst.tolist(), src.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2)]
    np.testing.assert_allclose(vals, w[src, dst])
    assert strongest_connections(w, top_k=0)[0].size == 0
    assert strongest_connections(w, top_k=10)[0].size == 6  # clamped to n_in


def test_network_3d_returns_and_saves_a_figure(tmp_path: Path) -> None:
    path = tmp_path / "net.png"
    fig = plot_network_3d(
        SPEC, COORDS, path=path, top_k=2, feature_names=["a", "b", "c"], class_names=["n", "y"]
    )
    assert isinstance(fig, Figure)
    assert path.read_bytes()[:8] == PNG_MAGIC
    ax = fig.axes[0]
    assert ax.name == "3d"
    # 4 soma-axon segments + 2 per receiving neuron (4 hidden + 2 output)
    assert len(ax.lines) == 4 + 2 * 6
    assert len(plot_network_3d(SPEC, COORDS, top_k=0).axes[0].lines) == 4


def test_network_3d_accepts_numpy_coordinates() -> None:
    coords = jax.tree_util.tree_map(np.asarray, COORDS)
    assert isinstance(plot_network_3d(SPEC, coords), Figure)


def test_decision_boundary_binary_and_multiclass(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)

    def proba(P: np.ndarray) -> np.ndarray:
        p1 = 1 / (1 + np.exp(-4 * P[:, 0]))
        return np.column_stack([1 - p1, p1])

    path = tmp_path / "b.png"
    fig = plot_decision_boundary(proba, X, y, title="binary", resolution=30, path=path)
    assert fig.axes[0].get_title() == "binary"
    assert path.read_bytes()[:8] == PNG_MAGIC
    y3 = np.digitize(X[:, 1], [-0.5, 0.5])
    fig3 = Figure()
    ax = fig3.add_subplot()
    out = plot_decision_boundary(lambda P: np.digitize(P[:, 1], [-0.5, 0.5]), X, y3, ax=ax)
    assert out is fig3
    with pytest.raises(ValueError, match=r"2-D points \(n, 2\)"):
        plot_decision_boundary(proba, np.zeros((5, 3)), np.zeros(5))


def test_training_curves_one_panel_per_curve(tmp_path: Path) -> None:
    histories = {
        "GA": {"train_fitness": np.linspace(1, 0.5, 10), "val_fitness": np.linspace(1, 0.6, 10)},
        "GD": {"train_fitness": np.linspace(1, 0.4, 20), "grad_norm": np.ones((20, 3))},
    }
    fig = plot_training_curves(histories, path=tmp_path / "curves.svg", log_y=("val_fitness",))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["train_fitness", "val_fitness"]
    assert len(visible[0].lines) == 2 and visible[1].get_yscale() == "log"
    assert (tmp_path / "curves.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="no histories"):
        plot_training_curves({})
    with pytest.raises(ValueError, match="no 1-D curves"):
        plot_training_curves({"x": {"g": np.ones((3, 2))}})


def test_unknown_image_format_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'xyz'"):
        save_figure(Figure(), tmp_path / "fig.xyz")
    assert list(tmp_path.iterdir()) == []
