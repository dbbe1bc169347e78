"""Reader for the model files of the authors' 2025 DEBI-NN program (``*BestModel.bin``).

The file is a Qt ``QDataStream`` (stream version Qt 4.5: big-endian, int32 container lengths,
IEEE big-endian doubles, a QString is an int32 byte length (``0xFFFFFFFF`` = null) followed by
UTF-16BE, a bool is one byte). Its layout is described in ``DEBINN-2025.md`` section 6; in order:
feature names, layer sizes, per-layer activation / distance kernel / geometry, the group count per
hidden layer, the neuron groups (indices, scale, shift) of every layer, the z snapping method, the
DropConnect probabilities, the genome, the z ranges, the class labels, a run of flags and numbers
and finally a ``QVariantMap`` of metadata (fold, settings, stored train/test metrics).

:func:`read_authors_file` parses a file into an :class:`AuthorsModelFile` and checks that it is
consistent (feature count = input size, one activation/kernel/geometry/DropConnect entry per
layer, the groups partition each layer, the genome length fits the architecture, one class label
per output neuron, no bytes left over). Anything wrong - a truncated, empty or foreign file, an
absurd container length, bad UTF-16, an unknown ``QVariant`` type - raises
:class:`AuthorsFileError`, a ``ValueError`` with a one-line message naming the file.
:func:`is_authors_file` is a cheap sniff that never raises.

Pure Python plus numpy; no JAX import.
"""

from __future__ import annotations

import dataclasses
import os
import re
import struct
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "ACTIVATION_NAMES",
    "GROUP_NORMALIZATION_NAMES",
    "AuthorsFileError",
    "AuthorsModelFile",
    "describe_content",
    "is_authors_file",
    "read_authors_file",
]

T = TypeVar("T")

#: Activation codes of the 2025 program.
ACTIVATION_NAMES = {0: "ReLU", 1: "LReLU", 2: "Sigmoid", 3: "Tanh"}
#: Group normalisation codes of the 2025 program.
GROUP_NORMALIZATION_NAMES = {0: "None", 1: "InputSignal", 2: "Activation"}

_NULL_LEN = 0xFFFFFFFF
_MAX_VARIANT_DEPTH = 64
_SNIFF_BYTES = 4 << 20
_MAX_LAYER_SIZE = 10_000_000

# QVariant type ids (Qt 4 / Qt 5 share these).
_QV_BOOL, _QV_INT, _QV_UINT, _QV_LONGLONG, _QV_ULONGLONG, _QV_DOUBLE = 1, 2, 3, 4, 5, 6
_QV_MAP, _QV_LIST, _QV_STRING, _QV_STRINGLIST, _QV_USER = 8, 9, 10, 11, 127
_USER_MAP_STRING_DOUBLE = "QMap<QString,double>"


class AuthorsFileError(ValueError):
    """A 2025 DEBI-NN model file that cannot be read; the message is one line naming the file."""


class _Corrupt(Exception):
    """Internal: a parse failure, turned into :class:`AuthorsFileError` at the top level."""


def _one_line(text: str) -> str:
    """Collapse ``text`` to one line (file names or strings from the file may hold newlines)."""
    return " ".join(str(text).split())


