"""The authors' two published 2025 models, run by debinn-jax (DEBINN-2025.md sections 2, 3, 6).

The models are read from ``$DEBINN_REFERENCE_DIR`` (else ``<repo>/../shared/reference``), their
data from ``$DEBINN_DATA_DIR`` (else ``<repo>/../shared/data``); the tests skip, naming the
missing path, when either is absent. Cases are joined by ``Key``, columns by the model's feature
names (features go in raw). The expected probabilities are those the authors' program wrote for
every train and test case.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _shared import data_dir, reference_dir

import debinn_jax as dj
from debinn_jax.authors import (
    AuthorsModel,
    UnsupportedModelError,
    coords_to_genome,
    genome_length,
    genome_to_coords,
    load_authors_model,
    spec_of_file,
)
from debinn_jax.authors_file import AuthorsModelFile, read_authors_file
from debinn_jax.loss import debi_loss

# model folder, data folder, layer sizes, genome length, test confusion matrix (positive "1")
MODELS = {
    "DLBCL-2H-Hinton-S69": ("dlbcl", (17, 85, 64, 2), 951, {"TP": 12, "TN": 25, "FP": 5, "FN": 2}),
    "HECKTOR-1H-S24": ("hecktor-lite", (36, 180, 2), 1242, {"TP": 33, "TN": 19, "FP": 0, "FN": 22}),
}
PARTS = ("Train", "Test")
POSITIVE = "1"
F64_TOL = 1e-12
F32_TOL = 1e-5


def _model_dir(name: str) -> Path:
    path = reference_dir() / "models" / name
    for file in ("BestModel.bin", "expected_train_proba.csv", "expected_test_proba.csv"):
        if not (path / file).is_file():
            pytest.skip(
                f"authors' reference model file not found: {path / file} "
                "(set DEBINN_REFERENCE_DIR to the folder holding models/)"
            )
    return path


def _fold_dir(name: str) -> Path:
    path = data_dir() / MODELS[name][0] / "Fold-1"
    for part in PARTS:
        for kind in "FL":
            if not (path / f"{part}{kind}.csv").is_file():
                pytest.skip(
                    f"dataset file not found: {path / f'{part}{kind}.csv'} "
                    "(set DEBINN_DATA_DIR to the folder holding dlbcl/ and hecktor-lite/)"
                )
    return path


def _read_table(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    """A ``;``-separated table keyed by its first column ``Key``: (header, key -> row)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh, delimiter=";") if row]
    header, body = rows[0], rows[1:]
    assert header[0] == "Key", f"{path}: first column is {header[0]!r}, not Key"
    table = {row[0]: row for row in body}
    assert len(table) == len(body), f"{path}: duplicate keys"
    return header, table


@dataclasses.dataclass(frozen=True)
class Case:
    """One part (train or test) of a model's fold, in the order of the expected file."""

    keys: tuple[str, ...]
    x: np.ndarray  # (N, F) float64, columns in the model's feature order
    labels: tuple[str, ...]  # true label strings
    y: np.ndarray  # class index in the model's output order
    expected: np.ndarray  # (N, K) the authors' probabilities


@dataclasses.dataclass(frozen=True)
class Authors:
    """A published model: as loaded by debinn-jax, and the parsed file."""

    name: str
    model: AuthorsModel
    file: AuthorsModelFile
    folder: Path


@dataclasses.dataclass(frozen=True)
class Published:
    """A published model with the cases of its fold (needs the data as well)."""

    name: str
    model: AuthorsModel
    file: AuthorsModelFile
    cases: dict[str, Case]


def _case(model: AuthorsModel, model_dir: Path, fold: Path, part: str) -> Case:
    exp_header, expected = _read_table(model_dir / f"expected_{part.lower()}_proba.csv")
    assert exp_header == ["Key", "label", *[f"p_{k}" for k in range(model.spec.n_classes)]]
    f_header, features = _read_table(fold / f"{part}F.csv")
    _, labels = _read_table(fold / f"{part}L.csv")
    # The expected file covers exactly the labelled cases, with the same labels.
    assert set(expected) == set(labels)
    keys = tuple(expected)
    columns = [f_header.index(name) for name in model.feature_names]
    x = np.array([[float(features[k][c]) for c in columns] for k in keys], np.float64)
    true = tuple(labels[k][1] for k in keys)
    assert true == tuple(expected[k][1] for k in keys)
    y = np.array([model.class_labels.index(t) for t in true])
    p = np.array([[float(v) for v in expected[k][2:]] for k in keys], np.float64)
    return Case(keys, x, true, y, p)


