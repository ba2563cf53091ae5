"""Every refusal names what was expected and what was got."""

from __future__ import annotations

import pytest
import torch

import masked_loss as ml

X = torch.zeros(2, 3, 4)
MASK = torch.ones(2, 3, 4, dtype=torch.bool)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"input \(2, 3, 4\) and target \(2, 3\)"):
        ml.masked_mse_loss(X, torch.zeros(2, 3), MASK)


def test_unknown_reduction_lists_valid_ones():
    with pytest.raises(ValueError, match=r"reduction='avg'.*'mean', 'sum', 'none'"):
        ml.masked_mse_loss(X, X, MASK, "avg")
    with pytest.raises(ValueError, match=r"reduction='avg'"):
        ml.MaskedMSELoss("avg")


def test_unknown_empty_and_average():
    with pytest.raises(ValueError, match=r"empty='inf'.*'zero', 'nan'"):
        ml.masked_mse_loss(X, X, MASK, empty="inf")
    with pytest.raises(ValueError, match=r"average='token'.*'element', 'sample'"):
        ml.masked_l1_loss(X, X, MASK, average="token")


def test_float_mask_points_to_weight():
    with pytest.raises(TypeError, match=r"dtype torch.float32.*weight="):
        ml.masked_mse_loss(X, X, MASK.float())


def test_leading_dims_mask_suggests_unsqueeze():
    with pytest.raises(
        ValueError, match=r"\(2, 3\) cannot be broadcast.*\(2, 3, 4\).*mask\.unsqueeze\(-1\)"
    ):
        ml.masked_mse_loss(X, X, torch.ones(2, 3, dtype=torch.bool))


def test_leading_dims_mask_two_short_suggests_reshape():
    with pytest.raises(ValueError, match=r"mask\.reshape\(\*mask\.shape, 1, 1\)"):
        ml.masked_mean(X, torch.ones(2, dtype=torch.bool))


def test_unbroadcastable_mask_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"mask of shape \(5,\) cannot be broadcast to the input shape \(2, 3, 4\)"
    ):
        ml.masked_huber_loss(X, X, torch.ones(5, dtype=torch.bool))


def test_mask_may_not_enlarge_input():
    with pytest.raises(ValueError, match=r"mask of shape \(3, 2, 3, 4\)"):
        ml.masked_mse_loss(X, X, torch.ones(3, 2, 3, 4, dtype=torch.bool))


def test_weight_checks():
    with pytest.raises(
        TypeError, match=r"weight must be a floating-point tensor, got dtype torch.int64"
    ):
        ml.masked_mse_loss(X, X, MASK, weight=torch.ones(4, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) cannot be broadcast"):
        ml.masked_mse_loss(X, X, MASK, weight=torch.ones(3))


def test_non_float_input_and_non_tensor_arguments():
    with pytest.raises(
        TypeError, match=r"input must be a floating-point tensor, got dtype torch.int64"
    ):
        ml.masked_mse_loss(
            torch.zeros(3, dtype=torch.int64), torch.zeros(3), torch.ones(3, dtype=torch.bool)
        )
    with pytest.raises(TypeError, match=r"mask must be a torch.Tensor, got list"):
        ml.masked_mse_loss(torch.zeros(3), torch.zeros(3), [1, 1, 1])


def test_devices_must_match():
    # The meta device stands in for a second device on a machine without a GPU.
    with pytest.raises(
        ValueError, match=r"same device, got input on cpu, target on cpu, mask on meta"
    ):
        ml.masked_mse_loss(X, X, MASK.to("meta"))


def test_dim_checks():
    with pytest.raises(IndexError, match=r"dim 3 is out of range for a tensor with 3 dimensions"):
        ml.masked_mse_loss(X, X, MASK, dim=3)
    with pytest.raises(ValueError, match=r"names a dimension more than once"):
        ml.masked_mse_loss(X, X, MASK, dim=(1, -2))
    with pytest.raises(ValueError, match=r"at least one dimension"):
        ml.masked_mean(X, MASK, dim=())


def test_sample_average_conflicts():
    with pytest.raises(ValueError, match=r"dim cannot be combined with average='sample'"):
        ml.masked_mse_loss(X, X, MASK, dim=1, average="sample")
    with pytest.raises(ValueError, match=r"cannot be combined with average='sample'"):
        ml.masked_mse_loss(X, X, MASK, count=3, average="sample")
    with pytest.raises(ValueError, match=r"got a 0-d tensor"):
        ml.masked_mean(torch.tensor(1.0), torch.tensor(True), average="sample")


def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match=r"delta must be positive and finite, got 0"):
        ml.masked_huber_loss(X, X, MASK, delta=0)


def test_opt_in_value_checks():
    with pytest.raises(RuntimeError, match=r"mask entries must be 0 or 1"):
        ml.masked_mse_loss(X, X, torch.full((4,), 2), check_values=True)
    with pytest.raises(RuntimeError, match=r"weight entries at valid positions must be finite"):
        ml.masked_mean(X, MASK, weight=-torch.ones(4), check_values=True)
    # Off by default: a 2 in an integer mask counts as valid, like a True.
    assert ml.masked_mse_loss(X, X + 1, torch.full((4,), 2)).item() == 1.0
