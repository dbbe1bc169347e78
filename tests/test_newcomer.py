"""Issue 15, a newcomer's pass: true claims, no tracebacks, no silent wrong answers.

One test per failure class, on the command line (``debinn ...``) and in the library. Tiny data
written to ``tmp_path``; tiny GA/GD budgets (the GD settings are test_cli's, so compiled programs
are shared when both files run in one session).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import jax
import numpy as np
import pytest
from test_cli import CONFIG  # the same GD settings: compiled programs are reused

from debinn_jax.cli import main

GD = dict(
    hidden=(),
    trainer="gd",
    epochs=50,
    learning_rate=0.05,
    trainer_options={"starts": 1, "chunk": 50, "validation_fraction": 0.0, "patience": 1000},
)
REPO = Path(__file__).resolve().parents[1]


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs, labels 0/1 alternating."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(0.0, 0.5, (n, 2)) + 3.0
    X[:, 0] += np.where(y == 1, 1.5, -1.5)
    return X, y


def write_csv(path: Path, header: list[str], rows: list[list[object]], sep: str = ",") -> Path:
    path.write_text("\n".join(sep.join(str(v) for v in r) for r in [header, *rows]) + "\n")
    return path


def table_rows(n: int, seed: int, key: str | None = None) -> tuple[list[str], list[list[object]]]:
    X, y = blobs(n, seed)
    header = ([key] if key else []) + ["age", "suv", "outcome"]
    rows = [
        ([f"P{i}"] if key else []) + [f"{a:.4f}", f"{b:.4f}", "yes" if c else "no"]
        for i, ((a, b), c) in enumerate(zip(X, y))
    ]
    return header, rows


def run(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, command: str) -> str:
    """The single stderr line of a failed command (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"debinn {command}: ")
    return lines[0]


def _reading_argv(command: str, data: Path, model: Path, work: Path) -> list:
    """The command line of ``command`` reading ``data`` (predict, evaluate or fit)."""
    return {
        "predict": ["predict", "--model", model, "--data", data, "--out", "-"],
        "evaluate": ["evaluate", "--model", model, "--data", data],
        "fit": ["fit", "--data", data, "--trainer", "gd", "--out", work / "never.debinn"],
    }[command]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("newcomer")
    header, rows = table_rows(40, 0)
    write_csv(d / "train.csv", ["id", *header], [[100 + i, *r] for i, r in enumerate(rows)])
    header, rows = table_rows(10, 1, key="Key")
    write_csv(d / "test.csv", header, rows, sep=";")
    (d / "config.toml").write_text(CONFIG)
    return d


@pytest.fixture(scope="module")
def fitted(work: Path) -> types.SimpleNamespace:
    """``debinn fit --id-column id`` once; the model's probabilities are made constant while
    the command runs, so its end-of-fit check sees a one-class model."""
    out, err = io.StringIO(), io.StringIO()
    constant = lambda self, X: np.tile([0.6, 0.4], (len(X), 1))  # noqa: E731
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("debinn_jax.estimator.DEBIClassifier.predict_proba", constant)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [
                    "fit",
                    "--data",
                    str(work / "train.csv"),
                    "--trainer",
                    "gd",
                    "--config",
                    str(work / "config.toml"),
                    "--id-column",
                    "id",
                    "--out",
                    str(work / "model.debinn"),
                ]
            )
    return types.SimpleNamespace(
        code=code, out=out.getvalue(), err=err.getvalue(), model=work / "model.debinn"
    )


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder nothing can be written in: a mode 0555 folder, or ``/sys`` for root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            fd, probe = tempfile.mkstemp(dir=candidate)
        except OSError:
            return candidate
        os.close(fd)
        os.unlink(probe)
    pytest.skip("no read-only folder available")


# --------------------------------------------------------------------------- 1. output paths


@pytest.mark.parametrize("problem", ["existing folder", "missing folder", "read-only"])
@pytest.mark.parametrize("command", ["fit", "predict", "evaluate", "show"])
def test_cli_output_paths_are_checked_before_any_work(
    command: str, problem: str, work: Path, fitted, tmp_path: Path, capsys
) -> None:
    target = {
        "existing folder": tmp_path,
        "missing folder": tmp_path / "absent" / "out.file",
        "read-only": _read_only_folder(tmp_path) / "out.file",
    }[problem]
    argv = {
        "fit": ["fit", "--data", work / "train.csv", "--trainer", "gd"],
        "predict": ["predict", "--model", fitted.model, "--data", work / "test.csv"],
        "evaluate": ["evaluate", "--model", fitted.model, "--data", work / "test.csv"],
        "show": ["show", "--model", fitted.model],
    }[command]
    code, out, err = run(capsys, *argv, "--out", target)
    assert code == 2
    line = one_line(err, command)
    assert f"--out {target}" in line
    expected = {
        "existing folder": "is a folder; expected the name of the",
        "missing folder": "does not exist; create it first",
        "read-only": "cannot write in folder",
    }[problem]
    assert expected in line
    assert out == ""  # nothing read, nothing trained


