"""Persistent compilation cache: where it lives, the off switches, never in the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from debinn_jax.cache import (
    SOURCE_ROOT,
    cache_dir,
    enable_compilation_cache,
    inside_source_tree,
)

REPO = Path(__file__).resolve().parents[1]


def test_default_is_under_the_users_cache_home():
    assert cache_dir({"HOME": "/home/ana"}) == Path("/home/ana/.cache/debinn-jax/jax-cache")
    env = {"HOME": "/home/ana", "XDG_CACHE_HOME": "/fast/cache"}
    assert cache_dir(env) == Path("/fast/cache/debinn-jax/jax-cache")


def test_the_directory_variable_wins_and_the_switch_turns_it_off(tmp_path):
    env = {"HOME": "/home/ana", "XDG_CACHE_HOME": "/x", "DEBINN_CACHE_DIR": str(tmp_path)}
    assert cache_dir(env) == tmp_path.resolve()
    assert cache_dir({**env, "DEBINN_CACHE": "1"}) == tmp_path.resolve()
    for off in ("0", "false", "No", "OFF"):
        assert cache_dir({**env, "DEBINN_CACHE": off}) is None


def test_never_inside_the_repository(tmp_path):
    assert SOURCE_ROOT == REPO
    assert not inside_source_tree(cache_dir({"HOME": str(Path.home())}))  # the default here
    assert not inside_source_tree(tmp_path)
    assert inside_source_tree(REPO) and inside_source_tree(REPO / "runs" / "cache")
    with pytest.raises(ValueError, match="inside the debinn-jax source tree"):
        enable_compilation_cache(REPO / "jax-cache")  # refused before jax is touched
    assert not (REPO / "jax-cache").exists()


# A fresh process per case (the cache is a process-wide JAX setting): a tiny GD fit through
# the library or the command line, then report JAX's cache settings and what was written.
PROBE = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    if sys.argv[1] == "cli":
        from debinn_jax.cli import main
        code = main(sys.argv[2:])
        assert code == 0, code
    else:
        import jax
        from debinn_jax import GDConfig, NetworkSpec, train_gd
        rng = np.random.default_rng(0)
        y = np.arange(20) % 2
        X = rng.normal(size=(20, 2)) + y[:, None]
        train_gd(NetworkSpec(2, (), 2), X, y, jax.random.key(0), GDConfig(epochs=3, chunk=3))
    import jax
    d = os.environ.get("DEBINN_CACHE_DIR")
    print(json.dumps({
        "jax_dir": jax.config.jax_compilation_cache_dir,
        "enabled": jax.config.jax_enable_compilation_cache,
        "entries": len(os.listdir(d)) if d and os.path.isdir(d) else 0,
    }))
    """
)


def _probe(tmp_path: Path, *args: str, **env: str) -> dict:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DEBINN_CACHE", "JAX_"))}
    full.update(env, JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, str(script), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a fresh process training (10-20 s)
def test_trainers_switch_the_cache_on_lazily(tmp_path):
    on = _probe(tmp_path, "lib", DEBINN_CACHE_DIR=str(tmp_path / "c"))
    assert on["jax_dir"] == str((tmp_path / "c").resolve()) and on["enabled"]
    assert on["entries"] > 0  # the GD programs were written


@pytest.mark.slow
def test_trainers_leave_the_cache_off_when_switched_off(tmp_path):
    off = _probe(tmp_path, "lib", DEBINN_CACHE_DIR=str(tmp_path / "c"), DEBINN_CACHE="0")
    assert off["jax_dir"] is None and off["entries"] == 0
    assert not (tmp_path / "c").exists()


def _fit_args(tmp_path: Path) -> list[str]:
    data = tmp_path / "train.csv"
    rows = ["a,b,label"] + [f"{i % 7 / 7:.3f},{i % 3 / 3:.3f},{i % 2}" for i in range(20)]
    data.write_text("\n".join(rows) + "\n")
    (tmp_path / "gd.toml").write_text("[gd]\nepochs = 3\nchunk = 3\n")
    return ["fit", "--data", str(data), "--trainer", "gd", "--config", "gd.toml", "--quiet"]


def test_cli_no_cache_flag_parses_before_or_after_the_command(tmp_path):
    from debinn_jax.cli import build_parser

    fit = _fit_args(tmp_path)
    parser = build_parser()  # the flag goes before or after the command
    out = ["--out", "m.debinn"]
    assert parser.parse_args(["--no-cache", *fit, *out]).no_cache
    assert parser.parse_args([*fit, *out, "--no-cache"]).no_cache
    assert not parser.parse_args([*fit, *out]).no_cache


@pytest.mark.slow  # a fresh process training (17 s)
def test_cli_no_cache_flag_leaves_the_cache_off(tmp_path):
    fit = _fit_args(tmp_path)
    cache = str(tmp_path / "c")
    off = _probe(tmp_path, "cli", *fit, "--out", "m.debinn", "--no-cache", DEBINN_CACHE_DIR=cache)
    assert off["jax_dir"] is None and off["entries"] == 0


@pytest.mark.slow
def test_cli_uses_the_cache_by_default(tmp_path):
    cache = str(tmp_path / "c")
    on = _probe(tmp_path, "cli", *_fit_args(tmp_path), "--out", "m.debinn", DEBINN_CACHE_DIR=cache)
    assert on["jax_dir"] == str(Path(cache).resolve()) and on["entries"] > 0
