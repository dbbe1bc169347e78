"""One of the authors' runs, repeated exactly from its settings (``debinn replay``).

:func:`replay_run` trains one settings column with the authors' random streams
(``GAConfig(replay=True)``, float64) on a fold and, given the model file the authors' program
wrote for that run, compares the two genomes gene by gene. The settings come from the model
file itself (its metadata holds them), from a Qt ``settings.ini`` (:func:`read_settings_ini`) or
from a column of an ``executionSettings.csv``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data.dataset import DataError, Fold
from debinn_jax.execution.translate import GridRun, grid_run


def read_settings_ini(path: str | Path) -> dict[str, str]:
    """A Qt ``settings.ini`` of the authors' program as ``{"Section/Key/Sub": value}`` (the
    keys of ``executionSettings.csv``: ``[Model]`` + ``Layers\\Hidden\\NeuronCount`` ->
    ``Model/Layers/Hidden/NeuronCount``); quotes around a value are removed.

    Raises:
        DataError: the file cannot be read, or a line is neither a section, a key=value pair,
            a comment nor blank (the message names the line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise DataError(f"{path}: cannot read the settings ({err.strerror})") from None
    out: dict[str, str] = {}
    section = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        m = re.fullmatch(r"\[(.+)\]", line)
        if m:
            section = m.group(1).strip()
            continue
        if "=" not in line:
            raise DataError(f"{path}: line {n}: expected [Section] or Key=Value, got {raw!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        key = key.replace("\\", "/")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[f"{section}/{key}" if section and section != "General" else key] = value
    return out


@dataclasses.dataclass(frozen=True)
class Replayed:
    """Outcome of :func:`replay_run`.

    Attributes:
        run: the settings column as a run.
        result: the GA's result (``train_ga``).
        genome: the final genome in the authors' gene order ``(G,)``.
        max_abs_diff: largest |difference| to the reference genome (None without one).
        test: test metrics of the replayed model (fractions), or None without test labels.
        stored_test: the reference model file's stored test metrics, or None.
    """

    run: GridRun
    result: Any
    genome: np.ndarray
    max_abs_diff: float | None
    test: dict[str, float] | None
    stored_test: dict[str, float] | None

    @property
    def stop_iteration(self) -> int:
        """The authors' iteration before which the run stopped (``generations_run - 1``)."""
        return self.result.generations_run - 1


def replay_run(
    settings: Mapping[str, str],
    fold: Fold,
    *,
    rules: str = "msvc",
    name: str = "replay",
    reference: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    source: str | None = None,
) -> Replayed:
    """Train one settings column with the authors' random streams and compare it.

    Args:
        settings: the column's ``Key -> value`` settings (``executionSettings.csv`` keys; a
            missing ``Data`` is filled with the fold's folder name).
        fold: the data (the training split's row keys make the authors' splits).
        rules: ``"msvc"`` (the authors' published Windows runs) or ``"libstdc++"``.
        name: the run's name in messages.
        reference: the authors' model file of this run (``*BestModel.bin``), to compare with.
        progress: called with a line per chunk of generations.
        source: where the settings come from, for messages (default ``name``).

    Returns:
        A :class:`Replayed`.
    """
    import jax

    from debinn_jax.authors import coords_to_genome
    from debinn_jax.authors_file import read_authors_file
    from debinn_jax.execution.grid import _binary_metrics, precision
    from debinn_jax.ga import train_ga

    values = dict(settings)
    values.setdefault("Data", Path(str(getattr(fold, "path", "data"))).name or "data")
    run = grid_run(values, name, fold.n_features, fold.n_classes, source=source or name)
    cfg = dataclasses.replace(run.config, replay=True, cpp_rules=rules)
    ref = None if reference is None else read_authors_file(reference)
    with precision("float64"):
        callback = None
        if progress is not None:

            def callback(generation: int, history: Mapping[str, Any]) -> bool:
                progress(f"  generation {generation + 1}")
                return False

        result = train_ga(
            run.spec,
            np.asarray(fold.train.X, np.float64),
            np.asarray(fold.train.y),
            jax.random.key(0),  # unused by a replay
            cfg,
            keys=fold.train.keys,
            callback=callback,
        )
        genome = np.asarray(coords_to_genome(run.spec, result.coords))
        test = None
        if fold.test is not None and len(fold.test.y):
            test = _binary_metrics(fold.test.y, result.predict_proba(fold.test.X))
    diff = None
    stored = None
    if ref is not None:
        if ref.genome.shape != genome.shape:
            raise DataError(
                f"{reference}: the model has {ref.genome.shape[0]} genes, the settings give "
                f"{genome.shape[0]}: not the model of these settings"
            )
        diff = float(np.max(np.abs(genome - ref.genome)))
        if "Test" in ref.metric_parts():
            stored = ref.metrics("Test")
    return Replayed(run, result, genome, diff, test, stored)