def test_cli_fit_keeps_the_model_when_saving_fails(work: Path, tmp_path, monkeypatch, capsys):
    import debinn_jax.io

    save = debinn_jax.io.save_model
    target = tmp_path / "model.debinn"

    def failing_save(path, model):
        if Path(path) == target:
            raise OSError(28, "No space left on device", str(path))
        return save(path, model)

    monkeypatch.setattr(debinn_jax.io, "save_model", failing_save)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "rescue"))
    (tmp_path / "rescue").mkdir()
    argv = ["fit", "--data", work / "train.csv", "--id-column", "id", "--trainer", "gd"]
    code, _, err = run(capsys, *argv, "--config", work / "config.toml", "--quiet", "--out", target)
    assert code == 1
    line = err.strip().splitlines()[0]
    assert "No space left on device" in line and "was saved to" in line
    assert len(err.strip().splitlines()) == 1, err
    rescued = Path(line.split("was saved to ")[1].split(" instead")[0])
    assert rescued.parent == tmp_path / "rescue"
    assert debinn_jax.io.load_model(rescued).feature_names == ("age", "suv")


def test_cli_os_errors_while_writing_are_one_line(work: Path, fitted, monkeypatch, capsys):
    import debinn_jax.io

    def broken(path, text):
        raise IsADirectoryError(21, "Is a directory", str(path))

    monkeypatch.setattr(debinn_jax.io, "write_text_atomic", broken)
    code, _, err = run(
        capsys, "predict", "--model", fitted.model, "--data", work / "test.csv", "--out",
        work / "p.csv",
    )  # fmt: skip
    assert code == 1
    assert one_line(err, "predict") == f"debinn predict: error: {work / 'p.csv'}: Is a directory"


# --------------------------------------------------------------------------- 2. numbers


@pytest.mark.parametrize("value", ["1e300", "1e45"])
@pytest.mark.parametrize("command", ["predict", "evaluate", "fit"])
def test_cli_values_beyond_float32_name_file_row_and_column(
    command: str, value: str, work: Path, fitted, capsys
) -> None:
    lines = (work / "test.csv").read_text().splitlines()
    cells = lines[4].split(";")  # row key P3
    cells[1] = value
    lines[4] = ";".join(cells)
    bad = work / f"big-{value}.csv"
    bad.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, *_reading_argv(command, bad, fitted.model, work))
    assert code == 2
    line = one_line(err, command)
    assert f"{bad}, row key 'P3', column 'age': {float(value):g} is too large" in line
    assert "float32" in line
    assert "nan" not in out.lower()
    assert not (work / "never.debinn").exists()


def test_library_values_beyond_float32_name_row_index_and_column() -> None:
    from debinn_jax.data import Standardizer
    from debinn_jax.estimator import DEBIClassifier
    from debinn_jax.io import TrainedModel

    X, y = blobs(40, 0)
    clf = DEBIClassifier(**GD, random_state=0).fit(X, y)
    for value in (1e300, 1e45):
        bad = X.copy()
        bad[3, 1] = value
        for method in (clf.predict, clf.predict_proba):
            with pytest.raises(ValueError, match=r"row index 3, column index 1: .* is too large"):
                method(bad)
        with pytest.raises(ValueError, match=r"row index 3, column index 1: .* is too large"):
            DEBIClassifier(**GD).fit(bad, y)
    bad = X.copy()
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match=r"row index 5, column index 0: nan is not a finite"):
        clf.predict_proba(bad)
    # finite and within float32, but beyond it once standardised (std 1e-3): named, never NaN
    tight = Standardizer().fit(np.array([[0.0, 0.0], [2e-3, 2e-3]]))
    model = TrainedModel(clf.spec_, clf.coords_, clf.classes_, ("age", "suv"), tight)
    with pytest.raises(ValueError, match=r"f\.csv, row key 'k', column 'suv': 1e\+37 is 1e\+40"):
        model.predict_proba([[0.0, 1e37]], rows=["k"], source="f.csv")
    with pytest.raises(ValueError, match=r"row key 'P3', column 'age': nan is not a finite"):
        model.predict_proba([[np.nan, 0.0]], rows=["P3"])


