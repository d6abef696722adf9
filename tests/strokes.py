"""Digits as pen strokes (x, y in 0..1, y down), and a renderer that draws them the way a
browser canvas does: round caps and joins, a uniform pen, any colours and size."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def _arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, n: int = 24) -> list[tuple[float, float]]:
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(start_deg, end_deg, n)
    ]


DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.2, 0.32, -90, 270, 40)],
    1: [[(0.42, 0.28), (0.53, 0.18), (0.53, 0.82)]],
    2: [[*_arc(0.5, 0.34, 0.19, 0.16, 200, 380, 16), (0.3, 0.8), (0.72, 0.8)]],
    3: [_arc(0.48, 0.34, 0.18, 0.15, 210, 450, 18) + _arc(0.48, 0.64, 0.2, 0.17, -90, 150, 18)],
    4: [[(0.55, 0.18), (0.28, 0.62), (0.75, 0.62)], [(0.6, 0.38), (0.6, 0.84)]],
    5: [[(0.7, 0.2), (0.36, 0.2), (0.33, 0.47), *_arc(0.5, 0.62, 0.2, 0.18, -120, 150, 18)]],
    6: [[(0.62, 0.18), (0.42, 0.35), *_arc(0.5, 0.62, 0.18, 0.2, 200, 560, 30)]],
    7: [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.84)]],
    8: [_arc(0.5, 0.33, 0.15, 0.15, 90, 450, 24) + _arc(0.5, 0.65, 0.19, 0.17, -90, 270, 28)],
    9: [[*_arc(0.5, 0.36, 0.18, 0.17, 0, 360, 28), (0.68, 0.36), (0.62, 0.84)]],
}
# A one written stem first, then a long flat flag from its top: a seven's shape, told apart by the order.
FLAGGED_ONE: list[list[tuple[float, float]]] = [[(0.55, 0.15), (0.47, 0.85)], [(0.55, 0.15), (0.22, 0.24)]]
# A 4 written open: its hook (down, then the bar) ends short of the stem, drawn after it.
OPEN_FOUR: list[list[tuple[float, float]]] = [[(0.36, 0.18), (0.3, 0.56), (0.52, 0.56)], [(0.62, 0.18), (0.62, 0.84)]]


def in_pixels(strokes: list[list[tuple[float, float]]], side: int) -> list[np.ndarray]:
    """The strokes' points where `render` draws them (unscaled, unmoved) on a canvas whose shorter side is `side`."""
    return [np.array(stroke) * side for stroke in strokes]


def render(
    strokes: list[list[tuple[float, float]]],
    size: int | tuple[int, int] = 280,
    pen: int = 18,
    ink: tuple[int, int, int, int] = (0, 0, 0, 255),
    background: tuple[int, int, int, int] = (255, 255, 255, 255),
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Image.Image:
    """Draw strokes on an RGBA canvas. `scale` shrinks the digit, `offset` moves it (in pixels)."""
    width, height = (size, size) if isinstance(size, int) else size
    side = min(width, height)
    image = Image.new("RGBA", (width, height), background)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(offset[0] + x * scale * side, offset[1] + y * scale * side) for x, y in stroke]
        draw.line(points, fill=ink, width=pen, joint="curve")
        for px, py in points:  # round caps and joins, as a canvas with lineCap "round"
            draw.ellipse([px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2], fill=ink)
    return image


def number_strokes(
    digits: str, gap: float = 0.15, wave: float = 0.0, written: dict[int, list[list[tuple[float, float]]]] = DIGIT_STROKES
) -> list[list[tuple[float, float]]]:
    """The strokes of several digits side by side, in units of the canvas height: `gap` between
    the digits' boxes (negative: they overlap), `wave` moves every other digit up and down;
    `written`: how each digit is written."""
    strokes, left = [], 0.1
    for i, char in enumerate(digits):
        digit = written[int(char)]
        xs = [x for stroke in digit for x, _ in stroke]
        shift_x, shift_y = left - min(xs), wave * (1 if i % 2 else -1)
        strokes += [[(x + shift_x, y + shift_y) for x, y in stroke] for stroke in digit]
        left += max(xs) - min(xs) + gap
    return strokes


# Things that are not digits, drawn the same way: a dot, a line across the canvas, a coloured-in blob, a scribble.
DOT_STROKES: list[list[tuple[float, float]]] = [[(0.5, 0.5)]]
LINE_STROKES: list[list[tuple[float, float]]] = [[(0.08, 0.5), (0.92, 0.5)]]


