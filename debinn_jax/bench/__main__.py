"""``python -m debinn_jax.bench --probe WORKLOAD P [--data-dir DIR]``: the memory probe's fresh
process (:func:`debinn_jax.bench.memory.probe_main`)."""

import sys

from debinn_jax.bench.memory import probe_main

sys.exit(probe_main(sys.argv[1:]))
