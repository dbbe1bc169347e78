"""Behaviour of the reproduction study: configs, data preparation, records, statistics, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from debinn_jax import study
from debinn_jax.cli import main

REPO_CONFIGS = study.default_config_dir()

TINY = """
[task]
name = "moons"
title = "Two-moons (tiny)"
kind = "moons"
n_samples = 60
seeds = 2

[network]
candidates = { small = [4], deeper = [3, 3] }
select = "validation"
shift_scale = true

[network.gd]
head = "softmax"

[selection]
seeds = 1
population_size = 8
generations = 3

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
rf_trees = 5
mlp_max_iter = 20

[paper]
ga_accuracy = 1.00
gd_accuracy = 0.83

[quick]
task = { seeds = 2 }
network = { select = "small" }
"""

MISSING = """
[task]
name = "dlbcl"
title = "DLBCL"
kind = "fold"
path = "dlbcl/Fold-1"
standardize = false

[network]
candidates = { small = [4] }
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ config loading


@pytest.mark.parametrize("quick", [False, True])
def test_repository_configs_load(quick: bool) -> None:
    configs = study.load_configs(REPO_CONFIGS, ["moons", "dlbcl", "hecktor", "ctg"], quick=quick)
    assert [c.task.name for c in configs] == ["moons", "dlbcl", "hecktor", "ctg"]
    for c in configs:
        assert dict(c.candidates) == {
            "one-hidden": (100,),
            "block": (62, 62, 62),
            "hinton": (85, 64),
        }
        assert c.paper.ga_accuracy is not None and c.paper.gd_accuracy is not None
        assert c.ga.loss == c.gd.loss  # one loss for both trainers
        assert c.quick is quick
    moons, dlbcl, _, ctg = configs
    assert moons.task.kind == "moons" and ctg.task.kind == "table" and ctg.task.standardize
    assert dlbcl.task.fixed_split and not dlbcl.task.standardize
    if not quick:
        assert all(c.task.seeds == 10 for c in configs)
        assert all(c.select == "validation" for c in configs)


