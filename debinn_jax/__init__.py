"""debinn-jax: DEBI-NN (distance-encoding biomorphic-informational neural networks) in JAX.

The public API. Experiments and notebooks import only from here.

Names are imported lazily (PEP 562): ``import debinn_jax`` is cheap, and jax, scikit-learn and
the rest load on the first use of a name that needs them (``debinn_jax.NetworkSpec``,
``from debinn_jax import DEBIClassifier``). ``__version__`` never imports them, so the command
line starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it ("" for the submodules themselves).
_LAZY: dict[str, str] = {
    # submodules
    "data": "",
    "diagnostics": "",
    "metrics": "",
    # debinn_jax.data
    **dict.fromkeys(
        (
            "DataError",
            "Dataset",
            "Fold",
            "Standardizer",
            "load_dataset",
            "load_fold",
            "load_table",
            "make_moons_dataset",
            "monte_carlo_cv",
            "stratified_kfold",
            "stratified_split",
        ),
        "debinn_jax.data",
    ),
    "DEBIClassifier": "debinn_jax.estimator",
    **dict.fromkeys(("DebiGA", "GAConfig", "GAResult", "make_runner", "train_ga"), "debinn_jax.ga"),
    **dict.fromkeys(
        ("GD_NETWORK_OPTIONS", "GDConfig", "GDResult", "init_starts", "train_gd"), "debinn_jax.gd"
    ),
    **dict.fromkeys(
        (
            "ModelFileError",
            "TrainedModel",
            "load_model",
            "save_model",
            "write_json_atomic",
            "write_text_atomic",
        ),
        "debinn_jax.io",
    ),
    **dict.fromkeys(
        (
            "LossConfig",
            "class_weights",
            "debi_loss",
            "loss_floor",
            "masked_loss",
            "population_loss",
            "sample_terms",
        ),
        "debinn_jax.loss",
    ),
    **dict.fromkeys(("METRIC_NAMES", "classification_metrics"), "debinn_jax.metrics"),
    **dict.fromkeys(
        (
            "ACTIVATIONS",
            "HEADS",
            "KERNELS",
            "Coords",
            "NetworkSpec",
            "apply",
            "dense_param_count",
            "init_coords",
            "kernel_fn",
            "layer_weights",
            "log_proba_t",
            "param_count",
            "positions",
            "predict",
            "reflect_z",
            "scores_t",
            "summary",
        ),
        "debinn_jax.network",
    ),
    **dict.fromkeys(("SweepResult", "grid", "run_many", "stack_folds"), "debinn_jax.sweep"),
    "RunInterrupted": "debinn_jax.stopping",
    **dict.fromkeys(("disable_compilation_cache", "enable_compilation_cache"), "debinn_jax.cache"),
    # the authors' 2025 program: model files and execution folders
    **dict.fromkeys(("AuthorsModel", "load_authors_model"), "debinn_jax.authors"),
    "load_any_model": "debinn_jax.io",
    **dict.fromkeys(
        ("GridRun", "grid_runs", "read_execution_settings", "run_grid"), "debinn_jax.execution"
    ),
}

__all__ = [
    "AuthorsModel",
    "GridRun",
    "grid_runs",
    "load_any_model",
    "load_authors_model",
    "read_execution_settings",
    "run_grid",
    "DebiGA",
    "GAConfig",
    "GAResult",
    "SweepResult",
    "grid",
    "make_runner",
    "run_many",
    "stack_folds",
    "RunInterrupted",
    "disable_compilation_cache",
    "enable_compilation_cache",
    "train_ga",
    "DEBIClassifier",
    "ModelFileError",
    "TrainedModel",
    "load_model",
    "save_model",
    "write_json_atomic",
    "write_text_atomic",
    "GD_NETWORK_OPTIONS",
    "GDConfig",
    "GDResult",
    "diagnostics",
    "init_starts",
    "train_gd",
    "METRIC_NAMES",
    "DataError",
    "Dataset",
    "Fold",
    "Standardizer",
    "classification_metrics",
    "data",
    "load_dataset",
    "load_fold",
    "load_table",
    "make_moons_dataset",
    "metrics",
    "monte_carlo_cv",
    "stratified_kfold",
    "stratified_split",
    "ACTIVATIONS",
    "HEADS",
    "KERNELS",
    "Coords",
    "LossConfig",
    "NetworkSpec",
    "__version__",
    "apply",
    "class_weights",
    "debi_loss",
    "dense_param_count",
    "init_coords",
    "kernel_fn",
    "layer_weights",
    "log_proba_t",
    "loss_floor",
    "masked_loss",
    "param_count",
    "population_loss",
    "positions",
    "predict",
    "reflect_z",
    "sample_terms",
    "scores_t",
    "summary",
]


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on its first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if module == "":
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from debinn_jax import data, diagnostics, metrics
    from debinn_jax.authors import AuthorsModel, load_authors_model
    from debinn_jax.cache import disable_compilation_cache, enable_compilation_cache
    from debinn_jax.data import (
        DataError,
        Dataset,
        Fold,
        Standardizer,
        load_dataset,
        load_fold,
        load_table,
        make_moons_dataset,
        monte_carlo_cv,
        stratified_kfold,
        stratified_split,
    )
    from debinn_jax.estimator import DEBIClassifier
    from debinn_jax.execution import GridRun, grid_runs, read_execution_settings, run_grid
    from debinn_jax.ga import DebiGA, GAConfig, GAResult, make_runner, train_ga
    from debinn_jax.gd import GD_NETWORK_OPTIONS, GDConfig, GDResult, init_starts, train_gd
    from debinn_jax.io import (
        ModelFileError,
        TrainedModel,
        load_any_model,
        load_model,
        save_model,
        write_json_atomic,
        write_text_atomic,
    )
    from debinn_jax.loss import (
        LossConfig,
        class_weights,
        debi_loss,
        loss_floor,
        masked_loss,
        population_loss,
        sample_terms,
    )
    from debinn_jax.metrics import METRIC_NAMES, classification_metrics
    from debinn_jax.network import (
        ACTIVATIONS,
        HEADS,
        KERNELS,
        Coords,
        NetworkSpec,
        apply,
        dense_param_count,
        init_coords,
        kernel_fn,
        layer_weights,
        log_proba_t,
        param_count,
        positions,
        predict,
        reflect_z,
        scores_t,
        summary,
    )
    from debinn_jax.stopping import RunInterrupted
    from debinn_jax.sweep import SweepResult, grid, run_many, stack_folds
