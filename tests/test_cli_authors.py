"""The command line on the authors' 2025 model files (``*BestModel.bin``) and
:func:`debinn_jax.io.load_any_model`.

Uses the two published models of ``<shared>/reference/models`` and their Fold folders; skipped,
naming the path, when they are absent.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest
from _shared import data_dir, reference_dir
from test_cli import run  # tests/ is on sys.path (pytest rootdir)

from debinn_jax.commands.common import class_indices
from debinn_jax.io import (
    ModelFileError,
    TrainedModel,
    load_any_model,
    load_model,
    read_feature_table,
    save_model,
)
from debinn_jax.network import NetworkSpec, init_coords

#: name -> (model folder, Fold folder under the data dir, published test results).
PUBLISHED = {
    "DLBCL": (
        "DLBCL-2H-Hinton-S69",
        "dlbcl/Fold-1",
        {"TP": 12, "TN": 25, "FP": 5, "FN": 2, "ACC": 0.8409, "BACC": 0.8452},
    ),
    "HECKTOR": (
        "HECKTOR-1H-S24",
        "hecktor-lite/Fold-1",
        {"TP": 33, "TN": 19, "FP": 0, "FN": 22, "ACC": 0.7027, "BACC": 0.8000},
    ),
}


def _existing(path: Path, what: str, variable: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (set {variable})")
    return path


def model_file(name: str) -> Path:
    folder = PUBLISHED[name][0]
    path = reference_dir() / "models" / folder / "BestModel.bin"
    return _existing(path, "authors' model file", "DEBINN_REFERENCE_DIR")


def fold(name: str) -> Path:
    return _existing(data_dir() / PUBLISHED[name][1], "Fold folder", "DEBINN_DATA_DIR")


def expected_proba(name: str) -> dict[str, np.ndarray]:
    """The authors' test probabilities ``{key: [p_0, p_1]}`` (expected_test_proba.csv)."""
    path = model_file(name).parent / "expected_test_proba.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return {r["Key"]: np.array([float(r["p_0"]), float(r["p_1"])]) for r in rows}


