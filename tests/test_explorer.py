"""The explorer's JavaScript computes what masked_loss computes (node runs the JS)."""

from __future__ import annotations

import json
import pathlib
import random
import shutil
import subprocess

import pytest
import torch

import masked_loss as ml
from masked_loss.teaching.widget import TUTORIAL_EXAMPLE, MaskExplorer, random_example

EXPLORER_JS = pathlib.Path(ml.__file__).parent / "teaching" / "static" / "explorer.js"
RUNNER = """
import { compute } from %s;
const cases = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));
const results = cases.map((c) => compute(c.predictions, c.targets, c.mask, c.reduction));
console.log(JSON.stringify(results));
"""


def run_js(cases):
    node = shutil.which("node")
    assert node, "these tests need Node.js (apt-get install nodejs)"
    script = RUNNER % json.dumps(EXPLORER_JS.as_uri())
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def random_cases(count, seed=0):
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        shape = (rng.randint(1, 5), rng.randint(1, 6))
        predictions, targets, mask = random_example(shape, seed=i)
        if i % 10 == 0:  # all masked, the empty corner
            mask = [[0] * shape[1] for _ in range(shape[0])]
        cases.append(
            {
                "predictions": predictions,
                "targets": targets,
                "mask": mask,
                "reduction": rng.choice(["mean", "sum", "none"]),
            }
        )
    return cases


def test_js_compute_matches_masked_loss_on_random_cases():
    cases = random_cases(300)
    js_results = run_js(cases)
    assert len(js_results) == 300
    for case, js in zip(cases, js_results, strict=True):
        p = torch.tensor(case["predictions"])
        t = torch.tensor(case["targets"])
        m = torch.tensor(case["mask"], dtype=torch.bool)
        reduction = case["reduction"]
        expected_naive = ml.naive_masked_mse_loss(p, t, m, reduction)
        expected_correct = ml.masked_mse_loss(p, t, m, reduction)
        torch.testing.assert_close(
            torch.tensor(js["naive"], dtype=torch.float32), expected_naive, rtol=1e-5, atol=1e-5
        )
        torch.testing.assert_close(
            torch.tensor(js["correct"], dtype=torch.float32), expected_correct, rtol=1e-5, atol=1e-5
        )
        assert js["k"] == ml.count_valid(m, p.shape).item()
        assert js["n"] == p.numel()
        assert js["ratio"] == pytest.approx(js["k"] / js["n"])


def test_js_tutorial_example():
    predictions, targets, mask = TUTORIAL_EXAMPLE
    case = {"predictions": predictions, "targets": targets, "mask": mask, "reduction": "mean"}
    (result,) = run_js([case])
    assert result["naive"] == pytest.approx(4 / 6)
    assert result["correct"] == pytest.approx(1.0)
    assert (result["k"], result["n"]) == (4, 6)


def test_python_results_match_tutorial():
    explorer = MaskExplorer()
    results = explorer.results()
    assert results["naive"] == pytest.approx(4 / 6)
    assert results["correct"] == pytest.approx(1.0)
    assert (results["k"], results["n"]) == (4, 6)
    explorer.reduction = "none"
    assert explorer.results()["correct"] == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]


def test_random_explorer_is_seeded():
    a = MaskExplorer(shape=(3, 4), seed=7)
    b = MaskExplorer(shape=(3, 4), seed=7)
    assert (a.predictions, a.targets, a.mask) == (b.predictions, b.targets, b.mask)
    assert len(a.mask) == 3 and len(a.mask[0]) == 4
