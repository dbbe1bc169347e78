"""GD on the 2025 network in the reproduction study, tuned like the 2025 GA, same protocols.

The 2025 GA is tuned by the authors' 128-setting regulariser grid (:mod:`debinn_jax.study.grid`).
Its like-for-like counterpart for gradient descent is a GD sweep on the same network
(:func:`debinn_jax.execution.gd_grid_runs`: the grid's regulariser switches, each with GD
hyper-parameters drawn by a seeded Latin-hypercube design; 128 settings by default), run under
the same two protocols, on the same split, inner validation split and seeds:

* **authors' protocol** (optimistic): every setting trained once on the training split and
  scored on test; the best test balanced accuracy is reported as one run
  (``gd2025_grid_max``), and that setting re-trained with ``seeds`` new seeds
  (``gd2025_test_picked``);
* **honest protocol**: every setting trained once on the inner training part and scored on the
  held-out inner validation part; the best validation balanced accuracy wins (ties: the lowest
  setting index) and is re-trained on the whole training split with ``seeds`` seeds and scored
  on test (``gd2025_val_picked``). No test label is read before the setting is fixed.

Each GD run also splits its own training data for early stopping and for picking the best of
its starts (``validation_fraction`` of :class:`~debinn_jax.execution.GDSpace`), as the GA splits
its training data into leave-out parts. Re-runs use the GA's re-run key indices
(``RERUN_INDEX * (1 + i) + seed``), so seed s of both trainers is seed s of the study.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from debinn_jax.study.grid import PRECISIONS, RERUN_INDEX, _fold, _is_int, _pick

GD_PROTOCOL_METHODS = ("gd2025_grid_max", "gd2025_test_picked", "gd2025_val_picked")
GD_PROTOCOL_LABELS = {
    "gd2025_grid_max": "DEBI-NN GD 2025, authors' protocol: best of sweep on test (1 run)",
    "gd2025_test_picked": "DEBI-NN GD 2025, the test-picked setting re-trained",
    "gd2025_val_picked": "DEBI-NN GD 2025, honest protocol: setting picked on validation",
}
#: The GA method each GD method is paired with (same protocol, same seeds).
PAIRED_WITH = {
    "gd2025_grid_max": "ga2025_grid_max",
    "gd2025_test_picked": "ga2025_test_picked",
    "gd2025_val_picked": "ga2025_val_picked",
}
#: Keys of the ``[gd2025]`` table (the rest comes from ``[ga2025]``: same architecture, inner
#: split and seeds).
GD_TABLE_KEYS = (
    "settings",
    "design_seed",
    "precision",
    "batch",
    "epochs",
    "patience",
    "starts",
    "learning_rate",
    "head_temperature",
)


@dataclasses.dataclass(frozen=True)
class GDProtocolConfig:
    """The ``[gd2025]`` table of a study config, completed from ``[ga2025]``.

    Attributes:
        architecture, hidden, data: the 2025 GA's grid architecture (the same network).
        settings: how many GD settings (:func:`~debinn_jax.execution.gd_grid_runs`; 128 hold
            every regulariser combination of the GA grid twice).
        design_seed: seed of the Latin-hypercube design of the GD hyper-parameters.
        precision: ``"float32"`` or ``"float64"``.
        batch: runs per compiled call.
        epochs, patience, starts: the values the design draws from (equally often).
        learning_rate: ``(low, high)`` of the log-uniform learning rate.
        head_temperature: the training heads drawn from (0: the network's reference head;
            T > 0: ``softmax(z / T)``, the same network and predictions).
        seeds, validation_size, validation_seed: as the 2025 GA's (re-runs, inner split).
    """

    architecture: str
    hidden: tuple[int, ...]
    data: str
    settings: int = 128
    design_seed: int = 0
    precision: str = "float32"
    batch: int = 32
    epochs: tuple[int, ...] = (300, 1000)
    patience: tuple[int, ...] = (50, 100, 200)
    starts: tuple[int, ...] = (4, 8)
    learning_rate: tuple[float, float] = (1e-3, 1e-1)
    head_temperature: tuple[float, ...] = (0.0, 1.0, 10.0, 100.0)
    seeds: int = 10
    validation_size: float = 0.3
    validation_seed: int = 12345

    def __post_init__(self) -> None:
        def bad(key: str, value: Any, expected: str) -> ValueError:
            return ValueError(f"{key}: got {value!r}, expected {expected}")

        for key in ("settings", "batch", "seeds"):
            v = getattr(self, key)
            if not (_is_int(v) and v >= 1):
                raise bad(key, v, "an integer >= 1")
        if not _is_int(self.design_seed):
            raise bad("design_seed", self.design_seed, "an integer")
        if self.precision not in PRECISIONS:
            raise bad("precision", self.precision, f"one of {PRECISIONS}")
        for key in ("epochs", "patience", "starts", "hidden"):
            v = tuple(getattr(self, key))
            if not v or not all(_is_int(x) and x >= 1 for x in v):
                raise bad(key, getattr(self, key), "a non-empty list of integers >= 1")
            object.__setattr__(self, key, v)
        lr = tuple(self.learning_rate)
        if len(lr) != 2 or not all(isinstance(v, int | float) and v > 0 for v in lr):
            raise bad("learning_rate", self.learning_rate, "[low, high], both > 0")
        if lr[0] > lr[1]:
            raise bad("learning_rate", self.learning_rate, "low <= high")
        object.__setattr__(self, "learning_rate", (float(lr[0]), float(lr[1])))
        temps = tuple(self.head_temperature)
        if not temps or not all(isinstance(t, int | float) and t >= 0 for t in temps):
            raise bad("head_temperature", self.head_temperature, "a list of numbers >= 0")
        object.__setattr__(self, "head_temperature", tuple(float(t) for t in temps))

    def space(self) -> Any:
        """The :class:`~debinn_jax.execution.GDSpace` the design draws from."""
        from debinn_jax.execution import GDSpace

        return GDSpace(
            learning_rate=self.learning_rate,
            epochs=self.epochs,
            patience=self.patience,
            starts=self.starts,
            head_temperature=self.head_temperature,
        )

    def design(self) -> dict[str, Any]:
        """How the settings are made (stored with the results; resuming needs the same)."""
        return {
            "settings": self.settings,
            "design_seed": self.design_seed,
            "space": dataclasses.asdict(self.space()),
        }


def gd_protocol_config(ga2025: Any, table: Mapping[str, Any]) -> GDProtocolConfig:
    """The ``[gd2025]`` table completed with the 2025 GA's architecture, inner split and seeds
    (``ga2025``: a :class:`~debinn_jax.study.GridProtocolConfig`)."""
    return GDProtocolConfig(
        architecture=ga2025.architecture,
        hidden=ga2025.hidden,
        data=ga2025.data,
        seeds=ga2025.seeds,
        validation_size=ga2025.validation_size,
        validation_seed=ga2025.validation_seed,
        **dict(table),
    )


def _gd_record(
    rec: Mapping[str, Any], method: str, seed: int, n_params: int, base: Mapping[str, Any]
) -> dict[str, Any]:
    out = dict(base)
    t, tr = rec["test"], rec["train"]
    out.update(
        method=method,
        seed=seed,
        setting=rec["name"].split("/")[0],
        n_params=n_params,
        test_accuracy=t["ACC"],
        test_balanced_accuracy=t["BACC"],
        test_auc=t.get("AUC"),
        test_ece=t.get("ECE"),
        test_brier=t.get("Brier"),
        test_mcc=t.get("MCC"),
        train_balanced_accuracy=tr["BACC"],
        train_accuracy=tr["ACC"],
        train_seconds=rec["seconds"],
        generations_or_epochs=rec["epochs_run"],
    )
    return out


def _setting_values(rec: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("optimizer", "learning_rate", "schedule", "epochs", "patience", "starts")
    out = {k: rec[k] for k in keys}
    out.update(init_scale=rec["init_scale"], l1=rec["l1"], l2=rec["l2"])
    out.update(head_temperature=rec.get("head_temperature", 0.0))
    out.update(shift_scale=rec["shift_scale"], **rec["switches"], ga_setting=rec["ga_setting"])
    return out


def gd_protocols(
    config: GDProtocolConfig,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    inner_train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    *,
    fold_name: str = "Fold-1",
    out: str | Path | None = None,
    base: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the GD sweep under the authors' and the honest protocol (module docstring).

    Args:
        config: the sweep and the protocols' budgets.
        train, test: the task's ``(X (n, f), y (n,))`` training and test splits.
        inner_train, validation: a split of ``train`` (the honest protocol's selection data).
        fold_name: the fold's name in the sweep records.
        out: folder for the three stages (``grid-test``, ``grid-validation``, ``reruns``), each
            written after every batch and resumed, or None to write nothing.
        base: fields copied into every study record.
        progress: called with one line per compiled call.

    Returns:
        ``(records, details)``: study records of :data:`GD_PROTOCOL_METHODS` and a dict with the
        picked settings (and their values), the per-setting test and validation BACC, and the
        timings.
    """
    from debinn_jax.execution import gd_grid_runs, precision, run_gd_grid
    from debinn_jax.network import param_count

    out_dir = None if out is None else Path(out)
    base = dict(base or {})
    n_features = int(np.asarray(train[0]).shape[1])
    n_classes = int(max(np.max(train[1]), np.max(test[1]))) + 1
    say = progress or (lambda _line: None)
    with precision(config.precision):
        runs = gd_grid_runs(
            config.hidden,
            n_features,
            n_classes,
            settings=config.settings,
            seed=config.design_seed,
            space=config.space(),
            prefix=f"{config.architecture}-GD-S",
        )
        n_params = max(param_count(r.spec) for r in runs)

        n_pad = max(len(train[1]), len(inner_train[1]))  # one program for the three stages

        def stage(name: str, stage_runs: Sequence[Any], fold: Any) -> Any:
            say(f"{name}: {len(stage_runs)} runs")
            return run_gd_grid(
                stage_runs,
                [(fold_name, fold)],
                out=None if out_dir is None else out_dir / name,
                batch=config.batch,
                progress=lambda line: say(f"{name}: {line}"),
                data_name=config.data,
                design=config.design(),
                pad_train=n_pad,
                optimizers=config.space().optimizers,
            )

        on_test = stage("grid-test", runs, _fold(train, test))
        on_val = stage("grid-validation", runs, _fold(inner_train, validation))
        test_pick = _pick(on_test.records)
        val_pick = _pick(on_val.records)
        by_name = {r.name: r for r in runs}
        picked = list(dict.fromkeys([test_pick["name"], val_pick["name"]]))
        reruns = [
            dataclasses.replace(
                by_name[name], name=f"{name}/seed{s}", index=RERUN_INDEX * (1 + i) + s
            )
            for i, name in enumerate(picked)
            for s in range(config.seeds)
        ]
        again = stage("reruns", reruns, _fold(train, test))
    records = [_gd_record(test_pick, "gd2025_grid_max", 0, n_params, base)]
    for method, pick in (("gd2025_test_picked", test_pick), ("gd2025_val_picked", val_pick)):
        mine = [r for r in again.records if r["name"].split("/")[0] == pick["name"]]
        for r in sorted(mine, key=lambda r: r["index"]):
            seed = int(r["index"]) % RERUN_INDEX
            records.append(_gd_record(r, method, seed, n_params, base))
    details = {
        "architecture": config.architecture,
        "hidden": list(config.hidden),
        "precision": config.precision,
        "settings": len(runs),
        "design": config.design(),
        "seeds": config.seeds,
        "n_inner_train": int(len(inner_train[1])),
        "n_validation": int(len(validation[1])),
        "test_picked": test_pick["name"],
        "val_picked": val_pick["name"],
        "test_picked_values": _setting_values(test_pick),
        "val_picked_values": _setting_values(val_pick),
        "grid_test_bacc": {r["name"]: r["test"]["BACC"] for r in on_test.records},
        "grid_validation_bacc": {r["name"]: r["test"]["BACC"] for r in on_val.records},
        "grid_test_median": float(np.median([r["test"]["BACC"] for r in on_test.records])),
        "start_epochs": {  # epochs trained, summed over every start of every run
            "grid-test": sum(sum(r["start_epochs"]) for r in on_test.records),
            "grid-validation": sum(sum(r["start_epochs"]) for r in on_val.records),
        },
        "seconds": {
            "grid-test": on_test.timing["seconds"],
            "grid-validation": on_val.timing["seconds"],
            "reruns": again.timing["seconds"],
        },
    }
    return records, details
