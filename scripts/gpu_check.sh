#!/usr/bin/env bash
# One-shot check on a CUDA machine: the CUDA tests (sync-debug mode "error"),
# the property/compile tests on that machine's torch, and the benchmark.
# Usage: bash scripts/gpu_check.sh [OUTPUT_DIR]
set -uo pipefail
out=${1:-gpu-check}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi -L | tee "$out/device.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/device.txt"
date -u +%Y-%m-%d | tee -a "$out/device.txt"
timeout 300 python3 -m pytest -q -p no:cacheprovider -o addopts= \
    tests/test_cuda.py tests/test_losses.py tests/test_reductions.py tests/test_errors.py \
    tests/test_compile.py tests/test_autograd.py tests/test_regressions.py \
    tests/test_transforms.py tests/test_audit_0_2.py 2>&1 | tee "$out/pytest.txt" | tail -n 25
timeout 240 python3 benchmarks/bench_masked_mse.py --device cuda --json "$out/bench-cuda.json" 2>&1 | tee "$out/bench-cuda.txt"
