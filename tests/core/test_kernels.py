"""Kernel presets: every name, both languages, shapes and sums."""

from __future__ import annotations

import numpy as np
import pytest

from server.core import PRESETS, ParameterError, Preset, conv, get_preset

NAMES = [
    "identity", "box_blur_3x3", "box_blur_5x5", "gaussian_3x3", "gaussian_5x5", "sharpen",
    "unsharp_mask_5x5", "outline", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "scharr_x",
    "scharr_y", "emboss", "motion_blur", "ridge",
]
BLURS = ["box_blur_3x3", "box_blur_5x5", "gaussian_3x3", "gaussian_5x5", "motion_blur"]
EDGES = ["outline", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "scharr_x", "scharr_y",
         "ridge"]


def has_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def test_presets_are_exactly_the_agreed_names() -> None:
    assert list(PRESETS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_preset_is_well_formed(name: str) -> None:
    preset = get_preset(name)
    assert isinstance(preset, Preset) and preset.name == name
    k = preset.kernel
    assert k.ndim == 2 and k.dtype == np.float64 and np.all(np.isfinite(k))
    assert k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1  # a centre pixel
    assert not k.flags.writeable
    for text in (preset.title_en, preset.title_ru, preset.description_en,
                 preset.description_ru):
        assert text.strip() and "\n" not in text
    assert has_cyrillic(preset.title_ru) and has_cyrillic(preset.description_ru)
    assert not has_cyrillic(preset.description_en)
    assert len(preset.description_en) <= 120 and len(preset.description_ru) <= 120


def test_preset_descriptions_are_distinct() -> None:
    for attr in ("description_en", "description_ru", "title_en", "title_ru"):
        texts = [getattr(p, attr) for p in PRESETS.values()]
        assert len(set(texts)) == len(texts), attr


@pytest.mark.parametrize("name", BLURS)
def test_blur_presets_sum_to_one_and_are_non_negative(name: str) -> None:
    k = get_preset(name).kernel
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(k >= 0)


@pytest.mark.parametrize("name", EDGES)
def test_edge_presets_sum_to_zero(name: str) -> None:
    assert get_preset(name).kernel.sum() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["identity", "sharpen", "unsharp_mask_5x5", "emboss"])
def test_brightness_keeping_presets_sum_to_one(name: str) -> None:
    assert get_preset(name).kernel.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("box_blur_5x5", (5, 5)), ("gaussian_5x5", (5, 5)), ("unsharp_mask_5x5", (5, 5)),
     ("sobel_x", (3, 3)), ("motion_blur", (7, 7))],
)
def test_preset_shapes(name: str, shape: tuple[int, int]) -> None:
    assert get_preset(name).kernel.shape == shape


def test_gradient_presets_point_the_documented_way() -> None:
    ramp_right = np.tile(np.arange(6.0), (6, 1))  # brighter to the right
    for name in ("sobel_x", "prewitt_x", "scharr_x"):
        assert np.all(conv(ramp_right, get_preset(name).kernel) > 0), name
        assert np.all(conv(ramp_right.T, get_preset(name).kernel) == 0), name
    for name in ("sobel_y", "prewitt_y", "scharr_y"):
        assert np.all(conv(ramp_right.T, get_preset(name).kernel) > 0), name
    np.testing.assert_array_equal(get_preset("sobel_y").kernel, get_preset("sobel_x").kernel.T)


def test_identity_preset_returns_the_input() -> None:
    x = np.random.default_rng(0).standard_normal((6, 7))
    np.testing.assert_allclose(conv(x, get_preset("identity").kernel, padding="same"), x)


def test_unsharp_mask_is_image_plus_detail() -> None:
    k = get_preset("unsharp_mask_5x5").kernel
    identity = np.zeros((5, 5))
    identity[2, 2] = 1
    np.testing.assert_allclose(k, 2 * identity - get_preset("gaussian_5x5").kernel)


def test_preset_to_dict_is_json_ready() -> None:
    d = get_preset("sharpen").to_dict()
    assert d["kernel"] == [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]
    assert set(d) == {"name", "kernel", "title", "title_ru", "description", "description_ru"}


def test_get_preset_rejects_unknown_name_listing_names() -> None:
    with pytest.raises(ParameterError, match="sobel_x, sobel_y") as err:
        get_preset("laplace")
    assert err.value.param == "preset"
    assert err.value.accepted is not None and "ridge" in err.value.accepted
