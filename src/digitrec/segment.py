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

Where the pen strokes are known, in the order drawn (a canvas knows them), no boundary is
needed: a candidate digit is the ink of a run of strokes drawn one after another, and the same
scores pick the runs, less a penalty where two neighbours share most of their columns (a slash
through a 0 is part of it, not a 1) and where the strokes of one run share few (side by side,
they are two digits). One stroke that goes round as a 0 does may be wider and longer than a digit
of several strokes (a flat oval 0, a loop gone round twice). Digits written into one another
then come apart whole. Where the pen is fatter for the digits' size than the app's Draw pen,
each candidate is read as a single digit with strokes is, its strokes drawn afresh with that pen
(`digitrec.preprocess.drawn_afresh`), and each stroke's columns are its path's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from digitrec.preprocess import (
    INK_THRESHOLD,
    SPECK_FRACTION,
    InkMap,
    Preprocessed,
    crop_to_ink,
    disk,
    drawn_afresh,
    fit_and_centre,
    stroke_width,
)
from digitrec.strokes import (
    ON_INK,
    REFERENCE_PEN,
    Strokes,
    checked_strokes,
    cover,
    flag_after_stem,
    on_ink,
    pen_turns,
    reach,
    scribbled,
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

# With the pen strokes known (in the order drawn), a digit is a run of strokes.
MOST_STROKES = 4  # a digit is drawn in at most this many strokes (UNIPEN's writers: 3)
MAX_STROKES = 100  # more strokes than this are a scribble: read by the ink alone
# Neighbouring digits may share this much of the narrower one's columns, and the strokes of one digit share at
# least this much; beyond, OVERLAP_PENALTY per whole width.
SHARED_COLUMNS, OVERLAP_PENALTY = 0.5, 8.0
# One stroke that goes round one way, as a 0 does, is one digit even where it is wider or longer than a digit
# of several strokes may be (a flat oval 0, a loop gone round twice): up to these bounds, past the widest and
# longest one-stroke digits of UNIPEN's syn and apa (2.3 and 4.5 digit heights).
ONE_STROKE_WIDEST, ONE_STROKE_LONGEST = 2.5, 5.0
# Going round: turning through at least LOOP_TURN, with ONE_WAY of all its turning in one direction (a zigzag's
# turns cancel out). At the Number mode's pen, 89% of syn's and apa's one-stroke zeros go round, and 4% of the
# tests' scribbled zigzags.
LOOP_TURN, ONE_WAY = 1.5 * np.pi, 0.8
# Two strokes drawn one after the other that stand side by side are one digit all the same where they meet: one
# ends within MEETS digit heights of the other's path, in the middle half of the other's height. An open 4's hook
# ends so, short of its stem; neighbouring digits meet at their tops and bottoms, or not at all.
MEETS = 0.2
HEADING = 0.5  # ...and ends heading for it, within 60 degrees (a 6 ends beside a 9's stem, heading up its own loop)

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) images -> (N, 10) probabilities
Box = tuple[int, int, int, int]  # (top, bottom, left, right) of some ink


@dataclass(frozen=True)
class _Candidate:
    left: int  # between boundaries left and right
    right: int
    reading: int  # which of the images to read is its own (candidates with the same ink share one)
    box: Box  # of its ink
    length: float  # of pen stroke it holds, in digit heights
    penalty: float  # against it whatever it reads as: its shape, and the ink its right boundary cuts
    flagged_one: bool = False  # its strokes are a one's stem, then its flag


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


def _one_digit(
    part: np.ndarray, crop: Box, height: float, stroke: float, longest: float = MAX_LENGTH
) -> tuple[np.ndarray, Box, float, float] | None:
    """Ink that could be one digit (`crop`: its box, as `crop_to_ink` gives it): cropped, without
    slivers, with its box in `part`, its length of pen stroke and the penalty for its shape; None
    when it is plainly no digit (far too short, too little stroke or more than `longest` digit
    heights of it, in pieces side by side)."""
    top, bottom, lo, hi = crop
    if bottom - top < LOWEST * height or (part > INK_THRESHOLD).sum() < MIN_LENGTH * stroke * height:
        return None  # and no less so without slivers
    part = _without_slivers(part[top:bottom, lo:hi])
    t, b, lo_, hi_ = crop_to_ink(part)
    part, top, bottom, lo, hi = part[t:b, lo_:hi_], top + t, top + b, lo + lo_, lo + hi_
    solid = part > INK_THRESHOLD
    gap = float((np.diff(np.flatnonzero(solid.any(axis=0))) - 1).max(initial=0)) / height
    length = solid.sum() / (stroke * height)
    if (bottom - top) < LOWEST * height or not MIN_LENGTH <= length <= longest or gap > WIDEST_GAP:
        return None
    penalty = SHORT_PENALTY * max(0.0, SHORTEST - (bottom - top) / height) + GAP_PENALTY * max(0.0, gap - SMALL_GAP)
    return part, (top, bottom, lo, hi), length, penalty


