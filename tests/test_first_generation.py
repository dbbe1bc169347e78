"""experiments/first_generation.py: where the authors' first generation lies among our seeds."""

from __future__ import annotations

import numpy as np
import pytest
from _shared import experiment_script


@pytest.fixture(scope="module")
def fg():
    return experiment_script("first_generation")


def test_tail_fractions_count_the_joint_tail(fg):
    entries = np.array([5, 11, 12, 20])
    tolerance = np.array([0.0300, 0.0290, 0.0280, 0.0295])
    out = fg.tail_fractions(entries, tolerance, at_most=11, below=0.0295)
    # entries <= 11: runs 0, 1; tolerance <= 0.0295: runs 1, 2, 3; both: run 1
    assert out == {"entries": 0.5, "tolerance": 0.75, "both": 0.25}
