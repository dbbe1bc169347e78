"""Former home of ``debinn fit | predict | evaluate | show``; the names older code imports.

The commands now live in :mod:`debinn_jax.commands.fit` (``fit``) and
:mod:`debinn_jax.commands.model` (``predict``, ``evaluate``, ``show``), with the helpers they
share in :mod:`debinn_jax.commands.common`. This module registers no command.
"""

from __future__ import annotations

from debinn_jax.commands.common import check_output_path, probability_cap
from debinn_jax.commands.common import class_indices as _class_indices
from debinn_jax.commands.fit import check_one_class as _check_one_class

__all__ = ["_check_one_class", "_class_indices", "check_output_path", "probability_cap"]
