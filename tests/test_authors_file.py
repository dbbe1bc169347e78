"""Tests of the reader for the authors' 2025 DEBI-NN model files (``*BestModel.bin``).

The two published models are read from ``$DEBINN_REFERENCE_DIR`` (else
``<repo>/../shared/reference``); tests that need them skip when absent. The error cases are built
in ``tmp_path``, partly with a small QDataStream writer that reproduces a real file byte for byte.
"""

from __future__ import annotations

import configparser
import csv
import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _shared import reference_dir

from debinn_jax import authors_file as af
from debinn_jax.authors_file import (
    AuthorsFileError,
    AuthorsModelFile,
    is_authors_file,
    read_authors_file,
)

DLBCL = "DLBCL-2H-Hinton-S69"
HECKTOR = "HECKTOR-1H-S24"


def _model_dir(name: str) -> Path:
    path = reference_dir() / "models" / name
    if not (path / "BestModel.bin").is_file():
        pytest.skip(
            f"authors' reference model not found at {path / 'BestModel.bin'} "
            "(set DEBINN_REFERENCE_DIR to the folder holding models/)"
        )
    return path


@pytest.fixture(scope="module")
def dlbcl() -> AuthorsModelFile:
    return read_authors_file(_model_dir(DLBCL) / "BestModel.bin")


@pytest.fixture(scope="module")
def hecktor() -> AuthorsModelFile:
    return read_authors_file(_model_dir(HECKTOR) / "BestModel.bin")


def _bytes(name: str) -> bytes:
    return (_model_dir(name) / "BestModel.bin").read_bytes()


# A QDataStream writer (the inverse of the reader), to rebuild and alter files -------------------


class _Writer:
    def __init__(self) -> None:
        self.out = io.BytesIO()

    def raw(self, fmt: str, *v: Any) -> None:
        self.out.write(struct.pack(fmt, *v))

    def qstring(self, s: str | None) -> None:
        if s is None:
            self.raw(">I", 0xFFFFFFFF)
            return
        b = s.encode("utf-16-be")
        self.raw(">I", len(b))
        self.out.write(b)

    def int_list(self, xs) -> None:
        self.raw(">i", len(xs))
        for x in xs:
            self.raw(">i", x)

    def double_list(self, xs) -> None:
        self.raw(">i", len(xs))
        for x in xs:
            self.raw(">d", x)

    def string_list(self, xs) -> None:
        self.raw(">i", len(xs))
        for x in xs:
            self.qstring(x)

    def variant(self, v: Any) -> None:
        if isinstance(v, bool):
            self.raw(">IBB", 1, 0, v)
        elif isinstance(v, int):
            self.raw(">IBi", 2, 0, v)
        elif isinstance(v, float):
            self.raw(">IBd", 6, 0, v)
        elif isinstance(v, str):
            self.raw(">IB", 10, 0)
            self.qstring(v)
        elif isinstance(v, list):
            self.raw(">IBI", 9, 0, len(v))
            for x in v:
                self.variant(x)
        elif isinstance(v, dict) and v and all(isinstance(x, float) for x in v.values()):
            name = b"QMap<QString,double>\x00"
            self.raw(">IBI", 127, 0, len(name))
            self.out.write(name)
            self.raw(">I", len(v))
            for k, x in v.items():
                self.qstring(k)
                self.raw(">d", x)
        elif isinstance(v, dict):
            self.raw(">IB", 8, 0)
            self.variant_map(v)
        else:
            raise TypeError(type(v))

    def variant_map(self, m: dict) -> None:
        self.raw(">I", len(m))
        for k, v in m.items():
            self.qstring(k)
            self.variant(v)


def _write(m: AuthorsModelFile, **changes: Any) -> bytes:
    """The bytes of ``m`` (with ``changes`` applied) in the 2025 file layout."""
    f = {fld.name: getattr(m, fld.name) for fld in af.dataclasses.fields(m)} | changes
    w = _Writer()
    w.string_list(f["feature_names"])
    w.int_list(f["layer_sizes"])
    w.int_list(f["activations"])
    w.int_list(f["kernels"])
    w.int_list(f["geometries"])
    w.int_list(f["group_counts"])
    w.raw(">i", len(f["groups"]))
    for layer in f["groups"]:
        w.raw(">i", len(layer))
        for indices, scale, shift in layer:
            w.int_list(indices)
            w.raw(">dd", scale, shift)
    w.qstring(f["z_snapping"])
    w.double_list(f["dropconnect"])
    w.double_list(f["genome"])
    w.raw(">i", len(f["z_ranges"]))
    for lo, hi in f["z_ranges"]:
        w.raw(">dd", lo, hi)
    w.string_list(f["class_labels"])
    w.raw(">BBiBB", f["realigned"], f["weights_standardize"], f["group_normalization"],
          f["shift_scale"], f["label_smoothing"])  # fmt: skip
    w.raw(">ddd", f["weight_min"], f["weight_max"], f["distance_threshold"])
    w.raw(">BBBiB", f["inference_mode"], f["dropconnect_on"], f["spatial_dropout"],
          f["init_type"], f["absolute_z"])  # fmt: skip
    w.variant_map(f["metadata"])
    return w.out.getvalue()


