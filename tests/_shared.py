"""Where tests find the shared data and the authors' reference files (imported by tests).

``$DEBINN_DATA_DIR`` / ``$DEBINN_REFERENCE_DIR``, else ``<repo>/../shared/data`` and
``<repo>/../shared/reference``; tests that need them skip with a message naming the path.
"""

from __future__ import annotations

import os
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def data_dir() -> Path:
    """``$DEBINN_DATA_DIR``, else ``<repo>/../shared/data``."""
    env = os.environ.get("DEBINN_DATA_DIR")
    return Path(env) if env else _SHARED / "data"


def reference_dir() -> Path:
    """``$DEBINN_REFERENCE_DIR``, else ``<repo>/../shared/reference``."""
    env = os.environ.get("DEBINN_REFERENCE_DIR")
    return Path(env) if env else _SHARED / "reference"
