"""The authors' 2025 execution folders: settings columns -> debinn-jax runs, as one grid.

An execution folder of the authors' program holds ``executionSettings.csv`` (``;``-separated;
first column the setting keys, then one column per setting, e.g. ``2H-Hinton-S1`` ...) and
``DataPool/<Data>/Dataset/Fold-*``. :func:`read_execution_settings` reads the settings and
checks every key and value (one line naming the key and column for anything unknown or
unsupported); :func:`grid_runs` turns the columns into :class:`GridRun` s (a 2025 network, a
``GAConfig.reference_2025`` and the per-run switches), and :func:`run_grid` trains every column
on every fold with batched, compiled sweeps (``sweep.run_many``): columns that differ only in
numbers (L1/L2, weight standardisation, group normalisation, spatial dropout) share one
compiled program; only the architecture and ``ShiftScaleOptimize`` (the genome length) need
their own. Results are written after every batch (``results.json``, and ``summary.csv`` in the
authors' column format); an interrupted grid resumes without redoing finished columns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data.dataset import DataError, Fold

SETTINGS_FILE = "executionSettings.csv"

#: Keys accepted although they change nothing here, with the reason (listed, never silent).
INERT_KEYS = {
    "Model/Layers/Input/ActionType": "the 2025 program feeds the features in raw",
    "Model/Layers/Output/ActionType": "the LabelSmoothing head reads the output input signals",
    "Model/Layers/Input/NeuronCount": "one input neuron per feature",
    "Model/DistanceRegularizationThreshold": "AUTO (spatial dropout uses the median rule)",
    "Optimizer/RegenerateAnalyticsFrequency": "AUTO (splits are drawn once per run)",
    "Regularizer/DropConnect": "its probabilities are 0 (AUTO) in the 2025 program: inert",
}

_TRUE, _FALSE = ("true",), ("false",)


class SettingsError(ValueError):
    """A settings column that cannot be run; the message is one line naming key and column."""


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
# one column -> one run


@dataclasses.dataclass(frozen=True)
class GridRun:
    """One settings column, ready to run.

    Attributes:
        name: the column name (``2H-Hinton-S1``).
        data: the ``Data`` value (dataset name).
        spec: the network (2025 variant) with this column's switches.
        config: the GA settings (``GAConfig.reference_2025`` with this column's values).
        switches: ``{"standardize_weights", "normalization", "spatial_dropout"}`` as 0/1.
        index: the column's position in its settings file (its random key derives from it,
            so a subset of the columns, e.g. ``debinn grid --only``, reruns the same runs).
    """

    name: str
    data: str
    spec: Any
    config: Any
    switches: dict[str, float]
    index: int = 0


class _Column:
    """Typed access to one column's values; every error names the key and the column."""

    def __init__(self, values: Mapping[str, str], name: str, source: str) -> None:
        self.values, self.name, self.source = dict(values), name, source
        self.used: set[str] = set()

    def error(self, key: str, expected: str) -> SettingsError:
        raw = self.values.get(key)
        return SettingsError(
            f"{self.source}: column {self.name!r}, key {key!r}: got {raw!r}, expected {expected}"
        )

    def raw(self, key: str) -> str:
        if key not in self.values:
            raise SettingsError(f"{self.source}: column {self.name!r}: key {key!r} is missing")
        self.used.add(key)
        return self.values[key]

    def choice(self, key: str, allowed: Sequence[str]) -> str:
        v = self.raw(key)
        for a in allowed:
            if v.lower() == a.lower():
                return a
        raise self.error(key, f"one of {list(allowed)} (others are not supported)")

    def boolean(self, key: str) -> bool:
        v = self.raw(key).lower()
        if v in _TRUE or v in _FALSE:
            return v in _TRUE
        raise self.error(key, "TRUE or FALSE")

    def number(self, key: str, low: float = -math.inf, high: float = math.inf) -> float:
        try:
            v = float(self.raw(key))
        except ValueError:
            raise self.error(key, "a number") from None
        if not (math.isfinite(v) and low <= v <= high):
            raise self.error(key, f"a number in [{low}, {high}]")
        return v

    def integer(self, key: str, low: int = 1, auto: bool = False) -> int | str:
        v = self.raw(key)
        if auto and v.upper() == "AUTO":
            return "auto"
        try:
            n = int(v)
        except ValueError:
            raise self.error(key, f"an integer >= {low}" + (" or AUTO" if auto else "")) from None
        if n < low:
            raise self.error(key, f"an integer >= {low}" + (" or AUTO" if auto else ""))
        return n


