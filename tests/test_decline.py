"""Knowing when it does not know: what is plainly no digit is declined, real digits are still read.

The drawings are made as the app's canvas makes them (320 px, #111111 ink, pen 20, on white or
transparent) unless a test says otherwise, and go through the shipped model at the default
threshold, as the app and the command line send them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digitrec import pen
from digitrec.preprocess import preprocess
from digitrec.shape import not_a_digit
from digitrec.strokes import draw_strokes
from strokes import DIGIT_STROKES, DOT_STROKES, LINE_STROKES, blob_strokes, in_pixels, number_strokes, render, scribble_strokes

APP_INK = (17, 17, 17, 255)
WHITE, TRANSPARENT = (255, 255, 255, 255), (0, 0, 0, 0)

# What each mark is, and what the shape check must call it (with the app's pen).
MARKS = {
    "dot": (DOT_STROKES, "a dot or a blob"),
    "line across the canvas": (LINE_STROKES, "a line"),
    "tilted line": ([[(0.08, 0.4), (0.92, 0.6)]], "a line"),
    "short dash": ([[(0.35, 0.5), (0.65, 0.5)]], "a line"),
    "coloured-in blob": (blob_strokes(), "a dot or a blob"),
    # As wide again as it is tall: the network reads it as a 0 (99%), and its thinnest way across is
    # one pen stroke (the widest disc inside it), as a line's is, but it is no line.
    "coloured-in band lying down": (blob_strokes(0.15, 0.3, 0.85, 0.7), "a dot or a blob"),
    **{f"scribble {seed}": (scribble_strokes(seed), "a scribble") for seed in range(4)},
}


def app_canvas(
    strokes: list[list[tuple[float, float]]], size: int = 320, pen_width: int = 20, background: tuple[int, ...] = WHITE
) -> np.ndarray:
    """An RGBA canvas as the browser hands it over."""
    return np.asarray(render(strokes, size, pen_width, ink=APP_INK, background=background))


@pytest.mark.parametrize("background", [WHITE, TRANSPARENT], ids=["white", "transparent"])
@pytest.mark.parametrize("mark", MARKS)
def test_marks_that_are_no_digit_are_declined(recognizer, mark, background):
    strokes, what = MARKS[mark]
    canvas = app_canvas(strokes, background=background)
    assert not_a_digit(preprocess(canvas).ink) == what
    prediction = recognizer.predict(canvas)
    assert prediction.digit is None and prediction.status == "not a digit"
    assert len(prediction.top3) == 3  # the network's guesses are still there to show


@pytest.mark.parametrize("pen_width", [10, 40])
@pytest.mark.parametrize("mark", MARKS)
def test_marks_are_declined_with_a_thin_or_fat_pen(recognizer, mark, pen_width):
    """The app's pen slider goes from 4 to 40; a fat pen turns a scribble into a blob, still declined."""
    prediction = recognizer.predict(app_canvas(MARKS[mark][0], pen_width=pen_width))
    assert prediction.digit is None and prediction.status == "not a digit"


def test_a_scribble_with_a_stylus_on_a_big_canvas_is_declined(recognizer):
    prediction = recognizer.predict(app_canvas(scribble_strokes(7), size=600, pen_width=3))
    assert prediction.digit is None and prediction.status == "not a digit"


@pytest.mark.parametrize("box", [(0.1, 0.1, 0.9, 0.9), (0.05, 0.2, 0.95, 0.8)], ids=["square", "wide"])
def test_a_canvas_coloured_in_over_most_of_it_is_a_blob(recognizer, box):
    """Ink over most of the canvas is the median level: from the image alone the margins are the
    ink, and it read "nothing drawn" (square) or, in Number mode, "53" (wide). Its strokes say
    which level is ink."""
    strokes = blob_strokes(*box)
    canvas, pixels = app_canvas(strokes), in_pixels(strokes, 320)
    assert recognizer.predict(canvas, strokes=pixels).status == "not a digit"
    assert recognizer.read_number(canvas, strokes=pixels).not_a_number == "a dot or a blob"


def test_stale_strokes_do_not_make_the_background_ink(recognizer):
    """A band coloured in along the bottom, strokes along the top: the level farthest from the
    strokes is the band's, and the strokes lie on what that calls ink, but do not cover it (it is
    most of the canvas): the image is read as it is without them."""
    canvas = app_canvas(blob_strokes(0.0, 0.88, 1.0, 1.0), pen_width=25)
    stale = [np.stack([np.linspace(10.0, 310.0, 30), np.full(30, 10.0)], axis=1)]
    alone = recognizer.predict(canvas)
    assert alone.status == "not a digit" and alone.box[1] > 250
    assert recognizer.predict(canvas, strokes=stale).box == alone.box


TALL_THIN_ONE = [[(0.5, 0.1), (0.5, 0.9)]]


@pytest.mark.parametrize(
    ("name", "strokes", "digit", "size", "pen_width"),
    [
        ("a tall thin 1, fine pen", TALL_THIN_ONE, 1, 320, 4),
        ("a tall thin 1, stylus on a big canvas", TALL_THIN_ONE, 1, 600, 3),
        ("a tall 1, the app's pen", TALL_THIN_ONE, 1, 320, 20),
        ("a 1 with a flag, fat pen", DIGIT_STROKES[1], 1, 320, 40),
        ("a 0, fat pen", DIGIT_STROKES[0], 0, 320, 40),
        ("a 0, finger on a small canvas", DIGIT_STROKES[0], 0, 200, 30),
        ("an 8, fat pen", DIGIT_STROKES[8], 8, 320, 40),
        ("a 7, stylus", DIGIT_STROKES[7], 7, 600, 3),
        ("a 2, the app's pen", DIGIT_STROKES[2], 2, 320, 20),
        ("a 4, the app's pen", DIGIT_STROKES[4], 4, 320, 20),
    ],
)
def test_drawn_digits_are_still_read(recognizer, name, strokes, digit, size, pen_width):
    canvas = app_canvas(strokes, size=size, pen_width=pen_width)
    assert not_a_digit(preprocess(canvas).ink) is None, name
    prediction = recognizer.predict(canvas)
    assert prediction.status == "ok" and prediction.digit == digit, name


