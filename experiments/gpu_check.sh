#!/usr/bin/env bash
# GPU check of debinn-jax: make a CUDA jax available, show the device, run the benchmark.
#
# For a lent accelerator machine (H100/H200). Usage, from the repository root:
#
#   bash experiments/gpu_check.sh                # results in $OUT (or ./gpu-bench) as JSON
#
# 1. jax: if the machine's python already sees a GPU through jax, it is used as is (the
#    workplace image ships jax with its CUDA 13 plugin). Otherwise the CUDA build is installed:
#    from wheels in $WHEELS_DIR when set (machines without internet: download them elsewhere
#    with `pip download "jax[cuda13]" -d wheels` or cuda12, and carry the folder), else from
#    PyPI, trying jax[cuda13] then jax[cuda12].
# 2. debinn-jax's pure-python dependencies missing there (evosax, dotmap) are taken from
#    $DEPS_DIR (a folder of wheels or of unpacked packages) when set; the repository itself
#    is used through PYTHONPATH (no install).
# 3. prints nvidia-smi and jax.devices(), then runs `debinn bench` on CTG with P up to 16384
#    (vmap over the whole population, chunked only if it would not fit in a quarter of the
#    GPU memory) plus the sweep on DLBCL; the NumPy baseline runs only up to P = 1024.
# 4. with GRID_DIR (an execution folder of the authors' program, or a folder of them such as
#    their Executions/) and DATA_DIR (their datasets, e.g. Datasets/ or a DEBINN_DATA_DIR
#    folder), both carried onto the machine: times one grid (ONE_GRID, default
#    DLBCL-2H-Hinton) and then every grid in GRID_DIR, float32. On a GPU `debinn grid` puts
#    every run of a compiled program (up to 256) into one vmapped call and each population in
#    one vmap (execution.grid.backend_batching, GAConfig.batch_size="auto"); the cost reports
#    (cost.md per grid) and overview.md come back in $OUT.
# Budget: about 3-4 minutes on an H100/H200 for steps 1-3 (compilation included); hard limit
# 300 s; step 4 is limited by GRID_TIMEOUT (default 420 s for all grids).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-$PWD/gpu-bench}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${DEPS_DIR:+:$DEPS_DIR}${PYTHONPATH:+:$PYTHONPATH}"

has_gpu() {
  "$PY" - <<'PY' 2>/dev/null
import jax, sys
sys.exit(0 if any(d.platform == "gpu" for d in jax.devices()) else 1)
PY
}

if ! has_gpu; then
  if [ -n "${WHEELS_DIR:-}" ]; then
    "$PY" -m pip install --no-index --find-links "$WHEELS_DIR" "jax[cuda13]" \
      || "$PY" -m pip install --no-index --find-links "$WHEELS_DIR" "jax[cuda12]"
  else
    "$PY" -m pip install -U "jax[cuda13]" || "$PY" -m pip install -U "jax[cuda12]"
  fi
fi
if [ -n "${DEPS_DIR:-}" ] && ls "$DEPS_DIR"/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install --no-index --no-deps --find-links "$DEPS_DIR" "$DEPS_DIR"/*.whl
fi

{
  nvidia-smi || true
  "$PY" -c "import jax, jaxlib; print('jax', jax.__version__, 'jaxlib', jaxlib.__version__); print(jax.devices())"
} 2>&1 | tee "$OUT/device.txt"

timeout 300 "$PY" -m debinn_jax.cli bench \
  --workloads ctg --populations 256,1024,4096,16384 \
  --sweep-workloads dlbcl --runs 1,8,32 \
  --numpy-max-population 1024 --memory-population 0 --no-reference \
  --generations 10 --out "$OUT/bench-gpu.json" 2>&1 | tee "$OUT/bench-gpu.txt"

if [ -n "${GRID_DIR:-}" ] && [ -n "${DATA_DIR:-}" ]; then
  one="$GRID_DIR/${ONE_GRID:-DLBCL-2H-Hinton}"
  if [ -f "$one/executionSettings.csv" ]; then
    /usr/bin/time -f "%e s wall" timeout 300 "$PY" -m debinn_jax.cli grid "$one" \
      --data "$DATA_DIR" --precision float32 --out "$OUT/grid-one" 2>&1 | tee "$OUT/grid-one.txt"
  fi
  /usr/bin/time -f "%e s wall" timeout "${GRID_TIMEOUT:-420}" "$PY" -m debinn_jax.cli grid \
    "$GRID_DIR" --data "$DATA_DIR" --precision float32 --out "$OUT/grids" 2>&1 \
    | tee "$OUT/grids.txt"
fi
