"""``debinn bench``: the performance benchmark (see :mod:`debinn_jax.bench`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from debinn_jax.commands.common import comma_list, int_at_least


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 16,64, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    p = sub.add_parser(
        "bench",
        help="measure evaluation, GA and sweep speed against a NumPy baseline",
        description=(
            "Benchmark debinn-jax on DLBCL (17-85-64-2), HECKTOR-LITE (36-180-2) and CTG "
            "(21-100-3), with synthetic data of the same shapes when the real files are absent. "
            "Pin it to one core for stable figures: taskset -c 1 debinn bench."
        ),
    )
    p.add_argument("--out", default=None, help="write the JSON results to this file")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test (seconds)")
    p.add_argument("--data-dir", default=None, help="folder with dlbcl/, hecktor-lite/, ctg/")
    p.add_argument("--populations", type=_int_list, default=None, help="e.g. 16,64,256,1024")
    p.add_argument("--runs", type=_int_list, default=None, help="sweep sizes, e.g. 1,8,32")
    p.add_argument("--workloads", type=_name_list, default=None, help="e.g. dlbcl,ctg")
    p.add_argument(
        "--sweep-workloads", type=_name_list, default=None, help="workloads of the sweep"
    )
    p.add_argument("--generations", type=int, default=None, help="GA generations per timing")
    p.add_argument("--sweep-generations", type=int, default=None, help="generations per run")
    p.add_argument(
        "--batch-size", type=int, default=None, help="force the evaluator batch (default: tune)"
    )
    p.add_argument(
        "--memory-population", type=int, default=None, help="P of the CTG memory probe (0: skip)"
    )
    p.add_argument(
        "--numpy-max-population", type=int, default=None, help="skip the NumPy loop above this P"
    )
    p.add_argument("--no-reference", action="store_true", help="skip the authors' binary rows")
    p.add_argument(
        "--startup-repeats",
        type=int,
        default=None,
        help="fresh processes per start-up timing (median; 0 skips the start-up section)",
    )
    p.add_argument(
        "--startup-only", action="store_true", help="measure start-up only (import, cold, warm)"
    )
    g = p.add_argument_group(
        "one grid's cost (instead of the benchmark above)",
        "--grid FOLDER runs the chosen columns of an execution folder (into a temporary folder) "
        "and prints the cost report of 'debinn grid': generations, individuals, wall time by "
        "phase, GFLOP/s against a matmul peak measured now, the compute floor; and the analytic "
        "FLOPs of one population evaluation beside XLA's own count.",
    )
    g.add_argument("--grid", metavar="FOLDER", help="execution folder or executionSettings.csv")
    g.add_argument("--data", help="its data (as 'debinn grid --data'; default: found)")
    g.add_argument("--only", type=comma_list, help="columns to run, e.g. S1,S69 (default all)")
    g.add_argument(
        "--iterations",
        type=int_at_least(1),
        default=None,
        help="replace every column's IterationCount (a shorter measurement)",
    )
    g.add_argument("--batch", type=int_at_least(1), default=16, help="runs per compiled call")
    g.add_argument(
        "--precision", choices=("float64", "float32"), default="float64", help="default float64"
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):  # noqa: ANN201 - avoids importing jax early
    """The :class:`debinn_jax.bench.config.BenchConfig` of the parsed arguments."""
    from debinn_jax.bench.config import BenchConfig
    from debinn_jax.bench.workloads import WORKLOAD_SHAPES

    overrides = {}
    for name in ("populations", "runs", "workloads", "sweep_workloads", "data_dir"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    for name in (
        "generations",
        "sweep_generations",
        "batch_size",
        "memory_population",
        "numpy_max_population",
    ):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_reference:
        overrides["reference"] = False
    if args.startup_repeats is not None:
        if args.startup_repeats < 0:
            raise ValueError("--startup-repeats must be >= 0")
        overrides["startup_repeats"] = args.startup_repeats
        overrides["startup"] = args.startup_repeats > 0
    if args.startup_only:
        if args.startup_repeats == 0:
            raise ValueError("--startup-only needs --startup-repeats >= 1")
        overrides["only_startup"] = True
        overrides["startup"] = True
    for name in (*overrides.get("workloads", ()), *overrides.get("sweep_workloads", ())):
        if name not in WORKLOAD_SHAPES:
            raise ValueError(
                f"unknown workload {name!r}; expected one of {sorted(WORKLOAD_SHAPES)}"
            )
    if args.quick:
        return BenchConfig.quick_config(**overrides)
    return BenchConfig(**overrides)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (or one grid's cost report), print a summary, write JSON to ``--out``."""
    from debinn_jax.bench.run import run_benchmark
    from debinn_jax.io import write_json_atomic

    if args.grid is not None:
        from debinn_jax.execution import precision

        with precision(args.precision):
            doc = grid_cost(args)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(args.out, doc)
            print(f"wrote {args.out}")
        return 0
    config = config_from_args(args)
    doc = run_benchmark(config, verbose=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out, doc)
        print(f"wrote {args.out}")
    return 0


def grid_cost(args: argparse.Namespace) -> dict[str, Any]:
    """``debinn bench --grid``: run the chosen columns of one grid in a temporary folder, print
    the cost report and the FLOP count of one population evaluation against XLA's."""
    import tempfile

    import numpy as np

    from debinn_jax.bench.timing import machine_info
    from debinn_jax.execution import run_grid
    from debinn_jax.execution.cost import (
        cost_report,
        format_cost,
        matmul_peak,
        population_flops,
        split_count,
        work_of,
        xla_population_flops,
    )
    from debinn_jax.execution.jobs import prepare_job

    job = prepare_job(args.grid, data=args.data, only=args.only, iterations=args.iterations)
    meta = machine_info()
    print(
        f"debinn bench --grid {job.name}: {len(job.runs)} columns x {len(job.folds)} fold(s), "
        f"{meta['cpu']} ({meta['backend']}), load {meta['load_average'][0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="debinn-bench-grid-") as tmp:
        result = run_grid(
            list(job.runs),
            list(job.folds),
            out=tmp,
            batch=args.batch,
            resume=False,
            progress=lambda line: print("  " + line, flush=True),
        )
    peak = matmul_peak()
    labels = {name: np.asarray(fold.train.y) for name, fold in job.folds}
    work = work_of(job.runs, result.trained, labels, result.session_generations)
    report = cost_report(work, result.timing["phases"], result.timing["seconds"], peak)
    for line in format_cost(job.name, report):
        print(line)
    run0, (fold_name, fold0) = job.runs[0], job.folds[0]
    cfg = run0.config.resolve(run0.spec)
    n, m, p = len(fold0.train.y), 2 * split_count(run0, fold0.train.y), cfg.population_size
    ours = population_flops(run0.spec, n, m, p, run0.switches)
    xla = xla_population_flops(run0, n, m, p)
    loop = " (spatial dropout's median search is a loop: XLA counts its body once)" * bool(
        run0.switches.get("spatial_dropout")
    )
    print(
        f"one population evaluation of {run0.name} on {fold_name} (P={p}, N={n}, M={m} masks): "
        f"{ours / 1e6:.2f} MFLOP counted, {xla / 1e6:.2f} MFLOP by XLA's cost analysis "
        f"(ratio {ours / xla:.3f}){loop}"
    )
    check = {"run": run0.name, "population": p, "samples": n, "masks": m, "analytic": ours}
    return {"meta": meta, "grid": job.name, "cost": report, "xla_check": {**check, "xla": xla}}
