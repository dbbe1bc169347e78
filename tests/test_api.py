"""The public namespace is deliberate: every name resolves, is documented in the package
docstring and has a docstring of its own; internals stay in their modules."""

from __future__ import annotations

import inspect

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
