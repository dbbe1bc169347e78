"""``debinn bench``: the performance benchmark (see :mod:`debinn_jax.bench`)."""

from __future__ import annotations

import argparse
from pathlib import Path


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
    """Run the benchmark, print a summary, write JSON to ``--out``."""
    from debinn_jax.bench.run import run_benchmark
    from debinn_jax.io import write_json_atomic

    config = config_from_args(args)
    doc = run_benchmark(config, verbose=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out, doc)
        print(f"wrote {args.out}")
    return 0
