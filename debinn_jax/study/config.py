"""Study configuration: the per-task TOML files of ``debinn reproduce``, read and checked."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from debinn_jax.ga import GAConfig
from debinn_jax.gd import GDConfig
from debinn_jax.loss import LossConfig
from debinn_jax.network import NetworkSpec
from debinn_jax.settings import (
    check_setting_keys,
    check_setting_types,
    setting_names,
    setting_value,
)
from debinn_jax.study.gd2025 import (
    GD_PROTOCOL_LABELS,
    GD_PROTOCOL_METHODS,
    GD_TABLE_KEYS,
    GDProtocolConfig,
    gd_protocol_config,
)
from debinn_jax.study.grid import (
    PROTOCOL_LABELS,
    PROTOCOL_METHODS,
    GridProtocolConfig,
)

TASK_KINDS = ("moons", "fold", "table")
BASELINES = ("logreg", "random_forest", "mlp")
METHODS = ("ga", "gd", *BASELINES, "ga2025", "gd2025")
"""What ``--methods`` accepts; ``ga2025`` runs the 2025 GA's regulariser grid under two
protocols (tasks with a ``[ga2025]`` table only; see :mod:`debinn_jax.study.grid`), ``gd2025``
the GD sweep on the same network under the same protocols (tasks with a ``[gd2025]`` table;
:mod:`debinn_jax.study.gd2025`)."""
ROW_METHODS = ("ga", "gd", *BASELINES, *PROTOCOL_METHODS, *GD_PROTOCOL_METHODS)
"""The ``method`` values of the records, in table order."""
METHOD_LABELS = {
    "ga": "DEBI-NN GA",
    "gd": "DEBI-NN GD",
    "logreg": "logistic regression",
    "random_forest": "random forest",
    "mlp": "MLP (same hidden sizes)",
    **PROTOCOL_LABELS,
    **GD_PROTOCOL_LABELS,
}
RECORD_FIELDS = (
    "task",
    "method",
    "seed",
    "architecture",
    "hidden",
    "test_accuracy",
    "test_balanced_accuracy",
    "test_auc",
    "test_ece",
    "test_brier",
    "test_mcc",
    "train_balanced_accuracy",
    "n_params",
    "train_seconds",
    "generations_or_epochs",
    "n_train",
    "n_test",
)
"""Fields every record of ``results.json`` carries (more may follow)."""

RESULTS_FORMAT = "debinn-jax-study-results"
RESULTS_VERSION = 1

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


class ConfigError(ValueError):
    """A study config file is missing, unreadable or holds an unknown key or a bad value.

    The message names the file and the key."""


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Where a task's data come from and how they are split.

    Attributes:
        name: short name used on the command line (``moons``, ``dlbcl``, ``hecktor``, ``ctg``).
        title: human-readable name.
        kind: ``"moons"`` (generated), ``"fold"`` (a DEBI-NN Fold folder with a fixed split) or
            ``"table"`` (one CSV table, split per seed).
        path: data path relative to the data directory (``fold``/``table``).
        label: label column (``table``; empty = last column).
        n_samples, noise, data_seed: two-moons generation (``moons``).
        test_size: test share of the per-seed stratified split (``moons``/``table``).
        standardize: z-score the features on the training split only.
        seeds: number of seeds (runs per method).
        split_seed: offset of the split seeds (split of seed s uses ``split_seed + s``).
    """

    name: str
    title: str
    kind: str
    path: str = ""
    label: str = ""
    n_samples: int = 300
    noise: float = 0.1
    data_seed: int = 0
    test_size: float = 0.3
    standardize: bool = True
    seeds: int = 10
    split_seed: int = 0

    @property
    def fixed_split(self) -> bool:
        """Whether every seed shares one train/test split (the Fold folders)."""
        return self.kind == "fold"


@dataclasses.dataclass(frozen=True)
class SelectionConfig:
    """Architecture selection on an inner validation split of seed 0's training data.

    Attributes:
        validation_size: share of the training split held out (stratified) for validation.
        seeds: GA runs per candidate (mean validation balanced accuracy decides).
        population_size, generations: the GA budget of each selection run.
        seed: seed of the inner split and of the selection runs.
    """

    validation_size: float = 0.3
    seeds: int = 2
    population_size: int = 50
    generations: int = 200
    seed: int = 12345


