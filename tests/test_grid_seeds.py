"""experiments/grid_seeds.py: grouping several seeds' grid runs and their medians' spread."""

from __future__ import annotations

import numpy as np
import pytest
from _shared import experiment_script


@pytest.fixture(scope="module")
def gs():
    return experiment_script("grid_seeds")


def _doc(seed: int, values, keys: str = "shared", dtype: str = "float32") -> dict:
    return {
        "seed": seed,
        "keys": keys,
        "dtype": dtype,
        "records": [{"test": {"BACC": float(v)}} for v in values],
    }


def test_groups_complete_grids_by_protocol_and_precision(gs):
    base = np.linspace(0.5, 0.9, 128)
    docs = [
        ("G", _doc(1, base)),
        ("G", _doc(2, base + 0.01)),
        ("G", _doc(1, base, keys="per-column")),
        ("G", _doc(3, base[:64])),  # interrupted: not a grid median
        ("G", _doc(1, base, dtype="float64")),
        ("G", {k: v for k, v in _doc(4, base).items() if k != "keys"}),  # old files: per-column
    ]
    groups = gs.group_runs(docs)
    assert set(groups) == {
        ("G", "shared", "float32"),
        ("G", "per-column", "float32"),
        ("G", "shared", "float64"),
    }
    assert groups[("G", "shared", "float32")] == pytest.approx({1: 0.7, 2: 0.71})
    assert set(groups[("G", "per-column", "float32")]) == {1, 4}
    # files from before the precision was recorded
    old = {k: v for k, v in _doc(5, base).items() if k not in ("keys", "dtype")}
    assert gs.group_runs([("G", old)]) == {("G", "per-column", "unrecorded"): {5: 0.7}}
    assert ("G", "per-column", "float32") in gs.group_runs([("G", old)], "float32")


def test_the_same_seed_twice_must_be_the_same_run(gs):
    base = np.linspace(0.5, 0.9, 128)
    assert len(gs.group_runs([("G", _doc(1, base)), ("G", _doc(1, base))])) == 1
    with pytest.raises(ValueError, match="seed 1"):
        gs.group_runs([("G", _doc(1, base)), ("G", _doc(1, base + 0.02))])


def test_spread(gs):
    s = gs.spread([0.70, 0.71, 0.72])
    assert s["mean"] == pytest.approx(0.71)
    assert s["sd"] == pytest.approx(0.01)
    assert s["range"] == pytest.approx(0.02)
    assert np.isnan(gs.spread([0.7])["sd"])
