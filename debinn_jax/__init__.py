"""debinn-jax: DEBI-NN (distance-encoding biomorphic-informational neural networks) in JAX.

The public API: the names below, grouped by what they are for. Experiments and notebooks import
only from here; everything else stays importable from its module (``debinn_jax.network``,
``debinn_jax.io``, ...) but is not promised to stay.

- Networks: a frozen spec, a coordinate pytree, a pure forward pass (``debinn_jax.network``):
  ``ACTIVATIONS``, ``HEADS``, ``KERNELS``, ``Coords``, ``NetworkSpec``, ``apply``,
  ``dense_param_count``, ``init_coords``, ``kernel_fn``, ``layer_weights``, ``log_proba``,
  ``param_count``, ``positions``, ``predict``, ``summary``. Every public function takes samples
  first: inputs ``(N, n_inputs)``, probabilities and log-probabilities ``(N, K)``.
- The loss shared by GA and GD (``debinn_jax.loss``): ``LossConfig``, ``LossFn``, ``class_weights``,
  ``debi_loss``, ``debi_loss_fn``, ``loss_floor``, ``population_loss``.
- Metrics (``debinn_jax.metrics``): ``METRIC_NAMES``, ``classification_metrics``.
- Data: readers, two-moons, splits (``debinn_jax.data``): ``DataError``, ``Dataset``, ``Fold``,
  ``Standardizer``, ``load_dataset``, ``load_fold``, ``load_table``, ``make_moons_dataset``,
  ``monte_carlo_cv``, ``stratified_kfold``, ``stratified_split``; the public datasets, downloaded
  into the data cache on first use (``debinn_jax.data.fetch``): ``FetchError``, ``fetch_ctg``,
  ``fetch_dataset``, ``fetch_dlbcl``, ``fetch_hecktor_lite``.
- Genetic algorithm (an evosax algorithm + the DEBI training loop) (``debinn_jax.ga``): ``DebiGA``,
  ``GAConfig``, ``GAResult``, ``make_runner``, ``train_ga``.
- Gradient descent (optax) (``debinn_jax.gd``): ``GDConfig``, ``GDResult``, ``train_gd``; many
  full-batch GD runs (settings x seeds) in one compiled call: ``GDSweepResult``, ``run_many_gd``.
- Many runs in one compiled call, over devices and processes (``debinn_jax.sweep``):
  ``SweepResult``, ``grid``, ``run_many``, ``stack_folds``.
- scikit-learn estimator (``debinn_jax.estimator``): ``DEBIClassifier``.
- Model files (``debinn_jax.io``): ``ModelFileError``, ``TrainedModel``, ``load_any_model``,
  ``load_model``, ``save_model``.
- The authors' 2025 program: model files (``debinn_jax.authors``): ``AuthorsModel``,
  ``load_authors_model``.
- The authors' 2025 program: execution folders and the regulariser grid (``debinn_jax.execution``):
  ``GridRun``, ``grid_runs``, ``read_execution_settings``, ``regulariser_grid``, ``run_grid``;
  its GD counterpart: ``GDGridRun``, ``GDSpace``, ``gd_grid_runs``, ``run_gd_grid``.
- Long runs: a run stopped by a signal (``debinn_jax.stopping``): ``RunInterrupted``; a
  checkpoint that cannot be resumed (``debinn_jax.checkpoint``): ``CheckpointError``; the
  persistent compilation cache (``debinn_jax.cache``): ``disable_compilation_cache``,
  ``enable_compilation_cache``.
- Submodules: ``data``, ``diagnostics`` (gradient diagnostics), ``metrics``, ``nnx`` (Flax NNX
  layers: ``debinn_jax.nnx.DEBIHead``, a DEBI-NN with ``nnx.Param`` coordinates; imports Flax).

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
    **dict.fromkeys(("data", "diagnostics", "metrics", "nnx"), ""),
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
            "log_proba",
            "param_count",
            "positions",
            "predict",
            "summary",
        ),
        "debinn_jax.network",
    ),
    **dict.fromkeys(
        (
            "LossConfig",
            "LossFn",
            "class_weights",
            "debi_loss",
            "debi_loss_fn",
            "loss_floor",
            "population_loss",
        ),
        "debinn_jax.loss",
    ),
    **dict.fromkeys(("METRIC_NAMES", "classification_metrics"), "debinn_jax.metrics"),
    **dict.fromkeys(
        (
            "DataError",
            "Dataset",
            "FetchError",
            "Fold",
            "Standardizer",
            "fetch_ctg",
            "fetch_dataset",
            "fetch_dlbcl",
            "fetch_hecktor_lite",
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
    **dict.fromkeys(("DebiGA", "GAConfig", "GAResult", "make_runner", "train_ga"), "debinn_jax.ga"),
    **dict.fromkeys(
        ("GDConfig", "GDResult", "GDSweepResult", "run_many_gd", "train_gd"), "debinn_jax.gd"
    ),
    **dict.fromkeys(("SweepResult", "grid", "run_many", "stack_folds"), "debinn_jax.sweep"),
    **dict.fromkeys(("DEBIClassifier",), "debinn_jax.estimator"),
    **dict.fromkeys(
        ("ModelFileError", "TrainedModel", "load_any_model", "load_model", "save_model"),
        "debinn_jax.io",
    ),
    **dict.fromkeys(("AuthorsModel", "load_authors_model"), "debinn_jax.authors"),
    **dict.fromkeys(
        (
            "GDGridRun",
            "GDSpace",
            "GridRun",
            "gd_grid_runs",
            "grid_runs",
            "read_execution_settings",
            "regulariser_grid",
            "run_gd_grid",
            "run_grid",
        ),
        "debinn_jax.execution",
    ),
    **dict.fromkeys(("RunInterrupted",), "debinn_jax.stopping"),
    **dict.fromkeys(("CheckpointError",), "debinn_jax.checkpoint"),
    **dict.fromkeys(("disable_compilation_cache", "enable_compilation_cache"), "debinn_jax.cache"),
}

__all__ = [
    "CheckpointError",
    "ACTIVATIONS",
    "AuthorsModel",
    "Coords",
    "DEBIClassifier",
    "DataError",
    "Dataset",
    "DebiGA",
    "FetchError",
    "Fold",
    "GAConfig",
    "GAResult",
    "GDConfig",
    "GDGridRun",
    "GDResult",
    "GDSpace",
    "GDSweepResult",
    "GridRun",
    "HEADS",
    "KERNELS",
    "LossConfig",
    "LossFn",
    "METRIC_NAMES",
    "ModelFileError",
    "NetworkSpec",
    "RunInterrupted",
    "Standardizer",
    "SweepResult",
    "TrainedModel",
    "__version__",
    "apply",
    "class_weights",
    "classification_metrics",
    "data",
    "debi_loss",
    "debi_loss_fn",
    "dense_param_count",
    "diagnostics",
    "disable_compilation_cache",
    "enable_compilation_cache",
    "fetch_ctg",
    "fetch_dataset",
    "fetch_dlbcl",
    "fetch_hecktor_lite",
    "gd_grid_runs",
    "grid",
    "grid_runs",
    "init_coords",
    "kernel_fn",
    "layer_weights",
    "load_any_model",
    "load_authors_model",
    "load_dataset",
    "load_fold",
    "load_model",
    "load_table",
    "log_proba",
    "loss_floor",
    "make_moons_dataset",
    "make_runner",
    "metrics",
    "monte_carlo_cv",
    "nnx",
    "param_count",
    "population_loss",
    "positions",
    "predict",
    "read_execution_settings",
    "regulariser_grid",
    "run_gd_grid",
    "run_grid",
    "run_many",
    "run_many_gd",
    "save_model",
    "stack_folds",
    "stratified_kfold",
    "stratified_split",
    "summary",
    "train_ga",
    "train_gd",
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
    from debinn_jax import data, diagnostics, metrics, nnx
    from debinn_jax.authors import (
        AuthorsModel,
        load_authors_model,
    )
    from debinn_jax.cache import (
        disable_compilation_cache,
        enable_compilation_cache,
    )
    from debinn_jax.checkpoint import (
        CheckpointError,
    )
    from debinn_jax.data import (
        DataError,
        Dataset,
        FetchError,
        Fold,
        Standardizer,
        fetch_ctg,
        fetch_dataset,
        fetch_dlbcl,
        fetch_hecktor_lite,
        load_dataset,
        load_fold,
        load_table,
        make_moons_dataset,
        monte_carlo_cv,
        stratified_kfold,
        stratified_split,
    )
    from debinn_jax.estimator import (
        DEBIClassifier,
    )
    from debinn_jax.execution import (
        GDGridRun,
        GDSpace,
        GridRun,
        gd_grid_runs,
        grid_runs,
        read_execution_settings,
        regulariser_grid,
        run_gd_grid,
        run_grid,
    )
    from debinn_jax.ga import (
        DebiGA,
        GAConfig,
        GAResult,
        make_runner,
        train_ga,
    )
    from debinn_jax.gd import (
        GDConfig,
        GDResult,
        GDSweepResult,
        run_many_gd,
        train_gd,
    )
    from debinn_jax.io import (
        ModelFileError,
        TrainedModel,
        load_any_model,
        load_model,
        save_model,
    )
    from debinn_jax.loss import (
        LossConfig,
        LossFn,
        class_weights,
        debi_loss,
        debi_loss_fn,
        loss_floor,
        population_loss,
    )
    from debinn_jax.metrics import (
        METRIC_NAMES,
        classification_metrics,
    )
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
        log_proba,
        param_count,
        positions,
        predict,
        summary,
    )
    from debinn_jax.stopping import (
        RunInterrupted,
    )
    from debinn_jax.sweep import (
        SweepResult,
        grid,
        run_many,
        stack_folds,
    )
