"""Benchmark: masked MSE forward+backward, every formulation as a ratio to naive.

python benchmarks/bench_masked_mse.py            # CPU, plus CUDA when present
python benchmarks/bench_masked_mse.py --quick    # fewer rounds, no compile
"""

from __future__ import annotations

import argparse
import platform

import torch

from masked_loss.teaching.benchmark import format_table, run, save_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 short rounds, no torch.compile")
    parser.add_argument("--device", action="append", help="cpu and/or cuda (default: all present)")
    parser.add_argument(
        "--json", metavar="PATH", help="also write the last device's results as JSON"
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
        results = run(device, sizes, **options)
        print(format_table(results))
        if args.json:
            save_json(results, args.json)


if __name__ == "__main__":
    main()
