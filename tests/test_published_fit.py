"""experiments/published_fit.py: the authors' published runs among ours."""

from __future__ import annotations

import numpy as np
import pytest
from _shared import experiment_script


@pytest.fixture(scope="module")
def pf():
    return experiment_script("published_fit")


def test_share_counts_ties_and_direction(pf):
    ours = np.array([0.20, 0.25, 0.30, 0.25 + 1e-14])
    # lower is better: 0.20 beats 0.25, and 0.25 (twice, once up to rounding) ties it
    assert pf.share_at_least_as_good(ours, 0.25, lower_is_better=True) == 0.75
    # higher is better: 0.30 beats it, the two ties count
    assert pf.share_at_least_as_good(ours, 0.25, lower_is_better=False) == 0.75
    assert pf.share_at_least_as_good(ours, 0.31, lower_is_better=False) == 0.0


def test_trace_summary_skips_the_initial_network(pf):
    history = {
        "hof_entries": np.array([1, 8, 0, 0, 2, 0]),
        "tolerance": np.array([0.03, 0.022, 0.022, 0.022, 0.015, 0.015]),
    }
    out = pf.hall_of_fame_trace(history)
    assert out == {
        "entries": 10,
        "entry_generations": 2,
        "last_entry": 4,
        "final_tolerance": 0.015,
    }
    none = pf.hall_of_fame_trace({"hof_entries": np.array([1, 0, 0]), "tolerance": np.ones(3)})
    assert none["entries"] == 0 and none["last_entry"] == 0
