"""``debinn fit | predict | evaluate | show``: train on your own data, use and inspect the model.

Thin: parse the arguments, call the library (data readers, :class:`DEBIClassifier`, model
files, metrics, plots), print. Every output path is checked before any long work starts, and
heavy libraries (jax, scikit-learn, matplotlib) are imported inside the ``run_*`` functions.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from debinn_jax.commands.info import parse_hidden

if TYPE_CHECKING:
    import numpy as np

CONFIG_SECTIONS = ("network", "ga", "gd")
MODEL_HELP = "model file written by 'debinn fit', or an authors' 2025 *BestModel.bin"
#: NetworkSpec fields that are DEBIClassifier arguments of their own.
_ESTIMATOR_SPEC_ARGS = ("hidden", "kernel", "activation", "head", "shift_scale", "normalization")


def probability_cap(n_classes: int) -> float:
    """Largest class probability the ``reference`` head can give: e / (e + K - 1)."""
    return math.e / (math.e + n_classes - 1)


CSV_RULES = """\
CSV files (the same rules in fit, evaluate and predict):
  UTF-8 text, separated by ',', ';' or tab, with a header row. A row-id column ('Key', or
  --id-column NAME) is never a feature. A missing feature cell (empty, NA, nan) is an error
  naming the file, row and column: fill it in or remove the row (rows without a label are
  skipped by fit and evaluate, and counted). Values must be finite numbers that fit the
  network's float32 (up to 3.4e38), also after z-scoring with the training mean and std.
"""

PROBABILITY_NOTE = """\
probabilities:
  The default 'reference' head caps the top class probability at e/(e+K-1): 0.731 for 2
  classes, 0.576 for 3 (the softmax of L1-normalised scores). A sure case reads 0.731, not 1:
  rank the cases by it, or get calibrated probabilities in Python with scikit-learn:
  CalibratedClassifierCV(DEBIClassifier(...), cv=3) (sklearn.calibration).
"""

FIT_EPILOG = (
    """\
data:
  PATH is a Fold folder (TrainF/TrainL/TestF/TestL.csv, ';'-separated, 'Key' column): the
  network is trained on its train split only; 'debinn evaluate --data FOLDER' then scores its
  test split. PATH may also be a CSV table (',', ';' or tab separated, header row, label in the
  last column or --label COL, an optional 'Key' column of row ids or --id-column NAME; every
  other column is a numeric feature, and fit lists them): every row is used for training,
  so keep your own test file aside and score it with 'debinn evaluate'. 'moons' trains on
  generated two-moons data.
  Features are z-scored with the training data's mean and std (stored in the model file).
  At the end fit warns when the model predicts one class for every case of its inner
  validation split (GD), or of the training data (GA: its validation subsets are internal).

"""
    + CSV_RULES
    + "\n"
    + PROBABILITY_NOTE
    + """
config file (TOML, or JSON when the name ends in .json), every section optional:
  [network]   NetworkSpec fields: hidden, kernel, activation, head, temperature,
              shift_scale, normalization, groups, layer_delta, train_deltas,
              standardize_weights, variant, spatial_dropout
  [ga]        GAConfig fields: population_size, generations, r_max, r_min, mutation_prob, ...
  [ga.loss]   LossConfig fields: alpha (number), l1, l2, class_weights (true or false)
  [gd]        GDConfig fields: learning_rate, epochs, optimizer, starts, patience, ...
  [loss]      LossConfig fields for both trainers ([ga.loss] / [gd.loss] keys win)
  The dialect of the study's configs: "none" means no value (early_stopping = "none"), lists
  are tuples. An unknown section or key, or a value of the wrong type (a quoted "0.9" is a
  string, not a number), is an error. Command-line flags win over the file.

example:
  debinn fit --data Fold-1 --trainer ga --hidden 16 --generations 200 --out dlbcl.debinn
