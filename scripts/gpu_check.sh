#!/usr/bin/env bash
# GPU check: one device call of at most 540 s in all (a task is lent about 15 minutes of device time,
# start-up included). Most informative first, every part bounded with `timeout -k`, each part's log in
# $OUT/<part>.txt and a verdict per part in $OUT/summary.json:
#   build        the shim against the PyTorch wheel there; NCCL compiled in?
#   tests        the CUDA tests, the device-placement scan, the distributed tests where the shim has Gloo
#   nccl_2proc   train.ts as 2 ranks with SyncBN for 50 steps (2 GPUs; with 1 GPU both ranks on GPU 0,
#                which NCCL may refuse: the verdict says so)
#   drill        kill one rank mid-run: the other must exit non-zero naming it within --dist-timeout + 20 s
#   bench_r18    one UniGrad step, ours vs PyTorch eager: ResNet-18 at 32², bf16, batch 512
#   bench_r50    the same for ResNet-50 at 224², bf16, batch 128
#
# `bash scripts/gpu_check.sh --dry-run` runs every part on the CPU (Gloo, tiny sizes) within the same
# bound, so the only unknown left for the GPU is the GPU. GPU_CHECK_SECONDS changes the bound.
#
# The GPU machines have no Deno and no network: carry Deno and the data in .carry/ (git-ignored):
#   mkdir -p .carry && xz -9 -c "$(command -v deno)" > .carry/deno.xz           # ~30 MB
#   cp -r /usr/share/datasets/fashion-mnist .carry/fashion-mnist                 # ~30 MB
# then run `bash scripts/gpu_check.sh` through the device tool with carry [".carry"] and timeout_s 560.
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
TOTAL=${GPU_CHECK_SECONDS:-540}
START=$SECONDS
summary="$OUT/summary.txt"
parts="$OUT/parts.tsv"
: >"$summary"
: >"$parts"
log() { echo "$*" | tee -a "$summary"; }

# Records a part's verdict: name, verdict (pass, fail, timeout, skipped, n/a), exit code, seconds, note.
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$parts"; log "-- $1: $2 (exit $3, $4 s) ${5:-}"; }

# The seconds a part may take: its budget, or what is left of TOTAL (5 s kept for the summary).
limit_for() {
  local left=$((TOTAL - (SECONDS - START) - 5))
  echo $(($1 < left ? $1 : left))
}

# part NAME BUDGET CMD...: runs CMD bounded, keeps its output in $OUT/NAME.txt and its tail in the summary.
part() {
  local name=$1 limit
  limit=$(limit_for "$2")
  shift 2
  if [ "$limit" -lt 10 ]; then record "$name" skipped 0 0 "no time left"; return 1; fi
  local cmd="$*"
  log "== $name (≤ $limit s): ${cmd:0:150}"
  local t0=$SECONDS rc
  timeout -k 5 "$limit" "$@" >"$OUT/$name.txt" 2>&1
  rc=$?
  tail -n "${TAIL:-8}" "$OUT/$name.txt" | tee -a "$summary"
  local verdict=pass
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then verdict=timeout; elif [ $rc -ne 0 ]; then verdict=fail; fi
  record "$name" "$verdict" "$rc" "$((SECONDS - t0))" "${NOTE:-}"
  return $rc
}

if ! command -v deno >/dev/null; then
  if [ -f .carry/deno.xz ]; then
    mkdir -p /tmp/deno-bin && xz -dc .carry/deno.xz >/tmp/deno-bin/deno && chmod +x /tmp/deno-bin/deno
    export PATH=/tmp/deno-bin:$PATH
  elif command -v npx >/dev/null; then # a machine with a registry (the CPU rehearsal)
    deno_bin=$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())') || { log "npx could not fetch deno"; exit 1; }
    export PATH="$(dirname "$deno_bin"):$PATH"
  else
    log "no deno, no .carry/deno.xz and no npx"
    exit 1
  fi
