"""The authors' 2025 program's model files and settings, as debinn-jax objects.

:func:`load_authors_model` turns a ``*BestModel.bin`` (parsed by
:mod:`debinn_jax.authors_file`) into a :class:`~debinn_jax.network.NetworkSpec` of the 2025
variant, a coordinate pytree, the feature names, the class labels (in the file's output order)
and the stored metrics; :meth:`AuthorsModel.trained_model` wraps it as a
:class:`~debinn_jax.io.TrainedModel` for prediction (features go in raw, as in the authors'
program). The gene order of the authors' flat genome (DEBINN-2025.md section 1) is handled by
:func:`genome_to_coords` / :func:`coords_to_genome`.

Files with settings the library does not implement (input-signal normalisation,
``LabelSmoothing=false``, other kernels or geometries, z snapping, absolute z coordinates,
non-zero DropConnect probabilities, groups that are not contiguous blocks) are refused with
one line naming the setting; nothing is half-loaded.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from debinn_jax.authors_file import AuthorsFileError, AuthorsModelFile, read_authors_file
from debinn_jax.loss import LossConfig
from debinn_jax.network import Coords, NetworkSpec

#: The 2025 program's activation codes, as NetworkSpec activations.
ACTIVATIONS_2025 = {0: "relu", 1: "lrelu", 2: "sigmoid", 3: "tanh"}
#: Distance kernel code of ``GaussianConst`` (the only one implemented).
GAUSSIAN_CONST = 3
NORMALIZATION_CODES = {0: "none", 2: "activation"}


class UnsupportedModelError(AuthorsFileError):
    """A well-formed authors' model file whose settings debinn-jax does not implement."""


@dataclasses.dataclass(frozen=True)
class AuthorsModel:
    """A published model of the authors' 2025 program, ready to run with :func:`apply`.

    Attributes:
        spec: the network (2025 variant).
        coords: coordinate pytree (float64 numpy arrays).
        feature_names: input features in network order (columns are matched by name).
        class_labels: class labels in output order (the program's sorted label strings).
        metrics: stored metrics per part, ``{"Test": {...}, "Train": {...}}`` (ACC, BACC,
            EntropyLoss, SNS, SPC, PPV, NPV, ...) as the program wrote them.
        settings: the program's settings (``Model/...``, ``Regularizer/...`` keys -> strings).
        loss: the fitness configuration the model was trained with (L1/L2 from settings).
        source: the file it was read from.
    """

    spec: NetworkSpec
    coords: Coords
    feature_names: tuple[str, ...]
    class_labels: tuple[str, ...]
    metrics: dict[str, dict[str, float]]
    settings: dict[str, str]
    loss: LossConfig
    source: str

    def trained_model(self) -> Any:
        """This model as a :class:`~debinn_jax.io.TrainedModel` (no standardisation)."""
        from debinn_jax.io import TrainedModel

        return TrainedModel(
            spec=self.spec,
            coords=self.coords,
            classes=np.asarray(self.class_labels),
            feature_names=self.feature_names,
            standardizer=None,
            metadata={
                "trainer": "authors-2025",
                "source": self.source,
                "stored_metrics": self.metrics,
                "settings": self.settings,
                "loss": dataclasses.asdict(self.loss),
            },
        )


# --------------------------------------------------------------------------------------------
# gene order


def _genome_layout(spec: NetworkSpec) -> list[tuple[int, str, tuple[int, ...]]]:
    """``(layer, leaf, shape)`` blocks in the authors' genome order (DEBINN-2025.md section 1).

    Hidden layers interleave soma and axon per neuron; that is handled by the callers, which
    treat a hidden layer's ``("soma+axon")`` block as ``(n, 6)``.
    """
    sizes = spec.layer_sizes
    groups = spec.group_counts()
    blocks: list[tuple[int, str, tuple[int, ...]]] = []
    if spec.shift_scale:
        for l in range(1, len(sizes)):
            blocks.append((l, "scale+shift", (groups[l - 1], 2)))
    blocks.append((0, "axon", (sizes[0], 3)))
    for l in range(1, len(sizes) - 1):
        blocks.append((l, "soma+axon", (sizes[l], 6)))
    blocks.append((len(sizes) - 1, "soma", (sizes[-1], 3)))
    return blocks