"""
)

PREDICT_EPILOG = CSV_RULES + "\n" + PROBABILITY_NOTE


# --------------------------------------------------------------------------------------------
# helpers


def _read_config(path: str | None) -> dict[str, dict[str, Any]]:
    """The sections of a TOML/JSON config file (empty dicts when absent), in the dialect of
    :mod:`debinn_jax.settings` (``"none"``, lists, a shared ``[loss]``)."""
    from debinn_jax.cli import UserError
    from debinn_jax.settings import none_values, with_shared_loss

    out: dict[str, dict[str, Any]] = {name: {} for name in CONFIG_SECTIONS}
    if path is None:
        return out
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"config file {p}: cannot parse it: {err}") from None
    if not isinstance(data, dict):
        raise UserError(f"config file {p}: expected a table of sections {CONFIG_SECTIONS}")
    if not isinstance(data.get("loss", {}), dict):
        raise UserError(f"config file {p}: [loss] must be a table of LossConfig fields")
    data = with_shared_loss(none_values(data))
    for name, section in data.items():
        if name not in CONFIG_SECTIONS:
            raise UserError(
                f"config file {p}: unknown section {name!r}; expected {', '.join(CONFIG_SECTIONS)}"
            )
        if not isinstance(section, dict):
            raise UserError(f"config file {p}: [{name}] must be a table of settings")
        out[name] = dict(section)
    _check_config_types(p, out)
    return out


def _check_config_types(path: Path, config: dict[str, dict[str, Any]]) -> None:
    """UserError naming the file, section and key of a setting of the wrong type (a string
    where a number or boolean belongs, a list for a boolean, ...)."""
    from debinn_jax.cli import UserError
    from debinn_jax.estimator import check_setting_types
    from debinn_jax.ga import GAConfig
    from debinn_jax.gd import GDConfig
    from debinn_jax.loss import LossConfig
    from debinn_jax.network import NetworkSpec

    classes = {"network": NetworkSpec, "ga": GAConfig, "gd": GDConfig}
    try:
        for name, cls in classes.items():
            section = config[name]
            check_setting_types(f"[{name}]", section, cls)
            if "loss" in section and name != "network":
                if not isinstance(section["loss"], dict):
                    raise ValueError(
                        f"[{name}] setting 'loss' must be a table of LossConfig fields "
                        f"(a [{name}.loss] section), got {section['loss']!r}"
                    )
                check_setting_types(f"[{name}.loss]", section["loss"], LossConfig)
    except ValueError as err:
        raise UserError(f"config file {path}: {err}") from None


def _make_classifier(args: argparse.Namespace, config: dict[str, dict[str, Any]]) -> Any:
    """A DEBIClassifier from the config sections and the command-line flags (flags win)."""
    from debinn_jax.cli import UserError
    from debinn_jax.estimator import DEBIClassifier

    network = dict(config["network"])
    spec_args = {k: network.pop(k) for k in _ESTIMATOR_SPEC_ARGS if k in network}
    if args.hidden is not None:
        spec_args["hidden"] = args.hidden
    if args.kernel is not None:
        spec_args["kernel"] = args.kernel
    other = "gd" if args.trainer == "ga" else "ga"
    flags = (
        {"--epochs": args.epochs}
        if args.trainer == "ga"
        else {"--generations": args.generations, "--population": args.population}
    )
    wrong = [flag for flag, value in flags.items() if value is not None]
    if wrong:
        raise UserError(
            f"{wrong[0]} does not apply to --trainer {args.trainer} (it sets the "
            f"{other.upper()} budget); drop it or use --trainer {other}"
        )
    if config[other]:
        print(f"note: the config's [{other}] section is not used with --trainer {args.trainer}")
    return DEBIClassifier(
        **spec_args,
        network_options=network or None,
        trainer=args.trainer,
        trainer_options=config[args.trainer] or None,
        population_size=args.population,
        generations=args.generations,
        epochs=args.epochs,
        random_state=args.seed,
        verbose=not args.quiet,
    )


def _label_texts(value: Any) -> list[str]:
    """String forms a data label may match a model's string class by: ``str(value)``, and for a
    float that is a whole number also ``str(int(value))`` (a Fold's ``1.0`` matches ``"1"``)."""
    texts = [str(value)]
    if isinstance(value, float) and value.is_integer():
        texts.append(str(int(value)))
    return texts


def _class_indices(classes: np.ndarray, labels: np.ndarray, source: str) -> np.ndarray:
    """Indices into the model's ``classes`` of every label; ValueError for an unknown label.

    A label matches a class equal to it, else by its string form (see :func:`_label_texts`):
    the authors' model files have string classes (``"0"``, ``"1"``) while data readers parse
    numeric labels as numbers.
    """
    import numpy as np

    lookup = {c: i for i, c in enumerate(classes.tolist())}
    text_lookup = {str(c): i for i, c in enumerate(classes.tolist())}
    out = np.empty(len(labels), dtype=np.int64)
    for r, v in enumerate(np.asarray(labels).tolist()):
        idx = lookup.get(v)
        if idx is None:
            idx = next((text_lookup[t] for t in _label_texts(v) if t in text_lookup), None)
        if idx is None:
            raise ValueError(
                f"{source}: label {v!r} is not one of the model's classes {classes.tolist()}"
            )
        out[r] = idx
    return out


def _dataset_labels(ds: Any) -> np.ndarray:
    """The original label value of every row of a Dataset ``(n,)``."""
    import numpy as np

    return np.asarray(ds.classes)[ds.y]


def _ordered_features(ds: Any, model: Any) -> np.ndarray:
    """``ds.X`` with its columns in the model's order (ValueError naming missing columns)."""
    if model.feature_names is None:
        if ds.n_features != model.n_features:
            raise ValueError(
                f"{ds.source}: {ds.n_features} feature columns, the model expects "
                f"{model.n_features}"
            )
        return ds.X
    return ds.X[:, model.feature_columns(ds.feature_names, ds.source)]


def _load_data(
    path: str, label: str | None, min_classes: int = 2, id_column: str | None = None
) -> Any:
    """A Fold (folder), a Dataset (CSV table) or two-moons, read with the command line's rule
    for missing cells (an error naming the row and column).

    ``min_classes``: fewest labels a CSV table may hold (1 when scoring a test file).
    ``id_column``: the row-id column of a CSV table (default: a ``Key`` column, any case).
    """
    from debinn_jax.cli import UserError
    from debinn_jax.data import load_dataset, load_table
    from debinn_jax.io import key_column

    if Path(path).is_file():
        key = id_column if id_column is not None else key_column(path)
        return load_table(path, label=label, key=key, min_classes=min_classes, missing="error")
    if id_column is not None and Path(path).is_dir():
        raise UserError(
            f"--id-column applies to CSV tables; the rows of the Fold folder {path} are "
            f"identified by its 'Key' column"
        )
    return load_dataset(path, label=label, missing="error")


def _stored_id_column(model: Any, path: Path) -> str | None:
    """The row-id column the model was trained with (``fit --id-column``) when the CSV file
    ``path`` has it; else None (the readers then use a ``Key`` column)."""
    from debinn_jax.data.readers import read_csv

    stored = (model.metadata.get("data") or {}).get("id_column")
    if not isinstance(stored, str) or not path.is_file():
        return None
    return stored if stored in read_csv(path).header else None


def check_output_path(
    path: str | os.PathLike[str], option: str, what: str, example: str = "out"
) -> Path:
    """``path`` as a Path once it is known to be writable, checked before any long work.

    Raises UserError (one line naming the path and what is expected) when ``path`` is a
    folder, its folder does not exist, or nothing can be written there (read-only).
    """
    from debinn_jax.cli import UserError

    out = Path(path)
    if out.is_dir():
        raise UserError(
            f"{option} {out} is a folder; expected the name of the {what} to write, such as "
            f"{out / example}"
        )
    folder = out.parent
    if not folder.exists():
        raise UserError(
            f"{option} {out}: folder {folder} does not exist; create it first or choose "
            f"another place for the {what}"
        )
    if not folder.is_dir():
        raise UserError(f"{option} {out}: {folder} is not a folder; expected a folder path")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".check")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UserError(
            f"{option} {out}: cannot write in folder {folder} ({err.strerror or err}); "
            f"expected a writable place for the {what}"
        ) from None
    return out


