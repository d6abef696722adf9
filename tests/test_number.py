"""Reading numbers: several digits drawn left to right, spaced, close, touching, on a wavy line."""

from __future__ import annotations

import importlib
import itertools
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from digitrec.preprocess import read_ink
from digitrec.segment import split_strokes
from strokes import (
    DIGIT_STROKES,
    DOT_STROKES,
    OPEN_FOUR,
    blob_strokes,
    in_pixels,
    number_strokes,
    photographed,
    render,
    scribble_strokes,
)

CASES = {
    "2026 spaced": ("2026", {"gap": 0.2}),
    "1984 close": ("1984", {"gap": 0.06}),
    "4715 wavy": ("4715", {"gap": 0.12, "wave": 0.06}),
    "0123456789 in a row": ("0123456789", {"gap": 0.15}),
}
# Touching and overlapping: `gap` is between the digits' pen paths, so at 0 their ink already
# overlaps by the pen's width where they meet, and at -0.02 by more (drawn with a 12 px pen).
TOUCHING = {
    "307 touching": ("307", {"gap": 0.0}),
    "307 touching, wavy": ("307", {"gap": 0.0, "wave": 0.06}),
    "1234 touching": ("1234", {"gap": 0.0}),
    "250 touching": ("250", {"gap": 0.0}),
    "1234 overlapping": ("1234", {"gap": -0.02}),
    "86 overlapping": ("86", {"gap": -0.02}),
    "250 overlapping": ("250", {"gap": -0.02}),
}


@pytest.mark.parametrize("case", CASES)
def test_numbers_are_read_digit_by_digit(recognizer, case):
    digits, layout = CASES[case]
    image = render(number_strokes(digits, **layout), size=(300 * len(digits), 300), pen=16)
    reading = recognizer.read_number(image)
    assert reading.text == digits
    boxes = [d.box for d in reading.digits]
    assert all(left < right for (left, _, right, _) in boxes)
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # left to right


@pytest.mark.parametrize("case", TOUCHING)
def test_touching_and_overlapping_digits_are_told_apart(recognizer, case):
    """The known bug: "307" with no gap read "317", cut through the 0 instead of between 3 and 0."""
    digits, layout = TOUCHING[case]
    reading = recognizer.read_number(render(number_strokes(digits, **layout), size=(300 * len(digits), 300), pen=12))
    assert reading.text == digits
    lefts = [d.box[0] for d in reading.digits]
    assert lefts == sorted(lefts)


# Far apart: (digits, gap in canvas heights, pen).
FAR_APART = [("731", 0.4, 16), ("301", 0.4, 12), ("551", 0.3, 12), ("3111", 0.5, 16), ("0123456789", 0.4, 24)]


@pytest.mark.parametrize(("digits", "gap", "pen"), FAR_APART)
def test_digits_far_apart_are_all_read(recognizer, digits, gap, pen):
    """The bug: the boundary after a round digit grazed its outer edge (free to cross, being
    thinned away), so the sliver it left went to the next digit, which then looked like pieces
    side by side and was dropped: "731" read "73" whenever the gap was wide."""
    image = render(number_strokes(digits, gap=gap), size=(int(300 * len(digits) * (1 + gap)), 300), pen=pen)
    assert recognizer.read_number(image).text == digits


@pytest.mark.parametrize("digit", "0123456789")
def test_a_single_digit_is_one_digit(recognizer, digit):
    """Never cut one digit in two: the 4 is two strokes, the 0 and 8 are wide loops."""
    reading = recognizer.read_number(render(number_strokes(digit), size=(300, 300)))
    assert reading.text == digit and len(reading.digits) == 1


def test_an_empty_canvas_reads_no_number(recognizer):
    assert recognizer.read_number(render([], size=(600, 200))).text == ""


