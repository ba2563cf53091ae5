"""Forward+backward timings of masked-MSE formulations, as ratios to the naive one.

Run from the command line (``python benchmarks/bench_masked_mse.py``) or call
:func:`run` from a notebook. Each formulation is timed in interleaved rounds
(so slow drift of the machine hits all of them alike) and the median of the
rounds is reported.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils import benchmark as torch_benchmark

from masked_loss.losses import masked_mse_loss, naive_masked_mse_loss
from masked_loss.teaching.recipe import masked_mse_in_three_lines

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def boolean_index_mse(p: torch.Tensor, t: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Correct, but ``p[m]`` calls ``nonzero``: a host sync and a graph break."""
    selected = m.expand_as(p)
    return F.mse_loss(p[selected], t[selected])


def formulations(compile: bool) -> dict[str, LossFn]:
    table: dict[str, LossFn] = {
        "naive F.mse_loss(p*m, t*m)": naive_masked_mse_loss,
        "masked_loss.masked_mse_loss": masked_mse_loss,
        "torch.where / sum / count": masked_mse_in_three_lines,
        "boolean index p[m]": boolean_index_mse,
    }
    if compile:
        table["torch.compile(masked_mse_loss)"] = torch.compile(masked_mse_loss, fullgraph=True)
    return table


@dataclass
class Result:
    device: str
    shape: tuple[int, ...]
    mask_shape: tuple[int, ...]
    name: str
    microseconds: float
    ratio_to_naive: float


def _time_once(
    fn: LossFn, p: torch.Tensor, t: torch.Tensor, m: torch.Tensor, seconds: float
) -> float:
    def step() -> None:
        p.grad = None
        fn(p, t, m).backward()

    step()  # warm-up (and compilation, for the compiled variant)
    timer = torch_benchmark.Timer(
        stmt="step()", globals={"step": step}, num_threads=torch.get_num_threads()
    )
    return timer.blocked_autorange(min_run_time=seconds).median * 1e6


def run(
    device: str | torch.device = "cpu",
    sizes: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
        ((32, 128, 8), (32, 128, 1)),
        ((16, 512, 64), (16, 512, 1)),
    ),
    *,
    rounds: int = 5,
    seconds: float = 0.2,
    compile: bool = True,
    density: float = 0.6,
    seed: int = 0,
) -> list[Result]:
    """Time every formulation at every size; return one :class:`Result` per pair."""
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    table = formulations(compile)
    results = []
    for shape, mask_shape in sizes:
        p = torch.randn(shape, generator=generator).to(device).requires_grad_()
        t = torch.randn(shape, generator=generator).to(device)
        m = (torch.rand(mask_shape, generator=generator) < density).to(device)
        samples: dict[str, list[float]] = {name: [] for name in table}
        for _ in range(rounds):
            for name, fn in table.items():
                samples[name].append(_time_once(fn, p, t, m, seconds))
        medians = {name: statistics.median(s) for name, s in samples.items()}
        naive = medians["naive F.mse_loss(p*m, t*m)"]
        for name, us in medians.items():
            results.append(Result(str(device), shape, mask_shape, name, us, us / naive))
    return results


RESULTS_DIR = pathlib.Path(__file__).parent / "results"


def save_json(results: list[Result], path: str | pathlib.Path) -> None:
    """Write results with the device, date and versions they were measured with."""
    device = results[0].device if results else "cpu"
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "CPU"
    record = {
        "device": name,
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "results": [asdict(r) for r in results],
    }
    pathlib.Path(path).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def recorded_results() -> list[dict[str, Any]]:
    """Benchmark runs recorded on other machines (GPUs), shipped with the package."""
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(RESULTS_DIR.glob("*.json"))
    ]


def format_table(results: list[Result]) -> str:
    lines = [
        f"{'device':6} {'input':>12} {'mask':>12}  {'formulation':34} {'us':>9} {'x naive':>8}"
    ]
    for r in results:
        shape = "x".join(map(str, r.shape))
        mask = "x".join(map(str, r.mask_shape))
        timing = f"{r.microseconds:9.1f} {r.ratio_to_naive:8.2f}"
        lines.append(f"{r.device:6} {shape:>12} {mask:>12}  {r.name:34} {timing}")
    return "\n".join(lines)
