"""The public namespace is deliberate: every name resolves, is documented in the package
docstring and has a docstring of its own; internals stay in their modules."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import debinn_jax as dj

INTERNALS = (
    "write_json_atomic",
    "write_text_atomic",
    "log_proba_t",
    "scores_t",
    "sample_terms",
    "masked_loss",
    "reflect_z",
    "init_starts",
    "GD_NETWORK_OPTIONS",
)


@pytest.mark.parametrize("name", dj.__all__)
def test_every_public_name_resolves_and_is_documented(name):
    value = getattr(dj, name)
    if name == "__version__":
        assert isinstance(value, str)
        return
    assert f"``{name}``" in dj.__doc__, f"{name} missing from the package docstring"
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismodule(value):
        assert inspect.getdoc(value), f"{name} has no docstring"


def test_no_private_or_internal_names():
    assert all(not n.startswith("_") or n == "__version__" for n in dj.__all__)
    for name in INTERNALS:
        assert name not in dj.__all__
        with pytest.raises(AttributeError):
            getattr(dj, name)


def test_the_docstring_lists_nothing_that_is_not_exported():
    import re

    listed = set(re.findall(r"``([A-Za-z_][A-Za-z0-9_]*)``", dj.__doc__))
    modules = {"debinn_jax", "__version__", "DEBIClassifier", "NetworkSpec"}
    assert listed - set(dj.__all__) - modules == set()


#: What sits on top of the library: the benchmark, the reproduction study and the command line.
OUTSIDE_THE_CORE = ("debinn_jax.bench", "debinn_jax.study", "debinn_jax.commands", "debinn_jax.cli")
PACKAGE = Path(dj.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _debinn_imports(path: Path) -> set[str]:
    """Every ``debinn_jax.*`` module ``path`` imports anywhere (in functions too): ``import X``,
    ``from X import a`` (X and X.a, as ``a`` may be a submodule), relative imports resolved, and
    ``importlib.import_module("X")`` with a literal name."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return {m for m in found if m == "debinn_jax" or m.startswith("debinn_jax.")}


def _outside_the_core(module: str) -> bool:
    return any(module == top or module.startswith(f"{top}.") for top in OUTSIDE_THE_CORE)


def _core_modules() -> list[Path]:
    """Every module of the package but the benchmark, the study and the command line."""
    return [
        path for path in sorted(PACKAGE.rglob("*.py")) if not _outside_the_core(_module_name(path))
    ]


def test_the_core_never_imports_the_benchmark_the_study_or_the_command_line():
    """Imports point one way: ``bench``, ``study`` and ``commands``/``cli`` use the core, the core
    (network, loss, data, ga, gd, sweep, io, ...) never imports them, not even inside a function.
    Read from the source (``ast``; no module is imported), then the lazy namespace's table."""
    core = {_module_name(path): path for path in _core_modules()}
    for name in ("network", "loss", "data", "ga", "gd", "sweep", "io", "estimator", "settings"):
        assert f"debinn_jax.{name}" in core, f"debinn_jax.{name} missing from the core modules"
    bad = [
        f"{module} imports {target}"
        for module, path in core.items()
        for target in sorted(_debinn_imports(path))
        if _outside_the_core(target)
    ]
    assert not bad, "the core must not import bench/study/commands/cli: " + "; ".join(bad)
    for name, module in dj._LAZY.items():  # the lazy public namespace is core too
        assert not _outside_the_core(module or f"debinn_jax.{name}"), name
