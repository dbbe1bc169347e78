"""The GD counterpart of the authors' regulariser grid: a GD sweep on the 2025 network.

The 2025 GA is tuned by the authors' 128-setting regulariser grid (DEBINN-2025.md section 5:
shift-scale, weight standardisation, group normalisation, spatial dropout, DropConnect (inert),
L2, L1; one run per setting). :func:`gd_grid_runs` builds the like-for-like sweep for gradient
descent: every one of the grid's 64 distinct regulariser settings (DropConnect dropped, as it
is inert) twice, each time with GD hyper-parameters (optimiser, learning rate, schedule,
epochs, patience, starts, initial scale) drawn by a seeded Latin-hypercube design over
:class:`GDSpace`, so every value of every hyper-parameter appears equally often over the 128
settings. :func:`run_gd_grid` trains the settings on folds with
:func:`debinn_jax.gd.run_many_gd` (runs that differ only in numbers, switches and optimiser
share one compiled program; shift-scale genes and the start count make the compile groups)
and writes ``results.json`` and ``summary.csv`` after every batch, atomically, with the
conventions of :func:`debinn_jax.execution.run_grid`: an interrupted grid resumes without
redoing finished settings, and a batch killed part-way resumes from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.data.dataset import DataError, Fold

#: The regulariser switches of a GD setting, in the order of their bits: the GA grid's bits
#: without DropConnect (inert in the 2025 program), shift-scale last (it changes the genome, so
#: the first 32 settings share one compiled program).
GD_REGULARISER_BITS = (
    "standardize_weights",
    "normalization",
    "spatial_dropout",
    "l2",
    "l1",
    "shift_scale",
)
PENALTY = 0.01
"""L1 and L2 lambda when the bit is set (the authors' grid value)."""


@dataclasses.dataclass(frozen=True)
class GDSpace:
    """The GD hyper-parameters a sweep draws from (one Latin-hypercube draw per setting).

    Attributes:
        optimizers: optax optimiser names or ``(name, kwargs)`` pairs (built with learning
            rate 1; the run's rate and schedule scale their update).
        learning_rate: ``(low, high)``: log-uniform.
        schedules: names from :data:`debinn_jax.gd.SCHEDULES` (``warmup_cosine`` warms up
            over ``warmup_fraction`` of the epochs).
        epochs, patience, starts, init_scale: the values drawn from (equally often).
        head_temperature: the training head of a run (equally often): 0 = the network's own
            head (the 2025 reference head), T > 0 = the loss of ``softmax(z / T)`` over the
            output signals z (same network, same predictions; see
            :func:`debinn_jax.gd.run_many_gd`).
        warmup_fraction: warm-up share of the epochs for ``warmup_cosine``.
        validation_fraction: each run's early-stopping split of its training data.
    """

    optimizers: tuple[Any, ...] = (
        "adam",
        ("sgd", (("momentum", 0.9), ("nesterov", True))),
        "lion",
    )
    learning_rate: tuple[float, float] = (1e-3, 1e-1)
    schedules: tuple[str, ...] = ("constant", "cosine", "warmup_cosine")
    epochs: tuple[int, ...] = (300, 1000)
    patience: tuple[int, ...] = (50, 100, 200)
    starts: tuple[int, ...] = (4, 8)
    init_scale: tuple[float, ...] = (0.5, 1.0, 2.0)
    head_temperature: tuple[float, ...] = (0.0, 1.0, 10.0, 100.0)
    warmup_fraction: float = 0.1
    validation_fraction: float = 0.2

    def __post_init__(self) -> None:
        from debinn_jax.gd import SCHEDULES

        lo, hi = self.learning_rate
        if not (0 < lo <= hi and math.isfinite(hi)):
            raise ValueError(
                f"GDSpace.learning_rate must be (low, high), 0 < low <= high, got "
                f"{self.learning_rate!r}"
            )
        for name in (
            "optimizers",
            "schedules",
            "epochs",
            "patience",
            "starts",
            "init_scale",
            "head_temperature",
        ):
            if not getattr(self, name):
                raise ValueError(f"GDSpace.{name} must not be empty")
        bad = [s for s in self.schedules if s not in SCHEDULES]
        if bad:
            raise ValueError(f"GDSpace.schedules: {bad[0]!r} is not one of {SCHEDULES}")
        if any(not (isinstance(t, int | float) and t >= 0) for t in self.head_temperature):
            raise ValueError(
                f"GDSpace.head_temperature must hold numbers >= 0, got {self.head_temperature!r}"
            )
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(
                f"GDSpace.warmup_fraction must be in [0, 1), got {self.warmup_fraction!r}"
            )


def optimizer_label(opt: Any) -> str:
    """``"adam"`` or ``"sgd(momentum=0.9, nesterov=True)"`` for an optimiser entry."""
    if isinstance(opt, str):
        return opt
    name, kwargs = opt
    kwargs = dict(kwargs)
    return name if not kwargs else f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


@dataclasses.dataclass(frozen=True)
class GDGridRun:
    """One GD setting, ready to run.

    Attributes:
        name: the setting's name (``GD-S17``).
        spec: the run's network (2025 variant) with its switches as it trains.
        config: the run's GD settings (:class:`~debinn_jax.gd.GDConfig`, full batch; its
            ``loss`` holds the L1/L2 lambdas; ``optimizer``/``optimizer_kwargs`` the optimiser).
        switches: ``{"standardize_weights", "normalization", "spatial_dropout"}`` as 0/1.
        index: the setting's position (its random key derives from it).
        ga_setting: the GA grid's setting number with the same regularisers (DropConnect off).
        head_temperature: the training head (0: the network's own; T > 0: ``softmax(z / T)``).
    """

    name: str
    spec: Any
    config: Any
    switches: dict[str, float]
    index: int = 0
    ga_setting: int = 0
    head_temperature: float = 0.0

    @property
    def optimizer(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        """The optimiser as a ``(name, kwargs)`` entry for :func:`~debinn_jax.gd.run_many_gd`."""
        return (self.config.optimizer, tuple(self.config.optimizer_kwargs))


def _balanced(rng: np.random.Generator, values: Sequence[Any], n: int) -> list[Any]:
    """``n`` draws with every value equally often (up to one), in random order."""
    reps = -(-n // len(values))
    tiled = [values[i % len(values)] for i in range(reps * len(values))]
    order = rng.permutation(len(tiled))[:n]
    return [tiled[i] for i in order]


def gd_grid_runs(
    hidden: Sequence[int],
    n_inputs: int,
    n_classes: int = 2,
    *,
    settings: int = 128,
    seed: int = 0,
    space: GDSpace = GDSpace(),  # noqa: B008 (frozen)
    prefix: str = "GD-S",
    loss_alpha: float = 1.0,
) -> list[GDGridRun]:
    """The GD sweep: the GA grid's 64 distinct regulariser settings, each with GD draws.

    Setting k (1-based) uses regulariser combination ``r = (k - 1) % 64`` (bit b of r sets
    :data:`GD_REGULARISER_BITS` [b]; L1/L2 lambda :data:`PENALTY`), so 128 settings hold each
    combination twice; ``GDGridRun.ga_setting`` names the GA grid's setting with the same
    regularisers. Its GD hyper-parameters come from a Latin-hypercube design over ``space``
    seeded by ``seed``: each categorical value appears equally often over the settings, the
    learning rate takes one value in each of ``settings`` equal log-width strata. The training
    head's temperature is drawn last, so the other draws do not depend on that axis.

    Args:
        hidden: hidden layer sizes of the 2025 network.
        n_inputs, n_classes: the data's features and classes.
        settings: how many settings (>= 1; 128 covers every regulariser combination twice).
        seed: seed of the design.
        space: the hyper-parameter ranges.
        prefix: names are ``f"{prefix}{k}"``.
        loss_alpha: target of the true class (the authors' 1.0).

    Returns:
        ``settings`` :class:`GDGridRun` s, indices 0..settings-1.
    """
    from debinn_jax.gd import GDConfig
    from debinn_jax.loss import LossConfig
    from debinn_jax.network import NetworkSpec

    if isinstance(settings, bool) or not isinstance(settings, int) or settings < 1:
        raise ValueError(f"settings must be an integer >= 1, got {settings!r}")
    rng = np.random.default_rng(seed)
    lo, hi = (math.log10(v) for v in space.learning_rate)
    strata = (rng.permutation(settings) + rng.uniform(size=settings)) / settings
    lrs = 10.0 ** (lo + (hi - lo) * strata)
    draws = {
        "optimizer": _balanced(rng, list(range(len(space.optimizers))), settings),
        "schedule": _balanced(rng, list(space.schedules), settings),
        "epochs": _balanced(rng, list(space.epochs), settings),
        "patience": _balanced(rng, list(space.patience), settings),
        "starts": _balanced(rng, list(space.starts), settings),
        "init_scale": _balanced(rng, list(space.init_scale), settings),
        # drawn last: the draws above do not depend on whether this axis exists
        "head_temperature": _balanced(rng, list(space.head_temperature), settings),
    }
    runs = []
    for k in range(settings):
        r = k % 64
        bit = {name: bool(r >> b & 1) for b, name in enumerate(GD_REGULARISER_BITS)}
        spec = NetworkSpec.reference_2025(
            n_inputs,
            tuple(hidden),
            n_classes,
            shift_scale=bit["shift_scale"],
            standardize_weights=bit["standardize_weights"],
            normalization="activation" if bit["normalization"] else "none",
            spatial_dropout=bit["spatial_dropout"],
        )
        opt = space.optimizers[draws["optimizer"][k]]
        name, kwargs = (opt, ()) if isinstance(opt, str) else (opt[0], tuple(dict(opt[1]).items()))
        epochs = int(draws["epochs"][k])
        schedule = draws["schedule"][k]
        loss = LossConfig.reference_2025(
            l1=PENALTY if bit["l1"] else 0.0, l2=PENALTY if bit["l2"] else 0.0
        )
        config = GDConfig(
            optimizer=name,
            optimizer_kwargs=kwargs,
            learning_rate=float(f"{lrs[k]:.4g}"),
            schedule=schedule,
            warmup=int(space.warmup_fraction * epochs) if schedule == "warmup_cosine" else 0,
            epochs=epochs,
            patience=int(draws["patience"][k]),
            starts=int(draws["starts"][k]),
            init_scale=float(draws["init_scale"][k]),
            validation_fraction=space.validation_fraction,
            loss=dataclasses.replace(loss, alpha=loss_alpha),
        )
        switches = {
            "standardize_weights": float(bit["standardize_weights"]),
            "normalization": float(bit["normalization"]),
            "spatial_dropout": float(bit["spatial_dropout"]),
        }
        ga_number = (
            1
            + int(bit["shift_scale"])
            + 2 * int(bit["standardize_weights"])
            + 4 * int(bit["normalization"])
            + 8 * int(bit["spatial_dropout"])
            + 32 * int(bit["l2"])
            + 64 * int(bit["l1"])
        )
        runs.append(
            GDGridRun(
                name=f"{prefix}{k + 1}",
                spec=spec,
                config=config,
                switches=switches,
                index=k,
                ga_setting=ga_number,
                head_temperature=float(draws["head_temperature"][k]),
            )
        )
    return runs


# --------------------------------------------------------------------------------------------
# running


def gd_compile_group(run: GDGridRun) -> tuple[Any, int]:
    """The compiled-program key of a run: its network with every switch any run may flip
    enabled (shift-scale genes and sizes stay its own) and its start count."""
    spec = dataclasses.replace(
        run.spec, standardize_weights=True, normalization="activation", spatial_dropout=True
    )
    return spec, int(run.config.starts)


def _static_defaults(runs: Sequence[GDGridRun]) -> Any:
    """The shared static part of a group's configs (loss alpha, variant, weighting, chunk)."""
    first = runs[0].config
    loss = dataclasses.replace(first.loss, l1=0.0, l2=0.0)
    for r in runs:
        other = dataclasses.replace(r.config.loss, l1=0.0, l2=0.0)
        if other != loss or r.config.chunk != first.chunk or r.config.batch_size is not None:
            raise ValueError(
                f"run_gd_grid: run {r.name} has another loss (alpha/variant/weighting), chunk "
                "or a batch size; a GD grid needs full batches and one loss form"
            )
    return dataclasses.replace(first, loss=loss)


def _sweep_settings(runs: Sequence[GDGridRun], optimizers: Sequence[Any]) -> dict[str, Any]:
    """The per-run numbers of ``runs`` as :func:`~debinn_jax.gd.run_many_gd` settings."""
    keys = [(o, tuple(k)) for o, k in optimizers]
    cfgs = [r.config for r in runs]
    return {
        "learning_rate": [c.learning_rate for c in cfgs],
        "lr_spread": [c.lr_spread for c in cfgs],
        "init_scale": [c.init_scale for c in cfgs],
        "weight_decay": [c.weight_decay for c in cfgs],
        "clip_norm": [0.0 if c.clip_norm is None else c.clip_norm for c in cfgs],
        "l1": [c.loss.l1 for c in cfgs],
        "l2": [c.loss.l2 for c in cfgs],
        "validation_fraction": [c.validation_fraction for c in cfgs],
        "epochs": [c.epochs for c in cfgs],
        "patience": [c.patience for c in cfgs],
        "starts": [c.starts for c in cfgs],
        "warmup": [c.warmup for c in cfgs],
        "schedule": [c.schedule for c in cfgs],
        "monitor": [c.monitor for c in cfgs],
        "optimizer": [keys.index(r.optimizer) for r in runs],
        "head_temperature": [r.head_temperature for r in runs],
        **{f: [r.switches[f] for r in runs] for f in runs[0].switches},
    }


def _as_entry(opt: Any) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """An optimiser entry (a name or a ``(name, kwargs)`` pair) as ``(name, kwargs pairs)``."""
    if isinstance(opt, str):
        return (opt, ())
    name, kwargs = opt
    return (name, tuple(dict(kwargs).items()))


def _padded(settings: dict[str, list[Any]], keys: Any, size: int) -> tuple[dict, Any]:
    """Settings and keys of a batch padded to ``size`` runs with copies of its last run cut to
    one start and one epoch (almost free): every batch of a compile group then has the same
    runs axis, and the group compiles one program."""
    import jax.numpy as jnp

    n = len(keys)
    if n >= size:
        return settings, keys
    extra = size - n
    out = {k: list(v) + [v[-1]] * extra for k, v in settings.items()}
    out["epochs"][n:] = [1] * extra
    out["starts"][n:] = [1] * extra
    out["schedule"][n:] = ["constant"] * extra
    out["warmup"][n:] = [0] * extra
    return out, jnp.concatenate([keys, jnp.repeat(keys[-1:], extra)])


def _record_settings(run: GDGridRun) -> dict[str, Any]:
    c = run.config
    return {
        "optimizer": optimizer_label((c.optimizer, c.optimizer_kwargs)),
        "learning_rate": c.learning_rate,
        "schedule": c.schedule,
        "warmup": c.warmup,
        "epochs": c.epochs,
        "patience": c.patience,
        "starts": c.starts,
        "init_scale": c.init_scale,
        "validation_fraction": c.validation_fraction,
        "l1": c.loss.l1,
        "l2": c.loss.l2,
        "head_temperature": run.head_temperature,
        "shift_scale": run.spec.shift_scale,
        "switches": dict(run.switches),
        "ga_setting": run.ga_setting,
    }


def _finished(out: Path | None, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records of an earlier, interrupted run of the same GD grid (``results.json``).

    Raises:
        DataError: the file is not a GD grid results file, or it was written with another
            seed, data name or precision (resuming would mix two grids).
    """
    import json

    if out is None or not (out / "results.json").is_file():
        return []
    path = out / "results.json"
    try:
        doc = json.loads(path.read_text())
        assert doc.get("format") == meta["format"]
        records = [r for r in doc["records"] if {"name", "fold", "test"} <= set(r)]
    except (json.JSONDecodeError, KeyError, AssertionError, TypeError, AttributeError):
        raise DataError(
            f"{path}: not a results file of a GD grid; move it away or choose another out"
        ) from None
    for key in ("seed", "data", "dtype", "design"):
        if doc.get(key) != meta[key]:
            raise DataError(
                f"{path}: written by a GD grid with {key} {doc.get(key)!r}, this one has "
                f"{meta[key]!r}; restart it or choose another out"
            )
    return records


def run_gd_grid(
    runs: Sequence[GDGridRun],
    folds: Sequence[tuple[str, Fold]],
    *,
    out: str | Path | None = None,
    seed: int = 0,
    batch: int = 32,
    resume: bool = True,
    progress: Callable[[str], None] | None = None,
    data_name: str = "data",
    design: Mapping[str, Any] | None = None,
    pad_train: int | None = None,
    optimizers: Sequence[Any] | None = None,
) -> Any:
    """Train every GD setting once on every fold and score the fold's test split.

    Runs of one compile group (:func:`gd_compile_group`) go through
    :func:`~debinn_jax.gd.run_many_gd` together, ``batch`` runs per call (one run at a time
    inside: a run that stops early costs nothing more; a smaller batch is padded with one-epoch
    copies, so that a group compiles once for all its batches). After every call the records so
    far are written to ``out`` (``results.json``, ``summary.csv``, atomically); with ``resume``,
    (setting, fold) pairs already in ``out/results.json`` are skipped and a killed batch resumes
    from its checkpoint in ``out/checkpoints`` (removed once the batch's records are saved).

    Args:
        runs: from :func:`gd_grid_runs`.
        folds: ``(name, Fold)`` pairs; features are used as they are.
        out: output folder (created), or None to write nothing.
        seed: the run of setting i (``GDGridRun.index``) on fold f uses
            ``fold_in(fold_in(key(seed), f), i)``.
        batch: runs per compiled call.
        resume: skip finished (setting, fold) pairs found in ``out``.
        progress: called with one line per finished call.
        data_name: the data's name in ``summary.csv`` keys.
        design: how the settings were made (stored; a resumed grid must have the same).
        pad_train: pad every fold's training data to this many cases (masked, never used):
            grids on training sets of different sizes then share their compiled programs.
        optimizers: the optimiser entries every compiled program offers (``(name, kwargs)``
            pairs or names; default: those of ``runs``). Calls that pass the same list share
            programs even when their runs use fewer optimisers.

    Returns:
        A :class:`~debinn_jax.execution.GridResult`: records hold ``name``, ``fold``,
        ``index``, ``test``/``train`` metrics (fractions), ``epochs_run`` (of the selected
        start), ``best_epoch``, ``seconds`` and the setting's values.
    """
    import json

    import jax
    import jax.numpy as jnp

    from debinn_jax.checkpoint import digest
    from debinn_jax.execution.grid import (
        GridResult,
        _binary_metrics,
        compile_timer,
        summary_csv,
    )
    from debinn_jax.gd import run_many_gd
    from debinn_jax.io import write_json_atomic, write_text_atomic

    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": "debinn-gd-grid",
        "format_version": 1,
        "seed": seed,
        "data": data_name,
        "dtype": str(jnp.zeros(()).dtype),
        # as JSON gives it back (tuples as lists), so that a resumed grid compares equal
        "design": json.loads(json.dumps(dict(design or {}))),
    }
    records = _finished(out_dir, meta) if resume else []
    done = {(r["name"], r["fold"]) for r in records}
    ckpt_dir = None if out_dir is None else out_dir / "checkpoints"
    if ckpt_dir is not None:
        if not resume and ckpt_dir.is_dir():
            shutil.rmtree(ckpt_dir)
        ckpt_dir.mkdir(parents=True, exist_ok=True)

    def write(extra: Mapping[str, Any] | None = None) -> None:
        if out_dir is None:
            return
        recs = sorted(records, key=lambda r: (r["fold"], r["index"]))
        write_json_atomic(out_dir / "results.json", {**meta, **(extra or {}), "records": recs})
        write_text_atomic(out_dir / "summary.csv", summary_csv(recs, data_name))

    groups: dict[tuple[Any, int], list[GDGridRun]] = {}
    for run in runs:
        groups.setdefault(gd_compile_group(run), []).append(run)
    if optimizers is None:
        offered = list(dict.fromkeys(r.optimizer for r in runs))
    else:
        offered = [_as_entry(o) for o in optimizers]
        missing = {r.optimizer for r in runs} - set(offered)
        if missing:
            raise ValueError(f"run_gd_grid: optimizers lacks {sorted(missing)} used by the runs")
    t0 = time.perf_counter()
    timing: dict[str, Any] = {"calls": []}
    with compile_timer() as compiled:
        for f_idx, (fold_name, fold) in enumerate(folds):
            X = np.asarray(fold.train.X, np.float64)
            y = np.asarray(fold.train.y)
            real = np.ones(len(y))
            if pad_train is not None and pad_train > len(y):
                extra = pad_train - len(y)
                X = np.concatenate([X, np.zeros((extra, X.shape[1]))])
                y = np.concatenate([y, np.zeros(extra, y.dtype)])
                real = np.concatenate([real, np.zeros(extra)])
            for (spec, starts), members in groups.items():
                static = _static_defaults(members)
                todo = [r for r in members if (r.name, fold_name) not in done]
                for first in range(0, len(todo), batch):
                    part = todo[first : first + batch]
                    t_call = time.perf_counter()
                    c0 = compiled["seconds"]
                    fold_key = jax.random.fold_in(jax.random.key(seed), f_idx)
                    keys = jnp.stack([jax.random.fold_in(fold_key, r.index) for r in part])
                    ckpt_path = None
                    if ckpt_dir is not None:
                        which = digest([r.index for r in part])[:12]
                        ckpt_path = ckpt_dir / (
                            f"{fold_name}-{part[0].index}-{part[-1].index}-n{len(part)}-"
                            f"{which}.ckpt"
                        )
                    settings, keys = _padded(_sweep_settings(part, offered), keys, batch)
                    sweep = run_many_gd(
                        spec,
                        X,
                        y,
                        keys,
                        static,
                        settings=settings,
                        optimizers=offered,
                        max_starts=starts,
                        sample_mask=real,
                        checkpoint=ckpt_path,
                    )
                    seconds = time.perf_counter() - t_call
                    proba_test = sweep.predict_proba_runs(fold.test.X)
                    proba_train = sweep.predict_proba_runs(fold.train.X)
                    for j, r in enumerate(part):
                        p_test, p_train = proba_test[j], proba_train[j]
                        b = int(sweep.best_start[j])
                        records.append(
                            {
                                "name": r.name,
                                "fold": fold_name,
                                "index": r.index,
                                "test": _binary_metrics(fold.test.y, p_test),
                                "train": _binary_metrics(fold.train.y, p_train),
                                "epochs_run": int(sweep.epochs_run[j, b]),
                                "best_epoch": int(sweep.best_epoch[j]),
                                "start_epochs": [int(e) for e in sweep.epochs_run[j, :starts]],
                                "val_loss": float(sweep.start_val_loss[j, b]),
                                "seconds": seconds / len(part),
                                "hidden": list(r.spec.hidden),
                                **_record_settings(r),
                            }
                        )
                    timing["calls"].append(
                        {
                            "runs": len(part),
                            "seconds": seconds,
                            "compile_seconds": compiled["seconds"] - c0,
                            "start_epochs": int(np.sum(sweep.epochs_run[: len(part)])),
                        }
                    )
                    write()
                    if ckpt_path is not None:
                        ckpt_path.unlink(missing_ok=True)
                    if progress is not None:
                        n_done = len({(r["name"], r["fold"]) for r in records})
                        progress(
                            f"{n_done}/{len(runs) * len(folds)} runs  fold {fold_name}  "
                            f"{len(part)} runs in {seconds:.1f} s "
                            f"(compile {compiled['seconds'] - c0:.1f} s)"
                        )
    timing.update(
        seconds=time.perf_counter() - t0,
        compile_seconds=compiled["seconds"],
        programs_compiled=compiled["programs"],
        compile_groups=len(groups),
    )
    write({"timing": timing})
    records.sort(key=lambda r: (r["fold"], r["index"]))
    return GridResult(records=tuple(records), timing=timing)
