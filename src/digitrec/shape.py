"""Is the ink a digit at all? Geometric checks that need no model.

A network trained on ten digits answers one of the ten for anything it is shown, often with
confidence: to the shipped model a dot is a 0 (99%), a line across the canvas a 2 (84%), a
coloured-in blob a 0 (68%). Its confidence cannot catch these, and a retrained model has other
quirks, so they are caught here from the shape of the ink alone, measured in units of the
drawing's own size and of the pen that drew it: any canvas, pen width or zoom gives the same
answer.

- solid: the widest disc that fits inside the ink, over the drawing's longer side. A dot or a
  filled blob is solid through and through (0.85-1, a scribble with a fat pen 0.7-0.85); a digit
  is made of strokes (at most 0.48 drawn with a finger-wide pen, 0.64 for the boldest MNIST digit).
- length: the ink's area over (pen width x the drawing's longer side): how much pen stroke the
  drawing holds, in drawing sizes. A digit is a few strokes (a 1 about 1, an 8 about 3, at most
  4.6); a scribble lays down far more (6 and up with the app's pen, 10 and up with a fine one).
- elongation, thickness and tilt: a line is far longer than wide (its extent across its main
  direction over its extent along it: under 0.2 even drawn wavy), or one pen stroke thick (a
  short fat dash). Lying down it is a line or a dash; standing up it is a 1, and stays a digit.
  No digit lying within 30 degrees of horizontal is that thin: the flattest, a 5 with a long
  bar, is 0.25 across its length and several pen widths thick.
- a dab: lying down, one pen stroke thick and solid right across (the widest disc inside it
  nearly as wide as the ink is across), but shorter than a dash: a coloured-in oval or
  rectangle lying on its side, which the network reads as a 0 (99%). A lying digit is thicker
  (at least 2.1 pen widths drawn, 1.4 for the boldest MNIST digit, which is hollow: 0.56 across).

Measured on all 10,000 MNIST test digits and on 9,157 real pen-drawn digits (UNIPEN) drawn with
a stylus, a fine pen, the app's pen, a finger and the app's widest pen (40 px), the checks call
none of them "not a digit".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.preprocess import INK_THRESHOLD, distance_to_background, shrink

SOLID = 0.7  # a disc this wide (x the drawing's longer side) fits inside the ink: a dot or a blob
SCRIBBLE_LENGTH = 5.5  # more pen stroke than this many drawing sizes: a scribble
LINE_TILT = 30.0  # within this many degrees of horizontal, and...
LINE_ELONGATION = 0.2  # ...thinner than this across its main direction (x its length),
ONE_STROKE = 1.5  # ...or no thicker than this many pen widths and...
DASH_ELONGATION = 1 / 3  # ...at least three times as long as thick: a line; shorter, and
SOLID_ACROSS = 0.8  # ...the widest disc inside at least this much of its extent across: a dab (a blob)
MEASURE_SIZE = 256  # larger crops are shrunk to this first: the measures are ratios, the cost is not
FINE_PEN = 4  # pixels (after shrinking): a pen this fine is measured more closely
TALL_PIECE, SIDE_BY_SIDE = 0.75, 0.1  # pieces this tall, this far apart (x the drawing's height): maybe several digits


@dataclass(frozen=True)
class InkShape:
    solid: float  # widest disc inside the ink / the longer side of its box
    length: float  # ink area / (pen width x the longer side)
    elongation: float  # extent across the main direction / extent along it (near 0: a line)
    thickness: float  # extent across the main direction, in pen widths (about 1: one stroke)
    tilt: float  # degrees between the main direction and the horizontal, 0-90


def _ridge(depth: np.ndarray) -> np.ndarray:
    """The depths along the middle of the strokes (the ridge of the distance map): half the pen's width."""
    return depth[(depth > 0) & (depth >= ndimage.maximum_filter(depth, size=3))]