#: Column names (compared in lower case) that look like row ids rather than measurements.
_ID_LIKE = ("id", "key", "index", "unnamed: 0", "row", "rowid")


def _looks_like_id(name: str) -> bool:
    low = name.strip().lower()
    return low in _ID_LIKE or low.endswith("_id")


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def _check_labels(ds: Any, label_file: str) -> None:
    """UserError when the labels are non-integer numbers (a measurement, not a class)."""
    from debinn_jax.cli import UserError

    floats = [c for c in ds.classes if isinstance(c, float)]
    if floats:
        raise UserError(
            f"{label_file}: label column {ds.label_name!r} holds non-integer numbers such as "
            f"{floats[0]!r} ({len(ds.classes)} distinct values); labels must be class labels "
            f"(integers or names), not measurements: name the label column with --label COL "
            f"(default: the last column)"
        )


def _skipped(ds: Any) -> str:
    """What the reader skipped (the command line reads with ``missing="error"``, so only rows
    without a label, and a Fold's labels without a feature row), or ""."""
    parts = []
    if ds.n_dropped_unlabelled:
        parts.append(f"{ds.n_dropped_unlabelled} rows without a label skipped")
    if ds.n_dropped_missing:
        parts.append(f"{ds.n_dropped_missing} labels without a feature row skipped")
    return ", ".join(parts)


