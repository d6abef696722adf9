"""Pen strokes: drawn as a canvas draws them, and passed with a canvas image so that the network
reads them drawn afresh with the app's pen (any pen reads alike); strokes that are not the
image's are not used. Real pen-drawn digits come from $DIGITREC_UNIPEN (CI: ../shared/unipen)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from digitrec.strokes import draw_on, draw_strokes, fit_to_canvas, flag_after_stem, scribbled
from strokes import DIGIT_STROKES, FLAGGED_ONE, blob_strokes, in_pixels, number_strokes, render

PENS = {"app-pen": (320, 20.0), "finger": (200, 30.0), "stylus": (600, 3.0), "big-canvas": (1400, 60.0)}


def canvas_drawing(strokes: list[np.ndarray], canvas: int, pen: float, corner: int | None = None) -> tuple[np.ndarray, list]:
    """A digit drawn 70% of a transparent canvas as a browser hands it over (RGBA), and its strokes there."""
    placed = fit_to_canvas(strokes, canvas, pen, 0.7, corner)
    coverage = draw_on((canvas, canvas), placed, pen)
    rgba = np.zeros((canvas, canvas, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(coverage * 255).astype(np.uint8)
    return rgba, placed


def test_a_stroke_is_drawn_with_the_pen_width_at_the_asked_size_and_place():
    coverage = draw_strokes([np.array([[0.0, 0.0], [0.0, 100.0]])], canvas=200, pen=10, size=0.5)
    assert coverage.shape == (200, 200) and coverage.dtype == np.float32
    assert coverage.min() >= 0 and coverage.max() <= 1
    rows, cols = np.nonzero(coverage > 0.5)
    assert rows.min() >= 50 - 6 and rows.max() <= 150 + 6 and rows.max() - rows.min() >= 100  # 50% of the canvas, centred
    assert cols.max() - cols.min() + 1 == pytest.approx(10, abs=2)  # the pen's width
    corner = draw_strokes([np.array([[0.0, 0.0], [0.0, 100.0]])], canvas=200, pen=10, size=0.2, corner=2)
    rows, cols = np.nonzero(corner > 0.5)
    assert rows.min() > 100 and cols.min() > 100  # bottom right


def test_with_its_strokes_any_pen_reads_as_the_apps_pen(recognizer, pen_digits):
    """The network sees nearly the same image whatever pen and canvas drew the strokes (the image
    alone differs: a finger's fat line, a stylus's hair line), and gives the same answers."""
    differences = {name: [] for name in PENS}
    for i in range(0, len(pen_digits), 150):
        seen = {}
        for name, (canvas, pen) in PENS.items():
            rgba, placed = canvas_drawing(pen_digits.strokes[i], canvas, pen, corner=i % 4 if name == "big-canvas" else None)
            seen[name] = recognizer.predict(rgba, strokes=placed, tta=False)
            alone = recognizer.predict(rgba, tta=False)
            assert seen[name].box == alone.box  # where the ink is: the image's own
        reference = seen["app-pen"].image.astype(float) / 255
        for name in PENS:
            differences[name].append(np.abs(seen[name].image / 255 - reference).mean())
            assert seen[name].digit == seen["app-pen"].digit, (i, name)
    for name in PENS:
        assert np.mean(differences[name]) < 0.002, name  # the image alone: 0.012 to 0.018 from the app's pen's


@pytest.mark.parametrize(("index", "digit"), [(536, 0), (616, 9), (749, 4)])
def test_a_finger_that_fills_in_loops_is_read_from_its_strokes(recognizer, pen_digits, index, digit):
    """Digits of the validation writers (apa) whose loops a 30 px finger on a 200 px canvas fills in:
    from the image alone they are read as 8, 7 and declined; from their strokes, right."""
    assert (pen_digits.labels[index], pen_digits.sources[index]) == (digit, "apa")
    rgba, placed = canvas_drawing(pen_digits.strokes[index], *PENS["finger"])
    assert recognizer.predict(rgba, strokes=placed).digit == digit


def test_a_one_written_stem_first_then_its_flag_is_a_one(recognizer):
    """A long flat flag on a slanted stem is a seven's shape: the image alone reads 7. Drawn stem
    first, then the flag from its top heading left, it is a one, alone and in a number."""
    strokes = [280 * np.array(s) for s in FLAGGED_ONE]
    image = np.asarray(render(FLAGGED_ONE, 280, 18))
    assert recognizer.predict(image).digit == 7
    given = recognizer.predict(image, strokes=strokes)
    assert given.digit == 1 and given.votes == [1] * 5  # each version's 7 is this one
    assert given.top3[1][0] == 7  # the network's reading, among the guesses
    number = number_strokes("2017", written={**DIGIT_STROKES, 1: FLAGGED_ONE})
    image, strokes = render(number, size=(1200, 300), pen=12), [300 * np.array(s) for s in number]
    assert recognizer.read_number(image).text == "2077"
    assert recognizer.read_number(image, strokes=strokes).text == "2017"


@pytest.mark.parametrize("index", [729, 746, 758, 754, 739, 709, 719])
def test_the_validation_writers_flagged_ones_are_read_from_their_stroke_order(recognizer, pen_digits, index):
    """Ones of the validation writers (apa), written stem first and flagged after: drawn with the
    app's pen, the network reads each as a 7, image or strokes."""
    assert (pen_digits.labels[index], pen_digits.sources[index]) == (1, "apa")
    rgba, placed = canvas_drawing(pen_digits.strokes[index], *PENS["app-pen"])
    assert recognizer.predict(rgba).digit == 7
    assert recognizer.predict(rgba, strokes=placed).digit == 1


