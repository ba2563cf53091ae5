"""Forward+backward cost of the masked losses, as ratios to the naive ones.

Two benchmarks, run from the command line (``make bench``, i.e.
``python benchmarks/bench_masked_mse.py``) or from a notebook:

- :func:`run` times several masked-MSE formulations (the package, the
  three-line recipe, boolean indexing, ``torch.compile``) against the naive
  ``F.mse_loss(p * m, t * m)``;
- :func:`run_matrix` compares every loss with its naive counterpart
  ``F.*_loss(p * m, t * m)`` across sizes, dtypes, broadcast and full masks,
  with and without weights: time, bytes saved for the backward pass, and the
  number of aten operations dispatched.

Each pair is timed in interleaved rounds, back to back, so that slow drift of
the machine hits both alike: times are the medians of the rounds, and ratios
the medians of the rounds' ratios.
"""

from __future__ import annotations

import datetime
import functools
import json
import pathlib
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils import benchmark as torch_benchmark
from torch.utils._python_dispatch import TorchDispatchMode

from masked_loss.losses import (
    check_loss_arguments,
    masked_huber_loss,
    masked_l1_loss,
    masked_mse_loss,
    naive_masked_mse_loss,
)
from masked_loss.reductions import count_all, local_count_divisor
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
        naive = samples["naive F.mse_loss(p*m, t*m)"]
        for name, us in samples.items():
            ratio = paired_ratio(us, naive)
            results.append(
                Result(str(device), shape, mask_shape, name, statistics.median(us), ratio)
            )
    return results


def paired_ratio(ours: list[float], naive: list[float]) -> float:
    """The median over rounds of each round's ratio (a round times both back to back)."""
    return statistics.median(o / n for o, n in zip(ours, naive, strict=True))


RESULTS_DIR = pathlib.Path(__file__).parent / "results"


def measured_code() -> dict[str, str | None]:
    """The package version and, in a git checkout, the commit that was measured."""
    import subprocess

    import masked_loss

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=pathlib.Path(masked_loss.__file__).parent,
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"masked_loss": masked_loss.__version__, "commit": commit}


def save_json(results: list[Result], path: str | pathlib.Path) -> None:
    """Write results with the device, date and versions they were measured with."""
    device = results[0].device if results else "cpu"
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "CPU"
    record = {
        "device": name,
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        **measured_code(),
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
        f"{'device':6} {'input':>12} {'mask':>12}  {'formulation':34} {'us':>9} {'x naive*':>8}"
    ]
    for r in results:
        shape = "x".join(map(str, r.shape))
        mask = "x".join(map(str, r.mask_shape))
        timing = f"{r.microseconds:9.1f} {r.ratio_to_naive:8.2f}"
        lines.append(f"{r.device:6} {shape:>12} {mask:>12}  {r.name:34} {timing}")
    lines.append(
        "us: median time. *x naive: median over rounds of each round's time over the "
        "naive loss's time in the same round (robust to drift; need not equal the ratio "
        "of the medians)"
    )
    return "\n".join(lines)


MATRIX_LOSSES: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]] = {
    "mse": (masked_mse_loss, F.mse_loss),
    "l1": (masked_l1_loss, F.l1_loss),
    "huber": (masked_huber_loss, F.huber_loss),
}


@dataclass
class MatrixResult:
    """One loss configuration against its naive counterpart ``F.*_loss(p*m, t*m)``."""

    device: str
    loss: str
    dtype: str
    shape: tuple[int, ...]
    mask_shape: tuple[int, ...]
    weight_shape: tuple[int, ...] | None
    naive_us: float
    ours_us: float
    ratio: float
    naive_saved_bytes: int
    ours_saved_bytes: int
    naive_ops: int
    ours_ops: int


