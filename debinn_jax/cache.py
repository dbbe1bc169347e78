"""JAX's persistent compilation cache for debinn-jax: where it lives and when it is switched on.

Compiling the GA for a real network takes seconds to tens of seconds; with the persistent cache
a second process loads the compiled programs from disk instead. The ``debinn`` command calls
:func:`enable_compilation_cache` at start-up, and :func:`~debinn_jax.ga.train_ga`,
:func:`~debinn_jax.gd.train_gd` and :func:`~debinn_jax.sweep.run_many` call
:func:`ensure_compilation_cache` on their first use, so library users get the cache too.
``import debinn_jax`` changes nothing.

Where (:func:`cache_dir`), first match wins:

1. ``DEBINN_CACHE=0`` (also ``false``, ``no``, ``off``): no cache;
2. ``$DEBINN_CACHE_DIR``;
3. ``$XDG_CACHE_HOME/debinn-jax/jax-cache``;
4. ``~/.cache/debinn-jax/jax-cache``.

A directory inside the debinn-jax source tree is never used (:func:`enable_compilation_cache`
refuses it), so the cache cannot end up in a repository. ``debinn --no-cache`` switches the
cache off for one command. A cache directory the user set in JAX itself
(``jax_compilation_cache_dir``, e.g. ``JAX_COMPILATION_CACHE_DIR``) is left as it is.

The cache is trusted code: do not point it at a directory others can write to (see JAX's
``jax.experimental.compilation_cache`` notes).

Downloaded datasets (``debinn data fetch``, :mod:`debinn_jax.data.fetch`) live beside it, in
:func:`data_home` (``$DEBINN_DATA_HOME``, else ``.../debinn-jax/datasets``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

#: Environment variable with the cache directory.
CACHE_DIR_ENV = "DEBINN_CACHE_DIR"
#: Environment variable that switches the cache off when "0", "false", "no" or "off".
CACHE_ENV = "DEBINN_CACHE"
_OFF = ("0", "false", "no", "off")

#: Programs that compile faster than this are not written to the cache. JAX's default, 1 s,
#: skips most of ours, and a warm start pays for every small program it compiles again: a
#: 200-generation DLBCL GA run left 5 entries (396 KB) with 0.1 s and 23 (468 KB) with 0, and
#: its warm train_ga call took 2.7-3.6 s with 0.1 s against 1.9-2.1 s with 0 (2 loaded cores).
MIN_COMPILE_SECONDS = 0.0

#: The package's source tree (the repository root for a checkout).
SOURCE_ROOT = Path(__file__).resolve().parents[1]

# process-wide switch: None = not decided yet, else the directory in use or False (off)
_state: dict[str, Path | bool | None] = {"dir": None}


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache directory the environment asks for, or None when switched off.

    Args:
        environ: the environment (default ``os.environ``).

    Returns:
        An absolute path (not created), or None for ``DEBINN_CACHE=0``.
    """
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV, "").strip().lower() in _OFF:
        return None
    if env.get(CACHE_DIR_ENV, "").strip():
        return Path(env[CACHE_DIR_ENV].strip()).expanduser().resolve()
    base = env.get("XDG_CACHE_HOME", "").strip()
    root = Path(base).expanduser() if base else Path(env.get("HOME") or Path.home()) / ".cache"
    return (root / "debinn-jax" / "jax-cache").resolve()


#: Environment variable with the folder of downloaded datasets (:func:`data_home`).
DATA_HOME_ENV = "DEBINN_DATA_HOME"


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """The folder that :mod:`debinn_jax.data.fetch` downloads the public datasets into.

    First match wins: ``$DEBINN_DATA_HOME``; ``$XDG_CACHE_HOME/debinn-jax/datasets``;
    ``~/.cache/debinn-jax/datasets``. It sits beside the compilation cache, and holds one
    folder per dataset laid out as the project's shared data folder (``dlbcl/Fold-1/...``,
    ``hecktor-lite/Fold-1/...``, ``ctg/fetal_health.csv``).

    Args:
        environ: the environment (default ``os.environ``).

    Returns:
        An absolute path (not created).
    """
    env = os.environ if environ is None else environ
    if env.get(DATA_HOME_ENV, "").strip():
        return Path(env[DATA_HOME_ENV].strip()).expanduser().resolve()
    base = env.get("XDG_CACHE_HOME", "").strip()
    root = Path(base).expanduser() if base else Path(env.get("HOME") or Path.home()) / ".cache"
    return (root / "debinn-jax" / "datasets").resolve()


