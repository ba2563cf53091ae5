"""Normalising a masked loss across gradient-accumulation steps and data-parallel ranks.

A mean of per-part means is not the mean of the whole batch when the parts
hold different numbers of valid elements. The fix is the one
``torchmetrics`` and ``fairseq`` use: add sums, add counts, divide once. Pass
the *global* count as ``count=`` to any loss in this package.

Gradient accumulation over micro-batches ``b`` of one step::

    total = sum(count_valid(m_b, x_b.shape) for m_b, x_b in micro_batches)
    for x_b, y_b, m_b in micro_batches:
        masked_mse_loss(model(x_b), y_b, m_b, count=total).backward()

Data parallelism (``DistributedDataParallel`` averages gradients over the
``W`` ranks, so each rank divides by ``global_count / W``)::

    local = count_valid(mask, output.shape)
    loss = masked_mse_loss(output, target, mask, count=ddp_normalizer(local))
    loss.backward()  # gradients now equal the single-process full batch
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def _group_size(group: dist.ProcessGroup | None) -> int:
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)


def global_count(local_count: torch.Tensor, group: dist.ProcessGroup | None = None) -> torch.Tensor:
    """Sum a local valid count over every rank of ``group`` (all-reduce).

    The count stays a tensor on its device (no ``.item()``), so the only
    synchronisation is the collective itself. Without an initialised process
    group it returns ``local_count`` unchanged (a world of one).

    Args:
        local_count: this rank's count, e.g. from
            :func:`~masked_loss.count_valid`; summed as int64 if integral.
        group: the process group; ``None`` means the default group.

    Returns:
        The global count, a new tensor (``local_count`` is not modified):
        int64 for an integer count, the same float dtype for a float one.
    """
    total = local_count.detach()
    # An integer count is summed in int64, whatever integer type it came in.
    total = total.clone() if total.is_floating_point() else total.to(torch.int64, copy=True)
    if _group_size(group) > 1:
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)
    return total


def ddp_normalizer(
    local_count: torch.Tensor, group: dist.ProcessGroup | None = None
) -> torch.Tensor:
    r"""The ``count=`` that makes DDP's averaged gradient equal the full-batch gradient.

    ``DistributedDataParallel`` divides the summed gradients by the world
    size :math:`W`. Each rank therefore divides its masked sum :math:`S_r` by
    :math:`C/W`, where :math:`C` is the global count:

    .. math::
        \frac{1}{W}\sum_r \nabla \frac{S_r}{C/W} = \frac{\sum_r \nabla S_r}{C}.

    Args:
        local_count: this rank's valid count.
        group: the process group DDP reduces over; ``None`` means the default.

    Returns:
        ``global_count(local_count) / W`` as a float64 tensor.
    """
    return global_count(local_count, group).to(torch.float64) / _group_size(group)
