"""The ``svertka`` command: help, presets, and applying a kernel to a photo."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from server.cli import main
from server.core import conv
from server.core.kernels import PRESETS


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "apply", "kernels"):
        assert command in out


def test_python_dash_m_server_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("svertka ")


def test_kernels_lists_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kernels"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS)


def test_apply_writes_the_convolved_photo(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)
    source = tmp_path / "in.png"
    Image.fromarray(pixels, "L").save(source)
    target = tmp_path / "out.png"
    code = main([
        "apply", str(source), "--kernel", "box_blur_3x3", "--color", "gray",
        "--padding", "valid", "--display", "clip", "-o", str(target),
    ])
    assert code == 0
    written = np.asarray(Image.open(io.BytesIO(target.read_bytes())))
    expected = conv(pixels.astype(np.float64), PRESETS["box_blur_3x3"].kernel)
    assert written.shape == (18, 28)
    np.testing.assert_allclose(written, np.clip(np.round(expected), 0, 255), atol=1)


def test_apply_rejects_an_unknown_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (4, 4)).save(source)
    assert main(["apply", str(source), "--kernel", "nope", "-o", str(tmp_path / "o.png")]) == 2
    assert "sobel_x" in capsys.readouterr().err


def test_apply_explains_an_impossible_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (2, 2)).save(source)
    code = main([
        "apply", str(source), "--kernel", "gaussian_5x5", "--padding", "valid",
        "-o", str(tmp_path / "o.png"),
    ])
    assert code == 2
    assert "axis 0" in capsys.readouterr().err
