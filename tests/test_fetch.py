"""Fetching the public datasets (debinn_jax.data.fetch, ``debinn data``): checksums, the
cache, progress, and the errors of a failed or wrong download. Downloads come from local
``file://`` folders; the network is never used (``urlopen`` is replaced where a test needs an
unreachable http URL)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from _shared import data_dir

from debinn_jax.cache import data_home
from debinn_jax.cli import main
from debinn_jax.data import Dataset, Fold, fetch
from debinn_jax.data.fetch import (
    DATASETS,
    FetchError,
    RemoteDataset,
    RemoteFile,
    fetch_dataset,
    file_sha256,
)

FILES = {
    "Fold-1/TrainF.csv": "Key;a;b\n1;0.1;0.2\n2;0.3;0.1\n3;1.5;1.2\n4;1.1;1.7\n",
    "Fold-1/TrainL.csv": "Key;Outcome\n1;0\n2;0\n3;1\n4;1\n",
    "Fold-1/TestF.csv": "Key;a;b\n5;0.2;0.2\n6;1.4;1.3\n",
    "Fold-1/TestL.csv": "Key;Outcome\n5;0\n6;1\n",
}


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local mirror folder of a tiny Fold dataset ``toy``, registered with its checksums."""
    root = tmp_path / "mirror"
    files = []
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        (root / rel).write_bytes(data)
        files.append(RemoteFile(rel, hashlib.sha256(data).hexdigest(), len(data)))
    toy = RemoteDataset(
        name="toy",
        title="a tiny Fold",
        base_url=root.as_uri(),
        files=tuple(files),
        load="Fold-1",
        kind="fold",
        licence="CC0",
        source="this test",
    )
    monkeypatch.setitem(DATASETS, "toy", toy)
    return root


