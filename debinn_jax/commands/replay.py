"""``debinn replay``: repeat one of the authors' runs exactly and compare it with their model."""

from __future__ import annotations

import argparse
from pathlib import Path

from debinn_jax.commands.common import add_command
from debinn_jax.errors import UserError

REPLAY_EPILOG = """\
what it does:
  The authors' 2025 program draws every random number from std::mt19937 engines with fixed
  seeds, so a run is a deterministic function of its settings and data. This command trains
  the run again with the same random numbers (float64) and compares the final genome with
  the model file the authors' program wrote, gene by gene, and the test metrics with the
  ones stored in that file.

settings:
  By default the settings are read from MODEL itself (the program stores them in the file).
  --settings takes a settings.ini of the authors' program, or an executionSettings.csv with
  --column naming the setting (e.g. 2H-Hinton-S69). Without MODEL, --settings is required
  and only the run is reported.

rules:
  msvc (default) follows the C++ library of the authors' Windows build, which made their
  published results; libstdc++ follows their Linux binary. The two differ in how integers
  are drawn and lists shuffled, so the same settings give different runs.

example:
  debinn replay BestModel.bin --data Datasets/DLBCL/Dataset-1Fold/Fold-1
"""


def _settings(args: argparse.Namespace) -> tuple[dict[str, str], str]:
    """The run's settings and its name, from --settings/--column or the model file (the file
    they came from is ``args.settings`` or ``args.model``)."""
    from debinn_jax.execution.replay import read_settings_ini
    from debinn_jax.execution.settings import read_execution_settings

    if args.settings:
        path = Path(args.settings)
        if path.suffix.lower() == ".ini":
            if args.column:
                raise UserError("--column applies to an executionSettings.csv, not a .ini file")
            return read_settings_ini(path), path.parent.name or path.stem
        settings = read_execution_settings(path)
        names = list(settings.names)
        if args.column is None:
            if len(names) != 1:
                raise UserError(
                    f"{settings.path}: {len(names)} setting columns; name one with --column "
                    f"(e.g. {names[0]})"
                )
            return dict(settings.columns[0]), names[0]
        matches = [
            i for i, n in enumerate(names) if n == args.column or n.endswith(f"-{args.column}")
        ]
        if len(matches) != 1:
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise UserError(
                f"--column {args.column!r}: not one column of {settings.path} ({shown})"
            )
        return dict(settings.columns[matches[0]]), names[matches[0]]
    if args.model is None:
        raise UserError("give the authors' model file (MODEL) or --settings")
    from debinn_jax.authors import load_authors_model

    model = load_authors_model(args.model)
    if not model.settings:
        raise UserError(f"{args.model}: the file stores no settings; pass --settings")
    return dict(model.settings), Path(args.model).parent.name or "model"


def run_replay(args: argparse.Namespace) -> int:
    """Replay the run and print the comparison."""
    import numpy as np

    from debinn_jax.data import load_fold
    from debinn_jax.execution.replay import replay_run

    settings, name = _settings(args)
    fold = load_fold(args.data, class_order="string")
    print(f"replaying {name} on {args.data} with the authors' random streams ({args.rules} rules)")
    rep = replay_run(
        settings,
        fold,
        rules=args.rules,
        name=name,
        reference=args.model,
        progress=(lambda line: print(line, flush=True)) if args.progress else None,
        source=str(args.settings or args.model),
    )
    res = rep.result
    sel = res.selection
    print(
        f"stopped before iteration {rep.stop_iteration} (last hall-of-fame entry at iteration "
        f"{sel.get('last_entry')}); final candidate {int(sel['candidate'][0])} of "
        f"{int((sel['candidate_scores'] < float('inf')).sum())}; {res.seconds:.1f} s"
    )
    if rep.max_abs_diff is not None:
        same = "identical" if rep.max_abs_diff == 0.0 else "DIFFERENT"
        print(f"genome vs {args.model}: max |diff| {rep.max_abs_diff:.3g} ({same})")
    if rep.test is not None:
        line = "  ".join(f"{k} {rep.test[k]:.4f}" for k in ("ACC", "BACC", "SNS", "SPC"))
        print(f"test (replayed): {line}")
    if rep.stored_test is not None:
        stored = rep.stored_test
        line = "  ".join(
            f"{k} {float(stored[k]):.4f}" for k in ("ACC", "BACC", "SNS", "SPC") if k in stored
        )
        print(f"test (stored in the model file): {line}")
    if args.out:
        from debinn_jax.io import TrainedModel, save_model

        model = TrainedModel(
            spec=rep.run.spec,
            coords=res.coords,
            classes=np.asarray(fold.classes),
            feature_names=fold.feature_names,
            standardizer=None,
            metadata={"trainer": "replay-2025", "settings": settings, "rules": args.rules},
        )
        print(f"wrote {save_model(args.out, model)}")
    return 0 if rep.max_abs_diff in (None, 0.0) else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``replay`` sub-command."""
    p = add_command(
        sub,
        "replay",
        help="repeat one of the authors' 2025 runs exactly and compare it with their model file",
        description=(
            "Train one setting of the authors' 2025 program again with their random streams "
            "(float64) and compare the final genome and test metrics with their model file."
        ),
        epilog=REPLAY_EPILOG,
        run=run_replay,
    )
    p.add_argument("model", metavar="MODEL", nargs="?", help="the authors' *BestModel.bin")
    p.add_argument("--data", required=True, help="the Fold folder the run was trained on")
    p.add_argument(
        "--rules",
        choices=("msvc", "libstdc++"),
        default="msvc",
        help="C++ library rules of the random numbers (default msvc: the published runs)",
    )
    p.add_argument("--settings", help="settings.ini or executionSettings.csv (default: MODEL's)")
    p.add_argument("--column", help="the setting column of an executionSettings.csv")
    p.add_argument("--out", help="also save the replayed model (a debinn-jax model file)")
    p.add_argument("--progress", action="store_true", help="print a line per chunk of generations")
