"""Model files (versioned, no pickle) and atomic writes of results files.

A **model file** is a zip archive (the same container as numpy's ``.npz``) holding

- ``debinn-model.json``: ``format``, ``format_version``, the
  :class:`~debinn_jax.network.NetworkSpec` fields, the class labels (and their numpy dtype),
  the feature names, the standardisation parameters, an index of the arrays (name, shape,
  dtype) and free-form training metadata;
- one ``.npy`` member per coordinate array: ``coords/<layer>/<name>.npy`` (and
  ``ensemble/<layer>/<name>.npy`` for prediction ensembles, leading axis E).

Nothing is unpickled on load (``allow_pickle=False``); the JSON can be read with any zip tool
(``unzip -p model.debinn debinn-model.json``). A file of another format version, a truncated or
corrupt file, or arrays that do not fit the stored spec fail with :class:`ModelFileError`
(a ``ValueError``) naming the file and the problem. :func:`load_any_model` also reads the
authors' 2025 ``*BestModel.bin`` files (as used by the command line).

:func:`write_json_atomic` and :func:`write_text_atomic` write results files: a temporary file in
the same folder, then ``os.replace``, so a reader never sees half a file.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import io as _io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from debinn_jax.data import Standardizer, check_feature_values
from debinn_jax.network import Coords, NetworkSpec, init_coords, model_proba
from debinn_jax.settings import (
    check_setting_keys,
    check_setting_types,
    setting_names,
    setting_value,
)

PathLike = str | os.PathLike[str]

FORMAT_NAME = "debinn-jax-model"
"""Value of the ``format`` field of every model file."""

FORMAT_VERSION = 1
"""Model file format written (and the only one read) by this version of debinn-jax."""

MANIFEST = "debinn-model.json"
"""Name of the JSON member of a model file."""


class ModelFileError(ValueError):
    """A model file cannot be read: missing, truncated, corrupt, of another format version, or
    not matching the data it is used with. The message names the file."""


# --------------------------------------------------------------------------------------------
# atomic writes and JSON


def to_jsonable(obj: Any) -> Any:
    """``obj`` with numpy/JAX scalars and arrays, tuples, paths and dataclasses made JSON-ready.

    Non-finite floats (NaN, inf) become ``None`` so the output is strict JSON. Anything else that
    JSON cannot hold becomes its ``repr``.
    """
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray | jax.Array):
        return to_jsonable(np.asarray(obj).tolist())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    return repr(obj)


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: PathLike, write: Callable[[Any], None], mode: str = "w") -> Path:
    """Call ``write(fh)`` on a temporary file next to ``path``, then move it over ``path``.

    ``mode`` is ``"w"`` (text, UTF-8) or ``"wb"`` (bytes). The temporary file is removed when
    ``write`` fails, and an existing ``path`` is left as it was. Returns the path.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        kwargs = {"encoding": "utf-8", "newline": ""} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def write_text_atomic(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary file + ``os.replace``)."""
    return write_atomic(path, lambda fh: fh.write(text), "w")


def write_json_atomic(path: PathLike, obj: Any, indent: int = 2) -> Path:
    """Write ``obj`` as strict JSON (see :func:`to_jsonable`) to ``path`` atomically."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


# --------------------------------------------------------------------------------------------
# the in-memory model


def _coords_to_numpy(coords: Coords) -> Coords:
    return tuple({k: np.asarray(v) for k, v in layer.items()} for layer in coords)


def _short_list(items: Sequence[Any], limit: int = 8) -> str:
    """``[a, b, ...]`` showing at most ``limit`` items, with the total when cut."""
    items = list(items)
    if len(items) <= limit:
        return repr(items)
    return repr(items[:limit])[:-1] + f", ... ({len(items)} in all)]"