def _no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace urlopen by one that fails like an offline machine; returns the URLs asked for."""
    asked: list[str] = []

    def offline(url, *args, **kwargs):
        asked.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return asked


def test_fetch_downloads_checks_and_loads_a_fold(mirror: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    bar = io.StringIO()
    fold = fetch_dataset("toy", data_home=home, progress=bar)
    assert isinstance(fold, Fold)
    assert fold.train.n_samples == 4 and fold.test.n_samples == 2
    for rel, text in FILES.items():
        assert (home / "toy" / rel).read_text() == text
    assert "100%" in bar.getvalue() and "toy/Fold-1/TrainF.csv" in bar.getvalue()
    assert not list((home / "toy").rglob("*.part"))  # no temporary file left


def test_a_cached_dataset_is_not_downloaded_again(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    fetch_dataset("toy", data_home=home, progress=False)
    asked = _no_network(monkeypatch)
    fold = fetch_dataset("toy", data_home=home, progress=False)
    assert asked == [] and fold.train.n_samples == 4


def test_a_changed_cached_file_is_downloaded_again(mirror: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    fetch_dataset("toy", data_home=home, progress=False)
    (home / "toy" / "Fold-1" / "TestL.csv").write_text("Key;Outcome\n5;1\n6;1\n")
    assert fetch.missing_files("toy", home) == ["Fold-1/TestL.csv"]
    fold = fetch_dataset("toy", data_home=home, progress=False)
    assert fold.test.y.tolist() == [0, 1]


def test_a_checksum_mismatch_removes_the_file_and_says_so(mirror: Path, tmp_path: Path) -> None:
    (mirror / "Fold-1" / "TrainL.csv").write_text("Key;Outcome\n1;1\n2;0\n3;1\n4;1\n")  # same size
    home = tmp_path / "home"
    with pytest.raises(FetchError) as err:
        fetch_dataset("toy", data_home=home, progress=False)
    msg = str(err.value)
    assert f"{mirror.as_uri()}/Fold-1/TrainL.csv" in msg
    assert "differs from the published one" in msg and "removed" in msg
    assert DATASETS["toy"].files[1].sha256 in msg
    assert not (home / "toy" / "Fold-1" / "TrainL.csv").exists()
    assert not list((home / "toy").rglob("*.part"))
    assert "\n" not in msg


def test_offline_names_the_url_and_how_to_place_the_files_by_hand(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = "https://example.invalid/toy"
    monkeypatch.setitem(DATASETS, "toy", dataclasses.replace(DATASETS["toy"], base_url=published))
    asked = _no_network(monkeypatch)
    home = tmp_path / "home"
    with pytest.raises(FetchError) as err:
        fetch_dataset("toy", data_home=home, progress=False)
    msg = str(err.value)
    assert asked == [f"{published}/Fold-1/TrainF.csv"]
    assert f"cannot download {published}/Fold-1/TrainF.csv" in msg
    assert "Temporary failure in name resolution" in msg
    assert "place the files by hand" in msg
    assert f"download {', '.join(FILES)} from {published}/ into {home / 'toy'}/" in msg
    # the command line: one line, exit code 2
    code = main(["data", "fetch", "toy", "--data-home", str(home), "--quiet"])
    assert code == 2


def test_an_unreachable_mirror_is_named(mirror: Path, tmp_path: Path) -> None:
    gone = (tmp_path / "gone").as_uri()
    with pytest.raises(FetchError, match=f"cannot download {gone}/Fold-1/TrainF.csv"):
        fetch_dataset("toy", data_home=tmp_path / "home", base_url=gone, progress=False)


def test_download_if_missing_false_refuses_without_downloading(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _no_network(monkeypatch)
    with pytest.raises(FetchError, match="debinn data fetch toy"):
        fetch_dataset("toy", data_home=tmp_path / "home", download_if_missing=False)
    assert asked == []


def test_unknown_name_lists_the_datasets() -> None:
    with pytest.raises(FetchError, match="expected one of ctg, dlbcl, hecktor-lite"):
        fetch_dataset("dlbcl2", data_home="/nonexistent")


def test_data_home_follows_the_cache_conventions(tmp_path: Path) -> None:
    assert data_home({"HOME": "/home/ana"}) == Path("/home/ana/.cache/debinn-jax/datasets")
    assert data_home({"HOME": "/h", "XDG_CACHE_HOME": "/c"}) == Path("/c/debinn-jax/datasets")
    env = {"HOME": "/h", "XDG_CACHE_HOME": "/c", "DEBINN_DATA_HOME": str(tmp_path)}
    assert data_home(env) == tmp_path.resolve()


def test_the_command_fetches_and_lists(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert main(["data", "list", "--data-home", home]) == 0
    assert "toy: a tiny Fold" in capsys.readouterr().out
    assert main(["data", "fetch", "toy", "--data-home", home, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"toy: downloaded 4 file(s), checked: {Path(home) / 'toy' / 'Fold-1'}" in out
    assert main(["data", "fetch", "toy", "--data-home", home]) == 0
    assert "toy: already cached" in capsys.readouterr().out
    assert main(["data", "list", "--data-home", home]) == 0
    assert f"cached in {Path(home) / 'toy'}" in capsys.readouterr().out


# ------------------------------------------------------------------- the registered datasets

SHARED = {"dlbcl": "dlbcl", "hecktor-lite": "hecktor-lite", "ctg": "ctg"}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_registered_checksums_are_those_of_the_published_files(name: str) -> None:
    folder = data_dir() / SHARED[name]
    if not folder.is_dir():
        pytest.skip(f"shared data not found: {folder}")
    for f in DATASETS[name].files:
        path = folder / f.path
        assert path.stat().st_size == f.size, f.path
        assert file_sha256(path) == f.sha256, f.path


@pytest.mark.parametrize(
    "name, kind, shape",
    [("dlbcl", Fold, (41, 44, 17)), ("hecktor-lite", Fold, (158, 74, 36)), ("ctg", Dataset, None)],
)
def test_fetching_the_registered_datasets_from_a_local_copy(
    name: str, kind: type, shape: tuple | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = data_dir() / SHARED[name]
    if not folder.is_dir():
        pytest.skip(f"shared data not found: {folder}")
    real = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        assert url.startswith("file://"), url  # never the network
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    out = fetch_dataset(name, data_home=tmp_path, base_url=folder.as_uri(), progress=False)
    assert isinstance(out, kind)
    if shape is not None:
        assert (out.train.n_samples, out.test.n_samples, out.n_features) == shape
    else:
        assert out.X.shape == (2126, 21)
        assert np.bincount(out.y).tolist() == [1655, 295, 176]
