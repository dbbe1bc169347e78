"""The Python blocks of docs/jax.md run as printed: each block followed by an ``Output:`` text
block prints exactly those lines (blocks run in order, in one namespace)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "jax.md"
BLOCK = re.compile(r"```python\n(.*?)```\n\nOutput:\n\n```text\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    """(code, expected output) pairs of the page, in order."""
    return BLOCK.findall(PAGE.read_text())


def test_the_page_has_checked_examples() -> None:
    assert len(examples()) >= 4
    assert "```python" in PAGE.read_text()


@pytest.mark.slow  # trains a Flax model and runs 200 evosax generations (about 30 s)
def test_every_example_prints_what_the_page_shows() -> None:
    namespace: dict = {}
    for i, (code, expected) in enumerate(examples()):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{PAGE.name} block {i}", "exec"), namespace)
        assert out.getvalue() == expected, f"block {i}"
