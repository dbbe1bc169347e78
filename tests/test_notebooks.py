"""The seeded notebooks run from top to bottom without error on a tiny budget."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("01_two_moons.ipynb", "02_radiomics_ga_vs_gd.ipynb", "03_population_sweep.ipynb")
NEEDS_DATA = {"02_radiomics_ga_vs_gd.ipynb": ("dlbcl", "hecktor-lite")}


def _data_dir() -> Path:
    env = os.environ.get("DEBINN_DATA_DIR")
    return Path(env) if env else NOTEBOOKS.parents[1] / "shared" / "data"


@pytest.mark.parametrize(
    "name", [NAMES[0], *(pytest.param(n, marks=pytest.mark.slow) for n in NAMES[1:])]
)
def test_notebook_runs_on_tiny_budget(name: str, tmp_path: Path, monkeypatch) -> None:
    needed = NEEDS_DATA.get(name, ())
    if needed and not any((_data_dir() / d).is_dir() for d in needed):
        pytest.skip(f"{name} needs the real data: {', '.join(needed)} not found in {_data_dir()}")
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{name}: outputs must be cleared before commit"
    )
    monkeypatch.setenv("DEBINN_NOTEBOOK_BUDGET", "tiny")
    monkeypatch.setenv("DEBINN_NOTEBOOK_OUT", str(tmp_path / "figures"))
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before  # nothing written there
    pngs = list((tmp_path / "figures").glob("*.png"))
    assert pngs, "the notebook drew no figure"
    for png in pngs:
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_executed_notebook_04_runs_on_tiny_budget(tmp_path: Path, monkeypatch) -> None:
    """04_ga_vs_gd_2025 is committed executed (its table and figures are the record); its
    code still runs on a tiny budget: the committed results file it reads, both trainers on
    the 2025 network, the decision boundaries."""
    path = NOTEBOOKS / "04_ga_vs_gd_2025.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("outputs") for c in code), "04 is committed executed (with outputs)"
    for c in code:
        c["outputs"] = []
    monkeypatch.setenv("DEBINN_NOTEBOOK_BUDGET", "tiny")
    monkeypatch.setenv("DEBINN_NOTEBOOK_OUT", str(tmp_path / "figures"))
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before
    text = "".join(
        o.get("text", "") + "".join(o.get("data", {}).get("text/markdown", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "GA − GD" in text and "honest protocol" in text
    assert (tmp_path / "figures" / "moons_2025_boundaries.png").read_bytes()[:4] == b"\x89PNG"