@pytest.fixture(scope="module", params=list(MODELS), ids=list(MODELS))
def authors(request: pytest.FixtureRequest) -> Authors:
    name = request.param
    folder = _model_dir(name)
    model = load_authors_model(folder / "BestModel.bin")
    return Authors(name, model, read_authors_file(folder / "BestModel.bin"), folder)


@pytest.fixture(scope="module")
def published(authors: Authors) -> Published:
    fold = _fold_dir(authors.name)
    cases = {part: _case(authors.model, authors.folder, fold, part) for part in PARTS}
    return Published(authors.name, authors.model, authors.file, cases)


def _stacked(published: Published) -> tuple[np.ndarray, np.ndarray, dict[str, slice]]:
    """Train and test rows in one array (one compilation serves both parts): x, y, rows."""
    rows, at = {}, 0
    for part in PARTS:
        n = len(published.cases[part].keys)
        rows[part], at = slice(at, at + n), at + n
    x = np.concatenate([published.cases[part].x for part in PARTS])
    y = np.concatenate([published.cases[part].y for part in PARTS])
    return x, y, rows


def _proba(published: Published, dtype: type) -> dict[str, np.ndarray]:
    m = published.model
    x, _, rows = _stacked(published)
    coords = jax.tree.map(lambda v: jnp.asarray(v, dtype), m.coords)
    p = dj.apply(m.spec, coords, jnp.asarray(x, dtype))
    assert p.dtype == dtype
    return {part: np.asarray(p[r], np.float64) for part, r in rows.items()}


@dataclasses.dataclass(frozen=True)
class Float64Run:
    proba: dict[str, np.ndarray]  # per part, (N, K)
    entropy_loss: dict[str, float]  # per part: debi_loss with the model's LossConfig


@pytest.fixture(scope="module")
def run64(published: Published) -> Float64Run:
    """Probabilities and ``debi_loss`` (the 2025 fitness, L1/L2 penalty included) per part, in
    float64. Train and test rows are stacked and the loss is taken under one mask per part, so
    that a single compilation serves everything."""
    m = published.model
    x, y, rows = _stacked(published)
    masks = np.zeros((len(PARTS), len(y)))
    for i, part in enumerate(PARTS):
        masks[i, rows[part]] = 1.0

    @jax.jit
    def run(coords, x, y, masks):
        loss = jax.vmap(lambda mask: debi_loss(m.spec, coords, x, y, mask, config=m.loss))
        return dj.apply(m.spec, coords, x), loss(masks)

    with jax.enable_x64(True):
        p, losses = run(m.coords, jnp.asarray(x), jnp.asarray(y), jnp.asarray(masks))
        assert p.dtype == jnp.float64 and losses.dtype == jnp.float64
    return Float64Run(
        proba={part: np.asarray(p)[r] for part, r in rows.items()},
        entropy_loss={part: float(v) for part, v in zip(PARTS, np.asarray(losses))},
    )


@pytest.fixture(scope="module")
def proba32(published: Published) -> dict[str, np.ndarray]:
    """The model's probabilities per part, computed in float32 (JAX's default)."""
    return _proba(published, jnp.float32)


def test_model_structure(authors: Authors) -> None:
    _, sizes, n_genes, _ = MODELS[authors.name]
    m = authors.model
    assert m.spec.variant == "2025" and m.spec.kernel == "gaussian_2025"
    assert m.spec.layer_sizes == sizes
    assert m.class_labels == ("0", "1")
    assert genome_length(m.spec) == n_genes == authors.file.genome.size
    assert set(m.metrics) >= set(PARTS)


@pytest.mark.parametrize("part", PARTS)
def test_probabilities_float64(published: Published, run64: Float64Run, part: str) -> None:
    np.testing.assert_allclose(
        run64.proba[part], published.cases[part].expected, rtol=0, atol=F64_TOL
    )


@pytest.mark.parametrize("part", PARTS)
def test_probabilities_float32(published: Published, proba32, part: str) -> None:
    np.testing.assert_allclose(proba32[part], published.cases[part].expected, rtol=0, atol=F32_TOL)


def _confusion(labels: tuple[str, ...], predicted: tuple[str, ...]) -> dict[str, int]:
    pairs = list(zip(labels, predicted))
    return {
        "TP": sum(t == POSITIVE and p == POSITIVE for t, p in pairs),
        "TN": sum(t != POSITIVE and p != POSITIVE for t, p in pairs),
        "FP": sum(t != POSITIVE and p == POSITIVE for t, p in pairs),
        "FN": sum(t == POSITIVE and p != POSITIVE for t, p in pairs),
    }