def _print_metrics(metrics: dict[str, float]) -> None:
    for name, value in metrics.items():
        print(f"  {name:<18} {value:.4f}")


def _class_summary(classes: Any, counts: Any) -> str:
    return ", ".join(f"{c}: {n}" for c, n in zip(classes, counts))


#: Stored metrics of an authors' model file printed first, in this order (the rest follow).
_STORED_METRIC_ORDER = ("ACC", "BACC", "SNS", "SPC", "PPV", "NPV", "MCC", "EntropyLoss")


def _is_authors_model(model: Any) -> bool:
    """Whether ``model`` came from an authors' ``*BestModel.bin`` (directly or re-saved)."""
    return model.metadata.get("trainer") == "authors-2025"


def _print_class_roles(classes: list[Any]) -> None:
    """Which class sensitivity, specificity, PPV and NPV refer to."""
    if len(classes) == 2:
        print(
            f"positive class: {classes[1]!r} (sensitivity, specificity, PPV and NPV are those "
            f"of class {classes[1]!r}; negative class {classes[0]!r})"
        )
    else:
        print(
            "positive class: none (sensitivity, specificity, PPV and NPV are macro averages of "
            "one class vs the rest over the classes present)"
        )


def _print_confusion(classes: list[Any], y: np.ndarray, predicted: np.ndarray) -> None:
    """The confusion matrix (rows true, columns predicted); TP/TN/FP/FN for two classes."""
    from debinn_jax.metrics import confusion_matrix

    cm = confusion_matrix(y, predicted, n_classes=len(classes))
    names = [str(c) for c in classes]
    width = max(max(len(n) for n in names), len(str(int(cm.max()))))
    print("confusion matrix (rows: true class, columns: predicted class):")
    print("  " + " " * width + "  " + "  ".join(n.rjust(width) for n in names))
    for name, row in zip(names, cm):
        print(f"  {name.rjust(width)}  " + "  ".join(str(int(v)).rjust(width) for v in row))
    if len(classes) == 2:
        (tn, fp), (fn, tp) = cm.tolist()
        print(f"  TP {tp}, TN {tn}, FP {fp}, FN {fn}")


def _print_stored_metrics(model: Any) -> None:
    """The metrics an authors' model file stores per part (``Test``, ``Train``), one line each."""
    stored = model.metadata.get("stored_metrics")
    if not isinstance(stored, dict):
        return
    for part in sorted(stored, key=lambda p: (p != "Test", p)):
        values = stored[part]
        if not isinstance(values, dict) or not values:
            continue
        names = [n for n in _STORED_METRIC_ORDER if n in values]
        names += [n for n in values if n not in names]
        text = " ".join(
            f"{n} {values[n]:.4f}" if isinstance(values[n], int | float) else f"{n} -"
            for n in names
        )
        print(f"stored in the model file ({part}): {text}")


# --------------------------------------------------------------------------------------------
# fit


def _save_or_rescue(out: Path, model: Any) -> int:
    """Save ``model`` to ``out``; when that fails, save it in the temporary folder instead and
    say where in one line (exit code 1): a trained model is never lost silently."""
    from debinn_jax.cli import os_error_text
    from debinn_jax.io import save_model

    try:
        save_model(out, model)
    except OSError as err:
        reason = os_error_text(err)
        rescue = Path(tempfile.gettempdir()) / f"debinn-rescued-{os.getpid()}-{out.name}"
        try:
            save_model(rescue, model)
        except OSError as err2:
            print(
                f"debinn fit: error: cannot write the model to {out} ({reason}), nor to "
                f"{rescue} ({os_error_text(err2)}); the trained model is lost",
                file=sys.stderr,
            )
            return 1
        print(
            f"debinn fit: error: cannot write the model to {out} ({reason}); the trained model "
            f"was saved to {rescue} instead",
            file=sys.stderr,
        )
        return 1
    print(f"saved model to {out}")
    return 0


