#!/usr/bin/env bash
# GPU check, one call on a CUDA machine: build the shim against the PyTorch wheel there, run the CUDA
# tests, benchmark a training step against PyTorch eager, train a few hundred real CUDA steps (the
# default run, and ResNet-18 at bf16 batch 512), join a 1-rank NCCL group, and write a summary under
# $OUT (default ./gpu_out). Each part is bounded and logged, so one that fails does not hide the others.
#
# The GPU machines have no Deno and no network: carry Deno and the data in .carry/ (git-ignored):
#   mkdir -p .carry && xz -9 -c "$(command -v deno)" > .carry/deno.xz           # ~30 MB
#   cp -r /usr/share/datasets/fashion-mnist .carry/fashion-mnist                 # ~30 MB
# then run `bash scripts/gpu_check.sh` through the device tool with carry [".carry"] and a timeout
# that leaves time for a rerun (the whole check takes about 6–8 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
: >"$summary"
log() { echo "$*" | tee -a "$summary"; }
# Runs a bounded step, keeps its whole output in $OUT/<name>.txt and its tail in the summary.
part() {
  local name=$1 seconds=$2
  shift 2
  log "== $name: $*"
  local t0=$SECONDS
  timeout "$seconds" "$@" >"$OUT/$name.txt" 2>&1
  local rc=$?
  tail -n "${TAIL:-15}" "$OUT/$name.txt" | tee -a "$summary"
  log "-- $name: exit $rc in $((SECONDS - t0)) s"
}

if ! command -v deno >/dev/null; then
  [ -f .carry/deno.xz ] || { log "no deno and no .carry/deno.xz"; exit 1; }
  mkdir -p /tmp/deno-bin && xz -dc .carry/deno.xz >/tmp/deno-bin/deno && chmod +x /tmp/deno-bin/deno
  export PATH=/tmp/deno-bin:$PATH
fi
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
if [ -d .carry/deno_dir ]; then export DENO_DIR=$PWD/.carry/deno_dir; fi
DATA=${DATA:-$PWD/.carry/fashion-mnist}
[ -d "$DATA" ] || DATA=/usr/share/datasets/fashion-mnist
PY=$(command -v python3)

log "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$summary"
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 |
  tee -a "$summary"
nproc | sed 's/^/cores /' | tee -a "$summary"

TAIL=4 part build 400 deno run -A scripts/build_shim.ts
grep -q '"dist": true' build/shim.json && log "c10d compiled (NCCL where the wheel ships nccl.h)"

TAIL=6 part tests_torch 240 deno test -A tests/torch/
grep -E "cuda|CUDA" "$OUT/tests_torch.txt" | grep -v "^$" | head -20 >>"$summary"

# One step, ours against PyTorch eager on the same libtorch, alternating (PyTorch's ResNet-18 step at 32², batch 512, bf16 on one H100: 28.5 ms).
part bench_train_r18 300 deno run -A scripts/bench/train_step.ts --device cuda --arch resnet18 --size 32 \
  --channels 3 --batch 512 --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 --settings bf16-cl,fp32-nchw \
  --steps 100 --python "$PY"
part bench_train_default 200 deno run -A scripts/bench/train_step.ts --device cuda --steps 100 --python "$PY"
part bench_ops 120 deno run -A scripts/bench/ops.ts --device cuda --iters 20000 --python "$PY"
part bench_augment 120 deno run -A scripts/bench/augment.ts --cuda-only

# Real training on CUDA: the default run (one epoch, 234 steps), then ResNet-18 with the paper's
# projector at bf16 and batch 512 (two epochs, 234 steps), each with kNN before and after.
TAIL=8 part train_default 300 deno run -A train.ts --device cuda --data-dir "$DATA" --out "$OUT/runs/default" \
  --probe-epochs 10
TAIL=8 part train_r18_bf16 300 deno run -A train.ts --device cuda --data-dir "$DATA" --arch resnet18 \
  --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 --batch-size 512 --precision bf16 --epochs 2 \
  --out "$OUT/runs/r18-bf16" --probe-epochs 10

# NCCL with world size 1, joined from torchrun's variables: a few steps.
port=$(( 20000 + RANDOM % 20000 ))
TAIL=6 part nccl_world1 200 env RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
  deno run -A train.ts --device cuda --data-dir "$DATA" --limit-train 4096 --limit-test 1000 --epochs 1 \
  --probe-epochs 0 --out "$OUT/runs/nccl1"

for f in "$OUT"/runs/*/report.md; do [ -f "$f" ] && cp "$f" "$OUT/report-$(basename "$(dirname "$f")").md"; done
rm -rf "$OUT"/runs/*/checkpoints
log "== done"