def _labels_array(classes: Any) -> np.ndarray:
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"classes must be a 1-D sequence of >= 2 labels, got {classes!r}")
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedModel:
    """A trained DEBI-NN ready to predict on raw (unscaled) features.

    Attributes:
        spec: the network.
        coords: coordinate pytree (numpy arrays, no population axis).
        classes: the ``K`` class labels ``(K,)``; class index ``c`` means ``classes[c]``.
        feature_names: the ``f`` feature names in input order, or None when unknown.
        standardizer: fitted :class:`~debinn_jax.data.Standardizer` applied to the features
            before the network, or None (features go in as they are).
        ensemble: for prediction ensembles, coordinates with a leading axis E whose predicted
            probabilities are averaged (``coords`` is then ignored for prediction); else None.
        metadata: JSON-ready facts about training (trainer, settings, data, metrics, ...).
    """

    spec: NetworkSpec
    coords: Coords
    classes: np.ndarray
    feature_names: tuple[str, ...] | None = None
    standardizer: Standardizer | None = None
    ensemble: Coords | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "coords", _coords_to_numpy(self.coords))
        if self.ensemble is not None:
            object.__setattr__(self, "ensemble", _coords_to_numpy(self.ensemble))
        classes = _labels_array(self.classes)
        if classes.size != self.spec.n_classes:
            raise ValueError(
                f"TrainedModel: {classes.size} class labels for a network with "
                f"{self.spec.n_classes} outputs"
            )
        object.__setattr__(self, "classes", classes)
        if self.feature_names is not None:
            names = tuple(str(n) for n in self.feature_names)
            if len(names) != self.spec.n_inputs:
                raise ValueError(
                    f"TrainedModel: {len(names)} feature names for a network with "
                    f"{self.spec.n_inputs} inputs"
                )
            object.__setattr__(self, "feature_names", names)
        if self.standardizer is not None:
            mean = self.standardizer.mean_
            if mean is None or np.shape(mean) != (self.spec.n_inputs,):
                raise ValueError(
                    f"TrainedModel: the standardizer must be fitted on {self.spec.n_inputs} "
                    f"features"
                )

    @property
    def n_features(self) -> int:
        """Number of input features ``f``."""
        return self.spec.n_inputs

    def feature_columns(self, columns: Sequence[str], source: str) -> list[int]:
        """Positions of the model's features among a file's ``columns``, in the model's order.

        Raises ValueError naming ``source`` and the missing columns. The model must know its
        feature names.
        """
        if self.feature_names is None:
            raise ValueError(f"{source}: the model has no feature names to match columns by")
        columns = [str(c) for c in columns]
        missing = [n for n in self.feature_names if n not in columns]
        if missing:
            raise ValueError(
                f"{source}: missing feature column(s) {_short_list(missing)}; the model was "
                f"trained on {self.n_features} features: {_short_list(self.feature_names)}"
            )
        return [columns.index(n) for n in self.feature_names]

    def check_features(self, feature_names: Sequence[str]) -> None:
        """Raise ValueError unless ``feature_names`` are the model's, in the model's order."""
        names = tuple(str(n) for n in feature_names)
        if self.feature_names is None or names == self.feature_names:
            if len(names) != self.n_features:
                raise ValueError(
                    f"the data has {len(names)} feature columns, the model expects "
                    f"{self.n_features}"
                )
            return
        missing = [n for n in self.feature_names if n not in names]
        extra = [n for n in names if n not in self.feature_names]
        if missing or extra:
            raise ValueError(
                f"the data's feature columns differ from the model's: missing {missing}, "
                f"unexpected {extra}"
            )
        raise ValueError(
            f"the data's feature columns are in another order than the model's "
            f"{list(self.feature_names)}"
        )

    def transform(
        self, X: Any, *, rows: Sequence[str] | None = None, source: str | None = None
    ) -> np.ndarray:
        """Validated, standardised inputs ``(n, f)`` for the network, in JAX's default float
        dtype (float32, or float64 under ``jax_enable_x64``).

        The checks run in float64 before the cast: every value must be finite and fit the
        network's float type before and after standardisation (see
        :func:`debinn_jax.data.check_feature_values`); the ValueError names the row (``rows``:
        row keys, default the 0-based row index), the column and ``source``.
        """
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have shape (n, {self.n_features}) for this model, got {X.shape}"
            )
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"X must hold numbers: {err}") from None
        dtype = jax.dtypes.canonicalize_dtype(np.float64)
        Z = check_feature_values(
            X,
            standardizer=self.standardizer,
            dtype=dtype,
            rows=rows,
            columns=self.feature_names,
            source=source,
        )
        return Z.astype(dtype)

    def predict_proba(
        self,
        X: Any,
        feature_names: Sequence[str] | None = None,
        *,
        rows: Sequence[str] | None = None,
        source: str | None = None,
    ) -> np.ndarray:
        """Class probabilities ``(n, K)`` (float64) for raw features ``X`` ``(n, f)``.

        When ``feature_names`` is given it must equal the model's feature names. ``rows`` (row
        keys) and ``source`` (a file name) only serve the messages of bad values (see
        :meth:`transform`).
        """
        if feature_names is not None:
            self.check_features(feature_names)
        Z = self.transform(X, rows=rows, source=source)
        # fixed-size compiled blocks: a row's result does not depend on the other rows
        return model_proba(self.spec, self.coords, Z, self.ensemble).astype(np.float64)

    def predict(self, X: Any, feature_names: Sequence[str] | None = None) -> np.ndarray:
        """Predicted class labels ``(n,)`` (argmax of the probabilities)."""
        return self.classes[np.argmax(self.predict_proba(X, feature_names), axis=1)]