def test_quick_table_overrides_budgets(tmp_path: Path) -> None:
    path = write(tmp_path, "moons", TINY)
    full = study.load_study_config(path)
    quick = study.load_study_config(path, quick=True)
    assert full.select == "validation" and quick.select == "small"
    assert full.ga.generations == quick.ga.generations == 6
    assert full.ga.early_stopping is None  # "none" -> None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (TINY.replace("seeds = 2\n", "seeds = 2\ncolour = 'red'\n", 1), "'colour'"),
        (TINY.replace("[ga]\n", "[ga]\npopsize = 3\n"), "'popsize'"),
        (TINY + "\n[extra]\nx = 1\n", "extra"),
        (TINY.replace("[network.gd]\n", "[network.gd]\nheads = 1\n"), "'heads'"),
        (TINY.replace("network = { select", "network = { bogus = 1, select"), "'bogus'"),
    ],
)
def test_unknown_keys_are_errors_naming_key_and_file(tmp_path: Path, text: str, needle: str):
    path = write(tmp_path, "moons", text)
    with pytest.raises(study.ConfigError) as info:
        study.load_study_config(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("population_size = 8\ngenerations = 6", "population_size = 1\ngenerations = 6", "[ga]"),
        ('kind = "moons"', 'kind = "spiral"', "kind"),
        ("small = [4]", "small = [0]", "small"),
        ('select = "validation"', 'select = "huge"', "select"),
    ],
)
def test_bad_values_are_errors_naming_the_file(tmp_path: Path, old: str, new: str, needle: str):
    assert old in TINY
    path = write(tmp_path, "moons", TINY.replace(old, new, 1))
    with pytest.raises(study.ConfigError) as info:
        study.load_study_config(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_missing_config_and_unknown_task(tmp_path: Path) -> None:
    with pytest.raises(study.ConfigError, match="not found"):
        study.load_configs(tmp_path / "nowhere")
    write(tmp_path, "moons", TINY)
    with pytest.raises(study.ConfigError, match="unknown task 'spiral'"):
        study.load_configs(tmp_path, ["spiral"])
    assert main(["reproduce", "--config-dir", str(tmp_path), "--tasks", "spiral"]) == 2


# ------------------------------------------------------------------ data and statistics


def test_per_seed_splits_are_stratified_and_scaled_on_train_only(tmp_path: Path) -> None:
    cfg = study.load_study_config(write(tmp_path, "moons", TINY))
    data = study.prepare_task(cfg.task, None, [0, 1])
    s0, s1 = data.splits
    assert len(s0.y_train) == 42 and len(s0.y_test) == 18
    assert np.bincount(s0.y_test).tolist() == [9, 9]
    np.testing.assert_allclose(s0.X_train.mean(axis=0), 0.0, atol=1e-5)
    assert not np.allclose(s0.X_test.mean(axis=0), 0.0, atol=1e-3)
    assert not np.array_equal(s0.y_test, s1.y_test) or not np.array_equal(s0.X_test, s1.X_test)


def test_missing_data_names_the_expected_path(tmp_path: Path) -> None:
    cfg = study.load_study_config(write(tmp_path, "dlbcl", MISSING))
    with pytest.raises(study.DataMissing) as info:
        study.prepare_task(cfg.task, tmp_path / "data", [0])
    assert str(tmp_path / "data" / "dlbcl" / "Fold-1") in str(info.value)


def test_bootstrap_ci_is_seeded_and_brackets_the_mean() -> None:
    v = [0.7, 0.8, 0.75, 0.9, 0.85, 0.8]
    lo, hi = study.bootstrap_ci(v, seed=3)
    assert (lo, hi) == study.bootstrap_ci(v, seed=3)
    assert lo < np.mean(v) < hi and min(v) <= lo and hi <= max(v)
    assert study.bootstrap_ci([0.5]) == (0.5, 0.5)
    assert all(math.isnan(x) for x in study.bootstrap_ci([]))
    m, sd = study.mean_sd(v)
    assert m == pytest.approx(np.mean(v)) and sd == pytest.approx(np.std(v, ddof=1))


def test_verdict_states_non_reproduction_plainly() -> None:
    row = {"test_accuracy": {"mean": 0.70, "sd": 0.02, "ci95": [0.68, 0.72]}}
    ok, text = study.verdict(row, 0.80)
    assert not ok and "not reproduced" in text and "0.80" in text
    ok, text = study.verdict(
        {"test_accuracy": {"mean": 0.79, "sd": 0.0, "ci95": [0.79, 0.79]}}, 0.8
    )
    assert ok and "reproduced" in text


# ------------------------------------------------------------------ a tiny end-to-end run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("study")
    configs = root / "configs"
    write(configs, "moons", TINY)
    write(configs, "dlbcl", MISSING)
    out = root / "out"
    code = main(
        [
            "reproduce",
            "--config-dir",
            str(configs),
            "--data-dir",
            str(root),  # holds no dlbcl/ folder
            "--out",
            str(out),
            "--tasks",
            "moons,dlbcl",
        ]
    )
    return out, code


def test_run_writes_one_record_per_task_method_seed(tiny_run: tuple[Path, int]) -> None:
    out, code = tiny_run
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    records = results["records"]
    keys = {(r["task"], r["method"], r["seed"]) for r in records}
    # this moons config has no [ga2025] / [gd2025] table: the 2025 protocols do not run there
    methods = [m for m in study.METHODS if m not in ("ga2025", "gd2025")]
    assert keys == {("moons", m, s) for m in methods for s in (0, 1)}
    assert len(records) == len(keys)
    for r in records:
        for field in study.RECORD_FIELDS:
            assert field in r, field
        for field in ("test_accuracy", "test_balanced_accuracy", "test_auc", "test_ece"):
            assert 0.0 <= r[field] <= 1.0
        assert r["n_test"] == 18 and r["train_seconds"] >= 0
    ga = [r for r in records if r["method"] == "ga"]
    assert all(r["generations_or_epochs"] == 6 for r in ga)
    assert all(r["n_params"] > 0 for r in ga)
    moons = next(t for t in results["tasks"] if t["name"] == "moons")
    sel = moons["selection"]
    assert set(sel["scores"]) == {"small", "deeper"} and sel["selected"] in sel["scores"]
    assert all(r["architecture"] == sel["selected"] for r in ga)


def test_absent_task_is_skipped_with_its_path(tiny_run: tuple[Path, int]) -> None:
    out, _ = tiny_run
    results = json.loads((out / "results.json").read_text())
    dlbcl = next(t for t in results["tasks"] if t["name"] == "dlbcl")
    assert "dlbcl/Fold-1" in dlbcl["skipped"]
    assert not any(r["task"] == "dlbcl" for r in results["records"])
    summary = (out / "summary.md").read_text()
    assert "Skipped" in summary and "dlbcl/Fold-1" in summary


def test_summary_and_figures(tiny_run: tuple[Path, int]) -> None:
    out, _ = tiny_run
    summary = (out / "summary.md").read_text()
    assert "± " in summary and "95 % CI" in summary and "1.00" in summary
    assert "Where the GA does (not) reproduce the paper" in summary
    for name in (
        "moons_decision_boundaries.png",
        "moons_training_curves.png",
        "moons_network_3d.png",
    ):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_quick_run_on_reduced_budget(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    configs = tmp_path / "configs"
    write(configs, "moons", TINY)
    out = tmp_path / "out"
    args = ["reproduce", "--quick", "--config-dir", str(configs), "--out", str(out)]
    args += ["--seeds", "1", "--methods", "ga,logreg", "--no-figures"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "[moons] ga" in printed and "[moons] logreg" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["quick"] is True
    assert {(r["method"], r["seed"]) for r in results["records"]} == {("ga", 0), ("logreg", 0)}
    assert "--quick" in (out / "summary.md").read_text()
