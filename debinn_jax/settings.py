"""The settings dialect shared by ``debinn fit --config`` and the study's TOML files.

One set of rules for settings written in TOML or JSON:

* ``"none"`` (or ``"None"``) stands for Python None (TOML has no null): ``early_stopping =
  "none"``, ``run_batch_size = "none"``;
* lists become tuples (``hidden = [85, 64]``, ``leave_out = [0.2, 0.5, 0.05]``);
* a top-level ``[loss]`` table (:class:`~debinn_jax.loss.LossConfig` fields) applies to every
  trainer, and a trainer's own ``[ga.loss]`` / ``[gd.loss]`` keys win over it.

One checker for all of them: :func:`check_setting_keys` (an unknown section or key) and
:func:`check_setting_types` (a value of the wrong type) serve the estimator's options
(:class:`~debinn_jax.estimator.DEBIClassifier`), ``debinn fit --config``, the study's TOML
files and the network spec stored in model files. Their ValueError names where the setting
stands (a section, a trainer), the key, and what was expected; a reader adds its file name.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

NONE_STRINGS = ("none", "None")
TRAINER_SECTIONS = ("ga", "gd")


def none_values(value: Any, *, lists_as_tuples: bool = False) -> Any:
    """``value`` with every ``"none"`` string (recursively, in lists and tables) as None;
    with ``lists_as_tuples`` lists become tuples too."""
    if isinstance(value, str) and value in NONE_STRINGS:
        return None
    if isinstance(value, list | tuple):
        items = [none_values(v, lists_as_tuples=lists_as_tuples) for v in value]
        return tuple(items) if lists_as_tuples or isinstance(value, tuple) else items
    if isinstance(value, Mapping):
        return {k: none_values(v, lists_as_tuples=lists_as_tuples) for k, v in value.items()}
    return value


def setting_value(value: Any) -> Any:
    """A TOML/JSON value as the library takes it: ``"none"`` -> None, lists -> tuples
    (recursively); tables (dicts) keep their keys and convert their values."""
    return none_values(value, lists_as_tuples=True)


def with_shared_loss(sections: Mapping[str, Any]) -> dict[str, Any]:
    """``sections`` with a top-level ``loss`` table merged into each trainer section's ``loss``
    (the trainer's own keys win) and removed; every other section unchanged (copied)."""
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in sections.items()}
    shared = out.pop("loss", None)
    if not shared:
        return out
    for name in TRAINER_SECTIONS:
        section = out.setdefault(name, {})
        own = section.get("loss")
        section["loss"] = {**shared, **(own if isinstance(own, Mapping) else {})}
    return out


# --------------------------------------------------------------------------------------------
# checks


def setting_names(cls: type, *, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """The field names of dataclass ``cls`` (the settings it takes), in order, less ``exclude``."""
    skip = set(exclude)
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in skip)


def check_setting_keys(
    where: str, options: Mapping[str, Any], allowed: Iterable[str], *, kind: str = "setting"
) -> None:
    """Raise ValueError for the first key of ``options`` that is not in ``allowed``.

    The message is ``unknown <where> <kind> 'key'; expected a, b, c`` (``where`` such as
    ``"[ga]"`` or ``"ga.loss"``, or empty; ``kind`` such as ``"setting"`` or ``"section"``),
    with ``(did you mean 'b'?)`` after the key when one name is close.
    """
    allowed = tuple(allowed)
    for key in options:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        place = f"{where} " if where else ""
        raise ValueError(f"unknown {place}{kind} {key!r}{hint}; expected {', '.join(allowed)}")


#: Hints added to a type error of a setting.
_SETTING_HINTS = {
    "class_weights": "true weights class c by K (1 - n_c / N), false gives every class weight 1; "
    "per-class values are not supported",
}
_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
_SCALAR_TOKENS = {"bool", "int", "float", "str", "None"}


def _expected(tokens: set[str], none_strings: bool) -> str:
    parts = []
    if "bool" in tokens:
        parts.append("true or false")
    if "float" in tokens:
        parts.append("a number")
    elif "int" in tokens:
        parts.append("an integer")
    if "str" in tokens:
        parts.append("a string")
    if none_strings and "None" in tokens and "str" not in tokens:
        parts.append('"none"')
    return " or ".join(parts)


def _type_ok(value: Any, tokens: set[str]) -> bool:
    import numpy as np  # numpy scalars count as numbers (arrays and DataFrames hand them over)

    if value is None:
        return "None" in tokens
    if isinstance(value, bool | np.bool_):
        return "bool" in tokens
    if isinstance(value, int | float | np.integer | np.floating):
        return bool(tokens & {"int", "float"})
    if isinstance(value, str):
        return "str" in tokens
    return False


def check_setting_types(
    where: str, options: Mapping[str, Any], cls: type, *, none_strings: bool = False
) -> None:
    """Check the type of every setting in ``options`` that is a scalar field of dataclass ``cls``.

    A string is not a number or a boolean (``alpha = "0.9"``, ``class_weights = "false"``), a
    number is not a boolean, a list or a table is not a scalar. Fields of other types (tuples,
    nested configs, ``Any``) and unknown names are left to other checks
    (:func:`check_setting_keys`, the dataclass itself).

    ``none_strings``: the values are as written in a settings file, where ``"none"`` means no
    value (:data:`NONE_STRINGS`); it is accepted where the field takes None or a string.

    Raises:
        ValueError: ``<where> setting 'name' must be <type>, got <value> (<its type>)``.
    """
    for field in dataclasses.fields(cls):
        if field.name not in options:
            continue
        tokens = set(re.findall(r"[A-Za-z_]+", str(field.type)))
        if not tokens <= _SCALAR_TOKENS:
            continue
        value = options[field.name]
        is_none_string = none_strings and isinstance(value, str) and value in NONE_STRINGS
        if is_none_string and tokens & {"None", "str"}:
            continue
        if not is_none_string and _type_ok(value, tokens):
            continue
        kind = _TYPE_NAMES.get(type(value), f"a {type(value).__name__}")
        hint = ""
        if is_none_string:
            hint = f"; {value!r} means no value, and this setting needs one"
        elif isinstance(value, str) and "str" not in tokens:
            hint = "; a quoted value is a string: write it without quotes"
        if field.name in _SETTING_HINTS:
            hint += f"; {_SETTING_HINTS[field.name]}"
        place = f"{where} " if where else ""
        raise ValueError(
            f"{place}setting {field.name!r} must be {_expected(tokens, none_strings)}, got "
            f"{value!r} ({kind}){hint}"
        )
