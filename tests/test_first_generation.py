"""experiments/first_generation.py: where the authors' first generation lies among our seeds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "first_generation.py"


@pytest.fixture(scope="module")
def fg():
    spec = importlib.util.spec_from_file_location("first_generation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tail_fractions_count_the_joint_tail(fg):
    entries = np.array([5, 11, 12, 20])
    tolerance = np.array([0.0300, 0.0290, 0.0280, 0.0295])
    out = fg.tail_fractions(entries, tolerance, at_most=11, below=0.0295)
    # entries <= 11: runs 0, 1; tolerance <= 0.0295: runs 1, 2, 3; both: run 1
    assert out == {"entries": 0.5, "tolerance": 0.75, "both": 0.25}
