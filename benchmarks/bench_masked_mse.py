"""Benchmark: every masked loss against its naive counterpart, forward+backward.

python benchmarks/bench_masked_mse.py                  # CPU, plus CUDA when present
python benchmarks/bench_masked_mse.py --quick          # fewer rounds, no compile
python benchmarks/bench_masked_mse.py --json out.json  # also save the loss matrix

Prints two tables in one run: the masked-MSE formulations as ratios to the
naive F.mse_loss(p*m, t*m), and the loss matrix (MSE, L1, Huber x float32,
bfloat16 x sizes x broadcast and full masks x weights) with the time ratio,
the bytes saved for backward and the aten operations dispatched, each beside
the naive loss's. On the CPU it also breaks down what the package adds per
call on small tensors (argument checks, count, torch.where over a multiply).
"""

from __future__ import annotations

import argparse
import platform

import torch

from masked_loss.teaching.benchmark import (
    format_matrix,
    format_per_call_costs,
    format_table,
    per_call_costs,
    run,
    run_matrix,
    save_matrix_json,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 short rounds, no torch.compile")
    parser.add_argument("--device", action="append", help="cpu and/or cuda (default: all present)")
    parser.add_argument(
        "--json", metavar="PATH", help="also write the last device's matrix as JSON"
    )
    args = parser.parse_args()
    devices = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads")  # fmt: skip
    for device in devices:
        if device == "cuda":
            print(f"GPU: {torch.cuda.get_device_name()}")
        sizes = (((32, 128, 8), (32, 128, 1)), ((16, 512, 64), (16, 512, 1)))
        if device == "cuda":
            sizes += (((64, 4096, 256), (64, 4096, 1)),)
        options = {"rounds": 3, "seconds": 0.1, "compile": False} if args.quick else {}
        print(format_table(run(device, sizes, **options)))
        matrix_options = {"rounds": 3, "seconds": 0.02} if args.quick else {}
        matrix = run_matrix(device, **matrix_options)
        print(format_matrix(matrix))
        worst = max(matrix, key=lambda r: r.ratio)
        print(f"worst time ratio {worst.ratio:.2f} ({worst.loss}, {worst.dtype}, {worst.shape}, "
              f"mask {worst.mask_shape}, weight {worst.weight_shape})")  # fmt: skip
        per_call = None
        if device == "cpu":
            per_call = per_call_costs(**({"rounds": 3, "seconds": 0.05} if args.quick else {}))
            print("What masked_mse_loss adds per call at 32x128x8, mask 32x128x1:")
            print(format_per_call_costs(per_call))
        if args.json:
            save_matrix_json(matrix, args.json, per_call)


if __name__ == "__main__":
    main()
