"""The GD sweep on the 2025 network in the study (debinn_jax.study.gd2025): its two protocols on
tiny inputs, the paired GA-vs-GD statistics and the like-for-like table, the [gd2025] table."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from debinn_jax import study
from debinn_jax.study.gd2025 import GD_PROTOCOL_METHODS, GDProtocolConfig, gd_protocols
from debinn_jax.study.grid import RERUN_INDEX
from debinn_jax.study.report import comparisons_2025, like_for_like_table, paired_comparison

TINY = GDProtocolConfig(
    architecture="Tiny",
    hidden=(4,),
    data="SYN",
    settings=4,  # settings 1-4: no shift-scale genes, one compiled program
    epochs=(8,),
    patience=(4,),
    starts=(2,),
    seeds=2,
    batch=4,
)


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3).astype(np.int32)
    centres = np.array([[1.0, 0.4, -0.5], [-0.8, 0.9, 0.3], [0.1, -1.0, 0.9]])
    return (rng.normal(0.0, 0.5, (n, 3)) + centres[y]).astype(np.float32), y


def _splits(flip_test: bool = False):
    train, test = _data(30, 0), _data(15, 1)
    if flip_test:
        test = (test[0], (test[1] + 1) % 3)
    X, y = train
    return train, test, (X[:21], y[:21]), (X[21:], y[21:])


@pytest.fixture(scope="module")
def protocols(tmp_path_factory):
    out = tmp_path_factory.mktemp("gd_protocols")
    train, test, inner, val = _splits()
    records, details = gd_protocols(TINY, train, test, inner, val, out=out, base={"task": "t"})
    return out, records, details


def test_gd_protocol_records(protocols):
    _, records, details = protocols
    methods = [r["method"] for r in records]
    assert methods.count("gd2025_grid_max") == 1
    assert methods.count("gd2025_test_picked") == 2 and methods.count("gd2025_val_picked") == 2
    for r in records:
        assert r["method"] in GD_PROTOCOL_METHODS and r["task"] == "t"
        assert 0.0 <= r["test_balanced_accuracy"] <= 1.0
        assert set(study.RECORD_FIELDS) - {"architecture", "hidden", "n_train", "n_test"} <= set(r)
    top = next(r for r in records if r["method"] == "gd2025_grid_max")
    assert top["test_balanced_accuracy"] == max(details["grid_test_bacc"].values())
    assert top["setting"] == details["test_picked"]
    best_val = max(details["grid_validation_bacc"].values())
    assert details["grid_validation_bacc"][details["val_picked"]] == best_val
    for method, pick in (
        ("gd2025_test_picked", details["test_picked"]),
        ("gd2025_val_picked", details["val_picked"]),
    ):
        assert {r["setting"] for r in records if r["method"] == method} == {pick}
        assert [r["seed"] for r in records if r["method"] == method] == [0, 1]
    assert details["settings"] == 4 and details["n_validation"] == 9
    assert details["val_picked_values"]["optimizer"] in ("adam", "lion") or details[
        "val_picked_values"
    ]["optimizer"].startswith("sgd")
    assert details["start_epochs"]["grid-test"] > 0


def test_gd_reruns_use_the_ga_rerun_keys(protocols):
    out, _, _ = protocols
    reruns = json.loads((out / "reruns" / "results.json").read_text())["records"]
    assert all(r["index"] >= RERUN_INDEX and r["index"] % RERUN_INDEX in (0, 1) for r in reruns)
    grid = json.loads((out / "grid-test" / "results.json").read_text())
    assert {r["index"] for r in grid["records"]} == {0, 1, 2, 3}
    assert grid["design"]["settings"] == 4 and grid["format"] == "debinn-gd-grid"


def test_gd_protocols_resume_from_their_output(protocols):
    out, records, _ = protocols
    train, test, inner, val = _splits()
    again, details = gd_protocols(TINY, train, test, inner, val, out=out, base={"task": "t"})
    assert again == records
    assert details["seconds"]["grid-test"] < 2.0  # nothing trained again


@pytest.mark.slow  # a second protocol run
def test_gd_honest_pick_never_reads_test_labels(protocols, tmp_path):
    _, _, details = protocols
    train, test, inner, val = _splits(flip_test=True)
    _, flipped = gd_protocols(TINY, train, test, inner, val, out=tmp_path)
    assert flipped["grid_validation_bacc"] == details["grid_validation_bacc"]
    assert flipped["val_picked"] == details["val_picked"]
    assert flipped["grid_test_bacc"] != details["grid_test_bacc"]


# --------------------------------------------------------------------------------------------
# paired statistics and the like-for-like table


def _recs(method: str, values: list[float], task: str = "t") -> list[dict]:
    return [
        {"task": task, "method": method, "seed": s, "test_balanced_accuracy": v}
        for s, v in enumerate(values)
    ]


def test_paired_comparison_pairs_by_seed():
    ga = _recs("ga2025_val_picked", [0.8, 0.7, 0.9, 0.75, 0.85])
    gd = _recs("gd2025_val_picked", [0.7, 0.7, 0.6, 0.65, 0.8])
    c = paired_comparison(ga, list(reversed(gd)))  # order does not matter, seeds do
    d = np.array([0.1, 0.0, 0.3, 0.1, 0.05])
    assert c["n"] == 5 and c["mean"] == pytest.approx(d.mean())
    assert c["sd"] == pytest.approx(d.std(ddof=1))
    lo, hi = c["ci95"]
    assert lo <= d.mean() <= hi and lo >= 0.0
    from scipy.stats import wilcoxon

    assert c["wilcoxon_p"] == pytest.approx(wilcoxon(d).pvalue)
    same = paired_comparison(ga, ga)
    assert same["mean"] == 0.0 and same["wilcoxon_p"] == 1.0
    assert math.isnan(paired_comparison(ga, [])["wilcoxon_p"])
    only_two = paired_comparison(ga, gd[:2])
    assert only_two["n"] == 2 and only_two["seeds"] == [0, 1]


def test_comparisons_and_table_label_the_authors_protocol():
    records = (
        _recs("ga2025_grid_max", [0.85])
        + _recs("gd2025_grid_max", [0.80])
        + _recs("ga2025_val_picked", [0.7, 0.72, 0.69])
        + _recs("gd2025_val_picked", [0.71, 0.70, 0.72])
    )
    for r in records:
        r.update(test_accuracy=r["test_balanced_accuracy"], n_params=10, architecture="a")
    comps = comparisons_2025(records)
    assert [c["protocol"] for c in comps] == ["grid_max", "val_picked"]
    results = {
        "meta": {"bootstrap_seed": 0},
        "tasks": [{"name": "t", "title": "Tee", "paper": {"ga_accuracy": 0.8, "gd_accuracy": 0.6}}],
        "summary": study.summarize(records),
        "comparisons_2025": comps,
    }
    text = "\n".join(like_for_like_table(results))
    assert "authors' protocol: best of the grid on test (1 run; optimistic)" in text
    assert "honest protocol" in text and "+0.050" in text and "0.80 / 0.60" in text
    assert like_for_like_table({**results, "summary": study.summarize(records[:1])}) == []


# --------------------------------------------------------------------------------------------
# the [gd2025] table


def _config(tmp_path: Path, extra: str) -> Path:
    p = tmp_path / "syn.toml"
    p.write_text(
        '[task]\nname = "syn"\ntitle = "Syn"\nkind = "moons"\n\n'
        "[network]\ncandidates = { one = [4] }\n\n"
        '[ga2025]\narchitecture = "1H"\nhidden = [10]\ndata = "SYN"\nseeds = 3\n'
        "validation_size = 0.25\n\n" + extra
    )
    return p


def test_study_config_reads_gd2025(tmp_path):
    p = _config(
        tmp_path,
        "[gd2025]\nsettings = 16\nepochs = [50, 100]\n\n"
        "[quick]\ngd2025 = { settings = 2, epochs = [5] }\n",
    )
    full = study.load_study_config(p)
    g = full.gd2025
    assert g.hidden == (10,) and g.architecture == "1H" and g.seeds == 3
    assert g.validation_size == 0.25 and g.settings == 16 and g.epochs == (50, 100)
    quick = study.load_study_config(p, quick=True)
    assert quick.gd2025.settings == 2 and quick.gd2025.epochs == (5,)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("[gd2025]\nseeds = 2\n", r"unknown \[gd2025\] setting 'seeds'"),
        ("[gd2025]\nprecision = 'half'\n", "precision"),
        ("[gd2025]\nepochs = []\n", "epochs"),
        ("[gd2025]\nlearning_rate = [0.1, 0.01]\n", "low <= high"),
    ],
)
def test_study_config_gd2025_errors(tmp_path, extra, match):
    with pytest.raises(study.ConfigError, match=match):
        study.load_study_config(_config(tmp_path, extra))


def test_gd2025_needs_ga2025(tmp_path):
    p = tmp_path / "syn.toml"
    p.write_text(
        '[task]\nname = "syn"\ntitle = "Syn"\nkind = "moons"\n\n'
        "[network]\ncandidates = { one = [4] }\n\n[gd2025]\nsettings = 4\n"
    )
    with pytest.raises(study.ConfigError, match=r"\[gd2025\] needs a \[ga2025\]"):
        study.load_study_config(p)


def test_repository_configs_run_both_trainers_on_every_task():
    configs = {c.task.name: c for c in study.load_configs(study.default_config_dir())}
    for name in ("moons", "dlbcl", "hecktor", "ctg"):
        c = configs[name]
        assert c.ga2025 is not None and c.gd2025 is not None
        assert c.gd2025.hidden == c.ga2025.hidden and c.gd2025.seeds == c.ga2025.seeds
        assert c.gd2025.validation_size == c.ga2025.validation_size
    assert configs["dlbcl"].gd2025.settings == 128 and configs["hecktor"].gd2025.settings == 128
    assert len(configs["ctg"].ga2025.numbers) == 64  # the distinct settings (no DropConnect)
    assert all(((n - 1) >> 4) & 1 == 0 for n in configs["ctg"].ga2025.numbers)


def test_gd_protocol_config_errors_name_the_key():
    with pytest.raises(ValueError, match="settings"):
        dataclasses.replace(TINY, settings=0)
    with pytest.raises(ValueError, match="starts"):
        dataclasses.replace(TINY, starts=(0,))
