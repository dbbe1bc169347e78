"""Readers: DEBI-NN "Fold" folders (spec section 8) and plain CSV tables.

Only the standard ``csv`` module and numpy are used. Every problem with an input file raises
:class:`~debinn_jax.data.dataset.DataError` naming the file, the row key / column where it
applies, and what was expected.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from debinn_jax.data.dataset import DataError, Dataset, Fold, Label

PathLike = str | os.PathLike[str]

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
"""Cell values (compared case-insensitively, after stripping blanks) that mean "missing"."""

FOLD_FILES = ("TrainF.csv", "TrainL.csv", "TestF.csv", "TestL.csv")
"""Files every Fold folder must hold."""

VALIDATE_FILES = ("ValidateF.csv", "ValidateL.csv")
"""Optional pair of files of a Fold folder."""

_DELIMITERS = (";", ",", "\t")

#: Separators recognised in a header line that has none of the supported ones (named in the
#: error message).
_OTHER_DELIMITERS = ("|",)

MISSING_RULES = ("drop", "error")
"""What the readers do with a labelled row that has a missing feature cell: ``"drop"`` it
(counted in ``n_dropped_missing``) or raise an ``"error"`` naming the row and column."""


# --------------------------------------------------------------------------------------------
# low level: one CSV file -> header + rows of strings


@dataclasses.dataclass(frozen=True)
class CsvTable:
    """A CSV file as strings: header ``(c,)``, rows ``(r, c)``, and each row's line number."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> int:
        """Index of column ``name``; DataError listing the columns when absent."""
        if name not in self.header:
            raise DataError(
                f"{self.path}: column {name!r} not found; available columns: "
                f"{', '.join(repr(h) for h in self.header)}"
            )
        return self.header.index(name)


