"""Named 2-D kernels (presets) for the playground, each with a title and a one-line description
in English and Russian.

The kernels are written for cross-correlation (what `conv` computes): ``sobel_x`` responds
positively where the image gets brighter to the right, ``sobel_y`` where it gets brighter
downwards. Blurs sum to 1 (they keep the mean brightness), edge detectors to 0 (flat regions
become 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = ["PRESETS", "Preset", "get_preset"]


@dataclass(frozen=True)
class Preset:
    """A named kernel.

    Attributes
    ----------
    name : str
        The name requests use (``"sobel_x"``).
    kernel : ndarray, shape (kh, kw), float64, read-only
    title_en, title_ru : str
        A short display name.
    description_en, description_ru : str
        One line: what the kernel does to a photo.
    """

    name: str
    kernel: np.ndarray
    title_en: str
    title_ru: str
    description_en: str
    description_ru: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``GET /api/kernels``: plain lists and strings."""
        return {
            "name": self.name,
            "kernel": self.kernel.tolist(),
            "title": self.title_en,
            "title_ru": self.title_ru,
            "description": self.description_en,
            "description_ru": self.description_ru,
        }


def _frozen(rows: Any, scale: float = 1.0) -> np.ndarray:
    k = np.asarray(rows, dtype=np.float64) * scale
    k.setflags(write=False)
    return k


_BINOMIAL_3 = np.array([1.0, 2.0, 1.0])
_BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])
_GAUSS_5 = np.outer(_BINOMIAL_5, _BINOMIAL_5)
_IDENTITY_5 = np.zeros((5, 5))
_IDENTITY_5[2, 2] = 1.0
_SMOOTH = np.array([[1.0], [2.0], [1.0]])
_DIFF = np.array([[-1.0, 0.0, 1.0]])

