"""The user commands ``debinn fit | predict | evaluate | show`` (debinn_jax.commands.fit and
debinn_jax.commands.model)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _shared import data_dir

from debinn_jax.cli import main

# Same network and GD settings as test_estimator.FAST_GD (compiled programs are reused).
CONFIG = """\
[network]
hidden = []

[gd]
epochs = 50
learning_rate = 0.05
starts = 1
chunk = 50
validation_fraction = 0.0
patience = 1000
"""


def _rows(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(0.0, 0.5, (n, 2)) + 3.0
    X[:, 0] += np.where(y == 1, 1.5, -1.5)
    return X, ["yes" if v else "no" for v in y]


def write_table(path: Path, n: int, seed: int, sep: str = ",", key: bool = False) -> Path:
    X, labels = _rows(n, seed)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow((["Key"] if key else []) + ["age", "suv", "outcome"])
        for i, (row, lab) in enumerate(zip(X, labels)):
            w.writerow(([f"P{i:03d}"] if key else []) + [f"{v:.5f}" for v in row] + [lab])
    return path


def write_fold(folder: Path) -> Path:
    """A tiny DEBI-NN Fold folder: 60 train and 20 test cases, ';'-separated, Key column."""
    folder.mkdir()
    for part, n, seed in (("Train", 60, 0), ("Test", 20, 1)):
        X, labels = _rows(n, seed)
        keys = [f"{part[:2]}{i}" for i in range(n)]
        feats = ["Key;age;suv"] + [f"{k};{a:.5f};{b:.5f}" for k, (a, b) in zip(keys, X)]
        labs = ["Key;Outcome"] + [f"{k};{int(lab == 'yes')}" for k, lab in zip(keys, labels)]
        (folder / f"{part}F.csv").write_text("\n".join(feats) + "\n")
        (folder / f"{part}L.csv").write_text("\n".join(labs) + "\n")
    return folder


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    """Run ``debinn ARGV``; returns (exit code, stdout, stderr); stderr is echoed for failures."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    print(err)
    return code, out, err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    write_table(d / "train.csv", 60, 0)
    write_table(d / "test.csv", 20, 1, sep=";", key=True)
    (d / "config.toml").write_text(CONFIG)
    return d


