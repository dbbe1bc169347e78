"""``debinn reproduce --resume``: records are saved as they finish, a partial summary shows what
is finished, and a resumed study skips them and ends with the records of an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from debinn_jax import study
from debinn_jax.cli import main
from debinn_jax.study import runs

TINY = """
[task]
name = "moons"
title = "Two-moons (tiny)"
kind = "moons"
n_samples = 60
seeds = 2

[network]
candidates = { small = [4] }
select = "small"
shift_scale = true

[network.gd]
head = "softmax"

[ga]
population_size = 8
generations = 6
early_stopping = "none"
final_subsets = 2
chunk = 3

[gd]
epochs = 6
starts = 2
patience = 3
chunk = 3

[baselines]
methods = ["logreg"]

[paper]
ga_accuracy = 1.00
gd_accuracy = 0.83
"""


def reproduce(configs: Path, out: Path, *extra: str) -> int:
    args = ["reproduce", "--quick", "--config-dir", str(configs), "--out", str(out)]
    return main([*args, "--methods", "ga,gd,logreg", "--quiet", *extra])


def records(out: Path) -> dict[tuple[str, str, int], dict]:
    results = json.loads((out / "results.json").read_text())
    return {(r["task"], r["method"], r["seed"]): r for r in results["records"]}


def without_time(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k != "train_seconds"}


def config_dir(root: Path, batch_seeds: bool = False) -> Path:
    folder = root / "configs"
    folder.mkdir()
    text = TINY.replace("[ga]\n", "[ga]\nbatch_seeds = true\n") if batch_seeds else TINY
    (folder / "moons.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return config_dir(tmp_path_factory.mktemp("study"))


@pytest.mark.parametrize("batch_seeds", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_interrupted_study_resumes_skipping_finished_records(tmp_path, monkeypatch, batch_seeds):
    configs = config_dir(tmp_path, batch_seeds)
    full_out = tmp_path / "full"
    assert reproduce(configs, full_out, "--no-figures") == 0
    full = records(full_out)
    assert set(full) == {("moons", m, s) for m in ("ga", "gd", "logreg") for s in (0, 1)}

    # the first attempt dies while GD trains seed 1 (after GA's two records and GD's first)
    real_train_gd = runs.train_gd
    calls = []

    def dying_train_gd(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train_gd(*args, **kwargs)

    monkeypatch.setattr(runs, "train_gd", dying_train_gd)
    out = tmp_path / "out"
    assert reproduce(configs, out) != 0
    monkeypatch.undo()
    partial = records(out)
    assert set(partial) == {("moons", "ga", 0), ("moons", "ga", 1), ("moons", "gd", 0)}
    summary = (out / "summary.md").read_text()
    assert (
        "status: partial" in summary and "moons gd 1/2" in summary and "moons logreg 0/2" in summary
    )
    assert f"| {study.METHOD_LABELS['ga']} |" in summary  # the finished GA row is shown
    ga_ckpt = "ga.ckpt" if batch_seeds else "ga-seed0.ckpt"
    assert (out / "checkpoints" / "moons" / ga_ckpt).exists()
    first_seconds = json.loads((out / "results.json").read_text())["meta"]["total_seconds"]

    # resumed: the finished records are kept as they were (train_seconds too), the rest run
    assert reproduce(configs, out, "--resume") == 0
    resumed = records(out)
    assert set(resumed) == set(full)
    for k in partial:
        assert resumed[k] == partial[k]
    for k in full:
        assert without_time(resumed[k]) == without_time(full[k]), k
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["status"].startswith("complete")
    assert "status: complete" in (out / "summary.md").read_text()
    # the wall time adds up over the invocations (the second one alone is not the study's)
    assert results["meta"]["total_seconds"] > first_seconds > 0
    assert "summed over the invocations" in (out / "summary.md").read_text()
    # seed 0's GA model came back from its finished checkpoint: the figures are all there
    for name in ("moons_decision_boundaries.png", "moons_training_curves.png"):
        assert (out / name).exists(), name
    assert (out / "moons_network_3d.png").exists()

    # resuming a finished study runs nothing and changes no record
    assert reproduce(configs, out, "--resume", "--no-figures") == 0
    assert records(out) == resumed


def test_resume_with_other_seeds_is_one_clear_line(configs, tmp_path, capsys):
    out = tmp_path / "out"
    assert reproduce(configs, out, "--no-figures", "--seeds", "1", "--methods", "logreg") == 0
    capsys.readouterr()
    code = reproduce(configs, out, "--no-figures", "--seeds", "2", "--resume")
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "another config or seed count for task moons" in err and "results.json" in err
    # nothing finished was lost
    assert set(records(out)) == {("moons", "logreg", 0)}


def test_resume_of_a_foreign_results_file_is_one_clear_line(configs, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"format": "something else"}')
    assert reproduce(configs, out, "--resume") == 2
    err = capsys.readouterr().err
    assert "not a results file of debinn reproduce" in err
    assert (out / "results.json").read_text() == '{"format": "something else"}'
    assert study.ResumeError.__mro__[1] is ValueError


def test_each_2025_protocol_frees_its_compiled_programs(tmp_path, monkeypatch):
    """A study trains many networks in one process; XLA on CPU maps each compiled program into
    memory; a full four-task study once died with "LLVM compilation error: Cannot allocate
    memory", the failure of a process at the kernel's map limit. Each 2025 protocol's programs
    are freed once it is done."""
    configs = tmp_path / "configs"
    configs.mkdir()
    text = TINY + '\n[ga2025]\narchitecture = "1H"\nhidden = [4]\ndata = "SYN"\nseeds = 2\n'
    (configs / "moons.toml").write_text(text, encoding="utf-8")
    events: list[str] = []

    def fake_ga2025(cfg, data, out, base, say):
        events.append("ga2025")
        return {"records": [], "settings": 0}

    monkeypatch.setattr(study, "run_ga2025", fake_ga2025)
    monkeypatch.setattr(study, "release_compiled_programs", lambda: events.append("release"))
    monkeypatch.setattr(study, "write_summary", lambda results: "")  # no real grid to report
    out = tmp_path / "out"
    assert reproduce(configs, out, "--no-figures", "--methods", "ga2025") == 0
    assert events == ["ga2025", "release"]
