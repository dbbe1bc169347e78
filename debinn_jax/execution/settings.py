"""Reading the authors' execution folders: ``executionSettings.csv`` and the regulariser grid.

An execution folder of the authors' program holds ``executionSettings.csv`` (``;``-separated;
first column the setting keys, then one column per setting, e.g. ``2H-Hinton-S1`` ...) and
``DataPool/<Data>/Dataset/Fold-*``. :func:`read_execution_settings` reads the file into an
:class:`ExecutionSettings` (column names and ``key -> raw value`` per column; a malformed file is
one line naming the file, row or column). :func:`regulariser_grid` generates the authors' 2025
128-setting grid (:data:`BASE_COLUMN` with the :data:`GRID_BITS` set per setting) as the same
structure. Nothing here interprets a value: :mod:`debinn_jax.execution.translate` does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from debinn_jax.data.dataset import DataError
from debinn_jax.data.locate import natural_key

SETTINGS_FILE = "executionSettings.csv"


@dataclasses.dataclass(frozen=True)
class ExecutionSettings:
    """The columns of an ``executionSettings.csv``.

    Attributes:
        path: the file.
        names: column names (``2H-Hinton-S1`` ...), in file order.
        columns: per column, ``key -> raw value``.
    """

    path: str
    names: tuple[str, ...]
    columns: tuple[dict[str, str], ...]


def settings_file(path: str | Path) -> Path:
    """``path`` itself, or ``path/executionSettings.csv`` for an execution folder."""
    p = Path(path)
    if p.is_dir():
        p = p / SETTINGS_FILE
    if not p.is_file():
        raise DataError(f"{p}: no such file; expected an execution folder or {SETTINGS_FILE}")
    return p


def read_execution_settings(path: str | Path) -> ExecutionSettings:
    """Read ``executionSettings.csv`` (or the one in an execution folder).

    Raises:
        DataError: a missing or malformed file (one line naming the file, row or column).
    """
    p = settings_file(path)
    try:
        lines = [ln for ln in p.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    except UnicodeDecodeError as err:
        raise DataError(f"{p}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    if len(lines) < 2:
        raise DataError(f"{p}: expected a header row and one row per setting key")
    header = [c.strip() for c in lines[0].split(";")]
    if len(header) < 2:
        raise DataError(f"{p}: the header has no setting columns (expected ';'-separated)")
    names = tuple(header[1:])
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"{p}: duplicate setting column(s) {dupes}")
    columns: list[dict[str, str]] = [{} for _ in names]
    for i, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(";")]
        if len(cells) != len(header):
            raise DataError(f"{p}, row {i}: {len(cells)} fields, expected {len(header)}")
        key = cells[0]
        if key in columns[0]:
            raise DataError(f"{p}, row {i}: key {key!r} appears twice")
        for col, value in zip(columns, cells[1:]):
            col[key] = value
    return ExecutionSettings(str(p), names, tuple(columns))


# --------------------------------------------------------------------------------------------
# the authors' regulariser grid, generated

#: One column of the authors' 2025 grid with every regulariser off (DEBINN-2025.md sections
#: 2-5); :func:`regulariser_grid` fills in the data name, the layer sizes and the 7 bits.
BASE_COLUMN: dict[str, str] = {
    "Data": "",
    "Model/Layers/Input/ActionType": "LReLu",
    "Model/Layers/Input/DistanceType": "GaussianConst",
    "Model/Layers/Input/Geometry": "Euclidean",
    "Model/Layers/Input/NeuronCount": "1",
    "Model/Layers/Hidden/NeuronCount": "",
    "Model/Layers/Hidden/ActionType": "LReLu",
    "Model/Layers/Hidden/DistanceType": "GaussianConst",
    "Model/Layers/Hidden/Geometry": "Euclidean",
    "Model/Layers/Hidden/GroupCount": "AUTO",
    "Model/Layers/Hidden/DropoutProbability": "AUTO",
    "Model/Layers/Output/ActionType": "LReLu",
    "Model/Layers/Output/DistanceType": "GaussianConst",
    "Model/Layers/Output/Geometry": "Euclidean",
    "Model/Layers/Output/NeuronCount": "2",
    "Model/Layers/Output/DropoutProbability": "0",
    "Model/LayerZSnappingMethod": "None",
    "Model/SpatialInitializationType": "Singularity",
    "Model/AbsoluteZCoordinates": "FALSE",
    "Model/DistanceRegularizationThreshold": "AUTO",
    "Analytics/Type": "LossAnalytics",
    "Analytics/Loss/Unit": "EntropyLoss",
    "Analytics/Loss/Alpha": "1",
    "Optimizer/GenerationTraining": "Single",
    "Optimizer/MaximumMutationRate": "2",
    "Optimizer/MinimumMutationRate": "0.5",
    "Optimizer/MutationDelta": "1",
    "Optimizer/PopulationCount": "AUTO",
    "Optimizer/IterationCount": "1000",
    "Optimizer/BeatLength": "AUTO",
    "Optimizer/BeatPattern": "Linear",
    "Optimizer/RegenerateAnalyticsFrequency": "AUTO",
    "Optimizer/ModelSelectionMethod": "AllIn",
    "Optimizer/EnsembleCount": "1",
    "Optimizer/TournamentCount": "AUTO",
    "Optimizer/MinLeaveOutRatio": "0.2",
    "Optimizer/MaxLeaveOutRatio": "0.5",
    "Optimizer/LeaveOutStep": "0.05",
    "Optimizer/SplitCountPerLeaveOutRatio": "AUTO",
    "Regularizer/LabelSmoothing": "TRUE",
    "Regularizer/EarlyStopping": "TRUE",
    "Regularizer/EarlyStoppingMargin": "AUTO",
    "Regularizer/L1Lambda": "0",
    "Regularizer/L2Lambda": "0",
    "Regularizer/DropConnect": "FALSE",
    "Regularizer/SpatialDropout": "FALSE",
    "Regularizer/GroupNormalization": "FALSE",
    "Regularizer/WeightsStandardize": "FALSE",
    "Model/ShiftScaleOptimize": "FALSE",
}

#: The grid's bits (setting S = 1 + sum of 2^bit): key and its value when the bit is set.
GRID_BITS: tuple[tuple[str, str], ...] = (
    ("Model/ShiftScaleOptimize", "TRUE"),
    ("Regularizer/WeightsStandardize", "TRUE"),
    ("Regularizer/GroupNormalization", "Activation"),
    ("Regularizer/SpatialDropout", "TRUE"),
    ("Regularizer/DropConnect", "TRUE"),
    ("Regularizer/L2Lambda", "0.01"),
    ("Regularizer/L1Lambda", "0.01"),
)


def grid_setting(
    number: int, hidden: Sequence[int], *, data: str = "data", n_classes: int = 2
) -> dict[str, str]:
    """Column ``number`` (1-128) of the authors' regulariser grid for ``hidden`` layer sizes.

    Setting S has bit ``b`` of ``S - 1`` set for the regulariser ``GRID_BITS[b]``: bit0
    ShiftScaleOptimize, bit1 WeightsStandardize, bit2 GroupNormalization=Activation, bit3
    SpatialDropout, bit4 DropConnect (inert), bit5 L2 0.01, bit6 L1 0.01.

    Raises:
        ValueError: ``number`` outside 1..128 or empty ``hidden``.
    """
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 128:
        raise ValueError(f"setting number must be an integer in 1..128, got {number!r}")
    if not hidden or min(hidden) < 1:
        raise ValueError(f"hidden must hold layer sizes >= 1, got {tuple(hidden)!r}")
    col = dict(BASE_COLUMN)
    col["Data"] = data
    col["Model/Layers/Hidden/NeuronCount"] = ",".join(str(int(h)) for h in hidden)
    col["Model/Layers/Output/NeuronCount"] = str(int(n_classes))
    for bit, (key, value) in enumerate(GRID_BITS):
        if (number - 1) >> bit & 1:
            col[key] = value
    return col


def regulariser_grid(
    hidden: Sequence[int],
    *,
    data: str = "data",
    prefix: str = "S",
    n_classes: int = 2,
    iterations: int | None = None,
) -> ExecutionSettings:
    """The authors' 128-setting regulariser grid (DEBINN-2025.md section 5), generated.

    Column ``S`` equals the authors' ``<ARCH>-S<S>`` column of their executionSettings.csv for
    the same layer sizes (tested against the published files).

    Args:
        hidden: hidden layer sizes, e.g. ``(85, 64)`` (the authors' DLBCL 2H-Hinton).
        data: the ``Data`` value (a name only).
        prefix: column names are ``f"{prefix}{S}"`` (the authors use ``"2H-Hinton-S"``).
        n_classes: output neurons.
        iterations: override of ``Optimizer/IterationCount`` (1000), e.g. for a quick run.
    """
    if iterations is not None and (isinstance(iterations, bool) or int(iterations) < 1):
        raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
    numbers = range(1, 129)
    columns = []
    for n in numbers:
        col = grid_setting(n, hidden, data=data, n_classes=n_classes)
        if iterations is not None:
            col["Optimizer/IterationCount"] = str(int(iterations))
        columns.append(col)
    sizes = "-".join(str(int(h)) for h in hidden)
    return ExecutionSettings(
        f"<regulariser grid {sizes}>", tuple(f"{prefix}{n}" for n in numbers), tuple(columns)
    )


# --------------------------------------------------------------------------------------------
# column names: choosing (``--only``) and naming groups of columns in messages

_NUMBERED = re.compile(r"^(.*?)([A-Za-z]*)(\d+)$")


def _split_name(name: str) -> tuple[str, str, int] | None:
    """``2H-Hinton-S5`` -> ``("2H-Hinton-", "S", 5)``; None for a name without a number."""
    m = _NUMBERED.match(name)
    return None if m is None else (m.group(1), m.group(2), int(m.group(3)))


def _ranges(tag: str, numbers: Sequence[int]) -> list[str]:
    """``S`` and 1, 2, 3, 4, 9 -> ``["S1..S4", "S9"]`` (runs of three or more become a range)."""
    items: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        if j - i >= 2:
            items.append(f"{tag}{numbers[i]}..{tag}{numbers[j]}")
        else:
            items.extend(f"{tag}{n}" for n in numbers[i : j + 1])
        i = j + 1
    return items


def column_label(names: Sequence[str], limit: int = 8) -> str:
    """A short, exact label for a group of columns, in their order.

    Columns sharing a stem are written once with their numbers: ``2H-Hinton-S1,S3,S5,S7
    (4 columns)``; three or more consecutive numbers as a range, ``2H-Hinton-S1..S16
    (16 columns)``. Beyond ``limit`` items the rest is counted, never implied:
    ``2H-Hinton-S1,S3,S5,S7,S9,S11,S13 +9 more (16 columns)``. One column is its name.
    """
    names = list(names)
    if len(names) == 1:
        return names[0]
    parts = [_split_name(n) for n in names]
    stems = {(p[0], p[1]) for p in parts if p is not None}
    if None not in parts and len(stems) == 1:
        head, tag = stems.pop()
        items = _ranges(tag, [p[2] for p in parts if p is not None])
        first = head
    else:
        items, first = names, ""
    shown = items if len(items) <= limit else items[: limit - 1]
    more = f" +{len(items) - len(shown)} more" if len(shown) < len(items) else ""
    return f"{first}{','.join(shown)}{more} ({len(names)} columns)"


def select_columns(requested: Sequence[str], names: Sequence[str], source: str) -> list[str]:
    """The columns ``requested`` names (``--only``), in file order.

    A request matches a column of that exact name, or the columns whose name ends in
    ``-<request>``: ``S5`` and ``Hinton-S5`` both select ``2H-Hinton-S5``.

    Raises:
        ValueError: a request matching no column (the message lists the valid names) or
            several (it lists those).
    """
    chosen: set[str] = set()
    for req in requested:
        req = req.strip()
        if req in names:
            chosen.add(req)
            continue
        hits = [n for n in names if n.endswith(f"-{req}")]
        if len(hits) > 1:
            raise ValueError(
                f"--only {req}: matches {len(hits)} columns of {source} ({', '.join(hits)}); "
                "give the full name"
            )
        if not hits:
            short = [n.rsplit("-", 1)[-1] for n in names if "-" in n]
            alone = ""
            if len(set(short)) == len(names):  # every column has its own short name
                label = column_label(sorted(short, key=natural_key)).split(" (")[0]
                alone = f"; {label} alone also work"
            raise ValueError(
                f"--only {req}: no such column in {source}; its columns are "
                f"{column_label(list(names))}{alone}"
            )
        chosen.add(hits[0])
    return [n for n in names if n in chosen]
