"""The notebooks: committed with current outputs, and runnable from top to bottom.

The default suite checks the committed files without running them: every notebook was
executed by ``notebooks/run.py`` after its last code change (the SHA-256 of its code cells
stored in its metadata equals the current one), every code cell ran, in order, and none
raised an error. Executing them (on a tiny budget) is slow, except for the first notebook.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
#: Notebooks that skip their work (and draw nothing) without the real datasets.
NEED_DATA = {"02_radiomics_ga_vs_gd.ipynb", "05_replay.ipynb"}
#: Notebooks committed at a smaller budget than "full", with the reason (see notebooks/run.py).
SMALLER_BUDGET: dict[str, str] = {}
#: Text that must not appear in a notebook: paths of the development machine.
FORBIDDEN = ("../shared", "shared/data", "shared/reference", "/work/", "/home/", "/root/")


def _runner():
    spec = importlib.util.spec_from_file_location("notebook_runner", NOTEBOOKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / name).read_text())


def test_every_notebook_is_found() -> None:
    assert "01_two_moons.ipynb" in NAMES and len(NAMES) >= 3


@pytest.mark.parametrize("name", NAMES)
def test_committed_outputs_are_current(name: str) -> None:
    nb = _load(name)
    meta = nb["metadata"].get("debinn")
    assert meta, f"{name} has no stored outputs: run `python notebooks/run.py {name}`"
    assert meta["code_sha256"] == _runner().code_sha256(nb), (
        f"{name}: its code changed after its outputs were stored: "
        f"run `python notebooks/run.py {name}` and commit the result"
    )
    assert meta["budget"] == "full" or name in SMALLER_BUDGET, (
        f"{name} was stored at budget {meta['budget']!r}; commit it at the full budget or "
        "document the smaller one in SMALLER_BUDGET"
    )
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name}: cells not run in order: {counts}"
    for i, cell in enumerate(code):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{name}: code cell {i + 1} raised an error"
            if out["output_type"] == "stream":
                assert "Traceback" not in "".join(out["text"]), f"{name}: cell {i + 1}"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_names_no_path_of_the_development_machine(name: str) -> None:
    text = (NOTEBOOKS / name).read_text()
    found = [s for s in FORBIDDEN if s in text]
    assert not found, f"{name} mentions {found}: notebooks find data via DEBINN_DATA_DIR"


def test_code_hash_follows_the_code_not_the_outputs() -> None:
    runner = _runner()
    nb = _load(NAMES[0])
    base = runner.code_sha256(nb)
    other = copy.deepcopy(nb)
    for cell in other["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell["source"] = "changed text"
    assert runner.code_sha256(other) == base
    code = next(c for c in other["cells"] if c["cell_type"] == "code")
    code["source"] = "".join(code["source"]) + "\n# changed"
    assert runner.code_sha256(other) != base


@pytest.mark.parametrize(
    "name", [NAMES[0], *(pytest.param(n, marks=pytest.mark.slow) for n in NAMES[1:])]
)
def test_notebook_runs_on_tiny_budget(name: str, tmp_path: Path, monkeypatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    monkeypatch.setenv("DEBINN_NOTEBOOK_BUDGET", "tiny")
    monkeypatch.setenv("DEBINN_NOTEBOOK_OUT", str(tmp_path / "figures"))
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before  # nothing written there
    pngs = list((tmp_path / "figures").glob("*.png"))
    if name not in NEED_DATA:
        assert pngs, "the notebook drew no figure"
    for png in pngs:
        assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_executed_notebook_04_runs_on_tiny_budget(tmp_path: Path, monkeypatch) -> None:
    """04_ga_vs_gd_2025 is committed executed (its table and figures are the record); its
    code still runs on a tiny budget and shows what it is for: the like-for-like table read
    from the committed results file, both trainers on the 2025 network, the decision
    boundaries."""
    import nbformat
    from nbclient import NotebookClient

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


def test_notebook_02_without_data_says_what_to_fetch(tmp_path: Path, monkeypatch) -> None:
    """Without any data, notebook 02 runs to its end and names the command that fetches it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / "02_radiomics_ga_vs_gd.ipynb", as_version=4)
    monkeypatch.setenv("DEBINN_NOTEBOOK_BUDGET", "tiny")
    monkeypatch.setenv("DEBINN_NOTEBOOK_OUT", str(tmp_path / "figures"))
    monkeypatch.setenv("DEBINN_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("DEBINN_DATA_HOME", str(tmp_path / "empty-home"))
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    printed = "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert "dlbcl: not found, skipped. Fetch it with `debinn data fetch dlbcl`" in printed
    assert "nothing trained" in printed
