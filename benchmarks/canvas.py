"""Digit drawings for the benchmarks: what the app's 280x280 canvas hands the recognizer.

A dark pen (round caps and joins, as a browser canvas draws) on a transparent background.
Only PIL is imported here, so predict_process.py stays a small parent process.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

CANVAS = 280
PEN = 18  # pixels, the app's default pen width


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 20) -> list[tuple[float, float]]:
    angles = [math.radians(start + (end - start) * i / (n - 1)) for i in range(n)]
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


# Strokes as points in 0..1 (y down), one or more strokes per digit.
STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.2, 0.32, -90, 270, 36)],
    1: [[(0.42, 0.28), (0.53, 0.18), (0.53, 0.82)]],
    2: [[*_arc(0.5, 0.34, 0.19, 0.16, 200, 380, 16), (0.3, 0.8), (0.72, 0.8)]],
    3: [_arc(0.48, 0.34, 0.18, 0.15, 210, 450, 18) + _arc(0.48, 0.64, 0.2, 0.17, -90, 150, 18)],
    4: [[(0.55, 0.18), (0.28, 0.62), (0.75, 0.62)], [(0.6, 0.38), (0.6, 0.84)]],
    7: [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.84)]],
}

# The fixed set the benchmarks cycle through: (digit, scale, offset in pixels, pen width).
# Different sizes, places and pens make preprocessing do its real work (crop, thicken, centre).
VARIANTS: list[tuple[int, float, tuple[int, int], int]] = [
    (0, 1.0, (0, 0), PEN),
    (1, 0.8, (30, 20), PEN),
    (2, 1.0, (0, 0), 10),
    (3, 0.6, (10, 90), PEN),
    (4, 1.0, (0, 0), 26),
    (7, 0.7, (70, 10), 6),
]


def strokes_in_pixels(digit: int, scale: float = 1.0, offset: tuple[int, int] = (0, 0)) -> list[list[tuple[float, float]]]:
    """A digit's strokes where `draw` puts them, in the canvas's pixels: what the app passes with its image."""
    return [[(offset[0] + x * scale * CANVAS, offset[1] + y * scale * CANVAS) for x, y in stroke] for stroke in STROKES[digit]]


def draw(digit: int, scale: float = 1.0, offset: tuple[int, int] = (0, 0), pen: int = PEN) -> Image.Image:
    """One digit on an RGBA canvas: dark ink, fully transparent background."""
    image = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    ink = (20, 20, 30, 255)
    pen_draw = ImageDraw.Draw(image)
    for points in strokes_in_pixels(digit, scale, offset):
        pen_draw.line(points, fill=ink, width=pen, joint="curve")
        for px, py in points:  # round caps
            pen_draw.ellipse([px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2], fill=ink)
    return image


def drawings() -> list[tuple[int, Image.Image]]:
    """The fixed set, as (digit drawn, image)."""
    return [(digit, draw(digit, scale, offset, pen)) for digit, scale, offset, pen in VARIANTS]


def drawings_strokes() -> list[list[list[tuple[float, float]]]]:
    """The fixed set's strokes, in the same order as `drawings`."""
    return [strokes_in_pixels(digit, scale, offset) for digit, scale, offset, _ in VARIANTS]
