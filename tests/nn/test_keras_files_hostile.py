"""Hostile and broken model files: each one a clear 4xx, decided before anything large is
allocated (limits are set low here, so an allocation the size of a declared shape would show up
as a MemoryError or a hang, not as the error asserted)."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import h5py
import numpy as np
import pytest
from fastapi import FastAPI, Request
from keras_helpers import (
    edit_h5,
    edit_keras,
    fixture,
    members,
    read,
    replace,
    zip_bytes,
)

from server.nn.keras_files import ModelFileError
from server.web.errors import install_error_handlers

KERNEL = "layers/dense/vars/0"  # convnet2d's Dense kernel, (6, 5)


def _refusal(data: bytes, filename: str | None = "model.keras", **limits: int) -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        read(data, filename, **limits)
    assert info.value.param in info.value.message  # the envelope's field, named
    return info.value


# ---- size and container ---------------------------------------------------------------------

def test_file_over_size_limit_is_413() -> None:
    data = fixture("convnet2d.keras")
    error = _refusal(data, max_bytes=len(data) - 1)
    assert (error.status, error.code, error.param) == (413, "too_large", "file")
    assert f"{len(data):,}" in error.message


@pytest.mark.parametrize("data", [b"", b"hello world", bytes(range(256)) * 8, b"PK"])
def test_garbage_is_415(data: bytes) -> None:
    error = _refusal(data)
    assert (error.status, error.code, error.param) == (415, "unsupported_media", "file")
    assert "neither" in error.message


@pytest.mark.parametrize("name", ["convnet2d.keras", "legacy.h5"])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.95])
def test_truncated_file_is_4xx(name: str, fraction: float) -> None:
    data = fixture(name)
    error = _refusal(data[: int(len(data) * fraction)], name)
    assert error.status in (415, 422)
    assert error.param == "file" or error.param.startswith("layers[")


def test_hdf5_named_keras_is_refused_with_advice() -> None:
    error = _refusal(fixture("legacy.h5"), "model.keras")
    assert error.status == 415 and "rename it to .h5" in error.message


def test_zip_named_h5_is_refused_with_advice() -> None:
    error = _refusal(fixture("chain.keras"), "model.h5")
    assert error.status == 415 and "rename it to .keras" in error.message


def test_zip_without_config_is_415() -> None:
    files = members(fixture("chain.keras"))
    del files["config.json"]
    assert _refusal(zip_bytes(files)).status == 415


def test_zip_without_weights_is_422() -> None:
    files = members(fixture("chain.keras"))
    del files["model.weights.h5"]
    files["model.weights.npz"] = b"x"
    error = _refusal(zip_bytes(files))
    assert error.status == 422 and "model.weights.npz" in error.message


def test_weights_member_not_hdf5_is_415() -> None:
    files = members(fixture("chain.keras"))
    files["model.weights.h5"] = b"\x89HDF\r\n\x1a\n" + b"\x00" * 100
    error = _refusal(zip_bytes(files))
    assert error.status == 415 and "model.weights.h5" in error.message


@pytest.mark.parametrize("config", [b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000,
                                    b'"a string"', b'{"class_name": "Sequential"}'])
def test_broken_config_is_422(config: bytes) -> None:
    files = members(fixture("chain.keras"))
    files["config.json"] = config
    error = _refusal(zip_bytes(files))
    assert error.status == 422 and error.param == "file"


# ---- zip bombs and zip tricks ---------------------------------------------------------------

def test_zip_bomb_refused_from_declared_sizes() -> None:
    files = members(fixture("chain.keras"))
    files["padding.bin"] = b"\x00" * (12 << 20)  # deflates to a few KiB
    data = zip_bytes(files, deflate=True)
    assert len(data) < 200_000
    error = _refusal(data)
    assert (error.status, error.code) == (413, "too_large")
    assert "zip bomb" in error.message


def _lie_about_sizes(data: bytes, declared: int) -> bytes:
    """Patch every local and central header to declare ``declared`` bytes uncompressed."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            out[start + offset:start + offset + 4] = struct.pack("<I", declared)
            start += 4
    return bytes(out)


def test_zip_member_lying_about_its_size_is_refused() -> None:
    files = members(fixture("chain.keras"))
    files["config.json"] = files["config.json"] + b" " * (6 << 20)  # valid JSON, 6 MiB
    data = _lie_about_sizes(zip_bytes(files, deflate=True), 100)
    error = _refusal(data)
    # inflation stops at the declared size, where the checksum no longer matches
    assert error.status == 415 and "config.json" in error.message


def test_too_many_members_is_refused() -> None:
    files = members(fixture("chain.keras"))
    files.update({f"assets/{i}.txt": b"" for i in range(20)})
    error = _refusal(zip_bytes(files), max_members=16)
    assert error.status == 422 and "23 members" in error.message


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "assets/../../x", "C:/x",
                                  "..\\..\\x"])