def _genome_offset(data: bytes, m: AuthorsModelFile) -> int:
    """Byte offset of the genome's count in ``data``."""
    at = data.find(struct.pack(">i", m.genome.size) + m.genome[:2].astype(">f8").tobytes())
    assert at > 0
    return at


def _assert_error(path: Path, *fragments: str) -> str:
    """``read_authors_file(path)`` raises AuthorsFileError: one line, naming the file."""
    with pytest.raises(AuthorsFileError) as info:
        read_authors_file(path)
    msg = str(info.value)
    assert path.name in msg
    assert "\n" not in msg and "\r" not in msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


# The two published files ------------------------------------------------------------------------


def test_dlbcl_structure(dlbcl: AuthorsModelFile) -> None:
    assert len(dlbcl.feature_names) == 17
    assert dlbcl.layer_sizes == (17, 85, 64, 2)
    assert dlbcl.group_counts == (10, 8)
    assert dlbcl.genome.shape == (951,) and dlbcl.genome.dtype == np.float64
    assert dlbcl.class_labels == ("0", "1")
    assert dlbcl.activations == (1, 1, 1, 1)  # LReLU, one entry per layer (input included)
    assert dlbcl.kernels == (3, 3, 3, 3)
    assert dlbcl.geometries == (0, 0, 0, 0)
    assert dlbcl.dropconnect == (0.0,) * 4
    assert dlbcl.z_snapping == "None" and dlbcl.z_ranges == ()
    assert dlbcl.group_normalization == 2 and dlbcl.label_smoothing
    assert not dlbcl.weights_standardize and not dlbcl.shift_scale
    assert not dlbcl.dropconnect_on and not dlbcl.spatial_dropout and not dlbcl.absolute_z
    assert dlbcl.init_type == 0 and dlbcl.distance_threshold == -1.0
    assert dlbcl.weight_min <= dlbcl.weight_max
    assert dlbcl.n_shift_scale_genes == 0
    # without shift-scale the stored group scale/shift are the neutral 1 / 0
    assert all(g[1] == 1.0 and g[2] == 0.0 for layer in dlbcl.groups for g in layer)


def test_hecktor_structure(hecktor: AuthorsModelFile) -> None:
    assert len(hecktor.feature_names) == 36
    assert hecktor.feature_names[0] == "CenterID"
    assert hecktor.layer_sizes == (36, 180, 2)
    assert hecktor.group_counts == (22,)
    assert hecktor.genome.shape == (1242,)
    assert hecktor.class_labels == ("0", "1")
    assert hecktor.activations == (1, 1, 1)
    assert hecktor.weights_standardize and hecktor.shift_scale and hecktor.dropconnect_on
    assert hecktor.group_normalization == 2
    assert hecktor.dropconnect == (0.0,) * 3
    assert hecktor.n_shift_scale_genes == 48


def test_hecktor_leading_genes_are_the_group_scale_shift(hecktor: AuthorsModelFile) -> None:
    stored = [v for layer in hecktor.groups[1:] for g in layer for v in (g[1], g[2])]
    assert len(stored) == 2 * (22 + 2) == hecktor.n_shift_scale_genes
    np.testing.assert_array_equal(hecktor.genome[: len(stored)], np.array(stored))


