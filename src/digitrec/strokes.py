"""Pen strokes, as a canvas knows them: checked, matched to the image's ink, and drawn.

A canvas hands its drawing over twice: as an image, and as the strokes the pen made, in the
order drawn. The strokes tell what the image cannot: which ink belongs to which stroke (the
number reader keeps touching digits apart by them: `digitrec.segment`), and where the pen went
inside ink that a fat pen filled in (a finger's 8 is a blob with two dents; its strokes are
still two loops). `draw_strokes` replays strokes as a browser draws them (round caps and joins,
anti-aliased): the benchmarks and training draw UNIPEN's digits with it, and the recognizer
draws a digit's strokes afresh with the app's own pen (`draw_with_reference_pen`), so that a
finger, a stylus and the app's pen are read alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw

Strokes = Sequence[Sequence[Sequence[float]] | np.ndarray]  # per stroke, its (x, y) points

REACH = 1.3  # a stroke's ink lies within this many pen widths round its path (anti-aliased rims)
MATCHED = 0.95  # strokes whose reach covers less of the ink than this are not this image's
ON_INK = 0.9  # a stroke with less of its path on the ink is not this image's (stale, or drawn off it)
# Drawn afresh, a digit's strokes are drawn with the pen of the app's Draw page as shipped, the
# style read best on the canvas benchmark: 20 px on a 320 px canvas, the digit 70% of it.
REFERENCE_PEN = 20 / (0.7 * 320)  # of the digit's longer side
# A one written stem first and its flag after, from the stem's top heading left: drawn, it is a seven's shape (a
# long flag, a slanted stem), and the order of the strokes tells them apart. The stem: at least STEM_HEIGHT of the
# digit's height, leaning by at most STEM_LEAN of its height; the flag begins within FLAG_START of the digit's
# height from the stem's top and stays in the upper half. Of the UNIPEN writers syn and apa, 30 of 566 ones are
# written so, and none of 476 sevens (nor any other digit, for any FLAG_START up to a whole height; at 0.2, 24 ones).
STEM_HEIGHT, STEM_LEAN, FLAG_START = 0.6, 0.5, 0.3
# A scribble: a stroke that turns back sharply (by more than SHARP_TURN) SCRIBBLE_TURNS times or more, its path
# taken in steps of TURN_STEP digit heights. No digit is written so: of the 6,441 strokes of syn's and apa's
# digits, 344 turn back twice, 39 three times and none more (about nine times fewer with each turn: 5 leaves a
# margin; of all 9,157 UNIPEN digits' strokes, one turns back 4 times). Of the tests' zigzags, 87% of the
# strokes of 12 points turn back 5 times or more, all of 20 points.
SCRIBBLE_TURNS, SHARP_TURN, TURN_STEP = 5, 2.0, 0.1


def checked_strokes(strokes: Strokes | None) -> list[np.ndarray]:
    """Each stroke as a (k, 2) float array, or a clear error for anything else."""
    if strokes is None:
        return []
    if isinstance(strokes, str | bytes) or not isinstance(strokes, Iterable):
        raise ValueError(f"strokes should be a list of strokes, each a list of (x, y) points; got {type(strokes).__name__}")
    paths = []
    for index, stroke in enumerate(strokes):
        try:
            points = np.asarray(stroke, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"stroke {index} is not a list of (x, y) points: {e}") from e
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError(f"stroke {index} should be a list of (x, y) points; it has shape {points.shape}")
        if not np.isfinite(points).all():
            raise ValueError(f"stroke {index} has points that are not finite numbers")
        paths.append(points)
    return paths


def fit_to_canvas(strokes: list[np.ndarray], canvas: int, pen: float, size: float, corner: int | None = None) -> list[np.ndarray]:
    """The strokes moved and scaled onto a square canvas, in its pixels: the longer side of the pen
    path spans `size` x the canvas (aspect kept), centred, or in corner 0-3 (top left, top right,
    bottom right, bottom left) with a 5% margin."""
    everything = np.concatenate(strokes)
    low, high = everything.min(axis=0), everything.max(axis=0)
    extent = high - low
    scale = size * canvas / max(float(extent.max()), 1e-9)
    box = extent * scale
    if corner is None:
        origin = (canvas - box) / 2
    else:
        margin = 0.05 * canvas + pen / 2
        right, bottom = [(False, False), (True, False), (True, True), (False, True)][corner % 4]
        origin = np.array([canvas - margin - box[0] if right else margin, canvas - margin - box[1] if bottom else margin])
    return [(stroke - low) * scale + origin for stroke in strokes]


def draw_on(shape: tuple[int, int], strokes: list[np.ndarray], pen: float) -> np.ndarray:
    """Strokes given in pixels, drawn with a `pen` px wide pen on a (height, width) canvas: its
    ink coverage, float32 in [0, 1]. Drawn at 2-4x and area-averaged down: the canvas's anti-aliasing."""
    height, width = shape
    ss = max(2, min(4, 1600 // max(height, width)))
    mask = Image.new("L", (width * ss, height * ss), 0)
    draw = ImageDraw.Draw(mask)
    line = max(1, round(pen * ss))
    radius = line / 2
    for stroke in strokes:
        xy = stroke * ss
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)  # repeated tablet samples add nothing
        points = [(float(x), float(y)) for x, y in xy[keep]]
        if len(points) > 1:
            draw.line(points, fill=255, width=line)
        for x, y in points:  # round caps and joins
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(mask.resize((width, height), Image.Resampling.BOX), dtype=np.float32) / 255.0


def draw_strokes(strokes: list[np.ndarray], canvas: int, pen: float, size: float, corner: int | None = None) -> np.ndarray:
    """One digit's ink coverage on a square canvas (`fit_to_canvas`): (canvas, canvas) float32 in [0, 1]."""
    return draw_on((canvas, canvas), fit_to_canvas(strokes, canvas, pen, size, corner), pen)


def draw_with_reference_pen(strokes: list[np.ndarray], longer_side: int) -> np.ndarray:
    """The strokes drawn as the app's pen draws a digit, whatever pen drew them: the digit's longer
    side `longer_side` pixels, the pen REFERENCE_PEN of that, on a canvas just round the ink."""
    everything = np.concatenate(strokes)
    low, extent = everything.min(axis=0), np.ptp(everything, axis=0)
    scale = longer_side / max(float(extent.max()), 1e-9)
    pen = REFERENCE_PEN * longer_side
    width, height = np.ceil(extent * scale + 2 * pen).astype(int)
    return draw_on((int(height), int(width)), [(stroke - low) * scale + pen for stroke in strokes], pen)


def flag_after_stem(strokes: list[np.ndarray]) -> bool:
    """Whether a digit's strokes are a one's stem and then its flag (see STEM_HEIGHT)."""
    everything = np.concatenate(strokes)
    top, height = float(everything[:, 1].min()), max(float(np.ptp(everything[:, 1])), 1e-9)
    for index, stem in enumerate(strokes[:-1]):
        rise, lean = np.ptp(stem[:, 1]), np.ptp(stem[:, 0])
        if rise < STEM_HEIGHT * height or lean > STEM_LEAN * rise:
            continue
        stem_top = stem[stem[:, 1].argmin()]
        for flag in strokes[index + 1 :]:
            begins_at_top = np.hypot(*(flag[0] - stem_top)) <= FLAG_START * height
            if begins_at_top and flag[-1, 0] < flag[0, 0] and flag[:, 1].max() <= top + height / 2:
                return True
    return False


def pen_turns(points: np.ndarray, spacing: float) -> np.ndarray:
    """The angles a pen path turns through, in (-pi, pi], taken in steps of `spacing`, so that a
    hand's jitter does not count as turning."""
    kept = [0]  # each next point kept is the first at least `spacing` from the last one kept
    while len(far := np.flatnonzero(np.hypot(*(points[kept[-1] + 1 :] - points[kept[-1]]).T) >= spacing)):
        kept.append(kept[-1] + 1 + int(far[0]))
    if len(kept) < 3:
        return np.zeros(0)
    steps = np.diff(points[kept], axis=0)
    return (np.diff(np.arctan2(steps[:, 1], steps[:, 0])) + np.pi) % (2 * np.pi) - np.pi


def scribbled(points: np.ndarray, height: float) -> bool:
    """Whether a pen stroke zigzags back and forth as no digit's does (a scribble, a colouring-in),
    for digits `height` high."""
    return int((np.abs(pen_turns(points, TURN_STEP * height)) > SHARP_TURN).sum()) >= SCRIBBLE_TURNS


def reach(shape: tuple[int, int], points: np.ndarray, stroke: float) -> np.ndarray:
    """Where one pen stroke's ink lies: its path (x, y), drawn a little wider than the pen."""
    mask = np.zeros(shape, dtype=np.uint8)
    thickness = int(np.ceil(REACH * stroke)) + 2
    beyond = 2 * max(shape)  # far off the image is as good as anywhere off it, and fits in int32
    corners = np.round(points.clip(-beyond, beyond)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(mask, [corners], isClosed=False, color=1, thickness=thickness)
    cv2.circle(mask, tuple(int(v) for v in corners[0, 0]), thickness // 2, color=1, thickness=-1)  # a dot has no line
    return mask.astype(bool)


def cover(solid: np.ndarray, reaches: list[np.ndarray]) -> bool:
    """Whether the strokes' reaches cover the ink (`solid`), as the image's own strokes do."""
    return bool(reaches) and np.count_nonzero(solid & np.logical_or.reduce(reaches)) >= MATCHED * np.count_nonzero(solid)


def on_ink(solid: np.ndarray, points: np.ndarray) -> float:
    """The share of a stroke's points that lie on the ink."""
    cells = np.round(points.clip(-1, max(solid.shape))).astype(np.int64)  # far off is off, and fits in int64
    inside = (cells[:, 0] >= 0) & (cells[:, 0] < solid.shape[1]) & (cells[:, 1] >= 0) & (cells[:, 1] < solid.shape[0])
    hits = solid[cells[inside, 1], cells[inside, 0]]
    return float(np.count_nonzero(hits)) / len(points)
