"""Sharing an output folder between ``debinn grid`` processes: the folder lock and run claims.

Two processes may write into the same output folder at once (different ``--only`` sets, or
the same ones). Three rules keep every finished run and train none twice:

* **The folder lock** (:func:`folder_lock`, the file ``.grid.lock``, an exclusive ``flock``):
  every read-modify-write of the folder's files (merging records into ``results.json``,
  claiming runs) happens under it, re-reading the files first, so the records of every
  process survive. It is held for milliseconds at a time; its holder writes one line about
  itself (:class:`Holder`: pid, host, start time, command), so a process kept waiting can say
  who holds it, and after ``timeout`` seconds gives up with that line (:class:`FolderBusy`).
* **Claims** (:class:`Claims`, ``claims/<host>-<pid>.json``): before training, a process
  claims the (column, fold) runs it is about to train, under the folder lock. Other processes
  leave runs claimed by a live process alone (and wait for their records). A process holds an
  ``flock`` on its own claim file for its whole life: a claim file whose lock is free belongs
  to a process that died, and is dropped (:meth:`Claims.others`).
* **No restart under a live process**: discarding the records of a folder in which another
  process still trains is refused (the caller checks :meth:`Claims.others`).

``flock`` works between the processes of one machine, and on NFS v4 between machines (Linux
maps it to byte-range locks there); on a file system without locks, do not share a folder
between machines.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from debinn_jax.errors import UserError

#: The lock file inside an output folder.
LOCK_FILE = ".grid.lock"
#: The folder of claim files inside an output folder.
CLAIMS_DIR = "claims"

#: A run of a grid: ``(column name, fold name)``.
Pair = tuple[str, str]


class FolderBusy(UserError):
    """The folder lock stayed taken longer than the caller would wait, or another live process
    holds what this one needs; the message names the holder (one line)."""


@dataclasses.dataclass(frozen=True)
class Holder:
    """A process that holds the lock or claims runs.

    Attributes:
        pid: process id.
        host: host name.
        started: local start time, ``YYYY-MM-DD HH:MM:SS``.
        command: its command line.
    """

    pid: int
    host: str
    started: str
    command: str

    def describe(self) -> str:
        """``pid 4711 on node3, started 2026-12-07 09:12:40 (debinn grid ... --only S5)``."""
        return f"pid {self.pid} on {self.host}, started {self.started} ({self.command})"


def current_holder(command: str | None = None) -> Holder:
    """This process as a :class:`Holder`; ``command`` defaults to ``sys.argv`` joined."""
    if command is None:
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return Holder(os.getpid(), socket.gethostname(), now, command)


def _holder_from(text: str) -> Holder | None:
    try:
        d = json.loads(text)
        return Holder(int(d["pid"]), str(d["host"]), str(d["started"]), str(d["command"]))
    except (ValueError, KeyError, TypeError):
        return None


def _describe_file(path: Path) -> str:
    """Who a lock file says holds it (or that it does not say)."""
    try:
        holder = _holder_from(path.read_text(encoding="utf-8"))
    except OSError:
        holder = None
    return holder.describe() if holder is not None else "a process that did not say who it is"


@contextlib.contextmanager
def folder_lock(
    folder: str | os.PathLike[str],
    me: Holder,
    *,
    timeout: float = 600.0,
    notify: Callable[[str], None] | None = None,
    notify_after: float = 2.0,
    poll: float = 0.05,
) -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` (``folder/.grid.lock``) inside the block.

    Waits while another process holds it (the lock is held for milliseconds at a time);
    ``notify`` gets one line naming the holder once the wait has lasted ``notify_after``
    seconds. The holder's description is written into the lock file.

    Raises:
        FolderBusy: still taken after ``timeout`` seconds (the message names the holder).
    """
    path = Path(folder) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        began = time.monotonic()
        deadline = began + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FolderBusy(
                        f"{folder}: locked for more than {timeout:g} s by "
                        f"{_describe_file(path)}; if that process is gone, delete {path}"
                    ) from None
                if not told and notify is not None and time.monotonic() - began >= notify_after:
                    notify(f"waiting for the lock on {folder}, held by {_describe_file(path)}")
                    told = True
                time.sleep(poll)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(dataclasses.asdict(me)).encode(), 0)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class Claims:
    """This process's claim file in ``folder/claims`` and a view of the other processes' claims.

    Use every method under :func:`folder_lock` (readers and writers of claim files then never
    see a half-written file). :meth:`close` (or the ``with`` block's end) removes the claim.
    """

    def __init__(self, folder: str | os.PathLike[str], me: Holder) -> None:
        self.folder = Path(folder)
        self.me = me
        self.path = self.folder / CLAIMS_DIR / f"{me.host}-{me.pid}.json"
        self._fd: int | None = None
        self.pairs: set[Pair] = set()

    def __enter__(self) -> Claims:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)  # our own file: free (a dead namesake's lock is gone)
            self._fd = fd
        return self._fd

    def set(self, pairs: Iterable[Pair]) -> None:
        """Claim exactly ``pairs`` (replacing the earlier claim); an empty set claims nothing."""
        self.pairs = {tuple(p) for p in pairs}  # type: ignore[misc]
        doc = {**dataclasses.asdict(self.me), "runs": sorted(self.pairs)}
        fd = self._open()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(doc).encode(), 0)

    def others(self) -> dict[Pair, Holder]:
        """Runs claimed by other live processes, with the process; claim files of processes that
        died (their lock is free) are deleted."""
        out: dict[Pair, Holder] = {}
        folder = self.folder / CLAIMS_DIR
        if not folder.is_dir():
            return out
        for path in sorted(folder.glob("*.json")):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:  # its owner is alive
                    text = path.read_text(encoding="utf-8")
                    holder = _holder_from(text)
                    if holder is None:
                        continue
                    for pair in json.loads(text).get("runs", []):
                        out[(str(pair[0]), str(pair[1]))] = holder
                    continue
                path.unlink(missing_ok=True)  # stale: its owner died
            finally:
                os.close(fd)
        return out

    def close(self) -> None:
        """Withdraw the claim (delete the file, release its lock)."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None
        self.pairs = set()