def genome_length(spec: NetworkSpec) -> int:
    """Number of genes of the authors' flat genome for ``spec`` (= ``param_count``)."""
    return sum(int(np.prod(shape)) for _, _, shape in _genome_layout(spec))


def genome_to_coords(spec: NetworkSpec, genome: Any) -> Coords:
    """The authors' flat genome ``(G,)`` -> a coordinate pytree of ``spec`` (numpy, float64).

    Order: [per non-input layer, per group: scale, shift] (with shift-scale), each input
    neuron's axon (x, y, z), per hidden layer and neuron soma (x, y, z) then axon (x, y, z),
    each output neuron's soma (x, y, z).
    """
    genome = np.asarray(genome, np.float64)
    if genome.ndim != 1 or genome.size != genome_length(spec):
        raise ValueError(
            f"genome has shape {genome.shape}, the network {spec.layer_sizes} needs "
            f"({genome_length(spec)},)"
        )
    layers: list[dict[str, np.ndarray]] = [{} for _ in spec.layer_sizes]
    at = 0
    for l, leaf, shape in _genome_layout(spec):
        n = int(np.prod(shape))
        block = genome[at : at + n].reshape(shape)
        at += n
        if leaf == "scale+shift":
            layers[l]["scale"], layers[l]["shift"] = block[:, 0].copy(), block[:, 1].copy()
        elif leaf == "soma+axon":
            layers[l]["soma"], layers[l]["axon"] = block[:, :3].copy(), block[:, 3:].copy()
        else:
            layers[l][leaf] = block.copy()
    return tuple(layers)


def coords_to_genome(spec: NetworkSpec, coords: Coords) -> np.ndarray:
    """Inverse of :func:`genome_to_coords`: a coordinate pytree -> the flat genome ``(G,)``."""
    parts = []
    for l, leaf, _ in _genome_layout(spec):
        layer = coords[l]
        if leaf == "scale+shift":
            block = np.stack([np.asarray(layer["scale"]), np.asarray(layer["shift"])], axis=1)
        elif leaf == "soma+axon":
            block = np.concatenate([np.asarray(layer["soma"]), np.asarray(layer["axon"])], axis=1)
        else:
            block = np.asarray(layer[leaf])
        parts.append(block.astype(np.float64).ravel())
    return np.concatenate(parts)


# --------------------------------------------------------------------------------------------
# model files


def _refuse(path: str, what: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"{path}: {what} is not supported by debinn-jax")


def _hidden_activation(f: AuthorsModelFile) -> str:
    codes = set(f.activations[1:-1])
    if not codes:
        return "lrelu"
    if len(codes) > 1:
        raise _refuse(f.path, f"a different activation per hidden layer {f.activations[1:-1]}")
    code = codes.pop()
    if code not in ACTIVATIONS_2025:
        raise _refuse(f.path, f"activation code {code}")
    return ACTIVATIONS_2025[code]


def _check_supported(f: AuthorsModelFile) -> None:
    """Raise :class:`UnsupportedModelError` for every setting this library does not implement."""
    p = f.path
    if f.group_normalization not in NORMALIZATION_CODES:
        raise _refuse(p, f"GroupNormalization code {f.group_normalization} (InputSignal)")
    if not f.label_smoothing:
        raise _refuse(p, "LabelSmoothing=false (a head on output activations)")
    if any(k != GAUSSIAN_CONST for k in f.kernels):
        raise _refuse(p, f"distance kernel codes {f.kernels} (only GaussianConst = 3)")
    if any(g != 0 for g in f.geometries):
        raise _refuse(p, f"geometry codes {f.geometries} (only Euclidean = 0)")
    if f.z_snapping not in (None, "", "None"):
        raise _refuse(p, f"LayerZSnappingMethod={f.z_snapping}")
    if f.z_ranges:
        raise _refuse(p, "z ranges (LayerZSnappingMethod)")
    if f.absolute_z:
        raise _refuse(p, "AbsoluteZCoordinates=true")
    if any(q != 0 for q in f.dropconnect):
        raise _refuse(p, f"non-zero DropConnect probabilities {f.dropconnect}")
    if f.distance_threshold != -1 and not f.spatial_dropout:
        raise _refuse(p, f"a distance threshold of {f.distance_threshold} without SpatialDropout")


