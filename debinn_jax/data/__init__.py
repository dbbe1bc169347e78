"""Data: readers (DEBI-NN Fold folders, plain CSV tables), the public datasets fetched into
the data cache (:mod:`debinn_jax.data.fetch`), generated two-moons, splits, scaling, and the
GA's data-subset masks (spec sections 6.2 and 8)."""

from debinn_jax.data.dataset import DataError, Dataset, Fold, check_feature_values
from debinn_jax.data.fetch import (
    DATASETS,
    FetchError,
    fetch_ctg,
    fetch_dataset,
    fetch_dlbcl,
    fetch_hecktor_lite,
)
from debinn_jax.data.readers import (
    FOLD_FILES,
    MISSING_RULES,
    MISSING_TOKENS,
    VALIDATE_FILES,
    load_dataset,
    load_fold,
    load_table,
)
from debinn_jax.data.splits import (
    DROP_FRACTION,
    VALIDATION_FRACTION,
    Standardizer,
    SubsetSizes,
    ga_subsets,
    individual_masks,
    leave_out_counts,
    leave_out_ratios,
    leave_out_splits,
    monte_carlo_cv,
    shuffle_individuals,
    stratified_kfold,
    stratified_split,
    subset_sizes,
    validation_mask,
)
from debinn_jax.data.synthetic import make_moons_dataset

__all__ = [
    "DATASETS",
    "DROP_FRACTION",
    "FOLD_FILES",
    "MISSING_RULES",
    "MISSING_TOKENS",
    "VALIDATE_FILES",
    "VALIDATION_FRACTION",
    "DataError",
    "Dataset",
    "FetchError",
    "Fold",
    "Standardizer",
    "SubsetSizes",
    "check_feature_values",
    "fetch_ctg",
    "fetch_dataset",
    "fetch_dlbcl",
    "fetch_hecktor_lite",
    "ga_subsets",
    "individual_masks",
    "leave_out_counts",
    "leave_out_ratios",
    "leave_out_splits",
    "load_dataset",
    "load_fold",
    "load_table",
    "make_moons_dataset",
    "monte_carlo_cv",
    "shuffle_individuals",
    "stratified_kfold",
    "stratified_split",
    "subset_sizes",
    "validation_mask",
]
