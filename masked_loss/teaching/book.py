"""Small helpers the book's notebooks share (device choice, glue, toy data).

Nothing here computes a loss: formulas live in :mod:`masked_loss.losses` and
:mod:`masked_loss.reductions`.
"""

from __future__ import annotations

from typing import Any

import torch


def default_device() -> torch.device:
    """CUDA when present, else the CPU: every notebook runs unchanged on either."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def glue(name: str, value: Any) -> None:
    """Store ``value`` for the book's prose (myst-nb ``{glue}``); a no-op without myst-nb.

    On Colab myst-nb is not installed and the prose numbers are already on
    the site, so nothing is lost.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    if isinstance(value, torch.Tensor):
        value = value.item()
    myst_glue(name, value, display=False)


def padded_regression_data(
    n_sequences: int,
    max_length: int,
    features: int,
    *,
    min_length: int = 1,
    noise: float = 0.1,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Variable-length sequences padded to ``max_length``: a per-step linear target.

    Returns:
        ``(x, y, mask, true_weight)`` with ``x`` of shape ``(n, T, features)``,
        ``y`` of shape ``(n, T, 1)``, a bool ``mask`` of shape ``(n, T, 1)``
        and the weight vector that generated ``y``. Padding in ``x`` and ``y``
        holds zeros.
    """
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, max_length + 1, (n_sequences,), generator=generator)
    mask = (torch.arange(max_length) < lengths[:, None]).unsqueeze(-1)
    true_weight = torch.randn(features, 1, generator=generator)
    x = torch.randn(n_sequences, max_length, features, generator=generator) * mask
    y = (
        x @ true_weight + noise * torch.randn(n_sequences, max_length, 1, generator=generator)
    ) * mask
    return x, y, mask, true_weight


# --- A real data-parallel run: two CPU processes, gloo, 127.0.0.1 -------------

_DDP_LENGTHS = (5, 5, 4, 5, 1, 2, 1, 0)  # rank 1's half is mostly padding


def ddp_demo_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eight padded sequences (5 steps, 3 features in, 2 out) and their ``(B, T, 1)`` mask."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 5, 3, generator=generator)
    y = torch.randn(8, 5, 2, generator=generator)
    mask = (torch.arange(5) < torch.tensor(_DDP_LENGTHS)[:, None]).unsqueeze(-1)
    return x, y, mask


def ddp_demo_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2)


def full_batch_gradients() -> list[torch.Tensor]:
    """The gradients of the correct masked MSE over the whole batch, in one process."""
    from masked_loss.losses import masked_mse_loss

    x, y, mask = ddp_demo_batch()
    model = ddp_demo_model()
    masked_mse_loss(model(x), y, mask).backward()
    return [p.grad.detach().clone() for p in model.parameters()]


def _ddp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    import os

    import torch.distributed as dist

    from masked_loss.distributed import ddp_normalizer, global_count
    from masked_loss.losses import masked_mse_loss
    from masked_loss.reductions import count_valid

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        x, y, mask = ddp_demo_batch()
        part = slice(rank * len(x) // world_size, (rank + 1) * len(x) // world_size)
        x, y, mask = x[part], y[part], mask[part]
        model = torch.nn.parallel.DistributedDataParallel(ddp_demo_model())
        results: dict[str, Any] = {}
        for normalization in ("global", "local"):
            model.zero_grad()
            out = model(x)
            local = count_valid(mask, out.shape)
            count = ddp_normalizer(local) if normalization == "global" else None
            masked_mse_loss(out, y, mask, count=count).backward()
            results[normalization] = [p.grad.detach().clone() for p in model.parameters()]
        results["local_count"] = local
        results["global_count"] = global_count(local)
        results["normalizer"] = ddp_normalizer(local)
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def ddp_gradients(world_size: int = 2) -> list[dict[str, Any]]:
    """Run one step under ``DistributedDataParallel`` in ``world_size`` CPU processes.

    Each rank computes the masked MSE of its half of :func:`ddp_demo_batch`
    twice: dividing by the global count (``ddp_normalizer``, key
    ``'global'``) and by its own count (key ``'local'``, a mean of per-rank
    means). Returns one dict per rank with both sets of gradients and the
    counts.
    """
    import os
    import socket
    import tempfile

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(_ddp_worker, args=(world_size, port, out_dir), nprocs=world_size, join=True)
        return [torch.load(os.path.join(out_dir, f"rank{r}.pt")) for r in range(world_size)]


class ClaimError(AssertionError):
    """A sentence of the book that the executed data no longer support."""


def claim(condition: Any, sentence: str) -> None:
    """Assert that the data beside a sentence of prose support it.

    Every comparative or quantitative sentence in a chapter has a hidden cell
    that calls ``claim`` with the condition that makes it true. If the data
    change and stop supporting the sentence, executing the notebook (nbval,
    ``make execute``) fails and names the sentence.

    Args:
        condition: a bool, or a bool tensor that must be all true.
        sentence: the sentence (or its gist) that the condition backs.

    Raises:
        ClaimError: when the condition does not hold.

    Example:
        >>> claim(2 > 1, "two is larger than one")
        >>> claim(torch.tensor([True, False]), "every entry is true")
        Traceback (most recent call last):
        ...
        masked_loss.teaching.book.ClaimError: the book says "every entry is true", but the data
        do not support it
    """
    if isinstance(condition, torch.Tensor):
        condition = bool(condition.all())
    if not condition:
        raise ClaimError(f'the book says "{sentence}", but the data do not support it')
