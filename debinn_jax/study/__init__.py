"""The GA-vs-GD reproduction study (``debinn reproduce``): configs, data, runs, statistics, report.

One readable TOML file per task (``debinn_jax/study/configs/<task>.toml``, installed with the
package) says where the data come from, how they are split, which network layouts are
candidates, and the GA, GD and baseline settings. :func:`run_study` then, per task:

1. prepares one train/test split per seed (two-moons and fetal CTG: a stratified 70/30 split per
   seed, features standardised on the training split only; DLBCL and HECKTOR-LITE: the authors'
   fixed Fold-1 split, seeds vary only the training);
2. chooses the layout among the candidates on an *inner validation split* of the first seed's
   training data with a small GA budget (never on test) and records the choice;
3. trains the GA (all seeds in one compiled call, :func:`debinn_jax.sweep.run_many`), GD
   (:func:`debinn_jax.gd.train_gd` per seed, its starts batched) and scikit-learn baselines
   (logistic regression, random forest, an MLP with the same hidden sizes) on the same splits;
4. evaluates every run on its held-out test split and writes one record per task x method x seed.

Outputs (all written atomically into ``out``): ``results.json``, ``summary.md`` (mean ± sd and a
percentile-bootstrap 95 % CI over seeds, next to the paper's figures, with a plain statement of
where the GA does not reproduce them) and PNG figures.

Nothing here reads test labels before a model is final (the 2025 grid's *authors' protocol*
rows, labelled as such, are the one exception: :mod:`debinn_jax.study.grid`).

Layout: :mod:`~debinn_jax.study.config` (the TOML files), :mod:`~debinn_jax.study.tasks`
(splits), :mod:`~debinn_jax.study.runs` (GA, GD, baselines, layout selection),
:mod:`~debinn_jax.study.grid` (the 2025 grid protocols), :mod:`~debinn_jax.study.report`
(statistics, summary, figures); this module runs them. The core library never imports the study.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from debinn_jax.cache import release_compiled_programs
from debinn_jax.execution.progress import count_runs
from debinn_jax.network import dense_param_count
from debinn_jax.study.config import (
    BASELINES,
    METHOD_LABELS,
    METHODS,
    RECORD_FIELDS,
    RESULTS_FORMAT,
    RESULTS_VERSION,
    ROW_METHODS,
    TASK_KINDS,
    BaselineConfig,
    ConfigError,
    PaperFigures,
    SelectionConfig,
    StudyConfig,
    TaskConfig,
    default_config_dir,
    default_data_dir,
    load_configs,
    load_study_config,
)
from debinn_jax.study.gd2025 import (
    GD_PROTOCOL_METHODS,
    PAIRED_WITH,
    GDProtocolConfig,
    gd_protocols,
)
from debinn_jax.study.grid import PROTOCOL_METHODS, GridProtocolConfig, grid_protocols
from debinn_jax.study.report import (
    _fmt,
    bootstrap_ci,
    comparisons_2025,
    like_for_like_table,
    machine_description,
    make_figures,
    mean_sd,
    paired_comparison,
    summarize,
    verdict,
    verdict_2025,
    write_summary,
)
from debinn_jax.study.runs import (
    MethodOutcome,
    checkpoint_path,
    fit_ga_runs,
    run_baseline,
    run_ga,
    run_gd,
    run_key,
    select_architecture,
)
from debinn_jax.study.tasks import (
    DataMissing,
    Split,
    TaskData,
    expected_data_path,
    inner_split,
    prepare_task,
    scale_features,
)

__all__ = [
    "BASELINES",
    "METHODS",
    "METHOD_LABELS",
    "PROTOCOL_METHODS",
    "RECORD_FIELDS",
    "RESULTS_FORMAT",
    "RESULTS_VERSION",
    "ROW_METHODS",
    "TASK_KINDS",
    "BaselineConfig",
    "ConfigError",
    "DataMissing",
    "GD_PROTOCOL_METHODS",
    "GDProtocolConfig",
    "GridProtocolConfig",
    "MethodOutcome",
    "PAIRED_WITH",
    "PaperFigures",
    "ResumeError",
    "SelectionConfig",
    "Split",
    "StudyConfig",
    "TaskConfig",
    "TaskData",
    "bootstrap_ci",
    "checkpoint_path",
    "comparisons_2025",
    "default_config_dir",
    "default_data_dir",
    "expected_data_path",
    "fit_ga_runs",
    "gd_protocols",
    "grid_protocols",
    "inner_split",
    "like_for_like_table",
    "load_configs",
    "load_study_config",
    "machine_description",
    "make_figures",
    "mean_sd",
    "paired_comparison",
    "prepare_task",
    "run_baseline",
    "run_ga",
    "run_ga2025",
    "run_gd",
    "run_gd2025",
    "run_key",
    "run_study",
    "scale_features",
    "select_architecture",
    "summarize",
    "verdict",
    "verdict_2025",
    "write_summary",
]

# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj))
    return obj


class ResumeError(ValueError):
    """``--resume`` cannot use the output folder's ``results.json``: unreadable, or written for
    another config, seed count or data (the message names the file and the task)."""


def task_fingerprint(cfg: StudyConfig, n_seeds: int) -> str:
    """Digest of a task's config (without the file's location) and seed count."""
    from debinn_jax.checkpoint import digest

    return digest(dataclasses.replace(cfg, path=Path(Path(cfg.path).name)), n_seeds)


def data_fingerprint(data: TaskData) -> str:
    """Digest of a task's prepared splits (every seed's training and test arrays)."""
    from debinn_jax.checkpoint import digest

    parts = []
    for s in data.splits:
        parts += [s.seed, s.X_train, s.y_train, s.X_test, s.y_test]
    return digest(*parts)


def _previous_results(
    path: Path, configs: Sequence[StudyConfig], seeds: int | None
) -> dict[str, Any] | None:
    """The ``results.json`` a resumed study continues, checked against this run's configs
    (None: there is none yet). Raises :class:`ResumeError` (one line)."""
    import json

    if not path.exists():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResumeError(f"--resume: cannot read {path} ({exc})") from None
    if not isinstance(old, dict) or old.get("format") != RESULTS_FORMAT:
        raise ResumeError(f"--resume: {path} is not a results file of debinn reproduce")
    if old.get("format_version") != RESULTS_VERSION:
        raise ResumeError(
            f"--resume: {path} has format version {old.get('format_version')!r}, this "
            f"debinn-jax writes {RESULTS_VERSION}; use another --out"
        )
    entries = {t.get("name"): t for t in old.get("tasks", []) if not t.get("skipped")}
    for cfg in configs:
        name = cfg.task.name
        n_seeds = seeds if seeds is not None else cfg.task.seeds
        t = entries.get(name)
        if t is None:
            if any(r.get("task") == name for r in old.get("records", [])):
                raise ResumeError(f"--resume: {path} holds records of task {name} but no entry")
            continue
        if "fingerprint" not in t:
            raise ResumeError(
                f"--resume: {path} was written by a debinn-jax without --resume support "
                f"(task {name} has no fingerprint); use another --out or drop --resume"
            )
        if t["fingerprint"].get("config") != task_fingerprint(cfg, n_seeds):
            raise ResumeError(
                f"--resume: {path} was written with another config or seed count for task "
                f"{name} (its records would not match); use another --out or drop --resume"
            )
    return old


def run_ga2025(
    cfg: StudyConfig,
    data: TaskData,
    out: Path,
    base: Mapping[str, Any],
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The 2025 GA's regulariser grid under the authors' and the honest protocol
    (:func:`debinn_jax.study.grid.grid_protocols`) on seed 0's split of a task.

    The honest protocol's inner split is a stratified ``validation_size`` split of the training
    data (features re-scaled on the inner training part when the task scales).

    Returns:
        The protocols' details plus ``"records"`` (study records, see
        :data:`debinn_jax.study.grid.PROTOCOL_METHODS`).
    """
    g = cfg.ga2025
    assert g is not None
    s0 = data.splits[0]
    fit, val = inner_split(s0, g.validation_size, g.validation_seed, cfg.task.standardize)
    name = cfg.task.name
    say(
        f"[{name}] ga2025: {len(g.numbers)} settings of the 2025 grid {g.architecture} "
        f"{g.hidden} ({g.precision}), on test and on an inner validation split "
        f"({len(fit[1])} / {len(val[1])} cases); then {g.seeds} seeds per picked setting"
    )
    t0 = time.perf_counter()
    records, details = grid_protocols(
        g,
        (s0.X_train, s0.y_train),
        (s0.X_test, s0.y_test),
        fit,
        val,
        fold_name=Path(cfg.task.path).name or "Fold-1",
        out=out,
        base={**base, "architecture": f"2025 {g.architecture}", "hidden": list(g.hidden)},
        progress=lambda line: say(f"[{name}] ga2025 {line}"),
    )
    _say_protocol_means(records, PROTOCOL_METHODS, name, say)
    details["total_seconds"] = time.perf_counter() - t0
    details["output"] = str(out)
    details["records"] = records
    return details


