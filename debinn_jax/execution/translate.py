"""One settings column -> one debinn-jax run (:class:`GridRun`).

:func:`grid_run` checks every key and value of a column (an unknown key, a missing key or an
unsupported value is a :class:`SettingsError`, one line naming the key and the column) and
translates it into a 2025 network (``NetworkSpec.reference_2025``), a
``GAConfig.reference_2025`` and the per-run switches; :func:`grid_runs` does so for every column
of an :class:`~debinn_jax.execution.settings.ExecutionSettings`. Keys accepted although they
change nothing here are listed in :data:`INERT_KEYS` (:func:`inert_keys`), never ignored silently.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from debinn_jax.execution.settings import BASE_COLUMN, ExecutionSettings

#: Every key of a settings column (the authors' 2025 program; ``Data`` names the data set).
SETTING_KEYS: tuple[str, ...] = tuple(BASE_COLUMN)

#: Keys accepted although they change nothing here, with the reason (listed, never silent).
INERT_KEYS = {
    "Model/Layers/Input/ActionType": "the 2025 program feeds the features in raw",
    "Model/Layers/Output/ActionType": "the LabelSmoothing head reads the output input signals",
    "Model/Layers/Input/NeuronCount": "one input neuron per feature",
    "Model/DistanceRegularizationThreshold": "AUTO (spatial dropout uses the median rule)",
    "Optimizer/RegenerateAnalyticsFrequency": "AUTO (the splits are made once per run)",
    "Regularizer/DropConnect": "its probabilities are 0 (AUTO) in the 2025 program: inert",
}

_TRUE, _FALSE = ("true",), ("false",)


class SettingsError(ValueError):
    """A settings column that cannot be run; the message is one line naming key and column."""


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
        raw = self.raw(key)  # a missing key is its own error, not "got None"
        try:
            v = float(raw)
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


def unknown_key_error(key: str, name: str, source: str) -> SettingsError:
    """The error for an unknown settings key: the key, the closest valid key and the valid
    keys of its section (``Regularizer/...``), or the sections when that is unknown too. In a
    ``.ini`` file the keys are written as there: ``L1Lamda`` in section ``[Regularizer]``."""
    close = difflib.get_close_matches(key, SETTING_KEYS, n=1, cutoff=0.6)
    section, _, rest = key.partition("/")
    same = [k[len(section) + 1 :] for k in SETTING_KEYS if rest and k.startswith(f"{section}/")]
    ini = source.lower().endswith(".ini") and bool(rest)

    def ini_name(k: str) -> str:  # Model/Layers/Hidden/NeuronCount -> Layers\Hidden\NeuronCount
        return k.partition("/")[2].replace("/", chr(92))

    if ini:
        what = f"unknown key '{ini_name(key)}' in section [{section}]"
        hint = ""
        if close:
            c_section = close[0].partition("/")[0]
            there = "" if c_section == section else f" in section [{c_section}]"
            hint = f" (did you mean '{ini_name(close[0])}'{there}?)"
    else:
        what = f"unknown key {key!r}"
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    if same:
        where = f"[{section}]" if ini else f"{section}/"
        names = [s.replace("/", chr(92)) for s in same] if ini else same
        valid = f"valid keys of {where}: {', '.join(names)}"
    else:
        sections = sorted({k.split("/", 1)[0] for k in SETTING_KEYS if "/" in k})
        valid = f"valid keys are Data and those of the sections {', '.join(sections)}"
    return SettingsError(f"{source}: column {name!r}: {what}{hint}; {valid}")


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

    unknown = [k for k in values if k not in SETTING_KEYS]
    if unknown:  # before any value: a misspelt key is named as such, not as a missing one
        raise unknown_key_error(unknown[0], name, source)
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
    unused = sorted(set(values) - c.used)
    if unused:  # a key of SETTING_KEYS that the translation above does not read: a bug here
        raise SettingsError(f"{source}: column {name!r}: key {unused[0]!r} is not translated")

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
        generations=int(iterations),  # T iterations after the initial population
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