def read_predictions(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    """Header and ``{key: row}`` of a ``debinn predict`` output file."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], {r[0]: r for r in rows[1:]}


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a ';'-separated Fold CSV file."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]], sep: str = ",") -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(header)
        w.writerows(rows)
    return path


def one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"debinn {command}: error: ")
    return lines[0]


# --------------------------------------------------------------------------- evaluate


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_evaluate_reproduces_the_published_test_results(name: str, capsys) -> None:
    published = PUBLISHED[name][2]
    code, out, _ = run(capsys, "evaluate", "--model", model_file(name), "--data", fold(name))
    assert code == 0
    assert "the authors' 2025 program" in out
    assert "positive class: '1'" in out
    m = re.search(r"TP (\d+), TN (\d+), FP (\d+), FN (\d+)", out)
    assert m is not None, out
    assert dict(zip(("TP", "TN", "FP", "FN"), map(int, m.groups()))) == {
        k: published[k] for k in ("TP", "TN", "FP", "FN")
    }
    metrics = dict(re.findall(r"^  (\w+) +([0-9.]+)$", out, flags=re.MULTILINE))
    assert float(metrics["accuracy"]) == pytest.approx(published["ACC"], abs=1e-4)
    assert float(metrics["balanced_accuracy"]) == pytest.approx(published["BACC"], abs=1e-4)
    stored = next(line for line in out.splitlines() if "stored in the model file (Test)" in line)
    assert f"ACC {published['ACC']:.4f} BACC {published['BACC']:.4f}" in stored
    assert "stored in the model file (Train)" in out


def test_evaluate_matches_labels_by_their_string_form(tmp_path: Path, capsys) -> None:
    """A CSV table with float labels (1.0) scores against the model's string classes ('1');
    a label outside them is one line naming it and the classes."""
    folder = fold("DLBCL")
    header, feats = read_table(folder / "TestF.csv")
    _, labels = read_table(folder / "TestL.csv")
    label_of = {k: v for k, v in labels}
    rows = [r + [f"{float(label_of[r[0]]):.1f}"] for r in feats]
    table = write_csv(tmp_path / "float_labels.csv", [*header, "2YEFS"], rows)
    code, out, _ = run(capsys, "evaluate", "--model", model_file("DLBCL"), "--data", table)
    assert code == 0 and "TP 12, TN 25, FP 5, FN 2" in out

    rows[0][-1] = "2"
    table = write_csv(tmp_path / "label_2.csv", [*header, "2YEFS"], rows)
    code, _, err = run(capsys, "evaluate", "--model", model_file("DLBCL"), "--data", table)
    assert code == 2
    line = one_error_line(err, "evaluate")
    assert "label 2 is not one of the model's classes ['0', '1']" in line


def test_class_indices_by_string_form() -> None:
    classes = np.array(["0", "1"])
    np.testing.assert_array_equal(class_indices(classes, np.array([1.0, 0.0, 1.0]), "t"), [1, 0, 1])
    np.testing.assert_array_equal(class_indices(classes, np.array([0, 1]), "t"), [0, 1])
    np.testing.assert_array_equal(class_indices(classes, np.array(["1", "0"]), "t"), [1, 0])
    with pytest.raises(ValueError, match=r"label 0\.5 is not one of the model's classes"):
        class_indices(classes, np.array([0.5]), "t")
    # numeric classes still match numbers and their text
    np.testing.assert_array_equal(
        class_indices(np.array([0, 1]), np.array(["1", "0"], dtype=object), "t"), [1, 0]
    )


# --------------------------------------------------------------------------- predict


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_predict_gives_the_authors_probabilities(name: str, tmp_path: Path, capsys) -> None:
    out_csv = tmp_path / "pred.csv"
    data = fold(name) / "TestF.csv"
    code, out, _ = run(
        capsys, "predict", "--model", model_file(name), "--data", data, "--out", out_csv
    )
    assert code == 0 and "wrote" in out
    header, rows = read_predictions(out_csv)
    assert header == ["Key", "predicted", "p_0", "p_1"]
    expected = expected_proba(name)
    assert set(expected) <= set(rows)
    got = np.array([[float(v) for v in rows[k][2:]] for k in expected])
    np.testing.assert_allclose(got, np.array(list(expected.values())), atol=1e-5, rtol=0)
    predicted = {rows[k][1] for k in expected}
    assert predicted <= {"0", "1"}


def test_predict_matches_columns_by_name(tmp_path: Path, capsys) -> None:
    """Columns in another order, another separator and extra columns give the same output."""
    folder = fold("DLBCL")
    header, rows = read_table(folder / "TestF.csv")
    order = [0, *reversed(range(1, len(header)))]
    shuffled = write_csv(
        tmp_path / "shuffled.csv",
        [header[i] for i in order] + ["extra", "notes"],
        [[r[i] for i in order] + ["1.5", "x"] for r in rows],
    )
    outs = {}
    for tag, data in (("orig", folder / "TestF.csv"), ("shuffled", shuffled)):
        outs[tag] = tmp_path / f"{tag}.csv"
        code, out, _ = run(
            capsys, "predict", "--model", model_file("DLBCL"), "--data", data, "--out", outs[tag]
        )
        assert code == 0
    assert "ignored column(s) that are not model features: ['extra', 'notes']" in out
    assert outs["orig"].read_text() == outs["shuffled"].read_text()


def test_predict_names_a_missing_feature_column(tmp_path: Path, capsys) -> None:
    header, rows = read_table(fold("DLBCL") / "TestF.csv")
    drop = header.index("Age_at_diagnosis")
    keep = [i for i in range(len(header)) if i != drop]
    data = write_csv(
        tmp_path / "missing.csv", [header[i] for i in keep], [[r[i] for i in keep] for r in rows]
    )
    code, _, err = run(
        capsys, "predict", "--model", model_file("DLBCL"), "--data", data, "--out", "-"
    )
    assert code == 2
    line = one_error_line(err, "predict")
    assert "missing feature column(s) ['Age_at_diagnosis']" in line and str(data) in line


# --------------------------------------------------------------------------- bad model files


def _bad_model(tmp_path: Path, kind: str) -> Path:
    if kind == "truncated":
        data = model_file("DLBCL").read_bytes()
        path = tmp_path / "truncated.bin"
        path.write_bytes(data[: len(data) // 2])
    else:
        path = tmp_path / "random.bin"
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


@pytest.mark.parametrize("kind", ["truncated", "random"])
@pytest.mark.parametrize("command", ["evaluate", "predict", "show"])
def test_a_broken_bin_file_exits_2_with_one_line(
    kind: str, command: str, tmp_path: Path, capsys
) -> None:
    path = _bad_model(tmp_path, kind)
    extra = {
        "evaluate": ["--data", fold("DLBCL")],
        "predict": ["--data", fold("DLBCL") / "TestF.csv", "--out", tmp_path / "p.csv"],
        "show": ["--out", tmp_path / "x.png"],
    }[command]
    code, out, err = run(capsys, command, "--model", path, *extra)
    assert code == 2
    assert path.name in one_error_line(err, command)
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "x.png").exists()


def test_load_any_model_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_any_model(tmp_path / "absent.bin")
    with pytest.raises(ModelFileError, match="truncated.bin"):
        load_any_model(_bad_model(tmp_path, "truncated"))
    other = tmp_path / "notes.txt"
    other.write_text("not a model\n")
    with pytest.raises(ModelFileError, match="not a debinn model file"):
        load_any_model(other)


# --------------------------------------------------------------------------- show


def test_show_draws_an_authors_model(tmp_path: Path, capsys) -> None:
    png = tmp_path / "hecktor.png"
    code, out, _ = run(capsys, "show", "--model", model_file("HECKTOR"), "--out", png)
    assert code == 0 and f"wrote {png}" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------- library


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_an_authors_model_round_trips_through_our_format(name: str, tmp_path: Path) -> None:
    model = load_any_model(model_file(name))
    assert model.spec.variant == "2025" and model.classes.tolist() == ["0", "1"]
    path = save_model(tmp_path / "m.debinn", model)
    again = load_model(path)
    assert again.spec == model.spec and isinstance(again.spec.groups, tuple)
    assert again.classes.tolist() == ["0", "1"]
    assert again.feature_names == model.feature_names
    assert again.standardizer is None
    assert again.metadata["trainer"] == "authors-2025"
    assert again.metadata["stored_metrics"] == model.metadata["stored_metrics"]
    X = read_feature_table(fold(name) / "TestF.csv", model).X
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert load_any_model(path).spec == model.spec  # our zip file, whatever the reader


def test_load_any_model_sniffs_the_format(tmp_path: Path) -> None:
    """An authors' file under another name is still read as one; a zip model named .bin is
    read as ours."""
    renamed = tmp_path / "dlbcl.model"
    shutil.copyfile(model_file("DLBCL"), renamed)
    assert load_any_model(renamed).spec.variant == "2025"

    spec = NetworkSpec(n_inputs=2, hidden=(), n_classes=2)
    ours = TrainedModel(spec, init_coords(jax.random.key(0), spec), np.array([0, 1]), ("a", "b"))
    path = save_model(tmp_path / "ours.bin", ours)
    loaded = load_any_model(path)
    assert loaded.spec == spec and loaded.classes.tolist() == [0, 1]


def test_predictions_keep_float64_under_x64() -> None:
    """With jax_enable_x64 the inputs stay float64 and the authors' probabilities are matched
    to float64 round-off."""
    model = load_any_model(model_file("DLBCL"))
    table = read_feature_table(fold("DLBCL") / "TestF.csv", model)
    expected = expected_proba("DLBCL")
    rows = [table.keys.index(k) for k in expected]
    assert model.transform(table.X).dtype == np.float32
    with jax.enable_x64(True):
        assert model.transform(table.X).dtype == np.float64
        proba = model.predict_proba(table.X)[rows]
    np.testing.assert_allclose(proba, np.array(list(expected.values())), atol=1e-12, rtol=0)