def run_gd2025(
    cfg: StudyConfig,
    data: TaskData,
    out: Path,
    base: Mapping[str, Any],
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The GD sweep on the 2025 network under the authors' and the honest protocol
    (:func:`debinn_jax.study.gd2025.gd_protocols`) on seed 0's split, with the 2025 GA's inner
    validation split (same cases, same scaling).

    Returns:
        The protocols' details plus ``"records"`` (study records of
        :data:`~debinn_jax.study.gd2025.GD_PROTOCOL_METHODS`).
    """
    g = cfg.gd2025
    assert g is not None
    s0 = data.splits[0]
    fit, val = inner_split(s0, g.validation_size, g.validation_seed, cfg.task.standardize)
    name = cfg.task.name
    say(
        f"[{name}] gd2025: {g.settings} GD settings on the 2025 network {g.architecture} "
        f"{g.hidden} ({g.precision}), on test and on the inner validation split "
        f"({len(fit[1])} / {len(val[1])} cases); then {g.seeds} seeds per picked setting"
    )
    t0 = time.perf_counter()
    records, details = gd_protocols(
        g,
        (s0.X_train, s0.y_train),
        (s0.X_test, s0.y_test),
        fit,
        val,
        fold_name=Path(cfg.task.path).name or "Fold-1",
        out=out,
        base={**base, "architecture": f"2025 {g.architecture}", "hidden": list(g.hidden)},
        progress=lambda line: say(f"[{name}] gd2025 {line}"),
    )
    _say_protocol_means(records, GD_PROTOCOL_METHODS, name, say)
    details["total_seconds"] = time.perf_counter() - t0
    details["output"] = str(out)
    details["records"] = records
    return details


def _say_protocol_means(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    name: str,
    say: Callable[[str], None],
) -> None:
    """One line per protocol method: its mean ± sd test balanced accuracy over its runs."""
    for method in methods:
        vals = [r["test_balanced_accuracy"] for r in records if r["method"] == method]
        m, sd = mean_sd(vals)
        mean_text = f"{_fmt(m)} ± {_fmt(sd)}"
        say(f"[{name}] {method}: test balanced accuracy {mean_text} ({count_runs(len(vals))})")


def run_study(
    configs: Sequence[StudyConfig],
    *,
    data_dir: Path | None,
    out: Path,
    seeds: int | None = None,
    methods: Sequence[str] = METHODS,
    figures: bool = True,
    progress: bool = True,
    bootstrap_seed: int = 0,
    printer: Callable[[str], None] = print,
    resume: bool = False,
) -> dict[str, Any]:
    """Run every task of ``configs``; write ``results.json``, ``summary.md`` and figures.

    ``results.json`` and ``summary.md`` are rewritten (atomically) after every finished
    (task, method, seed) record, so they always show what is finished
    (``meta.status`` and the summary's *status* line say whether the study is complete). GA
    and GD runs keep trainer checkpoints in ``out/checkpoints/<task>/``
    (:mod:`debinn_jax.checkpoint`): a killed run loses at most a chunk of training.

    Args:
        configs: one :class:`StudyConfig` per task.
        data_dir: folder holding the real data (``dlbcl/``, ``hecktor-lite/``, ``ctg/``).
        out: output folder (created).
        seeds: override of the configs' seed counts.
        methods: subset of :data:`METHODS` to run.
        figures: write PNG figures.
        progress: print progress lines per task and method.
        bootstrap_seed: seed of the bootstrap CIs.
        printer: where progress lines go.
        resume: continue the study in ``out``: records already in ``out/results.json`` are kept
            and not run again (their task's config and seed count must be this run's, else
            :class:`ResumeError`), the layout selection is reused, and unfinished GA/GD runs
            resume from their checkpoints. Without it an existing ``results.json`` is
            replaced and old checkpoints are removed.

    Returns:
        The ``results.json`` object. Tasks whose data are missing are listed with a
        ``skipped`` message naming the expected path.
    """
    from debinn_jax.io import write_json_atomic, write_text_atomic

    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; expected some of {METHODS}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    previous = _previous_results(out / "results.json", configs, seeds) if resume else None
    ckpt_root = out / "checkpoints"
    if not resume and ckpt_root.is_dir():
        import shutil

        shutil.rmtree(ckpt_root)  # a fresh study: the old runs' checkpoints are not its own
    t_start = time.perf_counter()
    # a resumed study's wall time adds up over its invocations
    prior_seconds = float((previous or {}).get("meta", {}).get("total_seconds", 0.0) or 0.0)
    quick = any(c.quick for c in configs)
    results: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_VERSION,
        "meta": {
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine_description(),
            "jax": jax.__version__,
            "backend": jax.default_backend(),
            "quick": quick,
            "seeds": seeds if seeds is not None else sorted({c.task.seeds for c in configs}),
            "methods": list(methods),
            "data_dir": None if data_dir is None else str(data_dir),
            "bootstrap_seed": bootstrap_seed,
            "configs": [str(c.path) for c in configs],
            "status": "started",
        },
        "tasks": [],
        "records": [],
        "summary": [],
        "comparisons_2025": [],
        "figures": [],
    }
    old_entries: dict[str, dict[str, Any]] = {}
    if previous is not None:
        names = {c.task.name for c in configs}
        results["meta"]["resumed_from"] = previous.get("meta", {}).get("date")
        results["records"] = list(previous.get("records", []))
        results["figures"] = [f for f in previous.get("figures", []) if (out / f).exists()]
        for t in previous.get("tasks", []):
            if t.get("name") in names:
                old_entries[t["name"]] = t
            else:  # a task this run does not touch: kept as it was
                results["tasks"].append(t)

    def say(text: str) -> None:
        if progress:
            printer(text)

    def status(final: bool = False) -> str:
        counts: dict[tuple[str, str], int] = {}
        for r in results["records"]:
            counts[(r["task"], r["method"])] = counts.get((r["task"], r["method"]), 0) + 1
        parts = []
        for t in results["tasks"]:
            for m in t.get("methods", []):
                if m in ("ga2025", "gd2025"):
                    parts.append(f"{t['name']} {m} {'done' if t.get(m) else 'not done'}")
                else:
                    parts.append(f"{t['name']} {m} {counts.get((t['name'], m), 0)}/{t['seeds']}")
        head = "complete" if final else "partial (running, or interrupted: resume with --resume)"
        return f"{head}; finished runs: {', '.join(parts) or 'none yet'}"

    def save(final: bool = False) -> None:
        results["summary"] = summarize(results["records"], seed=bootstrap_seed)
        results["comparisons_2025"] = comparisons_2025(results["records"], seed=bootstrap_seed)
        results["meta"]["total_seconds"] = prior_seconds + time.perf_counter() - t_start
        results["meta"]["status"] = status(final)
        write_json_atomic(out / "results.json", _jsonable(results))
        write_text_atomic(out / "summary.md", write_summary(results))

    def record_done(rec: dict[str, Any]) -> None:
        results["records"].append(rec)
        save()

    for cfg in configs:
        task = cfg.task
        n_seeds = seeds if seeds is not None else task.seeds
        entry: dict[str, Any] = {"name": task.name, "title": task.title, "config": str(cfg.path)}
        try:
            data = prepare_task(task, data_dir, list(range(n_seeds)))
        except DataMissing as exc:
            say(str(exc))
            entry["skipped"] = str(exc)
            results["tasks"].append(entry)
            save()
            continue
        t_task = time.perf_counter()
        fingerprint = {"config": task_fingerprint(cfg, n_seeds), "data": data_fingerprint(data)}
        old_entry = old_entries.get(task.name)
        if old_entry is not None and old_entry.get("fingerprint") != fingerprint:
            raise ResumeError(
                f"--resume: {out / 'results.json'} was written with other data for task "
                f"{task.name} (its records would not match); use another --out or drop --resume"
            )
        done: dict[str, dict[int, dict[str, Any]]] = {}
        for r in results["records"]:
            if r.get("task") == task.name:
                done.setdefault(r["method"], {})[int(r["seed"])] = r
        say(f"[{task.name}] {task.title}: {data.protocol}; {n_seeds} seeds")
        todo = [
            m
            for m in METHODS
            if m in methods
            and (
                m in ("ga", "gd")
                or m in cfg.baselines.methods
                or (m == "ga2025" and cfg.ga2025 is not None)
                or (m == "gd2025" and cfg.gd2025 is not None)
            )
        ]
        if old_entry is not None and old_entry.get("selection"):
            selection = old_entry["selection"]  # chosen before (--resume)
        elif any(m not in ("ga2025", "gd2025") for m in todo):
            selection = select_architecture(cfg, data, progress=progress)
        else:  # the 2025 grid has its own architecture: nothing to select
            first = cfg.select if cfg.select != "validation" else cfg.candidates[0][0]
            selection = {
                "selected": first,
                "method": "not used (only the 2025 grids ran)",
                "scores": {},
            }
        arch = selection["selected"]
        hidden = cfg.hidden_of(arch)
        spec_ga = cfg.spec("ga", arch, data.n_features, data.n_classes)
        spec_gd = cfg.spec("gd", arch, data.n_features, data.n_classes)
        say(f"[{task.name}] layout {arch} {hidden} ({selection['method']})")
        entry.update(
            source=data.source,
            protocol=data.protocol,
            n_features=data.n_features,
            n_classes=data.n_classes,
            classes=[str(c) for c in data.classes],
            seeds=n_seeds,
            fingerprint=fingerprint,
            methods=todo,
            selection=selection,
            architecture=arch,
            hidden=list(hidden),
            network_ga=dataclasses.asdict(spec_ga),
            network_gd=dataclasses.asdict(spec_gd),
            dense_params=dense_param_count(spec_ga),
            ga={
                k: v for k, v in dataclasses.asdict(cfg.ga).items() if not k.startswith("algorithm")
            }
            | {"run_batch_size": cfg.run_batch_size, "batch_seeds": cfg.batch_seeds},
            gd=dataclasses.asdict(cfg.gd),
            baselines=dataclasses.asdict(cfg.baselines),
            paper=dataclasses.asdict(cfg.paper),
        )
        for key in ("ga2025", "gd2025"):
            if old_entry is not None and old_entry.get(key):
                entry[key] = old_entry[key]
        results["tasks"].append(entry)  # the summary shows the task while it runs
        save()
        s0 = data.splits[0]
        base = {
            "task": task.name,
            "architecture": arch,
            "hidden": list(hidden),
            "n_train": int(len(s0.y_train)),
            "n_test": int(len(s0.y_test)),
        }
        ckpt_dir = ckpt_root / task.name
        outcomes: dict[str, MethodOutcome] = {}
        for method in todo:
            if method in ("ga2025", "gd2025"):
                assert getattr(cfg, method) is not None
                if entry.get(method):
                    say(f"[{task.name}] {method}: finished before (--resume)")
                    continue
                run_protocols, kinds = (
                    (run_ga2025, PROTOCOL_METHODS)
                    if method == "ga2025"
                    else (run_gd2025, GD_PROTOCOL_METHODS)
                )
                details = run_protocols(cfg, data, out / method / task.name, base, say)
                records = details.pop("records")
                results["records"] = [
                    r
                    for r in results["records"]
                    if not (r.get("task") == task.name and r.get("method") in kinds)
                ] + records
                entry[method] = details
                save()
                release_compiled_programs()  # its grids' programs are not needed again
                continue
            finished = done.get(method, {})
            n_todo = sum(1 for s in data.splits if s.seed not in finished)
            if n_todo == 0:
                say(f"[{task.name}] {method}: {n_seeds} runs finished before (--resume)")
            else:
                say(
                    f"[{task.name}] {method}: {n_todo} runs ..."
                    + (f" ({n_seeds - n_todo} finished before)" if finished else "")
                )
            # every method's record fields, resume state and record callback
            records_kw: dict[str, Any] = dict(
                base=base, done=finished, on_record=record_done, reload_first=figures
            )
            if method == "ga":
                o = run_ga(
                    spec_ga,
                    data.splits,
                    cfg.ga,
                    batch_seeds=cfg.batch_seeds,
                    run_batch_size=cfg.run_batch_size,
                    progress=progress,
                    checkpoints=ckpt_dir,
                    **records_kw,
                )
            elif method == "gd":
                o = run_gd(spec_gd, data.splits, cfg.gd, checkpoints=ckpt_dir, **records_kw)
            else:
                o = run_baseline(
                    method, hidden, data.splits, data.n_classes, cfg.baselines, **records_kw
                )
            outcomes[method] = o
            bacc = mean_sd([r["test_balanced_accuracy"] for r in o.records])
            acc = mean_sd([r["test_accuracy"] for r in o.records])
            say(
                f"[{task.name}] {method}: test balanced accuracy {_fmt(bacc[0])} ± "
                f"{_fmt(bacc[1])}, accuracy {_fmt(acc[0])} ± {_fmt(acc[1])} "
                f"({o.seconds:.1f} s)"
            )
            save()
        if figures and outcomes:
            names = make_figures(out, task, spec_ga, outcomes, s0, data.feature_names, data.classes)
            results["figures"].extend(n for n in names if n not in results["figures"])
            entry["figures"] = names
        entry["seconds"] = time.perf_counter() - t_task
        save()
        say(f"[{task.name}] done in {entry['seconds']:.0f} s")
    save(final=True)
    say(f"wrote {out / 'results.json'} and {out / 'summary.md'}")
    return results
