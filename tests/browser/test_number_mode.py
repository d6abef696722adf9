"""The Draw page's Number mode in a real browser: a user picks "Number", writes a three-digit number
with the mouse on the wide canvas, reads it back whole and digit by digit (one box and one answer
per digit), and Clear empties it again; digits written into one another are read apart, by the
strokes the canvas hands over; a scribble is no number."""

from __future__ import annotations

import time

import numpy as np
from playwright.sync_api import FloatRect, Locator, Page, expect

from digitrec.recognize import Recognizer
from strokes import number_strokes, render, scribble_strokes

from .canvas_helpers import (
    NUMBER_EMPTY_TEXT,
    answer_locator,
    assert_no_exception,
    draw_strokes,
    find_canvas,
    fit_to_canvas,
    page_text,
    screenshot,
    wait_for_answer,
    wait_for_empty,
)
from .page_helpers import app_button, choose_segment, click_and_wait, ink_pixels, segment

NUMBER = "307"  # digits the committed models read surely whatever the pen width, spacing or size
GAP = 0.3  # between the digits' boxes, in canvas heights: well spaced, so no cut is needed
INTO_ONE_ANOTHER = -0.05  # the digits' pen paths overlap by this much of the canvas height
BOXES_CAPTION = "Each digit found"

# Counts the boxes drawn around the digits in the picture of the drawing: the pen (#4f46e5) draws
# each box's two sides as columns of that colour at least a quarter of the picture tall, which
# its labels ("3 100%") and the black ink never are. The picture is a JPEG: colours are near.
_COUNT_BOXES_JS = """
img => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const tall = canvas.height / 4;
  let sides = 0, inSide = false;
  for (let x = 0; x < canvas.width; x++) {
    let n = 0;
    for (let y = 0; y < canvas.height; y++) {
      const i = 4 * (y * canvas.width + x);
      if (Math.abs(data[i] - 79) < 60 && Math.abs(data[i + 1] - 70) < 60 && data[i + 2] > 170) n++;
    }
    if (n >= tall && !inSide) sides++;
    inSide = n >= tall;
  }
  return sides / 2;
}
"""


def _open_number_mode(page: Page) -> tuple[Locator, FloatRect]:
    """Switch the Draw page to Number mode and wait for its empty answer: its canvas and the canvas's box."""
    find_canvas(page)
    choose_segment(page, "Mode", "Number")
    wait_for_empty(page, empty=NUMBER_EMPTY_TEXT)
    canvas = find_canvas(page)
    box = canvas.bounding_box()
    assert box
    return canvas, box


def test_a_number_written_with_the_mouse_is_read_digit_by_digit(page: Page, timings: dict[str, float]):
    canvas, box = _open_number_mode(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Draw a number")
    assert box["width"] >= 2 * box["height"], f"Number mode's canvas is not the wide one: {box}"

    draw_strokes(page, fit_to_canvas(number_strokes(NUMBER, gap=GAP), box["width"] / box["height"]), canvas)
    pen_up = time.monotonic()
    answer = wait_for_answer(page, timeout=60_000, empty=NUMBER_EMPTY_TEXT, accept=lambda text: len(text) == len(NUMBER))
    timings[f"desktop: mouse up to answer, number {NUMBER} (s)"] = round(time.monotonic() - pen_up, 2)
    assert_no_exception(page)
    screenshot(page, f"number-answered-{NUMBER}", full_page=True)
    assert answer == NUMBER, f"wrote {NUMBER}, the app reads {answer!r}.\nPage:\n{page_text(page)}"

    digits = [text.split()[0] for text in page.get_by_test_id("number-digit").all_inner_texts()]
    assert digits == list(NUMBER), f"wrote {NUMBER}, the page lists the digits {digits}.\nPage:\n{page_text(page)}"
    picture = page.get_by_test_id("stImage").filter(has_text=BOXES_CAPTION).locator("img")
    expect(picture).to_be_visible()
    picture.evaluate("img => img.decode()")
    boxes = picture.evaluate(_COUNT_BOXES_JS)
    assert boxes == len(NUMBER), f"wrote {NUMBER}, the picture of the drawing shows {boxes} boxes"

    click_and_wait(page, app_button(page, "Clear"))
    wait_for_empty(page, empty=NUMBER_EMPTY_TEXT)
    expect(segment(page, "Mode", "Number")).to_be_checked()
    expect(page.get_by_role("heading", level=1)).to_have_text("Draw a number")
    expect(answer_locator(page)).to_have_text(NUMBER_EMPTY_TEXT)
    expect(page.get_by_test_id("number-digit")).to_have_count(0)
    expect(page.get_by_test_id("stImage").filter(has_text=BOXES_CAPTION)).to_have_count(0)
    assert ink_pixels(page) == 0, "Clear left ink on the canvas"
    assert_no_exception(page)
    screenshot(page, "number-cleared")


def test_digits_written_into_one_another_are_read_apart_by_their_strokes(page: Page, recognizer: Recognizer):
    canvas, box = _open_number_mode(page)
    strokes = fit_to_canvas(number_strokes(NUMBER, gap=INTO_ONE_ANOTHER), box["width"] / box["height"])

    # The premise: the same drawing as an image alone (the pen is the app's 20 px) reads otherwise.
    size = (round(box["width"]), round(box["height"]))
    in_pixels = [np.array(stroke) * size for stroke in strokes]
    image = render([[tuple(p) for p in stroke] for stroke in in_pixels], size=size, pen=20, scale=1 / min(size))
    assert recognizer.read_number(image).text != NUMBER

    draw_strokes(page, strokes, canvas)
    # Read after every stroke: as many digits as written once the last is drawn, or the last answer shown.
    answer = wait_for_answer(page, timeout=30_000, empty=NUMBER_EMPTY_TEXT, accept=lambda text: len(text) == len(NUMBER))
    assert_no_exception(page)
    screenshot(page, f"number-into-one-another-{NUMBER}", full_page=True)
    assert answer == NUMBER, f"wrote {NUMBER} with the digits overlapping, the app reads {answer!r}.\nPage:\n{page_text(page)}"


def test_a_scribble_is_no_number(page: Page):
    """Zigzags back and forth across the wide canvas are read as no digits, and the page says so
    (it read them as digits, and then showed "Draw a number" as if nothing were drawn)."""
    canvas, box = _open_number_mode(page)
    scribble = [[(1.5 * x, y) for x, y in stroke] for stroke in scribble_strokes(seed=0, strokes=4, turns=20)]
    draw_strokes(page, fit_to_canvas(scribble, box["width"] / box["height"]), canvas)
    answer = wait_for_answer(page, timeout=30_000, empty=NUMBER_EMPTY_TEXT, accept=lambda text: not text[:1].isdigit())
    assert_no_exception(page)
    assert answer == "No digits found", f"scribbled, the app reads {answer!r}.\nPage:\n{page_text(page)}"
    expect(page.get_by_test_id("number-digit")).to_have_count(0)
