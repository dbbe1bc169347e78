"""The authors' repository as it is (issue 27, point 2; issue 26, point 4): small fake trees of
their layout (``Datasets/<X>/Dataset-1Fold/Fold-1``, ``Executions/<GRID>`` without a
DataPool, ``BestModels/Executions-Finished/<RUN>/Log/...BestModel.bin``) read by the path
lookups and by ``debinn grid`` / ``evaluate``; ``--only`` with short names; a whole
``Executions`` folder in one command with its overall table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _shared import data_dir, reference_dir
from test_grid import cli, column, write_fold, write_settings

from debinn_jax.commands.common import load_data
from debinn_jax.data.locate import (
    LayoutError,
    data_path,
    execution_folders,
    find_folds,
    find_model_file,
    one_fold,
    repository_datasets,
)
from debinn_jax.execution.settings import column_label, select_columns

FAST = {"Optimizer__IterationCount": "3"}


def make_repo(root: Path) -> Path:
    """A fake authors' repository: two datasets, two execution folders without DataPool."""
    write_fold(root / "Datasets" / "SYN" / "Dataset-1Fold" / "Fold-1")
    write_fold(root / "Datasets" / "OTHER-SET" / "Dataset-1Fold" / "Fold-1", seed=1)
    # the same tiny network in both grids (one compiled program, quick to test)
    one = {f"A-S{i}": column(i, **FAST) for i in (1, 2, 3)}
    two = {f"B-S{i}": column(i, **FAST) for i in (1, 3)}
    for name, cols in (("SYN-A", one), ("SYN-B", two)):
        (root / "Executions" / name).mkdir(parents=True)
        write_settings(root / "Executions" / name / "executionSettings.csv", cols)
    return root


# --------------------------------------------------------------------------------------------
# path lookups


def test_find_folds_accepts_every_level_of_the_datasets_tree(tmp_path):
    repo = make_repo(tmp_path)
    fold = repo / "Datasets" / "SYN" / "Dataset-1Fold" / "Fold-1"
    for path in (fold, fold.parent, fold.parent.parent):
        assert find_folds(path) == [fold]
    assert find_folds(repo / "Datasets", hints=("SYN", "SYN-A")) == [fold]
    # the dataset is matched by the data name and the grid name's words
    other = repo / "Datasets" / "OTHER-SET" / "Dataset-1Fold" / "Fold-1"
    assert find_folds(repo / "Datasets", hints=("OTHER", "OTHER-SET-2H")) == [other]
    with pytest.raises(LayoutError, match=r"2 folders with data \(OTHER-SET, SYN\)"):
        find_folds(repo / "Datasets")
    with pytest.raises(LayoutError, match="no Fold folder"):
        find_folds(repo / "Executions")


def test_a_variant_named_in_the_grid_name_is_chosen(tmp_path):
    """PROSTATE holds two variants; the grid PROSTATE-APR-1H names one of them."""
    apr = write_fold(tmp_path / "Datasets" / "PROSTATE" / "APR-Dataset-1Fold" / "Fold-1")
    write_fold(tmp_path / "Datasets" / "PROSTATE" / "Dataset-1Fold" / "Fold-1")
    assert find_folds(tmp_path / "Datasets", hints=("Prostate", "PROSTATE-APR-1H")) == [apr]
    with pytest.raises(LayoutError, match="APR-Dataset-1Fold, Dataset-1Fold"):
        find_folds(tmp_path / "Datasets" / "PROSTATE", hints=("Prostate",))


def test_several_folds_are_all_returned_and_one_fold_refuses_them(tmp_path):
    five = tmp_path / "Dataset-5Fold"
    for k in (1, 2, 10):
        write_fold(five / f"Fold-{k}", seed=k)
    assert [f.name for f in find_folds(five)] == ["Fold-1", "Fold-2", "Fold-10"]
    with pytest.raises(LayoutError, match="3 Fold folders.*pass one of them"):
        one_fold(five)


def test_our_data_names_map_into_the_authors_datasets_folder(tmp_path):
    repo = make_repo(tmp_path)
    fold = repo / "Datasets" / "SYN" / "Dataset-1Fold" / "Fold-1"
    assert data_path(repo / "Datasets", "syn/Fold-1") == fold
    assert data_path(repo, "syn/Fold-1") == fold  # the repository above it
    assert data_path(repo, "dlbcl/Fold-1") == repo / "dlbcl" / "Fold-1"  # absent: as given


def test_execution_folders_of_the_repository(tmp_path):
    repo = make_repo(tmp_path)
    names = ["SYN-A", "SYN-B"]
    assert [p.name for p in execution_folders(repo / "Executions")] == names
    assert [p.name for p in execution_folders(repo)] == names
    one = repo / "Executions" / "SYN-A"
    assert execution_folders(one) == [one]
    assert execution_folders(repo / "Datasets") == []
    assert repository_datasets(one) == (repo / "Datasets").resolve()


