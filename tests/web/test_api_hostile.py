"""Hostile requests found by the adversarial pass: each one was a 500, a crash, a silent 200
or an unclear message. One test per failure mode; the server must stay up after each."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

I3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
K2 = [[1, 0], [0, 1]]
JSON_BODY = b'{"input": [[1, 2], [3, 4]], "kernel": [[1]]}'


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares ``width x height`` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("stride", [10**9, 2**63, [3000, 3000]])
def test_conv_answers_when_stride_enormous(client: Any, stride: Any) -> None:
    # the core once laid out one plane per stride phase: 2**63 overflowed, 10**9 ran out of memory
    response = client.post("/api/conv", json={"input": I3, "kernel": K2, "stride": stride})
    assert response.status_code == 200, response.text
    assert response.json()["output"] == [[6.0]]
    frames = client.post("/api/frames", json={"input": I3, "kernel": K2, "stride": stride})
    assert frames.json()["frames"][0]["origin"] == [0, 0]


def test_validation_quotes_value_when_wrong_type(client: Any, assert_error: Any) -> None:
    envelope = assert_error(client.post("/api/conv", json={"input": I3, "kernel": K2,
                                                           "dilation": False}), 422, "dilation")
    assert envelope["message"].endswith("got false")


def test_body_error_says_object_when_array(client: Any, assert_error: Any) -> None:
    envelope = assert_error(client.post("/api/conv", json=[1, 2]), 422, "body")
    assert "JSON object" in envelope["message"] and "an array" in envelope["message"]


def test_body_error_is_4xx_when_nested_very_deep(client: Any, assert_error: Any) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/api/conv", content=body,
                           headers={"content-type": "application/json"})
    assert_error(response, 422, "body")
    assert client.get("/api/health").status_code == 200


@pytest.mark.parametrize("headers", [{"content-type": "text/plain"},
                                     {"content-type": "application/x-www-form-urlencoded"}, {}],
                         ids=["text", "form", "missing"])
def test_json_endpoint_refuses_body_when_not_declared_json(client: Any, assert_error: Any,
                                                           headers: dict[str, str]) -> None:
    response = client.post("/api/conv", content=JSON_BODY, headers=headers)
    envelope = assert_error(response, 415, "content-type")
    assert envelope["code"] == "unsupported_media"
    assert "application/json" in envelope["accepted"]


def test_json_endpoint_accepts_body_when_json_suffix(client: Any) -> None:
    response = client.post("/api/conv", content=JSON_BODY,
                           headers={"content-type": "application/vnd.api+json; charset=utf-8"})
    assert response.status_code == 200, response.text


def test_upload_refuses_body_when_not_multipart(client: Any, assert_error: Any) -> None:
    response = client.post("/api/images", json={"file": "photo.png"})
    envelope = assert_error(response, 415, "content-type")
    assert "multipart/form-data" in envelope["message"]


def test_upload_error_speaks_of_file_when_multipart_broken(client: Any,
                                                           assert_error: Any) -> None:
    response = client.post("/api/images", content=b"abc",
                           headers={"content-type": "multipart/form-data"})  # no boundary
    envelope = assert_error(response, 400, "body")
    assert "`file`" in envelope["accepted"]


def test_upload_names_our_limit_when_decompression_bomb(client: Any, assert_error: Any) -> None:
    data = _png_header_only(30_000, 30_000)
    assert len(data) < 200
    response = client.post("/api/images", files={"file": ("bomb.png", data, "image/png")})
    envelope = assert_error(response, 413, "file")
    limit = client.app.state.settings.max_pixels
    assert "900000000 pixels" in envelope["message"]
    assert f"limit of {limit}" in envelope["message"]
    assert "80000000" not in envelope["message"]  # Pillow's own (doubled) threshold


@pytest.mark.parametrize("data", [
    b"GIF89a\x0a\x00\x0a\x00\x80\x00\x00" + b"\x00" * 6 + b";",  # a GIF with zero frames
    b"\x89PNG\r\n\x1a\n" + b"\xff" * 40,  # a PNG damaged after the signature
], ids=["gif-no-frames", "png-damaged"])
def test_upload_message_is_plain_when_unreadable(client: Any, assert_error: Any,
                                                 data: bytes) -> None:
    response = client.post("/api/images", files={"file": ("x", data, "image/gif")})
    envelope = assert_error(response, 415, "file")
    assert "BytesIO" not in envelope["message"]  # Pillow's message named a Python object


@pytest.mark.parametrize("padding", ["same", "valid", [[0, 1], [1, 0]]])
def test_pool_accepts_padding_when_conv_forms(client: Any, padding: Any) -> None:
    x = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]
    response = client.post("/api/pool", json={"input": x, "mode": "max", "kernel_size": 2,
                                              "padding": padding})
    assert response.status_code == 200, response.text
    expected = {"same": [[5, 6], [8, 9]], "valid": [[5]],
                "pairs": [[4, 6], [7, 9]]}["pairs" if isinstance(padding, list) else padding]
    assert response.json()["output"] == [expected]


def test_pool_size_error_suggests_accepted_padding_when_empty(client: Any,
                                                              assert_error: Any) -> None:
    request = {"input": [[[1, 2], [3, 4]]], "mode": "max", "kernel_size": 3}
    envelope = assert_error(client.post("/api/pool", json=request), 422, "padding")
    assert envelope["code"] == "output_size" and '"same"' in envelope["message"]
    for fix in (envelope["suggestion"], {"padding": "same"}):  # both hints must work
        assert client.post("/api/pool", json={**request, **fix}).status_code == 200


def test_health_answers_when_cpu_work_queued(make_client: Any, monkeypatch: Any) -> None:
    from server.web.routes import conv as conv_routes

    client = make_client(max_concurrency=1)
    limiter = client.app.state.limiter
    sample = client.get("/api/samples").json()[0]["id"]
    heavy = {"image_id": sample, "kernel": [[[[1.0] * 9] * 9] * 3] * 8}  # 8 RGB 9x9 filters
    started, release = threading.Event(), threading.Event()
    real_run_conv = conv_routes.run_conv

    def held_run_conv(*args: Any, **kwargs: Any) -> Any:
        started.set()  # this request holds the single CPU slot until the test releases it
        assert release.wait(timeout=60), "the test never released the CPU work"
        return real_run_conv(*args, **kwargs)

    monkeypatch.setattr(conv_routes, "run_conv", held_run_conv)
    with ThreadPoolExecutor(8) as pool:
        busy = [pool.submit(client.post, "/api/conv/render", json=heavy) for _ in range(8)]
        try:
            assert started.wait(timeout=60), "no request reached the CPU slot"
            _wait_until(lambda: limiter.statistics().tasks_waiting == 7, "7 requests queued")
            # the event loop answers while one request computes and seven wait for its slot
            health = client.get("/api/health")
            stats = limiter.statistics()
            assert (stats.borrowed_tokens, stats.tasks_waiting) == (1, 7)
            assert not any(future.done() for future in busy)
        finally:
            release.set()
        answers = [future.result() for future in busy]
    assert health.status_code == 200, health.text
    assert all(answer.status_code == 200 for answer in answers)


def _wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60  # a bound on a condition, not a pause
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_render_refuses_grid_when_gaps_exceed_limit(make_client: Any, assert_error: Any) -> None:
    # 40 one-row maps stack into 40 rows with 2-pixel gaps: 5900 pixels for 2000 values
    client = make_client(max_output_elements=3000)
    request = {"input": [[1.0] * 50], "kernel": [[[[1.0]]]] * 40}
    envelope = assert_error(client.post("/api/conv/render", json=request), 422, "display.layout")
    assert envelope["code"] == "limit"
    fixed = client.post("/api/conv/render", json={**request, "display": envelope["suggestion"]})
    assert fixed.status_code == 200, fixed.text


def test_validation_says_accepted_when_nested_pool_field(client: Any, assert_error: Any) -> None:
    response = client.post("/api/conv", json={"input": I3, "kernel": K2,
                                              "pool": {"mode": "max"}})
    envelope = assert_error(response, 422, "pool.kernel_size")
    assert envelope["accepted"] and "int" in envelope["accepted"]


@pytest.mark.parametrize("where", ["preset", "image_id", "padding", "key"])
def test_error_stays_short_when_text_enormous(client: Any, where: str) -> None:
    text = "a" * 1_000_000
    body: dict[str, Any] = {"input": I3, "kernel": K2}
    if where == "key":
        body[text] = 1
    elif where == "padding":
        body["padding"] = text
    else:
        body = {"input" if where == "preset" else "kernel": I3 if where == "preset" else K2,
                where: text}
    response = client.post("/api/conv", json=body)
    assert response.status_code == 422 and response.json()["status"] == 422
    assert len(response.content) < 10_000  # was the text echoed up to four times


def test_error_stays_short_when_core_quotes_huge_list(client: Any, assert_error: Any) -> None:
    response = client.post("/api/frames", json={"input": I3, "kernel": K2,
                                                "positions": [[0]] * 100_000})
    envelope = assert_error(response, 422, "positions")
    assert len(response.content) < 10_000
    assert envelope["message"].startswith("`positions` must be")


def test_pool_suggestion_works_when_window_sees_only_padding(client: Any,
                                                             assert_error: Any) -> None:
    request = {"input": [[[5]]], "mode": "max", "kernel_size": 2, "dilation": 2, "padding": 1}
    envelope = assert_error(client.post("/api/pool", json=request), 422, "padding")
    assert "-infinity" in envelope["message"]  # not "values too large": nothing overflowed
    fixed = client.post("/api/pool", json={**request, **envelope["suggestion"]})
    assert fixed.json()["output"] == [[[5.0]]]


def test_parse_json_names_the_nesting_when_too_deep() -> None:
    import json

    from server.web.deps import parse_json

    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)