class _Reader:
    """A cursor over the bytes of a QDataStream; every read checks the bytes left."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.section = "the file"

    @property
    def left(self) -> int:
        """Bytes not yet read."""
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes; truncation raises."""
        if n > self.left:
            raise _Corrupt(
                f"truncated at byte {self.pos} while reading {self.section} "
                f"(expected {n} bytes, {self.left} left)"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt: str, n: int) -> Any:
        return struct.unpack(fmt, self.take(n))[0]

    def int32(self) -> int:
        """A big-endian signed 32-bit integer."""
        return self._unpack(">i", 4)

    def uint32(self) -> int:
        """A big-endian unsigned 32-bit integer."""
        return self._unpack(">I", 4)

    def int64(self) -> int:
        """A big-endian signed 64-bit integer."""
        return self._unpack(">q", 8)

    def uint64(self) -> int:
        """A big-endian unsigned 64-bit integer."""
        return self._unpack(">Q", 8)

    def double(self) -> float:
        """A big-endian IEEE double."""
        return self._unpack(">d", 8)

    def bool_(self) -> bool:
        """A one-byte bool (0 or 1; anything else is corrupt)."""
        at = self.pos
        b = self.take(1)[0]
        if b > 1:
            raise _Corrupt(f"bad bool byte {b} at byte {at} while reading {self.section}")
        return bool(b)

    def count(self, min_item_bytes: int, *, unsigned: bool = False) -> int:
        """A container length, checked against the bytes left (``min_item_bytes`` per item)."""
        at = self.pos
        n = self.uint32() if unsigned else self.int32()
        if n < 0:
            raise _Corrupt(f"negative length {n} at byte {at} while reading {self.section}")
        if n * min_item_bytes > self.left:
            raise _Corrupt(
                f"truncated at byte {at} while reading {self.section} (a length of {n} needs "
                f"at least {n * min_item_bytes} bytes, {self.left} left)"
            )
        return n

    def qstring(self) -> str | None:
        """A QString: uint32 byte length (``0xFFFFFFFF`` = null, returned as None) + UTF-16BE."""
        at = self.pos
        n = self.uint32()
        if n == _NULL_LEN:
            return None
        if n % 2:
            raise _Corrupt(f"odd string byte length {n} at byte {at} while reading {self.section}")
        if n > self.left:
            raise _Corrupt(
                f"string length {n} at byte {at} while reading {self.section} exceeds the "
                f"{self.left} bytes left"
            )
        raw = self.take(n)
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise _Corrupt(f"bad UTF-16 at byte {at} while reading {self.section}") from exc

    def qbytearray(self) -> bytes | None:
        """A QByteArray: uint32 length (``0xFFFFFFFF`` = null, returned as None) + bytes."""
        at = self.pos
        n = self.uint32()
        if n == _NULL_LEN:
            return None
        if n > self.left:
            raise _Corrupt(
                f"byte-array length {n} at byte {at} while reading {self.section} exceeds the "
                f"{self.left} bytes left"
            )
        return self.take(n)

    def list_of(self, fn: Callable[[], T], min_item_bytes: int) -> list[T]:
        """A QList: int32 count then ``count`` items read by ``fn``."""
        return [fn() for _ in range(self.count(min_item_bytes))]

    def int_list(self) -> tuple[int, ...]:
        """A QList<int>."""
        return tuple(self.list_of(self.int32, 4))

    def double_array(self) -> np.ndarray:
        """A QList<double> as a float64 array (one bulk read)."""
        n = self.count(0)
        if 8 * n > self.left:
            raise _Corrupt(
                f"truncated at byte {self.pos} while reading {self.section} ({n} doubles: "
                f"expected {8 * n} bytes, {self.left} left)"
            )
        return np.frombuffer(self.take(8 * n), dtype=">f8").astype(np.float64)

    def string_list(self, what: str) -> tuple[str, ...]:
        """A QStringList whose entries may not be null."""
        out = []
        for i, s in enumerate(self.list_of(self.qstring, 4)):
            if s is None:
                raise _Corrupt(f"null string at position {i} of {what}")
            out.append(s)
        return tuple(out)

    # QVariant -----------------------------------------------------------------------------------

    def variant_map(self, depth: int = 0) -> dict[str, Any]:
        """A QVariantMap: uint32 count, then (QString key, QVariant value) pairs."""
        n = self.count(4 + 5, unsigned=True)
        out: dict[str, Any] = {}
        for _ in range(n):
            at = self.pos
            key = self.qstring()
            if key is None:
                raise _Corrupt(f"null map key at byte {at} while reading {self.section}")
            if key in out:
                raise _Corrupt(
                    f"duplicate map key {key!r} at byte {at} while reading {self.section}"
                )
            out[key] = self.variant(depth + 1)
        return out

    def variant(self, depth: int) -> Any:
        """A QVariant: uint32 type id, one-byte null flag, then the value."""
        if depth > _MAX_VARIANT_DEPTH:
            raise _Corrupt(f"QVariant nesting deeper than {_MAX_VARIANT_DEPTH} in {self.section}")
        at = self.pos
        type_id = self.uint32()
        self.bool_()  # the null flag; the value follows either way
        if type_id == _QV_BOOL:
            return self.bool_()
        if type_id == _QV_INT:
            return self.int32()
        if type_id == _QV_UINT:
            return self.uint32()
        if type_id == _QV_LONGLONG:
            return self.int64()
        if type_id == _QV_ULONGLONG:
            return self.uint64()
        if type_id == _QV_DOUBLE:
            return self.double()
        if type_id == _QV_MAP:
            return self.variant_map(depth)
        if type_id == _QV_LIST:
            return [self.variant(depth + 1) for _ in range(self.count(5, unsigned=True))]
        if type_id == _QV_STRING:
            return self.qstring()
        if type_id == _QV_STRINGLIST:
            return list(self.string_list(self.section))
        if type_id == _QV_USER:
            return self.user_variant(at)
        raise _Corrupt(f"unsupported QVariant type id {type_id} at byte {at} in {self.section}")

    def user_variant(self, at: int) -> Any:
        """The value of a user-type QVariant (only ``QMap<QString,double>`` is known)."""
        raw = self.qbytearray()
        name = (raw or b"").rstrip(b"\x00").decode("latin-1")
        if name != _USER_MAP_STRING_DOUBLE:
            raise _Corrupt(
                f"unsupported QVariant user type {name!r} at byte {at} in {self.section}"
            )
        out: dict[str, float] = {}
        for _ in range(self.count(4 + 8, unsigned=True)):
            key_at = self.pos
            key = self.qstring()
            if key is None:
                raise _Corrupt(f"null map key at byte {key_at} while reading {self.section}")
            out[key] = self.double()
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class AuthorsModelFile:
    """The content of one 2025 DEBI-NN ``*BestModel.bin`` (see the module docstring).

    ``groups[l]`` holds, for layer ``l``, one ``(indices, scale, shift)`` per group (0-based
    indices local to the layer; the input layer has one empty group, each output neuron is its
    own group). ``genome`` is a read-only float64 array in the order of ``DEBINN-2025.md``
    section 1 (the scale/shift genes first when ``shift_scale``). Equality is identity.
    """

    path: str
    feature_names: tuple[str, ...]
    layer_sizes: tuple[int, ...]
    activations: tuple[int, ...]
    kernels: tuple[int, ...]
    geometries: tuple[int, ...]
    group_counts: tuple[int, ...]
    groups: tuple[tuple[tuple[tuple[int, ...], float, float], ...], ...]
    z_snapping: str | None
    dropconnect: tuple[float, ...]
    genome: np.ndarray
    z_ranges: tuple[tuple[float, float], ...]
    class_labels: tuple[str, ...]
    realigned: bool
    weights_standardize: bool
    group_normalization: int
    shift_scale: bool
    label_smoothing: bool
    weight_min: float
    weight_max: float
    distance_threshold: float
    inference_mode: bool
    dropconnect_on: bool
    spatial_dropout: bool
    init_type: int
    absolute_z: bool
    metadata: dict

    @property
    def n_shift_scale_genes(self) -> int:
        """Number of leading scale/shift genes (0 without ShiftScaleOptimize)."""
        return 2 * (sum(self.group_counts) + self.layer_sizes[-1]) if self.shift_scale else 0

    def metric_parts(self) -> tuple[str, ...]:
        """The parts with stored final metrics (e.g. ``("Test", "Train")``)."""
        parts = []
        for key in self.metadata:
            if key.startswith("Iteration-Final|Perf_") and key.endswith("_All"):
                parts.append(key[len("Iteration-Final|Perf_") : -len("_All")])
        return tuple(parts)

    def metrics(self, part: str = "Test") -> dict[str, float]:
        """The stored ``Iteration-Final|Perf_<part>_All`` metrics (``part`` "Test" or "Train")."""
        key = f"Iteration-Final|Perf_{part}_All"
        value = self.metadata.get(key)
        if not isinstance(value, dict):
            what = "has no" if value is None else "has a non-map"
            raise AuthorsFileError(
                _one_line(
                    f"{os.path.basename(self.path)}: {what} metadata entry {key!r} "
                    f"(stored metric parts: {list(self.metric_parts())})"
                )
            )
        return {str(k): float(v) for k, v in value.items()}


