"""The debinn-jax performance benchmark as a script (same options as ``debinn bench``).

Run pinned to one core on a quiet machine::

    taskset -c 1 .venv/bin/python experiments/bench.py --out results/bench.json
    taskset -c 1 .venv/bin/python experiments/bench.py --quick      # smoke test, seconds

See ``debinn_jax.bench`` for what is measured.
"""

from __future__ import annotations

import sys

from debinn_jax.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
