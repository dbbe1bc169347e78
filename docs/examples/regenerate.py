"""Run the documentation's examples and write their printed output into the docs.

Every example whose output the README or a docs page prints lives here, in
``docs/examples/``: a Python script (``NAME.py``, run with this interpreter) or a shell session
(``NAME.sh``, one command per line, run with bash; lines ending in ``\\`` continue). Each runs in
a fresh temporary folder. Its output is stored in ``outputs/NAME.txt`` (a shell session as a
transcript: ``$ command`` followed by what the command printed) and ``outputs/NAME.json``
(the SHA-256 of the source and of the output, the date, the run time, the versions).

Markdown files show examples between markers::

    <!-- begin example NAME source -->     the example's code (header lines removed)
    <!-- begin example NAME output -->     its stored output
    <!-- end example -->

and this script rewrites the text between the markers. The default test suite checks that
every stored output belongs to the current source and that every marked block equals it; a
slow test runs the examples again (``--check``).

An example that needs files a fresh clone does not have names them in header lines::

    # needs: data dlbcl/Fold-1 as Fold-1
    # needs: reference models/DLBCL-2H-Hinton-S69/BestModel.bin as BestModel.bin

``data`` is the datasets folder (``$DEBINN_DATA_DIR``, else the one the library finds), and
``reference`` the authors' published files (``$DEBINN_REFERENCE_DIR``); each is linked into
the example's folder under the name after ``as``. Without them the example is skipped.

Usage::

    python docs/examples/regenerate.py              # run every example, update the docs
    python docs/examples/regenerate.py NAME ...     # only these examples
    python docs/examples/regenerate.py --sync       # no runs: copy stored outputs into the docs
    python docs/examples/regenerate.py --check      # run, compare with the stored outputs
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUTPUTS = HERE / "outputs"
SUFFIXES = (".py", ".sh")
NEEDS = re.compile(r"^# needs: (data|reference) (\S+) as (\S+)\s*$")
BLOCK = re.compile(
    r"(?P<open><!-- begin example (?P<name>[\w-]+) (?P<kind>source|output) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- end example -->)",
    re.S,
)
#: Run times and rates vary from run to run; --check compares the rest.
TIMING = re.compile(r"\d+(?:\.\d+)?(?: ?(?:gen/s|epochs/s|ms|s|min))\b")


@dataclass(frozen=True)
class Example:
    """One example file."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def source(self) -> str:
        return self.path.read_text()

    @property
    def needs(self) -> list[tuple[str, str, str]]:
        """``(kind, path, link name)`` of every ``# needs:`` header line."""
        return [m.groups() for m in map(NEEDS.match, self.source.splitlines()) if m]

    def shown_source(self) -> str:
        """The source as the docs show it: without the header lines and blank lines after
        them."""
        lines = self.source.splitlines()
        while lines and (NEEDS.match(lines[0]) or not lines[0].strip()):
            lines.pop(0)
        return "\n".join(lines) + "\n"

    @property
    def output_path(self) -> Path:
        return OUTPUTS / f"{self.name}.txt"

    @property
    def record_path(self) -> Path:
        return OUTPUTS / f"{self.name}.json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def examples() -> list[Example]:
    """Every example, by name."""
    found = [
        Example(p)
        for p in sorted(HERE.iterdir())
        if p.suffix in SUFFIXES and p.name != Path(__file__).name and not p.name.startswith("_")
    ]
    return found


def markdown_files() -> list[Path]:
    """The README and every docs page (the examples folder excepted)."""
    docs = [p for p in sorted((REPO / "docs").rglob("*.md")) if HERE not in p.parents]
    return [REPO / "README.md", *docs]


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def _data_dir() -> Path | None:
    from debinn_jax.data.locate import find_data_dir

    found = find_data_dir()
    return found if found is not None and found.is_dir() else None


def _reference_dir() -> Path | None:
    env = os.environ.get("DEBINN_REFERENCE_DIR")
    if env:
        return Path(env) if Path(env).is_dir() else None
    beside = REPO.parent / "shared" / "reference"  # the development machine's layout
    return beside if beside.is_dir() else None


def missing_inputs(example: Example) -> list[str]:
    """What the example needs and this machine lacks (empty: it can run)."""
    roots = {"data": _data_dir(), "reference": _reference_dir()}
    out = []
    for kind, rel, _ in example.needs:
        root = roots[kind]
        if root is None or not (root / rel).exists():
            hint = "DEBINN_DATA_DIR" if kind == "data" else "DEBINN_REFERENCE_DIR"
            out.append(f"{kind} {rel} (set {hint})")
    return out


def _link_inputs(example: Example, workdir: Path) -> None:
    roots = {"data": _data_dir(), "reference": _reference_dir()}
    for kind, rel, name in example.needs:
        (workdir / name).symlink_to((roots[kind] / rel).resolve())


def _commands(source: str) -> list[str]:
    """The commands of a shell session: comment and blank lines dropped, continued lines
    joined."""
    commands, current = [], ""
    for line in source.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line + "\n"
            continue
        commands.append(current + line)
        current = ""
    if current:
        commands.append(current.rstrip("\\\n"))
    return commands


def _env() -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # the interpreter's debinn and python first
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("COLUMNS", "100")
    return env


