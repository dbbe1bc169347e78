"""What the sub-commands share: argparse helpers, help texts, data reading and output checks.

Argument parsing: :func:`add_command` (a sub-command with its help, description, epilog and
``run`` function), argument types (:func:`int_at_least`, :func:`comma_list`,
:func:`parse_hidden`) and the ``--data/--label/--id-column`` trio of the user commands
(:func:`add_data_arguments`). Running: :func:`check_output_path` (every output path is checked
before any long work), :func:`load_data` and the label helpers of ``fit`` and ``evaluate``.

Nothing here imports jax, scikit-learn or matplotlib at module level: the parser is built at
start-up, and ``debinn --help`` must answer at once.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from debinn_jax.errors import UserError

if TYPE_CHECKING:
    import numpy as np

MODEL_HELP = (
    "model file written by 'debinn fit', or an authors' 2025 *BestModel.bin (or its run folder "
    "in their BestModels/Executions-Finished)"
)

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


def probability_cap(n_classes: int) -> float:
    """Largest class probability the ``reference`` head can give: e / (e + K - 1)."""
    return math.e / (math.e + n_classes - 1)


# --------------------------------------------------------------------------------------------
# argument parsing


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    run: Callable[[argparse.Namespace], int],
    description: str | None = None,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """Add sub-command ``name`` that calls ``run(args)``; an ``epilog`` keeps its line breaks."""
    extra: dict[str, Any] = {}
    if epilog is not None:
        extra = {"epilog": epilog, "formatter_class": argparse.RawDescriptionHelpFormatter}
    p = sub.add_parser(name, help=help, description=description, **extra)
    p.set_defaults(func=run)
    return p


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argument type: an integer >= ``minimum`` (argparse names the option in its error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def comma_list(text: str) -> list[str]:
    """An argument type: a non-empty comma-separated list of names (``moons,ctg``)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. moons,ctg")
    return items


def parse_hidden(text: str) -> tuple[int, ...]:
    """An argument type: hidden layer sizes such as ``85,64`` (empty: no hidden layer)."""
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden expects comma-separated integers such as 85,64, got {text!r}"
        ) from None


def add_data_arguments(
    p: argparse.ArgumentParser,
    *,
    metavar: str,
    data_help: str,
    id_help: str,
    label_help: str | None = None,
) -> None:
    """``--data`` (required), ``--label`` (when ``label_help`` is given) and ``--id-column``."""
    p.add_argument("--data", required=True, metavar=metavar, help=data_help)
    if label_help is not None:
        p.add_argument("--label", metavar="COL", help=label_help)
    p.add_argument("--id-column", metavar="NAME", help=id_help)


# --------------------------------------------------------------------------------------------
# running


def check_output_path(
    path: str | os.PathLike[str], option: str, what: str, example: str = "out"
) -> Path:
    """``path`` as a Path once it is known to be writable, checked before any long work.

    Raises UserError (one line naming the path and what is expected) when ``path`` is a
    folder, its folder does not exist, or nothing can be written there (read-only).
    """
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


def load_data(
    path: str,
    label: str | None,
    min_classes: int = 2,
    id_column: str | None = None,
    require_test: bool = True,
) -> Any:
    """A Fold (folder), a Dataset (CSV table) or two-moons, read with the command line's rule
    for missing cells (an error naming the row and column). A folder that holds one Fold
    folder below it (the authors' ``Datasets/DLBCL/Dataset-1Fold``, ``Datasets/DLBCL``) reads
    that one (:func:`~debinn_jax.data.locate.one_fold`).

    ``min_classes``: fewest labels a CSV table may hold (1 when scoring a test file).
    ``id_column``: the row-id column of a CSV table (default: a ``Key`` column, any case).
    ``require_test``: False accepts a Fold folder without test files (its ``test`` is None).
    """
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
    if Path(path).is_dir():  # the authors' Datasets/<X>/Dataset-1Fold[/Fold-1] as well
        from debinn_jax.data.locate import one_fold

        path = str(one_fold(path))
    return load_dataset(path, label=label, missing="error", require_test=require_test)


def label_texts(value: Any) -> list[str]:
    """String forms a data label may match a model's string class by: ``str(value)``, and for a
    float that is a whole number also ``str(int(value))`` (a Fold's ``1.0`` matches ``"1"``)."""
    texts = [str(value)]
    if isinstance(value, float) and value.is_integer():
        texts.append(str(int(value)))
    return texts


def class_indices(classes: np.ndarray, labels: np.ndarray, source: str) -> np.ndarray:
    """Indices into the model's ``classes`` of every label; ValueError for an unknown label.

    A label matches a class equal to it, else by its string form (see :func:`label_texts`):
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
            idx = next((text_lookup[t] for t in label_texts(v) if t in text_lookup), None)
        if idx is None:
            raise ValueError(
                f"{source}: label {v!r} is not one of the model's classes {classes.tolist()}"
            )
        out[r] = idx
    return out


def dataset_labels(ds: Any) -> np.ndarray:
    """The original label value of every row of a Dataset ``(n,)``."""
    import numpy as np

    return np.asarray(ds.classes)[ds.y]


def skipped_rows(ds: Any) -> str:
    """What the reader skipped (the command line reads with ``missing="error"``, so only rows
    without a label, and a Fold's labels without a feature row), or ""."""
    parts = []
    if ds.n_dropped_unlabelled:
        parts.append(f"{ds.n_dropped_unlabelled} rows without a label skipped")
    if ds.n_dropped_missing:
        parts.append(f"{ds.n_dropped_missing} labels without a feature row skipped")
    return ", ".join(parts)


def class_summary(classes: Any, counts: Any) -> str:
    """``no: 30, yes: 30``: every class with its count."""
    return ", ".join(f"{c}: {n}" for c, n in zip(classes, counts))


def warn(text: str) -> None:
    """``warning: <text>`` on stderr (the run goes on)."""
    print(f"warning: {text}", file=sys.stderr, flush=True)
