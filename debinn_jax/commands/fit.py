"""``debinn fit``: train a DEBI-NN on a Fold folder, a CSV table or two-moons; save the model.

Thin: read the config file (:func:`read_config`, the settings dialect and checks of
:mod:`debinn_jax.settings`), build a :class:`~debinn_jax.estimator.DEBIClassifier` (flags win
over the file), read and check the data, train, save. The output path and the settings are
checked before the data is read; a model that cannot be saved where asked is saved in the
temporary folder instead (:func:`save_or_rescue`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from debinn_jax.commands.common import (
    CSV_RULES,
    PROBABILITY_NOTE,
    add_command,
    add_data_arguments,
    check_output_path,
    class_indices,
    class_summary,
    dataset_labels,
    load_data,
    parse_hidden,
    skipped_rows,
    warn,
)
from debinn_jax.errors import UserError, os_error_text

if TYPE_CHECKING:
    import numpy as np

CONFIG_SECTIONS = ("network", "ga", "gd")
#: NetworkSpec fields that are DEBIClassifier arguments of their own.
_ESTIMATOR_SPEC_ARGS = ("hidden", "kernel", "activation", "head", "shift_scale", "normalization")

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


# --------------------------------------------------------------------------------------------
# config file


def read_config(path: str | None) -> dict[str, dict[str, Any]]:
    """The sections of a TOML/JSON config file (empty dicts when absent), in the dialect of
    :mod:`debinn_jax.settings` (``"none"``, lists, a shared ``[loss]``).

    Raises UserError naming the file, and the section and key, for an unknown section or key
    or a value of the wrong type (:func:`~debinn_jax.settings.check_setting_keys`,
    :func:`~debinn_jax.settings.check_setting_types`).
    """
    from debinn_jax.settings import none_values

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
    try:
        sections = _checked_sections(data)
    except ValueError as err:
        raise UserError(f"config file {p}: {err}") from None
    for name, section in sections.items():
        out[name] = none_values(section)
    return out


def _checked_sections(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sections of a config file's ``data`` with its ``[loss]`` merged into ``[ga.loss]``
    and ``[gd.loss]``; ValueError naming the section and key of an unknown section or key, or
    of a value of the wrong type. The values are as written (``"none"`` still a string)."""
    from debinn_jax.ga import GAConfig
    from debinn_jax.gd import GDConfig
    from debinn_jax.loss import LossConfig
    from debinn_jax.network import NetworkSpec
    from debinn_jax.settings import (
        check_setting_keys,
        check_setting_types,
        setting_names,
        with_shared_loss,
    )

    def check(where: str, body: dict[str, Any], cls: type, exclude: tuple[str, ...] = ()) -> None:
        check_setting_keys(where, body, setting_names(cls, exclude=exclude))
        check_setting_types(where, body, cls, none_strings=True)

    sections = {name: body for name, body in data.items() if name != "loss"}
    check_setting_keys("", sections, CONFIG_SECTIONS, kind="section")
    for name, section in sections.items():
        if not isinstance(section, dict):
            raise ValueError(f"[{name}] must be a table of settings")
    if "loss" in data:
        check("[loss]", data["loss"], LossConfig)
    sections = with_shared_loss(data)
    check("[network]", sections.get("network", {}), NetworkSpec, ("n_inputs", "n_classes"))
    for name, cls in (("ga", GAConfig), ("gd", GDConfig)):
        section = sections.get(name, {})
        check(f"[{name}]", section, cls)
        if "loss" in section:
            if not isinstance(section["loss"], dict):
                raise ValueError(
                    f"[{name}] setting 'loss' must be a table of LossConfig fields "
                    f"(a [{name}.loss] section), got {section['loss']!r}"
                )
            check(f"[{name}.loss]", section["loss"], LossConfig)
    return sections


def _make_classifier(args: argparse.Namespace, config: dict[str, dict[str, Any]]) -> Any:
    """A DEBIClassifier from the config sections and the command-line flags (flags win)."""
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


# --------------------------------------------------------------------------------------------
# data checks


#: Column names (compared in lower case) that look like row ids rather than measurements.
_ID_LIKE = ("id", "key", "index", "unnamed: 0", "row", "rowid")


