"""``debinn reproduce``: rerun the GA-vs-GD study of arXiv 2605.27411 (see ``debinn_jax.study``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from debinn_jax.commands.common import add_command, comma_list, int_at_least
from debinn_jax.errors import UserError

DEFAULT_OUT = Path("runs") / "reproduce"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``reproduce`` sub-command."""
    p = add_command(
        sub,
        "reproduce",
        help="rerun the GA-vs-GD comparison (arXiv 2605.27411) with baselines and statistics",
        description=(
            "Train DEBI-NN by GA and GD plus scikit-learn baselines on the paper's tasks, "
            "evaluate on held-out test splits, and write results.json, summary.md and figures."
        ),
        run=run,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="reduced budgets from each config's [quick] table; default task: moons (< 2 min)",
    )
    p.add_argument(
        "--tasks",
        type=comma_list,
        default=None,
        help="comma-separated tasks (default: all configs; moons with --quick), "
        "e.g. moons,dlbcl,hecktor,ctg",
    )
    p.add_argument("--seeds", type=int_at_least(1), default=None, help="seeds per task and method")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with dlbcl/, hecktor-lite/, ctg/ (default: $DEBINN_DATA_DIR, else the "
        "datasets 'debinn data fetch' downloaded)",
    )
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    p.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="folder with <task>.toml configs (default: the ones installed with debinn-jax, "
        "debinn_jax/study/configs)",
    )
    p.add_argument(
        "--methods",
        type=comma_list,
        default=None,
        help="subset of ga,gd,logreg,random_forest,mlp,ga2025 (default: all; ga2025: the 2025 "
        "GA's regulariser grid, tasks with a [ga2025] table only)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the study in --out: keep the (task, method, seed) records already in "
        "its results.json, run only the rest, resume interrupted GA/GD runs from their "
        "checkpoints (same configs and seeds required)",
    )
    p.add_argument("--no-figures", action="store_true", help="do not write PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    """Run the study; returns the exit code."""
    from debinn_jax import study

    config_dir = args.config_dir or study.default_config_dir()
    tasks = args.tasks
    if tasks is None and args.quick:
        tasks = ["moons"]
    methods = args.methods or list(study.METHODS)
    for m in methods:
        if m not in study.METHODS:
            raise UserError(f"--methods: unknown method {m!r}; expected some of {study.METHODS}")
    data_dir = args.data_dir if args.data_dir is not None else study.default_data_dir()
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise UserError(f"--data-dir {args.data_dir} is not a folder")
    try:
        configs = study.load_configs(config_dir, tasks, quick=args.quick)
    except study.ConfigError as exc:
        raise UserError(str(exc)) from None
    from debinn_jax.checkpoint import CheckpointError

    try:
        study.run_study(
            configs,
            data_dir=data_dir,
            out=args.out,
            seeds=args.seeds,
            methods=methods,
            figures=not args.no_figures,
            progress=not args.quiet,
            resume=args.resume,
        )
    except (study.ResumeError, CheckpointError) as exc:
        raise UserError(str(exc)) from None
    return 0
