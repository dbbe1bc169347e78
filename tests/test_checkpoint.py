"""Checkpoint and resume (debinn_jax.checkpoint): train_ga, run_many and train_gd resumed from
a checkpoint end bit-identical to uninterrupted runs; foreign, damaged and half-written
checkpoints."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from _shared import two_processes_and_one

from debinn_jax import checkpoint as ckpt

REPO = Path(__file__).resolve().parents[1]

# The tiny problems, shared by this process and the subprocesses of the SIGKILL tests.
PROBLEMS = r'''
import time
import jax
import numpy as np
from debinn_jax import GAConfig, NetworkSpec, make_moons_dataset
from debinn_jax.ga import train_ga
from debinn_jax.gd import GDConfig, train_gd
from debinn_jax.sweep import run_many

DATA = make_moons_dataset(30, seed=0)
SPEC = NetworkSpec(2, (4,), 2)
GA = GAConfig(population_size=8, generations=40, chunk=5, early_stopping=None)
GD = GDConfig(epochs=60, chunk=5, starts=3, patience=None, batch_size=8)


def run(kind, key=1, config=None, **kw):
    """One tiny run of ``kind``; returns (coords, history) as pytrees of numpy arrays."""
    if kind == "train_ga":
        r = train_ga(SPEC, DATA.X, DATA.y, jax.random.key(key), config or GA, **kw)
        return r.coords, r.history
    if kind == "run_many":
        r = run_many(
            SPEC, DATA.X, DATA.y, jax.random.split(jax.random.key(key), 3), config or GA,
            settings={"mutation_prob": [0.1, 0.3, 0.5]}, **kw,
        )
        return (r.coords, r.final_scores), r.history
    r = train_gd(SPEC, DATA.X, DATA.y, jax.random.key(key), config or GD, **kw)
    return r.coords, (r.history, r.histories)


if __name__ == "__main__":
    import sys

    kind, path, out, pause = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    coords, history = run(
        kind, checkpoint=path, callback=(lambda step, h: time.sleep(pause)) if pause else None
    )
    leaves = jax.tree_util.tree_leaves((coords, history))
    np.savez(out, **{f"a{i}": np.asarray(a) for i, a in enumerate(leaves)})
'''

NS: dict = {}
exec(compile(PROBLEMS, "problems", "exec"), NS)
run = NS["run"]
KINDS = ("train_ga", "run_many", "train_gd")


def leaves(tree) -> list[np.ndarray]:
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(tree)]


def assert_identical(a, b) -> None:
    la, lb = leaves(a), leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y, equal_nan=True)


_FULL: dict[str, tuple] = {}


def uninterrupted(kind: str) -> tuple:
    """The uninterrupted run of ``kind`` (computed once per test session)."""
    if kind not in _FULL:
        _FULL[kind] = run(kind)
    return _FULL[kind]


@pytest.mark.parametrize(
    "kind", [KINDS[0], *(pytest.param(k, marks=pytest.mark.slow) for k in KINDS[1:])]
)
def test_stopped_by_callback_then_resumed_is_bit_identical(tmp_path, kind):
    path = tmp_path / "run.ckpt"
    steps = []
    stopped = run(kind, checkpoint=path, callback=lambda step, h: steps.append(step) or step >= 14)
    assert path.exists()
    header, _ = ckpt._read(path)
    assert header["kind"] == kind and header["step"] == steps[-1]
    assert not np.array_equal(leaves(stopped[0])[0], leaves(uninterrupted(kind)[0])[0])
    resumed_steps = []
    resumed = run(kind, checkpoint=path, callback=lambda step, h: resumed_steps.append(step))
    assert resumed_steps and resumed_steps[0] > steps[-1]  # it went on, not from the start
    assert_identical(resumed, uninterrupted(kind))
    # the finished checkpoint is kept: calling again trains nothing and gives the same result
    again_steps = []
    again = run(kind, checkpoint=path, callback=lambda step, h: again_steps.append(step))
    assert again_steps == []
    assert_identical(again, uninterrupted(kind))


# the signal path is the shared host driver (debinn_jax.driver): train_ga in the default suite
@pytest.mark.parametrize(
    "kind", [KINDS[0], *(pytest.param(k, marks=pytest.mark.slow) for k in KINDS[1:])]
)
def test_signal_stop_writes_the_checkpoint_then_resume_is_bit_identical(tmp_path, kind):
    from debinn_jax.stopping import RunInterrupted

    path = tmp_path / "run.ckpt"

    def ctrl_c(step, history):
        if step == 9 or (kind == "train_gd" and step == 10):
            signal.raise_signal(signal.SIGINT)  # read after the next chunk

    with pytest.raises(RunInterrupted, match="SIGINT"):
        run(kind, checkpoint=path, callback=ctrl_c)
    step = ckpt._read(path)[0]["step"]
    assert step == (15 if kind == "train_gd" else 14)
    assert_identical(run(kind, checkpoint=path), uninterrupted(kind))


def _problem_file(tmp_path: Path) -> Path:
    script = tmp_path / "problem.py"
    script.write_text(PROBLEMS)
    return script


def _child(script: Path, kind: str, path: Path, out: Path, pause: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, str(script), kind, str(path), str(out), str(pause)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    "kind",
    [
        "train_ga",
        pytest.param("run_many", marks=pytest.mark.slow),
        pytest.param("train_gd", marks=pytest.mark.slow),
    ],
)
def test_sigkill_mid_run_then_resume_in_a_new_process_is_bit_identical(tmp_path, kind):
    script = _problem_file(tmp_path)
    path = tmp_path / "run.ckpt"
    # the first process pauses after every chunk so that the kill lands mid-run
    proc = _child(script, kind, path, tmp_path / "never.npz", pause=0.5)
    deadline = time.monotonic() + 300
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the child ended before its first checkpoint: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no checkpoint within 300 s")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "never.npz").exists()
    header, _ = ckpt._read(path)
    last = 39 if kind != "train_gd" else 60
    assert header["step"] < last  # killed mid-run
    # resume in a new process
    out = tmp_path / "resumed.npz"
    proc = _child(script, kind, path, out, pause=0.0)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    with np.load(out) as z:
        got = [z[f"a{i}"] for i in range(len(z.files))]
    assert_identical(got, leaves(uninterrupted(kind)))


def _stopped_checkpoint(tmp_path: Path, kind: str = "train_ga") -> Path:
    path = tmp_path / "run.ckpt"
    run(kind, checkpoint=path, callback=lambda step, h: step >= 9)
    return path


def test_foreign_checkpoint_is_one_clear_error_and_left_alone(tmp_path):
    path = _stopped_checkpoint(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ckpt.CheckpointError, match=r"run\.ckpt: belongs to another run \(key"):
        run("train_ga", key=2, checkpoint=path)
    other = dataclasses.replace(NS["GA"], mutation_prob=0.3)
    with pytest.raises(ckpt.CheckpointError, match=r"another run \(config differs\)") as info:
        run("train_ga", config=other, checkpoint=path)
    assert "\n" not in str(info.value)
    with pytest.raises(ckpt.CheckpointError, match="written by train_ga, not by train_gd"):
        run("train_gd", checkpoint=path)
    assert path.read_bytes() == before
    # a ValueError, so callers that catch bad input catch it too
    assert issubclass(ckpt.CheckpointError, ValueError)


@pytest.mark.parametrize("damage", ["truncated", "junk", "empty"])
def test_damaged_checkpoint_is_one_clear_error(tmp_path, damage):
    path = _stopped_checkpoint(tmp_path)
    data = path.read_bytes()
    path.write_bytes(
        {"truncated": data[: len(data) // 2], "junk": b"not a checkpoint", "empty": b""}[damage]
    )
    before = path.read_bytes()
    with pytest.raises(ckpt.CheckpointError, match=r"run\.ckpt: .*damaged") as info:
        run("train_ga", checkpoint=path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = _stopped_checkpoint(tmp_path)
    before = path.read_bytes()

    def broken_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        run("train_ga", checkpoint=path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the previous checkpoint survived
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]  # no temporary left
    assert_identical(run("train_ga", checkpoint=path), uninterrupted("train_ga"))


def test_checkpoint_every_seconds_still_writes_stops_and_the_end(tmp_path):
    path = tmp_path / "run.ckpt"
    run("train_ga", checkpoint=path, checkpoint_every=3600.0, callback=lambda s, h: s >= 9)
    assert ckpt._read(path)[0]["step"] == 9  # a callback's stop is always written
    assert_identical(
        run("train_ga", checkpoint=path, checkpoint_every=3600.0), uninterrupted("train_ga")
    )
    assert ckpt._read(path)[0]["step"] == 39  # the end is always written
    with pytest.raises(ValueError, match="checkpoint_every"):
        run("train_ga", checkpoint=tmp_path / "x.ckpt", checkpoint_every=-1)


MULTI = r"""
import sys
import jax
import numpy as np
mode, out, path = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "multi":
    port, pid = sys.argv[4], int(sys.argv[5])
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid
    )
