"""``debinn predict | evaluate | show``: use and inspect a trained model file.

Thin: read the model file (ours or an authors' 2025 ``*BestModel.bin``) and the data, call the
library (model predictions, metrics, plots), print. The output path is checked before the
model is read; features are matched to the model's by column name.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from debinn_jax.commands import common
from debinn_jax.commands.common import CSV_RULES, PROBABILITY_NOTE, check_output_path

if TYPE_CHECKING:
    import numpy as np

PREDICT_EPILOG = CSV_RULES + "\n" + PROBABILITY_NOTE
#: Stored metrics of an authors' model file printed first, in this order (the rest follow).
_STORED_METRIC_ORDER = ("ACC", "BACC", "SNS", "SPC", "PPV", "NPV", "MCC", "EntropyLoss")


# --------------------------------------------------------------------------------------------
# helpers


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


def _stored_id_column(model: Any, path: Path) -> str | None:
    """The row-id column the model was trained with (``fit --id-column``) when the CSV file
    ``path`` has it; else None (the readers then use a ``Key`` column)."""
    from debinn_jax.data.readers import read_csv

    stored = (model.metadata.get("data") or {}).get("id_column")
    if not isinstance(stored, str) or not path.is_file():
        return None
    return stored if stored in read_csv(path).header else None


def _print_metrics(metrics: dict[str, float]) -> None:
    """One line per metric; an undefined one (NaN) reads ``n/a``."""
    for name, value in metrics.items():
        print(f"  {name:<18} {'n/a' if math.isnan(value) else f'{value:.4f}'}")


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
            f"(predicted {{{common.class_summary(model.classes.tolist(), counts)}}})"
        )
    return 0


# --------------------------------------------------------------------------------------------
# evaluate


def run_evaluate(args: argparse.Namespace) -> int:
    from math import nan

    import numpy as np

    from debinn_jax.data import Fold
    from debinn_jax.io import load_any_model, write_json_atomic
    from debinn_jax.metrics import classification_metrics, undefined_metrics

    if args.out:
        check_output_path(args.out, "--out", "metrics JSON file", "metrics.json")
    model = load_any_model(args.model)
    id_column = args.id_column or _stored_id_column(model, Path(args.data))
    data = common.load_data(args.data, args.label, min_classes=1, id_column=id_column)
    if isinstance(data, Fold):
        ds = data.test
        where = f"{data.path}: test split ({Path(ds.source).name})"
    else:
        ds = data
        where = f"{ds.source}: all rows"
    X = _ordered_features(ds, model)
    y = common.class_indices(model.classes, common.dataset_labels(ds), ds.source)
    proba = model.predict_proba(X, rows=ds.keys, source=ds.source)
    # a metric that is 0/0 on these cases (one class only, ...) is undefined, not 0
    metrics = classification_metrics(y, proba, n_classes=len(model.classes), zero_division=nan)
    undefined = undefined_metrics(
        y, np.argmax(proba, axis=1), len(model.classes), model.classes.tolist()
    )
    counts = np.bincount(y, minlength=len(model.classes))
    classes = model.classes.tolist()
    origin = ", the authors' 2025 program" if _is_authors_model(model) else ""
    print(f"model: {args.model} (DEBI-NN {'-'.join(map(str, model.spec.layer_sizes))}{origin})")
    print(f"data: {where}, {ds.n_samples} cases, label {ds.label_name!r}")
    print(f"  classes {{{common.class_summary(classes, counts)}}}")
    skipped = common.skipped_rows(ds)
    if skipped:
        print(f"  {skipped}")
    _print_class_roles(classes)
    _print_confusion(classes, y, np.argmax(proba, axis=1))
    print("metrics (ece: expected calibration error, brier: Brier score; lower is better):")
    _print_metrics(metrics)
    for name, why in undefined.items():
        common.warn(f"{name} is undefined, printed as n/a: {why}")
    if model.spec.head == "reference":
        cap = common.probability_cap(len(classes))
        print(
            f"note: the reference head caps probabilities at {cap:.3f} "
            f"for {len(classes)} classes, which ece and brier count as under-confidence (see "
            f"'debinn predict --help')"
        )
    _print_stored_metrics(model)
    if args.out:
        write_json_atomic(  # undefined metrics are null, with the reason under "undefined"
            args.out,
            {"model": str(args.model), "data": where, "n": ds.n_samples}
            | metrics
            | {"undefined": undefined},
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


def _model_command(sub: argparse._SubParsersAction, name: str, **kwargs: Any) -> Any:
    """Sub-command ``name`` (:func:`~debinn_jax.commands.common.add_command` arguments) that
    reads a model file given by ``--model``."""
    p = common.add_command(sub, name, **kwargs)
    p.add_argument("--model", required=True, help=common.MODEL_HELP)
    return p


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``predict``, ``evaluate`` and ``show`` sub-commands."""
    p = _model_command(
        sub,
        "predict",
        help="predict the class of every row of a CSV file",
        description="Write one row per case: its Key (or row number), the predicted label and "
        "one probability column p_<label> per class. Feature columns are matched by name; "
        "other columns (such as a label) are ignored.",
        epilog=PREDICT_EPILOG,
        run=run_predict,
    )
    common.add_data_arguments(
        p,
        metavar="CSV",
        data_help="CSV file of features (a Fold folder: its TestF.csv)",
        id_help="row-id column (default: the model's fit --id-column, else a 'Key' column)",
    )
    p.add_argument("--out", required=True, metavar="CSV", help="output CSV ('-' for stdout)")

    p = _model_command(
        sub,
        "evaluate",
        help="print the metrics of a model on labelled data",
        description="Score a model on labelled data: a Fold folder's test split, or every row "
        "of a CSV table. Prints accuracy, balanced accuracy, sensitivity, specificity, PPV, "
        "NPV, MCC, ROC AUC, ECE and Brier score, and which class is the positive one.",
        epilog=CSV_RULES,
        run=run_evaluate,
    )
    common.add_data_arguments(
        p,
        metavar="PATH",
        data_help="Fold folder or CSV table",
        label_help="label column (default: the last column, as for fit)",
        id_help="row-id column of a CSV table (default: the model's, else a 'Key' column)",
    )
    p.add_argument("--out", metavar="JSON", help="also write the metrics to this JSON file")

    p = _model_command(
        sub,
        "show",
        help="draw the trained network in 3-D",
        description="Draw somas, axons and each neuron's strongest incoming connections "
        "(red positive, blue negative weights).",
        run=run_show,
    )
    p.add_argument("--out", required=True, metavar="PNG", help="image file (png, pdf, svg)")
    p.add_argument(
        "--top-k",
        type=common.int_at_least(0),
        default=3,
        help="connections drawn per receiving neuron (default 3)",
    )
