#!/usr/bin/env bash
# GPU check: build the shim against the PyTorch wheel on a CUDA machine, run the CUDA tests and short
# benchmarks, and write a summary under $OUT (default ./gpu_out).
#
# Deno is not installed on the GPU machines: carry it compressed in .carry/deno.xz (git-ignored):
#   mkdir -p .carry && xz -9 -c "$(command -v deno)" > .carry/deno.xz
# then run this script through the device tool with carry [".carry"].
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
: >"$summary"
log() { echo "$*" | tee -a "$summary"; }

if ! command -v deno >/dev/null; then
  [ -f .carry/deno.xz ] || { log "no deno and no .carry/deno.xz"; exit 1; }
  mkdir -p /tmp/deno-bin && xz -dc .carry/deno.xz >/tmp/deno-bin/deno && chmod +x /tmp/deno-bin/deno
  export PATH=/tmp/deno-bin:$PATH
fi
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
if [ -d .carry/deno_dir ]; then export DENO_DIR=$PWD/.carry/deno_dir; fi

log "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$summary"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 | tee -a "$summary"

log "== build shim against the wheel"
deno run -A scripts/build_shim.ts 2>&1 | tail -3 | tee -a "$summary" || exit 1

log "== CUDA tests"
deno test -A tests/torch/ 2>&1 | tail -40 >"$OUT/tests_torch.txt"
grep -E "^(ok|FAILED) \|" "$OUT/tests_torch.txt" | tee -a "$summary"
grep -E "cuda|CUDA" "$OUT/tests_torch.txt" | head -20 | tee -a "$summary"

PY=$(command -v python3)
run_bench() { log "== $*"; timeout 200 deno run -A "$@" 2>&1 | tail -25 | tee -a "$summary"; }
run_bench scripts/bench/ops.ts --device cuda --iters 20000 --python "$PY"
run_bench scripts/bench/train_step.ts --device cuda --arch resnet18 --size 32 --channels 3 --batch 512 \
  --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 --precision bf16 --steps 20 --python "$PY"
run_bench scripts/bench/augment.ts --cuda-only
log "== done"
