"""The benchmark's tables and JSON hold what they say (timings themselves are not asserted)."""

from __future__ import annotations

import json

import torch

import masked_loss
from masked_loss.teaching.benchmark import (
    format_matrix,
    format_per_call_costs,
    per_call_costs,
    run_matrix,
    save_matrix_json,
)


def test_matrix_row_json_and_per_call_costs(tmp_path):
    case = ("huber", torch.float32, (4, 8, 2), (4, 8, 1), (2,))
    (row,) = run_matrix("cpu", rounds=1, seconds=0.01, cases=[case])
    described = (row.loss, row.dtype, row.shape, row.weight_shape)
    assert described == ("huber", "float32", (4, 8, 2), (2,))
    assert row.ratio > 0
    # Both save the mask, the (2,) weight and one or two input-sized tensors.
    assert 64 <= row.ours_saved_bytes <= row.naive_saved_bytes
    assert 0 < row.naive_ops < row.ours_ops

    costs = per_call_costs((4, 8, 2), (4, 8, 1), rounds=1, seconds=0.01)
    assert set(costs) == {
        "naive step",
        "masked_mse_loss step",
        "argument checks",
        "count and division",
        "torch.where over a multiply",
    }
    assert all(us > 0 for name, us in costs.items() if name != "torch.where over a multiply")
    table = format_per_call_costs(costs)
    extra = costs["masked_mse_loss step"] - costs["naive step"]
    assert f"{'extra per call':28} {extra:8.1f} us" in table
    assert format_matrix([row]).splitlines()[1].startswith("huber float32")

    path = tmp_path / "matrix.json"
    save_matrix_json([row], path, costs)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["torch"] == torch.__version__
    assert record["masked_loss"] == masked_loss.__version__
    assert record["commit"] is None or len(record["commit"]) == 40
    assert record["per_call_costs_us"] == costs
    assert record["results"][0]["ours_saved_bytes"] == row.ours_saved_bytes
