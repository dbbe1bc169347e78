"""``debinn fit | predict | evaluate | show``: train on your own data, use and inspect the model.

Thin: parse the arguments, call the library (data readers, :class:`DEBIClassifier`, model
files, metrics, plots), print.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.commands.info import parse_hidden

CONFIG_SECTIONS = ("network", "ga", "gd")
MODEL_HELP = "model file written by 'debinn fit', or an authors' 2025 *BestModel.bin"
#: NetworkSpec fields that are DEBIClassifier arguments of their own.
_ESTIMATOR_SPEC_ARGS = ("hidden", "kernel", "activation", "head", "shift_scale", "normalization")

FIT_EPILOG = """\
data:
  PATH is a Fold folder (TrainF/TrainL/TestF/TestL.csv, ';'-separated, 'Key' column): the
  network is trained on its train split only; 'debinn evaluate --data FOLDER' then scores its
  test split. PATH may also be a CSV table (',', ';' or tab separated, header row, label in the
  last column or --label COL, an optional 'Key' column of row ids; every other column is a
  numeric feature): every row is used for training, so keep your own test file aside
  and score it with 'debinn evaluate'. 'moons' trains on generated two-moons data.
  Features are z-scored with the training data's mean and std (stored in the model file).

config file (TOML, or JSON when the name ends in .json), every section optional:
  [network]   NetworkSpec fields: hidden, kernel, activation, head, temperature,
              shift_scale, normalization, groups, layer_delta, train_deltas,
              standardize_weights, variant, spatial_dropout
  [ga]        GAConfig fields: population_size, generations, r_max, r_min, mutation_prob, ...
  [ga.loss]   LossConfig fields: alpha, l1, l2, class_weights
  [gd]        GDConfig fields: learning_rate, epochs, optimizer, starts, patience, ...
  An unknown section or key is an error. Command-line flags win over the file.

example:
  debinn fit --data Fold-1 --trainer ga --hidden 16 --generations 200 --out dlbcl.debinn
