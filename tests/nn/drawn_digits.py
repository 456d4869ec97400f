"""Mouse-like drawings of the ten digits for testing the reduction of a drawing.

Each digit is a few stroke paths in its own unit box (x to the right, y down), written the
way people draw with a mouse or a finger: one or two strokes, several shapes per digit (a 1
with and without a flag, a 7 with and without a bar, an open and a closed 4...). A *style*
places the box on the pad (height, width-to-height ratio, slant) and the strokes are rendered
as the /digits page does (static/js/digits/draw.js): a 128x128 grid, a round pen of
``LINE`` times the pad's side, anti-aliased ink 0..1 rounded to two decimals.

The UCI digits are also turned back into thin-stroke drawings (`uci_as_drawing`): the 8x8
counts are enlarged smoothly, thresholded, thinned to one-pixel lines and drawn again with the
page's pen, which is what a student drawing that digit on the page would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from server.nn.digits import thin

SIDE = 128  # INK_SIDE in draw.js
LINE = 0.065  # LINE in draw.js
SUPER = 4  # supersampling for the anti-aliased rendering

Path = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float,
         n: int = 16) -> Path:
    """Points on an ellipse from angle `start` to `end` in degrees (0 = right, 90 = down)."""
    t = np.radians(np.linspace(start, end, n))
    return [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in t]


# Every digit in one or more shapes; a shape is a list of strokes.
SHAPES: dict[int, list[list[Path]]] = {
    0: [[_arc(0.5, 0.5, 0.5, 0.5, -90, 270, 28)],
        [_arc(0.5, 0.5, 0.5, 0.5, -100, 250, 28) + [(0.55, 0.02)]]],
    1: [[[(0.5, 0.0), (0.5, 1.0)]],
        [[(0.0, 0.3), (0.6, 0.0), (0.6, 1.0)]],
        [[(0.05, 0.25), (0.55, 0.0), (0.55, 1.0)], [(0.1, 1.0), (1.0, 1.0)]]],
    2: [[_arc(0.5, 0.3, 0.48, 0.3, 190, 380, 14) + [(0.0, 1.0), (1.0, 1.0)]],
        [_arc(0.5, 0.28, 0.45, 0.28, 200, 400, 14) + [(0.05, 0.97), (1.0, 1.0)]]],
    3: [[_arc(0.45, 0.25, 0.5, 0.25, 200, 450, 16) + _arc(0.45, 0.74, 0.55, 0.26, -90, 160, 16)],
        [[(0.05, 0.0), (0.95, 0.0), (0.4, 0.42)] + _arc(0.45, 0.7, 0.55, 0.3, -70, 160, 16)]],
    4: [[[(0.62, 0.0), (0.0, 0.65), (1.0, 0.65)], [(0.72, 0.3), (0.72, 1.0)]],
        [[(0.12, 0.0), (0.05, 0.6), (1.0, 0.6)], [(0.72, 0.0), (0.72, 1.0)]]],
    5: [[[(0.95, 0.0), (0.15, 0.0), (0.08, 0.45)] + _arc(0.45, 0.7, 0.55, 0.3, -120, 150, 16)],
        [[(0.12, 0.0), (0.05, 0.45)] + _arc(0.45, 0.7, 0.55, 0.3, -120, 150, 16),
         [(0.12, 0.0), (0.95, 0.0)]]],
    6: [[[(0.8, 0.0)] + _arc(0.8, 0.6, 0.78, 0.6, 250, 180, 8)
         + _arc(0.5, 0.7, 0.48, 0.3, 180, 540, 20)],
        [[(0.7, 0.0), (0.45, 0.12), (0.2, 0.35)] + _arc(0.5, 0.72, 0.45, 0.28, 200, 560, 20)]],
    7: [[[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
        [[(0.0, 0.0), (1.0, 0.0), (0.4, 1.0)], [(0.3, 0.5), (0.9, 0.5)]],
        [[(0.0, 0.08), (0.1, 0.0), (1.0, 0.0), (0.55, 0.5), (0.45, 1.0)]]],
    8: [[_arc(0.5, 0.24, 0.38, 0.24, 0, 360, 20), _arc(0.5, 0.74, 0.5, 0.26, 0, 360, 20)],
        [_arc(0.5, 0.25, 0.4, 0.25, 90, -180, 16) + _arc(0.5, 0.75, 0.5, 0.25, -90, 180, 18)
         + [(0.5, 0.5)]]],
    9: [[_arc(0.5, 0.3, 0.48, 0.3, 0, 360, 20) + [(0.98, 0.3), (0.9, 1.0)]],
        [_arc(0.5, 0.3, 0.48, 0.3, 10, 370, 20) + [(0.95, 0.4)] +
         _arc(0.5, 0.7, 0.45, 0.3, 0, 100, 8)]],
}


@dataclass(frozen=True)
class Style:
    """Where and how a digit lands on the pad: its height (share of the pad), its width as a
    share of its height, and its slant (the top leans right by `slant` times the height)."""

    name: str
    height: float
    aspect: float
    slant: float = 0.0


STYLES = [
    Style("big", 0.75, 0.6),            # the page's pen is thin next to a big digit
    Style("small", 0.35, 0.6),          # a small digit: the same pen is thick next to it
    Style("narrow", 0.7, 0.4),
    Style("wide", 0.6, 0.95),
    Style("slanted", 0.7, 0.55, 0.2),
    Style("back-slanted", 0.6, 0.6, -0.12),
]


def place(shape: list[Path], style: Style, centre: tuple[float, float] = (0.5, 0.5)
          ) -> list[Path]:
    """The shape's strokes in pad coordinates (0..1)."""
    h, w = style.height, style.height * style.aspect
    out = []
    for stroke in shape:
        out.append([(centre[0] + (x - 0.5) * w + style.slant * (0.5 - y) * h,
                     centre[1] + (y - 0.5) * h) for x, y in stroke])
    return out


