"""Study runs: GA, GD and scikit-learn baselines per seed, and the layout selection."""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from debinn_jax.ga import GAConfig, train_ga
from debinn_jax.gd import GDConfig, GDResult, train_gd
from debinn_jax.metrics import classification_metrics
from debinn_jax.network import NetworkSpec, param_count
from debinn_jax.study.config import BASELINES, BaselineConfig, StudyConfig
from debinn_jax.study.tasks import Split, TaskData, inner_split
from debinn_jax.sweep import run_many

# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class MethodOutcome:
    """Records of one method on one task, plus seed 0's model for the figures.

    Attributes:
        records: one dict per seed.
        predict_proba: seed 0's ``X -> (n, K)`` probabilities (None if not kept).
        history: seed 0's training curves (GA: fitness per generation; GD: loss per epoch).
        model: seed 0's trained object (``GAResult``, ``GDResult`` or a scikit-learn model).
        seconds: wall time of the method on the task (compilation included).
    """

    records: list[dict[str, Any]]
    predict_proba: Callable[[np.ndarray], np.ndarray] | None = None
    history: dict[str, np.ndarray] | None = None
    model: Any = None
    seconds: float = 0.0


#: ``on_record(record)``: called with each (task, method, seed) record as soon as it is final.
RecordCallback = Callable[[dict[str, Any]], None]


def checkpoint_path(folder: Path | None, method: str, seed: int | None = None) -> Path | None:
    """``folder/<method>[-seed<seed>].ckpt`` (the folder is created), or None without a folder.

    The study keeps one trainer checkpoint per GA/GD run (one per batched GA call); they stay
    after the run ends, so a resumed study gets seed 0's finished model back for the figures
    at the cost of compiling it once.
    """
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (f"{method}.ckpt" if seed is None else f"{method}-seed{seed}.ckpt")


def run_key(seed: int, method: str) -> jax.Array:
    """The PRNG key of ``method`` for run ``seed`` (independent streams per method)."""
    stream = {"ga": 0, "gd": 1, "selection": 2}[method]
    return jax.random.fold_in(jax.random.key(seed), stream)


def _metrics_record(
    y_test: np.ndarray, proba: np.ndarray, y_train: np.ndarray, proba_train: np.ndarray
) -> dict[str, float]:
    m = classification_metrics(y_test, proba)
    mt = classification_metrics(y_train, proba_train)
    rec = {f"test_{k}": float(v) for k, v in m.items()}
    rec["train_balanced_accuracy"] = float(mt["balanced_accuracy"])
    rec["train_accuracy"] = float(mt["accuracy"])
    return rec


def fit_ga_runs(
    spec: NetworkSpec,
    data: Sequence[tuple[np.ndarray, np.ndarray]],
    keys: Sequence[jax.Array],
    config: GAConfig,
    *,
    batch_seeds: bool = False,
    run_batch_size: int | None = 1,
    progress: bool = False,
    checkpoint: Path | None = None,
) -> tuple[list[Any], list[float], float]:
    """Train one GA run per ``(X, y)`` pair and key.

    ``checkpoint``: the batched call's checkpoint file (:func:`debinn_jax.sweep.run_many`);
    not used one run at a time.

    Returns:
        ``(results, seconds per run, total seconds)``; each result has ``predict_proba``,
        ``history``, ``generations_run`` and ``coords`` (:class:`debinn_jax.ga.GAResult`).
        Batched: one :func:`debinn_jax.sweep.run_many` call (per-run seconds = total / runs).
    """
    t0 = time.perf_counter()
    if batch_seeds:
        X0, y0 = data[0]
        if all(x is X0 and y is y0 for x, y in data):
            X, y = X0, y0
        else:
            X, y = np.stack([d[0] for d in data]), np.stack([d[1] for d in data])
        res = run_many(
            spec,
            X,
            y,
            jax.numpy.stack(list(keys)),
            config,
            run_batch_size=run_batch_size,
            progress=progress,
            checkpoint=checkpoint,
        )
        seconds = time.perf_counter() - t0
        return [res.run(i) for i in range(len(data))], [seconds / len(data)] * len(data), seconds
    results, per_run = [], []
    for (X, y), k in zip(data, keys):
        r = train_ga(spec, X, y, k, config)
        results.append(r)
        per_run.append(float(r.seconds))
    return results, per_run, time.perf_counter() - t0