def _check_groups(f: AuthorsModelFile, spec: NetworkSpec, coords: Coords) -> None:
    """The file's groups must be the contiguous blocks of :func:`group_index`, with the
    genome's scale/shift values (or 1/0 without shift-scale)."""
    counts = spec.group_counts()
    for l in range(1, len(spec.layer_sizes)):
        n, g = spec.layer_sizes[l], counts[l - 1]
        block = n // g
        expected = [tuple(range(i * block, n if i == g - 1 else (i + 1) * block)) for i in range(g)]
        groups = f.groups[l]
        if [tuple(idx) for idx, _, _ in groups] != expected:
            raise _refuse(f.path, f"the neuron groups of layer {l} (not contiguous blocks)")
        scales = np.array([s for _, s, _ in groups])
        shifts = np.array([t for _, _, t in groups])
        if spec.shift_scale:
            ok = np.array_equal(scales, coords[l]["scale"]) and np.array_equal(
                shifts, coords[l]["shift"]
            )
            if not ok:
                raise AuthorsFileError(
                    f"{f.path}: layer {l}'s group scale/shift values differ from the genome's"
                )
        elif l < len(spec.layer_sizes) - 1 and (np.any(scales != 1) or np.any(shifts != 0)):
            raise _refuse(f.path, f"fixed group scale/shift values in layer {l}")


def spec_of_file(f: AuthorsModelFile) -> NetworkSpec:
    """The :class:`NetworkSpec` (2025 variant) of a parsed model file."""
    _check_supported(f)
    sizes = f.layer_sizes
    return NetworkSpec(
        n_inputs=sizes[0],
        hidden=tuple(sizes[1:-1]),
        n_classes=sizes[-1],
        kernel="gaussian_2025",
        activation=_hidden_activation(f),
        head="reference",
        standardize_weights=f.weights_standardize,
        normalization=NORMALIZATION_CODES[f.group_normalization],
        shift_scale=f.shift_scale,
        groups=tuple(f.group_counts),
        variant="2025",
        spatial_dropout=f.spatial_dropout,
    )


def _lambda(settings: Mapping[str, str], key: str) -> float:
    raw = settings.get(key, "0")
    try:
        return float(raw)
    except ValueError:
        return 0.0


def load_authors_model(path: str | os.PathLike[str]) -> AuthorsModel:
    """Read a ``*BestModel.bin`` of the authors' 2025 program.

    Returns:
        An :class:`AuthorsModel` (spec, coords, feature names, class labels, stored metrics,
        settings, loss configuration).

    Raises:
        FileNotFoundError: no such file.
        AuthorsFileError: a truncated, corrupt or foreign file (one line naming the file);
            :class:`UnsupportedModelError` for settings debinn-jax does not implement.
    """
    f = read_authors_file(path)
    spec = spec_of_file(f)
    try:
        coords = genome_to_coords(spec, f.genome)
    except ValueError as err:
        raise AuthorsFileError(f"{f.path}: {err}") from None
    _check_groups(f, spec, coords)
    metrics = {part: f.metrics(part) for part in f.metric_parts()}
    settings = f.metadata.get("Settings") or {}
    settings = {str(k): str(v) for k, v in settings.items()} if isinstance(settings, dict) else {}
    loss = LossConfig.reference_2025(
        l1=_lambda(settings, "Regularizer/L1Lambda"), l2=_lambda(settings, "Regularizer/L2Lambda")
    )
    return AuthorsModel(
        spec=spec,
        coords=coords,
        feature_names=tuple(f.feature_names),
        class_labels=tuple(f.class_labels),
        metrics=metrics,
        settings=settings,
        loss=loss,
        source=f.path,
    )