def render(strokes: list[Path], *, side: int = SIDE, line: float = LINE) -> np.ndarray:
    """Strokes (pad coordinates 0..1) as ink 0..1 on a `side` x `side` grid, like draw.js:
    a round pen `line` x side wide, anti-aliased, two decimals."""
    big = side * SUPER
    img = Image.new("L", (big, big), 0)
    pen = ImageDraw.Draw(img)
    width = line * big
    for stroke in strokes:
        pts = [(x * big, y * big) for x, y in stroke]
        if len(pts) > 1:
            pen.line(pts, fill=255, width=max(1, round(width)))
        for x, y in pts:  # round caps and joins
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    ink = np.asarray(img.resize((side, side), Image.Resampling.BOX), dtype=np.float64) / 255
    return np.round(ink, 2)


def drawings() -> Iterator[tuple[int, str, np.ndarray]]:
    """(digit, description, drawing) for every digit, shape and style."""
    for digit, shapes in SHAPES.items():
        for k, shape in enumerate(shapes):
            for style in STYLES:
                yield digit, f"{digit}/shape{k}/{style.name}", render(place(shape, style))


def _thin_one(mask: np.ndarray) -> np.ndarray:
    """One boolean image thinned to one-pixel lines (the training code's Zhang-Suen)."""
    return thin(mask[None])[0]


def uci_as_drawing(pixels: np.ndarray, *, height: float = 0.7) -> np.ndarray:
    """A UCI digit (8x8 counts 0..16) as the page would get it from a student tracing its
    centre line: enlarged smoothly, thresholded at half ink, thinned to one-pixel lines and
    drawn again with the page's round pen, the digit `height` of the pad tall."""
    from scipy.ndimage import distance_transform_edt

    n = round(SIDE * height)
    smooth = np.asarray(Image.fromarray((pixels / 16).astype(np.float32), mode="F")
                        .resize((n, n), Image.Resampling.BICUBIC))
    line = np.zeros((SIDE, SIDE), dtype=bool)
    at = (SIDE - n) // 2
    line[at:at + n, at:at + n] = _thin_one(smooth >= 0.5)
    # a round pen along the line, its edge anti-aliased over one pixel
    ink = np.clip(LINE * SIDE / 2 + 0.5 - distance_transform_edt(~line), 0, 1)
    return np.round(ink, 2)