fi
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
if [ -d .carry/deno_dir ]; then export DENO_DIR=$PWD/.carry/deno_dir; fi
DATA=${DATA:-$PWD/.carry/fashion-mnist}
[ -d "$DATA" ] || DATA=/usr/share/datasets/fashion-mnist
PY=$(command -v python3)
[ $DRY -eq 1 ] && PY=/usr/bin/python3 # Debian's python3-torch, the same libtorch as the shim

if [ $DRY -eq 1 ]; then
  DEVICE=cpu
  GPUS=0
  # The PyTorch side of the benchmarks (Debian's python3-torch) and the shim, before the clock starts.
  deno run -A scripts/setup.ts --bench >"$OUT/setup.txt" 2>&1 || { log "setup failed: $(tail -n 3 "$OUT/setup.txt")"; exit 1; }
  START=$SECONDS
  log "== dry run on the CPU (Gloo, tiny sizes): $(nproc) cores"
else
  DEVICE=cuda
  GPUS=$(nvidia-smi -L 2>/dev/null | wc -l)
  log "== machine: $GPUS GPU(s), $(nproc) cores"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$summary"
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' \
    2>&1 | tee -a "$summary"
fi

# ---- build: the shim against the libtorch there; which c10d backends it has
TAIL=4 part build 120 deno run -A scripts/build_shim.ts
BACKENDS=$(timeout -k 5 30 deno eval 'import { c10dBackends } from "./mod.ts"; console.log(c10dBackends().join(","))' \
  2>/dev/null || true)
log "c10d backends compiled: ${BACKENDS:-none}"
if [ $DRY -eq 1 ]; then BACKEND=gloo; else BACKEND=nccl; fi

# ---- tests: the CUDA tests, the device-placement scan, and the distributed tests where Gloo is compiled
TESTS=(tests/torch/cuda_test.ts tests/device_placement_test.ts tests/run/numerics_test.ts)
[[ ",$BACKENDS," == *",gloo,"* ]] && TESTS+=(tests/distributed/)
part tests 90 env UNIGRAD_NUM_THREADS=1 deno test -A "${TESTS[@]}"

# ---- 2 ranks of train.ts with SyncBN, as torchrun starts them
TINY=(--dataset fashion-mnist --data-dir "$DATA" --limit-test 1000 --probe-epochs 0 --eval-every 0 --threads 1)
if [ $DRY -eq 1 ]; then
  RANKS_ARGS=(--device cpu --width 8 --batch-size 32 --limit-train 1600 "${TINY[@]}") # 50 steps an epoch
else
  RANKS_ARGS=(--device cuda --batch-size 256 --limit-train 12800 "${TINY[@]}") # 50 steps an epoch
fi
# Starts rank $1 of 2 on port $2 with the extra flags after it, in the background; its log in $OUT.
rank() {
  local r=$1 port=$2 name=$3
  shift 3
  local local_rank=$r
  [ "$GPUS" -lt 2 ] && local_rank=0
  env RANK="$r" WORLD_SIZE=2 LOCAL_RANK="$local_rank" MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
    UNIGRAD_NUM_THREADS=1 deno run -A train.ts "${RANKS_ARGS[@]}" "$@" >"$OUT/$name-rank$r.txt" 2>&1 &
}
two_ranks() {
  local port=$((20000 + RANDOM % 20000))
  rank 0 "$port" nccl_2proc --epochs 1 --sync-bn true --out "$OUT/runs/two"
  local p0=$!
  rank 1 "$port" nccl_2proc --epochs 1 --sync-bn true --out "$OUT/runs/two-rank1"
  local p1=$!
  wait $p0
  local rc0=$?
  wait $p1
  local rc1=$?
  cat "$OUT/nccl_2proc-rank0.txt"
  echo "rank 0 exit $rc0, rank 1 exit $rc1"
  [ $rc0 -eq 0 ] && [ $rc1 -eq 0 ]
}
NOTE="$BACKEND, $([ "$GPUS" -ge 2 ] && echo "GPUs 0 and 1" || echo "both ranks on one device")" \
  part nccl_2proc 80 bash -c "$(declare -f rank two_ranks); OUT='$OUT' GPUS=$GPUS; RANKS_ARGS=($(printf '%q ' "${RANKS_ARGS[@]}")); two_ranks"
