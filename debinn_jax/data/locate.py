"""Where the real datasets are: one lookup for the command line, the study and the scripts."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "DEBINN_DATA_DIR"


def find_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding ``dlbcl/``, ``hecktor-lite/`` and ``ctg/``.

    In order: ``explicit`` (returned as given, even if missing, so the caller can name it in
    an error); ``$DEBINN_DATA_DIR`` (likewise); ``../shared/data`` relative to the working
    directory; ``../shared/data`` beside the source checkout of this package. None when none
    of the last two exists.
    """
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    for candidate in (
        Path("..") / "shared" / "data",
        Path(__file__).resolve().parents[2].parent / "shared" / "data",
    ):
        if candidate.is_dir():
            return candidate
    return None
