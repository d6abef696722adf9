"""Split a drawing of a number (digits written left to right) into one image per digit.

Strokes that belong together stay together: connected ink blobs whose horizontal spans overlap
are one digit (the bar of a 5, the two strokes of a 4, a 7's crossbar). Neighbours that touch
come out as one blob much wider than a digit is tall; it is cut where the ink is thinnest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.preprocess import INK_THRESHOLD, ImageInput, Preprocessed, crop_to_ink, fit_and_centre, read_ink

OVERLAP_TO_MERGE = 0.5  # of the narrower span: blobs above each other are one digit
WIDEST_DIGIT = 1.15  # width / height beyond which a blob must be several touching digits
DIGIT_WIDTH = 0.7  # typical width / height of a digit, to guess how many touch


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


def _cuts(ink: np.ndarray, pieces: int) -> list[int]:
    """Columns where to cut `pieces` touching digits apart: the thinnest ink near even spacing."""
    profile = ndimage.uniform_filter1d((ink > INK_THRESHOLD).sum(axis=0).astype(float), size=3)
    width = ink.shape[1]
    cuts = []
    for k in range(1, pieces):
        centre, reach = k * width / pieces, width / pieces / 3
        low, high = int(max(1, centre - reach)), int(min(width - 1, centre + reach)) + 1
        cuts.append(low + int(np.argmin(profile[low:high])))
    return cuts


def segment_number(source: ImageInput) -> list[Preprocessed]:
    """One MNIST-style 28x28 image (and its box in the input) per digit, left to right."""
    ink_map = read_ink(source)
    if ink_map is None:
        return []
    labels, _ = ndimage.label(ink_map.ink > INK_THRESHOLD, structure=np.ones((3, 3)))
    # Keep each blob's soft anti-aliased rim with it: every ink pixel joins its nearest blob.
    nearest = ndimage.distance_transform_edt(labels == 0, return_distances=False, return_indices=True)
    owner = labels[tuple(nearest)] * (ink_map.ink > 0)
    groups = _groups(labels)
    height = float(np.median([g.height for g in groups]))
    digits = []
    for group in groups:
        own = np.where(np.isin(owner, group.labels), ink_map.ink, 0.0)[group.top : group.bottom, group.left : group.right]
        pieces = round(group.width / (DIGIT_WIDTH * height)) if group.width > WIDEST_DIGIT * height else 1
        edges = [0, *_cuts(own, pieces), group.width] if pieces > 1 else [0, group.width]
        for start, stop in itertools.pairwise(edges):
            part = np.zeros_like(own)
            part[:, start:stop] = own[:, start:stop]
            if part.max() <= INK_THRESHOLD:
                continue
            top, bottom, left, right = crop_to_ink(part)
            box = ink_map.box_in_input(group.top + top, group.top + bottom, group.left + left, group.left + right)
            digits.append(Preprocessed(image=fit_and_centre(part[top:bottom, left:right]), box=box))
    return digits
