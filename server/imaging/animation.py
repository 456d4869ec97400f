"""Draw the sliding window of a convolution or pooling as an animated GIF or WebP.

The picture follows the step page of the browser: the padded input (padding cells dashed, with
their values), the window's taps, the kernel, the output map filling in, and the arithmetic of
the current frame as a line of text. Everything here is drawing: the numbers arrive already
computed (from ``server.core.frames`` for convolution, from the pooling core for pooling).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["Stage", "StageFrame", "ScatterStage", "ScatterFrame", "format_number",
           "render_animation", "render_scatter_animation", "FORMATS"]

FORMATS = ("gif", "webp")

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
_BACKGROUND = (255, 255, 255)
_INK = (20, 20, 20)
_MUTED = (110, 110, 110)
_GRID = (150, 150, 150)
_PAD_FILL = (238, 238, 238)
_WINDOW = (230, 159, 0)  # orange
_WINDOW_FILL = (250, 224, 160)
_CURRENT = (0, 114, 178)  # blue
_CURRENT_FILL = (170, 214, 240)
_DONE_FILL = (225, 240, 250)
_WINNER = (213, 94, 0)  # vermillion
_KERNEL_FILL = (204, 236, 222)  # light bluish green


@dataclass(frozen=True)
class StageFrame:
    """One placement of the window, already computed.

    ``map`` is the output map it writes to (the filter for convolution, the channel for
    pooling); ``channels`` the input channels its window reads; ``winner`` the tap (row, col in
    kernel coordinates) that max pooling picked; ``short_formula`` replaces ``formula`` when
    that is too wide for the picture.
    """

    map: int
    position: tuple[int, int]
    origin: tuple[int, int]
    output: float
    formula: str
    channels: tuple[int, ...]
    winner: tuple[int, int] | None = None
    short_formula: str = ""


@dataclass(frozen=True)
class Stage:
    """What does not change from frame to frame.

    ``padded`` is (C, Hp, Wp); NaN marks a padding cell that holds no number (max pooling pads
    with minus infinity, drawn as an empty dashed cell). ``kernel`` is (F, C, kh, kw) for
    convolution and None for pooling.
    """

    padded: np.ndarray
    pads: tuple[tuple[int, int], tuple[int, int]]
    kernel_size: tuple[int, int]
    dilation: tuple[int, int]
    output_shape: tuple[int, int]
    maps: int
    title: str
    kernel: np.ndarray | None = None
    pad_label: str = ""
    labels: Sequence[str] = field(default_factory=tuple)
    real: np.ndarray | None = None
    """(C, Hp, Wp) bool: cells holding an input value. None: every cell inside the pads. The
    gather view of a transposed convolution marks its inserted zeros this way."""


def format_number(value: float, digits: int = 2) -> str:
    """Short text for a cell: integers without a point, a real minus sign.

    >>> format_number(-3.0), format_number(0.5), format_number(-0.001), format_number(float("-inf"))
    ('−3', '0.5', '0', '−∞')
    """
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    rounded = round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    if rounded == 0:
        return "0"
    if rounded == int(rounded):
        text = str(int(rounded))
    else:
        text = f"{rounded:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


class _Layout:
    """Pixel positions of every grid, computed once for all frames."""

    def __init__(self, stage: Stage, max_width: int) -> None:
        channels, hp, wp = stage.padded.shape
        kh, kw = stage.kernel_size
        oh, ow = stage.output_shape
        self.gap = 28
        self.margin = 16
        # Columns: one per input channel, then the output map; shrink cells to fit max_width.
        columns = channels * wp + ow
        budget = max_width - 2 * self.margin - self.gap * channels
        self.cell = int(max(14, min(44, budget // max(columns, 1))))
        c = self.cell
        self.title_h = 46
        self.formula_h = 48
        top = self.margin + self.title_h
        self.inputs = [
            (self.margin + i * (wp * c + self.gap), top) for i in range(channels)
        ]
        kernel_top = top + hp * c + 22
        self.kernels = [(x, kernel_top) for x, _ in self.inputs]
        out_x = self.margin + channels * (wp * c + self.gap)
        self.output = (out_x, top)
        bottom_grid = top + hp * c
        if stage.kernel is not None:
            bottom_grid = max(bottom_grid, kernel_top + kh * c)
        bottom_grid = max(bottom_grid, top + oh * c)
        self.formula_y = bottom_grid + 14
        self.width = min(max_width, out_x + ow * c + self.margin)
        self.width = max(self.width, 560)
        if stage.real is not None:  # a transposed convolution's longer title
            self.width = max(self.width, min(max_width, int(_font(16).getlength(stage.title))
                                             + 110))
        self.height = self.formula_y + self.formula_h + self.margin
        self.kw = kw


def _dashed_rect(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], colour, dash=4) -> None:
    x0, y0, x1, y1 = box
    for x in range(x0, x1, 2 * dash):
        draw.line([(x, y0), (min(x + dash, x1), y0)], fill=colour)
        draw.line([(x, y1), (min(x + dash, x1), y1)], fill=colour)
    for y in range(y0, y1, 2 * dash):
        draw.line([(x0, y), (x0, min(y + dash, y1))], fill=colour)
        draw.line([(x1, y), (x1, min(y + dash, y1))], fill=colour)


def _cell_text(draw: ImageDraw.ImageDraw, box, text: str, font, colour=_INK) -> None:
    if not text:
        return
    x0, y0, x1, y1 = box
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, fill=colour, font=font, anchor="mm")


def _fit(text: str, font, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + " …") > width:
        text = text[:-1]
    return text + " …"


def _wrap_terms(text: str, font, width: int) -> list[str]:
    """Break a formula after its `` + `` signs into lines that fit ``width``."""
    lines: list[str] = []
    line = ""
    for piece in text.split(" + "):
        candidate = piece if not line else f"{line} + {piece}"
        if line and font.getlength(candidate) > width:
            lines.append(line + " +")
            line = piece
        else:
            line = candidate
    lines.append(line)
    return lines


def _draw_frame(
    stage: Stage,
    layout: _Layout,
    frames: Sequence[StageFrame],
    current: int,
    values: dict[tuple[int, int, int], float],
) -> Image.Image:
    image = Image.new("RGB", (layout.width, layout.height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    c = layout.cell
    small = _font(max(9, int(c * 0.36)))
    title_font = _font(16)
    frame = frames[current]
    (pt, _pb), (pl, _pr) = stage.pads
    channels, hp, wp = stage.padded.shape
    kh, kw = stage.kernel_size
    dy, dx = stage.dilation

    title = f"{stage.title} · {current + 1}/{len(frames)}"
    draw.text((layout.margin, layout.margin), _fit(title, title_font, layout.width - 32),
              fill=_INK, font=title_font)

    taps = {
        (frame.origin[0] + i * dy, frame.origin[1] + j * dx): (i, j)
        for i in range(kh)
        for j in range(kw)
    }
    for ch, (x0, y0) in enumerate(layout.inputs):
        reads = ch in frame.channels
        for r in range(hp):
            for q in range(wp):
                box = (x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c)
                inside = pt <= r < hp - stage.pads[0][1] and pl <= q < wp - stage.pads[1][1]
                if stage.real is not None:
                    inside = bool(stage.real[ch, r, q])
                tap = taps.get((r, q)) if reads else None
                fill = _WINDOW_FILL if tap is not None else (_BACKGROUND if inside else _PAD_FILL)
                if tap is not None and frame.winner == tap:
                    fill = (245, 190, 160)
                draw.rectangle(box, fill=fill)
                if inside:
                    draw.rectangle(box, outline=_GRID)
                else:
                    _dashed_rect(draw, box, _GRID)
                value = float(stage.padded[ch, r, q])
                _cell_text(draw, box, format_number(value), small, _INK if inside else _MUTED)
        if reads:
            for (r, q), tap in taps.items():
                if 0 <= r < hp and 0 <= q < wp:
                    box = (x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c)
                    colour = _WINNER if frame.winner == tap else _WINDOW
                    draw.rectangle(box, outline=colour, width=3)
        default = f"input {ch}" if channels > 1 else "input"
        label = stage.labels[ch] if ch < len(stage.labels) else default
        draw.text((x0, y0 - 16), label, fill=_MUTED, font=_font(12))

    if stage.kernel is not None:
        weights = stage.kernel[frame.map]
        for ch, (x0, y0) in enumerate(layout.kernels):
            if ch not in frame.channels:
                continue  # with groups, a filter reads only its group's channels
            slot = frame.channels.index(ch)
            for i in range(kh):
                for j in range(kw):
                    box = (x0 + j * c, y0 + i * c, x0 + (j + 1) * c, y0 + (i + 1) * c)
                    draw.rectangle(box, fill=_KERNEL_FILL, outline=_GRID)
                    _cell_text(draw, box, format_number(float(weights[slot, i, j])), small)
            draw.rectangle((x0, y0, x0 + kw * c, y0 + kh * c), outline=_WINDOW, width=2)

    oh, ow = stage.output_shape
    x0, y0 = layout.output
    for r in range(oh):
        for q in range(ow):
            box = (x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c)
            value = values.get((frame.map, r, q))
            is_current = (r, q) == frame.position
            fill = _DONE_FILL if value is not None else _BACKGROUND
            if is_current:
                fill = _CURRENT_FILL
            draw.rectangle(box, fill=fill, outline=_GRID)
            if value is not None:
                _cell_text(draw, box, format_number(value), small)
    r, q = frame.position
    draw.rectangle((x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c),
                   outline=_CURRENT, width=3)
    caption = f"output {frame.map}" if stage.maps > 1 else "output"
    draw.text((x0, y0 - 16), caption, fill=_MUTED, font=_font(12))

    room = layout.width - 2 * layout.margin
    lines = _wrap_terms(frame.formula, _font(16), room)
    if len(lines) > 2 and frame.short_formula:
        lines = _wrap_terms(frame.short_formula, _font(16), room)
    for k, line in enumerate(lines[:2]):
        if k == 1 and len(lines) > 2:
            line = _fit(line + " " + " ".join(lines[2:]), _font(16), room)
        draw.text((layout.margin, layout.formula_y + 22 * k), line, fill=_INK, font=_font(16))
    return image


def _encode(images: list[Image.Image], fmt: str, fps: float) -> bytes:
    duration = max(20, int(round(1000 / max(fps, 0.1))))
    durations = [duration] * len(images)
    durations[-1] = max(duration, 1500)  # linger on the finished map before looping
    buffer = io.BytesIO()
    if fmt == "gif":
        palette = [im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64) for im in images]
        palette[0].save(buffer, format="GIF", save_all=True, append_images=palette[1:],
                        duration=durations, loop=0, optimize=False, disposal=1)
    else:
        # Lossy at a high quality: a third of the lossless size, the digits stay crisp.
        images[0].save(buffer, format="WEBP", save_all=True, append_images=images[1:],
                       duration=durations, loop=0, lossless=False, quality=88, method=4)
    return buffer.getvalue()


def render_animation(
    stage: Stage,
    frames: Sequence[StageFrame],
    *,
    fmt: str = "gif",
    fps: float = 2.0,
    max_width: int = 1200,
) -> bytes:
    """Encode every frame of ``frames`` as one animated image and return its bytes.

    The output map fills in as the frames go: cells written by earlier frames keep their value.
    Cost: one Pillow drawing per frame, O(frames * cells) time; memory holds all frames at once
    (bounded by the caller's frame limit).
    """
    if fmt not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not frames:
        raise ValueError("`frames` is empty: there is nothing to animate")
    layout = _Layout(stage, max_width)
    values: dict[tuple[int, int, int], float] = {}
    images: list[Image.Image] = []
    for i, frame in enumerate(frames):
        values[(frame.map, *frame.position)] = frame.output
        images.append(_draw_frame(stage, layout, frames, i, values))
    return _encode(images, fmt, fps)


# ---- the scatter view of a transposed convolution ----


@dataclass(frozen=True)
class ScatterStage:
    """What stays fixed while input cells stamp the kernel onto the output.

    ``inputs`` (C, H, W); ``kernel`` (F, C, kh, kw), the weights filter ``f`` stamps from each
    channel (zero slices for channels outside its group); ``full_shape`` the untrimmed output
    ((H-1)*s + d*(kh-1) + 1 + output_padding, ...); ``crop`` the ``(top, left)`` padding the
    transposed convolution removes, ``output_shape`` what is kept.
    """

    inputs: np.ndarray
    kernel: np.ndarray
    stride: tuple[int, int]
    dilation: tuple[int, int]
    full_shape: tuple[int, int]
    crop: tuple[int, int]
    output_shape: tuple[int, int]
    maps: int
    title: str


@dataclass(frozen=True)
class ScatterFrame:
    """One input cell stamping filter ``map``: ``full`` is that map's untrimmed output after
    this stamp (bias included), ``formula`` the line of text under the picture."""

    map: int
    channel: int
    position: tuple[int, int]
    full: np.ndarray
    formula: str


def _scatter_layout(stage: ScatterStage, max_width: int) -> dict[str, object]:
    channels, h, w = stage.inputs.shape
    kh, kw = stage.kernel.shape[2:]
    fh, fw = stage.full_shape
    margin, gap = 16, 28
    columns = channels * max(w, kw) + fw
    budget = max_width - 2 * margin - gap * channels
    c = int(max(14, min(44, budget // max(columns, 1))))
    top = margin + 46
    inputs = [(margin + i * (max(w, kw) * c + gap), top) for i in range(channels)]
    kernel_top = top + h * c + 22
    out_x = margin + channels * (max(w, kw) * c + gap)
    bottom = max(kernel_top + kh * c, top + fh * c)
    width = max(680, min(max_width, out_x + fw * c + margin),
                min(max_width, int(_font(16).getlength(stage.title)) + 110))
    return {"cell": c, "margin": margin, "inputs": inputs, "kernel_top": kernel_top,
            "output": (out_x, top), "formula_y": bottom + 14, "width": width,
            "height": bottom + 14 + 48 + margin}


def _draw_scatter(stage: ScatterStage, lay: dict[str, object], frames: Sequence[ScatterFrame],
                  current: int) -> Image.Image:
    width, height = int(lay["width"]), int(lay["height"])  # type: ignore[call-overload]
    c = int(lay["cell"])  # type: ignore[call-overload]
    image = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    small = _font(max(9, int(c * 0.36)))
    frame = frames[current]
    margin = int(lay["margin"])  # type: ignore[call-overload]
    title = f"{stage.title} · {current + 1}/{len(frames)}"
    draw.text((margin, margin), _fit(title, _font(16), width - 32), fill=_INK, font=_font(16))
    kh, kw = stage.kernel.shape[2:]
    sy, sx = stage.stride
    dy, dx = stage.dilation
    r0, q0 = frame.position
    stamp = {(r0 * sy + i * dy, q0 * sx + j * dx) for i in range(kh) for j in range(kw)}
    weights = stage.kernel[frame.map]
    for ch, (x0, y0) in enumerate(lay["inputs"]):  # type: ignore[attr-defined]
        _, h, w = stage.inputs.shape
        for r in range(h):
            for q in range(w):
                box = (x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c)
                now = ch == frame.channel and (r, q) == (r0, q0)
                draw.rectangle(box, fill=_WINDOW_FILL if now else _BACKGROUND, outline=_GRID)
                _cell_text(draw, box, format_number(float(stage.inputs[ch, r, q])), small)
                if now:
                    draw.rectangle(box, outline=_WINDOW, width=3)
        draw.text((x0, y0 - 16), f"input {ch}" if stage.inputs.shape[0] > 1 else "input",
                  fill=_MUTED, font=_font(12))
        ky = int(lay["kernel_top"])  # type: ignore[call-overload]
        for i in range(kh):
            for j in range(kw):
                box = (x0 + j * c, ky + i * c, x0 + (j + 1) * c, ky + (i + 1) * c)
                draw.rectangle(box, fill=_KERNEL_FILL, outline=_GRID)
                _cell_text(draw, box, format_number(float(weights[ch, i, j])), small)
        if ch == frame.channel:
            draw.rectangle((x0, ky, x0 + kw * c, ky + kh * c), outline=_WINDOW, width=2)
    fh, fw = stage.full_shape
    top, left = stage.crop
    oh, ow = stage.output_shape
    x0, y0 = lay["output"]  # type: ignore[misc]
    for r in range(fh):
        for q in range(fw):
            box = (x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c)
            kept = top <= r < top + oh and left <= q < left + ow
            fill = _CURRENT_FILL if (r, q) in stamp else (_BACKGROUND if kept else _PAD_FILL)
            draw.rectangle(box, fill=fill)
            if kept:
                draw.rectangle(box, outline=_GRID)
            else:
                _dashed_rect(draw, box, _GRID)
            _cell_text(draw, box, format_number(float(frame.full[r, q])), small,
                       _INK if kept else _MUTED)
    for r, q in stamp:
        draw.rectangle((x0 + q * c, y0 + r * c, x0 + (q + 1) * c, y0 + (r + 1) * c),
                       outline=_CURRENT, width=2)
    caption = "output (dashed: cut off by padding)" if (top or left or fh > oh or fw > ow) \
        else "output"
    if stage.maps > 1:
        caption = f"map {frame.map}: {caption}"
    draw.text((x0, y0 - 16), caption, fill=_MUTED, font=_font(12))
    draw.text((margin, int(lay["formula_y"])),  # type: ignore[call-overload]
              _fit(frame.formula, _font(16), width - 2 * margin), fill=_INK, font=_font(16))
    return image


def render_scatter_animation(
    stage: ScatterStage,
    frames: Sequence[ScatterFrame],
    *,
    fmt: str = "gif",
    fps: float = 2.0,
    max_width: int = 1200,
) -> bytes:
    """Encode the scatter view: each frame one input cell adding its scaled kernel.

    Cost: one Pillow drawing per frame, O(frames * cells); all frames are held in memory.
    """
    if fmt not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not frames:
        raise ValueError("`frames` is empty: there is nothing to animate")
    lay = _scatter_layout(stage, max_width)
    return _encode([_draw_scatter(stage, lay, frames, i) for i in range(len(frames))], fmt, fps)