# --------------------------------------------------------------------------------------------
# saving


def _flatten(prefix: str, coords: Coords) -> dict[str, np.ndarray]:
    return {
        f"{prefix}/{layer}/{name}": np.asarray(value)
        for layer, entry in enumerate(coords)
        for name, value in sorted(entry.items())
    }


def _classes_json(classes: np.ndarray) -> tuple[list[Any], str]:
    values = classes.tolist()
    for v in values:
        if not isinstance(v, bool | int | float | str):
            raise ValueError(
                f"class label {v!r} ({type(v).__name__}) cannot be stored in a model file; "
                f"labels must be numbers, strings or booleans"
            )
    return values, classes.dtype.str if classes.dtype != object else "object"


def model_manifest(model: TrainedModel) -> dict[str, Any]:
    """The JSON member of a model file for ``model`` (without the array index)."""
    classes, dtype = _classes_json(model.classes)
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "spec": to_jsonable(dataclasses.asdict(model.spec)),
        "classes": classes,
        "classes_dtype": dtype,
        "feature_names": None if model.feature_names is None else list(model.feature_names),
        "standardizer": None if model.standardizer is None else model.standardizer.to_dict(),
        "ensemble": model.ensemble is not None,
        "metadata": to_jsonable(model.metadata),
    }


def save_model(path: PathLike, model: TrainedModel) -> Path:
    """Write ``model`` to ``path`` as one model file, atomically; returns the path.

    The file is a zip archive of ``debinn-model.json`` and one ``.npy`` array per coordinate
    leaf (see the module docstring). An existing file is replaced only once the new one is
    complete.
    """
    arrays = _flatten("coords", model.coords)
    if model.ensemble is not None:
        arrays |= _flatten("ensemble", model.ensemble)
    manifest = model_manifest(model)
    manifest["saved"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    manifest["arrays"] = {
        name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in arrays.items()
    }
    text = json.dumps(manifest, indent=2, allow_nan=False)

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, text)
            for name, a in arrays.items():
                buf = _io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
                zf.writestr(f"{name}.npy", buf.getvalue())

    return write_atomic(path, write, "wb")


# --------------------------------------------------------------------------------------------
# loading


def _spec_from_json(path: Path, d: Any) -> NetworkSpec:
    if not isinstance(d, dict):
        raise ModelFileError(f"{path}: the network spec is not a JSON object")
    d = dict(d)
    if "group_norm" in d:  # files written before the 2025 variant (format version 1)
        d["normalization"] = "input" if d.pop("group_norm") else "none"
    try:  # the settings checks and dialect of debinn_jax.settings (lists become tuples)
        check_setting_keys("", d, setting_names(NetworkSpec), kind="field")
        check_setting_types("", d, NetworkSpec)
        return NetworkSpec(**setting_value(d))
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: invalid network spec: {err}") from None


def _unflatten(
    path: Path, arrays: dict[str, np.ndarray], prefix: str, template: Coords, lead: tuple
) -> Coords:
    """Rebuild a coordinate pytree; every leaf must match ``template``'s shape after ``lead``."""
    layers = []
    for layer, entry in enumerate(template):
        out = {}
        for name, leaf in entry.items():
            key = f"{prefix}/{layer}/{name}"
            if key not in arrays:
                raise ModelFileError(f"{path}: array {key!r} is missing")
            a = arrays.pop(key)
            expected = (*lead, *leaf.shape)
            if a.shape != expected:
                raise ModelFileError(
                    f"{path}: array {key!r} has shape {a.shape}, the stored spec needs {expected}"
                )
            if not np.issubdtype(a.dtype, np.floating):
                raise ModelFileError(f"{path}: array {key!r} has dtype {a.dtype}, expected float")
            out[name] = a
        layers.append(out)
    return tuple(layers)


