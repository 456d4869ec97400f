"""DESIGN §3's worked examples (computed with PyTorch in float64) pass through the HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "contract_examples.json"
EXAMPLES = json.loads(FIXTURE.read_text(encoding="utf-8"))["examples"]


def _close(actual: Any, expected: Any, path: str = "") -> None:
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"missing {path}.{key}"
            _close(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict):
        assert len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _close(a, e, f"{path}[{i}]")
    elif isinstance(expected, (list, float)) and not isinstance(expected, bool):
        a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
        assert a.shape == e.shape, f"{path}: shape {a.shape} != {e.shape}"
        scale = np.abs(e).max(initial=0.0)
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5 * scale + 1e-6, err_msg=path)
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_contract_example_matches_reference(client: Any, example: dict[str, Any]) -> None:
    method, path = example["endpoint"].split()
    response = client.request(method, path, json=example["request"])
    assert response.status_code == 200, response.text
    _close(response.json(), example["response_includes"])