def run_example(example: Example, timeout: float = 1800.0) -> str:
    """Run ``example`` in a fresh temporary folder and return its output (a transcript for a
    shell session). Raises RuntimeError when a command fails."""
    with tempfile.TemporaryDirectory(prefix=f"debinn-example-{example.name}-") as tmp:
        work = Path(tmp)
        _link_inputs(example, work)
        env = _env()
        if example.path.suffix == ".py":
            done = subprocess.run(
                [sys.executable, str(example.path)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{example.name} failed:\n{done.stdout}{done.stderr}")
            return done.stdout + done.stderr
        parts = []
        for command in _commands(example.source):
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", command],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
            parts.append(f"$ {command}\n{done.stdout}")
            if done.returncode != 0:
                raise RuntimeError(f"{example.name}: `{command}` failed:\n{done.stdout}")
        return "".join(parts)


def _versions() -> dict[str, str]:
    import jax

    import debinn_jax

    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "debinn_jax": debinn_jax.__version__,
        "backend": jax.default_backend(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }


def store(example: Example, output: str, seconds: float) -> None:
    """Write the output and its record."""
    OUTPUTS.mkdir(exist_ok=True)
    example.output_path.write_text(output)
    record = {
        "source_sha256": sha256(example.source),
        "output_sha256": sha256(output),
        "generated": datetime.date.today().isoformat(),
        "seconds": round(seconds, 1),
        **_versions(),
    }
    example.record_path.write_text(json.dumps(record, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# The docs' marked blocks
# --------------------------------------------------------------------------------------------


def _fenced(text: str, lang: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}\n"


def block_text(example: Example, kind: str) -> str:
    """What the docs show between the markers of ``example``'s source or output."""
    if kind == "source":
        lang = "python" if example.path.suffix == ".py" else "bash"
        return _fenced(example.shown_source(), lang)
    return _fenced(example.output_path.read_text(), "text")


def sync_text(text: str, by_name: dict[str, Example]) -> tuple[str, list[str]]:
    """``text`` with every marked block rewritten; the problems found (unknown names, outputs
    not yet generated)."""
    problems: list[str] = []

    def replace(m: re.Match) -> str:
        name, kind = m["name"], m["kind"]
        example = by_name.get(name)
        if example is None:
            problems.append(f"unknown example {name!r}")
            return m[0]
        if kind == "output" and not example.output_path.exists():
            problems.append(f"{name}: no stored output (run regenerate.py {name})")
            return m[0]
        return m["open"] + block_text(example, kind) + m["close"]

    return BLOCK.sub(replace, text), problems


def sync_docs() -> list[str]:
    """Rewrite every marked block of the README and the docs pages; the problems found."""
    by_name = {e.name: e for e in examples()}
    problems = []
    for path in markdown_files():
        text = path.read_text()
        new, found = sync_text(text, by_name)
        problems += [f"{path.relative_to(REPO)}: {p}" for p in found]
        if new != text:
            path.write_text(new)
    return problems


def committed_problems() -> list[str]:
    """Without running anything: every stored output belongs to the current source, and every
    marked block of the docs shows the current source or stored output. Empty when all is
    current (the default test suite asserts this)."""
    by_name = {e.name: e for e in examples()}
    problems = []
    for e in by_name.values():
        if not e.output_path.exists() or not e.record_path.exists():
            problems.append(f"{e.name}: no stored output (run regenerate.py {e.name})")
            continue
        record = json.loads(e.record_path.read_text())
        if record.get("source_sha256") != sha256(e.source):
            problems.append(f"{e.name}: the source changed since its output was stored")
        if record.get("output_sha256") != sha256(e.output_path.read_text()):
            problems.append(f"{e.name}: outputs/{e.name}.txt was edited by hand")
    for stray in sorted(OUTPUTS.glob("*")) if OUTPUTS.is_dir() else []:
        if stray.stem not in by_name:
            problems.append(f"outputs/{stray.name}: no example of that name")
    for path in markdown_files():
        text = path.read_text()
        new, found = sync_text(text, by_name)
        problems += [f"{path.relative_to(REPO)}: {p}" for p in found]
        if new != text:
            problems.append(f"{path.relative_to(REPO)}: a marked block differs from its example")
    return problems


def normalised(output: str) -> str:
    """``output`` with run times and rates masked (they differ between runs)."""
    return TIMING.sub("<time>", output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="examples to run (default: all)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sync", action="store_true", help="only copy stored outputs into docs")
    mode.add_argument("--check", action="store_true", help="run and compare; write nothing")
    args = parser.parse_args(argv)
    by_name = {e.name: e for e in examples()}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown example(s) {unknown}; known: {sorted(by_name)}")
    chosen = [by_name[n] for n in args.names] if args.names else list(by_name.values())
    status = 0
    if not args.sync:
        for e in chosen:
            missing = missing_inputs(e)
            if missing:
                print(f"{e.name}: skipped, missing {'; '.join(missing)}")
                continue
            start = time.perf_counter()
            print(f"{e.name}: running ...", flush=True)
            try:
                output = run_example(e)
            except RuntimeError as exc:
                print(exc)
                status = 1
                continue
            seconds = time.perf_counter() - start
            if args.check:
                stored = e.output_path.read_text() if e.output_path.exists() else ""
                same = normalised(output) == normalised(stored)
                print(f"{e.name}: {'same' if same else 'DIFFERENT'} ({seconds:.1f} s)")
                if not same:
                    status = 1
                    sys.stdout.writelines(
                        f"  new: {a}\n  old: {b}\n"
                        for a, b in zip(
                            normalised(output).splitlines(), normalised(stored).splitlines()
                        )
                        if a != b
                    )
            else:
                store(e, output, seconds)
                print(f"{e.name}: stored ({seconds:.1f} s)")
    if args.check:
        problems = committed_problems()
    else:
        problems = sync_docs()
    for p in problems:
        print(p)
    return 1 if problems else status


if __name__ == "__main__":
    sys.exit(main())
