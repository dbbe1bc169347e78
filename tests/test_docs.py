"""The README and the docs pages: links stay inside the repository, the site's navigation is
complete, and every printed example output is current.

Fast checks read the committed files only. The slow test runs every example of
``docs/examples/`` again and compares its output with the stored one (run times masked).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXAMPLES = DOCS / "examples"
PAGES = sorted(p for p in DOCS.rglob("*.md") if EXAMPLES not in p.parents)
MARKDOWN = [REPO / "README.md", *PAGES]
#: Paths of the development machine and names of internal documents: never in user docs.
FORBIDDEN = (
    "../shared",
    "shared/data",
    "shared/reference",
    "shared/design",
    "/work/",
    "/home/",
    "/root/",
    "/Users/",
    "DEBINN-SPEC",
    "DEBINN-2025",
    "JAX-NOTES",
    "ARCHITECTURE.md",
)
#: Figures copied into docs/images from the committed results they show.
COPIED_FIGURES = {
    "moons_decision_boundaries.png": "experiments/results/reproduce/moons_decision_boundaries.png",
    "grid2025_float32_boxplot.png": "experiments/results/grid2025/float32/boxplot.png",
}
INLINE_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
FENCE = re.compile(r"^\s*(```+|~~~+)")
EXTERNAL = ("http://", "https://", "mailto:")


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


regenerate = _module(EXAMPLES / "regenerate.py", "docs_examples_regenerate")


def _prose(text: str, inline_code: bool = False) -> str:
    """``text`` without fenced code blocks and, unless ``inline_code``, without inline code
    (links there are not links)."""
    out, fence = [], None
    for line in text.splitlines():
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        out.append(line if inline_code else re.sub(r"`+[^`]*`+", "", line))
    return "\n".join(out)


def slugify(heading: str) -> str:
    """The anchor of a heading, as mkdocs (Python-Markdown's toc) and GitHub make it for the
    headings these docs use."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    return {
        slugify(m.group(1))
        for m in re.finditer(
            r"^#{1,6}\s+(.+?)\s*#*\s*$", _prose(path.read_text(), inline_code=True), re.M
        )
    }


def links(path: Path) -> list[str]:
    prose = _prose(path.read_text())
    return [
        m.group(1)
        for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK)
        for m in pattern.finditer(prose)
    ]


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", MARKDOWN, ids=_name)
def test_no_path_outside_the_repository(path: Path) -> None:
    text = path.read_text()
    found = [s for s in FORBIDDEN if s in text]
    assert not found, f"{_name(path)} mentions {found}: user docs stay inside the repository"


@pytest.mark.parametrize("path", MARKDOWN, ids=_name)
def test_links_resolve_inside_the_repository(path: Path) -> None:
    problems = []
    for link in links(path):
        if link.startswith(EXTERNAL):
            continue
        target, _, anchor = link.partition("#")
        if target.startswith("/") or re.match(r"^[a-zA-Z][\w+.-]*:", target):
            problems.append(f"{link}: an absolute path or another scheme")
            continue
        resolved = (path.parent / target).resolve() if target else path
        try:
            resolved.relative_to(REPO)
        except ValueError:
            problems.append(f"{link}: points outside the repository")
            continue
        if path in PAGES and DOCS not in resolved.parents and resolved != DOCS:
            problems.append(f"{link}: a docs page may link only to files under docs/")
            continue
        if not resolved.exists():
            problems.append(f"{link}: no such file")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{link}: no heading with that anchor in {_name(resolved)}")
    assert not problems, f"{_name(path)}:\n" + "\n".join(problems)


def test_the_link_checks_catch_bad_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title here\n\n[a](../shared/data) [b](https://example.org) ![c](img.png)\n"
        "```bash\n[not a link](nowhere)\n```\n[d]: other.md#part\n"
    )
    assert links(page) == ["../shared/data", "https://example.org", "img.png", "other.md#part"]
    assert anchors(page) == {"title-here"}
    assert slugify("The authors' regulariser grid (`debinn grid`)") == (
        "the-authors-regulariser-grid-debinn-grid"
    )


def test_every_page_is_in_the_site_navigation() -> None:
    config = (REPO / "mkdocs.yml").read_text()
    nav = re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w./-]+\.md)\s*$", config, re.M)
    pages = sorted(str(p.relative_to(DOCS)) for p in PAGES)
    assert sorted(nav) == pages
    assert re.search(r"^strict:\s*true\s*$", config, re.M)


def test_the_site_output_is_not_committed() -> None:
    ignored = (REPO / ".gitignore").read_text().split()
    assert "site/" in ignored


@pytest.mark.parametrize("figure", sorted(COPIED_FIGURES))
def test_copied_figures_equal_their_results(figure: str) -> None:
    assert (DOCS / "images" / figure).read_bytes() == (REPO / COPIED_FIGURES[figure]).read_bytes()


@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs not installed (docs extra)")
def test_site_builds_strictly(tmp_path: Path) -> None:
    done = subprocess.run(
        ["mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------------------------
# Printed example outputs
# --------------------------------------------------------------------------------------------


def test_example_outputs_are_current() -> None:
    problems = regenerate.committed_problems()
    assert not problems, (
        "run `python docs/examples/regenerate.py [NAME]` and commit the result:\n"
        + "\n".join(problems)
    )


def test_every_example_is_shown_somewhere() -> None:
    shown = {m["name"] for p in MARKDOWN for m in regenerate.BLOCK.finditer(p.read_text())}
    assert shown == {e.name for e in regenerate.examples()}


def test_a_stale_example_is_detected(tmp_path: Path, monkeypatch) -> None:
    source = tmp_path / "demo.py"
    source.write_text("print('hello')\n")
    monkeypatch.setattr(regenerate, "OUTPUTS", tmp_path / "outputs")
    example = regenerate.Example(source)
    monkeypatch.setattr(regenerate, "_versions", lambda: {})
    regenerate.store(example, "hello\n", 0.1)
    page = (
        "<!-- begin example demo source -->\nold\n<!-- end example -->\n"
        "<!-- begin example demo output -->\n<!-- end example -->\n"
    )
    new, problems = regenerate.sync_text(page, {"demo": example})
    assert not problems
    assert new == (
        "<!-- begin example demo source -->\n```python\nprint('hello')\n```\n<!-- end example -->\n"
        "<!-- begin example demo output -->\n```text\nhello\n```\n<!-- end example -->\n"
    )
    record = regenerate.json.loads(example.record_path.read_text())
    assert record["source_sha256"] == regenerate.sha256(source.read_text())
    source.write_text("print('changed')\n")
    assert record["source_sha256"] != regenerate.sha256(source.read_text())


def test_shell_sessions_split_into_commands() -> None:
    session = "# needs: data x as y\n\n# a comment\necho a\necho b \\\n  c\n"
    assert regenerate._commands(session) == ["echo a", "echo b \\\n  c"]
    assert regenerate.normalised("trained in 20.3 s, 8.4 gen/s (0.1 s)") == (
        "trained in <time>, <time> (<time>)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", [e.name for e in regenerate.examples()])
def test_example_prints_its_stored_output(name: str) -> None:
    example = next(e for e in regenerate.examples() if e.name == name)
    missing = regenerate.missing_inputs(example)
    if missing:
        pytest.skip(f"{name} needs {'; '.join(missing)}")
    fresh = regenerate.run_example(example)
    stored = example.output_path.read_text()
    assert regenerate.normalised(fresh) == regenerate.normalised(stored), (
        f"{name} prints something else now: run `python docs/examples/regenerate.py {name}`"
    )
