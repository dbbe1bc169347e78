"""Where things are: the real datasets (one lookup for the command line, the study and the
scripts) and the authors' repository layout (``Datasets``, ``Executions``, ``BestModels``).

:func:`find_data_dir` finds our data folder. The rest maps the folders of the authors'
repository to what the commands read: :func:`find_folds` / :func:`one_fold` (Fold folders
below a data path: a Fold, ``Datasets/<X>/Dataset-1Fold``, ``Datasets/<X>``, ``Datasets``),
:func:`data_path` (our ``dlbcl/Fold-1`` inside their ``Datasets``), :func:`execution_folders`
(an ``Executions`` folder of many grids), :func:`repository_datasets` (the ``Datasets`` folder
above an execution folder) and :func:`find_model_file` (a model file in ``BestModels``).
Nothing here reads a file's contents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATA_ENV = "DEBINN_DATA_DIR"
#: The dataset folders a data folder holds (the names ``debinn data fetch`` writes).
DATASET_FOLDERS = ("dlbcl", "hecktor-lite", "ctg")


def find_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding ``dlbcl/``, ``hecktor-lite/`` and ``ctg/``.

    In order: ``explicit`` (returned as given, even if missing, so the caller can name it in
    an error); ``$DEBINN_DATA_DIR`` (likewise); ``../shared/data`` relative to the working
    directory; ``../shared/data`` beside the source checkout of this package (the project's
    development layout); the data home that ``debinn data fetch`` downloads into
    (:func:`debinn_jax.cache.data_home`), when it holds at least one dataset folder. None
    when none of the last three exists.
    """
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    for candidate in development_data_dirs():
        if candidate.is_dir():
            return candidate
    from debinn_jax.cache import data_home

    home = data_home()
    if any((home / name).is_dir() for name in DATASET_FOLDERS):
        return home
    return None


def development_data_dirs() -> tuple[Path, Path]:
    """The project's development layout: ``../shared/data`` relative to the working directory,
    and beside the source checkout of this package."""
    return (
        Path("..") / "shared" / "data",
        Path(__file__).resolve().parents[2].parent / "shared" / "data",
    )


# --------------------------------------------------------------------------------------------
# the authors' repository layout (lpapp-muw/DEBI-NN):
#   Datasets/<DATASET>/<VARIANT>/Fold-<k>/{Train,Test}{F,L}.csv   e.g. DLBCL/Dataset-1Fold/Fold-1
#   Executions/<GRID>/executionSettings.csv [+ summary.csv, DataPool/<Data>/Dataset/Fold-<k>]
#   BestModels/Executions-Finished/<RUN>/Log/Model-<RUN>-Fold-1-BestModel.bin

#: The file that makes a folder a Fold folder (with TrainL.csv, TestF.csv, TestL.csv).
FOLD_MARKER = "TrainF.csv"
#: The settings file of an execution folder.
SETTINGS_NAME = "executionSettings.csv"
#: How deep below a data path Fold folders are looked for (Datasets/X/Dataset-1Fold/Fold-1: 3).
FOLD_SEARCH_DEPTH = 3


class LayoutError(ValueError):
    """A path that does not lead to exactly one thing of the kind expected (one line naming the
    path, what was found and what to pass instead)."""


def is_fold(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a Fold folder (holds ``TrainF.csv``)."""
    return (Path(path) / FOLD_MARKER).is_file()


def _subfolders(path: Path) -> list[Path]:
    """Sub-folders in natural order (``Fold-2`` before ``Fold-10``), hidden ones skipped."""
    subs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(subs, key=lambda p: natural_key(p.name))


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders the numbers inside names by value: S2 < S10, Fold-2 < Fold-10."""
    return tuple(int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name))


def _holds_folds(path: Path, depth: int) -> bool:
    """Whether a Fold folder lies at most ``depth`` levels below ``path`` (or is ``path``)."""
    if is_fold(path):
        return True
    if depth <= 0:
        return False
    return any(_holds_folds(p, depth - 1) for p in _subfolders(path))


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[-_ .]+", text.casefold()) if t}


def match_score(name: str, hints: Sequence[str]) -> int:
    """How well a folder name matches ``hints`` (a data name, a grid name): 100 for a name equal
    to a hint (any case), else the number of words (split at ``-``, ``_``, ``.``) it shares
    with them. ``HECKTOR-LITE`` scores 2 against ``HECKTOR-LITE-1H``, ``APR-Dataset-1Fold`` 1
    against ``PROSTATE-APR-1H``."""
    if any(name.casefold() == h.casefold() for h in hints):
        return 100
    words = set().union(*(_tokens(h) for h in hints)) if hints else set()
    return len(_tokens(name) & words)


def pick_folder(candidates: Sequence[Path], hints: Sequence[str], what: str, where: Path) -> Path:
    """The one candidate folder, or the one that :func:`match_score` s best against ``hints``.

    Raises:
        LayoutError: several candidates and no single best match (the message lists them).
    """
    if len(candidates) == 1:
        return candidates[0]
    scores = [match_score(c.name, hints) for c in candidates]
    best = max(scores)
    if best > 0 and scores.count(best) == 1:
        return candidates[scores.index(best)]
    names = ", ".join(c.name for c in candidates)
    for_ = f" for {' / '.join(repr(h) for h in hints)}" if hints else ""
    raise LayoutError(
        f"{where}: {len(candidates)} {what} ({names}) and none matches{for_}; pass the one you mean"
    )


