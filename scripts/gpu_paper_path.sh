#!/usr/bin/env bash
# The paper-path GPU checks in one go (the figures in README "Training at the paper's size"): stage-1 training with
# the CLIP encoder fine-tuned at the paper's batch shape (128 mentions, gold + 3 negatives) in bf16 and in fp32, the
# whole 16-candidate list in bf16, then scripts/gpu_bench.py (encoder throughput; low-rank vs tensor fusion step).
# Usage: scripts/gpu_paper_path.sh [OUTDIR]   (a python3 with this repo's requirements and a CUDA GPU;
#        PYTHON=... picks another interpreter; DEVICE=cpu EXTRA="--batch-size 4" SKIP_GPU_BENCH=1 for a dry run on a CPU). Writes OUTDIR/{log.txt,bench_bf16.json,bench_fp32.json,bench_all.json,gpu_bench.json}.
set -uo pipefail
OUT=${1:-outputs/gpu}; mkdir -p "$OUT"; export OUT
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 THINKLINKER_OUTPUTS=${THINKLINKER_OUTPUTS:-$(mktemp -d)}
LOG="$OUT/log.txt"
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, os; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA', os.cpu_count(), 'cores')"; } 2>&1 | tee -a "$LOG"
B="$PY -m thinklinker.apps.cli bench train --preset paper --device ${DEVICE:-cuda} ${EXTRA:-} --mentions ${MENTIONS:-1536} --entities ${ENTITIES:-4096}"
run() { echo "\$ $*" | tee -a "$LOG"; local t=$SECONDS; "$@" 2>&1 | grep -v '%|' | tee -a "$LOG"; echo "($((SECONDS - t)) s)" | tee -a "$LOG"; }
run $B --steps 10 --warmup 2 --json "$OUT/bench_bf16.json"
run $B --steps 10 --warmup 2 --amp fp32 --json "$OUT/bench_fp32.json"
run $B --steps 4 --warmup 1 --negatives 0 --json "$OUT/bench_all.json"
[ -n "${SKIP_GPU_BENCH:-}" ] || run $PY scripts/gpu_bench.py --device ${DEVICE:-cuda}