assert len(jax.devices()) == 4, jax.devices()
from debinn_jax import GAConfig, NetworkSpec, make_moons_dataset
from debinn_jax.sweep import run_many
d = make_moons_dataset(24, seed=3)
spec = NetworkSpec(2, (4,), 2)
cfg = GAConfig(population_size=8, generations=12, chunk=4, early_stopping=None)
keys = jax.random.split(jax.random.key(0), 4)
kw = dict(settings={"mutation_prob": [0.1, 0.2, 0.3, 0.4]})
if mode == "multi":  # stopped after the second chunk, then resumed (a second call)
    run_many(spec, d.X, d.y, keys, cfg, checkpoint=path, callback=lambda g, h: g >= 4, **kw)
    res = run_many(spec, d.X, d.y, keys, cfg, checkpoint=path, **kw)
else:
    res = run_many(spec, d.X, d.y, keys, cfg, **kw)
leaves = jax.tree_util.tree_leaves((res.coords, res.history, res.final_scores))
np.savez(out, **{f"a{i}": np.asarray(a) for i, a in enumerate(leaves)})
"""


@pytest.mark.slow
def test_run_many_over_two_processes_resumes_bit_identical(tmp_path):
    """Two JAX processes x 2 CPU devices write (process 0) and read (both) one checkpoint; the
    resumed sweep equals one process x 4 devices run uninterrupted."""
    script = tmp_path / "multi.py"
    script.write_text(MULTI)
    path = tmp_path / "sweep.ckpt"
    two_processes_and_one(
        script,
        lambda i: [str(tmp_path / f"p{i}.npz"), str(path)],
        [str(tmp_path / "single.npz"), "-"],
        PYTHONPATH=str(REPO),
    )
    assert ckpt._read(path)[0]["step"] == 11
    with np.load(tmp_path / "single.npz") as ref:
        want = [ref[f"a{i}"] for i in range(len(ref.files))]
    for i in range(2):
        with np.load(tmp_path / f"p{i}.npz") as z:
            assert_identical([z[f"a{j}"] for j in range(len(z.files))], want)
