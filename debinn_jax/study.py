"""The GA-vs-GD reproduction study (``debinn reproduce``): configs, data, runs, statistics, report.

One readable TOML file per task (``experiments/configs/<task>.toml``) says where the data come
from, how they are split, which network layouts are candidates, and the GA, GD and baseline
settings. :func:`run_study` then, per task:

1. prepares one train/test split per seed (two-moons and fetal CTG: a stratified 70/30 split per
   seed, features standardised on the training split only; DLBCL and HECKTOR-LITE: the authors'
   fixed Fold-1 split, seeds vary only the training);
2. chooses the layout among the candidates on an *inner validation split* of the first seed's
   training data with a small GA budget (never on test) and records the choice;
3. trains the GA (all seeds in one compiled call, :func:`debinn_jax.sweep.run_many`), GD
   (:func:`debinn_jax.gd.train_gd` per seed, its starts batched) and scikit-learn baselines
   (logistic regression, random forest, an MLP with the same hidden sizes) on the same splits;
4. evaluates every run on its held-out test split and writes one record per task x method x seed.

Outputs (all written atomically into ``out``): ``results.json``, ``summary.md`` (mean ± sd and a
percentile-bootstrap 95 % CI over seeds, next to the paper's figures, with a plain statement of
where the GA does not reproduce them) and PNG figures.

Nothing here reads test labels before a model is final.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import platform
import time
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from debinn_jax.data import (
    Standardizer,
    load_fold,
    load_table,
    make_moons_dataset,
    stratified_split,
)
from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.gd import GDConfig, GDResult, train_gd
from debinn_jax.loss import LossConfig
from debinn_jax.metrics import classification_metrics
from debinn_jax.network import NetworkSpec, dense_param_count, param_count
from debinn_jax.study_grid import (
    PROTOCOL_LABELS,
    PROTOCOL_METHODS,
    GridProtocolConfig,
    grid_protocols,
)
from debinn_jax.sweep import run_many

TASK_KINDS = ("moons", "fold", "table")
BASELINES = ("logreg", "random_forest", "mlp")
METHODS = ("ga", "gd", *BASELINES, "ga2025")
"""What ``--methods`` accepts; ``ga2025`` runs the 2025 GA's regulariser grid under two
protocols (tasks with a ``[ga2025]`` table only; see :mod:`debinn_jax.study_grid`)."""
ROW_METHODS = ("ga", "gd", *BASELINES, *PROTOCOL_METHODS)
"""The ``method`` values of the records, in table order."""
METHOD_LABELS = {
    "ga": "DEBI-NN GA",
    "gd": "DEBI-NN GD",
    "logreg": "logistic regression",
    "random_forest": "random forest",
    "mlp": "MLP (same hidden sizes)",
    **PROTOCOL_LABELS,
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
_NONE_STRINGS = ("none", "None")

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

    def hidden_of(self, name: str) -> tuple[int, ...]:
        """Hidden sizes of candidate ``name``."""
        return dict(self.candidates)[name]

    def spec(self, method: str, name: str, n_inputs: int, n_classes: int) -> NetworkSpec:
        """The ``NetworkSpec`` of ``method`` (``"ga"``/``"gd"``) for candidate ``name``."""
        kwargs = dict(self.network_ga if method == "ga" else self.network_gd)
        return NetworkSpec(n_inputs, self.hidden_of(name), n_classes, **kwargs)


def _fields(cls: type, exclude: Sequence[str] = ()) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} - set(exclude)


_NETWORK_KEYS = _fields(NetworkSpec, ("n_inputs", "hidden", "n_classes"))
_SCHEMA: dict[str, Any] = {
    "task": _fields(TaskConfig),
    "network": _NETWORK_KEYS | {"candidates", "select", "ga", "gd"},
    "selection": _fields(SelectionConfig),
    "loss": _fields(LossConfig),
    "ga": _fields(GAConfig, ("loss",)) | {"run_batch_size", "batch_seeds"},
    "gd": _fields(GDConfig, ("loss",)),
    "baselines": _fields(BaselineConfig),
    "paper": _fields(PaperFigures),
    "ga2025": _fields(GridProtocolConfig),
}
_QUICK_SECTIONS = ("task", "network", "selection", "loss", "ga", "gd", "baselines", "ga2025")


def _check_keys(table: Mapping[str, Any], where: str, path: Path, quick: bool = False) -> None:
    """Raise :class:`ConfigError` for any key of ``table`` the schema does not know."""
    allowed = set(_SCHEMA) | ({"quick"} if not quick else set())
    if quick:
        allowed = set(_QUICK_SECTIONS)
    for section, body in table.items():
        name = f"{where}{section}"
        if section not in allowed:
            raise ConfigError(
                f"{path}: unknown section or key [{name}]; expected one of {sorted(allowed)}"
            )
        if section == "quick":
            if not isinstance(body, Mapping):
                raise ConfigError(f"{path}: [quick] must be a table")
            _check_keys(body, "quick.", path, quick=True)
            continue
        if not isinstance(body, Mapping):
            raise ConfigError(f"{path}: [{name}] must be a table, got {body!r}")
        keys = _SCHEMA[section]
        for key, value in body.items():
            if key not in keys:
                raise ConfigError(
                    f"{path}: unknown key {key!r} in [{name}]; known keys: {sorted(keys)}"
                )
            if section == "network" and key in ("ga", "gd"):
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{path}: [{name}.{key}] must be a table")
                for sub in value:
                    if sub not in _NETWORK_KEYS:
                        raise ConfigError(
                            f"{path}: unknown key {sub!r} in [{name}.{key}]; "
                            f"known keys: {sorted(_NETWORK_KEYS)}"
                        )


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
    """TOML value -> Python: "none" -> None, lists -> tuples (recursively)."""
    if isinstance(v, str) and v in _NONE_STRINGS:
        return None
    if isinstance(v, list):
        return tuple(_value(x) for x in v)
    return v


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
    _check_keys(raw, "", path)
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
    )


def default_config_dir() -> Path:
    """``<repository>/experiments/configs`` next to the installed package."""
    import debinn_jax

    return Path(debinn_jax.__file__).resolve().parents[1] / "experiments" / "configs"


def default_data_dir() -> Path | None:
    """``../shared/data`` (relative to the working directory) if it exists, else None."""
    p = Path("..") / "shared" / "data"
    return p if p.is_dir() else None


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
            f"config folder {config_dir} not found (pass --config-dir; the repository keeps "
            "its configs in experiments/configs)"
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


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


class DataMissing(Exception):
    """A task's data are not where its config says (the task is skipped)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """One seed's train/test split, features already scaled (on the training split only).

    Attributes:
        seed: the run seed.
        X_train, y_train, X_test, y_test: arrays ``(n, f)`` float32 and ``(n,)`` int32.
        X_train_raw: the training features before scaling (for inner validation splits).
    """

    seed: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_train_raw: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class TaskData:
    """A task's splits plus what the report says about them."""

    splits: tuple[Split, ...]
    n_features: int
    n_classes: int
    classes: tuple[Any, ...]
    source: str
    protocol: str
    feature_names: tuple[str, ...] = ()


