"""Checkpoints of the trainers' host loops: save after a chunk, resume bit for bit.

:func:`~debinn_jax.ga.train_ga`, :func:`~debinn_jax.sweep.run_many` and
:func:`~debinn_jax.gd.train_gd` take ``checkpoint=PATH``. Their loop state between two compiled
chunks is a pytree of arrays, and every chunk's randomness derives from keys fixed at the start
(the GA folds the generation number into its loop key; GD splits its epoch keys up front), so
the state after chunk k plus the history so far is all a resumed run needs to continue exactly
as the uninterrupted run would have.

Use::

    result = train_ga(spec, X, y, key, config, checkpoint="runs/moons.ckpt")

The first call trains and rewrites the file after every chunk (``checkpoint_every=60`` for at
most one write a minute). After a kill (SIGKILL, a crash, a lost node) or a clean stop (Ctrl-C,
SIGTERM, a callback returning True) the same call continues from the last chunk written and
returns what the uninterrupted run would have returned, bit for bit (same backend and jax
version). The file is kept when the run ends: the same call then returns the result again
without training (only compilation); delete it to train afresh. A SIGKILL during a write may
leave a hidden temporary file (``.moons.ckpt.*.tmp``) next to it; it is never read and may be
deleted.

A **checkpoint file** is one ``.npz`` archive (numpy's zip container, read with
``allow_pickle=False``) holding

- ``header``: UTF-8 JSON (``format`` ``"debinn-jax-checkpoint"``, ``format_version``, ``kind``
  (the trainer), ``step`` (generation / epoch reached), ``fingerprint`` (one hash per part of
  the run: network, config, data, key, ...), ``extra`` (trainer counters), the jax version and
  backend, an index of the arrays);
- ``state/<i>``: the loop state's leaves in pytree order (PRNG keys as raw key data);
- ``history/<name>``: the per-chunk history so far, joined along the chunk axis.

Writes are atomic (:func:`debinn_jax.io.write_atomic`: a temporary file in the same folder,
``fsync``, ``os.replace``), so a kill at any moment leaves the previous checkpoint or the new
one, never half a file. A file that is not such a checkpoint, is damaged, or belongs to another
run (another network, config, data or key) raises :class:`CheckpointError`, a ``ValueError``
whose one-line message names the file and what differs; it is never overwritten then.

Why not orbax-checkpoint: the states here are small (a population of genomes, a few MB at
most) and written after every chunk. An orbax save is a folder of eight entries and took
70-120 ms on this project's CPU machine against about 1 ms for ``np.savez`` of the same tree;
orbax's strengths (async, sharded writes of large arrays from many hosts) do not pay here, and
a single file makes the atomic replace trivial and the checkpoint readable with numpy alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from debinn_jax.io import write_atomic

PathLike = str | os.PathLike[str]

FORMAT_NAME = "debinn-jax-checkpoint"
"""Value of the ``format`` field of every checkpoint header."""

FORMAT_VERSION = 1
"""Checkpoint format written (and the only one read) by this version of debinn-jax."""


class CheckpointError(ValueError):
    """A checkpoint cannot be used: not a checkpoint, damaged, of another format version, or
    written by another run (the message names the file and the parts that differ)."""


def digest(*parts: Any) -> str:
    """A short SHA-256 hex digest of ``parts``: arrays by dtype, shape and bytes, the rest by
    ``repr`` (frozen dataclasses, strings, numbers)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray | jax.Array):
            a = np.ascontiguousarray(np.asarray(p))
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def key_fingerprint(key: Any) -> str:
    """Digest of a PRNG key (typed or legacy uint32) or an array of keys: impl and key data."""
    key = jnp.asarray(key)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return digest(str(jax.random.key_impl(key)), jax.random.key_data(key))
    return digest("legacy", key)


def function_name(fn: Any) -> str | None:
    """``module.qualname`` of a user function (None stays None).

    Only the name identifies a function in a fingerprint: values captured in a closure are not
    seen. An optax ``GradientTransformation`` is named by its ``init`` function.
    """
    if fn is None:
        return None
    target = fn.init if hasattr(fn, "init") and hasattr(fn, "update") else fn
    module = getattr(target, "__module__", "") or ""
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}"


