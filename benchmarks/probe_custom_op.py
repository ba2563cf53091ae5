"""Why the selection is plain ``torch.where``, not a custom operator.

Run: python benchmarks/probe_custom_op.py

The alternative considered for a faster CPU selection: register the
bit-level kernel as an operator with ``torch.library.custom_op``, with
``register_fake``, ``register_autograd`` (its backward calls the operator
itself) and ``register_vmap``. This script builds that operator and prints,
for the installed torch, what each transform does with it and what one call
costs beside ``torch.where`` (forward and backward, on the CPU, at the
benchmark's small size).
"""

from __future__ import annotations

import platform

import torch
import torch.autograd.forward_ad as fwAD
from torch.utils import benchmark

SAME_WIDTH_INT = {torch.float64: torch.int64, torch.float32: torch.int32}


@torch.library.custom_op("masked_loss_probe::select_valid", mutates_args=())
def select_bits(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if values.device.type == "cpu" and values.dtype in SAME_WIDTH_INT:
        # An integer multiply by the 0/1 mask clears every bit of masked entries.
        return values.view(SAME_WIDTH_INT[values.dtype]).mul(mask).view(values.dtype)
    return torch.where(mask, values, 0)


@select_bits.register_fake
def _(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(values)


def _setup_context(ctx, inputs, output):  # noqa: ANN001, ANN202
    ctx.mask = inputs[1]


def _backward(ctx, grad):  # noqa: ANN001, ANN202
    return select_bits(grad, ctx.mask), None


select_bits.register_autograd(_backward, setup_context=_setup_context)


@select_bits.register_vmap
def _(info, in_dims, values, mask):  # noqa: ANN001, ANN202
    values = values.movedim(in_dims[0], 0) if in_dims[0] is not None else values
    if in_dims[1] is not None:
        mask = mask.movedim(in_dims[1], 0)
    return select_bits(values, mask), 0 if in_dims[0] is not None or in_dims[
        1
    ] is not None else None


def outcome(fn) -> str:  # noqa: ANN001
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 -- the point is to report it
        return f"raises {type(error).__name__}: {str(error).splitlines()[0][:200]}"


def main() -> None:
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    m = torch.tensor([True, False, True])
    tangent = torch.ones(3, dtype=torch.float64)
    print(f"torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} threads")

    def func_grad() -> str:
        got = torch.func.grad(lambda a: select_bits(a, m).pow(2).sum())(x)
        return f"{got.tolist()} (expected [2.0, 0.0, 6.0])"

    def forward_ad() -> str:
        with fwAD.dual_level():
            out = select_bits(fwAD.make_dual(x, tangent), m)
            got = fwAD.unpack_dual(out).tangent
        return f"tangent {None if got is None else got.tolist()} (expected [1.0, 0.0, 1.0])"

    def func_jvp() -> str:
        _, got = torch.func.jvp(lambda a: select_bits(a, m), (x,), (tangent,))
        return f"{got.tolist()} (expected [1.0, 0.0, 1.0])"

    print("torch.func.grad:   ", outcome(func_grad))
    print("forward-mode AD:   ", outcome(forward_ad))
    print("torch.func.jvp:    ", outcome(func_jvp))

    p = torch.randn(32, 128, 8, requires_grad=True)
    mask = torch.rand(32, 128, 1) < 0.6

    def step(select):  # noqa: ANN001, ANN202
        def run() -> None:
            p.grad = None
            select(p, mask).sum().backward()

        return run

    for name, select in (
        ("custom_op", select_bits),
        ("torch.where", lambda a, b: torch.where(b, a, 0)),
    ):
        timer = benchmark.Timer(stmt="fn()", globals={"fn": step(select)})
        print(f"{name:12} forward+backward at 32x128x8: "
              f"{timer.blocked_autorange(min_run_time=0.5).median * 1e6:.0f} us")  # fmt: skip


if __name__ == "__main__":
    main()
