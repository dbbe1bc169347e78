"""debinn-jax: DEBI-NN (distance-encoding biomorphic-informational neural networks) in JAX.

The public API. Experiments and notebooks import only from here.
"""

from debinn_jax import data, metrics
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

__version__ = "0.1.0"

__all__ = [
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
