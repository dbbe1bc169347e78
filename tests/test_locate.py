"""One data-folder lookup for the command line, the study and the scripts."""

from __future__ import annotations

from pathlib import Path

from debinn_jax.data.locate import find_data_dir
from debinn_jax.study import default_data_dir


def test_explicit_path_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("DEBINN_DATA_DIR", str(tmp_path / "env"))
    assert find_data_dir(tmp_path / "given") == tmp_path / "given"


def test_environment_variable_is_honoured_everywhere(monkeypatch, tmp_path):
    monkeypatch.setenv("DEBINN_DATA_DIR", str(tmp_path))
    assert find_data_dir() == tmp_path
    assert default_data_dir() == tmp_path  # debinn reproduce's default


def test_shared_data_beside_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("DEBINN_DATA_DIR", raising=False)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert find_data_dir() == Path("..") / "shared" / "data"


def test_reproduce_skips_a_task_naming_the_folder_from_the_environment(monkeypatch, tmp_path):
    from debinn_jax.cli import main

    monkeypatch.setenv("DEBINN_DATA_DIR", str(tmp_path))
    out = tmp_path / "out"
    code = main(
        [
            "reproduce",
            "--quick",
            "--tasks",
            "dlbcl",
            "--methods",
            "logreg",
            "--quiet",
            "--no-figures",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = (out / "summary.md").read_text()
    assert f"data not found at {tmp_path / 'dlbcl' / 'Fold-1'}" in text


def test_the_fetched_data_home_is_found_last(monkeypatch, tmp_path):
    """What `debinn data fetch` downloaded is found without --data or $DEBINN_DATA_DIR."""
    import debinn_jax.data.locate as locate

    monkeypatch.delenv("DEBINN_DATA_DIR", raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("DEBINN_DATA_HOME", str(home))
    monkeypatch.setattr(locate, "development_data_dirs", lambda: (tmp_path / "nothing",))
    assert find_data_dir() is None  # an empty data home is not a data folder
    (home / "dlbcl" / "Fold-1").mkdir(parents=True)
    assert find_data_dir() == home
    assert default_data_dir() == home  # debinn reproduce's default