_ACTIVATIONS = {"LReLu": "lrelu", "ReLu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


def grid_run(
    values: Mapping[str, str],
    name: str,
    n_inputs: int,
    n_classes: int,
    source: str = "settings",
    index: int = 0,
) -> GridRun:
    """One settings column -> a :class:`GridRun` for data with ``n_inputs`` features.

    Raises:
        SettingsError: an unknown key, a missing key or an unsupported value (one line).
    """
    from debinn_jax.ga import GAConfig
    from debinn_jax.network import NetworkSpec

    c = _Column(values, name, source)
    data = c.raw("Data")
    for layer in ("Input", "Hidden", "Output"):
        c.choice(f"Model/Layers/{layer}/DistanceType", ["GaussianConst"])
        c.choice(f"Model/Layers/{layer}/Geometry", ["Euclidean"])
        c.choice(f"Model/Layers/{layer}/ActionType", list(_ACTIVATIONS))
    activation = _ACTIVATIONS[c.choice("Model/Layers/Hidden/ActionType", list(_ACTIVATIONS))]
    c.choice("Model/Layers/Input/NeuronCount", ["1"])
    raw_hidden = c.raw("Model/Layers/Hidden/NeuronCount").strip().strip('"')
    try:
        hidden = tuple(int(h) for h in raw_hidden.split(",") if h.strip())
    except ValueError:
        raise c.error("Model/Layers/Hidden/NeuronCount", "comma-separated integers") from None
    if not hidden or min(hidden) < 1:
        raise c.error("Model/Layers/Hidden/NeuronCount", "comma-separated integers >= 1")
    n_out = c.integer("Model/Layers/Output/NeuronCount", 2)
    if n_out != n_classes:
        raise c.error("Model/Layers/Output/NeuronCount", f"{n_classes} (the data's class count)")
    groups = c.integer("Model/Layers/Hidden/GroupCount", 1, auto=True)
    for key in ("Model/Layers/Hidden/DropoutProbability", "Model/Layers/Output/DropoutProbability"):
        if c.raw(key).upper() not in ("AUTO", "0"):
            raise c.error(key, "AUTO or 0 (neuron dropout is not supported)")
    c.choice("Model/LayerZSnappingMethod", ["None"])
    c.choice("Model/SpatialInitializationType", ["Singularity"])
    if c.boolean("Model/AbsoluteZCoordinates"):
        raise c.error("Model/AbsoluteZCoordinates", "FALSE (absolute z is not supported)")
    c.choice("Model/DistanceRegularizationThreshold", ["AUTO"])
    c.choice("Analytics/Type", ["LossAnalytics"])
    c.choice("Analytics/Loss/Unit", ["EntropyLoss"])
    alpha = c.number("Analytics/Loss/Alpha", 0.0, 1.0)
    c.choice("Optimizer/GenerationTraining", ["Single"])
    r_max = c.number("Optimizer/MaximumMutationRate", 0.0)
    r_min = c.number("Optimizer/MinimumMutationRate", 0.0, r_max)
    mutation = c.number("Optimizer/MutationDelta", 0.0, 1.0)
    pop = c.integer("Optimizer/PopulationCount", 4, auto=True)
    iterations = c.integer("Optimizer/IterationCount", 1)
    beat = c.integer("Optimizer/BeatLength", 1, auto=True)
    c.choice("Optimizer/BeatPattern", ["Linear"])
    c.choice("Optimizer/RegenerateAnalyticsFrequency", ["AUTO"])
    c.choice("Optimizer/ModelSelectionMethod", ["AllIn"])
    ensemble = c.integer("Optimizer/EnsembleCount", 1)
    tournament = c.integer("Optimizer/TournamentCount", 1, auto=True)
    lo = c.number("Optimizer/MinLeaveOutRatio", 0.0, 1.0)
    hi = c.number("Optimizer/MaxLeaveOutRatio", lo, 1.0)
    step = c.number("Optimizer/LeaveOutStep", 1e-6, 1.0)
    splits = c.integer("Optimizer/SplitCountPerLeaveOutRatio", 1, auto=True)
    if not c.boolean("Regularizer/LabelSmoothing"):
        raise c.error("Regularizer/LabelSmoothing", "TRUE (the other head is not supported)")
    early = c.boolean("Regularizer/EarlyStopping")
    margin = c.integer("Regularizer/EarlyStoppingMargin", 1, auto=True)
    l1 = c.number("Regularizer/L1Lambda", 0.0)
    l2 = c.number("Regularizer/L2Lambda", 0.0)
    c.boolean("Regularizer/DropConnect")
    spatial = c.boolean("Regularizer/SpatialDropout")
    gn = c.raw("Regularizer/GroupNormalization")
    if gn.lower() in ("false", "none"):
        normalized = False
    elif gn.lower() == "activation":
        normalized = True
    else:
        raise c.error("Regularizer/GroupNormalization", "FALSE or Activation")
    ws = c.boolean("Regularizer/WeightsStandardize")
    ss = c.boolean("Model/ShiftScaleOptimize")
    unknown = sorted(set(values) - c.used)
    if unknown:
        raise SettingsError(f"{source}: column {name!r}: unknown key {unknown[0]!r}")

    spec = NetworkSpec.reference_2025(
        n_inputs,
        hidden,
        n_classes,
        shift_scale=ss,
        standardize_weights=ws,
        normalization="activation" if normalized else "none",
        spatial_dropout=spatial,
    )
    spec = dataclasses.replace(spec, activation=activation)
    if groups != "auto":
        spec = dataclasses.replace(spec, groups=groups)
    cfg = GAConfig.reference_2025(
        l1=l1,
        l2=l2,
        population_size=pop,
        generations=int(iterations) + 1,  # + generation 0, the initial population
        r_max=r_max,
        r_min=r_min,
        mutation_prob=mutation,
        beat_period=beat,
        ensemble=ensemble,
        tournament_size=tournament,
        leave_out=(lo, hi, step),
        splits_per_ratio=splits,
        early_stopping=margin if early else None,
    )
    cfg = dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, alpha=alpha))
    switches = {
        "standardize_weights": float(ws),
        "normalization": float(normalized),
        "spatial_dropout": float(spatial),
    }
    return GridRun(name=name, data=data, spec=spec, config=cfg, switches=switches, index=index)


