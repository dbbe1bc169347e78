"""A scikit-learn classifier around DEBI-NN: :class:`DEBIClassifier`.

The estimator maps arbitrary labels to class indices, z-scores the features on the training data
(``standardize=True``), builds a :class:`~debinn_jax.network.NetworkSpec` from its settings and
trains it with the GA (:func:`debinn_jax.ga.train_ga`) or GD (:func:`debinn_jax.gd.train_gd`).
The fitted network is a :class:`~debinn_jax.io.TrainedModel` in ``model_``; save it with
:meth:`DEBIClassifier.save` and get a fitted estimator back with :meth:`DEBIClassifier.load`.

Trainer settings come from ``trainer_options`` (a dict of :class:`~debinn_jax.ga.GAConfig` /
:class:`~debinn_jax.gd.GDConfig` fields, ``loss`` as a dict of
:class:`~debinn_jax.loss.LossConfig` fields) and the shortcuts ``population_size``,
``generations`` (GA), ``epochs``, ``learning_rate`` (GD), which win over the dict.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from debinn_jax.data import Standardizer, check_feature_values
from debinn_jax.io import PathLike, TrainedModel, load_model, save_model
from debinn_jax.loss import LossConfig
from debinn_jax.network import Coords, NetworkSpec
from debinn_jax.settings import check_setting_keys, check_setting_types, setting_names

TRAINERS = ("ga", "gd")
"""Trainer names accepted by :class:`DEBIClassifier` and ``debinn fit``."""

#: NetworkSpec fields a user may set (the rest, n_inputs and n_classes, come from the data).
SPEC_OPTIONS = setting_names(NetworkSpec, exclude=("n_inputs", "n_classes"))


def _config_class(trainer: str) -> type:
    if trainer == "ga":
        from debinn_jax.ga import GAConfig

        return GAConfig
    if trainer == "gd":
        from debinn_jax.gd import GDConfig

        return GDConfig
    raise ValueError(f"trainer must be one of {TRAINERS}, got {trainer!r}")


def trainer_config(trainer: str, options: Mapping[str, Any] | Any = None, **overrides: Any) -> Any:
    """Build the config of ``trainer`` (``"ga"`` -> GAConfig, ``"gd"`` -> GDConfig).

    Args:
        trainer: ``"ga"`` or ``"gd"``.
        options: None, a config instance of the trainer, or a mapping of its field names
            (``"loss"`` may be a mapping of :class:`~debinn_jax.loss.LossConfig` fields).
        overrides: fields that win over ``options``; None values are ignored.

    Raises:
        ValueError: unknown trainer, unknown setting (named), or a bad value.
    """
    cls = _config_class(trainer)
    fields = setting_names(cls)
    if options is None:
        base: dict[str, Any] = {}
    elif isinstance(options, cls):
        base = {f: getattr(options, f) for f in fields}
    elif isinstance(options, Mapping):
        base = dict(options)
    else:
        raise ValueError(
            f"{trainer} settings must be a dict or a {cls.__name__}, got {type(options).__name__}"
        )
    base |= {k: v for k, v in overrides.items() if v is not None}
    check_setting_keys(trainer, base, fields)
    check_setting_types(trainer, base, cls)
    loss = base.get("loss")
    if isinstance(loss, Mapping):
        check_setting_keys(f"{trainer}.loss", loss, setting_names(LossConfig))
        check_setting_types(f"{trainer}.loss", loss, LossConfig)
        base["loss"] = LossConfig(**loss)
    elif "loss" in base and not isinstance(loss, LossConfig):
        raise ValueError(
            f"{trainer} setting 'loss' must be a table of LossConfig fields, got {loss!r}"
        )
    for name in ("algorithm_params", "optimizer_kwargs"):
        if isinstance(base.get(name), list | dict):
            value = base[name]
            items = value.items() if isinstance(value, dict) else value
            base[name] = tuple(tuple(p) for p in items)
    return cls(**base)


def network_spec(
    n_inputs: int, n_classes: int, options: Mapping[str, Any] | None = None, **overrides: Any
) -> NetworkSpec:
    """A NetworkSpec for data of ``n_inputs`` features and ``n_classes`` classes.

    ``options`` and ``overrides`` (which win; None values ignored) hold other NetworkSpec fields;
    an unknown field is a ValueError naming it. Lists are accepted for ``hidden``/``groups``.
    """
    kwargs = dict(options or {}) | {k: v for k, v in overrides.items() if v is not None}
    check_setting_keys("network", kwargs, SPEC_OPTIONS)
    check_setting_types("network", kwargs, NetworkSpec)
    for name in ("hidden", "groups"):
        if isinstance(kwargs.get(name), list):
            kwargs[name] = tuple(kwargs[name])
    return NetworkSpec(n_inputs=n_inputs, n_classes=n_classes, **kwargs)


@dataclasses.dataclass(frozen=True)
class TrainOutcome:
    """What a trainer hands back to the estimator.

    Attributes:
        coords: coordinate pytree (numpy).
        ensemble: stacked coordinates of a prediction ensemble, or None.
        history: per-generation / per-epoch numpy arrays.
        info: JSON-ready summary (generations or epochs run, seconds, ...).
        val_idx: indices (into X) of the trainer's inner validation split, or None when it
            has none the host can see (the GA's validation subsets live inside its loop).
    """

    coords: Coords
    ensemble: Coords | None
    history: dict[str, np.ndarray]
    info: dict[str, Any]
    val_idx: np.ndarray | None = None


#: Per trainer: the fields of its result that :func:`train_network` reports in ``info``, in
#: order, each with the type it is written as (JSON-ready).
_INFO_FIELDS: dict[str, tuple[tuple[str, type], ...]] = {
    "ga": (
        ("generations_run", int),
        ("stopped_at", int),
        ("early_stopped", bool),
        ("seconds", float),
    ),
    "gd": (("epochs_run", int), ("best_epoch", int), ("best_start", int), ("seconds", float)),
}


def train_network(
    spec: NetworkSpec,
    X: np.ndarray,
    y: np.ndarray,
    key: jax.Array,
    trainer: str,
    config: Any,
    *,
    progress: bool = False,
) -> TrainOutcome:
    """Run ``trainer`` (``"ga"``/``"gd"``).

    Args:
        X: standardised features ``(n, f)`` (float32).
        y: class indices ``(n,)``.
    """
    if trainer == "ga":
        from debinn_jax.ga import train_ga as train
    elif trainer == "gd":
        from debinn_jax.gd import train_gd as train
    else:
        raise ValueError(f"trainer must be one of {TRAINERS}, got {trainer!r}")
    r = train(spec, X, y, key, config, progress=progress)
    info = {name: as_type(getattr(r, name)) for name, as_type in _INFO_FIELDS[trainer]}
    ensemble = getattr(r, "ensemble", None)  # the GA's prediction ensemble
    val_idx = getattr(r, "val_idx", None)  # the GD's inner validation split
    return TrainOutcome(
        _numpy(r.coords),
        None if ensemble is None else _numpy(ensemble),
        _hist(r.history),
        info,
        np.asarray(val_idx) if val_idx is not None and np.size(val_idx) else None,
    )


def _numpy(coords: Coords) -> Coords:
    return tuple({k: np.asarray(v) for k, v in layer.items()} for layer in coords)


def _hist(history: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in history.items()}


def _key_of(random_state: Any) -> tuple[jax.Array, int]:
    """A jax key and its integer seed: an int seeds directly; None/RandomState draw a seed."""
    if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool):
        seed = int(random_state)
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return jax.random.key(seed), seed


def _version() -> str:
    try:
        return importlib.metadata.version("debinn-jax")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


class DEBIClassifier(ClassifierMixin, BaseEstimator):
    """DEBI-NN classifier (scikit-learn API).

    Args:
        hidden: hidden layer sizes, e.g. ``(85, 64)``; ``()`` for none.
        kernel: distance-to-weight kernel, one of :data:`debinn_jax.network.KERNELS`.
        activation: hidden activation, one of :data:`debinn_jax.network.ACTIVATIONS`.
        head: output head, ``"reference"`` or ``"softmax"``.
        shift_scale: add per-neuron (scale, shift) genes (lets the network draw boundaries
            that do not pass through the origin; on by default, chosen on validation).
        normalization: ``"none"``, ``"input"`` (2022: z-score each layer's input across its
            neurons) or ``"activation"`` (2025: per-group normalisation of hidden activations).
        network_options: other :class:`~debinn_jax.network.NetworkSpec` fields as a dict
            (``temperature``, ``groups``, ``layer_delta``, ``train_deltas``,
            ``standardize_weights``, ``variant``, ``spatial_dropout``); the arguments above win.
        trainer: ``"ga"`` (genetic algorithm) or ``"gd"`` (gradient descent).
        trainer_options: dict of :class:`~debinn_jax.ga.GAConfig` or
            :class:`~debinn_jax.gd.GDConfig` fields (or a config instance).
        population_size: GA population size (shortcut; None = the config's value). Only used
            when ``trainer="ga"``; ignored otherwise (so one grid can search both trainers).
        generations: GA generation budget (shortcut). Only used when ``trainer="ga"``.
        epochs: GD epoch budget (shortcut). Only used when ``trainer="gd"``.
        learning_rate: GD learning rate (shortcut). Only used when ``trainer="gd"``.
        standardize: z-score every feature with the training data's mean and std.
        random_state: int seed, ``numpy.random.RandomState`` or None.
        verbose: log the trainer's progress lines (INFO on the trainers' loggers; a script shows
            them with e.g. ``logging.basicConfig(level=logging.INFO)``).

    Attributes (after ``fit``):
        classes_: the class labels ``(K,)``, sorted.
        n_features_in_: number of features seen in ``fit``.
        feature_names_in_: column names when ``X`` was a DataFrame with string column names.
        model_: the :class:`~debinn_jax.io.TrainedModel` (spec, coordinates, standardizer).
        spec_: the network spec; coords_: its coordinates.
        history_: per-generation (GA) or per-epoch (GD) training curves.
        train_info_: trainer summary (generations/epochs run, seconds, seed, ...).
        validation_indices_: row indices (into the ``X`` given to ``fit``) of the trainer's
            inner validation split (GD with ``validation_fraction > 0``), else None.

    Probabilities: the ``reference`` head caps the top probability at e / (e + K - 1) (0.731
    for two classes), so its probabilities read as doubt even for sure cases. For calibrated
    probabilities wrap the classifier in scikit-learn's
    ``CalibratedClassifierCV(DEBIClassifier(...), cv=3)``.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (16,),
        *,
        kernel: str = "gaussian_const",
        activation: str = "lrelu",
        head: str = "reference",
        shift_scale: bool = True,
        normalization: str = "none",
        network_options: dict[str, Any] | None = None,
        trainer: str = "ga",
        trainer_options: dict[str, Any] | None = None,
        population_size: int | None = None,
        generations: int | None = None,
        epochs: int | None = None,
        learning_rate: float | None = None,
        standardize: bool = True,
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.hidden = hidden
        self.kernel = kernel
        self.activation = activation
        self.head = head
        self.shift_scale = shift_scale
        self.normalization = normalization
        self.network_options = network_options
        self.trainer = trainer
        self.trainer_options = trainer_options
        self.population_size = population_size
        self.generations = generations
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.standardize = standardize
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- settings -> objects

    def make_spec(self, n_inputs: int, n_classes: int) -> NetworkSpec:
        """The NetworkSpec these settings give for ``n_inputs`` features, ``n_classes`` classes."""
        hidden = self.hidden
        if isinstance(hidden, int | np.integer) and not isinstance(hidden, bool):
            hidden = (int(hidden),)
        return network_spec(
            n_inputs,
            n_classes,
            self.network_options,
            hidden=hidden,
            kernel=self.kernel,
            activation=self.activation,
            head=self.head,
            shift_scale=self.shift_scale,
            normalization=self.normalization,
        )

    def make_config(self) -> Any:
        """The trainer config (GAConfig or GDConfig) these settings give."""
        if self.trainer not in TRAINERS:
            raise ValueError(f"trainer must be one of {TRAINERS}, got {self.trainer!r}")
        # The other trainer's shortcuts are ignored (scikit-learn convention: "only used when
        # trainer=..."), so that one grid can search over both trainers.
        if self.trainer == "ga":
            extra = {"population_size": self.population_size, "generations": self.generations}
        else:
            extra = {"epochs": self.epochs, "learning_rate": self.learning_rate}
        return trainer_config(self.trainer, self.trainer_options, **extra)

    # ---------------------------------------------------------------- fitting

    def fit(self, X: Any, y: Any) -> DEBIClassifier:
        """Train on features ``X`` ``(n, f)`` (array or DataFrame) and labels ``y`` ``(n,)``.

        Labels may be any sortable values (strings included); at least two classes are needed.
        Returns self.
        """
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_min_samples=1, ensure_all_finite=False
        )
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"DEBIClassifier needs samples of at least 2 classes in y; the data contains "
                f"only one class: {classes.tolist()[0]!r}"
            )
        spec = self.make_spec(X.shape[1], int(classes.size))
        config = self.make_config()
        columns = getattr(self, "feature_names_in_", None)
        columns = None if columns is None else [str(c) for c in columns]
        # values are checked in float64 before the float32 cast, as they are and standardised
        X = check_feature_values(X, columns=columns)
        standardizer = Standardizer().fit(X) if self.standardize else None
        Z = check_feature_values(X, standardizer=standardizer, columns=columns)
        key, seed = _key_of(self.random_state)
        outcome = train_network(
            spec,
            Z.astype(np.float32),
            y_idx.astype(np.int32),
            key,
            self.trainer,
            config,
            progress=bool(self.verbose),
        )
        info = dict(outcome.info) | {"seed": seed, "n_train": int(X.shape[0])}
        metadata = {
            "debinn_version": _version(),
            "trainer": self.trainer,
            "trainer_config": dataclasses.asdict(config),
            "class_counts": np.bincount(y_idx, minlength=classes.size).tolist(),
            "train_info": info,
        }
        self.model_ = TrainedModel(
            spec=spec,
            coords=outcome.coords,
            classes=classes,
            feature_names=getattr(self, "feature_names_in_", None),
            standardizer=standardizer,
            ensemble=outcome.ensemble,
            metadata=metadata,
        )
        self.classes_ = classes
        self.spec_ = spec
        self.coords_ = outcome.coords
        self.history_ = outcome.history
        self.train_info_ = info
        self.validation_indices_ = outcome.val_idx
        return self

    # ---------------------------------------------------------------- prediction

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)``; columns follow ``classes_``."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=False)
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(n,)`` (values of ``classes_``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # ---------------------------------------------------------------- model files

    def to_model(
        self,
        feature_names: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TrainedModel:
        """The fitted network as a :class:`~debinn_jax.io.TrainedModel`.

        Args:
            feature_names: names of the ``n_features_in_`` columns, when ``X`` had none
                (default: ``feature_names_in_`` if set).
            metadata: extra JSON-ready facts merged into the model's metadata.
        """
        check_is_fitted(self, "model_")
        model = self.model_
        changes: dict[str, Any] = {}
        if feature_names is not None:
            changes["feature_names"] = tuple(str(n) for n in feature_names)
        if metadata:
            changes["metadata"] = dict(model.metadata) | dict(metadata)
        return dataclasses.replace(model, **changes) if changes else model

    def save(
        self,
        path: PathLike,
        feature_names: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Path:
        """Save the fitted network to one model file (see :func:`debinn_jax.io.save_model`)."""
        return save_model(path, self.to_model(feature_names, metadata))

    @classmethod
    def from_model(cls, model: TrainedModel) -> DEBIClassifier:
        """A fitted classifier that predicts exactly like ``model``.

        Settings that shape the network are taken from the model's spec; trainer settings from
        its metadata where present. Refitting it trains a new network from scratch.
        """
        spec = model.spec
        meta = model.metadata or {}
        trainer = meta.get("trainer", "ga")
        extra = {
            f: getattr(spec, f)
            for f in (
                "temperature",
                "groups",
                "layer_delta",
                "train_deltas",
                "standardize_weights",
                "variant",
                "spatial_dropout",
            )
        }
        defaults = NetworkSpec(n_inputs=1)
        network_options = {k: v for k, v in extra.items() if v != getattr(defaults, k)} or None
        clf = cls(
            hidden=spec.hidden,
            kernel=spec.kernel,
            activation=spec.activation,
            head=spec.head,
            shift_scale=spec.shift_scale,
            normalization=spec.normalization,
            network_options=network_options,
            trainer=trainer if trainer in TRAINERS else "ga",
            standardize=model.standardizer is not None,
            random_state=(meta.get("train_info") or {}).get("seed"),
        )
        clf.model_ = model
        clf.classes_ = model.classes
        clf.n_features_in_ = spec.n_inputs
        if model.feature_names is not None:
            clf.feature_names_in_ = np.asarray(model.feature_names, dtype=object)
        clf.spec_ = spec
        clf.coords_ = model.coords
        clf.history_ = {}
        clf.train_info_ = dict(meta.get("train_info") or {})
        clf.validation_indices_ = None
        return clf

    @classmethod
    def load(cls, path: PathLike) -> DEBIClassifier:
        """A fitted classifier from a model file written by :meth:`save` or ``debinn fit``."""
        return cls.from_model(load_model(path))
