"""``debinn grid``: run execution folders of the authors' 2025 program (all their settings)."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import time
from pathlib import Path
from typing import Any

from debinn_jax.commands.common import add_command, comma_list
from debinn_jax.errors import UserError

GRID_EPILOG = """\
input (the authors' repository as it is):
  SETTINGS is an execution folder (Executions/DLBCL-2H-Hinton: executionSettings.csv, one
  column per setting, one row per key), its executionSettings.csv, or a folder of execution
  folders (the repository's Executions folder, or the repository itself): every grid in it
  runs, each into --out/<grid name>/. Every column is trained once on every fold (as the
  authors did) and scored on the fold's test split.

data:
  The folds come from --data, else the execution folder's DataPool/<Data>/Dataset, else the
  repository's Datasets folder (Executions/X -> Datasets/<dataset>/<variant>/Fold-*), else
  $DEBINN_DATA_DIR or the datasets 'debinn data fetch' downloaded. --data takes a Fold folder
  (Datasets/DLBCL/Dataset-1Fold/Fold-1), a folder of Fold-* folders, a dataset folder
  (Datasets/DLBCL) or a folder of datasets (Datasets, or the fetched data's folder): the
  dataset is matched by the settings' Data value and the grid name.

columns:
  --only S5,S69 or --only 2H-Hinton-S5: the full column name, or its part after the last '-'
  (the same short names then select in every grid of a folder of grids).

several processes, resume:
  Results are merged into --out/results.json after every batch, atomically, under a lock on
  the folder (re-reading the file first): two runs into the same --out keep each other's
  results. A run claims the columns it trains; another run leaves them alone and waits for
  their results at the end (--no-wait: refuse instead, naming the process). An interrupted
  grid resumes from --out: finished settings are skipped, a batch cut short resumes from its
  checkpoint. --restart starts over (refused while another run trains there).

precision:
  float64 by default, as the authors' program computes. --precision float32 is about 2x
  faster; on the DLBCL Hinton grids its runs were statistically indistinguishable from float64
  (paired over 128 settings: Wilcoxon p 0.38 and 0.64), and networks trained in float64 give
  the same probabilities in float32 within 1e-5.

random keys:
  --keys per-column (default) gives every column its own key (fold_in of --seed and the
  column's position): 128 independent runs. --keys shared runs every column with the same key,
  as the authors' program did with its fixed seed; columns that differ only in keys without
  effect (DropConnect) are then one run, trained once (about half a 128-setting grid), and
  settings compare on common random numbers. In the authors' grids such pairs agree in 61-64
  of 64 per grid, so their 128 results are about 64 distinct runs.

replay:
  --replay msvc repeats the authors' published runs: every random number comes from their
  std::mt19937 streams (msvc: their Windows build, behind the published results; libstdc++:
  their Linux binary), the splits are theirs, and columns that differ only in DropConnect are
  one run. Each row is then compared with the authors' summary.csv: exact (all six test
  metrics), as its DropConnect twin, or differs, with the first iteration where a decision
  came within 1e-14 of flipping (replay.md, replay.json).

output (per grid, in --out or --out/<grid name>/):
  results.json   one record per (setting, fold): test/train metrics, generations, seconds
  summary.csv    the authors' format: SNS/SPC/PPV/NPV/ACC/BACC in % per setting
  cost.json/.md  what the session cost: generations, individuals, wall time by phase, FLOPs,
                 GFLOP/s against a matmul peak measured in the same run, the compute floor
  With a folder of grids, also --out/overview.md and overview.csv: each grid's test BACC
  median and mean against the authors' summary.csv (next to their settings, or in
  --reference DIR/<grid name>/summary.csv).

examples:
  debinn grid DEBI-NN/Executions/DLBCL-2H-Hinton --out runs/dlbcl-2h-hinton
  debinn grid DEBI-NN/Executions --out runs/all --only S1,S69
  debinn grid Executions/DLBCL-2H-Hinton --data Datasets/DLBCL/Dataset-1Fold/Fold-1 \\
      --out runs/dlbcl-2h-hinton
"""


def run_grid_command(args: argparse.Namespace) -> int:
    """Read the settings, check them all, run the grid(s), print a summary."""
    from debinn_jax.execution import precision

    if args.replay and args.precision == "float32":
        raise UserError(
            "--replay needs float64 (the authors' program computes in double precision and "
            "float32 cannot repeat its decisions); drop --precision float32"
        )
    # the whole grid runs in one precision; the caller's setting is restored afterwards
    with precision(args.precision):
        return _run_grid(args)


def _jobs(args: argparse.Namespace) -> tuple[list[Any], bool]:
    """The grids SETTINGS names, ready to run, and whether it is a folder of grids."""
    from debinn_jax.data.locate import execution_folders
    from debinn_jax.execution import SettingsError
    from debinn_jax.execution.jobs import prepare_job

    path = Path(args.settings)
    folders = execution_folders(path) if path.is_dir() else [path]
    if not folders:
        raise UserError(
            f"{path}: no executionSettings.csv in it or in its sub-folders; expected an "
            "execution folder, its executionSettings.csv or the authors' Executions folder"
        )
    many = path.is_dir() and folders != [path]
    if many and args.compare:
        raise UserError(
            f"--compare names one summary.csv; {path} holds {len(folders)} grids: give "
            "--reference DIR (DIR/<grid name>/summary.csv) instead"
        )
    jobs = []
    for folder in folders:
        try:
            job = prepare_job(folder, data=args.data, only=args.only, reference=args.reference)
        except SettingsError as err:
            raise UserError(str(err)) from None
        if args.zero_spread is not None:
            spread = args.zero_spread
            runs = tuple(
                dataclasses.replace(r, spec=dataclasses.replace(r.spec, zero_spread=spread))
                for r in job.runs
            )
            job = dataclasses.replace(job, runs=runs)
        jobs.append(job)
    return jobs, many


def _run_grid(args: argparse.Namespace) -> int:
    from debinn_jax.execution import inert_keys
    from debinn_jax.execution.jobs import overview_csv, overview_markdown, overview_row
    from debinn_jax.execution.lock import current_holder
    from debinn_jax.execution.progress import duration
    from debinn_jax.io import write_text_atomic
    from debinn_jax.stopping import RunInterrupted

    t0 = time.perf_counter()
    try:
        jobs, many = _jobs(args)
    except KeyboardInterrupt:
        raise RunInterrupted(
            signal.SIGINT, "interrupted while reading the settings and data; nothing was trained"
        ) from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    holder = current_holder()
    outs = [out / job.name if many else out for job in jobs]
    for job_out in outs:
        if (job_out / "executionSettings.csv").exists():
            raise UserError(
                f"--out {job_out}: an execution folder (it holds executionSettings.csv); "
                "results written there would replace the authors' summary.csv: choose another"
            )
    meter = None
    if many:
        meter = _set_meter(jobs, outs, args.restart)
        print(
            f"{len(jobs)} grids in {args.settings}: "
            f"{sum(len(j.runs) * len(j.folds) for j in jobs)} runs asked for, "
            f"{meter.runs_total - meter.runs_done} to train; output in {out}/<grid>/"
        )
    peak: dict[str, Any] = {}
    rows = []
    for k, (job, job_out) in enumerate(zip(jobs, outs)):
        tag = f"[{k + 1}/{len(jobs)} {job.name}] " if many else ""
        print(
            f"{tag}settings: {job.settings.path}: {len(job.runs)} column"
            f"{'s' * (len(job.runs) != 1)} x {len(job.folds)} fold(s), data {job.data_name} "
            f"from {job.data_source}"
        )
        if k == 0 or not many:
            for key, why in inert_keys(job.settings).items():
                print(f"  key {key}: accepted, no effect here ({why})")
        result = _run_job(args, job, job_out, holder, meter, tag, k, len(jobs))
        try:
            _report(job, job_out, result, holder, peak, tag)
        except KeyboardInterrupt:  # the grid's runs are saved; only its cost report is not
            grids = f" of grid {job.name} ({k + 1} of {len(jobs)})" if many else ""
            raise RunInterrupted(
                signal.SIGINT,
                f"interrupted during the cost report{grids}; every run is saved in "
                f"{job_out / 'results.json'}: rerun the same command to go on",
            ) from None
        if args.replay:
            _replay_comparison(args, job, job_out, result.records)
        rows.append(overview_row(job, result.records))
        if many and k + 1 < len(jobs):  # the next grid is another network: free this one's
            from debinn_jax.cache import release_compiled_programs

            release_compiled_programs()
    if many:
        write_text_atomic(out / "overview.md", overview_markdown(rows))
        write_text_atomic(out / "overview.csv", overview_csv(rows))
        print("overview (test BACC; authors: their summary.csv, same settings):")
        for line in overview_markdown(rows).splitlines():
            print("  " + line)
        print(
            f"all {len(jobs)} grids done in {duration(time.perf_counter() - t0)}; wrote "
            f"{out / 'overview.md'} and {out / 'overview.csv'}"
        )
    return 0


def _set_meter(jobs: list[Any], outs: list[Path], restart: bool) -> Any:
    """One work meter over every grid of a set (the progress lines' overall ETA)."""
    from debinn_jax.execution.jobs import pending_work
    from debinn_jax.execution.progress import WorkMeter

    units, done, total = 0.0, 0, 0
    for job, job_out in zip(jobs, outs):
        u, d, t = pending_work(job, job_out, restart)
        units, done, total = units + u, done + d, total + t
    return WorkMeter(units, runs_total=total, runs_done=done, scope="all grids")


def _run_job(
    args: argparse.Namespace,
    job: Any,
    job_out: Path,
    holder: Any,
    meter: Any,
    tag: str,
    k: int,
    n_jobs: int,
) -> Any:
    """Run one grid; an interruption becomes the command's one-line message."""
    from debinn_jax.execution import run_grid
    from debinn_jax.execution.grid import GridInterrupted
    from debinn_jax.stopping import RunInterrupted

    try:
        return run_grid(
            list(job.runs),
            list(job.folds),
            out=job_out,
            seed=args.seed,
            batch=args.batch,
            threads=args.threads,
            resume=not args.restart,
            progress=lambda line: print(f"  {tag}{line}", flush=True),
            shared_key=args.keys == "shared",
            wait=not args.no_wait,
            meter=meter,
            holder=holder,
            replay=args.replay,
        )
    except GridInterrupted as exc:
        where = exc.where()
        if n_jobs > 1:
            where = where.replace(
                "interrupted", f"interrupted in grid {job.name} ({k + 1} of {n_jobs})", 1
            )
        hint = exc.resume_hint("rerun the same command")
        raise RunInterrupted(exc.signum, where + (f"; {hint}" if hint else "")) from None


def _replay_comparison(args: argparse.Namespace, job: Any, job_out: Path, records: object) -> None:
    """Set a replay's records against the authors' summary.csv (``--compare``, else the
    grid's own: beside its settings or in ``--reference``); print and write the table."""
    from debinn_jax.execution.compare import (
        compare_rows,
        counts,
        read_authors_summary,
        replay_report,
    )
    from debinn_jax.io import write_json_atomic, write_text_atomic

    path = job.authors_summary
    if args.compare:
        path = Path(args.compare)
        if not path.is_file():
            raise UserError(f"--compare {path}: no such file (the authors' summary.csv)")
    if path is None:
        print("no authors' summary.csv beside the settings (--compare names one): not compared")
        return
    data_name = job.data_name
    rows = compare_rows(records, read_authors_summary(path), data_name)
    c = counts(rows)
    where = f"{path.parent.name}/{path.name}"  # no machine-specific path in the reports
    name = job.name if job.name.startswith(data_name) else f"{data_name} {job.name}"
    title = f"Replay of {name} ({args.replay} rules) vs {where}"
    write_text_atomic(job_out / "replay.md", replay_report(rows, title))
    write_json_atomic(job_out / "replay.json", {"authors_summary": where, "rows": rows})
    print(
        f"replay vs {path}: {c['exact']} exact, {c['twin']} as their DropConnect twin, "
        f"{c['differs']} differ, {c['missing']} not in the summary; "
        f"wrote {job_out / 'replay.md'}"
    )
    for r in rows:
        if r["status"] == "differs":
            first = (r.get("near_ties") or {}).get("first_close")
            why = f"near tie at iteration {first[0]} ({first[1]})" if first else "no near tie"
            print(
                f"  {r['name']}: ours BACC {r['ours_bacc']:.2f}, "
                f"authors {r['authors_bacc']:.2f}; {why}"
            )


def _report(
    job: Any, job_out: Path, result: Any, holder: Any, peak: dict[str, Any], tag: str
) -> None:
    """The grid's summary lines and its cost report (printed, and saved in cost.json/.md)."""
    import numpy as np

    from debinn_jax.execution.cost import (
        cost_report,
        format_cost,
        matmul_peak,
        save_cost,
        work_of,
    )
    from debinn_jax.execution.jobs import authors_bacc
    from debinn_jax.execution.progress import count_runs

    names = {r.name for r in job.runs}
    mine = [r for r in result.records if r["name"] in names]
    bacc = np.array([r["test"]["BACC"] for r in mine])
    t = result.timing
    n_trained = sum("same_run_as" not in r for r in result.trained)
    print(
        f"{tag}done: {count_runs(len(mine))} ({n_trained} trained in this "
        "session); test BACC median "
        f"{np.median(bacc):.3f}, mean {np.mean(bacc):.3f}; {t['seconds']:.0f} s "
        f"({t['phases']['compile']:.0f} s tracing and compiling, {t['compile_groups']} run "
        f"program{'s' * (t['compile_groups'] != 1)})"
    )
    theirs = authors_bacc(job)
    same = [theirs[n] for n in sorted(names) if n in theirs]
    if same:
        print(
            f"{tag}authors ({job.authors_summary}): test BACC median {np.median(same):.3f}, "
            f"mean {np.mean(same):.3f} over the same {len(same)} settings"
        )
    print(f"{tag}wrote {job_out / 'results.json'} and {job_out / 'summary.csv'}")
    if not result.trained:
        return
    if not peak:  # measured once per command, in the grid's precision, after a grid ran
        peak.update(matmul_peak())
    labels = {name: np.asarray(fold.train.y) for name, fold in job.folds}
    work = work_of(job.runs, result.trained, labels, result.session_generations)
    report = cost_report(work, t["phases"], t["seconds"], peak)
    save_cost(job_out, job.name, report, holder)
    for line in format_cost(job.name, report):
        print(f"{tag}{line}")
    print(f"{tag}wrote {job_out / 'cost.json'} and {job_out / 'cost.md'}")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``grid`` sub-command."""
    p = add_command(
        sub,
        "grid",
        help="run every setting of an execution folder of the authors' 2025 program",
        description=(
            "Train the authors' 2025 GA for every settings column of an executionSettings.csv "
            "(or of every execution folder of their Executions folder) on every fold, as "
            "batched compiled sweeps, and write results.json, summary.csv and a cost report."
        ),
        epilog=GRID_EPILOG,
        run=run_grid_command,
    )
    p.add_argument(
        "settings",
        metavar="SETTINGS",
        help="execution folder, executionSettings.csv, or a folder of execution folders",
    )
    p.add_argument(
        "--data",
        help="Fold folder, folder of Fold-* folders, dataset folder or Datasets folder",
    )
    p.add_argument("--out", required=True, help="output folder (created; resumed when present)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="host threads, each training its own share of a batch's runs side by side "
        "(default: one per CPU core on a CPU, 1 on a GPU)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        help="runs per compiled call (default: 16 on a CPU, mapped one at a time; every run of "
        "a compiled program at once, vmapped, on a GPU)",
    )
    p.add_argument(
        "--only",
        type=comma_list,
        help="comma-separated columns to run: full names or their last part (S5); default all",
    )
    p.add_argument("--restart", action="store_true", help="ignore finished runs in --out")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="refuse (naming the process) instead of waiting when another run trains some of "
        "the same columns into --out",
    )
    p.add_argument(
        "--reference",
        metavar="DIR",
        help="folder of the authors' results, DIR/<grid name>/summary.csv (default: the "
        "summary.csv next to each executionSettings.csv)",
    )
    p.add_argument(
        "--keys",
        choices=("per-column", "shared"),
        default="per-column",
        help="per-column: one random key per column (default); shared: the same key for "
        "every column, as the authors' program (see 'random keys' below)",
    )
    p.add_argument(
        "--replay",
        choices=("msvc", "libstdc++"),
        help="repeat the authors' runs exactly with their random streams, under the rules of "
        "their Windows build (msvc: the published results) or their Linux binary "
        "(libstdc++); float64 only; compares each row with the authors' summary.csv (see "
        "'replay' below)",
    )
    p.add_argument(
        "--zero-spread",
        type=float,
        choices=(0.0, 1.0),
        default=None,
        help="weight standardisation of a layer whose weights are all equal (the Singularity "
        "start): every weight becomes 1 (default) or 0; only runs with standardisation and "
        "an L1/L2 penalty differ",
    )
    p.add_argument(
        "--compare",
        metavar="SUMMARY",
        help="the authors' summary.csv to compare a replay with (default: summary.csv beside "
        "the settings, or in --reference)",
    )
    p.add_argument(
        "--precision",
        choices=("float64", "float32"),
        default="float64",
        help=(
            "float64 (default: the authors' program computes in double precision) or float32 "
            "(about 2x faster; no accuracy difference detected on the DLBCL grids)"
        ),
    )