def grid_runs(settings: ExecutionSettings, n_inputs: int, n_classes: int) -> list[GridRun]:
    """Every column of ``settings`` as a :class:`GridRun` (see :func:`grid_run`)."""
    return [
        grid_run(col, name, n_inputs, n_classes, settings.path, index)
        for index, (name, col) in enumerate(zip(settings.names, settings.columns))
    ]


def inert_keys(settings: ExecutionSettings) -> dict[str, str]:
    """Keys present in ``settings`` that change nothing here, with the reason."""
    present = set().union(*(set(c) for c in settings.columns)) if settings.columns else set()
    return {k: why for k, why in INERT_KEYS.items() if k in present}


# --------------------------------------------------------------------------------------------
# running


def compile_group(run: GridRun) -> tuple[Any, Any]:
    """The compiled-program key of a run: its network structure with every switch that any
    column may flip enabled, and its config without numbers (``static_config``)."""
    from debinn_jax.ga import static_config

    spec = dataclasses.replace(
        run.spec, standardize_weights=True, normalization="activation", spatial_dropout=True
    )
    return spec, static_config(run.config.resolve(run.spec))


@contextlib.contextmanager
def precision(name: str) -> Iterator[None]:
    """Compute in ``"float64"`` or ``"float32"`` inside the block (``jax_enable_x64``); the
    caller's setting is restored afterwards."""
    import jax

    if name not in ("float32", "float64"):
        raise ValueError(f"precision must be 'float32' or 'float64', got {name!r}")
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", name == "float64")
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


