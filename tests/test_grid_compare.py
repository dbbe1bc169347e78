"""experiments/grid_compare.py: the DropConnect pairing of the authors' grids and the bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from _shared import experiment_script


@pytest.fixture(scope="module")
def gc():
    return experiment_script("grid_compare")


def test_dropconnect_pairs_differ_only_in_bit_4(gc):
    # S - 1 = 4 (group normalisation) and 20 (the same plus DropConnect) share a pair
    assert gc.dropconnect_pair("HECKTOR-3H-Hinton-S5") == gc.dropconnect_pair("X-S21") == 4
    assert gc.dropconnect_pair("X-S37") == 36  # bit 5 (L2) is another setting
    assert gc.dropconnect_pair("X-S128") == gc.dropconnect_pair("X-S112") == 111
    pairs = {gc.dropconnect_pair(f"X-S{s}") for s in range(1, 129)}
    assert len(pairs) == 64


def test_identical_pairs_counts_equal_results(gc):
    values = {"X-S1": 0.7, "X-S17": 0.7, "X-S2": 0.6, "X-S18": 0.65, "X-S3": 0.5}
    assert gc.identical_pairs(values) == (1, 2)  # S3 has no partner


def test_cluster_bootstrap_counts_duplicated_runs_once(gc):
    rng = np.random.default_rng(1)
    keys = [f"X-S{s}" for s in range(1, 129)]
    pair = np.array([gc.dropconnect_pair(k) for k in keys])
    ours = rng.normal(0.7, 0.08, 128)  # 128 independent runs
    distinct = {p: v for p, v in zip(range(128), rng.normal(0.7, 0.08, 128))}
    theirs = np.array([distinct[p] for p in pair])  # 64 runs, each reported twice
    naive = gc.median_gap_interval(ours, theirs)
    clustered = gc.median_gap_interval(ours, theirs, clusters=pair)
    gap = np.median(ours) - np.median(theirs)
    assert naive[0] < gap < naive[1] and clustered[0] < gap < clustered[1]
    # 64 distinct values carry less information than 128: the honest interval is wider
    assert clustered[1] - clustered[0] > 1.1 * (naive[1] - naive[0])
    # seeded: the same numbers every time
    assert gc.median_gap_interval(ours, theirs, clusters=pair) == clustered


def test_predicted_class1_share_from_the_metrics(gc):
    # a test split of 19 class-0 and 55 class-1 cases; runs given as confusion counts
    n0, n1 = 19, 55
    tp = np.array([30, 55, 0, 41, 12])  # class-1 cases predicted 1
    tn = np.array([18, 0, 19, 10, 19])  # class-0 cases predicted 0
    sns, spc = tp / n1, tn / n0
    acc = (tp + tn) / (n0 + n1)
    rates = np.stack([sns, spc, acc], axis=1)
    prevalence = gc.split_prevalence(rates)
    assert prevalence == pytest.approx(n1 / (n0 + n1))
    share = gc.predicted_class1_share(rates, prevalence)
    np.testing.assert_allclose(share, (tp + (n0 - tn)) / (n0 + n1))
    # runs with SNS == SPC say nothing about the class shares
    with pytest.raises(ValueError, match="class shares"):
        gc.split_prevalence(np.array([[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]]))


def test_switch_gaps_split_the_settings_by_bit(gc):
    keys = [f"X-S{s}" for s in range(1, 129)]
    theirs = {k: 0.7 for k in keys}
    # ours is 0.1 lower exactly where group normalisation (bit 2 of S - 1) is on
    ours = {k: 0.6 if (gc.setting_number(k) - 1) & 4 else 0.7 for k in keys}
    gaps = gc.switch_gaps(ours, theirs)
    assert gaps["group norm"] == pytest.approx([-0.1, 0.0])
    # every other switch splits the group-normalised settings evenly: half of each side is low
    assert gaps["L1"] == pytest.approx([-0.05, -0.05])
    assert set(gaps) == {"shift-scale", "standardisation", "group norm", "spatial dropout",
                         "L2", "L1"}  # fmt: skip
