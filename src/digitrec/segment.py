"""Split a drawing of a number (digits written left to right) into one image per digit.

Digits are told apart by boundaries: top-to-bottom paths across the whole drawing, one column
per row, that cross as little ink as they can. Between digits that do not touch, a path runs
through the blank space, winding round a 5's bar or a 7's crossbar that reaches over its
neighbour; between digits that touch or overlap it crosses where they meet. Paths are sought on
the strokes thinned to their middles, so where two digits' strokes run side by side, fused into
one thick band, a path slips along the seam between them instead of cutting through either.

Every column gives the cheapest path through it a little above mid-height; where no neighbouring column's
is cheaper, the path is a candidate boundary (paths that part the ink alike count once). The
ink between any two boundaries that could be one digit is a candidate digit. All candidates are
read in one batched call, and dynamic programming picks the boundaries whose digits score best
together: each digit's log-confidence, less penalties for ink its boundary cuts and for a shape
unlike one digit of this drawing (too short, in pieces side by side, or holding far less or far
more pen stroke than the digit it reads as). So a 4's two strokes stay one 4 (apart, each half
reads worse and holds too little stroke for what it reads as), and two touching digits come
apart (as one they hold too much stroke, and each reads surer alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from digitrec.preprocess import (
    INK_THRESHOLD,
    SPECK_FRACTION,
    ImageInput,
    Preprocessed,
    crop_to_ink,
    disk,
    fit_and_centre,
    read_ink,
    stroke_width,
)

# Lengths below are in digit heights: the typical height of this drawing's digits; stroke
# lengths are the ink's area over the pen's width, in digit heights.
PIVOT = 0.35  # each path runs through its column this far down the ink: above the middle, where digits touch less
THINNED = 0.7  # strokes are thinned by this much of the pen's width before paths are sought
SAME_PARTING = 0.1  # boundaries whose sides differ by less stroke than this part the ink alike
FREE = 0.35  # a boundary through less ink than this many strokes only grazes an edge: it cuts nothing
DIAGONAL_COST = 0.02  # a path's sideways step costs this much ink: straight unless bending helps
# Never one digit: wider than this, lower than this, less or more pen stroke than this, or in
# pieces this far apart side by side.
WIDEST, LOWEST, MIN_LENGTH, MAX_LENGTH, WIDEST_GAP = 1.8, 0.7, 0.7, 4.0, 0.3
# A candidate's score is its log-confidence, plus MARGIN x log(confidence / the runner-up's),
# less DIGIT_COST, less these penalties, in log-confidence per digit height (per stroke a
# boundary crosses; per stroke of length outside the range for the digit it reads as). Tuned on
# numbers composed of UNIPEN's syn writers, whom the number benchmark leaves out by default.
MARGIN, DIGIT_COST = 0.1, 0.2
SHORTEST, SHORT_PENALTY = 0.85, 4.0  # lower than this
SMALL_GAP, GAP_PENALTY = 0.05, 2.4  # in pieces side by side
CUT_PENALTY = 0.8  # for each stroke a boundary cuts
# Stroke length (least, most) of digits 0-9 on the tuning writers' numbers; beyond: a fragment, or two digits.
LENGTHS = np.array(
    [(1.8, 3.8), (0.8, 2.3), (1.5, 3.1), (1.3, 3.2), (1.45, 2.45), (1.5, 3.2), (1.35, 2.6), (1.25, 2.6), (1.7, 3.2), (1.45, 2.45)]
)
TOO_SHORT, TOO_LONG = 2.2, 1.4  # penalty per stroke below the least, above the most
SKIP_PENALTY = 4.0  # per stroke of ink read as no digit at all

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) images -> (N, 10) probabilities


@dataclass(frozen=True)
class _Candidate:
    left: int  # between boundaries left and right
    right: int
    reading: int  # which of the images to read is its own (candidates with the same ink share one)
    box: tuple[int, int, int, int]  # (top, bottom, left, right) of its ink
    width: float  # of its ink, in digit heights
    length: float  # of pen stroke it holds, in digit heights
    penalty: float  # against it whatever it reads as: its shape, and the ink its right boundary cuts


def _digit_height(solid: np.ndarray) -> float:
    """The height of this drawing's digits: the median blob height, ignoring bars and dots."""
    labels, _ = ndimage.label(solid, structure=np.ones((3, 3)))
    heights = np.array([rows.stop - rows.start for rows, _ in ndimage.find_objects(labels)])
    return float(np.median(heights[heights >= 0.5 * heights.max()]))