def _check_one_class(clf: Any, proba: np.ndarray, trainer: str) -> None:
    """Warn (one line) when the model predicts one class for every case of its inner
    validation split (GD), else of its training data."""
    import numpy as np

    val = getattr(clf, "validation_indices_", None)
    if val is not None and len(val):
        part = f"its inner validation split ({len(val)} cases)"
        predicted = np.argmax(proba[np.asarray(val)], axis=1)
    else:
        why = "the GA's validation subsets are internal" if trainer == "ga" else "no validation"
        part = f"its training data ({proba.shape[0]} cases; {why})"
        predicted = np.argmax(proba, axis=1)
    if np.unique(predicted).size == 1:
        label = np.asarray(clf.classes_).tolist()[int(predicted[0])]
        budget = "--generations/--population" if trainer == "ga" else "--epochs"
        _warn(
            f"the model predicts class {label!r} for every case of {part}: it has not learnt "
            f"to tell the classes apart; try a larger budget ({budget}), another --seed or the "
            f"other --trainer"
        )


def run_fit(args: argparse.Namespace) -> int:
    from debinn_jax.data import Fold, Standardizer, check_feature_values
    from debinn_jax.io import key_column
    from debinn_jax.metrics import classification_metrics
    from debinn_jax.network import summary

    out = check_output_path(args.out, "--out", "model file", "model.debinn")
    config = _read_config(args.config)
    clf = _make_classifier(args, config)
    cfg = clf.make_config()  # bad settings fail before the data is read
    data = _load_data(args.data, args.label, id_column=args.id_column)
    if isinstance(data, Fold):
        ds = data.train
        kind = "train split of a Fold folder"
        id_column: str | None = "Key"
        label_file = str(Path(data.path) / "TrainL.csv")
        print(
            f"data: {data.path}: training on the train split ({ds.n_samples} cases); "
            f"the test split ({data.test.n_samples} cases) is left for 'debinn evaluate'"
        )
    else:
        ds = data
        kind = "table (all rows)"
        label_file = ds.source
        id_column = args.id_column
        if id_column is None and Path(ds.source).is_file():
            id_column = key_column(ds.source)
        print(f"data: {ds.source}: training on all {ds.n_samples} rows")
    _check_labels(ds, label_file)
    skipped = _skipped(ds)
    print(
        f"  {ds.n_features} features, label {ds.label_name!r}, classes "
        f"{{{_class_summary(ds.classes, ds.class_counts())}}}" + (f"; {skipped}" if skipped else "")
    )
    print(f"  features: {', '.join(ds.feature_names)}")
    if id_column is not None:
        print(f"  row ids: column {id_column!r} (not a feature)")
    for name in ds.feature_names:
        if _looks_like_id(name):
            _warn(
                f"column {name!r} looks like a row id but is used as a numeric feature; if it "
                f"is an id, pass --id-column {name}"
            )
    # every value must survive the float32 cast, as it is and z-scored (names file/row/column)
    where = {"rows": ds.keys, "columns": ds.feature_names, "source": ds.source}
    check_feature_values(ds.X, **where)
    check_feature_values(ds.X, standardizer=Standardizer().fit(ds.X), **where)
    labels = _dataset_labels(ds)
    print(summary(clf.make_spec(ds.n_features, ds.n_classes)))
    budget = (
        f"population {cfg.population_size}, {cfg.generations} generations"
        if args.trainer == "ga"
        else f"{cfg.starts} starts, {cfg.epochs} epochs, learning rate {cfg.learning_rate}"
    )
    print(f"training with {args.trainer.upper()} ({budget}); the first step compiles ...")
    sys.stdout.flush()
    clf.fit(ds.X, labels)
    proba = clf.predict_proba(ds.X)
    train_metrics = classification_metrics(_class_indices(clf.classes_, labels, ds.source), proba)
    info = clf.train_info_
    if args.trainer == "ga":
        ran = f"{info.get('generations_run')} generations"
    else:
        ran = f"{info.get('epochs_run')} epochs (best epoch {info.get('best_epoch')})"
        if cfg.starts > 1:
            ran = f"the best of {cfg.starts} starts ran {ran}"
        if int(info.get("epochs_run", cfg.epochs)) < cfg.epochs:
            ran += f", stopped early after {cfg.patience} epochs without improvement"
    print(f"trained: {ran} in {info.get('seconds', float('nan')):.1f} s")
    print(
        f"training data: accuracy {train_metrics['accuracy']:.4f}, balanced accuracy "
        f"{train_metrics['balanced_accuracy']:.4f}"
    )
    model = clf.to_model(
        feature_names=ds.feature_names,
        metadata={
            "data": {
                "path": str(args.data),
                "kind": kind,
                "source": ds.source,
                "label_name": ds.label_name,
                "id_column": id_column,
                "n_cases": ds.n_samples,
                "n_dropped_unlabelled": ds.n_dropped_unlabelled,
                "n_dropped_missing": ds.n_dropped_missing,
            },
            "train_metrics": train_metrics,
        },
    )
    code = _save_or_rescue(out, model)
    _check_one_class(clf, proba, args.trainer)
    return code