def _foreign_kind(path: Path) -> str | None:
    """What ``path`` looks like when it is clearly not a model file of either kind (text, an
    image, an empty file, ...; see :func:`~debinn_jax.authors_file.describe_content`), else
    None (a zip archive, or binary data: either may be a damaged model file)."""
    from debinn_jax.authors_file import describe_content

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if head.startswith(b"PK"):  # a zip archive, perhaps a truncated model file: ours to read
        return None
    kind, foreign = describe_content(head)
    return kind if foreign else None


def _read_archive(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file; expected a debinn model file")
    foreign = _foreign_kind(path)
    if foreign:
        raise ModelFileError(
            f"{path}: not a debinn model file (a zip archive written by 'debinn fit'): it looks "
            f"like {foreign}"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if MANIFEST not in names:
                raise ModelFileError(
                    f"{path}: not a debinn model file (no {MANIFEST} inside the archive)"
                )
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
            arrays = {}
            for name in names:
                if name.endswith(".npy"):
                    with zf.open(name) as fh:
                        data = _io.BytesIO(fh.read())
                    arrays[name[: -len(".npy")]] = np.lib.format.read_array(
                        data, allow_pickle=False
                    )
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as err:
        raise ModelFileError(
            f"{path}: cannot read the model file, it is truncated, corrupt or not a debinn "
            f"model file ({type(err).__name__}: {err})"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: the model description is not valid JSON ({err})") from None
    except ValueError as err:  # np.lib.format: bad header, object arrays
        raise ModelFileError(f"{path}: an array in the model file is unreadable ({err})") from None
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{path}: the model description is not a JSON object")
    return manifest, arrays


def load_model(path: PathLike) -> TrainedModel:
    """Read a model file written by :func:`save_model`.

    Raises:
        FileNotFoundError: no such file.
        ModelFileError: not a model file, another format version, truncated or corrupt, or
            arrays that do not match the stored spec.
    """
    path = Path(path)
    manifest, arrays = _read_archive(path)
    if manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{path}: not a debinn model file (format {manifest.get('format')!r}, "
            f"expected {FORMAT_NAME!r})"
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {version!r}; this debinn-jax reads version "
            f"{FORMAT_VERSION} only (re-train or use the debinn-jax version that wrote it)"
        )
    for field in ("spec", "classes", "classes_dtype"):
        if field not in manifest:
            raise ModelFileError(f"{path}: field {field!r} is missing from {MANIFEST}")
    spec = _spec_from_json(path, manifest["spec"])
    template = jax.eval_shape(lambda k: init_coords(k, spec), jax.random.key(0))
    coords = _unflatten(path, arrays, "coords", template, ())
    ensemble = None
    if manifest.get("ensemble"):
        lead = arrays.get("ensemble/0/axon", np.zeros((0,))).shape[:1]
        ensemble = _unflatten(path, arrays, "ensemble", template, lead)
    if arrays:
        raise ModelFileError(f"{path}: unexpected arrays {sorted(arrays)}")
    try:
        classes = np.asarray(manifest["classes"], dtype=np.dtype(manifest["classes_dtype"]))
        std = manifest.get("standardizer")
        standardizer = None if std is None else Standardizer.from_dict(std)
        return TrainedModel(
            spec=spec,
            coords=coords,
            classes=classes,
            feature_names=manifest.get("feature_names"),
            standardizer=standardizer,
            ensemble=ensemble,
            metadata=manifest.get("metadata") or {},
        )
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: inconsistent model file: {err}") from None


def load_any_model(path: PathLike) -> TrainedModel:
    """Read a model file of either kind: ours (:func:`load_model`) or a ``*BestModel.bin`` of
    the authors' 2025 program (:func:`debinn_jax.authors.load_authors_model`).

    A zip archive is read as our format; otherwise a file that sniffs as an authors' file
    (:func:`~debinn_jax.authors_file.is_authors_file`) or whose name ends in ``.bin`` is read as
    one; anything else goes to :func:`load_model` (and its messages). A folder stands for the
    one ``*BestModel.bin`` below it (the authors' ``BestModels/Executions-Finished/<RUN>``,
    :func:`~debinn_jax.data.locate.find_model_file`).

    Raises:
        FileNotFoundError: no such file.
        ModelFileError: a file of either kind that cannot be used (one line naming the file;
            an authors' file's :class:`~debinn_jax.authors_file.AuthorsFileError`, including
            settings debinn-jax does not implement, is re-raised as this).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.is_dir():  # a run folder of the authors' BestModels tree
        from debinn_jax.data.locate import find_model_file

        path = find_model_file(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        from debinn_jax.authors_file import AuthorsFileError, is_authors_file

        foreign = _foreign_kind(path)
        if foreign:
            raise ModelFileError(
                f"{path}: not a debinn model file (written by 'debinn fit') nor a model file of "
                f"the authors' DEBI-NN program (a *BestModel.bin): it looks like {foreign}"
            )
        if path.suffix.lower() == ".bin" or is_authors_file(path):
            from debinn_jax.authors import load_authors_model

            try:
                return load_authors_model(path).trained_model()
            except AuthorsFileError as err:
                raise ModelFileError(str(err)) from None
    return load_model(path)


# --------------------------------------------------------------------------------------------
# unlabelled feature tables (inputs of ``debinn predict``)


@dataclasses.dataclass(frozen=True)
class FeatureTable:
    """Feature rows of a CSV file, in a model's column order.

    Attributes:
        X: float64 features ``(n, f)``.
        keys: ``n`` row keys (the ``Key`` column, else 1-based data row numbers).
        key_name: ``"Key"`` (as spelled in the file) or ``"row"``.
        ignored: columns of the file that are not model features (e.g. a label column).
    """

    X: np.ndarray
    keys: tuple[str, ...]
    key_name: str
    ignored: tuple[str, ...]


KEY_COLUMN = "key"
"""Name (compared case-insensitively) of the row-key column of CSV files, as in Fold folders."""


def key_column(path: PathLike) -> str | None:
    """The name of the ``Key`` column of a CSV file (any case), or None when it has none."""
    from debinn_jax.data.readers import find_key_column, read_csv

    table = read_csv(Path(path))
    col = find_key_column(table)
    return None if col is None else table.header[col]


def read_feature_table(path: PathLike, model: TrainedModel, key: str | None = None) -> FeatureTable:
    """Read the feature columns ``model`` needs from a CSV file (``,``, ``;`` or tab separated).

    The file is read by :func:`debinn_jax.data.readers.read_csv`, as every other CSV file, with
    the command line's rule for missing cells: an empty or NA cell in a feature column is an
    error naming the row and column. Columns are matched by name when the model knows its
    feature names (other columns are ignored), else the file must hold exactly the model's
    number of columns besides the key.

    Args:
        path: the CSV file.
        model: the model whose features are read.
        key: the row-id column (default: a column named ``Key`` in any case, else 1-based row
            numbers); it is never a feature.

    Raises:
        FileNotFoundError: no such file.
        ValueError: missing feature columns, too many or too few columns, an empty or
            non-numeric cell, NaN or inf (the message names the file, row key and column).
    """
    from debinn_jax.data.readers import (
        find_key_column,
        missing_cell_error,
        parse_numeric,
        read_csv,
        unique_keys,
    )

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    table = read_csv(path)
    header = table.header
    key_col = find_key_column(table, key)
    keys = (
        unique_keys(table, key_col)
        if key_col is not None
        else [str(r + 1) for r in range(len(table.rows))]
    )
    others = [i for i in range(len(header)) if i != key_col]
    if model.feature_names is not None:
        cols = model.feature_columns(header, str(path))
        if key_col is not None and key_col in cols:
            raise ValueError(
                f"{path}: column {header[key_col]!r} is the row-id column and a feature of the "
                f"model; expected another id column"
            )
    else:
        if len(others) != model.n_features:
            raise ValueError(
                f"{path}: {len(others)} feature columns, the model expects {model.n_features} "
                f"(it has no feature names, so every column besides the key is a feature)"
            )
        cols = others
    X = parse_numeric(table, cols, keys)
    bad = np.argwhere(np.isnan(X))
    if bad.size:
        r, j = (int(v) for v in bad[0])
        raise missing_cell_error(table, r, cols[j], keys[r])
    return FeatureTable(
        X=X,
        keys=tuple(keys),
        key_name=header[key_col] if key_col is not None else "row",
        ignored=tuple(header[i] for i in others if i not in cols),
    )