@contextlib.contextmanager
def compile_timer() -> Iterator[dict[str, float]]:
    """Collect XLA compilation time and count while the block runs.

    Yields a dict ``{"seconds": ..., "programs": ...}`` filled as compilations happen (from
    the ``jax.monitoring`` event ``/jax/core/compile/backend_compile_duration``; tracing and
    lowering are not included). ``programs`` counts every compiled XLA program, small helper
    computations included.
    """
    import jax.monitoring

    out = {"seconds": 0.0, "programs": 0}

    def listener(name: str, duration: float, **_: Any) -> None:
        if name == "/jax/core/compile/backend_compile_duration":
            out["seconds"] += duration
            out["programs"] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield out
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def _binary_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The authors' summary metrics (class 1 positive for two classes), as fractions, plus
    ``AUC``, ``ECE``, ``Brier`` and ``MCC`` (not in the authors' summary.csv)."""
    from debinn_jax.metrics import classification_metrics

    m = classification_metrics(y, proba)
    keys = {
        "SNS": "sensitivity",
        "SPC": "specificity",
        "PPV": "ppv",
        "NPV": "npv",
        "ACC": "accuracy",
        "BACC": "balanced_accuracy",
    }
    out = {k: float(m[v]) for k, v in keys.items()}
    out.update(AUC=float(m["auc"]), ECE=float(m["ece"]), Brier=float(m["brier"]))
    out["MCC"] = float(m["mcc"])
    return out


SUMMARY_METRICS = ("SNS", "SPC", "PPV", "NPV", "ACC", "BACC")


def summary_csv(records: Sequence[Mapping[str, Any]], data_name: str) -> str:
    """The authors' ``summary.csv``: per column, test metrics in % as mean ``(m)``, standard
    deviation ``(o)`` and 95 % confidence half-width ``(CI95%)`` over folds (0 for one fold)."""
    head = ["Key"] + [f"{m} ({s})" for s in ("m", "o", "CI95%") for m in SUMMARY_METRICS]
    lines = [";".join(head)]
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        by_name.setdefault(r["name"], []).append(r)
    for name, recs in by_name.items():
        vals = {m: np.array([100.0 * r["test"][m] for r in recs]) for m in SUMMARY_METRICS}
        mean = [float(np.mean(vals[m])) for m in SUMMARY_METRICS]
        sd = [float(np.std(vals[m], ddof=1)) if len(recs) > 1 else 0.0 for m in SUMMARY_METRICS]
        ci = [1.96 * s / math.sqrt(len(recs)) for s in sd]
        cells = [f"{data_name}-{name}"] + [repr(v) for v in (*mean, *sd, *ci)]
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class GridResult:
    """Outcome of :func:`run_grid`: one record per (column, fold) and the timings."""

    records: tuple[dict[str, Any], ...]
    timing: dict[str, Any]


def _write_outputs(
    out: Path, records: list[dict[str, Any]], data_name: str, meta: dict[str, Any]
) -> None:
    from debinn_jax.io import write_json_atomic, write_text_atomic

    records = sorted(records, key=lambda r: (r["fold"], r["index"]))
    write_json_atomic(out / "results.json", {**meta, "records": records})
    write_text_atomic(out / "summary.csv", summary_csv(records, data_name))


def _finished(out: Path | None, meta: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Records of an earlier, interrupted run of the same grid (``results.json``).

    Raises:
        DataError: the file is not a grid results file, or it was written with another seed,
            data name or precision than ``meta`` (resuming would mix two grids).
    """
    if out is None or not (out / "results.json").is_file():
        return []
    path = out / "results.json"
    try:
        doc = json.loads(path.read_text())
        records = doc["records"]
        assert isinstance(records, list)
        records = [r for r in records if {"name", "fold", "test"} <= set(r)]
    except (json.JSONDecodeError, KeyError, AssertionError, TypeError):
        raise DataError(
            f"{path}: not a results file of 'debinn grid'; move it away or choose another --out"
        ) from None
    for key in ("seed", "data", "dtype"):
        if meta is not None and key in doc and doc[key] != meta[key]:
            raise DataError(
                f"{path}: written by a grid with {key} {doc[key]!r}, this one has "
                f"{meta[key]!r}; pass --restart to start over, or choose another --out"
            )
    return records


def run_grid(
    runs: Sequence[GridRun],
    folds: Sequence[tuple[str, Fold]],
    *,
    out: str | Path | None = None,
    seed: int = 0,
    batch: int = 16,
    resume: bool = True,
    progress: Callable[[str], None] | None = None,
) -> GridResult:
    """Train every run on every fold (one GA run each, as the authors did); score the test sets.

    Runs that share a compiled program (:func:`compile_group`) go through
    :func:`~debinn_jax.sweep.run_many` together, ``batch`` runs per call (``lax.map`` over
    runs: a stopped run costs nothing while the others continue). After every call the
    records so far are written to ``out`` (``results.json``, ``summary.csv``, atomically);
    with ``resume``, (column, fold) pairs already in ``out/results.json`` are skipped, and a
    batch that was killed part-way resumes from its checkpoint in ``out/checkpoints`` (written
    after every chunk of generations, removed once the batch's records are saved; without
    ``resume`` the folder is cleared first), bit-identical to an uninterrupted grid.

    Args:
        runs: from :func:`grid_runs`.
        folds: ``(name, Fold)`` pairs; features are used as they are (the authors' folds are
            z-scored already).
        out: output folder (created), or None to write nothing.
        seed: the run of column i (``GridRun.index``) on fold f uses
            ``fold_in(fold_in(key(seed), f), i)``.
        batch: runs per compiled call.
        resume: skip finished (column, fold) pairs found in ``out``.
        progress: called with one line per finished call.

    Returns:
        A :class:`GridResult`; records hold ``name``, ``fold``, ``test``/``train`` metrics
        (fractions), ``generations_run``, ``seconds`` and the settings.
    """
    import jax

    from debinn_jax.network import apply
    from debinn_jax.sweep import run_many

    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    data_name = runs[0].data if runs else ""
    import jax.numpy as jnp

    meta = {
        "format": "debinn-grid",
        "format_version": 1,
        "seed": seed,
        "data": data_name,
        "dtype": str(jnp.zeros(()).dtype),
    }
    records = _finished(out_dir, meta) if resume else []
    done = {(r["name"], r["fold"]) for r in records}
    ckpt_dir = None if out_dir is None else out_dir / "checkpoints"
    if ckpt_dir is not None:
        if not resume and ckpt_dir.is_dir():
            shutil.rmtree(ckpt_dir)
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[Any, Any], list[tuple[int, GridRun]]] = {}
    for run in runs:
        groups.setdefault(compile_group(run), []).append((run.index, run))
    t0 = time.perf_counter()
    timing: dict[str, Any] = {"calls": []}
    with compile_timer() as compiled:
        for f_idx, (fold_name, fold) in enumerate(folds):
            X = np.asarray(fold.train.X, np.float64)
            y = np.asarray(fold.train.y)
            for (spec, cfg), members in groups.items():
                todo = [(i, r) for i, r in members if (r.name, fold_name) not in done]
                for start in range(0, len(todo), batch):
                    part = todo[start : start + batch]
                    t_call = time.perf_counter()
                    c0 = compiled["seconds"]
                    fold_key = jax.random.fold_in(jax.random.key(seed), f_idx)
                    keys = jax.numpy.stack([jax.random.fold_in(fold_key, i) for i, _ in part])
                    settings = _sweep_settings([r for _, r in part])
                    ckpt_path = None
                    if ckpt_dir is not None:  # a killed batch resumes mid-run
                        ckpt_path = ckpt_dir / (
                            f"{fold_name}-{part[0][0]}-{part[-1][0]}-n{len(part)}.ckpt"
                        )
                    sweep = run_many(
                        spec,
                        X,
                        y,
                        keys,
                        cfg,
                        settings=settings,
                        run_batch_size=1,
                        checkpoint=ckpt_path,
                    )
                    seconds = time.perf_counter() - t_call
                    for j, (i, r) in enumerate(part):
                        # the run's own spec: its switches set as the compiled flags had them
                        coords = sweep.run(j).coords
                        p_test = np.asarray(apply(r.spec, coords, _as_input(fold.test.X)))
                        p_train = np.asarray(apply(r.spec, coords, _as_input(fold.train.X)))
                        records.append(
                            {
                                "name": r.name,
                                "fold": fold_name,
                                "index": i,
                                "test": _binary_metrics(fold.test.y, p_test),
                                "train": _binary_metrics(fold.train.y, p_train),
                                "generations_run": int(sweep.generations_run[j]),
                                "seconds": seconds / len(part),
                                "hidden": list(r.spec.hidden),
                                "switches": r.switches,
                                "l1": r.config.loss.l1,
                                "l2": r.config.loss.l2,
                                "shift_scale": r.spec.shift_scale,
                            }
                        )
                    timing["calls"].append(
                        {
                            "runs": len(part),
                            "seconds": seconds,
                            "compile_seconds": compiled["seconds"] - c0,
                        }
                    )
                    if out_dir is not None:
                        _write_outputs(out_dir, records, data_name, meta)
                    if ckpt_path is not None:  # its records are saved: the batch is done
                        ckpt_path.unlink(missing_ok=True)
                    if progress is not None:
                        n_done = len({(r["name"], r["fold"]) for r in records})
                        progress(
                            f"{n_done}/{len(runs) * len(folds)} runs  fold {fold_name}  "
                            f"{len(part)} runs in {seconds:.1f} s "
                            f"(compile {compiled['seconds'] - c0:.1f} s)"
                        )
    timing.update(
        seconds=time.perf_counter() - t0,
        compile_seconds=compiled["seconds"],
        programs_compiled=compiled["programs"],
        compile_groups=len(groups),
    )
    if out_dir is not None:
        _write_outputs(out_dir, records, data_name, {**meta, "timing": timing})
    records.sort(key=lambda r: (r["fold"], r["index"]))
    return GridResult(records=tuple(records), timing=timing)


def _sweep_settings(runs: Sequence[GridRun]) -> dict[str, np.ndarray]:
    """The per-run numbers of ``runs`` (one compile group) as ``run_many`` settings."""
    from debinn_jax.ga import FLAG_FIELDS

    numeric = [r.config.resolve(r.spec).numeric() for r in runs]
    out = {name: np.array([np.asarray(hp[name]) for hp in numeric]) for name in numeric[0]}
    for flag in FLAG_FIELDS:
        out[flag] = np.array([r.switches[flag] for r in runs])
    return out


def _as_input(X: Any) -> Any:
    import jax.numpy as jnp

    return jnp.asarray(np.asarray(X, np.float64), jnp.zeros(()).dtype)
