"""A regular (non-editable) install works from any directory: the study's configs travel with
the package, and ``debinn reproduce --quick`` runs from outside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.skip(f"pip could not build the package (offline?): {proc.stderr.strip()[-300:]}")
    return target


def test_configs_are_package_data(installed):
    configs = sorted(
        p.name for p in (installed / "debinn_jax" / "study" / "configs").glob("*.toml")
    )
    assert configs == ["ctg.toml", "dlbcl.toml", "hecktor.toml", "moons.toml"]


def test_reproduce_quick_from_another_directory(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DEBINN_DATA_DIR"}
    env["PYTHONPATH"] = str(installed)
    code = (
        "import sys, debinn_jax; from debinn_jax.cli import main; "
        "print('PKG', debinn_jax.__file__); sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "reproduce",
            "--quick",
            "--methods",
            "logreg",
            "--no-figures",
            "--quiet",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"PKG {installed}" in proc.stdout  # the installed copy, not the checkout
    results = json.loads((out / "results.json").read_text())
    assert [t["name"] for t in results["tasks"]] == ["moons"]
    assert results["meta"]["configs"][0].startswith(str(installed))
    assert {r["method"] for r in results["records"]} == {"logreg"}