class _Reader:
    """Collects the candidates' images to read in one call; the same ink is read once.

    `redraw`: strokes redrawn at MNIST's width, as for a single digit (`fit_and_centre`). Not for
    the ink reader: the pieces a boundary cuts off then read surer than whole digits."""

    def __init__(self, redraw: bool) -> None:
        self.images: list[np.ndarray] = []
        self._seen: dict[tuple[int, ...], int] = {}
        self._redraw = redraw

    def add(self, part: np.ndarray, box: Box) -> int:
        key = (*box, int((part > INK_THRESHOLD).sum()))
        if key not in self._seen:
            self._seen[key] = len(self.images)
            self.images.append(fit_and_centre(part, redraw=self._redraw))
        return self._seen[key]


def _candidates(
    ink: np.ndarray, paths: np.ndarray, crossed: np.ndarray, height: float, stroke: float
) -> tuple[list[_Candidate], list[np.ndarray]]:
    """The ink between every two boundaries that could be one digit, and the images to read.

    Plainly impossible ones (wider than any digit, far too short, too little or too much pen
    stroke, or in pieces side by side) are left out before they cost a reading."""
    columns = np.arange(ink.shape[1])
    out: list[_Candidate] = []
    reader = _Reader(redraw=False)
    for left in range(len(paths) - 1):
        for right in range(left + 1, len(paths)):
            start, stop = int(paths[left].min()), int(paths[right].max())
            between = (columns[None, start:stop] >= paths[left][:, None]) & (columns[None, start:stop] < paths[right][:, None])
            part = np.where(between, ink[:, start:stop], 0.0)
            if part.max() <= INK_THRESHOLD:
                continue
            crop = crop_to_ink(part)
            if crop[3] - crop[2] > WIDEST * height:
                break  # wider still with the next boundary
            if (digit := _one_digit(part, crop, height, stroke)) is None:
                continue
            part, (top, bottom, lo, hi), length, penalty = digit
            box = (top, bottom, start + lo, start + hi)
            out.append(_Candidate(left, right, reader.add(part, box), box, length, penalty + CUT_PENALTY * crossed[right]))
    return out, reader.images


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


def _shared(a: tuple[int, int], b: tuple[int, int]) -> float:
    """How much of the narrower of two column ranges (start, stop) the other one shares."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0])) / max(1, min(a[1] - a[0], b[1] - b[0]))


def _clash(before: _Candidate, after: _Candidate) -> float:
    """The penalty for two neighbouring digits sharing columns: a little overlap is handwriting,
    more is one digit's stroke (a slash through a 0, the bar of a 5) taken for a digit of its own."""
    return OVERLAP_PENALTY * max(0.0, _shared(before.box[2:], after.box[2:]) - SHARED_COLUMNS)


def _best_chain(candidates: list[_Candidate], left_of: np.ndarray, score: np.ndarray) -> list[_Candidate]:
    """`_best_split` for runs of strokes: the chain of candidates, each after the last, with the
    highest total score less each neighbouring pair's `_clash`. Strokes that no candidate takes
    (a dot, a stray mark) are passed over, at SKIP_PENALTY."""
    last = len(left_of) - 1

    def passed_over(start: int, stop: int) -> float:
        return SKIP_PENALTY * float(left_of[stop] - left_of[start])

    best = np.empty(len(candidates))  # the best chain ending with each candidate
    came_from: list[int | None] = [None] * len(candidates)
    for k, c in enumerate(candidates):  # in order of their first stroke: every possible predecessor comes earlier
        best[k] = -passed_over(0, c.left)
        for p, before in enumerate(candidates[:k]):
            if before.right <= c.left:
                total = best[p] - passed_over(before.right, c.left) - _clash(before, c)
                if total > best[k]:
                    best[k], came_from[k] = total, p
        best[k] += score[k]
    totals = [best[k] - passed_over(c.right, last) for k, c in enumerate(candidates)]
    if not candidates or max(totals) < -passed_over(0, last):
        return []
    chain, k = [], int(np.argmax(totals))
    while k is not None:
        chain.append(candidates[k])
        k = came_from[k]
    return chain[::-1]