def _ga_record(
    spec: NetworkSpec,
    s: Split,
    r: Any,
    seconds: float,
    config: GAConfig,
    batched: int,
    base: Mapping[str, Any] | None,
) -> dict[str, Any]:
    rec = dict(base or {})
    rec.update(
        method="ga",
        seed=s.seed,
        n_params=param_count(spec),
        train_seconds=seconds,
        generations_or_epochs=int(r.generations_run),
        early_stopped=bool(r.generations_run < config.generations),
        batched_runs=batched,
    )
    rec.update(
        _metrics_record(s.y_test, r.predict_proba(s.X_test), s.y_train, r.predict_proba(s.X_train))
    )
    return rec


def _outcome(
    records: list[dict[str, Any]], first: Any, seconds: float, history: bool = True
) -> MethodOutcome:
    """A method's outcome; ``first`` (seed 0's model) may be None on a resumed study."""
    return MethodOutcome(
        records=records,
        predict_proba=None if first is None else first.predict_proba,
        history=(
            {k: np.asarray(v) for k, v in first.history.items()}
            if history and first is not None
            else None
        ),
        model=first,
        seconds=seconds,
    )


def _per_seed(
    method: str,
    splits: Sequence[Split],
    train: Callable[[Split, Path | None, bool], Any],
    record: Callable[[Split, Any], dict[str, Any]],
    checkpoints: Path | None,
    done: Mapping[int, Mapping[str, Any]],
    on_record: RecordCallback | None,
    reload_first: bool,
) -> tuple[list[dict[str, Any]], Any]:
    """One trainer call per seed, the loop of :func:`run_ga` (unbatched) and :func:`run_gd`.

    ``train(split, checkpoint, reload)`` trains on the split (``reload``: only reloads seed 0's
    finished checkpoint, for the figures); ``record(split, result)`` is the new record. Seeds in
    ``done`` keep their record. Returns the records, in split order, and seed 0's result (None
    when it was done and not reloaded).
    """
    records: list[dict[str, Any]] = []
    first = None
    for i, s in enumerate(splits):
        path = checkpoint_path(checkpoints, method, s.seed)
        if s.seed in done:
            records.append(dict(done[s.seed]))
            if reload_first and i == 0 and path is not None and path.exists():
                first = train(s, path, True)
            continue
        r = train(s, path, False)
        if i == 0:
            first = r
        rec = record(s, r)
        records.append(rec)
        if on_record is not None:
            on_record(rec)
    return records, first


def run_ga(
    spec: NetworkSpec,
    splits: Sequence[Split],
    config: GAConfig,
    *,
    batch_seeds: bool = False,
    run_batch_size: int | None = 1,
    progress: bool = False,
    base: Mapping[str, Any] | None = None,
    checkpoints: Path | None = None,
    done: Mapping[int, Mapping[str, Any]] | None = None,
    on_record: RecordCallback | None = None,
    reload_first: bool = True,
) -> MethodOutcome:
    """GA runs for all ``splits``.

    With ``batch_seeds`` all seeds train in one batched compiled call
    (:func:`debinn_jax.sweep.run_many`, runs mapped in batches of ``run_batch_size``) and
    ``train_seconds`` of each record is that call's wall time (compilation included) divided by
    the number of runs; otherwise :func:`debinn_jax.ga.train_ga` runs once per seed.

    Resuming: ``checkpoints`` is a folder for the trainers' checkpoints
    (:func:`checkpoint_path`); ``done`` maps seeds to records finished earlier, which are kept
    as they are and not trained again (seed 0's model is reloaded from its finished
    checkpoint when there is one and ``reload_first``, for the figures). ``on_record`` gets
    every new record as soon as it is final (all at once when batched).
    """
    done = dict(done or {})
    records: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if batch_seeds:
        path = checkpoint_path(checkpoints, "ga")
        all_done = all(s.seed in done for s in splits)
        if all_done and (not reload_first or path is None or not path.exists()):
            return _outcome([dict(done[s.seed]) for s in splits], None, 0.0)
        results, per_run, seconds = fit_ga_runs(
            spec,
            [(s.X_train, s.y_train) for s in splits],
            [run_key(s.seed, "ga") for s in splits],
            config,
            batch_seeds=True,
            run_batch_size=run_batch_size,
            progress=progress,
            checkpoint=path,
        )
        for s, r, sec in zip(splits, results, per_run):
            if s.seed in done:
                records.append(dict(done[s.seed]))
                continue
            rec = _ga_record(spec, s, r, sec, config, len(splits), base)
            records.append(rec)
            if on_record is not None:
                on_record(rec)
        return _outcome(records, results[0], seconds)

    def train(s: Split, path: Path | None, reload: bool) -> Any:  # reloading: the same call
        return train_ga(spec, s.X_train, s.y_train, run_key(s.seed, "ga"), config, checkpoint=path)

    def record(s: Split, r: Any) -> dict[str, Any]:
        return _ga_record(spec, s, r, float(r.seconds), config, 1, base)

    records, first = _per_seed(
        "ga", splits, train, record, checkpoints, done, on_record, reload_first
    )
    return _outcome(records, first, time.perf_counter() - t0)


