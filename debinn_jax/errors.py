"""Errors a user can fix, and how they read as one line.

:class:`UserError` is raised by the commands (and may be by library code) for a problem in the
user's input: a bad path, column or setting. The ``debinn`` program (:mod:`debinn_jax.cli`)
prints it as one line, ``debinn CMD: error: <message>``, and exits with code 2. This module
imports nothing of the command line, so the commands and the library can raise it without
importing :mod:`debinn_jax.cli` (which re-exports it for older imports).
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the user's input; printed as one line, exit code 2."""


def os_error_text(exc: OSError) -> str:
    """One line for an OSError: ``<file>: <reason>`` when it names a file, else its message."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)