def _is_key(leaf: Any) -> bool:
    return hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _host_leaf(leaf: Any) -> np.ndarray:
    return np.asarray(jax.random.key_data(leaf) if _is_key(leaf) else leaf)


def without_keys(tree: Any) -> Any:
    """``tree`` with every typed PRNG key leaf replaced by its raw key data (a uint32 array
    that ``np.asarray`` and multi-process gathers accept)."""
    return jax.tree_util.tree_map(lambda a: jax.random.key_data(a) if _is_key(a) else a, tree)


def _describe(fingerprint: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in fingerprint.items()}


def save(
    path: PathLike,
    kind: str,
    fingerprint: Mapping[str, str],
    state: Any,
    history: Mapping[str, np.ndarray],
    *,
    step: int,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (only JAX process 0 writes).

    Args:
        path: the checkpoint file (its folder must exist).
        kind: the trainer, e.g. ``"train_ga"``.
        fingerprint: ``part -> digest`` of everything that makes the run what it is.
        state: the loop state pytree (host numpy arrays or fully addressable jax arrays; typed
            PRNG keys are stored as key data).
        history: name -> array, the history so far joined along the chunk axis.
        step: generation / epoch reached (for messages).
        extra: small JSON-able trainer counters.

    Returns:
        The path.
    """
    path = Path(path)
    if jax.process_index() != 0:
        return path
    leaves = [_host_leaf(leaf) for leaf in jax.tree_util.tree_leaves(state)]
    arrays = {f"state/{i}": a for i, a in enumerate(leaves)}
    arrays.update({f"history/{k}": np.asarray(v) for k, v in history.items()})
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "step": int(step),
        "fingerprint": _describe(fingerprint),
        "extra": dict(extra or {}),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "arrays": {k: [str(a.dtype), list(a.shape)] for k, a in arrays.items()},
    }
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8)
    return write_atomic(path, lambda fh: np.savez(fh, header=blob, **arrays), "wb")


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Header and arrays of a checkpoint file, or CheckpointError (one line)."""
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"checkpoint {path}: not a debinn-jax checkpoint or damaged (not an .npz archive); "
            "delete it to start the run afresh"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(bytes(arrays.pop("header")).decode("utf-8"))
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(
            f"checkpoint {path}: unreadable, not a debinn-jax checkpoint or damaged ({reason}); "
            "delete it to start the run afresh"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"checkpoint {path}: not a debinn-jax checkpoint (no {FORMAT_NAME!r} header)"
        )
    if header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path}: format version {header.get('format_version')!r}, this "
            f"debinn-jax reads version {FORMAT_VERSION}; delete it to start the run afresh"
        )
    return header, arrays


def stored_history(path: PathLike) -> dict[str, np.ndarray]:
    """The history a checkpoint holds (the trainer's names; ``run_many`` stores ``ran``,
    ``(R, G)``: which generations each run has run), or {} when there is no file.

    Raises:
        CheckpointError: unreadable or not a checkpoint (one line).
    """
    path = Path(path)
    if not path.is_file():
        return {}
    _, arrays = _read(path)
    return {k[8:]: v for k, v in arrays.items() if k.startswith("history/")}