def expected_data_path(task: TaskConfig, data_dir: Path | None) -> Path | None:
    """The file or folder a task reads (None for generated data)."""
    if task.kind == "moons":
        return None
    return (data_dir or Path(".")) / task.path


def _scale(X_tr: np.ndarray, X_te: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    if not standardize:
        return X_tr.astype(np.float32), X_te.astype(np.float32)
    s = Standardizer().fit(X_tr)
    return s.transform(X_tr).astype(np.float32), s.transform(X_te).astype(np.float32)


def prepare_task(task: TaskConfig, data_dir: Path | None, seeds: Sequence[int]) -> TaskData:
    """Load a task's data and build one :class:`Split` per seed.

    Raises:
        DataMissing: the data file or folder does not exist (message names the expected path).
    """
    path = expected_data_path(task, data_dir)
    if path is not None and (data_dir is None or not path.exists()):
        raise DataMissing(
            f"skipping {task.name} ({task.title}): data not found at {path}"
            + ("" if data_dir is not None else " (no --data-dir and no ../shared/data)")
        )
    splits = []
    if task.kind == "fold":
        fold = load_fold(path)
        X_tr, X_te = _scale(fold.train.X, fold.test.X, task.standardize)
        for s in seeds:
            splits.append(
                Split(s, X_tr, fold.train.y, X_te, fold.test.y, fold.train.X.astype(np.float32))
            )
        n_classes = fold.n_classes
        classes = fold.classes
        feature_names = fold.feature_names
        source = str(path)
        protocol = (
            f"fixed Fold-1 split of the authors ({len(fold.train.y)} train / {len(fold.test.y)} "
            "test cases); seeds vary the training only"
            + ("; features standardised on the training split" if task.standardize else "")
        )
    else:
        if task.kind == "moons":
            data = make_moons_dataset(task.n_samples, task.noise, task.data_seed)
        else:
            data = load_table(path, label=task.label or None)
        for s in seeds:
            tr, te = stratified_split(data.y, task.test_size, seed=task.split_seed + s)
            X_tr, X_te = _scale(data.X[tr], data.X[te], task.standardize)
            splits.append(Split(s, X_tr, data.y[tr], X_te, data.y[te], data.X[tr]))
        n_classes = data.n_classes
        classes = data.classes
        feature_names = data.feature_names
        source = data.source
        pct = round(100 * (1 - task.test_size))
        protocol = (
            f"stratified {pct}/{100 - pct} train/test split per seed "
            f"({len(splits[0].y_train)} / {len(splits[0].y_test)} cases)"
            + ("; features standardised on each training split only" if task.standardize else "")
        )
    return TaskData(
        splits=tuple(splits),
        n_features=int(splits[0].X_train.shape[1]),
        n_classes=int(n_classes),
        classes=tuple(classes),
        source=source,
        protocol=protocol,
        feature_names=tuple(feature_names),
    )


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class MethodOutcome:
    """Records of one method on one task, plus seed 0's model for the figures.

    Attributes:
        records: one dict per seed.
        predict_proba: seed 0's ``X -> (n, K)`` probabilities (None if not kept).
        history: seed 0's training curves (GA: fitness per generation; GD: loss per epoch).
        model: seed 0's trained object (``GAResult``, ``GDResult`` or a scikit-learn model).
        seconds: wall time of the method on the task (compilation included).
    """

    records: list[dict[str, Any]]
    predict_proba: Callable[[np.ndarray], np.ndarray] | None = None
    history: dict[str, np.ndarray] | None = None
    model: Any = None
    seconds: float = 0.0


def run_key(seed: int, method: str) -> jax.Array:
    """The PRNG key of ``method`` for run ``seed`` (independent streams per method)."""
    stream = {"ga": 0, "gd": 1, "selection": 2}[method]
    return jax.random.fold_in(jax.random.key(seed), stream)


def _metrics_record(
    y_test: np.ndarray, proba: np.ndarray, y_train: np.ndarray, proba_train: np.ndarray
) -> dict[str, float]:
    m = classification_metrics(y_test, proba)
    mt = classification_metrics(y_train, proba_train)
    rec = {f"test_{k}": float(v) for k, v in m.items()}
    rec["train_balanced_accuracy"] = float(mt["balanced_accuracy"])
    rec["train_accuracy"] = float(mt["accuracy"])
    return rec


def fit_ga_runs(
    spec: NetworkSpec,
    data: Sequence[tuple[np.ndarray, np.ndarray]],
    keys: Sequence[jax.Array],
    config: GAConfig,
    *,
    batch_seeds: bool = False,
    run_batch_size: int | None = 1,
    progress: bool = False,
) -> tuple[list[Any], list[float], float]:
    """Train one GA run per ``(X, y)`` pair and key.

    Returns:
        ``(results, seconds per run, total seconds)``; each result has ``predict_proba``,
        ``history``, ``generations_run`` and ``coords`` (:class:`debinn_jax.ga.GAResult`).
        Batched: one :func:`debinn_jax.sweep.run_many` call (per-run seconds = total / runs).
    """
    t0 = time.perf_counter()
    if batch_seeds:
        X0, y0 = data[0]
        if all(x is X0 and y is y0 for x, y in data):
            X, y = X0, y0
        else:
            X, y = np.stack([d[0] for d in data]), np.stack([d[1] for d in data])
        res = run_many(
            spec,
            X,
            y,
            jax.numpy.stack(list(keys)),
            config,
            run_batch_size=run_batch_size,
            progress=progress,
        )
        seconds = time.perf_counter() - t0
        return [res.run(i) for i in range(len(data))], [seconds / len(data)] * len(data), seconds
    results, per_run = [], []
    for (X, y), k in zip(data, keys):
        r = train_ga(spec, X, y, k, config)
        results.append(r)
        per_run.append(float(r.seconds))
    return results, per_run, time.perf_counter() - t0


def run_ga(
    spec: NetworkSpec,
    splits: Sequence[Split],
    config: GAConfig,
    *,
    batch_seeds: bool = False,
    run_batch_size: int | None = 1,
    progress: bool = False,
    base: Mapping[str, Any] | None = None,
) -> MethodOutcome:
    """GA runs for all ``splits``.

    With ``batch_seeds`` all seeds train in one batched compiled call
    (:func:`debinn_jax.sweep.run_many`, runs mapped in batches of ``run_batch_size``) and
    ``train_seconds`` of each record is that call's wall time (compilation included) divided by
    the number of runs; otherwise :func:`debinn_jax.ga.train_ga` runs once per seed.
    """
    results, per_run, seconds = fit_ga_runs(
        spec,
        [(s.X_train, s.y_train) for s in splits],
        [run_key(s.seed, "ga") for s in splits],
        config,
        batch_seeds=batch_seeds,
        run_batch_size=run_batch_size,
        progress=progress,
    )
    records = []
    for s, r, sec in zip(splits, results, per_run):
        rec = dict(base or {})
        rec.update(
            method="ga",
            seed=s.seed,
            n_params=param_count(spec),
            train_seconds=sec,
            generations_or_epochs=int(r.generations_run),
            early_stopped=bool(r.generations_run < config.generations),
            batched_runs=len(splits) if batch_seeds else 1,
        )
        rec.update(
            _metrics_record(
                s.y_test, r.predict_proba(s.X_test), s.y_train, r.predict_proba(s.X_train)
            )
        )
        records.append(rec)
    first = results[0]
    return MethodOutcome(
        records=records,
        predict_proba=first.predict_proba,
        history={k: np.asarray(v) for k, v in first.history.items()},
        model=first,
        seconds=seconds,
    )


def run_gd(
    spec: NetworkSpec,
    splits: Sequence[Split],
    config: GDConfig,
    *,
    progress: bool = False,
    base: Mapping[str, Any] | None = None,
) -> MethodOutcome:
    """GD runs, one :func:`debinn_jax.gd.train_gd` call per seed (its starts are batched)."""
    records = []
    first: GDResult | None = None
    t_all = time.perf_counter()
    for s in splits:
        r = train_gd(spec, s.X_train, s.y_train, run_key(s.seed, "gd"), config, progress=progress)
        if first is None:
            first = r
        rec = dict(base or {})
        rec.update(
            method="gd",
            seed=s.seed,
            n_params=param_count(spec),
            train_seconds=float(r.seconds),
            generations_or_epochs=int(r.epochs_run),
            best_epoch=int(r.best_epoch),
            starts=int(config.starts),
        )
        rec.update(
            _metrics_record(
                s.y_test, r.predict_proba(s.X_test), s.y_train, r.predict_proba(s.X_train)
            )
        )
        records.append(rec)
    assert first is not None
    return MethodOutcome(
        records=records,
        predict_proba=first.predict_proba,
        history={k: np.asarray(v) for k, v in first.history.items()},
        model=first,
        seconds=time.perf_counter() - t_all,
    )


def make_baseline(method: str, hidden: tuple[int, ...], seed: int, config: BaselineConfig) -> Any:
    """An unfitted scikit-learn estimator for baseline ``method``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    cw = None if config.class_weight == "none" else "balanced"
    if method == "logreg":
        return LogisticRegression(max_iter=5000, class_weight=cw)
    if method == "random_forest":
        return RandomForestClassifier(
            n_estimators=config.rf_trees, class_weight=cw, random_state=seed, n_jobs=1
        )
    if method == "mlp":
        return MLPClassifier(
            hidden_layer_sizes=hidden, max_iter=config.mlp_max_iter, random_state=seed
        )
    raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")


def baseline_param_count(model: Any) -> int | None:
    """Trainable parameters of a fitted linear model or MLP; None for a random forest."""
    if hasattr(model, "coefs_"):
        return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    if hasattr(model, "coef_"):
        return int(model.coef_.size + model.intercept_.size)
    return None


def _full_proba(model: Any, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` with one column per class even if a class was absent in training."""
    p = model.predict_proba(X)
    out = np.zeros((X.shape[0], n_classes))
    out[:, np.asarray(model.classes_, int)] = p
    return out


def run_baseline(
    method: str,
    hidden: tuple[int, ...],
    splits: Sequence[Split],
    n_classes: int,
    config: BaselineConfig,
    *,
    base: Mapping[str, Any] | None = None,
) -> MethodOutcome:
    """Fit a scikit-learn baseline on every split; record test metrics."""
    from sklearn.exceptions import ConvergenceWarning

    records = []
    first = None
    t_all = time.perf_counter()
    for s in splits:
        model = make_baseline(method, hidden, s.seed, config)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            model.fit(s.X_train, s.y_train)
        dt = time.perf_counter() - t0
        if first is None:
            first = model
        rec = dict(base or {})
        n_iter = getattr(model, "n_iter_", None)
        rec.update(
            method=method,
            seed=s.seed,
            n_params=baseline_param_count(model),
            train_seconds=dt,
            generations_or_epochs=None if n_iter is None else int(np.max(n_iter)),
        )
        if method == "random_forest":
            rec["n_nodes"] = int(sum(t.tree_.node_count for t in model.estimators_))
        if method != "mlp":
            rec["hidden"] = None
            rec["architecture"] = None
        rec.update(
            _metrics_record(
                s.y_test,
                _full_proba(model, s.X_test, n_classes),
                s.y_train,
                _full_proba(model, s.X_train, n_classes),
            )
        )
        records.append(rec)
    return MethodOutcome(
        records=records,
        predict_proba=None if first is None else (lambda X: _full_proba(first, X, n_classes)),
        model=first,
        seconds=time.perf_counter() - t_all,
    )


def select_architecture(
    config: StudyConfig, data: TaskData, *, progress: bool = False
) -> dict[str, Any]:
    """Choose the layout on an inner validation split of seed 0's training data (GA, small budget).

    The training split of the first seed is split again (stratified, ``validation_size``), the
    features re-standardised on the inner training part only, and every candidate trained by
    ``selection.seeds`` GA runs; the highest mean validation balanced accuracy wins (ties: the
    candidate listed first). With ``select`` set to a candidate name, that one is used.

    Returns:
        ``{"selected", "method", "scores": {name: {"val_balanced_accuracy": [...], "mean"}}}``.
    """
    if config.select != "validation":
        return {"selected": config.select, "method": "fixed in config", "scores": {}}
    if len(config.candidates) == 1:
        name = config.candidates[0][0]
        return {"selected": name, "method": "only candidate", "scores": {}}
    sel = config.selection
    s0 = data.splits[0]
    tr, va = stratified_split(s0.y_train, sel.validation_size, seed=sel.seed)
    X_tr, X_va = _scale(s0.X_train_raw[tr], s0.X_train_raw[va], config.task.standardize)
    y_tr, y_va = s0.y_train[tr], s0.y_train[va]
    ga = dataclasses.replace(
        config.ga,
        population_size=sel.population_size,
        generations=sel.generations,
        early_stopping=None,
    )
    scores: dict[str, Any] = {}
    seeds = [sel.seed + i for i in range(sel.seeds)]
    keys = [run_key(s, "selection") for s in seeds]
    for name, hidden in config.candidates:
        spec = config.spec("ga", name, data.n_features, data.n_classes)
        t0 = time.perf_counter()
        fits, _, _ = fit_ga_runs(
            spec,
            [(X_tr, y_tr)] * len(seeds),
            keys,
            ga,
            batch_seeds=config.batch_seeds,
            run_batch_size=config.run_batch_size,
        )
        vals = [
            float(classification_metrics(y_va, r.predict_proba(X_va))["balanced_accuracy"])
            for r in fits
        ]
        scores[name] = {
            "hidden": list(hidden),
            "n_params": param_count(spec),
            "val_balanced_accuracy": vals,
            "mean": float(np.mean(vals)),
            "seconds": time.perf_counter() - t0,
        }
        if progress:
            print(
                f"[{config.task.name}] select: {name} {hidden}: validation balanced accuracy "
                f"{np.mean(vals):.3f} ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    best = max(scores, key=lambda n: (scores[n]["mean"], -list(scores).index(n)))
    return {
        "selected": best,
        "method": (
            f"GA validation balanced accuracy on an inner {round(100 * sel.validation_size)} % "
            f"split of seed {data.splits[0].seed}'s training data "
            f"({len(y_tr)} train / {len(y_va)} validation cases; population "
            f"{sel.population_size}, {sel.generations} generations, {sel.seeds} runs per layout)"
        ),
        "scores": scores,
    }


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; NaN for fewer than two values)."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan


def bootstrap_ci(
    values: Sequence[float], *, level: float = 0.95, n_boot: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean.

    Args:
        values: one value per run (seed).
        level: coverage, e.g. 0.95.
        n_boot: bootstrap resamples.
        seed: seed of the resampling (explicit, so the report is reproducible).

    Returns:
        ``(low, high)``; ``(nan, nan)`` for no values; ``(v, v)`` for one value.
    """
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    means = v[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def summarize(records: Sequence[Mapping[str, Any]], *, seed: int = 0) -> list[dict[str, Any]]:
    """Per (task, method): mean, sd and bootstrap 95 % CI of the test metrics, and costs."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["task"], r["method"]), []).append(r)
    rows = []
    for (task, method), rs in groups.items():
        row: dict[str, Any] = {"task": task, "method": method, "n_runs": len(rs)}
        for key in (
            "test_balanced_accuracy",
            "test_accuracy",
            "test_auc",
            "test_ece",
            "train_balanced_accuracy",
            "train_seconds",
            "generations_or_epochs",
        ):
            vals = [r.get(key) for r in rs]
            m, sd = mean_sd(vals)
            row[key] = {"mean": m, "sd": sd}
            if key in ("test_balanced_accuracy", "test_accuracy"):
                row[key]["ci95"] = list(bootstrap_ci(vals, seed=seed))
        row["n_params"] = rs[0].get("n_params")
        row["architecture"] = rs[0].get("architecture")
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def _pm(stat: Mapping[str, Any], digits: int = 3) -> str:
    m, sd = stat["mean"], stat["sd"]
    if not math.isfinite(m):
        return "n/a"
    return _fmt(m, digits) + (f" ± {_fmt(sd, digits)}" if math.isfinite(sd) else "")


def _ci(stat: Mapping[str, Any]) -> str:
    lo, hi = stat.get("ci95", (math.nan, math.nan))
    return f"[{_fmt(lo)}, {_fmt(hi)}]"


def verdict(row: Mapping[str, Any], paper: float | None, tol: float = 0.02) -> tuple[bool, str]:
    """Whether a GA row reproduces the paper's accuracy figure ``paper``.

    Reproduced = our mean test accuracy is at least ``paper - tol`` or the paper's figure lies
    inside (or below) the bootstrap 95 % CI of our mean. Returns ``(ok, sentence)``.
    """
    if paper is None:
        return True, "no paper figure"
    acc = row["test_accuracy"]
    lo, hi = acc.get("ci95", (math.nan, math.nan))
    m = acc["mean"]
    ok = bool(m >= paper - tol or (math.isfinite(hi) and paper <= hi))
    diff = m - paper
    if ok:
        text = (
            f"reproduced: mean test accuracy {m:.3f} (95 % CI [{lo:.3f}, {hi:.3f}]) vs the "
            f"paper's {paper:.2f} (difference {diff:+.3f})"
        )
    else:
        text = (
            f"**not reproduced**: mean test accuracy {m:.3f} (95 % CI [{lo:.3f}, {hi:.3f}]) is "
            f"below the paper's {paper:.2f} (difference {diff:+.3f})"
        )
    return ok, text


def _ga2025_lines(
    g: Mapping[str, Any],
    rows: Mapping[tuple[str, str], Mapping[str, Any]],
    task: str,
    paper: float | None,
) -> list[str]:
    """The summary's paragraph on the 2025 GA's two protocols."""
    seconds = g.get("seconds", {})
    lines = [
        "",
        f"2025 GA ({g['precision']}): the authors' regulariser grid {g['architecture']} "
        f"{tuple(g['hidden'])}, {g['settings']} settings x 1 run, {g['iterations']} iterations "
        f"(grid on test: median test balanced accuracy {_fmt(g['grid_test_median'])}). "
        f"Authors' protocol: best on test **{g['test_picked']}**. Honest protocol: best on an "
        f"inner validation split ({g['n_inner_train']} / {g['n_validation']} training cases) "
        f"**{g['val_picked']}**; each picked setting re-trained with {g['seeds']} new seeds "
        "on the whole training split. Time: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
        + ".",
    ]
    top = rows.get((task, "ga2025_grid_max"))
    picked = rows.get((task, "ga2025_test_picked"))
    honest = rows.get((task, "ga2025_val_picked"))
    if top is not None and picked is not None:
        gap = top["test_balanced_accuracy"]["mean"] - picked["test_balanced_accuracy"]["mean"]
        lines.append(
            f"Picking on test: the grid maximum {_fmt(top['test_balanced_accuracy']['mean'])} "
            f"is {gap:+.3f} above the same setting re-trained with new seeds "
            f"({_pm(picked['test_balanced_accuracy'])})"
            + (
                f"; the paper reports {paper:.2f} (the maximum of the authors' grid)."
                if paper is not None
                else "."
            )
        )
    if honest is not None:
        lines.append(
            "Honest estimate of the 2025 GA on this split (setting picked without test labels): "
            f"test balanced accuracy {_pm(honest['test_balanced_accuracy'])}."
        )
    return lines


def verdict_2025(row: Mapping[str, Any], paper: float, tol: float = 0.02) -> tuple[bool, str]:
    """Whether the 2025 grid's test maximum (one run, picked on test as the paper did) reaches
    the paper's GA figure (which equals the maximum of the authors' grid, a balanced accuracy).
    Reproduced = at least ``paper - tol``."""
    m = row["test_balanced_accuracy"]["mean"]
    ok = bool(m >= paper - tol)
    word = "reproduced" if ok else "**not reproduced**"
    return ok, (
        f"{word}: best test balanced accuracy of the grid {m:.3f} vs the paper's {paper:.2f} "
        f"(difference {m - paper:+.3f}; both picked on test)"
    )


def machine_description() -> str:
    """One line: OS, CPU, core count, jax version and backend."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} logical cores, "
        f"jax {jax.__version__} ({jax.default_backend()}), Python {platform.python_version()}"
    )


def write_summary(results: Mapping[str, Any]) -> str:
    """The ``summary.md`` text for a ``results.json`` object (see :func:`run_study`)."""
    meta = results["meta"]
    rows = {(r["task"], r["method"]): r for r in results["summary"]}
    lines = [
        "# DEBI-NN: GA vs GD reproduction (arXiv 2605.27411)",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- seeds per task and method: {meta['seeds']}"
        + (" (**--quick: reduced budgets, not the full study**)" if meta["quick"] else ""),
        f"- total wall time: {meta.get('total_seconds', math.nan):.0f} s",
        "- every number is measured on held-out test splits; layouts are chosen on an inner "
        "validation split of the training data, never on test (except the rows labelled "
        "*authors' protocol*, which pick the best of the 2025 grid on test, as the paper did).",
        "- mean ± sample sd over seeds; 95 % CI: percentile bootstrap of the mean over seeds "
        f"(10,000 resamples, seed {meta['bootstrap_seed']}). For the fixed-split tasks the "
        "spread is over training seeds only: it does not include the sampling noise of the "
        "small test sets.",
        "- paper figures: headline test accuracy as reported in the paper (GA / GD).",
        "- s/run: wall time per run, compilation included (the first run of a method pays it); "
        "where the GA trains all seeds in one compiled call, that call's time divided by the "
        "number of runs. GD trains its starts together in one call per seed.",
        "",
    ]
    verdicts = []
    for t in results["tasks"]:
        name = t["name"]
        if t.get("skipped"):
            lines += [f"## {t['title']}", "", f"Skipped: {t['skipped']}", ""]
            continue
        sel = t["selection"]
        lines += [
            f"## {t['title']}",
            "",
            f"- data: {t['source']}; {t['n_features']} features, {t['n_classes']} classes",
            f"- protocol: {t['protocol']}",
        ]
        if any((name, m) in rows for m in ("ga", "gd", *BASELINES)):
            lines.append(f"- layout: **{sel['selected']}** {tuple(t['hidden'])} ({sel['method']})")
            if sel.get("scores"):
                parts = [f"{n} {_fmt(s['mean'])}" for n, s in sel["scores"].items()]
                lines.append(f"- validation balanced accuracy per layout: {', '.join(parts)}")
            lines.append(
                f"- GA: population {t['ga']['population_size']}, up to "
                f"{t['ga']['generations']} generations (early stopping "
                f"{t['ga']['early_stopping']}); GD: {t['gd']['optimizer']} "
                f"lr {t['gd']['learning_rate']}, up to {t['gd']['epochs']} epochs, "
                f"{t['gd']['starts']} starts, patience {t['gd']['patience']}"
            )
        lines += [
            "",
            "| method | params | test balanced acc. (mean ± sd) | 95 % CI | test accuracy "
            "(mean ± sd) | 95 % CI | AUC | ECE | s/run | gens/epochs | paper acc. |",
            "|---|---:|---|---|---|---|---:|---:|---:|---:|---:|",
        ]
        paper = t["paper"]
        for method in ROW_METHODS:
            r = rows.get((name, method))
            if r is None:
                continue
            pf = {
                "ga": paper.get("ga_accuracy"),
                "gd": paper.get("gd_accuracy"),
                "ga2025_grid_max": paper.get("ga_accuracy"),
            }.get(method)
            lines.append(
                "| "
                + " | ".join(
                    [
                        METHOD_LABELS[method],
                        "-" if r["n_params"] is None else f"{r['n_params']:,}",
                        _pm(r["test_balanced_accuracy"]),
                        _ci(r["test_balanced_accuracy"]) if r["n_runs"] > 1 else "-",
                        _pm(r["test_accuracy"]),
                        _ci(r["test_accuracy"]) if r["n_runs"] > 1 else "-",
                        _fmt(r["test_auc"]["mean"]),
                        _fmt(r["test_ece"]["mean"]),
                        _fmt(r["train_seconds"]["mean"], 1),
                        _fmt(r["generations_or_epochs"]["mean"], 0),
                        "-" if pf is None else f"{pf:.2f}",
                    ]
                )
                + " |"
            )
        lines.append("")
        ga = rows.get((name, "ga"))
        gd = rows.get((name, "gd"))
        if ga is not None:
            ok, text = verdict(ga, paper.get("ga_accuracy"))
            verdicts.append((t["title"], ok, text))
            lines.append(f"GA vs paper: {text}.")
        top = rows.get((name, "ga2025_grid_max"))
        if top is not None and paper.get("ga_accuracy") is not None:
            ok, text = verdict_2025(top, paper["ga_accuracy"])
            verdicts.append((f"{t['title']}, 2025 GA (authors' protocol)", ok, text))
            lines.append(f"2025 GA, authors' protocol, vs paper: {text}.")
        if ga is not None and gd is not None:
            d = ga["test_balanced_accuracy"]["mean"] - gd["test_balanced_accuracy"]["mean"]
            paper_gap = None
            if paper.get("ga_accuracy") is not None and paper.get("gd_accuracy") is not None:
                paper_gap = paper["ga_accuracy"] - paper["gd_accuracy"]
            lines.append(
                f"GA minus GD (test balanced accuracy): {d:+.3f}"
                + (f" (paper, accuracy: {paper_gap:+.2f})." if paper_gap is not None else ".")
            )
        if t.get("ga2025"):
            lines += _ga2025_lines(t["ga2025"], rows, name, paper.get("ga_accuracy"))
        if paper.get("note"):
            lines.append(f"Note: {paper['note']}")
        lines.append("")
    lines += ["## Where the GA does (not) reproduce the paper", ""]
    if not verdicts:
        lines.append("No GA results.")
    for title, _ok, text in verdicts:
        lines.append(f"- {title}: {text}.")
    missing = [v for v in verdicts if not v[1]]
    lines.append("")
    if missing:
        lines.append(
            "The GA does **not** reproduce the paper's figure on: "
            + ", ".join(v[0] for v in missing)
            + "."
        )
    elif verdicts:
        lines.append("The GA reproduces the paper's GA figure on every task that ran.")
    if meta["quick"]:
        lines.append("")
        lines.append(
            "This was a `--quick` run with reduced budgets: these numbers are a smoke test, "
            "not the study."
        )
    if results.get("figures"):
        lines += ["", "## Figures", ""]
        for f in results["figures"]:
            lines.append(f"- `{f}`")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def make_figures(
    out: Path,
    task: TaskConfig,
    spec_ga: NetworkSpec,
    outcomes: Mapping[str, MethodOutcome],
    split: Split,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[Any] | None = None,
) -> list[str]:
    """Write the task's figures (PNG) into ``out``; returns their file names.

    Two-moons: decision boundaries of GA, GD and the MLP of the first seed, drawn over that
    seed's test split. Every task: training curves of the first seed (GA best fitness per
    generation, GD loss per epoch) and a 3-D view of the first seed's GA network.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from debinn_jax import plots

    names = []
    if task.kind == "moons":
        panels = [(m, outcomes[m]) for m in ("ga", "gd", "mlp") if m in outcomes]
        panels = [(m, o) for m, o in panels if o.predict_proba is not None]
        if panels:
            fig = Figure(figsize=(5.2 * len(panels), 4.4))
            FigureCanvasAgg(fig)
            axes = np.atleast_1d(fig.subplots(1, len(panels)))
            for ax, (m, o) in zip(axes, panels):
                rec = o.records[0]
                title = f"{METHOD_LABELS[m]}: test acc. {rec['test_accuracy']:.2f}"
                plots.plot_decision_boundary(o.predict_proba, split.X_test, split.y_test, ax, title)
            fig.suptitle(
                f"Two-moons decision boundaries (seed {split.seed}, test split, standardised "
                "features)"
            )
            fig.tight_layout()
            name = "moons_decision_boundaries.png"
            plots.save_figure(fig, out / name)
            names.append(name)
    histories: dict[str, dict[str, np.ndarray]] = {}
    if "ga" in outcomes and outcomes["ga"].history is not None:
        h = outcomes["ga"].history
        histories["GA (best of population, per generation)"] = {
            "training loss": h["train_fitness"],
            "validation loss": h["val_fitness"],
        }
    if "gd" in outcomes and outcomes["gd"].history is not None:
        h = outcomes["gd"].history
        histories["GD (per epoch)"] = {
            "training loss": h["train_loss"],
            "validation loss": h["val_loss"],
        }
    if histories:
        fig = plots.plot_training_curves(
            histories,
            xlabel="generation (GA) / epoch (GD)",
            log_y=("training loss", "validation loss"),
        )
        fig.suptitle(f"{task.title}: DEBI loss during training (seed {split.seed})", y=1.03)
        name = f"{task.name}_training_curves.png"
        plots.save_figure(fig, out / name)
        names.append(name)
    if "ga" in outcomes and outcomes["ga"].model is not None:
        name = f"{task.name}_network_3d.png"
        sizes = "-".join(str(n) for n in spec_ga.layer_sizes)
        plots.plot_network_3d(
            spec_ga,
            outcomes["ga"].model.coords,
            out / name,
            title=(
                f"{task.title}: GA-trained DEBI-NN {sizes} (seed {split.seed}); "
                "somas, axons, 3 strongest inputs per neuron"
            ),
            feature_names=feature_names,
            class_names=class_names,
        )
        names.append(name)
    return names


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj))
    return obj