# --------------------------------------------------------------------------- 3. one CSV reader


def test_cli_a_missing_cell_is_the_same_error_in_every_command(work: Path, fitted, capsys):
    lines = (work / "test.csv").read_text().splitlines()
    cells = lines[5].split(";")  # row key P4, line 6
    cells[1] = ""
    lines[5] = ";".join(cells)
    hole = work / "hole.csv"
    hole.write_text("\n".join(lines) + "\n")
    expected = f"{hole}, row key 'P4' (line 6), column 'age': an empty cell"
    for argv in (
        ["predict", "--model", fitted.model, "--data", hole, "--out", "-"],
        ["evaluate", "--model", fitted.model, "--data", hole],
        ["fit", "--data", hole, "--trainer", "gd", "--out", work / "never.debinn"],
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2 and expected in one_line(err, argv[0])


def test_library_readers_can_drop_or_refuse_missing_cells(tmp_path: Path) -> None:
    from debinn_jax.data import DataError, load_table

    path = write_csv(tmp_path / "t.csv", ["a", "b", "y"], [[1, 2, 0], [3, "NA", 1], [5, 6, 1]])
    assert load_table(path).n_dropped_missing == 1  # the library default: drop and count
    with pytest.raises(DataError, match=r"row key '2' \(line 3\), column 'b': the missing-value"):
        load_table(path, missing="error")


@pytest.mark.parametrize("command", ["predict", "evaluate", "fit"])
def test_cli_utf16_and_pipe_files_say_what_was_found(
    command: str, work: Path, fitted, capsys
) -> None:
    text = (work / "test.csv").read_text()
    utf16 = work / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))
    pipe = work / "pipe.csv"
    pipe.write_text(text.replace(";", "|"))
    for path, expected in (
        (utf16, f"{utf16}: not UTF-8 text, it looks like UTF-16"),
        (pipe, f"{pipe}: the header line is separated by '|'; supported delimiters are ','"),
    ):
        code, _, err = run(capsys, *_reading_argv(command, path, fitted.model, work))
        assert code == 2
        line = one_line(err, command)
        assert expected in line
        assert "re-save" in line


def test_cli_fit_lists_its_features_and_takes_an_id_column(work: Path, fitted, capsys) -> None:
    assert fitted.code == 0, fitted.err
    assert "  features: age, suv\n" in fitted.out
    assert "row ids: column 'id' (not a feature)" in fitted.out
    # predict and evaluate use the model's id column
    code, out, _ = run(
        capsys, "predict", "--model", fitted.model, "--data", work / "train.csv", "--out", "-"
    )
    lines = out.splitlines()
    assert code == 0 and "id,predicted,p_no,p_yes" in lines
    assert lines[lines.index("id,predicted,p_no,p_yes") + 1].startswith("100,")


def test_cli_warns_about_an_id_column_used_as_a_feature(work: Path, capsys) -> None:
    header, rows = table_rows(12, 3)
    rows[2][1] = "1e300"  # stops the command right after the warning
    path = write_csv(work / "ids.csv", ["ID", *header], [[i, *r] for i, r in enumerate(rows)])
    code, out, err = run(capsys, "fit", "--data", path, "--trainer", "gd", "--out", work / "x")
    assert "  features: ID, age, suv\n" in out
    warning, error = err.strip().splitlines()
    assert warning == (
        "warning: column 'ID' looks like a row id but is used as a numeric feature; if it is an "
        "id, pass --id-column ID"
    )
    assert code == 2 and error.startswith("debinn fit: error:")


def test_cli_non_integer_labels_name_the_file_and_column(work: Path, capsys) -> None:
    X, _ = blobs(20, 4)
    path = write_csv(work / "no_label.csv", ["a", "b"], [[f"{u:.3f}", f"{v:.3f}"] for u, v in X])
    code, _, err = run(capsys, "fit", "--data", path, "--out", work / "x")
    assert code == 2
    line = one_line(err, "fit")
    assert f"{path}: label column 'b' holds non-integer numbers" in line
    assert "labels must be class labels" in line


