"""The ``debinn`` command line: thin parsing around the library.

Every sub-command lives in ``debinn_jax.commands.<module>`` and registers itself through
``register(subparsers)``. Errors a user can fix (bad paths, bad columns, bad settings) end the
program with exit code 2 and one line on stderr; nothing already written is lost.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

_COMMAND_MODULES = ("info", "user", "grid", "study", "bench")


class UserError(Exception):
    """An error caused by the user's input; printed as one line, exit code 2."""


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        module_name = f"debinn_jax.commands.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``debinn`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"debinn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"debinn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
