"""Two ``debinn grid`` runs into one output folder (issue 27, point 1): both keep their records,
no column is trained twice, a run waits for the columns another live run trains (or, with
``--no-wait``, refuses naming it), a restart is refused while another run trains there, and a
dead run's claim is dropped.

Other processes are real subprocesses where the test needs two at once; elsewhere a "live
process" is simulated by a claim file this test holds the ``flock`` of (exactly what a live
process does), with another pid and host in it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_grid import cli, column, write_fold, write_settings

from debinn_jax.execution.lock import (
    CLAIMS_DIR,
    LOCK_FILE,
    FolderBusy,
    Holder,
    current_holder,
    folder_lock,
)

QUICK = {"Optimizer__IterationCount": "3"}
# long enough that the other process finishes first, short enough for the default suite
LONG = {"Optimizer__IterationCount": "1500", "Regularizer__EarlyStopping": "FALSE"}
OTHER = Holder(999999, "otherhost", "2026-12-07 09:00:00", "debinn grid x --only S1")


@pytest.fixture
def grid(tmp_path):
    fold = write_fold(tmp_path / "Fold-1")
    cols = {f"Q-S{i}": column(i, **QUICK) for i in (1, 3, 5, 7, 9)}
    cols.update({f"L-S{i}": column(i, **LONG) for i in (1, 3)})
    settings = write_settings(tmp_path / "executionSettings.csv", cols)
    return settings, fold, tmp_path / "out"


def _names(out: Path) -> list[str]:
    return sorted(r["name"] for r in json.loads((out / "results.json").read_text())["records"])


def _trained(text: str) -> int:
    return int(re.search(r"\((\d+) trained in this session\)", text).group(1))


def test_two_processes_on_different_column_sets_keep_both_and_train_nothing_twice(grid):
    settings, fold, out = grid
    base = [sys.executable, "-m", "debinn_jax.cli", "grid", str(settings), "--data", str(fold)]
    base += ["--out", str(out)]
    a = subprocess.Popen(
        [*base, "--only", "L-S1,L-S3,Q-S9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    b = subprocess.Popen(
        [*base, "--only", "Q-S5,Q-S7,Q-S9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    (out_a, err_a), (out_b, err_b) = a.communicate(timeout=600), b.communicate(timeout=600)
    assert a.returncode == 0, err_a.decode()
    assert b.returncode == 0, err_b.decode()
    assert _names(out) == ["L-S1", "L-S3", "Q-S5", "Q-S7", "Q-S9"]
    # Q-S9, asked for by both, was trained by one of them
    assert _trained(out_a.decode()) + _trained(out_b.decode()) == 5
    assert not list((out / CLAIMS_DIR).glob("*.json"))  # both withdrew their claims
    summary = (out / "summary.csv").read_text().splitlines()
    assert len(summary) == 6  # header + 5 settings


def _hold_claim(out: Path, holder: Holder, runs: list[list[str]]) -> int:
    """Claim ``runs`` as a live process ``holder`` would: a claim file whose flock is held."""
    (out / CLAIMS_DIR).mkdir(parents=True, exist_ok=True)
    path = out / CLAIMS_DIR / f"{holder.host}-{holder.pid}.json"
    path.write_text(json.dumps({**holder.__dict__, "runs": runs}))
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_no_wait_refuses_naming_the_process_that_trains_the_column(grid):
    settings, fold, out = grid
    fd = _hold_claim(out, OTHER, [["Q-S1", "Fold-1"]])
    try:
        code, _, err = cli(
            "grid", settings, "--data", fold, "--out", out, "--only", "Q-S1,Q-S3", "--no-wait"
        )
    finally:
        os.close(fd)
    assert code == 2
    assert err.strip().splitlines() == [
        f"debinn grid: error: {out}: 1 run of those asked for is being trained by pid 999999 "
        "on otherhost, started 2026-12-07 09:00:00 (debinn grid x --only S1); wait for it, or "
        "leave out --no-wait"
    ]
    assert not (out / "results.json").exists()  # nothing trained


def test_restart_is_refused_while_another_process_trains_there(grid):
    settings, fold, out = grid
    fd = _hold_claim(out, OTHER, [["Q-S1", "Fold-1"]])
    try:
        code, _, err = cli(
            "grid", settings, "--data", fold, "--out", out, "--only", "Q-S3", "--restart"
        )
    finally:
        os.close(fd)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "1 run is being trained there by pid 999999 on otherhost" in err
    assert "a restart would discard them" in err


def test_the_claim_of_a_process_that_died_is_dropped(grid):
    settings, fold, out = grid
    (out / CLAIMS_DIR).mkdir(parents=True)
    stale = out / CLAIMS_DIR / "otherhost-999999.json"
    stale.write_text(json.dumps({**OTHER.__dict__, "runs": [["Q-S1", "Fold-1"]]}))  # no lock
    code, text, err = cli("grid", settings, "--data", fold, "--out", out, "--only", "Q-S1")
    assert code == 0, err
    assert _trained(text) == 1 and _names(out) == ["Q-S1"]
    assert not stale.exists()


def test_a_run_waits_for_the_columns_another_process_trains(grid, tmp_path):
    """Q-S1 is claimed by a live process; the run trains Q-S3, says whom it waits for, and
    takes Q-S1's record from the folder once that process has merged it."""
    from debinn_jax.data import load_fold
    from debinn_jax.execution import grid_runs, precision, read_execution_settings, run_grid

    settings, fold, out = grid
    elsewhere = tmp_path / "elsewhere"
    assert cli("grid", settings, "--data", fold, "--out", elsewhere, "--only", "Q-S1")[0] == 0
    theirs = json.loads((elsewhere / "results.json").read_text())
    out.mkdir()
    fd = _hold_claim(out, OTHER, [["Q-S1", "Fold-1"]])

    def other_process_finishes() -> None:
        time.sleep(1.0)
        with folder_lock(out, OTHER):  # merges its record, as debinn grid does
            path = out / "results.json"
            doc = json.loads(path.read_text()) if path.is_file() else theirs
            doc["records"] = [
                *theirs["records"],
                *(r for r in doc["records"] if r["name"] != "Q-S1"),
            ]
            path.write_text(json.dumps(doc))
            (out / CLAIMS_DIR / "otherhost-999999.json").unlink()
        os.close(fd)

    runs = [
        r for r in grid_runs(read_execution_settings(settings), 3, 2) if r.name in ("Q-S1", "Q-S3")
    ]
    lines: list[str] = []
    thread = threading.Thread(target=other_process_finishes)
    thread.start()
    try:
        with precision("float64"):
            result = run_grid(
                runs, [("Fold-1", load_fold(fold))], out=out, progress=lines.append, poll=0.1
            )
    finally:
        thread.join()
    assert [r["name"] for r in result.trained] == ["Q-S3"]
    assert result.timing["phases"]["waiting"] > 0  # not counted as host work
    assert sorted(r["name"] for r in result.records) == ["Q-S1", "Q-S3"]
    assert (
        "waiting for 1 run (Q-S1) trained by pid 999999 on otherhost, started "
        "2026-12-07 09:00:00 (debinn grid x --only S1)" in lines
    )
    assert _names(out) == ["Q-S1", "Q-S3"]


def test_the_folder_lock_names_its_holder_when_it_gives_up(tmp_path):
    with folder_lock(tmp_path, OTHER):
        lines: list[str] = []
        with pytest.raises(FolderBusy) as err:  # noqa: SIM117 - the outer lock is the holder
            with folder_lock(
                tmp_path, current_holder("me"), timeout=0.3, notify=lines.append, notify_after=0.1
            ):
                pass
    assert str(err.value) == (
        f"{tmp_path}: locked for more than 0.3 s by pid 999999 on otherhost, started "
        f"2026-12-07 09:00:00 (debinn grid x --only S1); if that process is gone, delete "
        f"{tmp_path / LOCK_FILE}"
    )
    assert lines == [
        f"waiting for the lock on {tmp_path}, held by pid 999999 on otherhost, started "
        "2026-12-07 09:00:00 (debinn grid x --only S1)"
    ]
    with folder_lock(tmp_path, current_holder("me"), timeout=0.3):  # free again
        pass