def run_ga2025(
    cfg: StudyConfig,
    data: TaskData,
    out: Path,
    base: Mapping[str, Any],
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The 2025 GA's regulariser grid under the authors' and the honest protocol
    (:func:`debinn_jax.study_grid.grid_protocols`) on seed 0's split of a task.

    The honest protocol's inner split is a stratified ``validation_size`` split of the training
    data (features re-scaled on the inner training part when the task scales).

    Returns:
        The protocols' details plus ``"records"`` (study records, see
        :data:`debinn_jax.study_grid.PROTOCOL_METHODS`).
    """
    g = cfg.ga2025
    assert g is not None
    s0 = data.splits[0]
    tr, va = stratified_split(s0.y_train, g.validation_size, seed=g.validation_seed)
    X_tr, X_va = _scale(s0.X_train_raw[tr], s0.X_train_raw[va], cfg.task.standardize)
    name = cfg.task.name
    say(
        f"[{name}] ga2025: {len(g.numbers)} settings of the 2025 grid {g.architecture} "
        f"{g.hidden} ({g.precision}), on test and on an inner validation split "
        f"({len(tr)} / {len(va)} cases); then {g.seeds} seeds per picked setting"
    )
    t0 = time.perf_counter()
    records, details = grid_protocols(
        g,
        (s0.X_train, s0.y_train),
        (s0.X_test, s0.y_test),
        (X_tr, s0.y_train[tr]),
        (X_va, s0.y_train[va]),
        fold_name=Path(cfg.task.path).name or "Fold-1",
        out=out,
        base={**base, "architecture": f"2025 {g.architecture}", "hidden": list(g.hidden)},
        progress=lambda line: say(f"[{name}] ga2025 {line}"),
    )
    for method in PROTOCOL_METHODS:
        vals = [r["test_balanced_accuracy"] for r in records if r["method"] == method]
        m, sd = mean_sd(vals)
        say(f"[{name}] {method}: test balanced accuracy {_fmt(m)} ± {_fmt(sd)} ({len(vals)} runs)")
    details["total_seconds"] = time.perf_counter() - t0
    details["output"] = str(out)
    details["records"] = records
    return details


def run_study(
    configs: Sequence[StudyConfig],
    *,
    data_dir: Path | None,
    out: Path,
    seeds: int | None = None,
    methods: Sequence[str] = METHODS,
    figures: bool = True,
    progress: bool = True,
    bootstrap_seed: int = 0,
    printer: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every task of ``configs``; write ``results.json``, ``summary.md`` and figures.

    Args:
        configs: one :class:`StudyConfig` per task.
        data_dir: folder holding the real data (``dlbcl/``, ``hecktor-lite/``, ``ctg/``).
        out: output folder (created).
        seeds: override of the configs' seed counts.
        methods: subset of :data:`METHODS` to run.
        figures: write PNG figures.
        progress: print progress lines per task and method.
        bootstrap_seed: seed of the bootstrap CIs.
        printer: where progress lines go.

    Returns:
        The ``results.json`` object. Tasks whose data are missing are listed with a
        ``skipped`` message naming the expected path.
    """
    from debinn_jax.io import write_json_atomic, write_text_atomic

    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; expected some of {METHODS}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    quick = any(c.quick for c in configs)
    results: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_VERSION,
        "meta": {
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine_description(),
            "jax": jax.__version__,
            "backend": jax.default_backend(),
            "quick": quick,
            "seeds": seeds if seeds is not None else sorted({c.task.seeds for c in configs}),
            "methods": list(methods),
            "data_dir": None if data_dir is None else str(data_dir),
            "bootstrap_seed": bootstrap_seed,
            "configs": [str(c.path) for c in configs],
        },
        "tasks": [],
        "records": [],
        "summary": [],
        "figures": [],
    }

    def say(text: str) -> None:
        if progress:
            printer(text)

    def save() -> None:
        results["summary"] = summarize(results["records"], seed=bootstrap_seed)
        results["meta"]["total_seconds"] = time.perf_counter() - t_start
        write_json_atomic(out / "results.json", _jsonable(results))
        write_text_atomic(out / "summary.md", write_summary(results))

    for cfg in configs:
        task = cfg.task
        n_seeds = seeds if seeds is not None else task.seeds
        entry: dict[str, Any] = {"name": task.name, "title": task.title, "config": str(cfg.path)}
        try:
            data = prepare_task(task, data_dir, list(range(n_seeds)))
        except DataMissing as exc:
            say(str(exc))
            entry["skipped"] = str(exc)
            results["tasks"].append(entry)
            save()
            continue
        t_task = time.perf_counter()
        say(f"[{task.name}] {task.title}: {data.protocol}; {n_seeds} seeds")
        todo = [
            m
            for m in METHODS
            if m in methods
            and (
                m in ("ga", "gd")
                or m in cfg.baselines.methods
                or (m == "ga2025" and cfg.ga2025 is not None)
            )
        ]
        if any(m != "ga2025" for m in todo):
            selection = select_architecture(cfg, data, progress=progress)
        else:  # the 2025 grid has its own architecture: nothing to select
            first = cfg.select if cfg.select != "validation" else cfg.candidates[0][0]
            selection = {"selected": first, "method": "not used (only ga2025 ran)", "scores": {}}
        arch = selection["selected"]
        hidden = cfg.hidden_of(arch)
        spec_ga = cfg.spec("ga", arch, data.n_features, data.n_classes)
        spec_gd = cfg.spec("gd", arch, data.n_features, data.n_classes)
        say(f"[{task.name}] layout {arch} {hidden} ({selection['method']})")
        entry.update(
            source=data.source,
            protocol=data.protocol,
            n_features=data.n_features,
            n_classes=data.n_classes,
            classes=[str(c) for c in data.classes],
            seeds=n_seeds,
            selection=selection,
            architecture=arch,
            hidden=list(hidden),
            network_ga=dataclasses.asdict(spec_ga),
            network_gd=dataclasses.asdict(spec_gd),
            dense_params=dense_param_count(spec_ga),
            ga={
                k: v for k, v in dataclasses.asdict(cfg.ga).items() if not k.startswith("algorithm")
            }
            | {"run_batch_size": cfg.run_batch_size, "batch_seeds": cfg.batch_seeds},
            gd=dataclasses.asdict(cfg.gd),
            baselines=dataclasses.asdict(cfg.baselines),
            paper=dataclasses.asdict(cfg.paper),
        )
        s0 = data.splits[0]
        base = {
            "task": task.name,
            "architecture": arch,
            "hidden": list(hidden),
            "n_train": int(len(s0.y_train)),
            "n_test": int(len(s0.y_test)),
        }
        outcomes: dict[str, MethodOutcome] = {}
        for method in todo:
            if method == "ga2025":
                assert cfg.ga2025 is not None
                entry["ga2025"] = run_ga2025(cfg, data, out / "ga2025" / task.name, base, say)
                results["records"].extend(entry["ga2025"].pop("records"))
                save()
                continue
            say(f"[{task.name}] {method}: {n_seeds} runs ...")
            if method == "ga":
                o = run_ga(
                    spec_ga,
                    data.splits,
                    cfg.ga,
                    batch_seeds=cfg.batch_seeds,
                    run_batch_size=cfg.run_batch_size,
                    progress=progress,
                    base=base,
                )
            elif method == "gd":
                o = run_gd(spec_gd, data.splits, cfg.gd, base=base)
            else:
                o = run_baseline(
                    method, hidden, data.splits, data.n_classes, cfg.baselines, base=base
                )
            outcomes[method] = o
            results["records"].extend(o.records)
            bacc = mean_sd([r["test_balanced_accuracy"] for r in o.records])
            acc = mean_sd([r["test_accuracy"] for r in o.records])
            say(
                f"[{task.name}] {method}: test balanced accuracy {_fmt(bacc[0])} ± "
                f"{_fmt(bacc[1])}, accuracy {_fmt(acc[0])} ± {_fmt(acc[1])} "
                f"({o.seconds:.1f} s)"
            )
            save()
        if figures and outcomes:
            names = make_figures(out, task, spec_ga, outcomes, s0, data.feature_names, data.classes)
            results["figures"].extend(names)
            entry["figures"] = names
        entry["seconds"] = time.perf_counter() - t_task
        results["tasks"].append(entry)
        save()
        say(f"[{task.name}] done in {entry['seconds']:.0f} s")
    save()
    say(f"wrote {out / 'results.json'} and {out / 'summary.md'}")
    return results
