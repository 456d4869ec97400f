"""Server-Timing headers and the lean encodings of the web layer (same answers, less work)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from server.core import frames
from server.web.responses import json_response, records
from server.web.routes.frames import FRAME_FIELDS

METRIC = re.compile(r"^([\w-]+);dur=(\d+\.\d+)$")


def metrics(response: Any) -> dict[str, float]:
    """``Server-Timing`` as ``{name: ms}``; every entry must be ``name;dur=<ms>``."""
    found = {}
    for part in response.headers["server-timing"].split(","):
        match = METRIC.match(part.strip())
        assert match, response.headers["server-timing"]
        found[match.group(1)] = float(match.group(2))
    return found


def test_server_timing_reports_total_when_health(client: Any) -> None:
    timing = metrics(client.get("/api/health"))
    assert list(timing) == ["total"] and timing["total"] >= 0


def test_server_timing_reports_total_when_error(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv", json={"input": [[1, 2], [3, 4]], "kernel": [[1]],
                                              "stride": 0})
    assert_error(response, 422, "stride")
    assert "total" in metrics(response)


def test_server_timing_lists_stages_then_total_when_render(client: Any) -> None:
    image_id = client.get("/api/samples").json()[0]["id"]
    response = client.post("/api/conv/render", json={
        "image_id": image_id, "preset": "sobel_x", "padding": "same", "max_side": 64,
        "display": {"mode": "signed"}})
    assert response.status_code == 200
    timing = metrics(response)
    assert list(timing) == ["conv", "render", "total"]
    assert timing["conv"] + timing["render"] <= timing["total"] + 1e-3


def test_server_timing_lists_stages_then_total_when_pool_render(client: Any) -> None:
    response = client.post("/api/pool/render", json={
        "input": [[1, 2, 3, 4], [5, 6, 7, 8]], "mode": "max", "kernel_size": 2})
    assert response.status_code == 200
    assert list(metrics(response)) == ["pool", "render", "total"]


@pytest.mark.parametrize("path, stage", [("/api/conv", "conv"), ("/api/frames", "frames")])
def test_server_timing_lists_stage_when_numbers(client: Any, path: str, stage: str) -> None:
    response = client.post(path, json={"input": [[1, 2, 3], [4, 5, 6]], "kernel": [[1, -1]]})
    assert response.status_code == 200
    assert list(metrics(response)) == [stage, "total"]


def test_frames_encode_as_core_lists_when_records() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 9, 8)).astype(np.float32)
    w = rng.normal(size=(3, 2, 3, 3))
    batch = frames(x, w, bias=[0.5, -1.0, 2.0], stride=2, padding=1,
                   padding_mode="reflect", activation="relu", offset=7, limit=20)
    fast = json_response(records({name: getattr(batch, name) for name in FRAME_FIELDS}))
    assert fast.body == orjson.dumps(batch.to_list())


def test_records_write_null_when_not_finite() -> None:
    rows = records({"a": np.array([1.5, np.nan, np.inf]), "b": np.arange(6.0).reshape(3, 2)})
    assert orjson.loads(json_response(rows).body) == [
        {"a": 1.5, "b": [0.0, 1.0]}, {"a": None, "b": [2.0, 3.0]}, {"a": None, "b": [4.0, 5.0]}]


WORKER_ID = re.compile(r"^[0-9a-f]{16}$")


def test_worker_header_names_process_opaquely_when_answering(client: Any) -> None:
    from server.web.timing import worker_id

    first, second = client.get("/api/health"), client.get("/api/nope")
    name = first.headers["x-svertka-worker"]
    assert WORKER_ID.match(name), name
    assert name == second.headers["x-svertka-worker"] == worker_id()  # one name per process
    assert name != str(os.getpid())  # the app runs in this very process: its pid stays private


def test_worker_id_differs_when_process_forks() -> None:
    # run in a fresh interpreter: forking pytest itself (with threads about) is not safe
    script = (
        "import os\n"
        "from server.web.timing import worker_id\n"
        "parent = worker_id()\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.write(w, worker_id().encode())\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(parent, os.read(r, 64).decode(), os.getpid(), pid)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout.split()
    parent, child, parent_pid, child_pid = out
    assert WORKER_ID.match(parent) and WORKER_ID.match(child), out
    assert parent != child  # two workers forked from one manager still tell themselves apart
    assert not {parent, child} & {parent_pid, child_pid}
