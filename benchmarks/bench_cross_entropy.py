"""Benchmark: masked cross-entropy against F.cross_entropy(ignore_index), language-model shapes.

python benchmarks/bench_cross_entropy.py            # 8 x 512 tokens x 8,192 classes, CPU
python benchmarks/bench_cross_entropy.py --quick    # 3 rounds at a smaller size

Prints, for float32 and bfloat16, the forward+backward time of
masked_cross_entropy(logits, target, mask) as a ratio to
F.cross_entropy(logits, target.masked_fill(~mask, -100), ignore_index=-100):
the median over paired rounds (each round times both back to back in this
process), and the bytes each saves for backward. The logits are always
selected (padded rows replaced by 0 before the softmax); a third line per
dtype times the same call with NaN in the padded rows' logits, which
F.cross_entropy cannot take (its gradient turns NaN there).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from masked_loss import masked_cross_entropy
from masked_loss.teaching.benchmark import paired_ratio, saved_bytes


def _seconds(step: Callable[[], None], repeats: int) -> float:
    """The fastest of ``repeats`` runs of ``step`` (each a forward and a backward pass)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def compare(
    batch: int, tokens: int, classes: int, dtype: torch.dtype, *, rounds: int, repeats: int
) -> list[str]:
    generator = torch.Generator().manual_seed(0)
    rows = batch * tokens
    logits = torch.randn(rows, classes, generator=generator).to(dtype).requires_grad_()
    target = torch.randint(0, classes, (rows,), generator=generator)
    # Completion-only fine-tuning: a prompt (masked) then a completion, lengths vary.
    prompt = torch.randint(tokens // 8, tokens // 2, (batch, 1), generator=generator)
    mask = (torch.arange(tokens) >= prompt).reshape(rows)
    ignored = target.masked_fill(~mask, -100)
    poisoned = logits.detach().clone()
    poisoned[~mask] = float("nan")
    poisoned.requires_grad_()

    def torch_loss() -> torch.Tensor:
        return F.cross_entropy(logits, ignored, ignore_index=-100)

    def ours() -> torch.Tensor:
        return masked_cross_entropy(logits, target, mask)

    def ours_nan() -> torch.Tensor:
        return masked_cross_entropy(poisoned, target, mask)

    def step(loss: Callable[[], torch.Tensor], leaf: torch.Tensor) -> Callable[[], None]:
        def run() -> None:
            leaf.grad = None
            loss().backward()

        return run

    torch.testing.assert_close(ours(), torch_loss())
    torch.testing.assert_close(ours_nan(), torch_loss())
    times: dict[str, list[float]] = {"torch": [], "ours": [], "ours_nan": []}
    steps = {
        "torch": step(torch_loss, logits),
        "ours": step(ours, logits),
        "ours_nan": step(ours_nan, poisoned),
    }
    for run in steps.values():
        run()  # warm-up
    for _ in range(rounds):
        for name, run in steps.items():
            times[name].append(_seconds(run, repeats))
    bytes_torch = saved_bytes(torch_loss)
    bytes_ours = saved_bytes(ours)
    bytes_nan = saved_bytes(ours_nan)
    name = str(dtype).replace("torch.", "")
    ms = {key: statistics.median(value) * 1e3 for key, value in times.items()}
    return [
        f"{name:9} F.cross_entropy(ignore_index)  {ms['torch']:8.1f} ms  1.00x  "
        f"saved {bytes_torch:,} B",
        f"{name:9} masked_cross_entropy           {ms['ours']:8.1f} ms  "
        f"{paired_ratio(times['ours'], times['torch']):.2f}x  "
        f"saved {bytes_ours:,} B",
        f"{name:9}   with NaN in padded logits    {ms['ours_nan']:8.1f} ms  "
        f"{paired_ratio(times['ours_nan'], times['torch']):.2f}x  "
        f"saved {bytes_nan:,} B",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds at 4 x 256 x 2,048")
    args = parser.parse_args()
    batch, tokens, classes = (4, 256, 2048) if args.quick else (8, 512, 8192)
    rounds = 3 if args.quick else 7
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads")  # fmt: skip
    print(f"{batch} x {tokens} tokens x {classes:,} classes, forward+backward, "
          f"median of {rounds} paired rounds (ratio to F.cross_entropy(ignore_index))")  # fmt: skip
    for dtype in (torch.float32, torch.bfloat16):
        for line in compare(batch, tokens, classes, dtype, rounds=rounds, repeats=2):
            print(line)


if __name__ == "__main__":
    main()