def test_model_files_in_the_best_models_tree(tmp_path):
    run = tmp_path / "BestModels" / "Executions-Finished" / "X-1H-S5"
    (run / "Log").mkdir(parents=True)
    (run / "Settings").mkdir()
    model = run / "Log" / "Model-X-1H-S5-Fold-1-BestModel.bin"
    model.write_bytes(b"")
    assert find_model_file(run) == model
    assert find_model_file(model) == model
    other = tmp_path / "BestModels" / "Executions-Finished" / "X-2H-S7" / "Log"
    other.mkdir(parents=True)
    (other / "Model-X-2H-S7-Fold-1-BestModel.bin").write_bytes(b"")
    with pytest.raises(LayoutError, match="2 model files.*X-1H-S5.*X-2H-S7.*pass one of them"):
        find_model_file(tmp_path / "BestModels")
    with pytest.raises(LayoutError, match="without a \\*BestModel.bin"):
        find_model_file(run / "Settings")


def test_the_user_commands_read_a_dataset_folder_with_one_fold(tmp_path):
    repo = make_repo(tmp_path)
    fold = load_data(str(repo / "Datasets" / "SYN"), None)
    assert fold.path == str(repo / "Datasets" / "SYN" / "Dataset-1Fold" / "Fold-1")
    with pytest.raises(LayoutError, match="2 folders with data"):
        load_data(str(repo / "Datasets"), None)


# --------------------------------------------------------------------------------------------
# column names


NAMES = [f"2H-Hinton-S{i}" for i in range(1, 129)]


def test_only_takes_full_names_and_their_last_part():
    assert select_columns(["S5", "2H-Hinton-S7", "Hinton-S9"], NAMES, "x.csv") == [
        "2H-Hinton-S5",
        "2H-Hinton-S7",
        "2H-Hinton-S9",
    ]
    with pytest.raises(ValueError) as err:
        select_columns(["S200"], NAMES, "x.csv")
    assert str(err.value) == (
        "--only S200: no such column in x.csv; its columns are 2H-Hinton-S1..S128 "
        "(128 columns); S1..S128 alone also work"
    )
    with pytest.raises(ValueError, match=r"matches 2 columns of x.csv \(1H-S1, 2H-S1\)"):
        select_columns(["S1"], ["1H-S1", "2H-S1"], "x.csv")


def test_column_labels_name_the_columns_exactly():
    assert column_label(NAMES[0:8:2]) == "2H-Hinton-S1,S3,S5,S7 (4 columns)"
    assert column_label(NAMES[:16]) == "2H-Hinton-S1..S16 (16 columns)"
    assert column_label(NAMES[:4] + NAMES[8:10]) == "2H-Hinton-S1..S4,S9,S10 (6 columns)"
    assert column_label(NAMES[:32:2]) == "2H-Hinton-S1,S3,S5,S7,S9,S11,S13 +9 more (16 columns)"
    assert column_label(["2H-Hinton-S5"]) == "2H-Hinton-S5"
    assert column_label(["a", "b1"]) == "a,b1 (2 columns)"


# --------------------------------------------------------------------------------------------
# debinn grid on the repository


def test_grid_reads_an_execution_folder_without_datapool(tmp_path):
    repo = make_repo(tmp_path / "repo")
    out = tmp_path / "out"
    code, text, err = cli("grid", repo / "Executions" / "SYN-A", "--out", out, "--only", "S1")
    assert code == 0, err
    assert f"data SYN from {(repo / 'Datasets').resolve()}" in text
    assert [r["name"] for r in json.loads((out / "results.json").read_text())["records"]] == [
        "A-S1"
    ]
    code, _, err = cli("grid", repo / "Executions" / "SYN-A", "--out", out, "--only", "S9")
    assert code == 2
    assert err.strip().splitlines() == [
        f"debinn grid: error: --only S9: no such column in "
        f"{repo / 'Executions' / 'SYN-A' / 'executionSettings.csv'}; its columns are "
        "A-S1..S3 (3 columns); S1..S3 alone also work"
    ]


