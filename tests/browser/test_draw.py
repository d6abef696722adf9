"""The Draw page in a real browser: it loads, asks for a digit, and reads digits drawn with a
mouse on a desktop and with a finger on a phone."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from strokes import DIGIT_STROKES, FLAGGED_ONE, blob_strokes, number_strokes

from .canvas_helpers import (
    answer_locator,
    assert_no_exception,
    draw_strokes,
    find_canvas,
    fit_to_canvas,
    page_text,
    screenshot,
    touch_draw,
    wait_for_answer,
    wait_for_empty,
)
from .page_helpers import press_on_slider, wait_for_history

# Counts the pointer events the canvas receives, by pointer type, in window.__digitrecPointers.
_COUNT_POINTERS_JS = """
canvas => {
  window.__digitrecPointers = {};
  for (const type of ['pointerdown', 'pointermove', 'pointerup']) {
    canvas.addEventListener(type, e => {
      const key = e.pointerType || 'unknown';
      window.__digitrecPointers[key] = (window.__digitrecPointers[key] || 0) + 1;
    }, {capture: true});
  }
}
"""


def test_page_loads_and_asks_for_a_digit(page: Page, timings: dict[str, float]):
    start = time.monotonic()
    find_canvas(page)
    timings["desktop: page open to canvas ready (s)"] = round(time.monotonic() - start, 2)
    wait_for_empty(page)
    expect(answer_locator(page)).to_be_visible()
    assert_no_exception(page)
    screenshot(page, "desktop-empty")


@pytest.mark.parametrize("digit", [7, 0, 1])
def test_a_digit_drawn_with_the_mouse_is_read(page: Page, digit: int, timings: dict[str, float]):
    find_canvas(page)
    wait_for_empty(page)
    draw_strokes(page, DIGIT_STROKES[digit])
    pen_up = time.monotonic()
    answer = wait_for_answer(page)
    timings[f"desktop: mouse up to answer, digit {digit} (s)"] = round(time.monotonic() - pen_up, 2)
    assert_no_exception(page)
    screenshot(page, f"desktop-answered-{digit}")
    assert answer == str(digit), f"drew a {digit}, the app reads {answer!r}.\nPage:\n{page_text(page)}"


# A 4 of the UNIPEN writers apa (#749), 70% of the canvas: drawn with the widest pen, its ink alone
# is declined as no digit (the fat pen fills its angles in); its strokes read as a 4.
FAT_PEN_FOUR_STEM = [(0.544, 0.369), (0.456, 0.369), (0.412, 0.456), (0.412, 0.5), (0.369, 0.631), (0.369, 0.806), (0.369, 0.85)]
FAT_PEN_FOUR_ARM = [(0.456, 0.194), (0.456, 0.15), (0.412, 0.194), (0.412, 0.237), (0.325, 0.412), (0.325, 0.5)]
FAT_PEN_FOUR = [[*FAT_PEN_FOUR_ARM, (0.412, 0.544), (0.5, 0.588), (0.588, 0.588), (0.675, 0.544)], FAT_PEN_FOUR_STEM]


def test_a_digit_drawn_with_the_widest_pen_is_read_from_its_strokes(page: Page):
    find_canvas(page)
    wait_for_empty(page)
    assert press_on_slider(page, "Pen width", "End") == 40
    draw_strokes(page, FAT_PEN_FOUR[:1])
    first = wait_for_answer(page)  # each stroke is read as it is drawn: the first alone is no 4
    draw_strokes(page, FAT_PEN_FOUR[1:])
    answer = wait_for_answer(page, previous=first)
    assert_no_exception(page)
    screenshot(page, "desktop-widest-pen-4")
    assert answer == "4", f"drew a 4 with the widest pen, the app reads {answer!r}.\nPage:\n{page_text(page)}"


def test_a_one_written_stem_first_then_its_flag_is_a_one(page: Page):
    """A long flat flag on a slanted stem is a seven's shape (the image alone reads 7); the page
    passes its strokes in the order drawn, the stem first, and reads a 1."""
    find_canvas(page)
    wait_for_empty(page)
    draw_strokes(page, FLAGGED_ONE[:1])
    wait_for_history(page, 1)  # every reading is listed: the stem alone, then the stem and its flag
    draw_strokes(page, FLAGGED_ONE[1:])
    newest = wait_for_history(page, 2)[0]
    answer = wait_for_answer(page)
    assert_no_exception(page)
    assert newest["answer"] == answer == "1", f"drew a flagged 1, the app reads {answer!r}.\nPage:\n{page_text(page)}"


def test_a_canvas_coloured_in_is_not_a_digit(page: Page):
    """Ink over most of the canvas is the commoner level: read from the image alone the margins
    were the ink and the page said nothing was drawn. Its strokes say which is ink."""
    find_canvas(page)
    wait_for_empty(page)
    assert press_on_slider(page, "Pen width", "End") == 40
    draw_strokes(page, blob_strokes(0.1, 0.1, 0.9, 0.9, step=0.08))
    answer = wait_for_answer(page)
    assert_no_exception(page)
    screenshot(page, "desktop-coloured-in")
    assert answer == "Not a digit", f"coloured the canvas in, the app reads {answer!r}.\nPage:\n{page_text(page)}"


def test_a_number_drawn_where_one_digit_is_asked_for_is_several_digits(page: Page):
    """Not a confident wrong digit: the page says several digits and points to Number mode."""
    find_canvas(page)
    wait_for_empty(page)
    smaller = [[(0.7 * x, 0.1 + 0.7 * y) for x, y in stroke] for stroke in number_strokes("42", gap=0.3)]
    draw_strokes(page, fit_to_canvas(smaller, 1.0))
    answer = wait_for_answer(page, accept=lambda text: text.lower() == "several digits")
    assert_no_exception(page)
    assert answer == "Several digits"
    expect(page.get_by_test_id("number-read")).to_have_text("Read as a number: 42")
    assert "switch the mode to Number" in page_text(page)


def test_on_a_phone_the_canvas_and_answer_show_and_a_finger_draws(phone_page: Page, timings: dict[str, float]):
    page = phone_page
    canvas = find_canvas(page)
    box, width = canvas.bounding_box(), page.viewport_size["width"]
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"the canvas {box} overflows the {width}px screen"
    wait_for_empty(page)
    answer = answer_locator(page)
    answer.scroll_into_view_if_needed()
    expect(answer).to_be_visible()
    assert_no_exception(page)
    screenshot(page, "phone-empty", full_page=True)

    canvas.evaluate(_COUNT_POINTERS_JS)
    touch_draw(page, DIGIT_STROKES[7], canvas)
    finger_up = time.monotonic()
    read = wait_for_answer(page)
    timings["phone: finger up to answer, digit 7 (s)"] = round(time.monotonic() - finger_up, 2)
    pointers = page.evaluate("window.__digitrecPointers")
    assert pointers.get("touch", 0) > 10 and not pointers.get("mouse"), f"not drawn by touch: pointer events {pointers}"
    assert_no_exception(page)
    answer_locator(page).scroll_into_view_if_needed()
    screenshot(page, "phone-answered-7", full_page=True)
    assert read == "7", f"drew a 7 with a finger, the app reads {read!r}.\nPage:\n{page_text(page)}"
