"""Health, kernels, samples, dropout, transposed convolution, settings and the /docs manual."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from server.config import Settings
from server.core.kernels import PRESETS


def test_health_reports_ok_when_running(client: Any) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["version"]


def test_kernels_lists_every_preset_when_asked(client: Any) -> None:
    body = client.get("/api/kernels").json()
    assert [k["name"] for k in body] == list(PRESETS)
    sobel = next(k for k in body if k["name"] == "sobel_x")
    assert np.asarray(sobel["kernel"]).shape == (3, 3)
    assert sobel["description"] and sobel["description_ru"] and sobel["title_ru"]


def test_samples_are_usable_as_image_ids_when_started(client: Any) -> None:
    samples = client.get("/api/samples").json()
    assert {s["name"] for s in samples} == {"astronaut", "rocket", "camera", "chelsea", "coffee"}
    for sample in samples:
        assert sample["license"] in ("public domain", "CC0") and sample["credit"]
        assert max(sample["width"], sample["height"]) <= 512
        image = client.get(sample["url"])
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/")


def test_samples_are_kept_when_store_evicts(make_client: Any, make_image: Any) -> None:
    client = make_client(store_max_bytes=1)
    client.post("/api/images", files={"file": ("a.png", make_image(), "image/png")})
    for sample in client.get("/api/samples").json():
        assert client.get(sample["url"]).status_code == 200


def test_dropout_repeats_mask_when_same_seed(client: Any) -> None:
    request = {"input": np.ones((4, 5)).tolist(), "p": 0.5, "seed": 3}
    first, second = (client.post("/api/dropout", json=request).json() for _ in range(2))
    assert first["mask"] == second["mask"]
    mask, output = np.asarray(first["mask"]), np.asarray(first["output"])
    assert mask.dtype == bool and first["kept"] == mask.sum()
    np.testing.assert_allclose(output, mask * 2.0)


def test_dropout_is_identity_when_not_training(client: Any) -> None:
    body = client.post("/api/dropout", json={"input": [[1.0, 2.0]], "p": 0.9,
                                             "training": False}).json()
    assert body["output"] == [[1.0, 2.0]] and body["mask"] == [[True, True]]


def test_conv_transpose_scatters_kernel_when_strided(client: Any) -> None:
    body = client.post("/api/conv_transpose", json={"input": [1.0, 2.0],
                                                    "kernel": [1.0, 10.0, 100.0],
                                                    "stride": 2}).json()
    assert body["output"] == [1.0, 10.0, 102.0, 20.0, 200.0]
    assert body["shape"] == [5]
    assert body["explain"] == ["axis 0: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5"]


def test_conv_transpose_inverts_shape_of_conv_when_channels(client: Any) -> None:
    body = client.post("/api/conv_transpose", json={
        "input": np.ones((2, 3, 3)).tolist(), "kernel": np.ones((2, 4, 3, 3)).tolist(),
        "padding": 1, "stride": 2, "output_padding": 1}).json()
    assert body["shape"] == [4, 6, 6]


def test_openapi_documents_every_endpoint_when_served(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/health", "/api/images", "/api/images/{image_id}",
                 "/api/images/{image_id}/preview", "/api/samples", "/api/kernels", "/api/conv",
                 "/api/conv/render", "/api/pool", "/api/pool/render", "/api/pool/frames",
                 "/api/frames",
                 "/api/conv_transpose", "/api/dropout"):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    for name in ("ConvRequest", "PoolRequest", "FramesRequest", "ErrorResponse"):
        fields = schemas[name]["properties"]
        assert all("description" in f or "$ref" in f or "allOf" in f or "anyOf" in f
                   for f in fields.values()), name
    assert schemas["ConvRequest"].get("examples")
    conv = spec["paths"]["/api/conv"]["post"]
    assert conv["description"] and "422" in conv["responses"]
    assert client.get("/docs").status_code == 200


def test_settings_read_environment_when_prefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVERTKA_MAX_FRAMES_PER_PAGE", "7")
    monkeypatch.setenv("SVERTKA_DATA_DIR", "/tmp/svertka-test")
    settings = Settings()
    assert settings.max_frames_per_page == 7
    assert str(settings.images_dir) == "/tmp/svertka-test/images"


def test_settings_describe_every_field_when_defined() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert not missing
    assert Settings().png_compress_level == 1