def inside_source_tree(path: Path) -> bool:
    """Whether ``path`` is the debinn-jax source tree or inside it."""
    path = Path(path).resolve()
    return path == SOURCE_ROOT or SOURCE_ROOT in path.parents


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Switch JAX's persistent compilation cache on for this process.

    Args:
        path: the cache directory; None = :func:`cache_dir` (which may say "off").

    Returns:
        The directory in use, or None when the cache stays off (``DEBINN_CACHE=0``, an
        earlier :func:`disable_compilation_cache`, or a JAX cache directory set by the user,
        which is kept and returned instead).

    Raises:
        ValueError: ``path`` is inside the debinn-jax source tree.
    """
    if path is None and _state["dir"] is False:
        return None
    target = cache_dir() if path is None else Path(path).expanduser().resolve()
    if target is None:
        _state["dir"] = False
        return None
    if inside_source_tree(target):
        raise ValueError(
            f"compilation cache: {target} is inside the debinn-jax source tree "
            f"{SOURCE_ROOT}; set {CACHE_DIR_ENV} to a directory outside it"
        )
    import jax
    from jax.experimental.compilation_cache import compilation_cache as jax_cache

    current = jax.config.jax_compilation_cache_dir
    if path is None and current and _state["dir"] is None:
        if Path(current).resolve() != target:
            logger.debug("compilation cache: keeping the user's JAX cache directory %s", current)
            _state["dir"] = Path(current)
            return Path(current)
    target.mkdir(parents=True, exist_ok=True)
    if current and Path(current).resolve() != target:
        jax_cache.reset_cache()  # JAX opens its cache directory once; reopen at the new place
    jax.config.update("jax_compilation_cache_dir", str(target))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_enable_compilation_cache", True)
    _state["dir"] = target
    logger.debug("compilation cache: %s", target)
    return target


def disable_compilation_cache() -> None:
    """Switch the persistent compilation cache off for this process (``debinn --no-cache``)."""
    _state["dir"] = False
    import sys

    if "jax" in sys.modules:  # already on (or set by the user): stop using it
        sys.modules["jax"].config.update("jax_enable_compilation_cache", False)


def ensure_compilation_cache() -> None:
    """The trainers' lazy start: :func:`enable_compilation_cache` once per process.

    Does nothing after the first call, when switched off, or when the default directory is
    unusable (a warning is logged and training goes on without the cache).
    """
    if _state["dir"] is not None:
        return
    try:
        enable_compilation_cache()
    except (OSError, ValueError) as exc:
        logger.warning("compilation cache off: %s", exc)
        _state["dir"] = False


def release_compiled_programs() -> None:
    """Drop every compiled program this process holds (the trainers' caches and JAX's own).

    A long process that trains many different networks one after the other (``debinn grid``
    over a folder of grids) keeps each network's compiled programs alive in these caches; XLA on
    CPU maps each program's machine code into memory, and after a few grids the process reaches
    the kernel's limit of memory mappings (``vm.max_map_count``, 65,530 here), where the next
    compilation fails ("LLVM compilation error: Cannot allocate memory") and the process
    crashes. Programs that are needed again are recompiled (or read from the persistent
    compilation cache).
    """
    import gc

    import jax

    from debinn_jax import sweep
    from debinn_jax.ga import train as ga_train
    from debinn_jax.gd import step as gd_step

    for cached in (sweep._compiled_many, ga_train._compiled_for, gd_step._chunk_fn):
        cached.cache_clear()
    jax.clear_caches()
    gc.collect()
