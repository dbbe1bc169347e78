"""The settings dialect shared by ``debinn fit --config`` and the study's TOML files.

One set of rules for settings written in TOML or JSON:

* ``"none"`` (or ``"None"``) stands for Python None (TOML has no null): ``early_stopping =
  "none"``, ``run_batch_size = "none"``;
* lists become tuples (``hidden = [85, 64]``, ``leave_out = [0.2, 0.5, 0.05]``);
* a top-level ``[loss]`` table (:class:`~debinn_jax.loss.LossConfig` fields) applies to every
  trainer, and a trainer's own ``[ga.loss]`` / ``[gd.loss]`` keys win over it.

Unknown sections and keys stay errors that name them (the readers check them).
"""

from __future__ import annotations

from collections.abc import Mapping
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