def test_test_confusion_matrix(published: Published, run64: Float64Run) -> None:
    case = published.cases["Test"]
    labels = published.model.class_labels
    predicted = tuple(labels[int(k)] for k in np.argmax(run64.proba["Test"], axis=1))
    assert _confusion(case.labels, predicted) == MODELS[published.name][3]


@pytest.mark.parametrize("part", PARTS)
def test_stored_metrics(published: Published, run64: Float64Run, part: str) -> None:
    """ACC, BACC and EntropyLoss as the authors' program stored them."""
    m = published.model
    case = published.cases[part]
    stored = m.metrics[part]
    predicted = tuple(m.class_labels[int(k)] for k in np.argmax(run64.proba[part], axis=1))
    cm = _confusion(case.labels, predicted)
    acc = (cm["TP"] + cm["TN"]) / len(case.keys)
    bacc = 0.5 * (cm["TP"] / (cm["TP"] + cm["FN"]) + cm["TN"] / (cm["TN"] + cm["FP"]))
    assert math.isclose(acc, stored["ACC"], rel_tol=0, abs_tol=F64_TOL)
    assert math.isclose(bacc, stored["BACC"], rel_tol=0, abs_tol=F64_TOL)
    assert math.isclose(run64.entropy_loss[part], stored["EntropyLoss"], rel_tol=0, abs_tol=F64_TOL)


def test_loss_configuration(authors: Authors) -> None:
    loss = authors.model.loss
    assert loss.variant == "2025" and loss.alpha == 1.0 and loss.class_weights
    expected_l1 = 0.01 if authors.name.startswith("DLBCL") else 0.0
    assert (loss.l1, loss.l2) == (expected_l1, 0.0)


def test_stored_weight_extremes(authors: Authors) -> None:
    m = authors.model
    with jax.enable_x64(True):
        weights = jax.jit(dj.layer_weights, static_argnums=0)(m.spec, m.coords)
        weights = [np.asarray(w) for w in weights]
    assert all(w.dtype == np.float64 for w in weights)
    assert math.isclose(min(w.min() for w in weights), authors.file.weight_min, abs_tol=1e-9)
    assert math.isclose(max(w.max() for w in weights), authors.file.weight_max, abs_tol=1e-9)


def test_genome_round_trip(authors: Authors) -> None:
    spec, genome = authors.model.spec, authors.file.genome
    coords = genome_to_coords(spec, genome)
    np.testing.assert_array_equal(coords_to_genome(spec, coords), genome)
    # load_authors_model gives the same coordinates
    for mine, loaded in zip(coords, authors.model.coords):
        assert mine.keys() == loaded.keys()
        for leaf in mine:
            np.testing.assert_array_equal(mine[leaf], loaded[leaf])


# a setting the library refuses: (patch of the parsed file for n layers, fragment of the message)
REFUSED = {
    "input-signal-normalization": (lambda n: {"group_normalization": 1}, "GroupNormalization"),
    "no-label-smoothing": (lambda n: {"label_smoothing": False}, "LabelSmoothing"),
    "kernel-2": (lambda n: {"kernels": (2,) * n}, "kernel"),
    "geometry-1": (lambda n: {"geometries": (1,) * n}, "geometry"),
    "z-snapping": (lambda n: {"z_snapping": "Layer"}, "LayerZSnappingMethod"),
    "z-ranges": (lambda n: {"z_ranges": ((0.0, 1.0),) * n}, "z ranges"),
    "absolute-z": (lambda n: {"absolute_z": True}, "AbsoluteZCoordinates"),
    "dropconnect": (lambda n: {"dropconnect": (0.0,) * (n - 1) + (0.25,)}, "DropConnect"),
    "activation-7": (lambda n: {"activations": (7,) * n}, "activation"),
}


@pytest.mark.parametrize("change", list(REFUSED), ids=list(REFUSED))
def test_unsupported_settings_are_refused(authors: Authors, change: str) -> None:
    f = authors.file
    assert spec_of_file(f) == authors.model.spec  # the unpatched file is accepted
    patch, fragment = REFUSED[change]
    with pytest.raises(UnsupportedModelError) as info:
        spec_of_file(dataclasses.replace(f, **patch(len(f.layer_sizes))))
    message = str(info.value)
    assert fragment in message, message
    assert "\n" not in message