def blob_strokes(
    left: float = 0.3, top: float = 0.3, right: float = 0.7, bottom: float = 0.65, step: float = 0.02
) -> list[list[tuple[float, float]]]:
    """A rectangle coloured in: one stroke back and forth, its rows closer together than the pen is wide."""
    rows = np.arange(top, bottom + step / 2, step)
    return [[point for i, y in enumerate(rows) for point in ((left, y), (right, y))[:: 1 if i % 2 == 0 else -1]]]


def scribble_strokes(seed: int = 0, strokes: int = 4, turns: int = 12) -> list[list[tuple[float, float]]]:
    """Overlapping zig-zags all over the middle of the canvas: what a bored or testing hand draws."""
    rng = np.random.default_rng(seed)
    return [[(float(x), float(y)) for x, y in rng.uniform(0.2, 0.8, size=(turns, 2))] for _ in range(strokes)]


# Letters and signs no digit is written like, as a hand prints them (not the fonts the detector was fitted on).
LETTER_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "A": [[(0.25, 0.82), (0.5, 0.18), (0.75, 0.82)], [(0.35, 0.58), (0.65, 0.58)]],
    "E": [[(0.7, 0.2), (0.32, 0.2), (0.32, 0.8), (0.7, 0.8)], [(0.32, 0.5), (0.62, 0.5)]],
    "F": [[(0.7, 0.2), (0.34, 0.2), (0.34, 0.82)], [(0.34, 0.5), (0.62, 0.5)]],
    "H": [[(0.3, 0.18), (0.3, 0.82)], [(0.7, 0.18), (0.7, 0.82)], [(0.3, 0.5), (0.7, 0.5)]],
    "K": [[(0.32, 0.18), (0.32, 0.82)], [(0.7, 0.18), (0.33, 0.52), (0.72, 0.82)]],
    "M": [[(0.22, 0.82), (0.26, 0.18), (0.5, 0.6), (0.74, 0.18), (0.78, 0.82)]],
    "N": [[(0.28, 0.82), (0.28, 0.18), (0.72, 0.82), (0.72, 0.18)]],
    "P": [[(0.34, 0.82), (0.34, 0.18), *_arc(0.46, 0.34, 0.2, 0.16, -90, 90, 14), (0.34, 0.5)]],
    "R": [[(0.32, 0.82), (0.32, 0.18), *_arc(0.45, 0.34, 0.2, 0.16, -90, 90, 14), (0.32, 0.5), (0.72, 0.82)]],
    "T": [[(0.22, 0.2), (0.78, 0.2)], [(0.5, 0.2), (0.5, 0.82)]],
    "V": [[(0.25, 0.18), (0.5, 0.82), (0.75, 0.18)]],
    "W": [[(0.18, 0.2), (0.32, 0.82), (0.5, 0.38), (0.68, 0.82), (0.82, 0.2)]],
    "X": [[(0.25, 0.18), (0.75, 0.82)], [(0.75, 0.18), (0.25, 0.82)]],
    "Y": [[(0.25, 0.18), (0.5, 0.5), (0.75, 0.18)], [(0.5, 0.5), (0.5, 0.82)]],
    "k": [[(0.34, 0.15), (0.34, 0.85)], [(0.66, 0.45), (0.36, 0.66), (0.68, 0.85)]],
    "#": [[(0.38, 0.18), (0.34, 0.82)], [(0.64, 0.18), (0.6, 0.82)], [(0.2, 0.4), (0.8, 0.4)], [(0.2, 0.62), (0.8, 0.62)]],
    "+": [[(0.2, 0.5), (0.8, 0.5)], [(0.5, 0.2), (0.5, 0.8)]],
    "*": [[(0.5, 0.2), (0.5, 0.8)], [(0.25, 0.32), (0.75, 0.68)], [(0.75, 0.32), (0.25, 0.68)]],
}


# A photo of a drawing on paper: the light falls off across the page. (y, x) in 0..1 -> brightness.
LIGHTS = {
    "fading towards the top": lambda y, x: 0.4 + 0.6 * y,
    "a soft shadow across a corner": lambda y, x: 1 - 0.4 / (1 + np.exp(-(x + 0.5 * y - 0.6) * 25)),
    "a lamp at the top right": lambda y, x: 0.5 + 0.5 * np.exp(-((x - 0.8) ** 2 + (y - 0.2) ** 2) * 3),
}


def photographed(drawing: Image.Image, light: str) -> np.ndarray:
    """A dark pen on white paper under LIGHTS[light], as a gray float image."""
    paper = np.asarray(drawing.convert("L"), dtype=np.float32) / 255  # 1: paper, 0: ink
    y, x = np.mgrid[0 : paper.shape[0], 0 : paper.shape[1]] / max(paper.shape)
    return (LIGHTS[light](y, x) * (0.1 + 0.85 * paper)).astype(np.float32)
