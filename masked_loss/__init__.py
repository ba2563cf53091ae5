"""Correct, NaN-safe, sync-free masked losses and reductions for PyTorch.

The single source of every formula in the masked-loss book. The library is
:mod:`masked_loss.losses`, :mod:`masked_loss.reductions` and
:mod:`masked_loss.distributed` (torch only); the book's teaching helpers are in
:mod:`masked_loss.teaching` and need the ``[book]`` extras.
"""

from masked_loss.classification import (
    MaskedBCEWithLogitsLoss,
    MaskedCrossEntropyLoss,
    class_weight_count,
    masked_binary_cross_entropy_with_logits,
    masked_cross_entropy,
    naive_masked_binary_cross_entropy_with_logits,
    naive_masked_cross_entropy,
)
from masked_loss.distributed import ddp_normalizer, global_count
from masked_loss.losses import (
    MaskedHuberLoss,
    MaskedL1Loss,
    MaskedMSELoss,
    masked_huber_loss,
    masked_l1_loss,
    masked_mse_loss,
    naive_masked_mse_loss,
)
from masked_loss.reductions import count_valid, masked_mean, masked_sum, select_valid

__version__ = "0.4.0"

__all__ = [
    "MaskedBCEWithLogitsLoss",
    "MaskedCrossEntropyLoss",
    "class_weight_count",
    "masked_binary_cross_entropy_with_logits",
    "masked_cross_entropy",
    "naive_masked_binary_cross_entropy_with_logits",
    "naive_masked_cross_entropy",
    "MaskedHuberLoss",
    "MaskedL1Loss",
    "MaskedMSELoss",
    "count_valid",
    "ddp_normalizer",
    "global_count",
    "masked_huber_loss",
    "masked_l1_loss",
    "masked_mean",
    "masked_mse_loss",
    "masked_sum",
    "naive_masked_mse_loss",
    "select_valid",
]
