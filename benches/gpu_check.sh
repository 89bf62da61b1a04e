#!/bin/bash
# The short GPU check of issue 11: `hyperword bench train` for small (seq 512, batch 64) and base
# (seq 1024, batch 32), compiled, bf16 autocast; every figure goes to one file (default
# gpu_check.jsonl), one JSON object a line, and a readable copy to stdout. About 2-3 minutes
# on one H100/H200 (compilation included).
#
#   bash benches/gpu_check.sh [OUT_FILE]
set -euo pipefail
out="${1:-gpu_check.jsonl}"
: > "$out"
python -c "import json, torch; print(json.dumps({'date': __import__('datetime').date.today().isoformat(), 'torch': torch.__version__, 'gpu': torch.cuda.get_device_name(0)}))" | tee -a "$out"
for size in small base; do
    hyperword bench train --size "$size" --device cuda --steps 20 --warmup 5 --json | tee -a "$out"
done