def find_folds(path: str | os.PathLike[str], hints: Sequence[str] = ()) -> list[Path]:
    """The Fold folders a data path stands for, in natural order.

    ``path`` may be a Fold folder (``.../Fold-1``), a folder of Fold folders
    (``Datasets/DLBCL/Dataset-1Fold``, an execution folder's ``DataPool/DLBCL/Dataset``), a
    dataset folder holding one variant (``Datasets/DLBCL``), or a folder of datasets (the
    authors' ``Datasets``, our ``shared/data``): where a level holds several branches that
    lead to Fold folders, the one matching ``hints`` (:func:`match_score`: the settings'
    ``Data`` value, the grid name) is taken.

    Raises:
        LayoutError: no Fold folder within :data:`FOLD_SEARCH_DEPTH` levels, or several
            branches and none matches the hints (one line listing them).
    """
    root = Path(path)
    if not root.exists():
        raise LayoutError(f"{root}: no such folder; expected a Fold folder or a folder of them")
    if not root.is_dir():
        raise LayoutError(f"{root}: not a folder; expected a Fold folder or a folder of them")
    here = root
    for depth in range(FOLD_SEARCH_DEPTH, -1, -1):
        if is_fold(here):
            return [here]
        subs = [p for p in _subfolders(here) if _holds_folds(p, depth - 1)]
        folds = [p for p in subs if is_fold(p)]
        if folds:
            return folds
        if not subs:
            break
        here = pick_folder(subs, hints, "folders with data", here)
    raise LayoutError(
        f"{root}: no Fold folder (holding {FOLD_MARKER}) within {FOLD_SEARCH_DEPTH} levels; "
        "expected a Fold folder, a folder of Fold-* folders or the authors' Datasets folder"
    )


def one_fold(path: str | os.PathLike[str], hints: Sequence[str] = ()) -> Path:
    """The single Fold folder ``path`` stands for (see :func:`find_folds`).

    Raises:
        LayoutError: none, or several (the message lists them: pass one).
    """
    folds = find_folds(path, hints)
    if len(folds) > 1:
        names = ", ".join(str(f.relative_to(path)) for f in folds)
        raise LayoutError(f"{path}: {len(folds)} Fold folders ({names}); pass one of them")
    return folds[0]


def data_path(root: str | os.PathLike[str], relative: str | os.PathLike[str]) -> Path:
    """``root / relative``, or its counterpart in the authors' layout when ``root`` is their
    ``Datasets`` folder (or the repository above it): ``dlbcl/Fold-1`` ->
    ``Datasets/DLBCL/Dataset-1Fold/Fold-1``. Returns ``root / relative`` when neither exists
    (the caller names it in its message)."""
    direct = Path(root) / relative
    if direct.exists():
        return direct
    parts = Path(relative).parts
    if len(parts) < 2:
        return direct
    for base in (Path(root), Path(root) / "Datasets"):
        if not base.is_dir():
            continue
        try:
            folds = find_folds(base, hints=(parts[0],))
        except LayoutError:
            continue
        if match_score(_dataset_of(folds[0], base).name, (parts[0],)) == 0:
            continue
        named = [f for f in folds if f.name.casefold() == parts[-1].casefold()]
        if named:
            return named[0]
    return direct


def _dataset_of(fold: Path, base: Path) -> Path:
    """The folder right below ``base`` on the way to ``fold``."""
    return base / fold.relative_to(base).parts[0]


def is_execution_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an execution folder (holds ``executionSettings.csv``)."""
    return (Path(path) / SETTINGS_NAME).is_file()


def execution_folders(path: str | os.PathLike[str]) -> list[Path]:
    """The execution folders below ``path`` (the authors' ``Executions`` folder, or the
    repository above it), in natural order; ``[path]`` itself for one execution folder; []
    when there are none."""
    root = Path(path)
    if is_execution_folder(root):
        return [root]
    for base in (root, root / "Executions"):
        if base.is_dir():
            found = [p for p in _subfolders(base) if is_execution_folder(p)]
            if found:
                return found
    return []


def repository_datasets(execution: str | os.PathLike[str]) -> Path | None:
    """The ``Datasets`` folder of the authors' repository that holds ``execution``
    (``<repo>/Executions/<GRID>`` -> ``<repo>/Datasets``), or None."""
    for parent in list(Path(execution).resolve().parents)[:3]:
        if (parent / "Datasets").is_dir():
            return parent / "Datasets"
    return None


#: The name every model file of the authors' 2025 program ends with.
AUTHORS_MODEL_SUFFIX = "BestModel.bin"


def find_model_file(path: str | os.PathLike[str]) -> Path:
    """A model file: ``path`` itself, or the one ``*BestModel.bin`` below a folder of the
    authors' ``BestModels`` tree (``Executions-Finished/<RUN>`` holds ``Log/...BestModel.bin``).

    Raises:
        LayoutError: a folder holding none, or several (the message lists them).
    """
    p = Path(path)
    if not p.is_dir():
        return p
    found = sorted(
        (f for f in p.rglob(f"*{AUTHORS_MODEL_SUFFIX}") if f.is_file()),
        key=lambda f: natural_key(str(f)),
    )
    if not found:
        raise LayoutError(
            f"{p}: a folder without a *{AUTHORS_MODEL_SUFFIX} file; expected a model file "
            "or a folder of the authors' BestModels tree"
        )
    if len(found) > 1:
        shown = ", ".join(str(f.relative_to(p)) for f in found[:6])
        more = f" and {len(found) - 6} more" if len(found) > 6 else ""
        raise LayoutError(f"{p}: {len(found)} model files ({shown}{more}); pass one of them")
    return found[0]