@dataclasses.dataclass(frozen=True)
class BaselineConfig:
    """scikit-learn baselines trained on the same splits.

    Attributes:
        methods: subset of ``("logreg", "random_forest", "mlp")``.
        rf_trees: trees of the random forest.
        mlp_max_iter: maximum epochs of the MLP (Adam).
        class_weight: ``"balanced"`` or ``"none"`` for logistic regression and random forest
            (the DEBI loss is class-weighted too).
    """

    methods: tuple[str, ...] = BASELINES
    rf_trees: int = 300
    mlp_max_iter: int = 2000
    class_weight: str = "balanced"


@dataclasses.dataclass(frozen=True)
class PaperFigures:
    """The paper's headline figures for this task (arXiv 2605.27411; reported as accuracy)."""

    ga_accuracy: float | None = None
    gd_accuracy: float | None = None
    note: str = ""


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything ``reproduce`` needs for one task (see the module docstring).

    Attributes:
        path: the TOML file it came from.
        task: data and split protocol.
        candidates: ``(name, hidden sizes)`` pairs, the layouts to choose from.
        select: ``"validation"`` (choose on the inner validation split) or a candidate name.
        network_ga, network_gd: ``NetworkSpec`` keyword arguments (without sizes) per method.
        selection: the selection budget.
        ga: GA settings (``GAConfig``); run_batch_size: ``lax.map`` batch of runs in the
            batched GA call (``None`` = ``vmap``); batch_seeds: train all seeds in one
            compiled call (else one ``train_ga`` call per seed).
        gd: GD settings (``GDConfig``).
        baselines: the scikit-learn baselines.
        paper: the paper's figures.
        quick: whether the ``[quick]`` overrides were applied.
        ga2025: the 2025 GA's grid protocols (``[ga2025]``), or None.
        gd2025: the GD sweep's protocols on the same network (``[gd2025]``, completed from
            ``[ga2025]``), or None.
    """

    path: Path
    task: TaskConfig
    candidates: tuple[tuple[str, tuple[int, ...]], ...]
    select: str
    network_ga: tuple[tuple[str, Any], ...]
    network_gd: tuple[tuple[str, Any], ...]
    selection: SelectionConfig
    ga: GAConfig
    run_batch_size: int | None
    gd: GDConfig
    baselines: BaselineConfig
    paper: PaperFigures
    quick: bool = False
    batch_seeds: bool = False
    ga2025: GridProtocolConfig | None = None
    gd2025: GDProtocolConfig | None = None

    def hidden_of(self, name: str) -> tuple[int, ...]:
        """Hidden sizes of candidate ``name``."""
        return dict(self.candidates)[name]

    def spec(self, method: str, name: str, n_inputs: int, n_classes: int) -> NetworkSpec:
        """The ``NetworkSpec`` of ``method`` (``"ga"``/``"gd"``) for candidate ``name``."""
        kwargs = dict(self.network_ga if method == "ga" else self.network_gd)
        return NetworkSpec(n_inputs, self.hidden_of(name), n_classes, **kwargs)


_NETWORK_KEYS = setting_names(NetworkSpec, exclude=("n_inputs", "hidden", "n_classes"))
#: Every section of a study config: the dataclass its values are checked against and its keys.
_SECTIONS: dict[str, tuple[type, tuple[str, ...]]] = {
    "task": (TaskConfig, setting_names(TaskConfig)),
    "network": (NetworkSpec, (*_NETWORK_KEYS, "candidates", "select", "ga", "gd")),
    "selection": (SelectionConfig, setting_names(SelectionConfig)),
    "loss": (LossConfig, setting_names(LossConfig)),
    "ga": (
        GAConfig,
        (*setting_names(GAConfig, exclude=("loss",)), "run_batch_size", "batch_seeds"),
    ),
    "gd": (GDConfig, setting_names(GDConfig, exclude=("loss",))),
    "baselines": (BaselineConfig, setting_names(BaselineConfig)),
    "paper": (PaperFigures, setting_names(PaperFigures)),
    "ga2025": (GridProtocolConfig, setting_names(GridProtocolConfig)),
    "gd2025": (GDProtocolConfig, GD_TABLE_KEYS),
}
_QUICK_SECTIONS = (
    "task",
    "network",
    "selection",
    "loss",
    "ga",
    "gd",
    "baselines",
    "ga2025",
    "gd2025",
)


def _check_tables(table: Mapping[str, Any], path: Path, quick: bool = False) -> None:
    """Raise :class:`ConfigError` (naming ``path``, the section and the key) for an unknown
    section or key, or a value of the wrong type (:func:`debinn_jax.settings.check_setting_keys`,
    :func:`~debinn_jax.settings.check_setting_types`); ``quick``: ``table`` is the ``[quick]``
    table, which holds the sections ``_QUICK_SECTIONS`` only."""
    prefix, allowed = ("quick.", _QUICK_SECTIONS) if quick else ("", (*_SECTIONS, "quick"))
    try:
        check_setting_keys("[quick]" if quick else "", table, allowed, kind="section")
        for section, body in table.items():
            name = f"{prefix}{section}"
            if section == "quick":
                if not isinstance(body, Mapping):
                    raise ConfigError(f"{path}: [quick] must be a table")
                _check_tables(body, path, quick=True)
                continue
            if not isinstance(body, Mapping):
                raise ConfigError(f"{path}: [{name}] must be a table, got {body!r}")
            cls, keys = _SECTIONS[section]
            check_setting_keys(f"[{name}]", body, keys)
            check_setting_types(f"[{name}]", body, cls, none_strings=True)
            if section != "network":
                continue
            for method in ("ga", "gd"):
                sub = body.get(method, {})
                if not isinstance(sub, Mapping):
                    raise ConfigError(f"{path}: [{name}.{method}] must be a table")
                check_setting_keys(f"[{name}.{method}]", sub, _NETWORK_KEYS)
                check_setting_types(f"[{name}.{method}]", sub, NetworkSpec, none_strings=True)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of TOML tables (``over`` wins)."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _value(v: Any) -> Any:
    """TOML value -> Python, the shared dialect (:func:`debinn_jax.settings.setting_value`)."""
    return setting_value(v)


def _build(cls: type, body: Mapping[str, Any], path: Path, section: str, **extra: Any) -> Any:
    kwargs = {k: _value(v) for k, v in body.items()}
    kwargs.update(extra)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [{section}] {exc}") from None


def load_study_config(path: str | os.PathLike[str], *, quick: bool = False) -> StudyConfig:
    """Read and validate one task's TOML config.

    Args:
        path: the ``.toml`` file.
        quick: apply the file's ``[quick]`` table (reduced budgets) on top.

    Returns:
        A :class:`StudyConfig`.

    Raises:
        ConfigError: the file is missing or not TOML, a key is unknown (the message names the
            key and the file) or a value is out of range.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _check_tables(raw, path)
    if "task" not in raw:
        raise ConfigError(f"{path}: missing [task] section")
    if quick and "quick" in raw:
        raw = _merge(raw, raw["quick"])
    raw.pop("quick", None)

    task_body = dict(raw["task"])
    for key in ("name", "title", "kind"):
        if key not in task_body:
            raise ConfigError(f"{path}: [task] needs {key!r}")
    task = _build(TaskConfig, task_body, path, "task")
    if task.kind not in TASK_KINDS:
        raise ConfigError(f"{path}: [task] kind must be one of {TASK_KINDS}, got {task.kind!r}")
    if task.kind in ("fold", "table") and not task.path:
        raise ConfigError(f"{path}: [task] kind {task.kind!r} needs a data 'path'")
    if not (isinstance(task.seeds, int) and task.seeds >= 1):
        raise ConfigError(f"{path}: [task] seeds must be an integer >= 1, got {task.seeds!r}")
    if not 0.0 < task.test_size < 1.0:
        raise ConfigError(f"{path}: [task] test_size must be in (0, 1), got {task.test_size!r}")

    net = dict(raw.get("network", {}))
    cand_raw = net.pop("candidates", None)
    if not isinstance(cand_raw, Mapping) or not cand_raw:
        raise ConfigError(f"{path}: [network] needs 'candidates', a table of name = [hidden sizes]")
    candidates = []
    for name, sizes in cand_raw.items():
        if not (
            isinstance(sizes, list)
            and sizes
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
        ):
            raise ConfigError(
                f"{path}: [network.candidates] {name!r} must be a list of positive integers, "
                f"got {sizes!r}"
            )
        candidates.append((str(name), tuple(sizes)))
    select = net.pop("select", "validation")
    if select != "validation" and select not in dict(candidates):
        raise ConfigError(
            f"{path}: [network] select must be 'validation' or one of "
            f"{[c for c, _ in candidates]}, got {select!r}"
        )
    per_method = {m: dict(net.pop(m, {})) for m in ("ga", "gd")}
    shared = {k: _value(v) for k, v in net.items()}
    networks = {}
    for m in ("ga", "gd"):
        kw = {**shared, **{k: _value(v) for k, v in per_method[m].items()}}
        try:
            NetworkSpec(2, (2,), 2, **{k: v for k, v in kw.items() if k != "groups"})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: [network.{m}] {exc}") from None
        networks[m] = tuple(sorted(kw.items()))

    loss = _build(LossConfig, raw.get("loss", {}), path, "loss")
    ga_body = dict(raw.get("ga", {}))
    run_batch_size = _value(ga_body.pop("run_batch_size", 1))
    batch_seeds = ga_body.pop("batch_seeds", False)
    if not isinstance(batch_seeds, bool):
        raise ConfigError(f"{path}: [ga] batch_seeds must be true or false, got {batch_seeds!r}")
    if run_batch_size is not None and not (isinstance(run_batch_size, int) and run_batch_size >= 1):
        raise ConfigError(
            f"{path}: [ga] run_batch_size must be 'none' or an integer >= 1, got {run_batch_size!r}"
        )
    ga = _build(GAConfig, ga_body, path, "ga", loss=loss)
    gd = _build(GDConfig, raw.get("gd", {}), path, "gd", loss=loss)
    selection = _build(SelectionConfig, raw.get("selection", {}), path, "selection")
    if not 0.0 < selection.validation_size < 1.0 or selection.seeds < 1:
        raise ConfigError(f"{path}: [selection] needs 0 < validation_size < 1 and seeds >= 1")
    baselines = _build(BaselineConfig, raw.get("baselines", {}), path, "baselines")
    for m in baselines.methods:
        if m not in BASELINES:
            raise ConfigError(
                f"{path}: [baselines] methods: unknown method {m!r}; expected {BASELINES}"
            )
    if baselines.class_weight is None:  # "none" in the settings dialect
        baselines = dataclasses.replace(baselines, class_weight="none")
    if baselines.class_weight not in ("balanced", "none"):
        raise ConfigError(f"{path}: [baselines] class_weight must be 'balanced' or 'none'")
    paper = _build(PaperFigures, raw.get("paper", {}), path, "paper")
    ga2025 = None
    if "ga2025" in raw:
        body = dict(raw["ga2025"])
        for key in ("architecture", "hidden", "data"):
            if key not in body:
                raise ConfigError(f"{path}: [ga2025] needs {key!r}")
        ga2025 = _build(GridProtocolConfig, body, path, "ga2025")
    gd2025 = None
    if "gd2025" in raw:
        if ga2025 is None:
            raise ConfigError(
                f"{path}: [gd2025] needs a [ga2025] table (the GD sweep runs on the 2025 GA's "
                "architecture, inner split and seeds)"
            )
        body = {k: _value(v) for k, v in raw["gd2025"].items()}
        try:
            gd2025 = gd_protocol_config(ga2025, body)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: [gd2025] {exc}") from None
    return StudyConfig(
        path=path,
        task=task,
        candidates=tuple(candidates),
        select=select,
        network_ga=networks["ga"],
        network_gd=networks["gd"],
        selection=selection,
        ga=ga,
        run_batch_size=run_batch_size,
        batch_seeds=batch_seeds,
        gd=gd,
        baselines=baselines,
        paper=paper,
        quick=quick,
        ga2025=ga2025,
        gd2025=gd2025,
    )