# --------------------------------------------------------------------------- 4. config types


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[ga.loss]\nclass_weights = [1.0, 2.0]\n",
            "[ga.loss] setting 'class_weights' must be true or false, got [1.0, 2.0] (a list)",
        ),
        ('[ga.loss]\nalpha = "0.9"\n', "[ga.loss] setting 'alpha' must be a number, got '0.9'"),
        (
            '[ga.loss]\nclass_weights = "false"\n',
            "[ga.loss] setting 'class_weights' must be true or false, got 'false' (a string)",
        ),
        ('[gd]\nepochs = "10"\n', "[gd] setting 'epochs' must be an integer, got '10'"),
        ("[ga]\nloss = 0.5\n", "[ga] setting 'loss' must be a table of LossConfig fields"),
    ],
)
def test_cli_config_values_of_the_wrong_type(toml: str, message: str, work, tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text(toml)
    argv = ["fit", "--data", work / "train.csv", "--config", config, "--out", tmp_path / "m"]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert one_line(err, "fit").startswith(f"debinn fit: error: config file {config}: {message}")
    assert "training with" not in out


def test_library_loss_settings_of_the_wrong_type() -> None:
    from debinn_jax.estimator import DEBIClassifier

    X, y = blobs(10, 0)
    clf = DEBIClassifier(trainer_options={"loss": {"alpha": "0.9"}})
    with pytest.raises(ValueError, match="ga.loss setting 'alpha' must be a number, got '0.9'"):
        clf.fit(X, y)
    clf = DEBIClassifier(trainer_options={"loss": {"class_weights": "false"}})
    with pytest.raises(ValueError, match="'class_weights' must be true or false, got 'false'"):
        clf.make_config()
    assert DEBIClassifier(trainer_options={"population_size": "auto"}).make_config()


# --------------------------------------------------------------------------- 5. GD keys


def test_train_gd_accepts_typed_and_legacy_keys() -> None:
    from debinn_jax.gd import GDConfig, train_gd
    from debinn_jax.network import NetworkSpec

    X, y = blobs(20, 0)
    spec = NetworkSpec(n_inputs=2, hidden=(), n_classes=2)
    config = GDConfig(epochs=5, chunk=5, starts=1, validation_fraction=0.0)
    typed = train_gd(spec, X - 3.0, y, jax.random.key(0), config)
    legacy = train_gd(spec, X - 3.0, y, jax.random.PRNGKey(0), config)
    for a, b in zip(
        jax.tree_util.tree_leaves(typed.coords), jax.tree_util.tree_leaves(legacy.coords)
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="key must be a jax.random key"):
        train_gd(spec, X, y, np.zeros(3, np.float32), config)


# --------------------------------------------------------------------------- 6. grid search


@pytest.mark.slow  # GridSearchCV over both trainers (12 s cold)
def test_grid_search_over_both_trainers() -> None:
    from sklearn.model_selection import GridSearchCV

    from debinn_jax.estimator import DEBIClassifier

    X, y = blobs(24, 0)
    # the other trainer's shortcuts are ignored ("only used when trainer=...")
    assert DEBIClassifier(trainer="gd", generations=5).make_config().epochs == 1000
    assert DEBIClassifier(trainer="ga", epochs=5).make_config().generations > 0
    base = DEBIClassifier(hidden=(), population_size=6, random_state=0)
    grid = GridSearchCV(
        base, {"trainer": ["ga", "gd"], "generations": [10], "epochs": [10]}, cv=2, refit=False
    ).fit(X, y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert [p["trainer"] for p in grid.cv_results_["params"]] == ["ga", "gd"]


# --------------------------------------------------------------------------- 7. probabilities


def test_cli_evaluate_reports_calibration_and_the_positive_class(work, fitted, capsys) -> None:
    code, out, _ = run(capsys, "evaluate", "--model", fitted.model, "--data", work / "test.csv")
    assert code == 0
    assert "positive class: 'yes'" in out
    assert "  ece " in out and "  brier " in out
    assert "caps probabilities at 0.731 for 2 classes" in out


def test_cli_fit_warns_when_the_model_predicts_one_class(fitted) -> None:
    warning = fitted.err.strip().splitlines()[-1]
    assert warning == (
        "warning: the model predicts class 'no' for every case of its training data (40 cases; "
        "no validation): it has not learnt to tell the classes apart; try a larger budget "
        "(--epochs), another --seed or the other --trainer"
    )


def test_one_class_warning_names_the_inner_validation_split(capsys) -> None:
    from debinn_jax.commands.fit import check_one_class as _check_one_class

    clf = types.SimpleNamespace(validation_indices_=np.array([1, 3]), classes_=np.array(["a", "b"]))
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])
    _check_one_class(clf, proba, "gd")
    assert (
        "class 'b' for every case of its inner validation split (2 cases)"
        in capsys.readouterr().err
    )
    clf.validation_indices_ = None
    _check_one_class(clf, proba, "ga")
    assert capsys.readouterr().err == ""  # two classes predicted on the training data


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_help_documents_the_probability_cap(command: str, capsys) -> None:
    from debinn_jax.commands.common import probability_cap

    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert f"e/(e+K-1): {probability_cap(2):.3f} for 2" in out
    assert f"{probability_cap(3):.3f} for 3" in out
    assert "CalibratedClassifierCV(DEBIClassifier(...), cv=3)" in out
    assert "A missing feature cell (empty, NA, nan) is an error" in out