def test_grid_without_data_anywhere_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("DEBINN_DATA_DIR", str(tmp_path / "no-data-here"))
    folder = tmp_path / "alone"
    folder.mkdir()
    write_settings(folder / "executionSettings.csv", {"A-S1": column(1)})
    code, _, err = cli("grid", folder, "--out", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no DataPool folder, no Datasets folder" in err and "pass --data" in err
    assert "debinn data fetch" in err


def test_grid_runs_every_grid_of_an_executions_folder(tmp_path):
    repo = make_repo(tmp_path / "repo")
    # the authors' results: next to one grid's settings, and in a reference folder for the other
    head = "Key;SNS (m);SPC (m);PPV (m);NPV (m);ACC (m);BACC (m)"
    rows = [f"SYN-A-S{i};50;50;50;50;50;{60 + i}" for i in (1, 2, 3)]
    (repo / "Executions" / "SYN-A" / "summary.csv").write_text("\n".join([head, *rows]) + "\n")
    ref = tmp_path / "reference" / "SYN-B"
    ref.mkdir(parents=True)
    (ref / "summary.csv").write_text(f"{head}\nSYN-B-S1;1;1;1;1;1;70\nSYN-B-S3;1;1;1;1;1;80\n")
    out = tmp_path / "all"
    args = ("grid", repo / "Executions", "--out", out, "--only", "S1,S3")
    code, text, err = cli(*args, "--reference", tmp_path / "reference")
    assert code == 0, err
    assert "2 grids in" in text and "4 runs asked for, 4 to train" in text
    progress = [ln for ln in text.splitlines() if " runs  fold " in ln]
    assert len(progress) == 2 and all("all grids: " in ln and "ETA " in ln for ln in progress)
    assert "all grids: 4/4 runs, 100 % of the work, ETA 0 s" in progress[-1]
    for grid, names in (("SYN-A", ["A-S1", "A-S3"]), ("SYN-B", ["B-S1", "B-S3"])):
        doc = json.loads((out / grid / "results.json").read_text())
        assert sorted(r["name"] for r in doc["records"]) == names
        assert (out / grid / "summary.csv").is_file() and (out / grid / "cost.json").is_file()
    table = (out / "overview.md").read_text().splitlines()
    assert table[0].startswith("| grid | settings | ours median | ours mean | authors median")
    assert table[2].startswith("| SYN-A | 2 |") and "| 0.620 (2) | 0.620 |" in table[2]
    assert table[3].startswith("| SYN-B | 2 |") and "| 0.750 (2) | 0.750 |" in table[3]
    csv = (out / "overview.csv").read_text().splitlines()
    assert csv[0] == (
        "grid,settings,runs,ours_median,ours_mean,authors_settings,authors_median,"
        "authors_mean,median_gap"
    )
    assert csv[1].startswith("SYN-A,2,2,") and ",2,0.62," in csv[1]
    # again: every grid resumes, nothing is trained
    code, text, err = cli(*args)
    assert code == 0, err
    assert "0 to train" in text and " runs  fold " not in text
    assert text.count("resume: 2 of 2 settings already in") == 2
    assert "(0 trained in this session)" in text


def test_evaluate_reads_the_best_models_tree_and_the_datasets_folder(tmp_path):
    """The published DLBCL model and data, linked into the authors' layout."""
    model = reference_dir() / "models" / "DLBCL-2H-Hinton-S69" / "BestModel.bin"
    fold = data_dir() / "dlbcl" / "Fold-1"
    if not model.is_file() or not fold.is_dir():
        pytest.skip(f"the published model or data not found ({model}, {fold})")
    run = tmp_path / "BestModels" / "Executions-Finished" / "DLBCL-2H-Hinton-S69"
    (run / "Log").mkdir(parents=True)
    (run / "Log" / "Model-DLBCL-2H-Hinton-S69-Fold-1-BestModel.bin").symlink_to(model)
    data = tmp_path / "Datasets" / "DLBCL" / "Dataset-1Fold"
    data.mkdir(parents=True)
    (data / "Fold-1").symlink_to(fold)
    code, text, err = cli("evaluate", "--model", run, "--data", tmp_path / "Datasets" / "DLBCL")
    assert code == 0, err
    assert "TP 12, TN 25, FP 5, FN 2" in text  # the published confusion matrix


def test_an_execution_folders_datapool_comes_before_the_repositorys_datasets(tmp_path):
    from debinn_jax.execution.jobs import resolve_folds

    repo = make_repo(tmp_path)
    grid = repo / "Executions" / "SYN-A"
    pool_fold = write_fold(grid / "DataPool" / "SYN" / "Dataset" / "Fold-1", seed=3)
    assert resolve_folds(grid, None, "SYN", "SYN-A") == ([pool_fold], grid / "DataPool")
    # --data comes first of all, matched by the data name
    datasets = repo / "Datasets"
    fold = datasets / "SYN" / "Dataset-1Fold" / "Fold-1"
    assert resolve_folds(grid, datasets, "SYN", "SYN-A") == ([fold], datasets)
    # a Datasets folder without this grid's data is not used for it
    other = repo / "Executions" / "OTHER-X"
    other.mkdir()
    with pytest.raises(LayoutError, match="no dataset folder for data 'NOPE' of OTHER-X"):
        resolve_folds(other, None, "NOPE", "OTHER-X")