_PRESET_LIST = (
    Preset(
        "identity",
        _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        "Identity", "Тождественное",
        "Copies each pixel unchanged: the single 1 in the centre picks the pixel under it.",
        "Копирует каждый пиксель без изменений: единица в центре выбирает пиксель под ней.",
    ),
    Preset(
        "box_blur_3x3",
        _frozen(np.ones((3, 3)), 1 / 9),
        "Box blur 3x3", "Размытие 3x3",
        "Replaces each pixel by the plain average of its 3x3 neighbourhood.",
        "Заменяет каждый пиксель простым средним по окрестности 3x3.",
    ),
    Preset(
        "box_blur_5x5",
        _frozen(np.ones((5, 5)), 1 / 25),
        "Box blur 5x5", "Размытие 5x5",
        "Averages a wider 5x5 neighbourhood: a stronger, blockier blur.",
        "Усредняет окрестность 5x5: размытие сильнее и «квадратнее».",
    ),
    Preset(
        "gaussian_3x3",
        _frozen(np.outer(_BINOMIAL_3, _BINOMIAL_3), 1 / 16),
        "Gaussian blur 3x3", "Гауссово размытие 3x3",
        "Weighted average that trusts the centre most: a soft blur without box artefacts.",
        "Взвешенное среднее с наибольшим весом в центре: мягкое размытие без «квадратных» "
        "артефактов.",
    ),
    Preset(
        "gaussian_5x5",
        _frozen(_GAUSS_5, 1 / 256),
        "Gaussian blur 5x5", "Гауссово размытие 5x5",
        "Binomial approximation of a Gaussian over 5x5 pixels: a smooth, wider blur.",
        "Биномиальное приближение гауссианы на 5x5 пикселях: плавное и более широкое "
        "размытие.",
    ),
    Preset(
        "sharpen",
        _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "Sharpen", "Резкость",
        "Adds the difference from the four neighbours to each pixel, so edges stand out.",
        "Добавляет к пикселю его отличие от четырёх соседей, и края становятся чётче.",
    ),
    Preset(
        "unsharp_mask_5x5",
        _frozen(2 * _IDENTITY_5 - _GAUSS_5 / 256),
        "Unsharp mask 5x5", "Нерезкое маскирование 5x5",
        "Image plus (image minus its Gaussian blur): the photographer's sharpening.",
        "Изображение плюс (изображение минус его гауссово размытие): резкость, как у "
        "фотографов.",
    ),
    Preset(
        "outline",
        _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        "Outline", "Контур",
        "Laplacian over all 8 neighbours: flat areas go to 0, outlines light up.",
        "Лапласиан по всем 8 соседям: ровные области становятся нулём, контуры светятся.",
    ),
    Preset(
        "sobel_x",
        _frozen(_SMOOTH @ _DIFF),
        "Sobel X", "Собель X",
        "Horizontal gradient: positive where brightness grows to the right (vertical edges).",
        "Горизонтальный градиент: положителен там, где яркость растёт вправо "
        "(вертикальные края).",
    ),
    Preset(
        "sobel_y",
        _frozen((_SMOOTH @ _DIFF).T),
        "Sobel Y", "Собель Y",
        "Vertical gradient: positive where brightness grows downwards (horizontal edges).",
        "Вертикальный градиент: положителен там, где яркость растёт вниз "
        "(горизонтальные края).",
    ),
    Preset(
        "prewitt_x",
        _frozen(np.ones((3, 1)) @ _DIFF),
        "Prewitt X", "Прюитт X",
        "Horizontal gradient with equal row weights: a plainer cousin of Sobel X.",
        "Горизонтальный градиент с равными весами строк: более простой родственник Собеля X.",
    ),
    Preset(
        "prewitt_y",
        _frozen((np.ones((3, 1)) @ _DIFF).T),
        "Prewitt Y", "Прюитт Y",
        "Vertical gradient with equal column weights: a plainer cousin of Sobel Y.",
        "Вертикальный градиент с равными весами столбцов: более простой родственник Собеля Y.",
    ),
    Preset(
        "scharr_x",
        _frozen(np.array([[3.0], [10.0], [3.0]]) @ _DIFF),
        "Scharr X", "Шарр X",
        "Horizontal gradient with weights 3-10-3, more even across edge directions than Sobel.",
        "Горизонтальный градиент с весами 3-10-3: точнее Собеля для краёв под разными углами.",
    ),
    Preset(
        "scharr_y",
        _frozen((np.array([[3.0], [10.0], [3.0]]) @ _DIFF).T),
        "Scharr Y", "Шарр Y",
        "Vertical gradient with weights 3-10-3, more even across edge directions than Sobel.",
        "Вертикальный градиент с весами 3-10-3: точнее Собеля для краёв под разными углами.",
    ),
    Preset(
        "emboss",
        _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        "Emboss", "Тиснение",
        "Lights edges facing the lower right and shades the others: a raised-relief look.",
        "Высветляет края, обращённые вправо вниз, и затеняет остальные: эффект рельефа.",
    ),
    Preset(
        "motion_blur",
        _frozen(np.eye(7), 1 / 7),
        "Motion blur", "Смаз в движении",
        "Averages 7 pixels along the diagonal, as if the camera moved during the shot.",
        "Усредняет 7 пикселей по диагонали, будто камера сдвинулась во время снимка.",
    ),
    Preset(
        "ridge",
        _frozen([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
        "Ridge", "Гребни",
        "Laplacian over the 4 nearest neighbours: thin lines and ridges stand out on black.",
        "Лапласиан по 4 ближайшим соседям: тонкие линии и гребни выделяются на чёрном фоне.",
    ),
)

PRESETS: Mapping[str, Preset] = MappingProxyType({p.name: p for p in _PRESET_LIST})
"""Every preset by name, in display order."""


def get_preset(name: str) -> Preset:
    """The preset called ``name``.

    Raises
    ------
    ParameterError
        For an unknown name; the message lists every name.

    Notes
    -----
    Cost: a dictionary look-up (kernels are built once, at import, and are read-only).

    Examples
    --------
    >>> get_preset("sobel_x").kernel
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    """
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        names = ", ".join(PRESETS)
        raise ParameterError(
            f"unknown kernel preset {name!r}; the presets are {names}",
            param="preset",
            accepted=names,
            suggestion={"preset": "identity"},
        ) from None
