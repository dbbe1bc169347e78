"""run_many over several JAX processes (jax.distributed on localhost) and clean stops by signal.

Each process is a subprocess with forced CPU devices; JAX's CPU collectives (gloo, the default
of jax 0.10) carry the gathers between processes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _shared import cpu_env, free_port, two_processes_and_one

SWEEP = textwrap.dedent(
    """
    import sys
    import jax
    import numpy as np
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "multi":
        port, pid = sys.argv[3], int(sys.argv[4])
        jax.distributed.initialize(
            coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid
        )
        assert jax.process_count() == 2 and len(jax.local_devices()) == 2
    assert len(jax.devices()) == 4, jax.devices()
    from debinn_jax.data import make_moons_dataset
    from debinn_jax.ga import GAConfig
    from debinn_jax.network import NetworkSpec
    from debinn_jax.sweep import run_many
    moons = make_moons_dataset(24, seed=3)
    X, y = moons.X, moons.y
    spec = NetworkSpec(n_inputs=2, hidden=(4,), n_classes=2, head="softmax", shift_scale=True)
    cfg = GAConfig(population_size=8, generations=12, chunk=4, early_stopping=None)
    keys = jax.random.split(jax.random.key(0), 4)
    res = run_many(spec, X, y, keys, cfg, settings={"r_max": [1.0, 0.8, 0.6, 0.4], "r_min": 0.1})
    leaves = jax.tree_util.tree_leaves(res.coords)
    arrays = {f"coords{i}": a for i, a in enumerate(leaves)}
    arrays.update({f"history_{k}": v for k, v in res.history.items()})
    # a callback's stop request ends every run after the same chunk, in every process
    part = run_many(spec, X, y, keys, cfg, settings={"r_max": [1.0, 0.8, 0.6, 0.4], "r_min": 0.1},
                    callback=lambda gen, history: gen >= 4)
    arrays.update(part_generations=part.generations_run, part_scores=part.final_scores)
    np.savez(out, final_scores=res.final_scores, hof=res.hall_of_fame_val, **arrays)
    print("SWEEP-OK", mode, flush=True)
    """
)


@pytest.mark.slow  # three fresh JAX processes (25-50 s); run with -m slow
def test_two_processes_equal_one_process(tmp_path):
    """4 runs sharded over 2 processes x 2 CPU devices == the same runs on 1 process x 4, also
    when a callback stops them early."""
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP)
    stdouts = two_processes_and_one(
        script, lambda i: [str(tmp_path / f"p{i}.npz")], [str(tmp_path / "single.npz")]
    )
    for stdout in stdouts:
        assert "SWEEP-OK multi" in stdout
    ref = np.load(tmp_path / "single.npz")
    assert ref["part_generations"].tolist() == [8] * 4  # stopped after the second chunk of 4
    for i in range(2):  # every process holds the whole result, bit for bit
        got = np.load(tmp_path / f"p{i}.npz")
        assert sorted(got.files) == sorted(ref.files)
        for name in ref.files:
            np.testing.assert_array_equal(got[name], ref[name], err_msg=name)


LONG_SWEEP = textwrap.dedent(
    """
    import logging
    import sys
    import jax
    import numpy as np
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    from debinn_jax.ga import GAConfig
    from debinn_jax.network import NetworkSpec
    from debinn_jax.stopping import RunInterrupted
    from debinn_jax.sweep import run_many
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    X = (rng.normal(size=(20, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)).astype(np.float32)
    spec = NetworkSpec(n_inputs=2, hidden=(3,), n_classes=2, head="softmax", shift_scale=True)
    cfg = GAConfig(population_size=4, generations=10_000_000, chunk=5, early_stopping=None)
    keys = jax.random.split(jax.random.key(0), 2)
    try:
        run_many(spec, X, y, keys, cfg, progress=True)
    except RunInterrupted as exc:
        print(exc, file=sys.stderr)
        sys.exit(exc.exit_code)
    """
)


def test_sigterm_stops_a_running_sweep(tmp_path):
    """SIGTERM during a (practically endless) sweep ends it after the current chunk with a
    one-line message and exit code 143, without a traceback."""
    script = tmp_path / "long.py"
    script.write_text(LONG_SWEEP)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=cpu_env(1),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # the first chunk has run: the loop is in progress
        assert line.startswith("gen"), line + proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "run_many: stopped by SIGTERM after generation" in stderr
    assert "Traceback" not in stderr


LONG_MULTI = LONG_SWEEP.replace(
    "import numpy as np\n",
    "import numpy as np\n"
    "jax.distributed.initialize(coordinator_address=f'127.0.0.1:{sys.argv[1]}', "
    "num_processes=2, process_id=int(sys.argv[2]))\n",
    1,
)


@pytest.mark.slow
def test_sigterm_to_one_process_stops_both_at_the_same_chunk(tmp_path):
    """JAX's preemption service catches SIGTERM under jax.distributed; the sweep asks it after
    every chunk, so both processes stop after the same generation, each with one line."""
    script = tmp_path / "long_multi.py"
    script.write_text(LONG_MULTI)
    port = str(free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), port, str(i)],
            env=cpu_env(2),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    try:
        for line in procs[1].stdout:  # gloo writes its own lines to stdout first
            if line.startswith("gen"):  # the first chunk has run
                break
        procs[1].send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=120)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    stops = []
    for p, err in zip(procs, errs):
        assert p.returncode == 128 + signal.SIGTERM, err[-3000:]
        assert "Traceback" not in err
        (stop,) = [ln for ln in err.splitlines() if ln.startswith("run_many: stopped by SIGTERM")]
        stops.append(stop)
    assert stops[0] == stops[1]
