"""The authors' 2025 execution folders: settings columns -> debinn-jax runs, as one grid.

An execution folder of the authors' program holds ``executionSettings.csv`` (``;``-separated;
first column the setting keys, then one column per setting, e.g. ``2H-Hinton-S1`` ...) and
``DataPool/<Data>/Dataset/Fold-*``. :func:`read_execution_settings` reads the settings and
checks every key and value (one line naming the key and column for anything unknown or
unsupported); :func:`grid_runs` turns the columns into :class:`GridRun` s (a 2025 network, a
``GAConfig.reference_2025`` and the per-run switches), and :func:`run_grid` trains every column
on every fold with batched, compiled sweeps (``sweep.run_many``): columns that differ only in
numbers (L1/L2, weight standardisation, group normalisation, spatial dropout) share one
compiled program; only the architecture and ``ShiftScaleOptimize`` (the genome length) need
their own. Results are written after every batch (``results.json``, and ``summary.csv`` in the
authors' column format); an interrupted grid resumes without redoing finished columns. With
``replay`` the runs repeat the authors' exactly (their random streams); :func:`compare_rows`
sets a grid against the authors' ``summary.csv``, and :func:`replay_run` repeats one run (a
published model) from its settings.

Layout, one module per step: :mod:`~debinn_jax.execution.settings` (reading
``executionSettings.csv``, generating the regulariser grid, choosing and naming columns),
:mod:`~debinn_jax.execution.translate` (one settings column -> one :class:`GridRun`),
:mod:`~debinn_jax.execution.jobs` (an execution folder of the authors' repository -> a
:class:`GridJob` with its data and their results; the overall table of many grids),
:mod:`~debinn_jax.execution.grid` (running the runs on the folds, outputs and resume),
:mod:`~debinn_jax.execution.gd_grid` (the GD counterpart of the regulariser grid: the same
regulariser switches with GD hyper-parameters, run with the same outputs and resume rules),
:mod:`~debinn_jax.execution.lock` (several processes on one output folder),
:mod:`~debinn_jax.execution.progress` (the ETA), :mod:`~debinn_jax.execution.cost` (FLOPs,
phases, matmul peak: the cost report), :mod:`~debinn_jax.execution.compare` (a grid against
the authors' summary, row by row) and :mod:`~debinn_jax.execution.replay` (one run repeated
exactly). This module re-exports their public names.
"""

from debinn_jax.execution.compare import compare_rows, read_authors_summary, replay_report
from debinn_jax.execution.cost import (
    cost_report,
    individual_flops,
    matmul_peak,
    population_flops,
    run_flops,
)
from debinn_jax.execution.gd_grid import (
    GD_REGULARISER_BITS,
    GDGridRun,
    GDSpace,
    gd_compile_group,
    gd_grid_runs,
    optimizer_label,
    run_gd_grid,
)
from debinn_jax.execution.grid import (
    SUMMARY_METRICS,
    GridInterrupted,
    GridResult,
    compile_group,
    compile_timer,
    precision,
    run_grid,
    summary_csv,
)
from debinn_jax.execution.jobs import GridJob, prepare_job
from debinn_jax.execution.lock import FolderBusy
from debinn_jax.execution.progress import WorkMeter
from debinn_jax.execution.replay import Replayed, read_settings_ini, replay_run
from debinn_jax.execution.settings import (
    BASE_COLUMN,
    GRID_BITS,
    SETTINGS_FILE,
    ExecutionSettings,
    column_label,
    grid_setting,
    read_execution_settings,
    regulariser_grid,
    select_columns,
    settings_file,
)
from debinn_jax.execution.translate import (
    INERT_KEYS,
    GridRun,
    SettingsError,
    grid_run,
    grid_runs,
    inert_keys,
)

__all__ = [
    "BASE_COLUMN",
    "GD_REGULARISER_BITS",
    "GDGridRun",
    "GDSpace",
    "GRID_BITS",
    "INERT_KEYS",
    "SETTINGS_FILE",
    "SUMMARY_METRICS",
    "ExecutionSettings",
    "FolderBusy",
    "GridInterrupted",
    "GridJob",
    "GridResult",
    "GridRun",
    "Replayed",
    "SettingsError",
    "WorkMeter",
    "column_label",
    "compare_rows",
    "compile_group",
    "compile_timer",
    "cost_report",
    "gd_compile_group",
    "gd_grid_runs",
    "grid_run",
    "grid_runs",
    "grid_setting",
    "individual_flops",
    "inert_keys",
    "matmul_peak",
    "optimizer_label",
    "population_flops",
    "precision",
    "prepare_job",
    "read_authors_summary",
    "read_execution_settings",
    "read_settings_ini",
    "regulariser_grid",
    "replay_report",
    "replay_run",
    "run_flops",
    "run_gd_grid",
    "run_grid",
    "select_columns",
    "settings_file",
    "summary_csv",
]