def test_predict_number_json(tmp_path):
    path = tmp_path / "year.png"
    render(number_strokes("2026", gap=0.2), size=(1200, 300), pen=16).save(path)
    out = subprocess.run(
        [sys.executable, "-m", "digitrec.cli", "predict", "--number", "--json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answer = json.loads(out)
    assert answer["number"] == "2026" and answer["not_a_number"] is None
    assert [d["digit"] for d in answer["digits"]] == [2, 0, 2, 6]
    assert all(len(d["box"]) == 4 and 0 < d["confidence"] <= 1 for d in answer["digits"])


def _number_benchmark():
    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)  # as when the script runs: it imports its sibling canvas_accuracy
    return importlib.import_module("number_accuracy")


def test_the_number_benchmark_composes_the_gaps_it_is_asked_for():
    """Its numbers are what it reports on: as many digits as asked, their ink boxes the gaps apart."""
    bench = _number_benchmark()
    digits = [[np.array(stroke) for stroke in DIGIT_STROKES[d]] for d in (3, 0, 7, 1, 4)]
    gaps = [0.4, 0.0, -0.08, 0.15]
    composed = bench.compose(digits, gaps, sizes=[1.0, 1.05, 0.95, 1.0, 1.02], offsets=[0.0, 0.1, -0.1, 0.05, 0.0])
    assert len(composed.boxes) == 5
    between = [right[0] - left[2] for left, right in itertools.pairwise(composed.boxes)]
    assert np.allclose(between, np.array(gaps) * composed.height)
    width, height = bench.CANVAS
    assert all(0 <= left < right <= width and 0 <= top < bottom <= height for left, top, right, bottom in composed.boxes)
    ink = bench.render(composed)[:, :, 0] < 128
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    drawn = (columns[0], rows[0], columns[-1] + 1, rows[-1] + 1)
    composed_box = np.r_[np.min(composed.boxes, axis=0)[:2], np.max(composed.boxes, axis=0)[2:]]
    assert ink.shape == (height, width) and np.allclose(drawn, composed_box, atol=2)  # drawn where composed


def test_a_number_photographed_in_uneven_light_is_read(recognizer):
    drawing = render(number_strokes("2024", gap=0.15), size=(1200, 300), pen=16)
    assert recognizer.read_number(photographed(drawing, "a soft shadow across a corner")).text == "2024"


def test_the_number_benchmark_scores_whole_numbers_and_digits_at_their_place():
    bench = _number_benchmark()
    rows = [
        {"truth": t, "read": r, "digits_right": bench.digits_right(t, r)}
        for t, r in [("307", "307"), ("307", "301"), ("45", "4")]
    ]
    assert [r["digits_right"] for r in rows] == [3, 2, 0]  # a digit lost: none of that number's digits count
    assert bench._accuracies(rows) == (1 / 3, 5 / 8)


def test_a_dithered_black_and_white_image_is_read_as_solid_strokes(recognizer):
    """Grey ink saved as a 1-bit image comes out dithered, its strokes riddled with pinholes:
    read as they were, the pinholes looked like gaps, and one 7 was read as 77 or 911."""
    for pen in (12, 18):
        seven = render(DIGIT_STROKES[7], pen=pen, ink=(60, 60, 60, 255)).convert("1")
        assert recognizer.read_number(seven).text == "7"
        assert recognizer.predict(seven).digit == 7
    number = render(number_strokes("307", gap=0.15), size=(900, 300), pen=16, ink=(60, 60, 60, 255)).convert("1")
    assert recognizer.read_number(number).text == "307"


def test_hairlines_on_a_large_canvas_are_no_arithmetic_error(recognizer):
    """A 1 px pen on a large canvas is under a pixel wide once shrunk: it used to be thinned to
    nothing and divide by zero. (Such hairlines are read poorly: the app's pen is at least 4 px.)"""
    hairline = render(number_strokes("307", gap=0.15), size=(1800, 450), pen=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reading = recognizer.read_number(hairline)
    assert all(0 <= digit.confidence <= 1 for digit in reading.digits)


# --- with the pen strokes known, as the app's canvas knows them ------------------------------------


def _drawn(strokes: list[list[tuple[float, float]]], digits: int, pen: int = 12):
    return render(strokes, size=(300 * digits, 300), pen=pen), in_pixels(strokes, 300)


# Written into one another further than the ink alone can part them (gap in canvas heights).
WRITTEN_INTO_ONE_ANOTHER = {"307": -0.08, "904": -0.05, "789": -0.05, "1984": -0.05, "2026": -0.08, "250": -0.12}


@pytest.mark.parametrize("digits", WRITTEN_INTO_ONE_ANOTHER)
def test_digits_written_into_one_another_are_kept_apart_by_their_strokes(recognizer, digits):
    image, strokes = _drawn(number_strokes(digits, gap=WRITTEN_INTO_ONE_ANOTHER[digits]), len(digits))
    assert recognizer.read_number(image).text != digits  # the ink alone merges or cuts them
    reading = recognizer.read_number(image, strokes=strokes)
    assert reading.text == digits
    lefts = [d.box[0] for d in reading.digits]
    assert lefts == sorted(lefts)


@pytest.mark.parametrize("case", TOUCHING)
def test_touching_digits_are_read_with_their_strokes_too(recognizer, case):
    digits, layout = TOUCHING[case]
    image, strokes = _drawn(number_strokes(digits, **layout), len(digits))
    assert recognizer.read_number(image, strokes=strokes).text == digits


# Pens fat for the digits' size (on 300 px high canvases, digits about 190 px high), gaps in canvas heights.
FAT_PEN = {"8936": (52, 0.0), "5959": (52, -0.05), "6113": (52, 0.1), "1992": (44, 0.0), "668": (52, 0.0), "1080": (44, 0.1)}


@pytest.mark.parametrize("digits", FAT_PEN)
def test_digits_drawn_with_a_fat_pen_are_read_from_their_strokes(recognizer, digits):
    """Each was misread with the fat ink under each run of strokes ("8936" as "893", "6113" as
    "03"): the pen fills in loops, and its ink shares columns its strokes do not. Drawn afresh
    with the app's pen, and their columns taken from their strokes, they read right."""
    pen, gap = FAT_PEN[digits]
    image, strokes = _drawn(number_strokes(digits, gap=gap), len(digits), pen=pen)
    assert recognizer.read_number(image, strokes=strokes).text == digits


@pytest.mark.parametrize("pen", [12, 20, 36])
@pytest.mark.parametrize("digits", ["4", "94", "2024"])
def test_a_four_written_open_is_one_digit(recognizer, digits, pen):
    """Its hook stands beside its stem, sharing few columns, as two digits' strokes do; but the
    hook ends at the stem's middle, where neighbouring digits do not meet. Read as a 1 beside a
    stray mark before ("94" as "91", "2024" as "2021")."""
    image, strokes = _drawn(number_strokes(digits, written={**DIGIT_STROKES, 4: OPEN_FOUR}), len(digits), pen=pen)
    assert recognizer.read_number(image, strokes=strokes).text == digits


SLASHED_ZERO = [*DIGIT_STROKES[0], [(0.62, 0.24), (0.38, 0.76)]]
CROSSED_SEVEN = [*DIGIT_STROKES[7], [(0.4, 0.52), (0.66, 0.52)]]


def test_a_digit_of_several_strokes_is_one_digit(recognizer):
    """A stroke inside another digit's box is part of it: a slash through a 0 is no 1 of its
    own, nor a 7's crossbar, nor the second stroke of a 4."""
    number = [
        [(x + offset, y) for x, y in stroke]
        for offset, digit in ((0.0, SLASHED_ZERO), (0.55, CROSSED_SEVEN), (1.1, DIGIT_STROKES[4]))
        for stroke in digit
    ]
    image, strokes = _drawn(number, 3)
    reading = recognizer.read_number(image, strokes=strokes)
    assert reading.text == "074" and len(reading.digits) == 3


def test_strokes_side_by_side_are_two_digits(recognizer):
    """The strokes of one digit share columns; a run whose strokes stand side by side pays for
    being one digit: a 1 touching a 3 was taken into it, and "31" read "3"."""
    image, strokes = _drawn(number_strokes("31", gap=0.0), 2, pen=20)
    assert recognizer.read_number(image, strokes=strokes).text == "31"


def test_a_long_slash_through_a_zero_stays_part_of_it(recognizer):
    """A slash reaching out of the 0 at both ends shares all its columns, which two neighbours
    never do: it was read as a 1 of its own ("3015")."""
    zero = [*DIGIT_STROKES[0], [(0.28, 0.9), (0.8, 0.08)]]
    number = [
        [(x + offset, y) for x, y in stroke]
        for offset, digit in ((-0.05, DIGIT_STROKES[3]), (0.5, zero), (1.05, DIGIT_STROKES[5]))
        for stroke in digit
    ]
    image, strokes = _drawn(number, 3)
    assert recognizer.read_number(image, strokes=strokes).text == "305"


def test_a_wide_zero_in_one_stroke_is_one_digit(recognizer):
    """One stroke that goes round as a 0 does may be wider and longer than a digit of several: a
    flat oval 0 twice as wide as the digits beside it, gone round once and a half, was left out ("15")."""
    flat_zero = [[(0.5 + 0.65 * np.cos(a), 0.5 + 0.3 * np.sin(a)) for a in np.linspace(-np.pi / 2, 2.5 * np.pi, 60)]]
    number = [*DIGIT_STROKES[1], *[[(x + 0.25, y) for x, y in s] for s in flat_zero]]
    number += [[(x + 1.35, y) for x, y in s] for s in DIGIT_STROKES[5]]
    image, strokes = _drawn(number, 3, pen=16)
    assert recognizer.read_number(image, strokes=strokes).text == "105"


def test_a_zigzag_as_wide_is_no_digit(recognizer):
    """Only a stroke that goes round one way is let be that wide: a zigzag's turns cancel out (it
    was read as a 4, 99% sure)."""
    zigzag = [[(0.1 + 0.15 * i, 0.25 if i % 2 else 0.75) for i in range(7)]]
    image, strokes = _drawn(zigzag, 2, pen=16)
    assert recognizer.read_number(image, strokes=strokes).text == ""


@pytest.mark.parametrize("seed", range(6))
def test_a_scribble_in_number_mode_is_no_digits(recognizer, seed):
    """A stroke that zigzags back and forth is part of no digit (no digit's stroke turns back
    sharply five times): scribbles were read as digits, "72" or "0"."""
    for strokes in (1, 2, 4):
        scribble = [[(x * 1.5, y) for x, y in s] for s in scribble_strokes(seed=seed, strokes=strokes, turns=20)]
        image, pixels = _drawn(scribble, 2, pen=16)
        assert recognizer.read_number(image, strokes=pixels).text == ""


def test_a_scribble_beside_a_number_leaves_the_number(recognizer):
    """Scribbled strokes are passed over as no digit, and the digits beside them are still read:
    measured with the scribble's dense ink, the pen looked so wide that the 1 held too little
    stroke for a digit ("2")."""
    scribble = [[(x + 1.0, y) for x, y in stroke] for stroke in scribble_strokes(seed=0, strokes=2, turns=20)]
    image, strokes = _drawn([*number_strokes("12"), *scribble], 3)
    assert recognizer.read_number(image, strokes=strokes).text == "12"


@pytest.mark.parametrize(
    ("strokes", "plainly"),
    [
        (DOT_STROKES, "a dot or a blob"),
        ([[(0.1, 0.5), (2.3, 0.5)]], "a line"),
        ([[(0.2, 0.6), (1.6, 0.3)]], "a line"),
        (blob_strokes(), "a dot or a blob"),
        (blob_strokes(1.0, 0.3, 2.0, 0.7), "a dot or a blob"),  # coloured in, lying on its side: was a 0
    ],
)
def test_a_dot_a_line_or_a_blob_is_no_number(recognizer, strokes, plainly):
    """Read as a number, a dot was a 9, a line across the canvas 14 zeros, a blob a 0: the whole
    drawing is measured first, with or without its strokes."""
    image, pixels = _drawn(strokes, 3, pen=20)
    for reading in (recognizer.read_number(image), recognizer.read_number(image, strokes=pixels)):
        assert reading.text == "" and reading.not_a_number == plainly
        assert reading.to_json()["not_a_number"] == plainly


def test_a_digit_written_last_still_reads_in_its_place(recognizer):
    """Strokes tell digits apart, not where they stand: a 1 put in front of "23" afterwards reads "123"."""
    strokes = number_strokes("123", gap=0.15)
    image, pixels = _drawn(strokes, 3)
    assert recognizer.read_number(image, strokes=[*pixels[1:], pixels[0]]).text == "123"


def test_strokes_that_are_not_the_images_are_ignored(recognizer):
    """Strokes that miss the ink (moved, stale, in other coordinates), or too many to be a
    number, leave the image to be read alone."""
    image, strokes = _drawn(number_strokes("2026", gap=0.15), 4)
    alone = recognizer.read_number(image).text
    assert alone == "2026"
    moved, halved = [s + np.array([400.0, 0.0]) for s in strokes], [s / 2 for s in strokes]
    ink_map = read_ink(image)
    to_ink_map = np.array([ink_map.scale_x, ink_map.scale_y])
    for wrong in (moved, halved):
        assert split_strokes(ink_map.ink, [s / to_ink_map for s in wrong], recognizer.probabilities) is None
        assert recognizer.read_number(image, strokes=wrong).text == alone
    assert split_strokes(ink_map.ink, [s / to_ink_map for s in strokes], recognizer.probabilities) is not None
    assert recognizer.read_number(image, strokes=strokes * 30).text == alone  # 120 strokes: a scribble
    assert recognizer.read_number(image, strokes=[]).text == alone


@pytest.mark.parametrize(
    ("strokes", "message"),
    [
        ([[1.0, 2.0, 3.0]], "stroke 0 should be a list of (x, y) points"),
        ([[[1.0, 2.0]], []], "stroke 1 should be a list of (x, y) points"),
        ([[[1.0, float("nan")]]], "stroke 0 has points that are not finite"),
        ([[["a", "b"]]], "stroke 0 is not a list of (x, y) points"),
    ],
)
def test_malformed_strokes_get_a_clear_error(recognizer, strokes, message):
    image, _ = _drawn(number_strokes("12"), 2)
    with pytest.raises(ValueError, match=re.escape(message)):
        recognizer.read_number(image, strokes=strokes)