@pytest.mark.parametrize("name", [DLBCL, HECKTOR])
def test_groups_are_contiguous_blocks(name: str) -> None:
    m = read_authors_file(_model_dir(name) / "BestModel.bin")
    assert m.groups[0] == (((), 1.0, 0.0),)
    for layer, (size, count) in enumerate(zip(m.layer_sizes[1:-1], m.group_counts), start=1):
        assert count == max(1, size // 8)
        width = size // count
        bounds = [g * width for g in range(count)] + [size]
        want = [tuple(range(bounds[g], bounds[g + 1])) for g in range(count)]
        assert [g[0] for g in m.groups[layer]] == want
    assert [g[0] for g in m.groups[-1]] == [(k,) for k in range(m.layer_sizes[-1])]
    if name == DLBCL:
        assert [len(g[0]) for g in m.groups[1]] == [8] * 9 + [13]  # 85 -> 10 groups


@pytest.mark.parametrize("name", [DLBCL, HECKTOR])
def test_zero_leftover_and_byte_exact_rebuild(name: str) -> None:
    data = _bytes(name)
    r = af._Reader(data)
    af._parse(r)
    assert r.left == 0 and r.pos == len(data)
    m = read_authors_file(_model_dir(name) / "BestModel.bin")
    assert _write(m) == data
    assert is_authors_file(_model_dir(name) / "BestModel.bin")


@pytest.mark.parametrize(
    ("name", "acc"), [(DLBCL, 0.8409090909090909), (HECKTOR, 0.7027027027027027)]
)
def test_stored_test_metrics_match_result_log(name: str, acc: float) -> None:
    folder = _model_dir(name)
    m = read_authors_file(folder / "BestModel.bin")
    with open(folder / "ResultLog.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh, delimiter=";"))
    test = m.metrics("Test")
    assert test["ACC"] == acc
    for key in ("SNS", "SPC", "PPV", "NPV", "ACC", "EntropyLoss"):
        assert test[key] == pytest.approx(float(row[key]), rel=1e-12, abs=1e-15), key
    train = m.metrics("Train")
    assert set(train) == set(test) >= {"ACC", "BACC", "EntropyLoss", "SNS", "SPC"}
    assert m.metrics() == test
    assert set(m.metric_parts()) == {"Test", "Train"}
    with pytest.raises(AuthorsFileError, match="Perf_Validation_All") as info:
        m.metrics("Validation")
    assert "BestModel.bin" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", [DLBCL, HECKTOR])
def test_metadata_settings_match_settings_ini(name: str) -> None:
    folder = _model_dir(name)
    m = read_authors_file(folder / "BestModel.bin")
    assert m.metadata["Data|Fold"] == "1"
    assert m.metadata["Iteration-Final|Role"] == "BestModel"
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read(folder / "settings.ini")
    want = {
        f"{section}/{key.replace(chr(92), '/')}": value.strip('"')
        for section in ini.sections()
        for key, value in ini[section].items()
    }
    assert m.metadata["Settings"] == want


# Damaged and foreign files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [DLBCL, HECKTOR])
def test_truncated_copies(tmp_path: Path, name: str) -> None:
    data = _bytes(name)
    n = len(data)
    for cut in (1, 3, 4, 10, 100, n // 3, n // 2, n - 500, n - 9, n - 1):
        path = tmp_path / f"cut{cut}-BestModel.bin"
        path.write_bytes(data[:cut])
        msg = _assert_error(path)
        assert "truncated" in msg or "not a DEBI-NN 2025 model file" in msg or "length" in msg
        # the sniff reads only the first sections: a cut inside them is not a model file
        if cut <= 100:
            assert not is_authors_file(path)


@pytest.mark.parametrize("name", [DLBCL, HECKTOR])
def test_every_prefix_fails_cleanly(name: str) -> None:
    data = _bytes(name)
    for cut in [*range(0, 300), *range(300, len(data), 7)]:
        with pytest.raises(af._Corrupt):
            af._parse(af._Reader(data[:cut]))


def test_genome_truncation_message(tmp_path: Path) -> None:
    data = _bytes(HECKTOR)
    m = read_authors_file(_model_dir(HECKTOR) / "BestModel.bin")
    genome_at = _genome_offset(data, m)
    path = tmp_path / "cut-genome.bin"
    path.write_bytes(data[: genome_at + 4 + 8 * 100 + 3])
    msg = _assert_error(path, "truncated", "the genome")
    assert "at byte" in msg and "left" in msg


def test_empty_random_and_zip(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    _assert_error(empty, "not a DEBI-NN 2025 model file", "empty")
    assert not is_authors_file(empty)

    rng = np.random.default_rng(0)
    for i, size in enumerate((1, 5, 64, 1000, 20_000)):
        path = tmp_path / f"random{i}.bin"
        path.write_bytes(rng.bytes(size))
        _assert_error(path)
        assert not is_authors_file(path)

    zpath = tmp_path / "model.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("debinn-model.json", '{"format": "debinn-jax"}')
    _assert_error(zpath, "not a DEBI-NN 2025 model file")
    assert not is_authors_file(zpath)


def test_trailing_junk(tmp_path: Path) -> None:
    junk = tmp_path / "junk-BestModel.bin"
    junk.write_bytes(_bytes(DLBCL) + b"\x00junk")
    _assert_error(junk, "5 bytes left over")


def test_absurd_lengths_and_bad_strings(tmp_path: Path) -> None:
    cases = {
        "huge-features.bin": struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 64,
        "negative-features.bin": struct.pack(">i", -5) + b"\x00" * 64,
        "huge-string.bin": struct.pack(">iI", 1, 0x7FFFFFF0) + b"\x00" * 64,
        "odd-string.bin": struct.pack(">iI", 1, 3) + b"\x00" * 64,
        "surrogate.bin": struct.pack(">iI", 1, 2) + b"\xd8\x00" + b"\x00" * 64,
        "huge-layers.bin": struct.pack(">iI", 1, 2) + b"\x00A" + struct.pack(">i", 1 << 30),
        "no-layers.bin": struct.pack(">ii", 0, 0),
    }
    for fname, data in cases.items():
        path = tmp_path / fname
        path.write_bytes(data)
        _assert_error(path, "not a DEBI-NN 2025 model file")
        assert not is_authors_file(path)

    # a huge genome count deep inside a real file
    data = _bytes(DLBCL)
    m = read_authors_file(_model_dir(DLBCL) / "BestModel.bin")
    at = _genome_offset(data, m)
    assert struct.unpack_from(">i", data, at)[0] == 951
    path = tmp_path / "huge-genome.bin"
    path.write_bytes(data[:at] + struct.pack(">i", 0x7FFFFFFF) + data[at + 4 :])
    _assert_error(path, "the genome", "2147483647")


def test_inconsistent_files(tmp_path: Path, dlbcl: AuthorsModelFile) -> None:
    bad = {
        "labels": ({"class_labels": ("0", "1", "2")}, "class labels"),
        "genome": ({"genome": dlbcl.genome[:-1]}, "genome of 950 genes, expected 951"),
        "shiftscale": ({"shift_scale": True}, "expected 991"),
        "activations": ({"activations": (1, 1, 1)}, "activations"),
        "groupcounts": ({"group_counts": (10,)}, "group counts"),
        "dropconnect": ({"dropconnect": (0.0,)}, "DropConnect"),
        "groupnorm": ({"group_normalization": 7}, "group normalisation"),
        "features": ({"feature_names": dlbcl.feature_names[:-1]}, "16 feature names"),
        "partition": (
            {"groups": (dlbcl.groups[0], dlbcl.groups[1][:-1], *dlbcl.groups[2:])},
            "layer 1 has 9 groups",
        ),
    }
    for name, (changes, fragment) in bad.items():
        path = tmp_path / f"{name}-BestModel.bin"
        path.write_bytes(_write(dlbcl, **changes))
        _assert_error(path, fragment)


def test_metadata_variants(tmp_path: Path, dlbcl: AuthorsModelFile) -> None:
    meta = {"b": True, "i": -3, "d": 0.25, "s": "x", "l": [1, "a", [2.5]], "m": {"k": "v"}}
    path = tmp_path / "variants-BestModel.bin"
    path.write_bytes(_write(dlbcl, metadata=meta))
    assert read_authors_file(path).metadata == meta

    # unknown QVariant type id (7 = QChar) and unknown user type
    data = bytearray(_write(dlbcl, metadata={"s": "x"}))
    at = len(data) - (4 + 1 + 4 + 2)  # type id of the single value
    assert struct.unpack_from(">I", data, at)[0] == 10
    struct.pack_into(">I", data, at, 7)
    path = tmp_path / "qchar-BestModel.bin"
    path.write_bytes(bytes(data))
    _assert_error(path, "unsupported QVariant type id 7")

    data = _write(dlbcl, metadata={"p": {"ACC": 0.5}})
    data = data.replace(b"QMap<QString,double>", b"QMap<QString,float> ")
    path = tmp_path / "usertype-BestModel.bin"
    path.write_bytes(data)
    _assert_error(path, "unsupported QVariant user type", "QMap<QString,float>")

    # a deeply nested list must not hit Python's recursion limit
    w = _Writer()
    for _ in range(5000):
        w.raw(">IBI", 9, 0, 1)
    w.raw(">IBi", 2, 0, 1)
    data = _write(dlbcl, metadata={})[:-4] + struct.pack(">I", 1)
    w2 = _Writer()
    w2.qstring("deep")
    path = tmp_path / "deep-BestModel.bin"
    path.write_bytes(data + w2.out.getvalue() + w.out.getvalue())
    _assert_error(path, "nesting")


def test_is_authors_file_false_cases(tmp_path: Path) -> None:
    assert not is_authors_file(tmp_path / "missing.bin")
    assert not is_authors_file(tmp_path)
    text = tmp_path / "settings.ini"
    text.write_text("[Model]\nShiftScaleOptimize=true\n")
    assert not is_authors_file(text)
    with pytest.raises(AuthorsFileError, match="missing.bin: cannot read"):
        read_authors_file(tmp_path / "missing.bin")


@pytest.mark.parametrize("name", [DLBCL, HECKTOR])
def test_random_byte_changes_raise_only_authors_file_errors(name: str) -> None:
    data = _bytes(name)
    rng = np.random.default_rng(7)
    for _ in range(500):
        b = bytearray(data)
        for i in rng.integers(0, len(b), size=rng.integers(1, 4)):
            b[i] = int(rng.integers(256))
        try:
            af._parse(af._Reader(bytes(b)))
        except af._Corrupt:
            pass
