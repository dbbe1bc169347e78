"""Model files and atomic writes (debinn_jax.io)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import jax
import numpy as np
import pytest
from test_estimator import FAST_GD, blobs  # tests/ is on sys.path (pytest rootdir)

from debinn_jax.data import Standardizer
from debinn_jax.estimator import DEBIClassifier
from debinn_jax.io import (
    FORMAT_VERSION,
    MANIFEST,
    ModelFileError,
    TrainedModel,
    load_model,
    read_feature_table,
    save_model,
    write_atomic,
    write_json_atomic,
    write_text_atomic,
)
from debinn_jax.network import NetworkSpec, init_coords

RNG = np.random.default_rng(0)
XR = RNG.normal(5.0, 2.0, (20, 3))
NAMES = ("age", "suv_max", "ldh")


def untrained_model(classes=("no", "yes", "maybe"), ensemble: int = 0) -> TrainedModel:
    """A model with random coordinates (no training needed to test files)."""
    spec = NetworkSpec(n_inputs=3, hidden=(4,), n_classes=len(classes), shift_scale=True)
    coords = init_coords(jax.random.key(1), spec)
    ens = None
    if ensemble:
        ens = jax.vmap(lambda k: init_coords(k, spec))(
            jax.random.split(jax.random.key(2), ensemble)
        )
    return TrainedModel(
        spec=spec,
        coords=coords,
        classes=np.asarray(classes),
        feature_names=NAMES,
        standardizer=Standardizer().fit(XR),
        ensemble=ens,
        metadata={"trainer": "ga", "note": np.float32(0.5), "auc": float("nan")},
    )


@pytest.mark.parametrize("ensemble", [0, 3])
def test_round_trip_gives_identical_probabilities(tmp_path: Path, ensemble: int) -> None:
    model = untrained_model(ensemble=ensemble)
    path = save_model(tmp_path / "m.debinn", model)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(XR), model.predict_proba(XR))
    np.testing.assert_array_equal(loaded.predict(XR), model.predict(XR))
    assert loaded.spec == model.spec
    assert loaded.feature_names == NAMES
    assert list(loaded.classes) == ["no", "yes", "maybe"]
    assert loaded.metadata["trainer"] == "ga" and loaded.metadata["auc"] is None
    assert (loaded.ensemble is None) == (ensemble == 0)


def test_fit_save_load_predict_round_trip(tmp_path: Path) -> None:
    X, y = blobs()
    labels = np.where(y == 1, 7, -3)  # integer labels keep their values and dtype
    clf = DEBIClassifier(**FAST_GD, random_state=0).fit(X, labels)
    clf.save(tmp_path / "clf.debinn", metadata={"study": "x"})
    back = DEBIClassifier.load(tmp_path / "clf.debinn")
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    assert back.classes_.dtype == clf.classes_.dtype
    assert back.model_.metadata["study"] == "x" and back.model_.metadata["trainer"] == "gd"
    assert back.model_.feature_names is None and back.n_features_in_ == 2


def test_file_is_a_plain_zip_with_json_and_npy(tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.debinn", untrained_model())
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        names = set(zf.namelist())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["spec"]["hidden"] == [4]
    assert manifest["feature_names"] == list(NAMES)
    assert set(manifest["standardizer"]) == {"mean", "std"}
    assert {"coords/0/axon.npy", "coords/1/soma.npy", "coords/2/scale.npy"} <= names


def _rewrite(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members[MANIFEST])
    edit(manifest, members)
    members[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


def test_other_format_version_fails_clearly(tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.debinn", untrained_model())
    _rewrite(path, lambda m, _: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match=f"format version {FORMAT_VERSION + 1}.*reads version"):
        load_model(path)


def test_truncated_file_fails_clearly(tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.debinn", untrained_model())
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        bad = tmp_path / f"cut{cut}.debinn"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated, corrupt"):
            load_model(bad)


def test_unreadable_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_model(tmp_path / "absent.debinn")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a debinn model file|truncated, corrupt"):
        load_model(text)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(ModelFileError, match="not a debinn model file"):
        load_model(other_zip)
    with pytest.raises(ModelFileError, match="is not a file"):
        load_model(tmp_path)


def test_arrays_that_do_not_fit_the_spec_fail(tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.debinn", untrained_model())
    _rewrite(path, lambda m, _: m["spec"].update(hidden=[5]))
    with pytest.raises(ModelFileError, match="has shape .* the stored spec needs"):
        load_model(path)
    path = save_model(tmp_path / "m2.debinn", untrained_model())
    _rewrite(path, lambda m, _: m["spec"].update(kernel="cosine"))
    with pytest.raises(ModelFileError, match="invalid network spec.*kernel"):
        load_model(path)


def test_object_arrays_are_never_unpickled(tmp_path: Path) -> None:
    import io

    path = save_model(tmp_path / "m.debinn", untrained_model())

    def poison(_m, members):
        buf = io.BytesIO()
        np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        members["coords/0/axon.npy"] = buf.getvalue()

    _rewrite(path, poison)
    with pytest.raises(ModelFileError, match="unreadable"):
        load_model(path)


def test_different_feature_set_fails_clearly(tmp_path: Path) -> None:
    model = load_model(save_model(tmp_path / "m.debinn", untrained_model()))
    with pytest.raises(ValueError, match=r"missing \['ldh'\], unexpected \['LDH'\]"):
        model.predict_proba(XR, feature_names=("age", "suv_max", "LDH"))
    with pytest.raises(ValueError, match="another order"):
        model.predict_proba(XR, feature_names=("ldh", "suv_max", "age"))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        model.predict_proba(XR[:, :2])
    bad = XR.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="row index 3, column 'age': nan is not a finite"):
        model.predict_proba(bad)


def test_feature_columns_by_name() -> None:
    model = untrained_model()
    assert model.feature_columns(["ldh", "x", "age", "suv_max"], "f.csv") == [2, 3, 0]
    many = [f"c{i}" for i in range(20)]
    with pytest.raises(ValueError, match=r"f.csv: missing .*\['age', 'suv_max', 'ldh'\]"):
        model.feature_columns(many, "f.csv")


def test_read_feature_table_matches_columns_by_name(tmp_path: Path) -> None:
    model = untrained_model()
    csv = tmp_path / "new.csv"
    csv.write_text("Key;ldh;age;label;suv_max\nA;1;2;x;3\nB;4;5;y;6\n")
    table = read_feature_table(csv, model)
    np.testing.assert_array_equal(table.X, [[2, 3, 1], [5, 6, 4]])
    assert table.keys == ("A", "B") and table.key_name == "Key" and table.ignored == ("label",)
    csv.write_text("age,ldh\n1,2\n")
    with pytest.raises(ValueError, match=r"missing feature column\(s\) \['suv_max'\]"):
        read_feature_table(csv, model)
    csv.write_text("age,suv_max,ldh\n1,2,3\n4,inf,6\n")
    with pytest.raises(ValueError, match="row key '2' .*column 'suv_max': 'inf' is not a num"):
        read_feature_table(csv, model)


def test_save_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "m.debinn"
    save_model(target, untrained_model())
    before = target.read_bytes()

    def boom(fh) -> None:
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(target, boom, "wb")
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.debinn"]  # no temporary file left behind
    save_model(target, untrained_model(classes=(1, 2)))  # replaces the old file
    assert list(load_model(target).classes) == [1, 2]


def test_json_and_text_helpers(tmp_path: Path) -> None:
    path = write_json_atomic(
        tmp_path / "r.json",
        {
            "acc": np.float32(0.5),
            "n": np.int64(3),
            "auc": float("nan"),
            "x": np.arange(2),
            "t": (1, 2),
            "p": tmp_path,
        },
    )
    assert json.loads(path.read_text()) == {
        "acc": 0.5,
        "n": 3,
        "auc": None,
        "x": [0, 1],
        "t": [1, 2],
        "p": str(tmp_path),
    }
    write_text_atomic(tmp_path / "a.txt", "héllo\n")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_text_atomic(tmp_path / "nope" / "a.txt", "x")


def test_atomic_writes_use_the_usual_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