# --------------------------------------------------------------------------------------------
# predict


def run_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from debinn_jax.io import load_any_model, read_feature_table, write_text_atomic

    if args.out != "-":
        check_output_path(args.out, "--out", "predictions CSV file", "predictions.csv")
    model = load_any_model(args.model)
    path = Path(args.data)
    if path.is_dir():
        path = path / "TestF.csv"
        print(f"data: {args.data} is a folder; predicting its test features {path}")
    id_column = args.id_column or _stored_id_column(model, path)
    table = read_feature_table(path, model, key=id_column)
    if table.ignored:
        print(f"note: ignored column(s) that are not model features: {list(table.ignored)}")
    proba = model.predict_proba(table.X, rows=table.keys, source=str(path))
    predicted = model.classes[np.argmax(proba, axis=1)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([table.key_name, "predicted", *(f"p_{c}" for c in model.classes.tolist())])
    for key, label, p in zip(table.keys, predicted.tolist(), proba):
        writer.writerow([key, label, *(f"{v:.6f}" for v in p)])
    if args.out == "-":
        sys.stdout.write(buf.getvalue())
    else:
        write_text_atomic(args.out, buf.getvalue())
        counts = np.bincount(np.argmax(proba, axis=1), minlength=len(model.classes))
        print(
            f"wrote {len(table.keys)} predictions to {args.out} "
            f"(predicted {{{_class_summary(model.classes.tolist(), counts)}}})"
        )
    return 0


# --------------------------------------------------------------------------------------------
# evaluate


def run_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from debinn_jax.data import Fold
    from debinn_jax.io import load_any_model, write_json_atomic
    from debinn_jax.metrics import classification_metrics

    if args.out:
        check_output_path(args.out, "--out", "metrics JSON file", "metrics.json")
    model = load_any_model(args.model)
    id_column = args.id_column or _stored_id_column(model, Path(args.data))
    data = _load_data(args.data, args.label, min_classes=1, id_column=id_column)
    if isinstance(data, Fold):
        ds = data.test
        where = f"{data.path}: test split ({Path(ds.source).name})"
    else:
        ds = data
        where = f"{ds.source}: all rows"
    X = _ordered_features(ds, model)
    y = _class_indices(model.classes, _dataset_labels(ds), ds.source)
    proba = model.predict_proba(X, rows=ds.keys, source=ds.source)
    metrics = classification_metrics(y, proba, n_classes=len(model.classes))
    counts = np.bincount(y, minlength=len(model.classes))
    classes = model.classes.tolist()
    origin = ", the authors' 2025 program" if _is_authors_model(model) else ""
    print(f"model: {args.model} (DEBI-NN {'-'.join(map(str, model.spec.layer_sizes))}{origin})")
    print(f"data: {where}, {ds.n_samples} cases, label {ds.label_name!r}")
    print(f"  classes {{{_class_summary(classes, counts)}}}")
    skipped = _skipped(ds)
    if skipped:
        print(f"  {skipped}")
    _print_class_roles(classes)
    _print_confusion(classes, y, np.argmax(proba, axis=1))
    print("metrics (ece: expected calibration error, brier: Brier score; lower is better):")
    _print_metrics(metrics)
    if model.spec.head == "reference":
        print(
            f"note: the reference head caps probabilities at {probability_cap(len(classes)):.3f} "
            f"for {len(classes)} classes, which ece and brier count as under-confidence (see "
            f"'debinn predict --help')"
        )
    _print_stored_metrics(model)
    if args.out:
        write_json_atomic(
            args.out, {"model": str(args.model), "data": where, "n": ds.n_samples} | metrics
        )
        print(f"wrote metrics to {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# show


def run_show(args: argparse.Namespace) -> int:
    from debinn_jax.io import load_any_model
    from debinn_jax.plots import plot_network_3d

    check_output_path(args.out, "--out", "image file", "network.png")
    model = load_any_model(args.model)
    plot_network_3d(
        model.spec,
        model.coords,
        path=args.out,
        top_k=args.top_k,
        feature_names=model.feature_names,
        class_names=model.classes.tolist(),
    )
    print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# registration


def _top_k(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"--top-k expects an integer >= 0, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fit``, ``predict``, ``evaluate`` and ``show`` sub-commands."""
    p = sub.add_parser(
        "fit",
        help="train a DEBI-NN on a Fold folder or a CSV table and save the model file",
        description="Train a DEBI-NN and save it to one model file.",
        epilog=FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data", required=True, metavar="PATH", help="Fold folder, CSV table, or 'moons'"
    )
    p.add_argument(
        "--trainer",
        choices=("ga", "gd"),
        default="ga",
        help="genetic algorithm (default) or gradient descent",
    )
    p.add_argument("--label", metavar="COL", help="label column (default: the last column)")
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help="row-id column of a CSV table, never a feature (default: a 'Key' column)",
    )
    p.add_argument(
        "--hidden",
        type=parse_hidden,
        metavar="SIZES",
        help="hidden layer sizes, e.g. 85,64 (default 16)",
    )
    p.add_argument("--kernel", help="distance kernel (default gaussian_const)")
    p.add_argument("--config", metavar="FILE", help="TOML or JSON settings file (see below)")
    p.add_argument("--generations", type=int, help="GA generation budget (--trainer ga only)")
    p.add_argument("--population", type=int, help="GA population size (--trainer ga only)")
    p.add_argument("--epochs", type=int, help="GD epoch budget (--trainer gd only)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--out", required=True, metavar="MODEL", help="model file to write")
    p.set_defaults(func=run_fit)

    p = sub.add_parser(
        "predict",
        help="predict the class of every row of a CSV file",
        description="Write one row per case: its Key (or row number), the predicted label and "
        "one probability column p_<label> per class. Feature columns are matched by name; "
        "other columns (such as a label) are ignored.",
        epilog=PREDICT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument(
        "--data",
        required=True,
        metavar="CSV",
        help="CSV file of features (a Fold folder: its TestF.csv)",
    )
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help="row-id column (default: the model's fit --id-column, else a 'Key' column)",
    )
    p.add_argument("--out", required=True, metavar="CSV", help="output CSV ('-' for stdout)")
    p.set_defaults(func=run_predict)

    p = sub.add_parser(
        "evaluate",
        help="print the metrics of a model on labelled data",
        description="Score a model on labelled data: a Fold folder's test split, or every row "
        "of a CSV table. Prints accuracy, balanced accuracy, sensitivity, specificity, PPV, "
        "NPV, MCC, ROC AUC, ECE and Brier score, and which class is the positive one.",
        epilog=CSV_RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--data", required=True, metavar="PATH", help="Fold folder or CSV table")
    p.add_argument(
        "--label", metavar="COL", help="label column (default: the last column, as for fit)"
    )
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help="row-id column of a CSV table (default: the model's, else a 'Key' column)",
    )
    p.add_argument("--out", metavar="JSON", help="also write the metrics to this JSON file")
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser(
        "show",
        help="draw the trained network in 3-D",
        description="Draw somas, axons and each neuron's strongest incoming connections "
        "(red positive, blue negative weights).",
    )
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--out", required=True, metavar="PNG", help="image file (png, pdf, svg)")
    p.add_argument(
        "--top-k", type=_top_k, default=3, help="connections drawn per receiving neuron (default 3)"
    )
    p.set_defaults(func=run_show)