"""


# --------------------------------------------------------------------------------------------
# helpers


def _read_config(path: str | None) -> dict[str, dict[str, Any]]:
    """The sections of a TOML/JSON config file (empty dicts when absent)."""
    from debinn_jax.cli import UserError

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
    for name, section in data.items():
        if name not in CONFIG_SECTIONS:
            raise UserError(
                f"config file {p}: unknown section {name!r}; expected {', '.join(CONFIG_SECTIONS)}"
            )
        if not isinstance(section, dict):
            raise UserError(f"config file {p}: [{name}] must be a table of settings")
        out[name] = dict(section)
    return out


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


def _load_data(path: str, label: str | None, min_classes: int = 2) -> Any:
    """A Fold (folder), a Dataset (CSV table; a ``Key`` column is the row key) or two-moons.

    ``min_classes``: fewest labels a CSV table may hold (1 when scoring a test file).
    """
    from debinn_jax.data import load_dataset, load_table
    from debinn_jax.io import key_column

    if Path(path).is_file():
        return load_table(path, label=label, key=key_column(path), min_classes=min_classes)
    return load_dataset(path, label=label)


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


def run_fit(args: argparse.Namespace) -> int:
    from debinn_jax.data import Fold
    from debinn_jax.io import save_model
    from debinn_jax.metrics import classification_metrics
    from debinn_jax.network import summary

    out = Path(args.out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out: folder {out.parent} does not exist")
    config = _read_config(args.config)
    clf = _make_classifier(args, config)
    cfg = clf.make_config()  # bad settings fail before the data is read
    data = _load_data(args.data, args.label)
    if isinstance(data, Fold):
        ds = data.train
        kind = "train split of a Fold folder"
        print(
            f"data: {data.path}: training on the train split ({ds.n_samples} cases); "
            f"the test split ({data.test.n_samples} cases) is left for 'debinn evaluate'"
        )
    else:
        ds = data
        kind = "table (all rows)"
        print(f"data: {ds.source}: training on all {ds.n_samples} rows")
    dropped = ds.n_dropped_unlabelled + ds.n_dropped_missing
    print(
        f"  {ds.n_features} features, label {ds.label_name!r}, classes "
        f"{{{_class_summary(ds.classes, ds.class_counts())}}}"
        + (f"; {dropped} rows dropped (no label or missing values)" if dropped else "")
    )
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
    ran = (
        f"{info.get('generations_run')} generations"
        if args.trainer == "ga"
        else f"{info.get('epochs_run')} epochs (best epoch {info.get('best_epoch')})"
    )
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
                "n_cases": ds.n_samples,
                "n_dropped_unlabelled": ds.n_dropped_unlabelled,
                "n_dropped_missing": ds.n_dropped_missing,
            },
            "train_metrics": train_metrics,
        },
    )
    save_model(out, model)
    print(f"saved model to {out}")
    return 0


# --------------------------------------------------------------------------------------------
# predict


def run_predict(args: argparse.Namespace) -> int:
    from debinn_jax.io import load_any_model, read_feature_table, write_text_atomic

    model = load_any_model(args.model)
    path = Path(args.data)
    if path.is_dir():
        path = path / "TestF.csv"
        print(f"data: {args.data} is a folder; predicting its test features {path}")
    table = read_feature_table(path, model)
    if table.ignored:
        print(f"note: ignored column(s) that are not model features: {list(table.ignored)}")
    proba = model.predict_proba(table.X)
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
    from debinn_jax.data import Fold
    from debinn_jax.io import load_any_model, write_json_atomic
    from debinn_jax.metrics import classification_metrics

    model = load_any_model(args.model)
    data = _load_data(args.data, args.label, min_classes=1)
    if isinstance(data, Fold):
        ds = data.test
        where = f"{data.path}: test split ({Path(ds.source).name})"
    else:
        ds = data
        where = f"{ds.source}: all rows"
    X = _ordered_features(ds, model)
    y = _class_indices(model.classes, _dataset_labels(ds), ds.source)
    proba = model.predict_proba(X)
    metrics = classification_metrics(y, proba, n_classes=len(model.classes))
    counts = np.bincount(y, minlength=len(model.classes))
    classes = model.classes.tolist()
    origin = ", the authors' 2025 program" if _is_authors_model(model) else ""
    print(f"model: {args.model} (DEBI-NN {'-'.join(map(str, model.spec.layer_sizes))}{origin})")
    print(f"data: {where}, {ds.n_samples} cases, label {ds.label_name!r}")
    print(f"  classes {{{_class_summary(classes, counts)}}}")
    dropped = ds.n_dropped_unlabelled + ds.n_dropped_missing
    if dropped:
        print(f"  {dropped} rows dropped (no label or missing values)")
    _print_class_roles(classes)
    _print_confusion(classes, y, np.argmax(proba, axis=1))
    print("metrics:")
    _print_metrics(metrics)
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
        "--hidden",
        type=parse_hidden,
        metavar="SIZES",
        help="hidden layer sizes, e.g. 85,64 (default 16)",
    )
    p.add_argument("--kernel", help="distance kernel (default gaussian_const)")
    p.add_argument("--config", metavar="FILE", help="TOML or JSON settings file (see below)")
    p.add_argument("--generations", type=int, help="GA generation budget")
    p.add_argument("--population", type=int, help="GA population size")
    p.add_argument("--epochs", type=int, help="GD epoch budget")
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
    )
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument(
        "--data",
        required=True,
        metavar="CSV",
        help="CSV file of features (a Fold folder: its TestF.csv)",
    )
    p.add_argument("--out", required=True, metavar="CSV", help="output CSV ('-' for stdout)")
    p.set_defaults(func=run_predict)

    p = sub.add_parser(
        "evaluate",
        help="print the metrics of a model on labelled data",
        description="Score a model on labelled data: a Fold folder's test split, or every row "
        "of a CSV table. Prints accuracy, balanced accuracy, sensitivity, specificity, PPV, "
        "NPV, MCC, ROC AUC, ECE and Brier score.",
    )
    p.add_argument("--model", required=True, help=MODEL_HELP)
    p.add_argument("--data", required=True, metavar="PATH", help="Fold folder or CSV table")
    p.add_argument(
        "--label", metavar="COL", help="label column (default: the last column, as for fit)"
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