def test_no_mnist_test_digit_is_called_no_digit(mnist_test):
    """The shape rules alone, on every other MNIST test digit (bold, thin, broken, slanted)."""
    declined = [i for i in range(0, len(mnist_test.images), 2) if not_a_digit(preprocess(mnist_test.images[i]).ink)]
    assert declined == []


@pytest.mark.parametrize(("canvas", "pen_width"), [(320, 20), (600, 3), (200, 30)], ids=["app-pen", "stylus", "finger"])
def test_no_pen_drawn_digit_is_called_no_digit(canvas, pen_width):
    """The shape rules alone, on every 25th real pen-drawn digit (UNIPEN), with three pens."""
    digits = pen.load_pen_digits()
    declined = []
    for i in range(0, len(digits), 25):
        coverage = draw_strokes(digits.strokes[i], canvas=canvas, pen=pen_width, size=0.7)
        if not_a_digit(preprocess(coverage).ink) is not None:
            declined.append(i)
    assert declined == []


def _app_answer(root: str, path: str, threshold: float) -> None:
    import sys

    sys.path.insert(0, root)  # as `streamlit run app.py` does: webapp/ beside app.py is importable
    from webapp.draw import _show_answer

    from digitrec.recognize import Recognizer

    _show_answer(Recognizer().predict(path), threshold)


@pytest.mark.parametrize("threshold", [0.5, 0.0])
def test_the_app_says_not_a_digit_whatever_the_threshold(tmp_path, threshold):
    path = tmp_path / "dot.png"
    render(DOT_STROKES, 320, 20, ink=APP_INK).save(path)
    root = str(Path(__file__).resolve().parents[1])
    app = AppTest.from_function(_app_answer, args=(root, str(path), threshold), default_timeout=60).run()
    assert not app.exception
    answers = [h.body for h in app.get("html") if 'data-testid="answer"' in h.body]
    assert answers == ['<div class="answer-unsure" data-testid="answer">Not a digit</div>']


def test_the_command_line_declines_a_blob(tmp_path):
    path = tmp_path / "blob.png"
    render(blob_strokes(), 320, 20, ink=APP_INK).save(path)
    command = [sys.executable, "-m", "digitrec.cli", "predict"]
    result = subprocess.run([*command, "--json", str(path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["digit"] is None and answer["status"] == "not a digit"
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and f"{path}: not a digit" in result.stdout


def _number_canvas(digits: str, gap: float) -> np.ndarray:
    """Several digits side by side on the app's digit canvas, written small to fit."""
    strokes = number_strokes(digits, gap=gap)
    width = max(x for stroke in strokes for x, _ in stroke) + 0.1
    scale = min(1.0, 1.0 / width)
    return app_canvas([[(x * scale, 0.5 + (y - 0.5) * scale) for x, y in stroke] for stroke in strokes])


@pytest.mark.parametrize(("digits", "gap"), [("42", 0.3), ("2026", 0.3), ("17", 0.4), ("305", 0.2), ("99", 0.3)])
def test_several_digits_where_one_is_asked_for_are_declined(recognizer, digits, gap):
    """Read as one digit, "2026" was a 0 (60%, status ok): a confident wrong answer."""
    prediction = recognizer.predict(_number_canvas(digits, gap))
    assert prediction.digit is None and prediction.status == "several digits"
    assert len(prediction.top3) == 3
    assert prediction.number == digits
    assert recognizer.read_number(_number_canvas(digits, gap)).text == digits


@pytest.mark.parametrize("digit", range(10))
def test_one_digit_is_never_several(recognizer, digit):
    for pen_width in (4, 20, 40):
        prediction = recognizer.predict(app_canvas(DIGIT_STROKES[digit], pen_width=pen_width))
        assert prediction.status == "ok" and prediction.digit == digit


@pytest.mark.parametrize("pen_width", [8, 20])
def test_a_4_whose_bar_stops_short_of_its_stem_is_still_a_4(recognizer, pen_width):
    """Two pieces side by side, but one much shorter: a way of writing a 4 (UNIPEN has it), not two digits."""
    corner, stem = [(0.3, 0.25), (0.28, 0.6), (0.52, 0.6)], [(0.66, 0.18), (0.66, 0.86)]
    prediction = recognizer.predict(app_canvas([corner, stem], pen_width=pen_width))
    assert prediction.status == "ok" and prediction.digit == 4


def test_the_command_line_says_several_digits_and_points_to_number(tmp_path):
    path = tmp_path / "year.png"
    Image.fromarray(_number_canvas("2026", 0.3)).save(path)
    command = [sys.executable, "-m", "digitrec.cli", "predict"]
    answer = json.loads(subprocess.run([*command, "--json", str(path)], capture_output=True, text=True, timeout=600).stdout)
    assert answer["digit"] is None and answer["status"] == "several digits"
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and f"{path}: several digits side by side (read them with --number)" in result.stdout
