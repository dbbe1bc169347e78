"""Rerun the GA-vs-GD study of arXiv 2605.27411: a thin wrapper of ``debinn reproduce``.

Examples::

    .venv/bin/python experiments/reproduce.py --quick            # two-moons smoke run
    .venv/bin/python experiments/reproduce.py --out runs/full    # all four tasks, 10 seeds
"""

from __future__ import annotations

import sys

from debinn_jax.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", *sys.argv[1:]]))