def test_member_path_escaping_is_refused(name: str) -> None:
    files = members(fixture("chain.keras"))
    files[name] = b"x"
    error = _refusal(zip_bytes(files))
    assert error.status == 422 and "leaves the archive" in error.message


def test_duplicate_member_is_refused() -> None:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is asked to write
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in members(fixture("chain.keras")).items():
                archive.writestr(name, content)
            archive.writestr("config.json", b"{}")
    error = _refusal(buffer.getvalue())
    assert error.status == 422 and "twice" in error.message


def test_encrypted_member_is_refused() -> None:
    data = bytearray(zip_bytes(members(fixture("chain.keras"))))
    start = data.find(b"PK\x01\x02")
    data[start + 8] |= 0x1  # the central directory's "encrypted" flag
    error = _refusal(bytes(data))
    assert error.status == 422 and "encrypted" in error.message


# ---- weights that contradict the config, or are not numbers ---------------------------------

def test_huge_declared_dataset_refused_by_shape_before_reading() -> None:
    def huge(file: h5py.File) -> None:
        del file[KERNEL]
        # 4 TB declared, no chunk written: reading it would allocate the whole shape
        file.create_dataset(KERNEL, shape=(1_000_000, 1_000_000), dtype="f4", chunks=(1, 1000))
    data = edit_keras(fixture("convnet2d.keras"), weights=huge)
    assert len(data) < 200_000
    error = _refusal(data)
    assert (error.status, error.param) == (422, "layers[12]")
    assert "'dense' (Dense" in error.message
    assert "[1000000, 1000000]" in error.message and "[6, 5]" in error.message


def test_weight_shape_disagreeing_with_config_names_layer_and_shapes() -> None:
    data = edit_keras(fixture("convnet2d.keras"),
                      weights=lambda f: replace(f, "layers/conv2d_1/vars/0",
                                                np.zeros((3, 3, 4, 4), "f4")))
    error = _refusal(data)
    assert error.param == "layers[5]" and "'conv2d' (Conv2D" in error.message
    assert "[3, 3, 4, 4]" in error.message and "[3, 3, 2, 4]" in error.message


def test_h5_weight_shape_disagreeing_with_config() -> None:
    data = edit_h5(fixture("legacy.h5"), lambda f: replace(
        f, "model_weights/dense/sequential/dense/kernel", np.zeros((7, 8), "f4")))
    error = _refusal(data, "legacy.h5")
    assert "'dense' (Dense" in error.message and "[48, 8]" in error.message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weight_refused(bad: float) -> None:
    def poison(file: h5py.File) -> None:
        value = file[KERNEL][()]
        value[2, 3] = bad
        replace(file, KERNEL, value)
    error = _refusal(edit_keras(fixture("convnet2d.keras"), weights=poison))
    assert error.param == "layers[12]" and "NaN or infinite" in error.message


def test_h5_nan_weight_refused() -> None:
    path = "model_weights/batch_normalization/sequential/batch_normalization/moving_variance"

    def poison(file: h5py.File) -> None:
        replace(file, path, np.full((3,), np.nan, "f4"))
    error = _refusal(edit_h5(fixture("legacy.h5"), poison), "legacy.h5")
    assert error.param == "layers[1]" and "moving_variance" in error.message


def test_float64_overflowing_float32_refused() -> None:
    data = edit_keras(fixture("convnet2d.keras"),
                      weights=lambda f: replace(f, KERNEL, np.full((6, 5), 1e300)))
    assert "NaN or infinite" in _refusal(data).message


def test_float64_weights_read_as_float32() -> None:
    data = edit_keras(fixture("convnet2d.keras"),
                      weights=lambda f: replace(f, KERNEL, np.full((6, 5), 0.25)))
    model = read(data)
    assert model.weights["dense"][0].dtype == np.float32
    assert (model.weights["dense"][0] == 0.25).all()


@pytest.mark.parametrize("value", [np.zeros((6, 5), "i4"), np.array([[b"abc"] * 5] * 6)])
def test_non_float_weights_refused(value: np.ndarray) -> None:
    data = edit_keras(fixture("convnet2d.keras"), weights=lambda f: replace(f, KERNEL, value))
    assert "floats" in _refusal(data).message


def test_missing_and_extra_weights_refused() -> None:
    missing = edit_keras(fixture("convnet2d.keras"),
                         weights=lambda f: f.__delitem__("layers/dense/vars/1"))
    assert "1 weight array(s)" in _refusal(missing).message
    extra = edit_keras(fixture("convnet2d.keras"),
                       weights=lambda f: f.create_dataset("layers/dense/vars/2", data=[1.0]))
    assert "3 weight array(s)" in _refusal(extra).message
    gone = edit_keras(fixture("convnet2d.keras"),
                      weights=lambda f: f.__delitem__("layers/dense"))
    assert "'dense' (Dense" in _refusal(gone).message