def measure(ink: np.ndarray) -> InkShape:
    """The shape of one drawing's ink (an ink map in [0, 1] cropped tightly to the ink)."""
    mask = np.pad(shrink(ink, MEASURE_SIZE) > INK_THRESHOLD, 2)
    longer = max(mask.shape) - 4
    depth = distance_to_background(mask)  # how far inside the ink each pixel is
    solid = 2.0 * float(depth.max()) / longer
    # The pen is the most common ridge width, not the mean: where strokes cross or are coloured
    # in, the ridge runs deeper, but only there.
    widths, counts = np.unique(np.rint(2 * _ridge(depth)), return_counts=True)
    pen = float(widths[counts.argmax()])
    if pen <= FINE_PEN:
        # Along a stroke a few pixels wide the pixel steps make the ridge dip (never rise) and
        # would halve the pen's width: such a pen is measured at the crop's own resolution, one
        # pixel fatter all round, by the upper quartile of its ridge.
        mask = ndimage.binary_dilation(np.pad(ink > INK_THRESHOLD, 2))
        longer = max(mask.shape) - 2
        pen = 2.0 * float(np.quantile(_ridge(distance_to_background(mask)), 0.75))
    rows, cols = np.nonzero(mask)
    points = np.stack([cols, rows]).astype(np.float64)
    _, axes = np.linalg.eigh(np.cov(points) + 1e-9 * np.eye(2))  # the main direction last
    across, along = (np.ptp(axes.T @ points, axis=1) + 1).tolist()
    return InkShape(
        solid=solid,
        length=float(mask.sum()) / (pen * longer),
        elongation=across / along,
        thickness=across / pen,
        tilt=float(np.degrees(np.arctan2(abs(axes[1, 1]), abs(axes[0, 1])))),
    )


def pieces_side_by_side(ink: np.ndarray) -> bool:
    """Whether the ink stands in tall pieces with blank columns between them, as several digits do.

    Pieces at least TALL_PIECE of the drawing's height, SIDE_BY_SIDE of it apart. No MNIST test
    digit and no UNIPEN digit in any canvas style passes, so `Recognizer.predict` can afford to
    read the drawing as a number then, to see whether it is several digits. With pieces half as
    tall, a 4 whose bar stops short of its stem passed (3 of 9,157 UNIPEN digits)."""
    solid = ink > INK_THRESHOLD
    height = solid.shape[0]
    columns = np.flatnonzero(np.diff(np.concatenate([[0], solid.any(axis=0).astype(np.int8), [0]])))
    tall = []
    for start, stop in zip(columns[::2], columns[1::2], strict=True):
        rows = np.flatnonzero(solid[:, start:stop].any(axis=1))
        if rows[-1] - rows[0] + 1 >= TALL_PIECE * height:
            tall.append((start, stop))
    return any(right[0] - left[1] >= SIDE_BY_SIDE * height for left, right in itertools.pairwise(tall))


def not_a_digit(ink: np.ndarray) -> str | None:
    """What the ink plainly is when it is no digit ("a dot or a blob", "a scribble", "a line"), else None.

    `ink` is one drawing's ink map, specks removed, cropped tightly to the ink (`Preprocessed.ink`)."""
    shape = measure(ink)
    if _a_blob(shape):
        return "a dot or a blob"
    if shape.length >= SCRIBBLE_LENGTH:
        return "a scribble"
    if (shape.tilt <= LINE_TILT and shape.elongation <= LINE_ELONGATION) or _a_dash(shape):
        return "a line"
    return None


def not_a_number(ink: np.ndarray) -> str | None:
    """`not_a_digit` for a drawing of several digits: "a dot or a blob", "a line" only where it is
    one pen stroke thick (a number is as flat as a line and as long as a scribble), else None."""
    shape = measure(ink)
    if _a_blob(shape):
        return "a dot or a blob"
    if _a_dash(shape):
        return "a line"
    return None


def _a_blob(shape: InkShape) -> bool:
    """Solid through and through (a dot, a blob), or one flat pen stroke too short for a dash and
    filled right across (a blob lying on its side)."""
    dab = _one_flat_stroke(shape) and shape.elongation > DASH_ELONGATION and shape.solid >= SOLID_ACROSS * shape.elongation
    return shape.solid >= SOLID or dab


def _a_dash(shape: InkShape) -> bool:
    """One flat pen stroke, at least three times as long as it is thick."""
    return _one_flat_stroke(shape) and shape.elongation <= DASH_ELONGATION


def _one_flat_stroke(shape: InkShape) -> bool:
    return shape.tilt <= LINE_TILT and shape.thickness <= ONE_STROKE
