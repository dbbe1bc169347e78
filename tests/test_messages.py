"""Messages of issue 27, one test per case: a misspelt settings key (executionSettings.csv and
settings.ini), a CSV file given as a model file, metrics that are undefined on one-class data,
and ``debinn fit`` on a Fold folder without its test files. Each message names the offending
key or file and lists the valid choices."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score
from test_cli import CONFIG, write_fold, write_table

from debinn_jax.authors import load_authors_model
from debinn_jax.authors_file import AuthorsFileError, describe_content
from debinn_jax.cli import main
from debinn_jax.data import DataError, load_fold
from debinn_jax.execution import SettingsError, grid_runs, read_execution_settings
from debinn_jax.execution.replay import read_settings_ini
from debinn_jax.execution.settings import grid_setting
from debinn_jax.execution.translate import grid_run
from debinn_jax.io import ModelFileError, load_any_model
from debinn_jax.metrics import classification_metrics, undefined_metrics


def run(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_settings_csv(path: Path, columns: dict[str, dict[str, str]]) -> Path:
    names = list(columns)
    keys = list(next(iter(columns.values())))
    lines = [";".join(["Key", *names])]
    lines += [";".join([k, *(columns[n][k] for n in names)]) for k in keys]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_settings_ini(path: Path, column: dict[str, str]) -> Path:
    sections: dict[str, list[str]] = {}
    for key, value in column.items():
        if key == "Data":
            continue
        section, _, name = key.partition("/")
        sections.setdefault(section, []).append(f"{name.replace('/', chr(92))}={value}")
    text = "".join(f"[{s}]\n" + "\n".join(lines) + "\n\n" for s, lines in sections.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _misspelt(column: dict[str, str]) -> dict[str, str]:
    return {
        ("Regularizer/L1Lamda" if k == "Regularizer/L1Lambda" else k): v for k, v in column.items()
    }


# ------------------------------------------------------------------- a misspelt settings key


def test_misspelt_key_in_execution_settings_is_named_with_the_closest_key(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = write_settings_csv(
        tmp_path / "executionSettings.csv", {"S1": _misspelt(grid_setting(1, (4,), data="toy"))}
    )
    with pytest.raises(SettingsError) as err:
        grid_runs(read_execution_settings(path), 2, 2)
    msg = str(err.value)
    assert msg.startswith(f"{path}: column 'S1': unknown key 'Regularizer/L1Lamda'")
    assert "(did you mean 'Regularizer/L1Lambda'?)" in msg
    assert "valid keys of Regularizer/: LabelSmoothing, EarlyStopping" in msg
    assert "L2Lambda" in msg and "got None" not in msg and "\n" not in msg
    # the command stops before any training, with the same line
    fold = write_fold(tmp_path / "Fold-1")
    code, _, err_text = run(capsys, "grid", path, "--data", fold, "--out", tmp_path / "out")
    assert code == 2 and "unknown key 'Regularizer/L1Lamda'" in err_text
    assert not (tmp_path / "out").exists()


def test_misspelt_key_in_settings_ini_is_named_as_written_there(tmp_path: Path) -> None:
    path = write_settings_ini(
        tmp_path / "model-S1" / "settings.ini", _misspelt(grid_setting(1, (4,)))
    )
    values = {"Data": "toy", **read_settings_ini(path)}
    with pytest.raises(SettingsError) as err:
        grid_run(values, "model-S1", 2, 2, source=str(path))
    msg = str(err.value)
    assert msg.startswith(f"{path}: column 'model-S1': unknown key 'L1Lamda' in section")
    assert "[Regularizer] (did you mean 'L1Lambda'?)" in msg
    assert "valid keys of [Regularizer]: LabelSmoothing" in msg and "\n" not in msg


def test_a_missing_key_is_named_not_reported_as_none(tmp_path: Path) -> None:
    column = grid_setting(1, (4,))
    del column["Regularizer/L1Lambda"]
    path = write_settings_csv(tmp_path / "executionSettings.csv", {"S1": column})
    with pytest.raises(SettingsError, match="key 'Regularizer/L1Lambda' is missing") as err:
        grid_runs(read_execution_settings(path), 2, 2)
    assert "None" not in str(err.value)


# ------------------------------------------------------------------- a CSV given as a model


def test_a_csv_renamed_to_bin_is_named_as_csv_not_as_a_truncated_model(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fold = write_fold(tmp_path / "Fold-1")
    fake = tmp_path / "model.bin"
    fake.write_bytes((fold / "TrainF.csv").read_bytes())
    code, _, err = run(capsys, "evaluate", "--model", fake, "--data", fold)
    assert code == 2
    line = err.strip()
    assert "\n" not in line
    assert line.startswith(f"debinn evaluate: error: {fake}: not a debinn model file")
    assert "nor a model file of the authors' DEBI-NN program (a *BestModel.bin)" in line
    assert "it looks like CSV text separated by ';', 3 columns (first line 'Key;age;suv')" in line
    assert "truncated" not in line and "length of" not in line
    with pytest.raises(AuthorsFileError, match="it looks like CSV text") as info:
        load_authors_model(fake)
    assert "not a DEBI-NN 2025 model file of the authors' program" in str(info.value)
    with pytest.raises(ModelFileError, match="it looks like CSV text"):
        load_any_model(tmp_path / "Fold-1" / "TrainL.csv")


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "an empty file"),
        (b'{"format": 1}\n', "JSON text"),
        (b"<html><body>404</body></html>\n", "HTML/XML text"),
        (b"[Model]\nShiftScaleOptimize=true\n", "INI text (first line '[Model]')"),
        (b"a,b\n1,2\n3,4\n", "CSV text separated by ',', 2 columns"),
        (b"\xff\xfeK\x00e\x00", "UTF-16 text"),
        (b"\x89PNG\r\n\x1a\n....", "a PNG image"),
        (b"PK\x03\x04rest", "a zip archive"),
        (b"\x00\x00\x00\x11\x00\x00\x00\x08", "binary data of an unknown kind"),
    ],
)
def test_describe_content(data: bytes, expected: str) -> None:
    kind, foreign = describe_content(data)
    assert kind.startswith(expected)
    assert foreign == (not expected.startswith("binary"))


# ------------------------------------------------------------------- one-class data


def test_undefined_metrics_match_scikit_learns_zero_division_nan() -> None:
    y = np.zeros(6, int)
    proba = np.array([[0.9, 0.1]] * 4 + [[0.2, 0.8]] * 2)
    m = classification_metrics(y, proba, zero_division=math.nan)
    pred = proba.argmax(1)
    assert math.isnan(m["sensitivity"])
    assert math.isnan(recall_score(y, pred, zero_division=np.nan))
    assert m["ppv"] == precision_score(y, pred, zero_division=np.nan) == 0.0  # 2 FP: defined
    assert math.isnan(m["mcc"]) and math.isnan(m["auc"])
    assert classification_metrics(y, proba)["sensitivity"] == 0.0  # the default is unchanged
    why = undefined_metrics(y, pred, 2, ["benign", "malignant"])
    assert set(why) == {"sensitivity", "mcc", "auc"}
    assert "no case of the positive class 'malignant'" in why["sensitivity"]
    why = undefined_metrics(y, np.zeros(6, int), 2)
    assert "no case is predicted as the positive class 1 (TP + FP = 0)" in why["ppv"]


def test_evaluate_on_one_class_data_prints_undefined_metrics_as_na(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    write_table(tmp_path / "train.csv", 60, 0)
    (tmp_path / "config.toml").write_text(CONFIG)
    model = tmp_path / "m.debinn"
    fit = ["fit", "--data", tmp_path / "train.csv", "--trainer", "gd", "--quiet"]
    code, _, _ = run(capsys, *fit, "--config", tmp_path / "config.toml", "--out", model)
    assert code == 0
    # far on the negative side: every case is 'no' and predicted 'no'
    lines = ["age,suv,outcome"] + [f"{-5.0 - i / 10},{3.0},no" for i in range(8)]
    (tmp_path / "negatives.csv").write_text("\n".join(lines) + "\n")
    out_json = tmp_path / "metrics.json"
    code, out, err = run(
        capsys,
        "evaluate",
        "--model",
        model,
        "--data",
        tmp_path / "negatives.csv",
        "--out",
        out_json,
    )
    assert code == 0
    values = {ln.split()[0]: ln.split()[1] for ln in out.splitlines() if ln.startswith("  ")}
    assert values["sensitivity"] == "n/a" and values["ppv"] == "n/a"
    assert values["specificity"] == "1.0000" and values["accuracy"] == "1.0000"
    assert (
        "warning: sensitivity is undefined, printed as n/a: the data has no case of the "
        "positive class 'yes' (TP + FN = 0)" in err
    )
    assert "warning: ppv is undefined, printed as n/a: no case is predicted as the positive " in err
    saved = json.loads(out_json.read_text())
    assert saved["sensitivity"] is None and saved["ppv"] is None
    assert set(saved["undefined"]) == {"sensitivity", "ppv", "mcc", "auc"}


# ------------------------------------------------------------------- fit without TestL.csv


def test_fit_accepts_a_fold_folder_without_test_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fold = write_fold(tmp_path / "Fold-1")
    (fold / "TestL.csv").unlink()
    with pytest.raises(DataError, match="missing TestL.csv"):
        load_fold(fold)  # a reader for evaluation still needs the test split
    assert load_fold(fold, require_test=False).test is None
    (tmp_path / "config.toml").write_text(CONFIG)
    code, out, _ = run(
        capsys,
        "fit",
        "--data",
        fold,
        "--trainer",
        "gd",
        "--config",
        tmp_path / "config.toml",
        "--out",
        tmp_path / "m.debinn",
        "--quiet",
    )
    assert code == 0
    assert (
        f"data: {fold}: training on the train split (60 cases); no test split found "
        f"(TestL.csv missing): training only" in out
    )
    assert (tmp_path / "m.debinn").is_file()