if grep -q "Duplicate GPU detected" "$OUT"/nccl_2proc-rank*.txt 2>/dev/null; then
  log "nccl_2proc: NCCL refuses two ranks on one GPU (n/a on a 1-GPU machine)"
fi

# ---- drill: rank 1 killed mid-run; rank 0 must exit non-zero naming it within --dist-timeout + 20 s
drill() {
  local port=$((20000 + RANDOM % 20000)) out="$OUT/runs/drill"
  rank 0 "$port" drill --epochs 50 --log-every 1 --dist-timeout 10 --out "$out"
  local p0=$!
  rank 1 "$port" drill --epochs 50 --log-every 1 --dist-timeout 10 --out "$out-rank1"
  local p1=$!
  for _ in $(seq 1 300); do grep -q '"loss"' "$out/metrics.jsonl" 2>/dev/null && break; sleep 0.2; done
  kill -KILL $p1
  local t0=$SECONDS
  wait $p0
  local rc0=$? took=$((SECONDS - t0))
  tail -n 5 "$OUT/drill-rank0.txt"
  echo "rank 0 exit $rc0, $took s after rank 1 was killed"
  [ $rc0 -ne 0 ] && [ $took -le 30 ] && grep -q "rank 1 died or stopped answering" "$OUT/drill-rank0.txt"
}
part drill 60 bash -c "$(declare -f rank drill); OUT='$OUT' GPUS=$GPUS; RANKS_ARGS=($(printf '%q ' "${RANKS_ARGS[@]}")); drill"

# ---- the step, ours vs PyTorch eager on the same libtorch
if [ $DRY -eq 1 ]; then
  part bench_r18 60 deno run -A scripts/bench/train_step.ts --device cpu --arch resnet18 --size 32 --channels 3 \
    --batch 8 --proj-hidden 256 --proj-dim 256 --proj-depth 3 --settings fp32-cl --steps 3 --warmup 1 --python "$PY"
  part bench_r50 90 deno run -A scripts/bench/train_step.ts --device cpu --arch resnet50 --size 96 --channels 3 \
    --batch 2 --proj-hidden 256 --proj-dim 256 --proj-depth 3 --settings fp32-cl --steps 2 --warmup 1 --python "$PY"
else
  part bench_r18 80 deno run -A scripts/bench/train_step.ts --device cuda --arch resnet18 --size 32 --channels 3 \
    --batch 512 --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 --settings bf16-cl --steps 30 --python "$PY"
  part bench_r50 80 deno run -A scripts/bench/train_step.ts --device cuda --arch resnet50 --size 224 --channels 3 \
    --batch 128 --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 --settings bf16-cl --steps 20 --python "$PY"
fi

# ---- summary.json: one verdict per part
rm -rf "$OUT/runs"
deno eval --ext=ts "
const rows = Deno.readTextFileSync('$parts').trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
const parts = Object.fromEntries(rows.map(([n, verdict, rc, s, note]) => [n, { verdict, exit: Number(rc), seconds: Number(s), note: note ?? '' }]));
const summary = { dryRun: $DRY === 1, device: '$DEVICE', gpus: $GPUS, backends: '${BACKENDS}', seconds: $((SECONDS - START)), bound: $TOTAL, parts };
Deno.writeTextFileSync('$OUT/summary.json', JSON.stringify(summary, null, 2) + '\n');
" 2>&1 | tee -a "$summary"
log "== done in $((SECONDS - START)) s (bound $TOTAL s): $(cut -f1,2 "$parts" | tr '\t\n' ': ')"
# Exit 0 only when every part passed (a 1-GPU machine's refused 2-rank NCCL run shows as failed: read its note).
! cut -f2 "$parts" | grep -qv '^pass$'