def _expected_genome_length(
    layer_sizes: tuple[int, ...], group_counts: tuple[int, ...], shift_scale: bool
) -> int:
    """3 N_in + 6 sum(hidden) + 3 K (+ 2 (sum(groups) + K) with ShiftScaleOptimize)."""
    n_in, hidden, k = layer_sizes[0], layer_sizes[1:-1], layer_sizes[-1]
    n = 3 * n_in + 6 * sum(hidden) + 3 * k
    if shift_scale:
        n += 2 * (sum(group_counts) + k)
    return n


def _read_groups(r: _Reader, n_layers: int) -> list[list[tuple[tuple[int, ...], float, float]]]:
    """Section 5: per layer, a QList of (QList<int> indices, double scale, double shift)."""

    def group() -> tuple[tuple[int, ...], float, float]:
        return r.int_list(), r.double(), r.double()

    at = r.pos
    n = r.count(4)
    if n != n_layers:
        raise _Corrupt(f"{n} layers of groups at byte {at}, expected {n_layers}")
    return [r.list_of(group, 4 + 16) for _ in range(n)]


def _check_groups(
    groups: list[list[tuple[tuple[int, ...], float, float]]],
    layer_sizes: tuple[int, ...],
    group_counts: tuple[int, ...],
) -> None:
    """The groups fit the layers: input one empty group; hidden a partition; output singletons."""
    if len(groups[0]) != 1 or groups[0][0][0]:
        raise _Corrupt("the input layer's groups are not one group without neurons")
    for layer in range(1, len(layer_sizes)):
        size, layer_groups = layer_sizes[layer], groups[layer]
        is_output = layer == len(layer_sizes) - 1
        want = size if is_output else group_counts[layer - 1]
        if len(layer_groups) != want:
            raise _Corrupt(f"layer {layer} has {len(layer_groups)} groups, expected {want}")
        indices = [i for g in layer_groups for i in g[0]]
        if sorted(indices) != list(range(size)):
            raise _Corrupt(f"the groups of layer {layer} do not partition its {size} neurons")
        if is_output and any(len(g[0]) != 1 for g in layer_groups):
            raise _Corrupt("the output neurons are not one group each")


