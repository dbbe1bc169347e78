"""Fetching the public datasets into the data cache, in the style of scikit-learn's ``fetch_*``.

Three small medical tables that the DEBI-NN papers and this project use:

* ``dlbcl``: DLBCL lymphoma, 2-year event-free survival from PET radiomics (one Fold folder);
* ``hecktor-lite``: HECKTOR head-and-neck cancer, HPV status from PET/CT radiomics (one Fold);
* ``ctg``: fetal cardiotocography, NSP class (a plain CSV table, ``fetal_health.csv``).

:func:`fetch_dlbcl`, :func:`fetch_hecktor_lite` and :func:`fetch_ctg` return the library's
:class:`~debinn_jax.data.Fold` / :class:`~debinn_jax.data.Dataset`; the files are downloaded
on the first call (``download_if_missing=True``) into :func:`~debinn_jax.cache.data_home`
(``$DEBINN_DATA_HOME``, else ``~/.cache/debinn-jax/datasets``), one folder per dataset laid
out as ``dlbcl/Fold-1/TrainF.csv``, ..., ``ctg/fetal_health.csv``. Every file's SHA-256 and
size are checked: a file that differs from the published one is removed and reported, never
used. A file already in the cache with the right checksum is not downloaded again. Files can
be placed by hand (no network): the error of a failed download names the URLs and the paths.

The ``debinn data list`` and ``debinn data fetch NAME`` commands call these functions.

Licences: DLBCL and HECKTOR-LITE are CC BY-NC-ND 4.0 (Medical University of Vienna; the
DEBI-NN authors' public repository); the CTG table is CC BY 4.0 (UCI Cardiotocography,
Ayres-de Campos et al. 2000). They are downloaded from their sources, never shipped with
debinn-jax.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, cast

from debinn_jax.data.dataset import DataError, Dataset, Fold

PathLike = str | os.PathLike[str]

#: The DEBI-NN authors' repository at the commit whose dataset files were checked (see
#: docs/data.md); a pinned commit, so the bytes behind the URLs cannot change.
AUTHORS_REPO = (
    "https://raw.githubusercontent.com/lpapp-muw/DEBI-NN/301c10e6b370e8fb4ab5a8fbf39181676c0444ab"
)
#: A public copy of the ``fetal_health.csv`` form of the UCI Cardiotocography data, pinned to
#: a commit (the canonical UCI download is an .xls workbook of another layout).
CTG_MIRROR = (
    "https://raw.githubusercontent.com/Az1ah7/Fetal-Health-Classification/"
    "28e9d15fabbcda59eee06bfbbbb613756c1ef906"
)

_CHUNK = 1 << 16
_TIMEOUT_S = 30.0


class FetchError(DataError):
    """A dataset cannot be fetched: the download failed (offline, unreachable URL) or a file
    differs from the published one. The message names the URL or file and what to do."""


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One published file of a dataset.

    Attributes:
        path: where it goes in the dataset's folder, and its URL below the dataset's base URL
            (``Fold-1/TrainF.csv``).
        sha256: hex SHA-256 of the published bytes.
        size: its size in bytes.
    """

    path: str
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class RemoteDataset:
    """A public dataset that :func:`fetch_dataset` can download.

    Attributes:
        name: its name in the data home and on the command line (``dlbcl``).
        title: one line saying what it is.
        base_url: URL of the folder holding ``files`` (each file's URL is ``base_url/path``).
        files: the published files.
        load: the folder (relative to the dataset's folder) passed to :func:`load_fold`, or
            the CSV file passed to :func:`load_table`.
        kind: ``"fold"`` or ``"table"``.
        licence: licence and owner.
        source: where the data comes from.
    """

    name: str
    title: str
    base_url: str
    files: tuple[RemoteFile, ...]
    load: str
    kind: str
    licence: str
    source: str

    @property
    def size(self) -> int:
        """Total size of the files in bytes."""
        return sum(f.size for f in self.files)

    def url(self, file: RemoteFile, base_url: str | None = None) -> str:
        """The download URL of ``file`` (below ``base_url`` when given, else the dataset's)."""
        return f"{(base_url or self.base_url).rstrip('/')}/{file.path}"


