"""Helpers imported by tests: where they find the shared data and the authors' reference files,
and how they start JAX subprocesses on forced CPU devices.

``$DEBINN_DATA_DIR`` / ``$DEBINN_REFERENCE_DIR``, else ``<repo>/../shared/data`` and
``<repo>/../shared/reference``; tests that need them skip with a message naming the path.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

_SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def data_dir() -> Path:
    """``$DEBINN_DATA_DIR``, else ``<repo>/../shared/data``."""
    env = os.environ.get("DEBINN_DATA_DIR")
    return Path(env) if env else _SHARED / "data"


def reference_dir() -> Path:
    """``$DEBINN_REFERENCE_DIR``, else ``<repo>/../shared/reference``."""
    env = os.environ.get("DEBINN_REFERENCE_DIR")
    return Path(env) if env else _SHARED / "reference"


def experiment_script(name: str) -> ModuleType:
    """Import ``experiments/<name>.py`` (the experiment scripts are not a package)."""
    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A free TCP port on localhost (for the jax.distributed coordinator)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_env(devices: int, **extra: str) -> dict[str, str]:
    """This process's environment for a JAX subprocess on ``devices`` forced CPU devices, plus
    ``extra`` variables."""
    return {
        **os.environ,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "JAX_PLATFORMS": "cpu",
        **extra,
    }


def two_processes_and_one(
    script: Path,
    multi_args: Callable[[int], Sequence[str]],
    single_args: Sequence[str],
    **env: str,
) -> list[str]:
    """Run ``script multi *multi_args(i) PORT i`` for i = 0, 1 (two jax.distributed processes of 2
    CPU devices each, coordinated on a free localhost port) alongside ``script single
    *single_args`` (one process of 4 CPU devices), with ``env`` added to their environment.

    Fails unless all three exit with 0 (showing the end of the failing one's stderr). Returns the
    stdout of the two ``multi`` processes.
    """
    port = str(free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), "multi", *multi_args(i), port, str(i)],
            env=cpu_env(2, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    single = subprocess.run(
        [sys.executable, str(script), "single", *single_args],
        env=cpu_env(4, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, stderr) in zip(procs, outs):
        assert p.returncode == 0, stderr[-3000:]
    assert single.returncode == 0, single.stderr[-3000:]
    return [stdout for stdout, _ in outs]
