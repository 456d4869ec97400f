"""Security headers on every answer; pages without inline scripts; CORS only when configured;
uploads served with their detected type."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from server.web.security import CONTENT_SECURITY_POLICY

PAGES = ["/", "/step", "/network", "/docs"]


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.parametrize("path", [*PAGES, "/api/health", "/api/kernels", "/openapi.json",
                                  "/static/js/page.js", "/api/nowhere"])
def test_headers_present_when_any_answer(client: Any, path: str) -> None:
    answer = client.get(path)
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert "access-control-allow-origin" not in answer.headers


def test_policy_forbids_inline_and_eval_when_read() -> None:
    policy = _directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    # our own /room page frames the teacher's page; nobody else may
    assert policy["frame-ancestors"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert not any("unsafe-eval" in value for values in policy.values() for value in values)


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_when_rendered(client: Any, path: str) -> None:
    html = client.get(path).text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts, "every page runs scripts"
    for attributes, body in scripts:
        source = re.search(r'src="([^"]+)"', attributes)
        assert source and source.group(1).startswith("/") and not body.strip(), attributes
        assert client.get(source.group(1)).status_code == 200
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I)  # no inline event handlers
    assert "javascript:" not in html


def test_cors_absent_when_not_configured(client: Any) -> None:
    preflight = client.options("/api/conv", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_named_origin_when_configured(make_client: Callable[..., Any]) -> None:
    client = make_client(cors_origins="https://school.example, https://other.example/")
    for origin in ("https://school.example", "https://other.example"):
        answer = client.get("/api/health", headers={"Origin": origin})
        assert answer.headers["access-control-allow-origin"] == origin
    preflight = client.options("/api/conv", headers={
        "Origin": "https://school.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    stranger = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers


def test_upload_served_with_detected_type_when_declared_otherwise(
        client: Any, make_image: Callable[..., bytes]) -> None:
    data = make_image("PNG", (8, 8))
    upload = client.post("/api/images", files={"file": ("page.html", data, "text/html")})
    assert upload.status_code == 201
    served = client.get(upload.json()["url"])
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"


def test_upload_refused_when_html(client: Any, assert_error: Callable[..., Any]) -> None:
    page = b"<html><script>alert(1)</script></html>"
    assert_error(client.post("/api/images", files={"file": ("a.png", page, "image/png")}),
                 415, "file")
