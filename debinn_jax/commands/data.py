"""``debinn data list | fetch``: the public datasets in the data cache.

Thin: :mod:`debinn_jax.data.fetch` downloads and checks; this prints where the files are, their
licence, and how to use them.
"""

from __future__ import annotations

import argparse
import sys

from debinn_jax.commands.common import add_command
from debinn_jax.errors import UserError

DATA_EPILOG = """\
data home:
  $DEBINN_DATA_HOME, else $XDG_CACHE_HOME/debinn-jax/datasets, else
  ~/.cache/debinn-jax/datasets (--data-home DIR for one command). One folder per dataset:
  dlbcl/Fold-1/{TrainF,TrainL,TestF,TestL}.csv, hecktor-lite/Fold-1/..., ctg/fetal_health.csv.
  Every file's SHA-256 is checked; a file that differs from the published one is removed.

offline:
  download the files named by 'debinn data fetch NAME' from their URLs and place them in the
  data home by hand (the error message lists both), or give a mirror: --base-url URL
  (file:///path/to/copy works).

licences:
  dlbcl, hecktor-lite: CC BY-NC-ND 4.0, Medical University of Vienna (non-commercial use, no
  derivatives, attribution); ctg: CC BY 4.0 (UCI Cardiotocography).
"""


def _size(n: int) -> str:
    return f"{n / 1000:.1f} kB"


def run_list(args: argparse.Namespace) -> int:
    from debinn_jax.data.fetch import (
        DATASETS,
        dataset_folder,
        missing_files,
        resolve_data_home,
    )

    home = resolve_data_home(args.data_home)
    print(f"data home: {home}")
    for name, info in DATASETS.items():
        missing = missing_files(name, args.data_home)
        if not missing:
            state = f"cached in {dataset_folder(name, args.data_home)}"
        elif len(missing) == len(info.files):
            state = f"not downloaded ({_size(info.size)})"
        else:
            state = f"incomplete: missing or different {', '.join(missing)}"
        print(f"{name}: {info.title}")
        print(f"  {state}")
        print(f"  licence: {info.licence}")
        print(f"  source: {info.source}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from debinn_jax.data.fetch import DATASETS, dataset_info, download_dataset, missing_files

    names = list(DATASETS) if args.names == ["all"] else args.names
    infos = [dataset_info(n) for n in names]
    if args.base_url and len(infos) > 1:
        raise UserError(
            f"--base-url names one dataset's folder; fetch one dataset at a time with it "
            f"(got {', '.join(i.name for i in infos)})"
        )
    for info in infos:
        missing = missing_files(info.name, args.data_home)
        folder = download_dataset(
            info.name,
            args.data_home,
            base_url=args.base_url,
            progress=not args.quiet and sys.stderr.isatty(),
        )
        what = "already cached" if not missing else f"downloaded {len(missing)} file(s), checked"
        path = folder / info.load
        print(f"{info.name}: {what}: {path}")
        print(f"  licence: {info.licence}")
        print(f"  use it: debinn fit --data {path} --out {info.name}.debinn")
    return 0


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``data`` sub-command with ``list`` and ``fetch``."""
    p = add_command(
        sub,
        "data",
        help="list or download the public datasets (DLBCL, HECKTOR-LITE, CTG)",
        description="The public datasets of the DEBI-NN papers, downloaded into the data "
        "cache with checksums.",
        epilog=DATA_EPILOG,
        run=lambda args: _usage(p),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    q = actions.add_parser("list", help="the datasets, whether they are cached, their licence")
    q.set_defaults(func=run_list)
    q.add_argument("--data-home", metavar="DIR", help="data home (default: see 'data --help')")
    q = actions.add_parser(
        "fetch",
        help="download datasets into the data home (checked by SHA-256)",
        epilog=DATA_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.set_defaults(func=run_fetch)
    q.add_argument("names", nargs="+", metavar="NAME", help="dlbcl, hecktor-lite, ctg or all")
    q.add_argument("--data-home", metavar="DIR", help="data home (default: see 'data --help')")
    q.add_argument(
        "--base-url",
        metavar="URL",
        help="download from this folder (a mirror, or file:///path) instead of the published URL",
    )
    q.add_argument("--quiet", action="store_true", help="no progress bar")