_MAGIC = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x93NUMPY", "a numpy .npy array"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file (.xls/.doc)"),
    (b"SQLite format 3", "an SQLite database"),
)


def _text_kind(text: str) -> str:
    """What a text looks like, from its first lines: CSV, JSON, HTML/XML, INI or plain text."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "blank text"
    first = lines[0]
    shown = first if len(first) <= 60 else first[:57] + "..."
    ini_section = re.fullmatch(r"\[[A-Za-z0-9_ .:/\\-]+\]", first) is not None
    if first.startswith("{") or (first.startswith("[") and not ini_section):
        return f"JSON text (first line {shown!r})"
    if first.startswith("<"):
        return f"HTML/XML text (first line {shown!r})"
    for sep, name in ((";", "';'"), (",", "','"), ("\t", "tab")):
        n = first.count(sep)
        if n >= 1 and all(ln.count(sep) == n for ln in lines[1:6]):
            return f"CSV text separated by {name}, {n + 1} columns (first line {shown!r})"
    if ini_section:
        return f"INI text (first line {shown!r})"
    return f"text (first line {shown!r})"


def describe_content(data: bytes) -> tuple[str, bool]:
    """What the first bytes of a file look like, for messages about a file of the wrong kind.

    Args:
        data: the file's first bytes (a few KiB are enough).

    Returns:
        ``(description, foreign)``: e.g. ``("CSV text separated by ';', 18 columns (first line
        'Key;...')", True)``; ``foreign`` is True when the bytes are clearly another kind of
        file (text, an archive, an image, empty), False for unrecognised binary data (which
        may be a damaged model file).
    """
    if not data:
        return "an empty file", True
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name, True
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16 text", True
    head = data[:4096]
    if b"\x00" not in head:
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            # a multi-byte character cut at the end of the sample is still text
            text = head[: err.start].decode("utf-8-sig") if err.start > len(head) - 4 else ""
        if text and all(c.isprintable() or c in "\r\n\t" for c in text):
            return _text_kind(text), True
    shown = " ".join(f"{b:02x}" for b in data[:8])
    return f"binary data of an unknown kind (first bytes {shown})", False


def _parse(r: _Reader) -> dict[str, Any]:
    """Parse all sections into the fields of :class:`AuthorsModelFile` (except ``path``)."""
    f: dict[str, Any] = {}
    if r.left == 0:
        raise _Corrupt("not a DEBI-NN 2025 model file (empty file)")
    kind, foreign = describe_content(r.data[:4096])
    if foreign:
        raise _Corrupt(
            f"not a DEBI-NN 2025 model file of the authors' program (a *BestModel.bin): it "
            f"looks like {kind}"
        )
    try:
        r.section = "the feature names"
        f["feature_names"] = r.string_list("the feature names")
        r.section = "the layer sizes"
        f["layer_sizes"] = sizes = r.int_list()
        if len(sizes) < 2 or any(not 0 < s <= _MAX_LAYER_SIZE for s in sizes):
            raise _Corrupt(f"implausible layer sizes {list(sizes[:8])}")
        if len(f["feature_names"]) != sizes[0]:
            raise _Corrupt(
                f"{len(f['feature_names'])} feature names for an input layer of {sizes[0]}"
            )
    except _Corrupt as exc:
        raise _Corrupt(f"not a DEBI-NN 2025 model file ({exc})") from None
    n_layers = len(sizes)
    for name, what in (
        ("activations", "the activations"),
        ("kernels", "the distance kernels"),
        ("geometries", "the geometries"),
    ):
        r.section = what
        f[name] = r.int_list()
        if len(f[name]) != n_layers:
            raise _Corrupt(f"{len(f[name])} entries in {what}, expected one per layer ({n_layers})")
    r.section = "the group counts"
    f["group_counts"] = r.int_list()
    if len(f["group_counts"]) != n_layers - 2:
        raise _Corrupt(
            f"{len(f['group_counts'])} group counts, expected one per hidden layer ({n_layers - 2})"
        )
    r.section = "the neuron groups"
    groups = _read_groups(r, n_layers)
    _check_groups(groups, sizes, f["group_counts"])
    f["groups"] = tuple(tuple(layer) for layer in groups)
    r.section = "the z snapping method"
    f["z_snapping"] = r.qstring()
    r.section = "the DropConnect probabilities"
    f["dropconnect"] = tuple(float(x) for x in r.double_array())
    if len(f["dropconnect"]) != n_layers:
        raise _Corrupt(
            f"{len(f['dropconnect'])} DropConnect probabilities, expected one per layer "
            f"({n_layers})"
        )
    r.section = "the genome"
    genome = r.double_array()
    genome.setflags(write=False)
    f["genome"] = genome
    r.section = "the z ranges"
    f["z_ranges"] = tuple(r.list_of(lambda: (r.double(), r.double()), 16))
    r.section = "the class labels"
    f["class_labels"] = r.string_list("the class labels")
    if len(f["class_labels"]) != sizes[-1]:
        raise _Corrupt(f"{len(f['class_labels'])} class labels for {sizes[-1]} output neurons")
    r.section = "the regulariser flags"
    f["realigned"] = r.bool_()
    f["weights_standardize"] = r.bool_()
    f["group_normalization"] = r.int32()
    f["shift_scale"] = r.bool_()
    f["label_smoothing"] = r.bool_()
    if f["group_normalization"] not in GROUP_NORMALIZATION_NAMES:
        raise _Corrupt(f"unknown group normalisation code {f['group_normalization']}")
    r.section = "the weight range and distance threshold"
    f["weight_min"] = r.double()
    f["weight_max"] = r.double()
    f["distance_threshold"] = r.double()
    r.section = "the mode flags"
    f["inference_mode"] = r.bool_()
    f["dropconnect_on"] = r.bool_()
    f["spatial_dropout"] = r.bool_()
    f["init_type"] = r.int32()
    f["absolute_z"] = r.bool_()
    r.section = "the metadata"
    f["metadata"] = r.variant_map()
    if r.left:
        raise _Corrupt(f"{r.left} bytes left over after the metadata (at byte {r.pos})")
    want = _expected_genome_length(sizes, f["group_counts"], f["shift_scale"])
    if genome.size != want:
        raise _Corrupt(
            f"genome of {genome.size} genes, expected {want} for layers {list(sizes)}"
            f"{' with' if f['shift_scale'] else ' without'} shift-scale genes"
        )
    return f


def read_authors_file(path: str | os.PathLike[str]) -> AuthorsModelFile:
    """Read and check a 2025 DEBI-NN ``*BestModel.bin``; any problem raises AuthorsFileError."""
    path_str = os.fspath(path)
    name = _one_line(os.path.basename(path_str) or path_str)
    try:
        with open(path_str, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise AuthorsFileError(_one_line(f"{name}: cannot read ({exc.strerror or exc})")) from None
    try:
        fields = _parse(_Reader(data))
    except _Corrupt as exc:
        raise AuthorsFileError(_one_line(f"{name}: {exc}")) from None
    except (RecursionError, MemoryError, struct.error, ValueError, IndexError) as exc:
        # Defensive: the reader checks lengths first, so none of these is expected.
        raise AuthorsFileError(
            _one_line(f"{name}: unreadable ({type(exc).__name__}: {exc})")
        ) from None
    return AuthorsModelFile(path=path_str, **fields)


def is_authors_file(path: str | os.PathLike[str]) -> bool:
    """Cheap sniff: do the file's first sections read as plausible DEBI-NN 2025 ones?

    Reads at most a few MiB: the feature names, the layer sizes (at least two, matching the
    feature count) and the three per-layer lists. Never raises.
    """
    try:
        with open(os.fspath(path), "rb") as fh:
            data = fh.read(_SNIFF_BYTES)
        r = _Reader(data)
        features = r.string_list("the feature names")
        sizes = r.int_list()
        if len(sizes) < 2 or any(not 0 < s <= _MAX_LAYER_SIZE for s in sizes):
            return False
        if len(features) != sizes[0]:
            return False
        return all(len(r.int_list()) == len(sizes) for _ in range(3))
    except Exception:
        return False
