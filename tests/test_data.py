"""Readers (Fold folders, CSV tables), two-moons, the Dataset type, and the real data sets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _shared import data_dir

from debinn_jax.data import (
    DataError,
    Dataset,
    Fold,
    load_dataset,
    load_fold,
    load_table,
    make_moons_dataset,
)

# --------------------------------------------------------------------------------------------
# helpers


def real_path(relative: str) -> Path:
    path = data_dir() / relative
    if not path.exists():
        pytest.skip(
            f"real data not found at {path} (set DEBINN_DATA_DIR to the folder holding "
            f"dlbcl/, hecktor-lite/, ctg/)"
        )
    return path


def write(path: Path, lines: list[str], crlf: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    end = "\r\n" if crlf else "\n"
    path.write_bytes("".join(line + end for line in lines).encode())
    return path


TRAIN_F = ["Key;a;b", "k1;1.0;2.0", "k2;3;4", "k3;5;6", "k4;7;8"]
TRAIN_L = ["Key;Outcome", "k1;0", "k2;1", "k3;0", "k4;1"]
TEST_F = ["Key;a;b", "t1;1;1", "t2;2;2"]
TEST_L = ["Key;Outcome", "t1;1", "t2;0"]


def write_fold(
    folder: Path,
    train_f: list[str] = TRAIN_F,
    train_l: list[str] = TRAIN_L,
    test_f: list[str] = TEST_F,
    test_l: list[str] = TEST_L,
    crlf: bool = False,
) -> Path:
    write(folder / "TrainF.csv", train_f, crlf)
    write(folder / "TrainL.csv", train_l, crlf)
    write(folder / "TestF.csv", test_f, crlf)
    write(folder / "TestL.csv", test_l, crlf)
    return folder


# --------------------------------------------------------------------------------------------
# Fold folders


def test_fold_join_drop_and_counts(tmp_path: Path) -> None:
    folder = write_fold(
        tmp_path / "Fold-1",
        train_f=[
            "Key;a;b",
            "k1;1.5;2",
            "k2;NA;4",  # labelled, missing feature -> dropped (missing)
            "k3;5;6",
            "k4;7;8",  # no label -> dropped (unlabelled)
            "k5;nan;1",  # no label and missing -> counted once, as unlabelled
            "k6;;9",  # labelled, empty cell -> dropped (missing)
            "k7;-1e-3;0",
        ],
        train_l=["Key;Outcome", "k7;1", "k3;0", "k1;1", "k2;0", "k6;1", "k9;0"],  # k9: no row
        crlf=True,
    )
    fold = load_fold(folder)
    assert isinstance(fold, Fold)
    tr = fold.train
    assert tr.keys == ("k1", "k3", "k7")  # order of the features file
    np.testing.assert_allclose(tr.X, [[1.5, 2], [5, 6], [-1e-3, 0]])
    assert tr.X.dtype == np.float64 and tr.y.dtype == np.int32
    assert tr.y.tolist() == [1, 0, 1]
    assert tr.classes == (0, 1)
    assert tr.feature_names == ("a", "b")
    assert tr.label_name == "Outcome"
    assert tr.n_dropped_unlabelled == 2
    assert tr.n_dropped_missing == 3  # k2, k6 (missing cells) and k9 (label without features)
    assert (tr.n_samples, tr.n_features, tr.n_classes) == (3, 2, 2)
    assert fold.test.n_samples == 2 and fold.test.y.tolist() == [1, 0]
    assert fold.validate is None
    assert fold.n_features == 2 and fold.classes == (0, 1)
    assert tr.source.endswith("TrainF.csv")


def test_fold_numeric_label_sort_and_label_column(tmp_path: Path) -> None:
    folder = write_fold(
        tmp_path,
        train_l=["Key;Other;Outcome", "k1;x;10", "k2;y;2", "k3;z;1", "k4;w;2.0"],
        test_l=["Key;Other;Outcome", "t1;x;10", "t2;y;1"],
    )
    fold = load_fold(folder)
    assert fold.classes == (1, 2, 10)  # numeric sort, not ("1", "10", "2"); 2.0 == 2
    assert fold.train.y.tolist() == [2, 1, 0, 1]
    assert fold.test.y.tolist() == [2, 0]
    fold = load_fold(folder, label="Other")
    assert fold.classes == ("w", "x", "y", "z")


def test_fold_string_labels_and_test_column_order(tmp_path: Path) -> None:
    folder = write_fold(
        tmp_path,
        train_l=["Key;Dx", "k1;malignant", "k2;benign", "k3;benign", "k4;malignant"],
        test_f=["Key;b;a", "t1;10;1", "t2;20;2"],  # columns in another order
        test_l=["Key;Dx", "t1;benign", "t2;malignant"],
    )
    fold = load_fold(folder)
    assert fold.classes == ("benign", "malignant")
    assert fold.train.y.tolist() == [1, 0, 0, 1]
    assert fold.test.feature_names == ("a", "b")
    np.testing.assert_allclose(fold.test.X, [[1, 10], [2, 20]])


def test_fold_with_validate(tmp_path: Path) -> None:
    folder = write_fold(tmp_path)
    write(folder / "ValidateF.csv", ["Key;a;b", "v1;0;0", "v2;1;1", "v3;2;2"])
    write(folder / "ValidateL.csv", ["Key;Outcome", "v1;0", "v3;1"])
    fold = load_fold(folder)
    assert fold.validate is not None
    assert fold.validate.keys == ("v1", "v3")
    assert fold.validate.n_dropped_unlabelled == 1


def test_fold_validate_pair_incomplete(tmp_path: Path) -> None:
    folder = write_fold(tmp_path)
    write(folder / "ValidateF.csv", ["Key;a;b", "v1;0;0"])
    with pytest.raises(DataError, match=r"ValidateF\.csv is present but ValidateL\.csv"):
        load_fold(folder)


# --------------------------------------------------------------------------------------------
# Fold folders: errors


def test_error_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Fold folder not found.*nowhere"):
        load_fold(tmp_path / "nowhere")


def test_error_missing_file(tmp_path: Path) -> None:
    folder = write_fold(tmp_path / "Fold-1")
    (folder / "TestL.csv").unlink()
    with pytest.raises(DataError, match=r"missing TestL\.csv; expected a Fold folder"):
        load_fold(folder)


def test_error_parent_of_fold_folders_names_them(tmp_path: Path) -> None:
    write_fold(tmp_path / "Fold-1")
    with pytest.raises(DataError, match="Fold sub-folders: Fold-1"):
        load_fold(tmp_path)


def test_error_no_key_column(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_f=["ID;a;b", "k1;1;2", "k2;3;4"])
    with pytest.raises(DataError, match=r"TrainF\.csv: no 'Key' column.*'ID'"):
        load_fold(folder)


def test_error_duplicate_keys(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_l=["Key;Outcome", "k1;0", "k2;1", "k1;1"])
    with pytest.raises(DataError, match=r"TrainL\.csv: duplicate key 'k1' \(lines 2 and 4\)"):
        load_fold(folder)


def test_error_non_numeric_cell(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, test_f=["Key;a;b", "t1;1;1", "t2;2;abc"])
    with pytest.raises(DataError, match=r"TestF\.csv, row key 't2' \(line 3\), column 'b'.*'abc'"):
        load_fold(folder)


def test_error_decimal_comma_is_not_a_number(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_f=["Key;a;b", "k1;1,5;2", "k2;3;4"])
    with pytest.raises(DataError, match=r"row key 'k1'.*column 'a'.*'1,5' is not a number"):
        load_fold(folder)


def test_error_one_class(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_l=["Key;Outcome", "k1;1", "k2;1", "k3;1", "k4;1"])
    with pytest.raises(DataError, match=r"TrainL\.csv: all 4 labelled cases have the same label"):
        load_fold(folder)


def test_error_different_feature_columns(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, test_f=["Key;a;c", "t1;1;1", "t2;2;2"])
    with pytest.raises(DataError, match=r"TestF\.csv: feature columns differ.*\['b'\].*\['c'\]"):
        load_fold(folder)


def test_error_empty_file(tmp_path: Path) -> None:
    folder = write_fold(tmp_path)
    (folder / "TrainL.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"TrainL\.csv: the file is empty"):
        load_fold(folder)


def test_error_header_only(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, test_l=["Key;Outcome"])
    with pytest.raises(DataError, match=r"TestL\.csv: the file has a header but no data rows"):
        load_fold(folder)


def test_error_label_column_not_found_fold(tmp_path: Path) -> None:
    folder = write_fold(tmp_path)
    with pytest.raises(DataError, match=r"column 'HPV' not found; available columns: 'Key', 'Out"):
        load_fold(folder, label="HPV")


def test_error_label_file_without_label_column(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_l=["Key", "k1", "k2"])
    with pytest.raises(DataError, match=r"TrainL\.csv: no label column"):
        load_fold(folder)


def test_error_test_label_not_in_train(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, test_l=["Key;Outcome", "t1;1", "t2;2"])
    with pytest.raises(DataError, match=r"TestL\.csv, row key 't2': label 2 does not occur"):
        load_fold(folder)


def test_error_wrong_field_count(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_f=["Key;a;b", "k1;1;2", "k2;3"])
    with pytest.raises(DataError, match=r"TrainF\.csv, line 3: 2 fields, expected 3"):
        load_fold(folder)


def test_error_no_labelled_complete_rows(tmp_path: Path) -> None:
    folder = write_fold(tmp_path, train_l=["Key;Outcome", "x1;0", "x2;1"])
    with pytest.raises(DataError, match="no labelled case with complete features"):
        load_fold(folder)


# --------------------------------------------------------------------------------------------
# plain tables


def test_table_comma_default_label_and_row_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.csv",
        ["f1,f2,target", "1,2,1.0", "3,4,2.0", "5,,1.0", "7,8,", "9,10,3"],
        crlf=True,
    )
    d = load_table(path)
    assert d.classes == (1, 2, 3)
    assert all(type(c) is int for c in d.classes)
    assert d.y.tolist() == [0, 1, 2]
    assert d.keys == ("1", "2", "5")  # 1-based data row numbers
    assert d.feature_names == ("f1", "f2")
    assert d.label_name == "target"
    assert (d.n_dropped_missing, d.n_dropped_unlabelled) == (1, 1)
    np.testing.assert_allclose(d.X, [[1, 2], [3, 4], [9, 10]])


def test_table_semicolon_named_label_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", ["id;y;f1;f2", "a;0.5;1;2", "b;1.5;3;4", "c;0.5;5;6"])
    d = load_table(path, label="y", key="id")
    assert d.classes == (0.5, 1.5)
    assert d.keys == ("a", "b", "c")
    assert d.feature_names == ("f1", "f2")
    assert d.y.tolist() == [0, 1, 0]


def test_table_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_table(tmp_path / "missing.csv")
    path = write(tmp_path / "t.csv", ["f1,f2,target", "1,2,0", "3,4,1"])
    with pytest.raises(DataError, match=r"column 'label' not found; available columns: 'f1'"):
        load_table(path, label="label")
    with pytest.raises(DataError, match=r"column 'id' not found"):
        load_table(path, key="id")
    bad = write(tmp_path / "bad.csv", ["f1,f2,target", "1,2,0", "3,x,1"])
    with pytest.raises(DataError, match=r"bad\.csv, row key '2' \(line 3\), column 'f2'"):
        load_table(bad)
    inf = write(tmp_path / "inf.csv", ["f1,target", "1,0", "inf,1"])
    with pytest.raises(DataError, match="'inf' is not a number"):
        load_table(inf)
    one = write(tmp_path / "one.csv", ["f1,target", "1,1", "2,1"])
    with pytest.raises(DataError, match="same label 1; expected at least 2 classes"):
        load_table(one)
    dup = write(tmp_path / "dup.csv", ["id,f1,target", "a,1,0", "a,2,1"])
    with pytest.raises(DataError, match="duplicate key 'a'"):
        load_table(dup, key="id")
    dupcol = write(tmp_path / "dupcol.csv", ["f1,f1,target", "1,1,0"])
    with pytest.raises(DataError, match="duplicate column name"):
        load_table(dupcol)
    empty = write(tmp_path / "empty.csv", ["", "  "])
    with pytest.raises(DataError, match="the file is empty"):
        load_table(empty)


def test_load_dataset_dispatch(tmp_path: Path) -> None:
    folder = write_fold(tmp_path / "Fold-1")
    assert isinstance(load_dataset(folder), Fold)
    path = write(tmp_path / "t.csv", ["f1,target", "1,0", "2,1"])
    assert isinstance(load_dataset(str(path)), Dataset)
    moons = load_dataset("moons")
    assert isinstance(moons, Dataset) and moons.n_samples == 300
    with pytest.raises(DataError, match="data not found"):
        load_dataset(tmp_path / "nothing")


# --------------------------------------------------------------------------------------------
# two moons and the Dataset type


def test_make_moons_dataset() -> None:
    d = make_moons_dataset(n=101, noise=0.2, seed=3)
    assert d.X.shape == (101, 2) and d.X.dtype == np.float64
    assert d.classes == (0, 1) and d.class_counts().tolist() == [50, 51]
    same = make_moons_dataset(n=101, noise=0.2, seed=3)
    other = make_moons_dataset(n=101, noise=0.2, seed=4)
    np.testing.assert_array_equal(d.X, same.X)
    assert not np.allclose(d.X, other.X)
    assert make_moons_dataset().n_samples == 300


def test_dataset_validation_and_subset() -> None:
    d = make_moons_dataset(n=10, seed=0)
    sub = d.subset(np.array([0, 3, 4]))
    assert sub.n_samples == 3 and sub.keys == (d.keys[0], d.keys[3], d.keys[4])
    np.testing.assert_array_equal(sub.X, d.X[[0, 3, 4]])
    assert sub.classes == d.classes
    assert d.subset(d.y == 1).n_samples == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.source = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="y must be in 0..1"):
        dataclasses.replace(d, y=np.full(10, 2))
    with pytest.raises(ValueError, match="feature_names"):
        dataclasses.replace(d, feature_names=("x1",))
    assert "n_samples=10" in repr(d)


# --------------------------------------------------------------------------------------------
# real data (skipped when ../shared/data is absent)


def test_real_dlbcl() -> None:
    fold = load_fold(real_path("dlbcl/Fold-1"))
    assert (fold.train.n_samples, fold.test.n_samples, fold.n_features) == (41, 44, 17)
    assert fold.classes == (0, 1)
    assert fold.train.class_counts().tolist() == [25, 16]
    assert fold.test.class_counts().tolist() == [30, 14]
    assert fold.train.label_name == "2YEFS"
    for part in (fold.train, fold.test):
        assert (part.n_dropped_unlabelled, part.n_dropped_missing) == (0, 0)
    assert fold.validate is None


def test_real_hecktor_lite() -> None:
    fold = load_fold(real_path("hecktor-lite/Fold-1"))
    assert (fold.train.n_samples, fold.test.n_samples, fold.n_features) == (158, 74, 36)
    assert fold.feature_names[0] == "CenterID"
    assert fold.train.class_counts().tolist() == [59, 99]
    assert fold.test.class_counts().tolist() == [19, 55]
    # feature rows without a label: 340 - 158 in train, 223 - 74 in test
    assert (fold.train.n_dropped_unlabelled, fold.train.n_dropped_missing) == (182, 0)
    assert (fold.test.n_dropped_unlabelled, fold.test.n_dropped_missing) == (149, 0)
    assert fold.train.keys[0] == "CHUM-012"


def test_real_ctg() -> None:
    d = load_table(real_path("ctg/fetal_health.csv"))
    assert (d.n_samples, d.n_features) == (2126, 21)
    assert d.classes == (1, 2, 3)
    assert d.class_counts().tolist() == [1655, 295, 176]
    assert d.label_name == "fetal_health"
    assert (d.n_dropped_unlabelled, d.n_dropped_missing) == (0, 0)
    assert isinstance(load_dataset(real_path("ctg/fetal_health.csv")), Dataset)


def test_table_not_utf8_and_bom(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("f\xe9,target\n1,0\n2,1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv: not UTF-8 text"):
        load_table(latin)
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffKey;f;target\r\na;1;0\r\nb;2;1\r\n".encode())
    d = load_table(bom, key="Key")
    assert d.keys == ("a", "b") and d.feature_names == ("f",)


def test_load_table_min_classes(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("a,b,label\n1,2,x\n3,4,x\n")
    with pytest.raises(DataError, match="same label"):
        load_table(path)
    ds = load_table(path, min_classes=1)
    assert ds.classes == ("x",) and ds.y.tolist() == [0, 0]


def test_class_order_string_as_the_authors_program(tmp_path):
    """``class_order="string"`` sorts labels as text (the 2025 program); values stay numbers."""
    path = tmp_path / "t.csv"
    rows = ["a,b,label"] + [f"{i},{i % 3},{lab}" for i, lab in enumerate([1, 2, 10] * 4)]
    path.write_text("\n".join(rows) + "\n")
    assert load_table(path).classes == (1, 2, 10)
    ds = load_table(path, class_order="string")
    assert ds.classes == (1, 10, 2)
    assert [ds.classes[c] for c in ds.y[:3]] == [1, 2, 10]
    with pytest.raises(ValueError, match="class_order"):
        load_table(path, class_order="numeric")