def _cheapest_paths(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel, the cost of the cheapest path down to it from the top row (one column
    sideways per row at most), and the step each row's pixel took from the row above (-1, 0, 1)."""
    total = np.full((cost.shape[0], cost.shape[1] + 2), np.inf)  # an unreachable column each side
    moves = np.zeros(cost.shape, dtype=np.int8)
    total[0, 1:-1] = cost[0]
    for y in range(1, len(cost)):
        left, straight, right = total[y - 1, :-2] + DIAGONAL_COST, total[y - 1, 1:-1], total[y - 1, 2:] + DIAGONAL_COST
        sideways = np.minimum(left, right)
        moves[y] = np.where(straight <= sideways, 0, np.where(left <= right, -1, 1))
        total[y, 1:-1] = cost[y] + np.minimum(straight, sideways)
    return total[:, 1:-1], moves


def _boundaries(ink: np.ndarray, solid: np.ndarray, height: float, stroke: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-to-bottom paths that may part two digits, left to right: (n, rows) columns, each
    row's first column on the path's right; how many strokes each one cuts; and how much pen
    stroke (in digit heights) lies left of it.

    For every column, the cheapest path through it at the PIVOT row, bending above and below (dynamic
    programming from the top and from the bottom), kept where the columns beside it give no
    cheaper one; of those that part the ink alike, the cheapest. The first has all the ink right
    of it, the last all of it left."""
    rows, width = ink.shape
    # Strokes thinned to their middle: where two run side by side, touching or overlapping, a
    # path slips between them; crossing one costs about its thinned width. A hairline (under 3 px
    # at this resolution: a fine pen on a large canvas) has no middle to keep: it stays as it is.
    radius = round(THINNED * stroke / 2) if stroke >= 3 else 0
    thin = ndimage.grey_erosion(ink, footprint=disk(radius)) if radius else ink
    width_crossed = stroke - 2 * radius
    cost = np.pad(thin.astype(np.float64), ((0, 0), (1, 1)))  # a blank column beyond each edge
    down, from_above = _cheapest_paths(cost)
    up, from_below = _cheapest_paths(cost[::-1])
    ink_rows = np.flatnonzero(solid.any(axis=1))
    pivot = ink_rows[0] + int(PIVOT * (ink_rows[-1] - ink_rows[0]))
    through = down[pivot] + up[rows - 1 - pivot] - cost[pivot]  # per column: the cheapest path through it there
    beside = np.pad(through, 1, constant_values=np.inf)
    valleys = np.flatnonzero((through <= beside[:-2]) & (through <= beside[2:]))  # no cheaper path beside
    paths = np.empty((len(valleys), rows), dtype=np.int64)
    paths[:, pivot] = valleys
    for y in range(pivot, 0, -1):
        paths[:, y - 1] = paths[:, y] + from_above[y, paths[:, y]]
    for y in range(pivot, rows - 1):
        paths[:, y + 1] = paths[:, y] + from_below[rows - 1 - y, paths[:, y]]
    through, paths = through[valleys], paths.clip(1, width + 1) - 1  # columns 0 (all ink right) to width

    # How a path parts the ink: the number of ink pixels left of it.
    left_of = np.pad(np.cumsum(solid, axis=1), ((0, 0), (1, 0)))  # row y: ink pixels left of each column
    parting = left_of[np.arange(rows), paths].sum(axis=1)
    # A path through blank space may graze an anti-aliased edge: free unless it crosses real ink.
    unthinned = np.pad(ink, ((0, 0), (0, 1)))[np.arange(rows), paths].sum(axis=1)
    crossed = np.where(unthinned < FREE * stroke, 0.0, through / width_crossed)
    chosen: list[int] = []
    first_alike = -np.inf
    # Of paths that part the ink alike, the cheapest; between equally cheap ones, the one through
    # the least unthinned ink: the thinning makes a digit's outer edge free to cross, but a path
    # through the blank space beside it leaves no sliver of that digit to its neighbour.
    for index in np.lexsort((unthinned, crossed, parting)):  # by parting, the cheapest first
        if parting[index] - first_alike < SAME_PARTING * stroke * height:
            if (crossed[index], unthinned[index]) < (crossed[chosen[-1]], unthinned[chosen[-1]]):
                chosen[-1] = index
            continue
        chosen.append(index)
        first_alike = parting[index]
    return paths[chosen], crossed[chosen], parting[chosen] / (stroke * height)


def _without_slivers(part: np.ndarray) -> np.ndarray:
    """The ink without the bits of a neighbour that a boundary grazed (far smaller than the rest)."""
    labels, count = ndimage.label(part > INK_THRESHOLD, structure=np.ones((3, 3)))
    if count < 2:
        return part
    sizes = np.bincount(labels.ravel())[1:]
    small = 1 + np.flatnonzero(sizes < SPECK_FRACTION * sizes.max())
    return np.where(np.isin(labels, small), 0.0, part) if len(small) else part


def _candidates(
    ink: np.ndarray, paths: np.ndarray, crossed: np.ndarray, height: float, stroke: float
) -> tuple[list[_Candidate], list[np.ndarray]]:
    """The ink between every two boundaries that could be one digit, and the images to read.

    Plainly impossible ones (wider than any digit, far too short, too little or too much pen
    stroke, or in pieces side by side) are left out before they cost a reading."""
    columns = np.arange(ink.shape[1])
    out: list[_Candidate] = []
    images: list[np.ndarray] = []
    seen: dict[tuple[int, ...], int] = {}  # the same ink between other boundaries: read once
    for left in range(len(paths) - 1):
        for right in range(left + 1, len(paths)):
            start, stop = int(paths[left].min()), int(paths[right].max())
            between = (columns[None, start:stop] >= paths[left][:, None]) & (columns[None, start:stop] < paths[right][:, None])
            part = np.where(between, ink[:, start:stop], 0.0)
            if part.max() <= INK_THRESHOLD:
                continue
            top, bottom, lo, hi = crop_to_ink(part)
            if hi - lo > WIDEST * height:
                break  # wider still with the next boundary
            if bottom - top < LOWEST * height or (part > INK_THRESHOLD).sum() < MIN_LENGTH * stroke * height:
                continue  # and no less so without slivers
            part = _without_slivers(part[top:bottom, lo:hi])
            t, b, lo_, hi_ = crop_to_ink(part)
            part, top, bottom, lo, hi = part[t:b, lo_:hi_], top + t, top + b, lo + lo_, lo + hi_
            solid = part > INK_THRESHOLD
            gap = float((np.diff(np.flatnonzero(solid.any(axis=0))) - 1).max(initial=0)) / height
            length = solid.sum() / (stroke * height)
            if (bottom - top) < LOWEST * height or not MIN_LENGTH <= length <= MAX_LENGTH or gap > WIDEST_GAP:
                continue
            penalty = (
                SHORT_PENALTY * max(0.0, SHORTEST - (bottom - top) / height)
                + GAP_PENALTY * max(0.0, gap - SMALL_GAP)
                + CUT_PENALTY * crossed[right]
            )
            box = (top, bottom, start + lo, start + hi)
            key = (*box, int(solid.sum()))
            if key not in seen:
                seen[key] = len(images)
                images.append(fit_and_centre(part, redraw=False))
            out.append(_Candidate(left, right, seen[key], box, (hi - lo) / height, length, penalty))
    return out, images


def _score(candidates: list[_Candidate], probabilities: np.ndarray) -> np.ndarray:
    """How likely each candidate is one digit: how surely it reads, how far ahead of the
    runner-up, less its penalties and how unlike the digit it reads as its stroke length is."""
    ranked = np.sort(np.maximum(probabilities, 1e-9), axis=1)
    surest, runner_up = np.log(ranked[:, -1]), np.log(ranked[:, -2])
    least, most = LENGTHS[probabilities.argmax(axis=1)].T
    length = np.array([c.length for c in candidates])
    unlike = TOO_SHORT * np.maximum(0.0, least - length) + TOO_LONG * np.maximum(0.0, length - most)
    penalty = np.array([c.penalty for c in candidates])
    return surest + MARGIN * (surest - runner_up) - DIGIT_COST - unlike - penalty


def _best_split(candidates: list[_Candidate], left_of: np.ndarray, score: np.ndarray) -> list[_Candidate]:
    """The candidates from the first boundary to the last, one after the other, with the highest
    total score. Ink no candidate can take (a dot, a stray mark) is passed over, at SKIP_PENALTY."""
    count = len(left_of)
    best = np.full(count, -np.inf)
    best[0] = 0.0
    came_from: list[int | None] = [None] * count  # the candidate that ends there; None: ink passed over
    arriving: list[list[int]] = [[] for _ in range(count)]
    for k, c in enumerate(candidates):
        arriving[c.right].append(k)
    for end in range(1, count):
        best[end] = best[end - 1] - SKIP_PENALTY * (left_of[end] - left_of[end - 1])
        for k in arriving[end]:
            if best[candidates[k].left] + score[k] > best[end]:
                best[end], came_from[end] = best[candidates[k].left] + score[k], k
    chosen, end = [], count - 1
    while end > 0:
        k = came_from[end]
        if k is None:
            end -= 1
        else:
            chosen.append(candidates[k])
            end = candidates[k].left
    return chosen[::-1]


class SplitDigit(NamedTuple):
    image: np.ndarray  # (28, 28) MNIST-style
    box: tuple[int, int, int, int]  # (top, bottom, left, right) in the ink map
    probabilities: np.ndarray  # (10,): what `score` made of it


def split_digits(ink: np.ndarray, score: Scorer) -> list[SplitDigit]:
    """One MNIST-style 28x28 image per digit of an ink map, left to right, with its box and
    how it was read.

    `score` maps (N, 28, 28) images to (N, 10) probabilities: it is called once, on every
    candidate digit, and the boundaries whose digits it reads surest win."""
    solid = ink > INK_THRESHOLD
    height = _digit_height(solid)
    stroke = stroke_width(solid)
    paths, crossed, left_of = _boundaries(ink, solid, height, stroke)
    candidates, images = _candidates(ink, paths, crossed, height, stroke)
    if not candidates:
        return []
    readings = score(np.stack(images))
    chosen = _best_split(candidates, left_of, _score(candidates, readings[[c.reading for c in candidates]]))
    return [SplitDigit(images[c.reading], c.box, readings[c.reading]) for c in chosen]


def segment_number(source: ImageInput, score: Scorer) -> list[Preprocessed]:
    """One MNIST-style 28x28 image (and its box in the input) per digit, left to right."""
    ink_map = read_ink(source)
    if ink_map is None:
        return []
    return [Preprocessed(image=d.image, box=ink_map.box_in_input(*d.box)) for d in split_digits(ink_map.ink, score)]