def _looks_like_id(name: str) -> bool:
    low = name.strip().lower()
    return low in _ID_LIKE or low.endswith("_id")


def _check_labels(ds: Any, label_file: str) -> None:
    """UserError when the labels are non-integer numbers (a measurement, not a class)."""
    floats = [c for c in ds.classes if isinstance(c, float)]
    if floats:
        raise UserError(
            f"{label_file}: label column {ds.label_name!r} holds non-integer numbers such as "
            f"{floats[0]!r} ({len(ds.classes)} distinct values); labels must be class labels "
            f"(integers or names), not measurements: name the label column with --label COL "
            f"(default: the last column)"
        )


# --------------------------------------------------------------------------------------------
# fit


def save_or_rescue(out: Path, model: Any) -> int:
    """Save ``model`` to ``out``; when that fails, save it in the temporary folder instead and
    say where in one line (exit code 1): a trained model is never lost silently."""
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


def check_one_class(clf: Any, proba: np.ndarray, trainer: str) -> None:
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
        warn(
            f"the model predicts class {label!r} for every case of {part}: it has not learnt "
            f"to tell the classes apart; try a larger budget ({budget}), another --seed or the "
            f"other --trainer"
        )


def run_fit(args: argparse.Namespace) -> int:
    from debinn_jax.data import Fold, Standardizer, check_feature_values
    from debinn_jax.data.readers import TEST_FILES
    from debinn_jax.io import key_column
    from debinn_jax.metrics import classification_metrics
    from debinn_jax.network import summary

    out = check_output_path(args.out, "--out", "model file", "model.debinn")
    config = read_config(args.config)
    clf = _make_classifier(args, config)
    cfg = clf.make_config()  # bad settings fail before the data is read
    # fit needs only the train split: a Fold folder without its test files is fine
    data = load_data(args.data, args.label, id_column=args.id_column, require_test=False)
    if isinstance(data, Fold):
        ds = data.train
        kind = "train split of a Fold folder"
        id_column: str | None = "Key"
        label_file = str(Path(data.path) / "TrainL.csv")
        if data.test is None:
            absent = [f for f in TEST_FILES if not (Path(data.path) / f).is_file()]
            print(
                f"data: {data.path}: training on the train split ({ds.n_samples} cases); no "
                f"test split found ({', '.join(absent)} missing): training only, keep your own "
                f"test data for 'debinn evaluate'"
            )
        else:
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
    skipped = skipped_rows(ds)
    print(
        f"  {ds.n_features} features, label {ds.label_name!r}, classes "
        f"{{{class_summary(ds.classes, ds.class_counts())}}}" + (f"; {skipped}" if skipped else "")
    )
    print(f"  features: {', '.join(ds.feature_names)}")
    if id_column is not None:
        print(f"  row ids: column {id_column!r} (not a feature)")
    for name in ds.feature_names:
        if _looks_like_id(name):
            warn(
                f"column {name!r} looks like a row id but is used as a numeric feature; if it "
                f"is an id, pass --id-column {name}"
            )
    # every value must survive the float32 cast, as it is and z-scored (names file/row/column)
    where = {"rows": ds.keys, "columns": ds.feature_names, "source": ds.source}
    check_feature_values(ds.X, **where)
    check_feature_values(ds.X, standardizer=Standardizer().fit(ds.X), **where)
    labels = dataset_labels(ds)
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
    train_metrics = classification_metrics(class_indices(clf.classes_, labels, ds.source), proba)
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
    code = save_or_rescue(out, model)
    check_one_class(clf, proba, args.trainer)
    return code


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fit`` sub-command."""
    p = add_command(
        sub,
        "fit",
        help="train a DEBI-NN on a Fold folder or a CSV table and save the model file",
        description="Train a DEBI-NN and save it to one model file.",
        epilog=FIT_EPILOG,
        run=run_fit,
    )
    add_data_arguments(
        p,
        metavar="PATH",
        data_help="Fold folder, CSV table, or 'moons'",
        label_help="label column (default: the last column)",
        id_help="row-id column of a CSV table, never a feature (default: a 'Key' column)",
    )
    p.add_argument(
        "--trainer",
        choices=("ga", "gd"),
        default="ga",
        help="genetic algorithm (default) or gradient descent",
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