# (candidates, where each boundary lies in pen stroke, each candidate's score) -> the candidates kept
Chooser = Callable[[list[_Candidate], np.ndarray, np.ndarray], list[_Candidate]]


class SplitDigit(NamedTuple):
    image: np.ndarray  # (28, 28) MNIST-style
    box: Box  # in the ink map
    probabilities: np.ndarray  # (10,): what `score` made of it
    flagged_one: bool = False  # its strokes are a one's stem, then its flag


def _read_best(
    candidates: list[_Candidate], images: list[np.ndarray], left_of: np.ndarray, score: Scorer, choose: Chooser = _best_split
) -> list[SplitDigit]:
    """Read every candidate in one call and keep the split whose digits score best, in order."""
    if not candidates:
        return []
    readings = score(np.stack(images))
    chosen = choose(candidates, left_of, _score(candidates, readings[[c.reading for c in candidates]]))
    return [SplitDigit(images[c.reading], c.box, readings[c.reading], c.flagged_one) for c in chosen]


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
    return _read_best(candidates, images, left_of, score)


def _goes_round(points: np.ndarray, spacing: float) -> bool:
    """Whether a pen stroke goes round one way, as a 0 does."""
    turns = pen_turns(points, spacing)
    total = abs(float(turns.sum()))
    return total >= LOOP_TURN and total >= ONE_WAY * float(np.abs(turns).sum())


def _meet(before: np.ndarray, after: np.ndarray, height: float) -> bool:
    """Whether one of two pen strokes drawn one after the other ends at the other's side, at its
    middle, heading for it (see MEETS)."""
    for stroke, path in ((before, after), (after, before)):
        end = stroke[-1]
        top, bottom = path[:, 1].min(), path[:, 1].max()
        if not top + (bottom - top) / 4 <= end[1] <= bottom - (bottom - top) / 4:
            continue
        if np.hypot(*(_nearest_on_path(end, path) - end)) > MEETS * height:
            continue
        # Heading for it: seen from a little way back along the stroke, the other lies ahead.
        back = np.flatnonzero(np.hypot(*(stroke - end).T) >= MEETS * height / 2)
        behind = stroke[back[-1]] if len(back) else stroke[0]
        heading, to_path = end - behind, _nearest_on_path(behind, path) - behind
        if heading @ to_path >= HEADING * np.hypot(*heading) * np.hypot(*to_path) > 0:
            return True
    return False


def _nearest_on_path(point: np.ndarray, path: np.ndarray) -> np.ndarray:
    """The point of a polyline nearest to `point`."""
    if len(path) == 1:
        return path[0]
    start, step = path[:-1], np.diff(path, axis=0)
    along = np.clip(((point - start) * step).sum(axis=1) / np.maximum((step**2).sum(axis=1), 1e-12), 0, 1)
    nearest = start + along[:, None] * step
    return nearest[np.hypot(*(nearest - point).T).argmin()]