def test_weights_under_another_layers_name_refused() -> None:
    data = edit_keras(fixture("convnet2d.keras"),
                      weights=lambda f: f["layers/dense/vars"].attrs.__setitem__("name", "x"))
    assert "'x'" in _refusal(data).message


def test_weights_over_byte_budget_refused() -> None:
    # legacy.h5's Dense kernel is 48 x 8 floats = 1536 bytes; the file itself is far larger
    error = _refusal(fixture("legacy.h5"), "legacy.h5", max_expanded_bytes=1000)
    assert error.status == 413 and "'dense' (Dense" in error.message


def test_external_link_refused(tmp_path: object) -> None:
    def link(file: h5py.File) -> None:
        del file[KERNEL]
        file[KERNEL] = h5py.ExternalLink("/etc/passwd", "/x")
    error = _refusal(edit_keras(fixture("convnet2d.keras"), weights=link))
    assert "ExternalLink" in error.message


def test_soft_link_refused() -> None:
    def link(file: h5py.File) -> None:
        del file[KERNEL]
        file[KERNEL] = h5py.SoftLink("/layers/conv2d/vars/0")
    assert "SoftLink" in _refusal(edit_keras(fixture("convnet2d.keras"), weights=link)).message


def test_external_storage_refused() -> None:
    def external(file: h5py.File) -> None:
        del file[KERNEL]
        file.create_dataset(KERNEL, shape=(6, 5), dtype="f4", external=[("/etc/hostname", 0,
                                                                         120)])
    error = _refusal(edit_keras(fixture("convnet2d.keras"), weights=external))
    assert "outside the file" in error.message


def test_compressed_weights_are_read() -> None:
    def gzip(file: h5py.File) -> None:
        value = file[KERNEL][()]
        del file[KERNEL]
        file.create_dataset(KERNEL, data=value, compression="gzip", shuffle=True)
    plain = read(fixture("convnet2d.keras")).weights["dense"][0]
    packed = read(edit_keras(fixture("convnet2d.keras"), weights=gzip)).weights["dense"][0]
    np.testing.assert_array_equal(packed, plain)


def test_h5_without_model_weights_refused() -> None:
    error = _refusal(edit_h5(fixture("legacy.h5"), lambda f: f.__delitem__("model_weights")),
                     "legacy.h5")
    assert error.status == 422 and "model_weights" in error.message


def test_h5_with_garbage_model_config_refused() -> None:
    data = edit_h5(fixture("legacy.h5"),
                   lambda f: f.attrs.__setitem__("model_config", b"garbage{"))
    assert _refusal(data, "legacy.h5").status == 422


# ---- through the web layer's one error mapping ---------------------------------------------

@pytest.fixture(scope="module")
def probe_client() -> object:
    """An app whose only route reads the posted bytes as a model file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's note about httpx at import
        from fastapi.testclient import TestClient

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/probe")
    async def probe(request: Request) -> dict[str, int]:
        model = read(await request.body(), request.headers.get("x-filename"),
                     max_params=500)
        return {"layers": len(model.layers)}

    return TestClient(app)


@pytest.mark.parametrize(("data", "filename", "status", "field", "code"), [
    (b"\x00" * (5 << 20), "big.keras", 413, "file", "too_large"),
    (b"garbage", "model.keras", 415, "file", "unsupported_media"),
    (fixture("legacy.h5"), "legacy.keras", 415, "file", "unsupported_media"),
    (fixture("lambda.keras"), "lambda.keras", 422, "layers[1]", "unsupported_layer"),
    (fixture("branching.keras"), "branching.keras", 422, "layers[0]", "unsupported_model"),
    (fixture("convnet2d.keras"), "convnet2d.keras", 413, "file", "too_large"),  # max_params
])
def test_refusals_map_to_envelopes(probe_client: object, assert_error: object, data: bytes,
                                   filename: str, status: int, field: str, code: str) -> None:
    response = probe_client.post("/probe", content=data,  # type: ignore[attr-defined]
                                 headers={"x-filename": filename})
    body = assert_error(response, status, field)  # type: ignore[operator]
    assert body["code"] == code and body["accepted"]


def test_readable_model_passes_the_probe(probe_client: object) -> None:
    response = probe_client.post("/probe", content=fixture("chain.keras"),  # type: ignore
                                 headers={"x-filename": "chain.keras"})
    assert response.status_code == 200 and response.json() == {"layers": 5}