class _OpLog(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def saved_bytes(step: Callable[[], torch.Tensor]) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``step`` runs.

    Single numbers are left out (a correct mean must keep its data-dependent
    count, a few bytes; the naive mean divides by a constant).
    """
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.nbytes() > tensor.element_size():
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(storages.values())


def dispatched_ops(step: Callable[[], None]) -> list[str]:
    """The aten operations one call of ``step`` (forward and backward) dispatches, in order."""
    with _OpLog() as log:
        step()
    return log.ops


def matrix_cases(
    device: str,
) -> list[tuple[str, torch.dtype, tuple[int, ...], tuple[int, ...], tuple[int, ...] | None]]:
    """Loss x dtype x size x (broadcast, full) mask x (no, per-step, per-feature) weight."""
    sizes = [(32, 128, 8), (16, 512, 64)] + ([(64, 4096, 256)] if device == "cuda" else [])
    cases = []
    for loss in MATRIX_LOSSES:
        for dtype in (torch.float32, torch.bfloat16):
            for shape in sizes:
                b, t, d = shape
                for mask_shape in ((b, t, 1), shape):
                    for weight_shape in (None, (b, t, 1), (d,)):
                        cases.append((loss, dtype, shape, mask_shape, weight_shape))
    return cases


def run_matrix(
    device: str | torch.device = "cpu",
    *,
    rounds: int = 7,
    seconds: float = 0.08,
    density: float = 0.6,
    seed: int = 0,
    cases: list[Any] | None = None,
) -> list[MatrixResult]:
    """Time every loss configuration against its naive counterpart, in one run."""
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    results = []
    for loss, dtype, shape, mask_shape, weight_shape in cases or matrix_cases(device.type):
        ours_fn, torch_fn = MATRIX_LOSSES[loss]
        p = torch.randn(shape, generator=generator).to(device, dtype).requires_grad_()
        t = torch.randn(shape, generator=generator).to(device, dtype)
        m = (torch.rand(mask_shape, generator=generator) < density).to(device)
        w = None
        if weight_shape is not None:
            w = torch.rand(weight_shape, generator=generator).to(device, dtype)

        pair = {
            "naive": functools.partial(_naive_call, torch_fn, weight=w),
            "ours": functools.partial(_ours_call, ours_fn, weight=w),
        }
        samples: dict[str, list[float]] = {"naive": [], "ours": []}
        for _ in range(rounds):
            for name, fn in pair.items():
                samples[name].append(_time_once(fn, p, t, m, seconds))
        naive_us = statistics.median(samples["naive"])
        ours_us = statistics.median(samples["ours"])
        ratio = paired_ratio(samples["ours"], samples["naive"])
        inputs = (p, t, m)
        saved = {name: saved_bytes(functools.partial(fn, *inputs)) for name, fn in pair.items()}
        ops = {
            name: len(dispatched_ops(functools.partial(_step, fn, *inputs)))
            for name, fn in pair.items()
        }
        results.append(
            MatrixResult(
                device=str(device),
                loss=loss,
                dtype=str(dtype).removeprefix("torch."),
                shape=shape,
                mask_shape=mask_shape,
                weight_shape=weight_shape,
                naive_us=naive_us,
                ours_us=ours_us,
                ratio=ratio,
                naive_saved_bytes=saved["naive"],
                ours_saved_bytes=saved["ours"],
                naive_ops=ops["naive"],
                ours_ops=ops["ours"],
            )
        )
    return results


def _ours_call(
    fn: Callable[..., torch.Tensor],
    p: torch.Tensor,
    t: torch.Tensor,
    m: torch.Tensor,
    weight: torch.Tensor | None,
) -> torch.Tensor:
    return fn(p, t, m, weight=weight)


def _naive_call(
    fn: Callable[..., torch.Tensor],
    p: torch.Tensor,
    t: torch.Tensor,
    m: torch.Tensor,
    weight: torch.Tensor | None,
) -> torch.Tensor:
    """``F.*_loss(p * m, t * m)``; with a weight, its ``weight=`` at the input's shape."""
    if weight is None:
        return fn(p * m, t * m)
    return fn(p * m, t * m, weight=weight.expand(p.shape))


def _step(fn: LossFn, p: torch.Tensor, t: torch.Tensor, m: torch.Tensor) -> None:
    p.grad = None
    fn(p, t, m).backward()


def format_matrix(results: list[MatrixResult]) -> str:
    def dims(shape: tuple[int, ...] | None) -> str:
        return "-" if shape is None else "x".join(map(str, shape))

    header = (
        f"{'loss':5} {'dtype':8} {'input':>11} {'mask':>11} {'weight':>9} "
        f"{'naive us':>9} {'ours us':>9} {'ratio':>6}  {'saved KiB (ours/naive)':>22}  "
        f"{'ops (ours/naive)':>16}"
    )
    lines = [header]
    for r in results:
        saved = f"{r.ours_saved_bytes / 1024:9.1f} / {r.naive_saved_bytes / 1024:9.1f}"
        lines.append(
            f"{r.loss:5} {r.dtype:8} {dims(r.shape):>11} {dims(r.mask_shape):>11} "
            f"{dims(r.weight_shape):>9} {r.naive_us:9.1f} {r.ours_us:9.1f} {r.ratio:6.2f}  "
            f"{saved:>22}  {r.ours_ops:>7} / {r.naive_ops:<6}"
        )
    return "\n".join(lines)


def save_matrix_json(
    results: list[MatrixResult],
    path: str | pathlib.Path,
    per_call: dict[str, float] | None = None,
) -> None:
    """Write matrix results with the machine, date and versions they were measured with."""
    record: dict[str, Any] = {
        "device": _device_name(results[0].device if results else "cpu"),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        **measured_code(),
        "results": [asdict(r) for r in results],
    }
    if per_call is not None:
        record["per_call_costs_us"] = per_call
    pathlib.Path(path).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def per_call_costs(
    shape: tuple[int, ...] = (32, 128, 8),
    mask_shape: tuple[int, ...] = (32, 128, 1),
    *,
    rounds: int = 7,
    seconds: float = 0.1,
    seed: int = 0,
) -> dict[str, float]:
    """What ``masked_mse_loss`` adds to the naive loss on CPU tensors, in microseconds.

    Times, in interleaved rounds (medians): the naive and the package's
    forward+backward steps, and what the package does that the naive loss
    does not, each alone: the argument checks, the count and its division
    (three small operations), and the selection, ``torch.where`` forward and
    backward, less the naive loss's multiplication by the mask.
    """
    generator = torch.Generator().manual_seed(seed)
    p = torch.randn(shape, generator=generator).requires_grad_()
    t = torch.randn(shape, generator=generator)
    m = torch.rand(mask_shape, generator=generator) < 0.6

    def step(loss: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            p.grad = None
            loss().backward()

        return run

    options = {"weight": None, "dim": None, "keepdim": False, "count": None, "empty": "zero",
               "average": "element", "check_values": False}  # fmt: skip
    parts: dict[str, Callable[[], Any]] = {
        "naive step": step(lambda: naive_masked_mse_loss(p, t, m)),
        "masked_mse_loss step": step(lambda: masked_mse_loss(p, t, m)),
        "argument checks": lambda: check_loss_arguments(p, t, m, "mean", **options),
        "count and division": lambda: local_count_divisor(count_all(m, p.shape)),
        "where, step": step(lambda: torch.where(m, p, 0).sum()),
        "multiply by the mask, step": step(lambda: (p * m).sum()),
    }
    samples: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(rounds):
        for name, fn in parts.items():
            fn()
            timer = torch_benchmark.Timer(
                stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads()
            )
            samples[name].append(timer.blocked_autorange(min_run_time=seconds).median * 1e6)
    costs = {name: statistics.median(values) for name, values in samples.items()}
    costs["torch.where over a multiply"] = costs.pop("where, step") - costs.pop(
        "multiply by the mask, step"
    )
    return costs


def format_per_call_costs(costs: dict[str, float]) -> str:
    """The costs as a table: the two steps, the fixed costs, and what is left for the kernels."""
    extra = costs["masked_mse_loss step"] - costs["naive step"]
    fixed = sum(us for name, us in costs.items() if not name.endswith("step"))
    lines = [f"{name:28} {us:8.1f} us" for name, us in costs.items()]
    lines.append(f"{'extra per call':28} {extra:8.1f} us")
    lines.append(f"{'extra less the fixed costs':28} {extra - fixed:8.1f} us (the kernels)")
    lines.append(f"ratio {costs['masked_mse_loss step'] / costs['naive step']:.2f}")
    return "\n".join(lines)


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name()
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