def _sniff_delimiter(line: str) -> str:
    """The most frequent of ``;``, ``,``, tab in the header line (``,`` when none occurs)."""
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: PathLike, delimiter: str | None = None) -> CsvTable:
    """Read a delimited text file with a header row (any line ends, optional UTF-8 BOM).

    ``delimiter`` None: the most frequent of ``;``, ``,`` and tab in the header line. Every
    command and reader of debinn-jax reads CSV files through this function, so the same rules
    (and messages) hold everywhere: UTF-8 only (a UTF-16 file is named as such), a header row
    with unique names, the same number of fields on every line.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if not path.is_file():
        raise DataError(f"{path} is not a file: expected a CSV file")
    raw_bytes = path.read_bytes()
    utf16 = raw_bytes[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw_bytes[:1000]
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if utf16:
            raise _utf16_error(path) from None
        raise DataError(
            f"{path}: not UTF-8 text (byte {e.start}: {e.reason}); expected a UTF-8 CSV file "
            f"(re-save it as UTF-8, e.g. 'CSV UTF-8' in a spreadsheet program)"
        ) from None
    if utf16:
        raise _utf16_error(path)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; expected a header row and data rows")
    if delimiter is None:
        first = next(line for line in text.splitlines() if line.strip())
        delimiter = _sniff_delimiter(first)
        if delimiter not in first:
            found = [d for d in _OTHER_DELIMITERS if d in first]
            if found:
                raise DataError(
                    f"{path}: the header line is separated by {found[0]!r}; supported "
                    f"delimiters are ',', ';' and tab (the header has none of them): re-save the "
                    f"file with one of them"
                )

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    for raw in reader:
        cells = [c.strip() for c in raw]
        if not any(cells):
            continue  # blank line
        if header is None:
            header = cells
            if len(header) > 1 and header[-1] == "":
                header = header[:-1]  # trailing delimiter on every line
            for i, name in enumerate(header):
                if name == "":
                    raise DataError(
                        f"{path}, line {reader.line_num}: column {i + 1} of the header has no "
                        f"name; expected a header row with one name per column"
                    )
            dupes = sorted({h for h in header if header.count(h) > 1})
            if dupes:
                raise DataError(
                    f"{path}: duplicate column name(s) in the header: "
                    f"{', '.join(repr(d) for d in dupes)}; expected unique names"
                )
            continue
        if len(cells) == len(header) + 1 and cells[-1] == "":
            cells = cells[:-1]
        if len(cells) != len(header):
            raise DataError(
                f"{path}, line {reader.line_num}: {len(cells)} fields, expected {len(header)} "
                f"(as in the header, separated by {delimiter!r})"
            )
        rows.append(cells)
        lines.append(reader.line_num)
    assert header is not None
    if not rows:
        raise DataError(f"{path}: the file has a header but no data rows")
    return CsvTable(path=path, header=header, rows=rows, lines=lines)


def _utf16_error(path: Path) -> DataError:
    return DataError(
        f"{path}: not UTF-8 text, it looks like UTF-16 ('Unicode text' in spreadsheet "
        f"programs); expected a UTF-8 CSV file: re-save it as UTF-8 (e.g. 'CSV UTF-8')"
    )


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_TOKENS


def _check_missing_rule(missing: str) -> None:
    if missing not in MISSING_RULES:
        raise ValueError(f"missing must be one of {MISSING_RULES}, got {missing!r}")


def missing_cell_error(table: CsvTable, row: int, column: int, key: str) -> DataError:
    """The error for the missing feature cell ``table.rows[row][column]`` of row key ``key``."""
    cell = table.rows[row][column]
    what = "an empty cell" if cell.strip() == "" else f"the missing-value mark {cell!r}"
    return DataError(
        f"{table.path}, row key {key!r} (line {table.lines[row]}), column "
        f"{table.header[column]!r}: {what}; every feature of a case must be a number (fill the "
        f"cell in or remove the row)"
    )


def find_key_column(table: CsvTable, key: str | None = None) -> int | None:
    """Index of the row-key column: ``key`` when given (DataError when absent), else a column
    named ``Key`` in any case, else None."""
    if key is not None:
        return table.column(key)
    return next((i for i, h in enumerate(table.header) if h.lower() == "key"), None)


def parse_numeric(table: CsvTable, cols: Sequence[int], row_keys: Sequence[str]) -> np.ndarray:
    """Columns ``cols`` of every row as float64 ``(r, len(cols))``; NaN marks a missing cell.

    Raises DataError naming the file, row key and column for a non-numeric or infinite cell.
    """
    out = np.empty((len(table.rows), len(cols)), dtype=np.float64)
    for r, row in enumerate(table.rows):
        for j, c in enumerate(cols):
            cell = row[c]
            if _is_missing(cell):
                out[r, j] = np.nan
                continue
            try:
                value = float(cell)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value):
                raise DataError(
                    f"{table.path}, row key {row_keys[r]!r} (line {table.lines[r]}), column "
                    f"{table.header[c]!r}: {cell!r} is not a number; expected a finite number "
                    f"or a missing-value mark (empty, NA, nan)"
                )
            out[r, j] = value
    return out


def _number(raw: str) -> int | float | None:
    """``"2"``/``"2.0"`` -> 2, ``"2.5"`` -> 2.5, anything else (or inf) -> None."""
    try:
        v = float(raw)
    except ValueError:
        return None
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() else v


CLASS_ORDERS = ("natural", "string")


def _classes_of(raw: Sequence[str], order: str = "natural") -> tuple[Label, ...]:
    """Distinct label values, sorted: numbers (integral ones as int) when all parse as numbers,
    else the strings. ``order="string"`` sorts numbers by their text as the authors' 2025
    program does (``"10"`` before ``"2"``); the values stay numbers."""
    if order not in CLASS_ORDERS:
        raise ValueError(f"class_order must be one of {CLASS_ORDERS}, got {order!r}")
    numbers = [_number(v) for v in raw]
    if all(v is not None for v in numbers):
        if order == "string":
            text: dict[Label, str] = {}
            for v, r in zip(numbers, raw):
                text[v] = min(text.get(v, r.strip()), r.strip())
            return tuple(sorted(text, key=lambda v: text[v]))
        return tuple(sorted(set(numbers)))  # type: ignore[type-var]
    return tuple(sorted(set(raw)))


def _label_values(raw: Sequence[str], classes: tuple[Label, ...]) -> list[Label]:
    """Labels in the kind of ``classes``: numbers when the classes are numbers, else strings."""
    if classes and not isinstance(classes[0], str):
        return [raw_v if (n := _number(raw_v)) is None else n for raw_v in raw]
    return list(raw)


def _one_class_error(label_file: Path, classes: tuple[Label, ...], n: int) -> DataError:
    return DataError(
        f"{label_file}: all {n} labelled cases have the same label {classes[0]!r}; "
        f"expected at least 2 classes"
    )


# --------------------------------------------------------------------------------------------
# Fold folders


@dataclasses.dataclass(frozen=True)
class _FoldPart:
    """One features/labels pair of a Fold folder, joined on Key, before class indexing."""

    features: CsvTable
    labels: CsvTable
    feature_names: list[str]
    keys: list[str]
    X: np.ndarray  # (n, f) float64, complete rows only
    labels_raw: list[str]
    label_name: str
    n_dropped_unlabelled: int
    n_dropped_missing: int


def _key_column(table: CsvTable) -> int:
    """Index of the ``Key`` column (case-insensitive); DataError when absent."""
    for i, h in enumerate(table.header):
        if h.lower() == "key":
            return i
    raise DataError(
        f"{table.path}: no 'Key' column; expected the first column of a Fold file to be 'Key' "
        f"(header: {', '.join(repr(h) for h in table.header)})"
    )


def unique_keys(table: CsvTable, key_col: int) -> list[str]:
    """Row keys of ``table``; DataError for an empty or duplicated key."""
    seen: dict[str, int] = {}
    keys = []
    for row, line in zip(table.rows, table.lines):
        k = row[key_col]
        if k == "":
            raise DataError(
                f"{table.path}, line {line}: empty value in key column "
                f"{table.header[key_col]!r}; expected a unique key per row"
            )
        if k in seen:
            raise DataError(
                f"{table.path}: duplicate key {k!r} (lines {seen[k]} and {line}); "
                f"expected unique keys in column {table.header[key_col]!r}"
            )
        seen[k] = line
        keys.append(k)
    return keys


def _read_fold_part(
    features_path: Path, labels_path: Path, label: str | None, missing: str = "drop"
) -> _FoldPart:
    feats = read_csv(features_path)
    labs = read_csv(labels_path)

    fkey = _key_column(feats)
    fkeys = unique_keys(feats, fkey)
    fcols = [i for i in range(len(feats.header)) if i != fkey]
    if not fcols:
        raise DataError(f"{features_path}: no feature columns; expected 'Key' and >= 1 feature")
    values = parse_numeric(feats, fcols, fkeys)

    lkey = _key_column(labs)
    lkeys = unique_keys(labs, lkey)
    if label is None:
        lcols = [i for i in range(len(labs.header)) if i != lkey]
        if not lcols:
            raise DataError(
                f"{labels_path}: no label column; expected 'Key' followed by the label column"
            )
        lcol = lcols[-1]
    else:
        lcol = labs.column(label)
    label_of = {k: row[lcol] for k, row in zip(lkeys, labs.rows) if not _is_missing(row[lcol])}

    keep: list[int] = []
    n_unlabelled = n_missing = 0
    for r, k in enumerate(fkeys):
        if k not in label_of:
            n_unlabelled += 1
        elif np.isnan(values[r]).any():
            if missing == "error":
                j = int(np.flatnonzero(np.isnan(values[r]))[0])
                raise missing_cell_error(feats, r, fcols[j], k)
            n_missing += 1
        else:
            keep.append(r)
    fkey_set = set(fkeys)
    n_missing += sum(1 for k in label_of if k not in fkey_set)  # labels without a feature row

    return _FoldPart(
        features=feats,
        labels=labs,
        feature_names=[feats.header[i] for i in fcols],
        keys=[fkeys[r] for r in keep],
        X=values[keep],
        labels_raw=[label_of[fkeys[r]] for r in keep],
        label_name=labs.header[lcol],
        n_dropped_unlabelled=n_unlabelled,
        n_dropped_missing=n_missing,
    )


def _no_cases_error(part: _FoldPart) -> DataError:
    return DataError(
        f"{part.features.path} + {part.labels.path}: no labelled case with complete features "
        f"({part.n_dropped_unlabelled} rows without label, {part.n_dropped_missing} with "
        f"missing values); expected at least one"
    )


def _fold_dataset(
    part: _FoldPart, classes: tuple[Label, ...], feature_names: list[str], train: _FoldPart
) -> Dataset:
    """Index ``part`` with the training classes and column order; DataError on a mismatch."""
    if part.feature_names != feature_names:
        missing = [n for n in feature_names if n not in part.feature_names]
        extra = [n for n in part.feature_names if n not in feature_names]
        if missing or extra:
            raise DataError(
                f"{part.features.path}: feature columns differ from {train.features.path}; "
                f"missing: {missing}, unexpected: {extra}; expected the same feature columns"
            )
        order = [part.feature_names.index(n) for n in feature_names]
        X = part.X[:, order]
    else:
        X = part.X
    if not part.keys:
        raise _no_cases_error(part)
    index = {c: i for i, c in enumerate(classes)}
    y = np.empty(len(part.keys), dtype=np.int32)
    for r, v in enumerate(_label_values(part.labels_raw, classes)):
        if v not in index:
            raise DataError(
                f"{part.labels.path}, row key {part.keys[r]!r}: label {v!r} does not occur in the "
                f"training labels {train.labels.path}; expected one of {list(classes)}"
            )
        y[r] = index[v]
    return Dataset(
        X=X.astype(np.float64),
        y=y,
        feature_names=tuple(feature_names),
        classes=classes,
        keys=tuple(part.keys),
        source=str(part.features.path),
        n_dropped_unlabelled=part.n_dropped_unlabelled,
        n_dropped_missing=part.n_dropped_missing,
        label_name=part.label_name,
    )


TRAIN_FILES = FOLD_FILES[:2]
"""The training pair of a Fold folder (all a trainer needs)."""
TEST_FILES = FOLD_FILES[2:]
"""The test pair of a Fold folder."""


def load_fold(
    path: PathLike,
    label: str | None = None,
    *,
    missing: str = "drop",
    class_order: str = "natural",
    require_test: bool = True,
) -> Fold:
    """Read a DEBI-NN "Fold" folder (spec section 8).

    The folder holds ``TrainF.csv``, ``TrainL.csv``, ``TestF.csv``, ``TestL.csv`` and optionally
    ``ValidateF.csv`` + ``ValidateL.csv``: ``;``-separated, header row, a ``Key`` column (first).
    Features and labels are joined on ``Key``. Rows without a label are dropped and counted in
    ``n_dropped_unlabelled``; labelled rows with a missing feature (empty, NA, nan) are dropped
    and counted in ``n_dropped_missing`` (``missing="drop"``), or are an error naming the row
    and column (``missing="error"``, as in the command line). The classes are the sorted
    training labels; a test or validation label outside them is an error. Test/validation
    columns are put in the training order.

    Args:
        path: the Fold folder.
        label: label column of the label files (default: their last column).
        missing: ``"drop"`` or ``"error"`` (see above).
        class_order: ``"natural"`` (numeric labels in numeric order) or ``"string"`` (sorted
            as text, the authors' 2025 program's class order: labels 1, 2, 10 -> 1, 10, 2).
        require_test: False accepts a folder without ``TestF.csv`` / ``TestL.csv`` (training
            needs only the train split): ``test`` is then None when either is absent.

    Returns:
        ``Fold(train, test, validate)``; ``validate`` is None when the files are absent.
    """
    _check_missing_rule(missing)
    folder = Path(path)
    if not folder.exists():
        raise DataError(f"Fold folder not found: {folder}")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; expected a Fold folder holding {FOLD_FILES}")
    needed = FOLD_FILES if require_test else TRAIN_FILES
    missing = [f for f in needed if not (folder / f).is_file()]
    if missing:
        hint = ""
        subfolders = sorted(p.name for p in folder.iterdir() if (p / "TrainF.csv").is_file())
        if subfolders:
            hint = f"; it has Fold sub-folders: {', '.join(subfolders)} (pass one of them)"
        raise DataError(
            f"{folder}: missing {', '.join(missing)}; expected a Fold folder holding "
            f"{', '.join(needed)}{hint}"
        )
    has_validate = [(folder / f).is_file() for f in VALIDATE_FILES]
    if any(has_validate) and not all(has_validate):
        present, absent = (VALIDATE_FILES if has_validate[0] else VALIDATE_FILES[::-1])[:2]
        raise DataError(f"{folder}: {present} is present but {absent} is missing; expected both")

    train_part = _read_fold_part(folder / "TrainF.csv", folder / "TrainL.csv", label, missing)
    if not train_part.keys:
        raise _no_cases_error(train_part)
    classes = _classes_of(train_part.labels_raw, class_order)
    if len(classes) < 2:
        raise _one_class_error(train_part.labels.path, classes, len(train_part.keys))
    names = train_part.feature_names
    train = _fold_dataset(train_part, classes, names, train_part)
    test = None
    if all((folder / f).is_file() for f in TEST_FILES):
        test_part = _read_fold_part(folder / "TestF.csv", folder / "TestL.csv", label, missing)
        test = _fold_dataset(test_part, classes, names, train_part)
    validate = None
    if all(has_validate):
        val_part = _read_fold_part(
            folder / VALIDATE_FILES[0], folder / VALIDATE_FILES[1], label, missing
        )
        validate = _fold_dataset(val_part, classes, names, train_part)
    return Fold(train=train, test=test, validate=validate, path=str(folder))


# --------------------------------------------------------------------------------------------
# plain tables


def load_table(
    path: PathLike,
    label: str | None = None,
    key: str | None = None,
    *,
    min_classes: int = 2,
    missing: str = "drop",
    class_order: str = "natural",
) -> Dataset:
    """Read a plain CSV table (comma, semicolon or tab, sniffed from the header line).

    Every column other than the label and the key is a numeric feature. Rows with a missing
    label are dropped (``n_dropped_unlabelled``); rows with a missing feature are dropped too
    (``n_dropped_missing``) with ``missing="drop"``, or are an error naming the row and column
    with ``missing="error"`` (as in the command line). Labels stay numeric where they parse as
    numbers (integral values as ``int``: ``1.0`` -> 1), and are sorted; class index = position.

    Args:
        path: the CSV file.
        label: name of the label column (default: the last column).
        key: optional name of a column of unique row keys (default: 1-based data row numbers).
        min_classes: fewest distinct labels accepted (2 for training data; 1 to score a model
            on a test file that happens to hold a single class).
        missing: ``"drop"`` or ``"error"`` (see above).
        class_order: ``"natural"`` or ``"string"`` (see :func:`load_fold`).
    """
    _check_missing_rule(missing)
    table = read_csv(Path(path))
    lcol = len(table.header) - 1 if label is None else table.column(label)
    kcol = None if key is None else table.column(key)
    if kcol is not None and kcol == lcol:
        raise DataError(f"{table.path}: the key column and the label column are both {key!r}")
    keys = (
        unique_keys(table, kcol)
        if kcol is not None
        else [str(i + 1) for i in range(len(table.rows))]
    )
    fcols = [i for i in range(len(table.header)) if i not in (lcol, kcol)]
    if not fcols:
        hint = ""
        if len(table.header) == 1:
            hint = " (the header has no ',', ';' or tab: is the file separated by another sign?)"
        raise DataError(
            f"{table.path}: no feature columns besides the label {table.header[lcol]!r}; "
            f"expected at least one{hint}"
        )
    values = parse_numeric(table, fcols, keys)

    keep: list[int] = []
    n_unlabelled = n_missing = 0
    for r, row in enumerate(table.rows):
        if _is_missing(row[lcol]):
            n_unlabelled += 1
        elif np.isnan(values[r]).any():
            if missing == "error":
                j = int(np.flatnonzero(np.isnan(values[r]))[0])
                raise missing_cell_error(table, r, fcols[j], keys[r])
            n_missing += 1
        else:
            keep.append(r)
    if not keep:
        raise DataError(
            f"{table.path}: no labelled row with complete features ({n_unlabelled} rows without "
            f"label, {n_missing} with missing values); expected at least one"
        )
    raw = [table.rows[r][lcol] for r in keep]
    classes = _classes_of(raw, class_order)
    if len(classes) < min_classes:
        raise _one_class_error(table.path, classes, len(keep))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in _label_values(raw, classes)], dtype=np.int32)
    return Dataset(
        X=values[keep].astype(np.float64),
        y=y,
        feature_names=tuple(table.header[i] for i in fcols),
        classes=classes,
        keys=tuple(keys[r] for r in keep),
        source=str(table.path),
        n_dropped_unlabelled=n_unlabelled,
        n_dropped_missing=n_missing,
        label_name=table.header[lcol],
    )


def load_dataset(
    path: PathLike,
    label: str | None = None,
    *,
    missing: str = "drop",
    class_order: str = "natural",
    require_test: bool = True,
) -> Fold | Dataset:
    """Load by kind: ``"moons"`` -> two-moons :class:`Dataset` (default settings); a folder ->
    :func:`load_fold` (a :class:`Fold`); a file -> :func:`load_table` (a :class:`Dataset`).
    ``missing``: what to do with a missing feature cell (``"drop"`` the row or ``"error"``);
    ``require_test``: see :func:`load_fold`."""
    p = Path(path)
    if isinstance(path, str) and path.strip().lower() == "moons" and not p.exists():
        from debinn_jax.data.synthetic import make_moons_dataset

        return make_moons_dataset()
    if p.is_dir():
        return load_fold(
            p, label=label, missing=missing, class_order=class_order, require_test=require_test
        )
    if p.is_file():
        return load_table(p, label=label, missing=missing, class_order=class_order)
    raise DataError(f"data not found: {p}; expected a Fold folder, a CSV file, or the name 'moons'")
