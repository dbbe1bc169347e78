"""The ``debinn`` command line: thin parsing around the library.

Every sub-command lives in ``debinn_jax.commands.<module>`` and registers itself through
``register(subparsers)``. Errors a user can fix (bad paths, bad columns, bad settings: a
:class:`~debinn_jax.errors.UserError`, a ValueError, a missing file) end the program with exit
code 2 and one line on stderr; nothing already written is lost. ``python -m debinn_jax.cli``
is the same program as ``debinn``.

Start-up is fast: building the parser imports no jax, scikit-learn or matplotlib (every
command imports what it needs inside its ``run`` function), so ``debinn --help`` and
``debinn --version`` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

# UserError and os_error_text live in debinn_jax.errors; imported here for the program and for
# code that still imports them from debinn_jax.cli
from debinn_jax.errors import UserError, os_error_text

_COMMAND_MODULES = ("info", "fit", "model", "grid", "replay", "study", "bench", "data")

NO_CACHE_HELP = (
    "do not use the persistent compilation cache (default: on, in $DEBINN_CACHE_DIR, else "
    "$XDG_CACHE_HOME/debinn-jax/jax-cache or ~/.cache/debinn-jax/jax-cache; DEBINN_CACHE=0 "
    "also switches it off)"
)

#: Set this environment variable (to anything but "" or "0") to see the traceback of an
#: unexpected error instead of its one-line summary.
TRACEBACK_ENV = "DEBINN_TRACEBACK"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available sub-command."""
    parser = _Parser(
        prog="debinn",
        description="DEBI-NN in JAX: train, evaluate and study distance-encoding networks.",
    )
    from debinn_jax import __version__

    parser.add_argument("--version", action="version", version=f"debinn-jax {__version__}")
    parser.add_argument("--no-cache", action="store_true", default=False, help=NO_CACHE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        module_name = f"debinn_jax.commands.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(sub)
    for command in sub.choices.values():  # also after the command: debinn fit --no-cache
        command.add_argument(
            "--no-cache", action="store_true", default=argparse.SUPPRESS, help=NO_CACHE_HELP
        )
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Below(logging.Filter):
    """Passes records below a level (INFO lines to stdout, warnings go to stderr)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level


class _Prefixed(logging.Formatter):
    """``debinn fit: warning: <message>`` (one line, like the command's own errors)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.name}: {record.levelname.lower()}: {_one_line(record.getMessage())}"


@contextlib.contextmanager
def _library_logging(name: str):  # noqa: ANN202 - a context manager
    """Show the library's log records while a command runs: INFO (progress lines) as they
    are on stdout, warnings and errors as ``debinn CMD: warning: ...`` on stderr. The library
    itself configures no handler (:mod:`logging` convention)."""
    logger = logging.getLogger("debinn_jax")
    out = logging.StreamHandler(sys.stdout)
    out.setLevel(logging.INFO)
    out.addFilter(_Below(logging.WARNING))
    out.setFormatter(logging.Formatter("%(message)s"))
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(_Prefixed(name))
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(out)
    logger.addHandler(err)
    try:
        yield
    finally:
        logger.removeHandler(out)
        logger.removeHandler(err)
        logger.setLevel(level)


def _compilation_cache(args: argparse.Namespace, name: str) -> None:
    """Switch JAX's persistent compilation cache on (or off with ``--no-cache``) before the
    command runs (:mod:`debinn_jax.cache`)."""
    from debinn_jax import cache

    if args.no_cache:
        cache.disable_compilation_cache()
        return
    try:
        cache.enable_compilation_cache()
    except (OSError, ValueError) as exc:  # an unusable directory must not stop the command
        print(f"{name}: warning: {_one_line(str(exc))} (the cache is off)", file=sys.stderr)
        cache.disable_compilation_cache()


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM handler of the ``debinn`` program: end like Ctrl-C, with exit code 143."""
    from debinn_jax.stopping import RunInterrupted

    raise RunInterrupted(signum, "stopped by SIGTERM")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``debinn`` console script; returns the exit code.

    ``argv`` None means "the program itself" (``sys.argv``): Ctrl-C then ends the process at
    once with exit code 130 (``os._exit`` after flushing the output), so no JAX work left in
    other threads can crash the interpreter's shutdown, and SIGTERM likewise with exit code
    143. A training loop that is running when either signal arrives stops after its current
    compiled chunk and the message says where (:mod:`debinn_jax.stopping`). With an explicit
    ``argv`` (tests, other Python code) the exit code is returned instead.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    name = f"debinn {args.command}"
    if argv is None and threading.current_thread() is threading.main_thread():
        # ``kill`` / ``scancel`` / a scheduler's time limit: the same clean end as Ctrl-C
        # (training loops catch it themselves and stop after the current compiled chunk)
        signal.signal(signal.SIGTERM, _terminated)
    try:
        with _library_logging(name):
            _compilation_cache(args, name)
            return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        text = os_error_text(exc) if isinstance(exc, OSError) else str(exc)
        print(f"{name}: error: {_one_line(text)}", file=sys.stderr)
        return 2
    except OSError as exc:  # IsADirectoryError, a full disk, a read-only file system, ...
        print(f"{name}: error: {_one_line(os_error_text(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        # RunInterrupted (a KeyboardInterrupt) says which signal and where the run stopped
        text = str(exc) if str(exc) else "interrupted"
        code = getattr(exc, "exit_code", 130)
        print(f"{name}: {_one_line(text)}", file=sys.stderr)
        if argv is None:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code
    except Exception as exc:  # a bug: one line unless DEBINN_TRACEBACK is set
        if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
            raise
        print(
            f"{name}: internal error: {type(exc).__name__}: {_one_line(str(exc))} (this is a "
            f"bug in debinn-jax; set {TRACEBACK_ENV}=1 to see the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    # ``python -m debinn_jax.cli``: the same program as the ``debinn`` entry point (UserError
    # lives in debinn_jax.errors, so this copy of the module catches the commands' errors too)
    sys.exit(main())
