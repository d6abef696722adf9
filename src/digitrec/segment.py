"""Split a drawing of a number (digits written left to right) into one image per digit.

Strokes that belong together stay together: connected ink blobs whose horizontal spans overlap
are one digit (the bar of a 5, the two strokes of a 4, a 7's crossbar). Neighbours that touch
come out as one blob that reads poorly as a single digit; it is cut at one of its thinnest
columns, the one where the recognizer reads both sides best.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.preprocess import INK_THRESHOLD, ImageInput, Preprocessed, crop_to_ink, fit_and_centre, read_ink

OVERLAP_TO_MERGE = 0.5  # of the narrower span: blobs above each other are one digit
MIN_SPLIT_ASPECT = 0.75  # blobs narrower than this times the digits' height are one digit
CONFIDENT = 0.9  # both sides of a cut must read at least this surely
SURELY_SEVERAL = 0.95  # blobs this wide (width / the digits' height) are cut in any case
CUT_CANDIDATES = 6

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) images -> (N, 10) probabilities


@dataclass
class _Group:
    labels: list[int]
    left: int
    right: int
    top: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def _groups(labels: np.ndarray) -> list[_Group]:
    """Blobs, left to right, merged when their horizontal spans overlap enough."""
    blobs = [
        _Group([index + 1], where[1].start, where[1].stop, where[0].start, where[0].stop)
        for index, where in enumerate(ndimage.find_objects(labels))
        if where is not None
    ]
    merged: list[_Group] = []
    for blob in sorted(blobs, key=lambda b: (b.left + b.right) / 2):
        for group in merged:
            overlap = min(blob.right, group.right) - max(blob.left, group.left)
            if overlap > OVERLAP_TO_MERGE * min(blob.width, group.width):
                group.labels += blob.labels
                group.left, group.right = min(group.left, blob.left), max(group.right, blob.right)
                group.top, group.bottom = min(group.top, blob.top), max(group.bottom, blob.bottom)
                break
        else:
            merged.append(blob)
    return sorted(merged, key=lambda g: g.left)


def _cut_candidates(own: np.ndarray) -> list[int]:
    """Columns where two touching digits may meet: where the ink is thinnest, away from the edges."""
    profile = ndimage.uniform_filter1d((own > INK_THRESHOLD).sum(axis=0).astype(float), size=3)
    width = own.shape[1]
    inner = np.arange(int(0.15 * width), int(0.85 * width) + 1)
    if len(inner) == 0:
        return []
    ranked = inner[np.argsort(profile[inner], kind="stable")]
    chosen: list[int] = []
    for column in ranked:  # the thinnest columns, not all side by side
        if all(abs(column - c) > width / 12 for c in chosen):
            chosen.append(int(column))
        if len(chosen) == CUT_CANDIDATES:
            break
    return chosen


def _split(own: np.ndarray, left: int, score: Scorer, height: float, depth: int = 3) -> list[tuple[int, int]]:
    """Column ranges (in the caller's coordinates) of the digits in one blob of touching ink.

    A blob that reads confidently as one digit, or is narrow, stays whole; otherwise it is cut
    where the two sides read best, and each side is looked at again."""
    width = own.shape[1]
    if depth == 0 or width < MIN_SPLIT_ASPECT * height:
        return [(left, left + width)]
    cuts = _cut_candidates(own)
    if not cuts:
        return [(left, left + width)]
    images = [_digit_image(own)] + [_digit_image(side) for c in cuts for side in (own[:, :c], own[:, c:])]
    confidence = score(np.stack(images)).max(axis=1)
    whole, sides = confidence[0], confidence[1:].reshape(-1, 2).min(axis=1)
    # As wide as it is tall: hardly ever one digit. Narrower: cut only if both sides read better.
    wide = width >= SURELY_SEVERAL * height
    if not (wide or (sides.max() > whole and sides.max() >= CONFIDENT)):
        return [(left, left + width)]
    cut = cuts[int(sides.argmax())]
    return _split(_trim(own[:, :cut]), left, score, height, depth - 1) + _split(
        _trim(own[:, cut:]), left + cut + _leading_blank(own[:, cut:]), score, height, depth - 1
    )


def _leading_blank(part: np.ndarray) -> int:
    return int(np.argmax(part.max(axis=0) > INK_THRESHOLD))


def _trim(part: np.ndarray) -> np.ndarray:
    """Drop empty columns on either side (rows stay, so heights remain comparable)."""
    columns = np.flatnonzero(part.max(axis=0) > INK_THRESHOLD)
    return part[:, columns[0] : columns[-1] + 1]


def _digit_image(part: np.ndarray) -> np.ndarray:
    if part.max() <= INK_THRESHOLD:
        return np.zeros((28, 28), dtype=np.float32)
    top, bottom, left, right = crop_to_ink(part)
    return fit_and_centre(part[top:bottom, left:right])


def segment_number(source: ImageInput, score: Scorer) -> list[Preprocessed]:
    """One MNIST-style 28x28 image (and its box in the input) per digit, left to right.

    `score` maps (N, 28, 28) images to (N, 10) probabilities: touching digits are cut where
    the recognizer reads both sides best."""
    ink_map = read_ink(source)
    if ink_map is None:
        return []
    labels, _ = ndimage.label(ink_map.ink > INK_THRESHOLD, structure=np.ones((3, 3)))
    # Keep each blob's soft anti-aliased rim with it: every ink pixel joins its nearest blob.
    nearest = ndimage.distance_transform_edt(labels == 0, return_distances=False, return_indices=True)
    owner = labels[tuple(nearest)] * (ink_map.ink > 0)
    groups = _groups(labels)
    height = float(np.median([g.height for g in groups]))  # of a digit, in this drawing
    digits = []
    for group in groups:
        own = np.where(np.isin(owner, group.labels), ink_map.ink, 0.0)[group.top : group.bottom, group.left : group.right]
        for start, stop in _split(own, 0, score, height):
            part = np.zeros_like(own)
            part[:, start:stop] = own[:, start:stop]
            if part.max() <= INK_THRESHOLD:
                continue
            top, bottom, left, right = crop_to_ink(part)
            box = ink_map.box_in_input(group.top + top, group.top + bottom, group.left + left, group.left + right)
            digits.append(Preprocessed(image=fit_and_centre(part[top:bottom, left:right]), box=box))
    return digits