def default_config_dir() -> Path:
    """The study's own configs (``debinn_jax/study/configs``, installed with the package)."""
    return Path(__file__).resolve().parent / "configs"


def default_data_dir() -> Path | None:
    """:func:`debinn_jax.data.locate.find_data_dir`: ``$DEBINN_DATA_DIR``, else
    ``../shared/data`` (working directory, then beside the checkout), else None."""
    from debinn_jax.data.locate import find_data_dir

    return find_data_dir()


def load_configs(
    config_dir: str | os.PathLike[str],
    tasks: Sequence[str] | None = None,
    *,
    quick: bool = False,
) -> list[StudyConfig]:
    """Load ``<config_dir>/<task>.toml`` for each task (all ``*.toml`` files when ``tasks`` is
    None, sorted by name). Raises :class:`ConfigError` for a missing folder or file."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError(
            f"config folder {config_dir} not found (pass --config-dir; the package's own "
            f"configs are in {default_config_dir()})"
        )
    if tasks is None:
        files = sorted(config_dir.glob("*.toml"))
        if not files:
            raise ConfigError(f"no *.toml config files in {config_dir}")
    else:
        files = [config_dir / f"{t}.toml" for t in tasks]
        for f, t in zip(files, tasks):
            if not f.is_file():
                known = sorted(p.stem for p in config_dir.glob("*.toml"))
                raise ConfigError(f"unknown task {t!r}: no config {f} (known tasks: {known})")
    configs = [load_study_config(f, quick=quick) for f in files]
    for f, c in zip(files, configs):
        if c.task.name != f.stem:
            raise ConfigError(f"{f}: [task] name {c.task.name!r} must match the file name")
    return configs