@pytest.fixture(scope="module")
def model(workdir: Path) -> Path:
    out = workdir / "model.debinn"
    code = main(
        [
            "fit",
            "--data",
            str(workdir / "train.csv"),
            "--trainer",
            "gd",
            "--config",
            str(workdir / "config.toml"),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    return out


def test_session_on_a_csv_table(workdir: Path, model: Path, capsys) -> None:
    code, out, _ = run(
        capsys,
        "fit",
        "--data",
        workdir / "train.csv",
        "--trainer",
        "gd",
        "--config",
        workdir / "config.toml",
        "--out",
        workdir / "again.debinn",
    )
    assert code == 0
    assert "training on all 60 rows" in out and "classes {no: 30, yes: 30}" in out
    assert "[gd] epoch" in out  # progress lines
    assert f"saved model to {workdir / 'again.debinn'}" in out

    code, out, _ = run(
        capsys,
        "evaluate",
        "--model",
        model,
        "--data",
        workdir / "test.csv",
        "--out",
        workdir / "metrics.json",
    )
    assert code == 0
    assert "all rows, 20 cases" in out
    assert "balanced_accuracy" in out and "brier" in out
    acc = float(next(line.split()[1] for line in out.splitlines() if "accuracy " in line))
    assert acc > 0.8
    assert (workdir / "metrics.json").exists()

    pred = workdir / "pred.csv"
    code, out, _ = run(
        capsys, "predict", "--model", model, "--data", workdir / "test.csv", "--out", pred
    )
    assert code == 0 and "ignored column(s)" in out and "'outcome'" in out
    with open(pred) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Key", "predicted", "p_no", "p_yes"]
    assert len(rows) == 21 and rows[1][0] == "P000"
    assert {r[1] for r in rows[1:]} <= {"no", "yes"}
    p = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)

    code, out, _ = run(capsys, "show", "--model", model, "--out", workdir / "net.png")
    assert code == 0 and (workdir / "net.png").read_bytes()[:4] == b"\x89PNG"


def test_session_on_a_fold_folder(tmp_path: Path, workdir: Path, capsys) -> None:
    fold = write_fold(tmp_path / "Fold-1")
    out_model = tmp_path / "fold.debinn"
    code, out, _ = run(
        capsys,
        "fit",
        "--data",
        fold,
        "--trainer",
        "gd",
        "--config",
        workdir / "config.toml",
        "--out",
        out_model,
        "--quiet",
    )
    assert code == 0
    assert "training on the train split (60 cases)" in out
    assert "test split (20 cases) is left for 'debinn evaluate'" in out
    code, out, _ = run(capsys, "evaluate", "--model", out_model, "--data", fold)
    assert code == 0 and "test split (TestF.csv), 20 cases" in out
    code, out, _ = run(capsys, "predict", "--model", out_model, "--data", fold, "--out", "-")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[1] == "Key,predicted,p_0,p_1" and lines[2].startswith("Te0,")
    assert len(lines) == 2 + 20


@pytest.mark.parametrize("command", ["fit", "predict", "evaluate", "show"])
def test_every_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: debinn {command}" in out
    if command == "fit":
        assert "train split" in out and "every row is used for training" in out


def test_unknown_trainer_is_rejected_by_the_parser(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--data", "moons", "--trainer", "sgd", "--out", "m.debinn"])
    assert exc.value.code == 2
    assert "invalid choice: 'sgd'" in capsys.readouterr().err


def _bad_inputs(d: Path) -> dict[str, tuple[list, str]]:
    (d / "bad_key.toml").write_text("[ga]\npopulaton_size = 4\n")
    (d / "bad_section.toml").write_text("[optimizer]\nname = 'adam'\n")
    (d / "bad_syntax.toml").write_text("[ga\n")
    (d / "one_class.csv").write_text("a,b,y\n1,2,x\n3,4,x\n")
    (d / "missing_col.csv").write_text("age,outcome\n1,no\n")
    (d / "nan.csv").write_text("age,suv\n1,2\nnan,3\n")
    (d / "other_labels.csv").write_text("age,suv,outcome\n1,2,maybe\n3,4,yes\n")
    data = (d / "model.debinn").read_bytes()
    (d / "truncated.debinn").write_bytes(data[: len(data) // 2])
    fit = ["fit", "--data", d / "train.csv", "--out", d / "x.debinn"]
    model = d / "model.debinn"
    return {
        "config key": (
            fit + ["--config", d / "bad_key.toml"],
            "bad_key.toml: unknown [ga] setting 'populaton_size' (did you mean 'population_size'?)",
        ),
        "config section": (
            fit + ["--config", d / "bad_section.toml"],
            "unknown section 'optimizer'",
        ),
        "config syntax": (fit + ["--config", d / "bad_syntax.toml"], "cannot parse it"),
        "config missing": (fit + ["--config", d / "absent.toml"], "config file not found"),
        "kernel": (fit + ["--kernel", "cosine"], "kernel must be one of"),
        "budget flag": (fit + ["--trainer", "gd", "--generations", "5"], "does not apply"),
        "data missing": (["fit", "--data", d / "absent", "--out", d / "x"], "data not found"),
        "one class": (["fit", "--data", d / "one_class.csv", "--out", d / "x"], "same label"),
        "out folder": (
            ["fit", "--data", d / "train.csv", "--out", d / "no" / "m"],
            "does not exist",
        ),
        "truncated model": (
            ["predict", "--model", d / "truncated.debinn", "--data", d / "test.csv", "--out", "-"],
            "truncated, corrupt",
        ),
        "text as model": (
            ["evaluate", "--model", d / "train.csv", "--data", d / "test.csv"],
            "not a debinn model file",
        ),
        "missing column": (
            ["predict", "--model", model, "--data", d / "missing_col.csv", "--out", "-"],
            "missing feature column(s) ['suv']",
        ),
        "nan feature": (
            ["predict", "--model", model, "--data", d / "nan.csv", "--out", "-"],
            "row key '2' (line 3), column 'age': the missing-value mark 'nan'",
        ),
        "unknown label": (
            ["evaluate", "--model", model, "--data", d / "other_labels.csv"],
            "label 'maybe' is not one of the model's classes",
        ),
        "image format": (["show", "--model", model, "--out", d / "net.xyz"], "unknown format"),
    }


BAD_CASES = [
    "config key",
    "config section",
    "config syntax",
    "config missing",
    "kernel",
    "budget flag",
    "data missing",
    "one class",
    "out folder",
    "truncated model",
    "text as model",
    "missing column",
    "nan feature",
    "unknown label",
    "image format",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_2_with_one_line(case: str, workdir: Path, model: Path, capsys) -> None:
    argv, message = _bad_inputs(workdir)[case]
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"debinn {argv[0]}: error: ")
    assert message in lines[0]


def test_python_m_cli_is_the_debinn_program(workdir: Path, model: Path, capsys) -> None:
    # python -m debinn_jax.cli: the one line and exit code of the debinn entry point, no traceback
    argv = ["predict", "--model", str(model), "--data", str(workdir / "absent.csv"), "--out", "-"]
    done = subprocess.run(
        [sys.executable, "-m", "debinn_jax.cli", *argv],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )
    code, _, err = run(capsys, *argv)
    assert done.returncode == code == 2
    assert done.stderr == err
    assert err.startswith("debinn predict: error: ") and "absent.csv" in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- real data


def _real(path: str) -> Path:
    p = data_dir() / path
    if not p.exists():
        pytest.skip(f"real dataset not found at {p} (set DEBINN_DATA_DIR to the data folder)")
    return p


@pytest.mark.slow
def test_readme_session_on_dlbcl_fold(tmp_path: Path, capsys) -> None:
    fold = _real("dlbcl/Fold-1")
    m = tmp_path / "dlbcl.debinn"
    code, out, _ = run(
        capsys,
        "fit",
        "--data",
        fold,
        "--trainer",
        "ga",
        "--hidden",
        "16",
        "--generations",
        "50",
        "--population",
        "20",
        "--out",
        m,
    )
    assert code == 0 and "train split (41 cases)" in out
    code, out, _ = run(capsys, "evaluate", "--model", m, "--data", fold)
    assert code == 0 and "test split (TestF.csv), 44 cases" in out
    code, out, _ = run(
        capsys, "predict", "--model", m, "--data", fold / "TestF.csv", "--out", tmp_path / "p.csv"
    )
    assert code == 0 and "wrote 44 predictions" in out
    code, _, _ = run(capsys, "show", "--model", m, "--out", tmp_path / "dlbcl.png")
    assert code == 0


@pytest.mark.slow
def test_readme_session_on_fetal_health(tmp_path: Path, capsys) -> None:
    table = _real("ctg/fetal_health.csv")
    m = tmp_path / "ctg.debinn"
    code, out, _ = run(
        capsys, "fit", "--data", table, "--trainer", "gd", "--epochs", "100", "--out", m
    )
    assert code == 0 and "training on all 2126 rows" in out
    code, out, _ = run(capsys, "evaluate", "--model", m, "--data", table)
    assert code == 0 and "2126 cases" in out
    code, out, _ = run(
        capsys, "predict", "--model", m, "--data", table, "--out", tmp_path / "p.csv"
    )
    assert code == 0 and "ignored column(s)" in out
    code, _, _ = run(capsys, "show", "--model", m, "--out", tmp_path / "ctg.png")
    assert code == 0


def test_evaluate_accepts_a_test_file_with_a_single_class(workdir: Path, model: Path, capsys):
    lines = (workdir / "test.csv").read_text().splitlines()
    only_yes = workdir / "only_yes.csv"
    only_yes.write_text("\n".join([lines[0], *[r for r in lines[1:] if r.endswith(";yes")]]) + "\n")
    code, out, _ = run(capsys, "evaluate", "--model", model, "--data", only_yes)
    assert code == 0
    assert "classes {no: 0, yes: 10}" in out
    # fitting on it is still refused: training needs two classes
    code, _, err = run(capsys, "fit", "--data", only_yes, "--trainer", "gd", "--out", "x")
    assert code == 2 and "same label" in err


def test_cli_shows_library_log_records_while_a_command_runs(capsys) -> None:
    """The library only logs; the command shows INFO lines on stdout and warnings on stderr
    (one line, named after the command) and removes its handlers afterwards."""
    import logging

    from debinn_jax.cli import _library_logging

    log = logging.getLogger("debinn_jax.some_module")
    package = logging.getLogger("debinn_jax")
    handlers, level = list(package.handlers), package.level
    with _library_logging("debinn fit"):
        log.info("gen     10  train 0.5")
        log.debug("not shown")
        log.warning("careful:\n two lines")
    out, err = capsys.readouterr()
    assert out == "gen     10  train 0.5\n"
    assert err == "debinn fit: warning: careful: two lines\n"
    assert package.handlers == handlers and package.level == level
    log.warning("after the command")  # no handler of ours any more
    assert "after the command" not in capsys.readouterr().out