_CC_BY_NC_ND = (
    "CC BY-NC-ND 4.0, Medical University of Vienna (non-commercial use, no derivatives, "
    "attribution)"
)

DATASETS: dict[str, RemoteDataset] = {
    "dlbcl": RemoteDataset(
        name="dlbcl",
        title="DLBCL lymphoma, 2-year event-free survival (2YEFS) from PET radiomics + clinical "
        "features: 41 train + 44 test cases, 17 features, 2 classes",
        base_url=f"{AUTHORS_REPO}/Datasets/DLBCL/Dataset-1Fold",
        files=(
            RemoteFile(
                "Fold-1/TrainF.csv",
                "c4d9cab686e7ae5dc287d813b5c6f8e29c59146463d8ddc563ee00a93fc59108",
                14134,
            ),
            RemoteFile(
                "Fold-1/TrainL.csv",
                "894acb8b1f860f89ea7fcc81e65f502a8f5084c98d5d7dd6cddbc702477134a3",
                248,
            ),
            RemoteFile(
                "Fold-1/TestF.csv",
                "fbbb976af6340492d506bc352141073dd4866af8175beca0517e36356120d7e7",
                15125,
            ),
            RemoteFile(
                "Fold-1/TestL.csv",
                "48cc6fa7129ebbb2e0524b4d5e363d0decc0977cc957a02114b3e940a00a931d",
                266,
            ),
        ),
        load="Fold-1",
        kind="fold",
        licence=_CC_BY_NC_ND,
        source="the DEBI-NN authors' repository lpapp-muw/DEBI-NN, Datasets/DLBCL/Dataset-1Fold",
    ),
    "hecktor-lite": RemoteDataset(
        name="hecktor-lite",
        title="HECKTOR head-and-neck cancer, HPV status from PET/CT radiomics + clinical "
        "features: 158 train + 74 test labelled cases, 36 features, 2 classes",
        base_url=f"{AUTHORS_REPO}/Datasets/HECKTOR-LITE/Dataset-1Fold",
        files=(
            RemoteFile(
                "Fold-1/TrainF.csv",
                "0513f8fcb682f7b0abeef9190c6fca97cbe544553e54ebcad1e49373f2000ea8",
                153937,
            ),
            RemoteFile(
                "Fold-1/TrainL.csv",
                "cda04013616b2f339826b7d1ae6d572b70c4047822a0152705de73f22a80671c",
                1871,
            ),
            RemoteFile(
                "Fold-1/TestF.csv",
                "4b558a8fde896c918eccab299205d1642248ad40bfc6343668dd23d7978089c8",
                101559,
            ),
            RemoteFile(
                "Fold-1/TestL.csv",
                "cf5eea15e9ca0b8a2b840d943f777866fdf658ec934c211040e38802c6fcd82f",
                792,
            ),
        ),
        load="Fold-1",
        kind="fold",
        licence=_CC_BY_NC_ND,
        source="the DEBI-NN authors' repository lpapp-muw/DEBI-NN, "
        "Datasets/HECKTOR-LITE/Dataset-1Fold",
    ),
    "ctg": RemoteDataset(
        name="ctg",
        title="fetal cardiotocography, NSP class (1 normal, 2 suspect, 3 pathological): 2126 "
        "cases, 21 raw features, 3 classes",
        base_url=CTG_MIRROR,
        files=(
            RemoteFile(
                "fetal_health.csv",
                "4e7623efaa7828192c42f0e07a539ec05c80357da14fed6bea0636c0caaff8cd",
                153929,
            ),
        ),
        load="fetal_health.csv",
        kind="table",
        licence="CC BY 4.0 (UCI Machine Learning Repository, Cardiotocography; "
        "Ayres-de Campos et al., 2000)",
        source="UCI Cardiotocography in its fetal_health.csv form, from a public GitHub copy "
        "(Az1ah7/Fetal-Health-Classification, pinned commit)",
    ),
}


# --------------------------------------------------------------------------------------------
# helpers


def dataset_info(name: str) -> RemoteDataset:
    """The registered dataset ``name``; FetchError listing the names when unknown."""
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise FetchError(f"unknown dataset {name!r}; expected one of {', '.join(sorted(DATASETS))}")
    return DATASETS[key]