def split_strokes(ink: np.ndarray, strokes: list[np.ndarray], score: Scorer) -> list[SplitDigit] | None:
    """`split_digits` for a drawing whose pen strokes are known, in the order drawn, as (x, y)
    points in the ink map's pixels: a digit is the ink of a run of up to MOST_STROKES strokes
    drawn one after another. Digits that touch or overlap need no boundary through their ink,
    so neither loses a piece to the other; with a pen fat for the digits' size, the network
    reads each run's strokes drawn afresh, as the app's pen draws them. None when the strokes do
    not cover the ink."""
    solid = ink > INK_THRESHOLD
    height = _digit_height(solid)
    stroke = stroke_width(solid)
    reaches = [reach(ink.shape, points, stroke) for points in strokes]
    own_ink = [solid & r for r in reaches]
    if not cover(solid, reaches):
        return None  # the strokes are not this drawing's (moved, stale, or in other coordinates)
    scribbles = [scribbled(points, height) for points in strokes]  # part of no digit: passed over
    if any(scribbles) and not all(scribbles):  # a scribble's dense ink is no measure of the digits' pen and height
        digits_ink = np.logical_or.reduce([own for own, scribble in zip(own_ink, scribbles, strict=True) if not scribble])
        height, stroke = _digit_height(digits_ink), stroke_width(digits_ink)
    lengths = [np.count_nonzero(own) / (stroke * height) for own in own_ink]
    fat_pen = stroke / height > REFERENCE_PEN
    redrawn = [fat_pen and on_ink(solid, points) >= ON_INK for points in strokes]  # see the candidates below
    columns = [np.flatnonzero(own.any(axis=0)) for own in own_ink]
    spans = [(int(c[0]), int(c[-1]) + 1) if len(c) else None for c in columns]  # each stroke's ink columns
    if fat_pen:  # a fat pen's ink shares columns that its strokes, drawn with the app's pen, do not
        half = REFERENCE_PEN * height / 2
        spans = [
            (int(points[:, 0].min() - half), int(np.ceil(points[:, 0].max() + half))) if span else None
            for points, span in zip(strokes, spans, strict=True)
        ]
    meets_previous = [False] + [_meet(before, after, height) for before, after in itertools.pairwise(strokes)]
    candidates: list[_Candidate] = []
    reader = _Reader(redraw=True)  # whole strokes, no cut pieces: each candidate is read as a single digit is
    for first in range(len(strokes)):
        run_reach = np.zeros(ink.shape, dtype=bool)
        span, side_by_side = spans[first], 0.0
        for last in range(first, min(first + MOST_STROKES, len(strokes))):
            if scribbles[last]:
                break
            run_reach |= reaches[last]
            if last > first and span and spans[last]:
                # One digit's strokes share columns (a 4's two, a 7 and its bar), or meet (an open 4's); two
                # digits' stand side by side.
                if not meets_previous[last]:
                    side_by_side += OVERLAP_PENALTY * max(0.0, SHARED_COLUMNS - _shared(span, spans[last]))
                span = (min(span[0], spans[last][0]), max(span[1], spans[last][1]))
            span = span or spans[last]
            part = np.where(run_reach, ink, 0.0)
            if part.max() <= INK_THRESHOLD:
                continue
            crop = crop_to_ink(part)
            round_one_way = last == first and _goes_round(strokes[first], stroke)
            widest, longest = (ONE_STROKE_WIDEST, ONE_STROKE_LONGEST) if round_one_way else (WIDEST, MAX_LENGTH)
            if crop[3] - crop[2] > widest * height:
                break  # wider still with the next stroke
            if (digit := _one_digit(part, crop, height, stroke, longest)) is not None:
                part, box, length, penalty = digit
                # A pen fatter for the digits' size than the app's (Number mode's, at 14% of a digit's
                # height, is) fills in what the strokes keep apart: such a run is read as a single digit
                # is, its strokes drawn afresh with the app's pen, leaving out any stroke off the ink. A
                # finer pen is left as drawn: thickened, two digits written into one another fuse.
                run = [strokes[i] for i in range(first, last + 1) if redrawn[i]]
                image = drawn_afresh(run) if run else part
                reading = reader.add(image, box)
                flagged = flag_after_stem(strokes[first : last + 1])
                candidates.append(_Candidate(first, last + 1, reading, box, length, penalty + side_by_side, flagged))
    digits = _read_best(candidates, reader.images, np.concatenate([[0.0], np.cumsum(lengths)]), score, _best_chain)
    return sorted(digits, key=lambda d: d.box[2] + d.box[3])  # by the ink's middle: left to right, whatever was drawn first


def segment_number(ink_map: InkMap, score: Scorer, strokes: Strokes | None = None) -> list[Preprocessed]:
    """One MNIST-style 28x28 image (and its box in the input) per digit of a drawing's ink map
    (`read_ink`), left to right.

    `strokes`, the pen strokes in the order drawn as (x, y) points in the input's pixels (a
    canvas knows them), keep touching and overlapping digits apart. Without them, with more than
    MAX_STROKES (a scribble, not a number), or with strokes that miss the ink (not this image's),
    the digits are told apart by the ink alone."""
    paths = checked_strokes(strokes)
    digits = None
    if paths and len(paths) <= MAX_STROKES:
        to_ink_map = np.array([ink_map.scale_x, ink_map.scale_y])
        digits = split_strokes(ink_map.ink, [points / to_ink_map for points in paths], score)
    if digits is None:
        digits = split_digits(ink_map.ink, score)
    return [Preprocessed(image=d.image, box=ink_map.box_in_input(*d.box), flagged_one=d.flagged_one) for d in digits]
