"""Execute the notebooks and store them with their outputs.

Every ``notebooks/*.ipynb`` is run top to bottom in a fresh kernel (working directory
``notebooks/``) and written back with its outputs. Its metadata then records, under
``"debinn"``, the SHA-256 of its code cells (:func:`code_sha256`), the budget, the date, the run
time and the versions. The default test suite checks that the stored hash equals the current
code, that every code cell has run in order and that no cell raised an error
(``tests/test_notebooks.py``); so a notebook whose code changes must be run again here.

Usage::

    python notebooks/run.py                        # every notebook, full budget
    python notebooks/run.py 03_population_sweep    # one (with or without .ipynb)
    python notebooks/run.py --budget tiny NAME     # a smoke run (not for committing)

Data: the notebooks find the datasets through ``DEBINN_DATA_DIR`` or the folder that
``debinn data fetch`` downloads into; one that lacks its data says so and skips its work.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUDGETS = ("full", "tiny")


def notebooks() -> list[Path]:
    """Every notebook in this folder, by name."""
    return sorted(HERE.glob("*.ipynb"))


def code_sha256(nb: dict) -> str:
    """SHA-256 of the notebook's code cells' sources, in order (outputs and markdown aside)."""
    sources = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = cell["source"]
            sources.append(src if isinstance(src, str) else "".join(src))
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def _versions() -> dict[str, str]:
    import jax

    import debinn_jax

    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "debinn_jax": debinn_jax.__version__,
        "backend": jax.default_backend(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }


def execute(path: Path, budget: str = "full", timeout: int = 3600) -> float:
    """Run ``path`` in place and store it with its outputs; returns the run time in seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["DEBINN_NOTEBOOK_BUDGET"] = budget
    os.environ.pop("DEBINN_NOTEBOOK_OUT", None)  # figures go to a scratch folder
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(HERE)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata["debinn"] = {
        "code_sha256": code_sha256(nb),
        "budget": budget,
        "executed": datetime.date.today().isoformat(),
        "seconds": round(seconds, 1),
        **_versions(),
    }
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--budget", choices=BUDGETS, default="full")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args(argv)
    known = {p.stem: p for p in notebooks()}
    names = [n.removesuffix(".ipynb") for n in args.names] or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown notebook(s) {unknown}; known: {sorted(known)}")
    for name in names:
        print(f"{name}: running ({args.budget} budget) ...", flush=True)
        seconds = execute(known[name], args.budget, args.timeout)
        print(f"{name}: stored with outputs ({seconds:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