def load(
    path: PathLike, kind: str, fingerprint: Mapping[str, str], template: Any
) -> tuple[Any, dict[str, np.ndarray], dict[str, Any]] | None:
    """Read a checkpoint written by :func:`save` for the same run, or None if there is none.

    Args:
        path: the checkpoint file.
        kind: the trainer that must have written it.
        fingerprint: this run's ``part -> digest``; every part must match.
        template: the loop state at the start of this run (device arrays); the stored leaves
            must have its structure, shapes and dtypes and are placed like its leaves
            (same sharding; key data wrapped as keys of the same implementation).

    Returns:
        ``(state, history, header)`` or None when ``path`` does not exist.

    Raises:
        CheckpointError: unreadable or foreign checkpoint (one line naming the file and what
            differs).
    """
    path = Path(path)
    if not path.exists():
        return None
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path}: is a folder; pass a file path")
    header, arrays = _read(path)
    if header.get("kind") != kind:
        raise CheckpointError(
            f"checkpoint {path}: written by {header.get('kind')}, not by {kind} (another run)"
        )
    theirs = header.get("fingerprint") or {}
    mine = _describe(fingerprint)
    differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    if differ:
        raise CheckpointError(
            f"checkpoint {path}: belongs to another run ({', '.join(differ)} differ"
            f"{'s' if len(differ) == 1 else ''}); use another path or delete it to start afresh"
        )
    tleaves, treedef = jax.tree_util.tree_flatten(template)
    stored = sorted((k for k in arrays if k.startswith("state/")), key=lambda k: int(k[6:]))
    if len(stored) != len(tleaves):
        raise CheckpointError(
            f"checkpoint {path}: {len(stored)} state arrays, this run has {len(tleaves)} "
            "(another debinn-jax version or run)"
        )
    leaves = []
    for i, t in enumerate(tleaves):
        a = arrays[f"state/{i}"]
        want = jax.eval_shape(jax.random.key_data, t) if _is_key(t) else t  # no transfer
        if a.shape != tuple(want.shape) or a.dtype != want.dtype:
            raise CheckpointError(
                f"checkpoint {path}: state array {i} is {a.dtype}{list(a.shape)}, this run "
                f"expects {want.dtype}{list(want.shape)} (another run)"
            )
        sharding = getattr(t, "sharding", None)
        if _is_key(t):
            data = jax.device_put(a, sharding)
            leaves.append(jax.random.wrap_key_data(data, impl=jax.random.key_impl(t)))
        else:
            leaves.append(jax.device_put(a, sharding))
    state = jax.tree_util.tree_unflatten(treedef, leaves)
    history = {k[8:]: v for k, v in arrays.items() if k.startswith("history/")}
    return state, history, header


class Checkpointer:
    """One trainer's checkpoint: resume from it, then save after chunks.

    Args:
        path: the checkpoint file, or None (then every method does nothing).
        kind: the trainer, e.g. ``"train_ga"``.
        fingerprint: ``part -> digest`` of this run.
        every: seconds between periodic writes; 0 = after every chunk. The last chunk, a
            signal and a callback's stop are always written.
    """

    def __init__(
        self, path: PathLike | None, kind: str, fingerprint: Mapping[str, str], every: float = 0.0
    ) -> None:
        if not (isinstance(every, int | float) and not isinstance(every, bool) and every >= 0):
            raise ValueError(f"checkpoint_every must be a number of seconds >= 0, got {every!r}")
        self.path = None if path is None else Path(path)
        self.kind = kind
        self.fingerprint = dict(fingerprint)
        self.every = float(every)
        self.last = time.monotonic()
        if self.path is not None and not self.path.parent.is_dir():
            raise FileNotFoundError(
                f"checkpoint {self.path}: folder {self.path.parent} does not exist"
            )

    def resume(self, template: Any) -> tuple[Any, dict[str, np.ndarray], dict[str, Any]] | None:
        """:func:`load` of this run's checkpoint, or None (no path or no file yet)."""
        if self.path is None:
            return None
        return load(self.path, self.kind, self.fingerprint, template)

    def save(
        self,
        state: Any,
        history: Any,
        *,
        step: int,
        extra: Mapping[str, Any] | None = None,
        final: bool = False,
    ) -> bool:
        """Write if due (``final``: always). ``history`` is a zero-argument function giving the
        history dict and ``state`` the state or such a function (called only when writing, in
        every JAX process: it may gather). Returns whether it wrote."""
        if self.path is None:
            return False
        if not (final or self.every == 0 or time.monotonic() - self.last >= self.every):
            return False
        if callable(state):
            state = state()
        save(self.path, self.kind, self.fingerprint, state, history(), step=step, extra=extra)
        self.last = time.monotonic()
        return True