SEVENS = {
    "one stroke": DIGIT_STROKES[7],
    "bar, then the stem": [[(0.28, 0.2), (0.72, 0.2)], [(0.72, 0.2), (0.45, 0.84)]],
    "crossed": [*DIGIT_STROKES[7], [(0.4, 0.52), (0.66, 0.52)]],
    "crossed, bar and stem apart": [[(0.28, 0.2), (0.72, 0.2)], [(0.72, 0.2), (0.45, 0.84)], [(0.4, 0.52), (0.66, 0.52)]],
    # after a steep stem, a stroke heading left in the upper half: only where it begins tells it from a flag
    "crossed leftward, bar apart": [[(0.28, 0.2), (0.72, 0.2)], [(0.72, 0.2), (0.45, 0.84)], [(0.66, 0.52), (0.4, 0.52)]],
}


@pytest.mark.parametrize("strokes", [*DIGIT_STROKES.values(), *SEVENS.values()], ids=[*map(str, DIGIT_STROKES), *SEVENS])
def test_only_a_one_is_written_stem_first_then_a_flag(strokes):
    assert flag_after_stem([np.array(s) for s in FLAGGED_ONE])
    assert not flag_after_stem([np.array(s) for s in strokes])
    flag_first = [list(reversed(FLAGGED_ONE[1])), FLAGGED_ONE[0]]  # the usual order: the flag, then down the stem
    assert not flag_after_stem([np.array(s) for s in flag_first])


def _seven() -> tuple[np.ndarray, list[np.ndarray]]:
    return np.asarray(render(DIGIT_STROKES[7], 280, 40)), [280 * np.array(s) for s in DIGIT_STROKES[7]]


def test_no_pen_drawn_digit_has_a_stroke_that_scribbles(pen_digits):
    """The Digit mode declines a drawing whose strokes all zigzag; no digit of the 9,157 has even one such stroke."""
    for strokes in pen_digits.strokes:
        height = float(np.ptp(np.concatenate(strokes)[:, 1]))
        assert not any(scribbled(np.asarray(points, dtype=np.float64), height) for points in strokes)


def test_a_colouring_in_is_no_digit_by_its_strokes(recognizer):
    """A tall rectangle coloured in is the shape of a 1 drawn with a pen half its height (the
    image alone reads 1); its stroke goes back and forth as no digit's does."""
    strokes = blob_strokes(0.3, 0.05, 0.7, 0.95)
    prediction = recognizer.predict(render(strokes, size=320, pen=20), strokes=in_pixels(strokes, 320))
    assert prediction.digit is None and prediction.status == "not a digit"


def test_strokes_of_another_drawing_are_not_used(recognizer):
    image, _ = _seven()
    one = [280 * np.array(s) for s in DIGIT_STROKES[1]]
    alone, given = recognizer.predict(image), recognizer.predict(image, strokes=one)
    assert given.digit == alone.digit == 7
    assert np.array_equal(given.image, alone.image)


def test_strokes_far_off_the_image_are_not_used(recognizer):
    image, _ = _seven()
    far = [np.array([[1e30, 1e30], [2e30, 3.0]])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" reached the caller
        given = recognizer.predict(image, strokes=far)
        assert recognizer.read_number(image, strokes=far).text == "7"
    assert np.array_equal(given.image, recognizer.predict(image).image)


def test_a_stroke_off_the_ink_is_left_out(recognizer):
    """A stroke where the image has no ink (a speck the reader dropped, a stale stroke) adds nothing."""
    image, seven = _seven()
    stray = np.array([[260.0, 270.0], [275.0, 272.0]])
    with_stray = recognizer.predict(image, strokes=[*seven, stray])
    assert np.array_equal(with_stray.image, recognizer.predict(image, strokes=seven).image)
    assert not np.array_equal(with_stray.image, recognizer.predict(image).image)  # the strokes were used
    assert with_stray.digit == 7


@pytest.mark.parametrize(
    ("strokes", "message"),
    [
        ([[1.0, 2.0, 3.0]], "stroke 0"),
        ([[(0, 0), (1, float("nan"))]], "not finite"),
        ([["a", "b"]], "stroke 0"),
        (5, "a list of strokes"),
        ("0,0 1,1", "a list of strokes"),
    ],
)
def test_bad_strokes_get_a_clear_error(recognizer, strokes, message):
    image, _ = _seven()
    with pytest.raises(ValueError, match=message):
        recognizer.predict(image, strokes=strokes)