def test_calibrated_probabilities_with_scikit_learn() -> None:
    from sklearn.calibration import CalibratedClassifierCV

    from debinn_jax.commands.common import probability_cap
    from debinn_jax.estimator import DEBIClassifier

    X, y = blobs(36, 0)
    labels = np.where(y == 1, "malignant", "benign")
    raw = DEBIClassifier(**GD, random_state=0).fit(X, labels)
    assert raw.predict_proba(X).max() <= probability_cap(2) + 1e-6
    calibrated = CalibratedClassifierCV(DEBIClassifier(**GD, random_state=0), cv=3).fit(X, labels)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert list(calibrated.classes_) == ["benign", "malignant"]
    assert proba.max() > probability_cap(2)  # sure cases can now read as sure
    assert calibrated.score(X, labels) > 0.9


# --------------------------------------------------------------------------- 8. GD progress


def test_gd_progress_counts_the_starts_still_training(caplog) -> None:
    from debinn_jax.gd import GDConfig, train_gd
    from debinn_jax.network import NetworkSpec

    X, y = blobs(20, 0)
    spec = NetworkSpec(n_inputs=2, hidden=(), n_classes=2)
    config = GDConfig(epochs=200, chunk=50, starts=2, patience=5, validation_fraction=0.0)
    caplog.set_level(logging.INFO, logger="debinn_jax.gd")  # progress lines are log records
    result = train_gd(spec, X - 3.0, y, jax.random.key(0), config, progress=True)
    last = caplog.messages[-1]
    ran = int(np.max(result.histories["epochs_run"]))
    assert ran < 200
    assert last.startswith(f"[gd] epoch {ran:5d} of 200: 0 of 2 starts still training, 2 stopped")
    assert "active" not in last


# --------------------------------------------------------------------------- 9. Ctrl-C


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_during_a_ga_fit_exits_cleanly(work: Path, signum: int) -> None:
    """Ctrl-C (SIGINT) or SIGTERM: the GA stops after its chunk; one line, no model file."""
    # no early stopping: the run must still be in its loop when the signal arrives
    config = work / "endless.toml"
    config.write_text("[ga]\nearly_stopping = 100000000\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "debinn_jax.cli", "fit", "--data", str(work / "train.csv"),
         "--id-column", "id", "--trainer", "ga", "--hidden", "2", "--generations", "100000000",
         "--population", "6", "--config", str(config), "--out", str(work / "interrupted.debinn")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("gen "):  # the first progress line: the GA is running
            break
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    (line,) = err.strip().splitlines()
    name = signal.Signals(signum).name
    assert line.startswith(f"debinn fit: train_ga: stopped by {name} after generation "), line
    assert not (work / "interrupted.debinn").exists()


# --------------------------------------------------------------------------- 10. start-up


def test_help_and_version_import_no_heavy_library() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from debinn_jax.cli import build_parser, main\n"
        "build_parser()\n"
        "for argv in (['--help'], ['--version'], ['fit', '--help'], ['predict', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "heavy = ('jax', 'flax', 'evosax', 'sklearn', 'matplotlib', 'optax')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "import debinn_jax\n"
        "print(debinn_jax.__version__, 'jax' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.splitlines() == ["[]", "0.1.0 False"]


def test_lazy_package_keeps_every_public_name() -> None:
    import debinn_jax as dj

    for name in dj.__all__:
        assert getattr(dj, name) is not None, name
    from debinn_jax import DEBIClassifier, NetworkSpec, data, grid

    assert DEBIClassifier.__module__ == "debinn_jax.estimator"
    assert NetworkSpec is dj.network.NetworkSpec and grid is dj.sweep.grid
    assert data.load_table is dj.load_table
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        dj.nothing  # noqa: B018


def test_python_m_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[optimizer]\nname = 'adam'\n")
    done = subprocess.run(
        [sys.executable, "-m", "debinn_jax.cli", "fit", "--data", "moons", "--config",
         str(config), "--out", str(tmp_path / "m.debinn")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"debinn fit: error: config file {config}: unknown section 'optimizer'; expected "
        f"network, ga, gd"
    ]