def run_gd(
    spec: NetworkSpec,
    splits: Sequence[Split],
    config: GDConfig,
    *,
    progress: bool = False,
    base: Mapping[str, Any] | None = None,
    checkpoints: Path | None = None,
    done: Mapping[int, Mapping[str, Any]] | None = None,
    on_record: RecordCallback | None = None,
    reload_first: bool = True,
) -> MethodOutcome:
    """GD runs, one :func:`debinn_jax.gd.train_gd` call per seed (its starts are batched).

    ``checkpoints``, ``done``, ``on_record`` and ``reload_first``: as in :func:`run_ga`.
    """
    t_all = time.perf_counter()

    def train(s: Split, path: Path | None, reload: bool) -> GDResult:
        key = run_key(s.seed, "gd")
        if reload:
            return train_gd(spec, s.X_train, s.y_train, key, config, checkpoint=path)
        return train_gd(spec, s.X_train, s.y_train, key, config, progress=progress, checkpoint=path)

    def record(s: Split, r: GDResult) -> dict[str, Any]:
        rec = dict(base or {})
        rec.update(
            method="gd",
            seed=s.seed,
            n_params=param_count(spec),
            train_seconds=float(r.seconds),
            generations_or_epochs=int(r.epochs_run),
            best_epoch=int(r.best_epoch),
            starts=int(config.starts),
        )
        rec.update(
            _metrics_record(
                s.y_test, r.predict_proba(s.X_test), s.y_train, r.predict_proba(s.X_train)
            )
        )
        return rec

    records, first = _per_seed(
        "gd", splits, train, record, checkpoints, done or {}, on_record, reload_first
    )
    return _outcome(records, first, time.perf_counter() - t_all)


def make_baseline(method: str, hidden: tuple[int, ...], seed: int, config: BaselineConfig) -> Any:
    """An unfitted scikit-learn estimator for baseline ``method``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    cw = None if config.class_weight == "none" else "balanced"
    if method == "logreg":
        return LogisticRegression(max_iter=5000, class_weight=cw)
    if method == "random_forest":
        return RandomForestClassifier(
            n_estimators=config.rf_trees, class_weight=cw, random_state=seed, n_jobs=1
        )
    if method == "mlp":
        return MLPClassifier(
            hidden_layer_sizes=hidden, max_iter=config.mlp_max_iter, random_state=seed
        )
    raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")


def baseline_param_count(model: Any) -> int | None:
    """Trainable parameters of a fitted linear model or MLP; None for a random forest."""
    if hasattr(model, "coefs_"):
        return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    if hasattr(model, "coef_"):
        return int(model.coef_.size + model.intercept_.size)
    return None


def _full_proba(model: Any, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` with one column per class even if a class was absent in training."""
    p = model.predict_proba(X)
    out = np.zeros((X.shape[0], n_classes))
    out[:, np.asarray(model.classes_, int)] = p
    return out