def resolve_data_home(data_home: PathLike | None = None) -> Path:
    """``data_home`` as a Path, or the default :func:`~debinn_jax.cache.data_home` when None."""
    from debinn_jax.cache import data_home as default_home

    return default_home() if data_home is None else Path(data_home).expanduser()


def dataset_folder(name: str, data_home: PathLike | None = None) -> Path:
    """The folder that holds dataset ``name`` in ``data_home`` (default: the data home)."""
    return resolve_data_home(data_home) / dataset_info(name).name


def file_sha256(path: PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _is_cached(path: Path, file: RemoteFile) -> bool:
    return path.is_file() and path.stat().st_size == file.size and file_sha256(path) == file.sha256


def missing_files(name: str, data_home: PathLike | None = None) -> list[str]:
    """The files of dataset ``name`` not (correctly) in the data home, as relative paths."""
    info = dataset_info(name)
    folder = dataset_folder(name, data_home)
    return [f.path for f in info.files if not _is_cached(folder / f.path, f)]


def _by_hand(info: RemoteDataset, folder: Path) -> str:
    """How to place the files of ``info`` by hand: the published folder URL, the files' paths
    below it, and the folder to put them in."""
    files = ", ".join(f.path for f in info.files)
    return (
        f"to place the files by hand, download {files} from {info.base_url.rstrip('/')}/ into "
        f"{folder}/ (same relative paths), or fetch from a mirror (debinn data fetch "
        f"--base-url URL, or base_url=URL in Python)"
    )


class _Progress:
    """A one-line progress bar on a text stream: ``name [#####.....]  52% 80.1/153.9 kB``."""

    def __init__(self, stream: IO[str] | None, label: str, total: int) -> None:
        self.stream, self.label, self.total, self.done = stream, label, max(total, 1), 0

    def update(self, n: int) -> None:
        self.done += n
        if self.stream is None:
            return
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(round(frac * 30))
        self.stream.write(
            f"\r  {self.label} [{bar:<30}] {frac:4.0%} "
            f"{self.done / 1000:.1f}/{self.total / 1000:.1f} kB"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def _reason(err: BaseException) -> str:
    """The reason of a failed download in a few words (``[Errno -3] ...``, ``timed out``)."""
    reason = getattr(err, "reason", None)
    return str(reason if reason is not None else err)


def _download(url: str, target: Path, file: RemoteFile, progress: _Progress) -> None:
    """Download ``url`` to ``target`` atomically, checking size and SHA-256 on the way.

    Raises:
        FetchError: the URL cannot be read (offline, unreachable, not found) or the bytes
            differ from the published file (nothing is left behind).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=_TIMEOUT_S)
            except (urllib.error.URLError, OSError, ValueError) as err:
                raise FetchError(f"cannot download {url} ({_reason(err)})") from None
            with response:
                while True:
                    try:
                        block = response.read(_CHUNK)
                    except (urllib.error.URLError, OSError) as err:
                        raise FetchError(f"cannot download {url} ({_reason(err)})") from None
                    if not block:
                        break
                    out.write(block)
                    h.update(block)
                    size += len(block)
                    progress.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if size != file.size or h.hexdigest() != file.sha256:
            raise FetchError(
                f"{url}: the downloaded file differs from the published one (SHA-256 "
                f"{h.hexdigest()}, {size} bytes; expected {file.sha256}, {file.size} bytes); it "
                f"was removed"
            )
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600 files; use the usual mode
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------------------------
# fetching


def download_dataset(
    name: str,
    data_home: PathLike | None = None,
    *,
    base_url: str | None = None,
    progress: bool | IO[str] | None = None,
) -> Path:
    """Make sure every file of dataset ``name`` is in the data home; download what is missing.

    Args:
        name: a key of :data:`DATASETS` (``dlbcl``, ``hecktor-lite``, ``ctg``).
        data_home: the data home (default :func:`~debinn_jax.cache.data_home`).
        base_url: download from this folder instead of the dataset's published URL (a mirror,
            or a ``file://`` URL of a local copy); files keep their relative paths.
        progress: a progress bar per file on stderr (True), on a given text stream, or none
            (False); None: on stderr when it is a terminal.

    Returns:
        The dataset's folder in the data home.

    Raises:
        FetchError: a download failed (naming the URL, and how to place the files by hand),
            or a downloaded file differs from the published one (it is removed).
    """
    info = dataset_info(name)
    folder = dataset_folder(info.name, data_home)
    stream: IO[str] | None
    if progress is None:
        stream = sys.stderr if sys.stderr.isatty() else None
    elif progress is True:
        stream = sys.stderr
    elif progress is False:
        stream = None
    else:
        stream = progress
    for file in info.files:
        target = folder / file.path
        if _is_cached(target, file):
            continue
        bar = _Progress(stream, f"{info.name}/{file.path}", file.size)
        try:
            _download(info.url(file, base_url), target, file, bar)
        except FetchError as err:
            raise FetchError(f"{err}; {_by_hand(info, folder)}") from None
        finally:
            bar.close()
    return folder


def fetch_dataset(
    name: str,
    data_home: PathLike | None = None,
    download_if_missing: bool = True,
    *,
    base_url: str | None = None,
    progress: bool | IO[str] | None = None,
) -> Fold | Dataset:
    """Load dataset ``name`` from the data home, downloading it first when missing.

    Args:
        name: ``dlbcl``, ``hecktor-lite`` or ``ctg`` (see :data:`DATASETS`).
        data_home: where the datasets are kept (default :func:`~debinn_jax.cache.data_home`:
            ``$DEBINN_DATA_HOME``, else ``~/.cache/debinn-jax/datasets``).
        download_if_missing: download missing files (False: FetchError when a file is missing).
        base_url: download from this folder instead of the published URL (see
            :func:`download_dataset`).
        progress: progress bars (see :func:`download_dataset`).

    Returns:
        A :class:`~debinn_jax.data.Fold` (``dlbcl``, ``hecktor-lite``) or a
        :class:`~debinn_jax.data.Dataset` (``ctg``).

    Raises:
        FetchError: see :func:`download_dataset`; or a missing file with
            ``download_if_missing=False``.
    """
    from debinn_jax.data.readers import load_fold, load_table

    info = dataset_info(name)
    folder = dataset_folder(info.name, data_home)
    missing = missing_files(info.name, data_home)
    if missing and not download_if_missing:
        raise FetchError(
            f"{folder}: dataset {info.name!r} is not (completely) in the data home, missing or "
            f"different: {', '.join(missing)}; call with download_if_missing=True or run "
            f"'debinn data fetch {info.name}'"
        )
    if missing:
        download_dataset(info.name, data_home, base_url=base_url, progress=progress)
    path = folder / info.load
    return load_fold(path) if info.kind == "fold" else load_table(path)


def fetch_dlbcl(
    data_home: PathLike | None = None, download_if_missing: bool = True, **kwargs: Any
) -> Fold:
    """The DLBCL Fold (41 train + 44 test cases, 17 features, label ``2YEFS``).

    CC BY-NC-ND 4.0, Medical University of Vienna. Keyword arguments as
    :func:`fetch_dataset` (``base_url``, ``progress``).
    """
    return cast(Fold, fetch_dataset("dlbcl", data_home, download_if_missing, **kwargs))


def fetch_hecktor_lite(
    data_home: PathLike | None = None, download_if_missing: bool = True, **kwargs: Any
) -> Fold:
    """The HECKTOR-LITE Fold (158 train + 74 test labelled cases, 36 features, ``HPVStatus``).

    CC BY-NC-ND 4.0, Medical University of Vienna. Keyword arguments as
    :func:`fetch_dataset` (``base_url``, ``progress``).
    """
    return cast(Fold, fetch_dataset("hecktor-lite", data_home, download_if_missing, **kwargs))


def fetch_ctg(
    data_home: PathLike | None = None, download_if_missing: bool = True, **kwargs: Any
) -> Dataset:
    """The fetal cardiotocography table (2126 cases, 21 raw features, label ``fetal_health``
    1/2/3). CC BY 4.0 (UCI). Keyword arguments as :func:`fetch_dataset`."""
    return cast(Dataset, fetch_dataset("ctg", data_home, download_if_missing, **kwargs))