def run_baseline(
    method: str,
    hidden: tuple[int, ...],
    splits: Sequence[Split],
    n_classes: int,
    config: BaselineConfig,
    *,
    base: Mapping[str, Any] | None = None,
    done: Mapping[int, Mapping[str, Any]] | None = None,
    on_record: RecordCallback | None = None,
    reload_first: bool = True,
) -> MethodOutcome:
    """Fit a scikit-learn baseline on every split; record test metrics.

    ``done``, ``on_record`` and ``reload_first``: as in :func:`run_ga` (seed 0's model, when
    done, is fitted again for the figures: the baselines are cheap and seeded).
    """
    from sklearn.exceptions import ConvergenceWarning

    done = dict(done or {})
    records = []
    first = None
    t_all = time.perf_counter()
    for i, s in enumerate(splits):
        if s.seed in done:
            records.append(dict(done[s.seed]))
            if i != 0 or not reload_first:
                continue
        model = make_baseline(method, hidden, s.seed, config)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            model.fit(s.X_train, s.y_train)
        dt = time.perf_counter() - t0
        if first is None:
            first = model
        if s.seed in done:
            continue
        rec = dict(base or {})
        n_iter = getattr(model, "n_iter_", None)
        rec.update(
            method=method,
            seed=s.seed,
            n_params=baseline_param_count(model),
            train_seconds=dt,
            generations_or_epochs=None if n_iter is None else int(np.max(n_iter)),
        )
        if method == "random_forest":
            rec["n_nodes"] = int(sum(t.tree_.node_count for t in model.estimators_))
        if method != "mlp":
            rec["hidden"] = None
            rec["architecture"] = None
        rec.update(
            _metrics_record(
                s.y_test,
                _full_proba(model, s.X_test, n_classes),
                s.y_train,
                _full_proba(model, s.X_train, n_classes),
            )
        )
        records.append(rec)
        if on_record is not None:
            on_record(rec)
    return MethodOutcome(
        records=records,
        predict_proba=None if first is None else (lambda X: _full_proba(first, X, n_classes)),
        model=first,
        seconds=time.perf_counter() - t_all,
    )


def select_architecture(
    config: StudyConfig, data: TaskData, *, progress: bool = False
) -> dict[str, Any]:
    """Choose the layout on an inner validation split of seed 0's training data (GA, small budget).

    The training split of the first seed is split again (stratified, ``validation_size``), the
    features re-standardised on the inner training part only, and every candidate trained by
    ``selection.seeds`` GA runs; the highest mean validation balanced accuracy wins (ties: the
    candidate listed first). With ``select`` set to a candidate name, that one is used.

    Returns:
        ``{"selected", "method", "scores": {name: {"val_balanced_accuracy": [...], "mean"}}}``.
    """
    if config.select != "validation":
        return {"selected": config.select, "method": "fixed in config", "scores": {}}
    if len(config.candidates) == 1:
        name = config.candidates[0][0]
        return {"selected": name, "method": "only candidate", "scores": {}}
    sel = config.selection
    s0 = data.splits[0]
    (X_tr, y_tr), (X_va, y_va) = inner_split(
        s0, sel.validation_size, sel.seed, config.task.standardize
    )
    ga = dataclasses.replace(
        config.ga,
        population_size=sel.population_size,
        generations=sel.generations,
        early_stopping=None,
    )
    scores: dict[str, Any] = {}
    seeds = [sel.seed + i for i in range(sel.seeds)]
    keys = [run_key(s, "selection") for s in seeds]
    for name, hidden in config.candidates:
        spec = config.spec("ga", name, data.n_features, data.n_classes)
        t0 = time.perf_counter()
        fits, _, _ = fit_ga_runs(
            spec,
            [(X_tr, y_tr)] * len(seeds),
            keys,
            ga,
            batch_seeds=config.batch_seeds,
            run_batch_size=config.run_batch_size,
        )
        vals = [
            float(classification_metrics(y_va, r.predict_proba(X_va))["balanced_accuracy"])
            for r in fits
        ]
        scores[name] = {
            "hidden": list(hidden),
            "n_params": param_count(spec),
            "val_balanced_accuracy": vals,
            "mean": float(np.mean(vals)),
            "seconds": time.perf_counter() - t0,
        }
        if progress:
            print(
                f"[{config.task.name}] select: {name} {hidden}: validation balanced accuracy "
                f"{np.mean(vals):.3f} ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    best = max(scores, key=lambda n: (scores[n]["mean"], -list(scores).index(n)))
    return {
        "selected": best,
        "method": (
            f"GA validation balanced accuracy on an inner {round(100 * sel.validation_size)} % "
            f"split of seed {data.splits[0].seed}'s training data "
            f"({len(y_tr)} train / {len(y_va)} validation cases; population "
            f"{sel.population_size}, {sel.generations} generations, {sel.seeds} runs per layout)"
        ),
        "scores": scores,
    }
