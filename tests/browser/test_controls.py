"""The Draw page's controls in a real browser: the empty state and Clear, the confidence threshold
slider (driven with the keyboard), and undoing a stroke."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from strokes import DIGIT_STROKES

from .canvas_helpers import (
    EMPTY_TEXT,
    UNSURE_TEXT,
    answer_locator,
    assert_no_exception,
    draw_strokes,
    find_canvas,
    page_text,
    read_answer,
    screenshot,
    wait_for_answer,
    wait_for_empty,
)
from .page_helpers import (
    THRESHOLD,
    app_button,
    click_and_wait,
    ink_pixels,
    press_on_slider,
    slider_value,
    toolbar_button,
    wait_for_history,
)

STROKE_PAUSE_MS = 700  # longer than the component's debounce: each stroke reaches the app on its own
# A 7 in two strokes, the stem first: the stem alone reads as something else (a 1, most likely), so
# undoing the bar must change the answer whatever the model.
SEVEN_STEM = [(0.72, 0.2), (0.45, 0.84)]
SEVEN_BAR = [(0.28, 0.2), (0.72, 0.2)]


def test_a_blank_canvas_shows_the_empty_state_and_clear_brings_it_back(page: Page):
    find_canvas(page)
    wait_for_empty(page)
    expect(page.locator('[data-testid="answer"]')).to_have_text(EMPTY_TEXT)
    assert ink_pixels(page) == 0, "the canvas of a new session is not blank"
    assert_no_exception(page)

    draw_strokes(page, DIGIT_STROKES[7])
    answer = wait_for_answer(page)
    assert re.fullmatch(r"[0-9]|Not sure", answer), f"not an answer: {answer!r}"
    assert ink_pixels(page) > 0

    click_and_wait(page, app_button(page, "Clear"))
    find_canvas(page)
    wait_for_empty(page)
    expect(page.locator('[data-testid="answer"]')).to_have_text(EMPTY_TEXT)
    assert ink_pixels(page) == 0, "Clear left ink on the canvas"
    assert_no_exception(page)

    draw_strokes(page, DIGIT_STROKES[1])  # the fresh canvas after Clear draws and answers too
    assert wait_for_answer(page) != EMPTY_TEXT


def test_the_threshold_slider_turns_an_answer_into_not_sure_and_back(page: Page):
    find_canvas(page)
    wait_for_empty(page)
    assert slider_value(page, THRESHOLD) == 0.5
    draw_strokes(page, DIGIT_STROKES[7])
    answer = wait_for_answer(page)
    assert answer == "7", f"drew a 7, the app reads {answer!r} at the default threshold.\nPage:\n{page_text(page)}"
    confidence = page.locator('[data-testid="confidence"]').inner_text()
    screenshot(page, "desktop-answered")

    assert press_on_slider(page, THRESHOLD, "End") == 1.0
    unsure = wait_for_answer(page, previous=answer)
    assert unsure == UNSURE_TEXT, (
        f"at threshold 1.0 the app still answers {unsure!r} ({confidence}): is the probability exactly 1.0 "
        f"(a float32 softmax saturates), which passes `confidence >= threshold`?\nPage:\n{page_text(page)}"
    )
    expect(page.locator('[data-testid="guesses"]')).to_contain_text("7")
    screenshot(page, "desktop-not-sure")

    assert press_on_slider(page, THRESHOLD, "Home") == 0.0
    assert wait_for_answer(page, previous=UNSURE_TEXT) == "7"
    assert_no_exception(page)


def _draw_seven_stroke_by_stroke(page: Page) -> tuple[str, int, str, int]:
    """Draw a 7 as two strokes, one at a time; return the answer and the ink after each."""
    find_canvas(page)
    wait_for_empty(page)
    draw_strokes(page, [SEVEN_STEM], pause_ms=STROKE_PAUSE_MS)
    wait_for_history(page, 1)  # each prediction adds a row: a sure sign the app has read this stroke
    one_stroke = wait_for_answer(page)
    one_ink = ink_pixels(page)
    draw_strokes(page, [SEVEN_BAR], pause_ms=STROKE_PAUSE_MS)
    wait_for_history(page, 2)
    both = wait_for_answer(page)
    both_ink = ink_pixels(page)
    assert both_ink > one_ink > 0, f"ink after one stroke {one_ink}, after two {both_ink}"
    return one_stroke, one_ink, both, both_ink


def test_undo_removes_the_last_stroke_from_the_canvas(page: Page):
    _, one_ink, both, both_ink = _draw_seven_stroke_by_stroke(page)
    assert both == "7", f"drew a 7 in two strokes, the app reads {both!r}.\nPage:\n{page_text(page)}"

    click_and_wait(page, app_button(page, "Undo"))
    find_canvas(page)
    page.wait_for_timeout(500)  # the remounted canvas redraws the remaining stroke
    ink = ink_pixels(page)
    assert 0 < ink < both_ink, f"after Undo the canvas has {ink} inked pixels; {both_ink} with both strokes, {one_ink} with one"
    assert abs(ink - one_ink) <= 0.1 * one_ink, f"after Undo {ink} inked pixels, the first stroke alone had {one_ink}"
    assert read_answer(page) != both, "after Undo the page still shows the two-stroke answer"
    expect(app_button(page, "Undo")).to_be_enabled()  # one stroke left to undo
    assert_no_exception(page)


def test_after_undo_the_answer_reads_the_remaining_stroke(page: Page):
    one_stroke, _, _, _ = _draw_seven_stroke_by_stroke(page)
    click_and_wait(page, app_button(page, "Undo"))
    find_canvas(page)
    try:
        shown = wait_for_answer(page, timeout=8_000)
    except AssertionError:
        shown = read_answer(page)
    assert shown == one_stroke, f"after Undo the page shows {shown!r}; the remaining stroke alone read {one_stroke!r}"


def test_the_canvas_toolbar_undo_rereads_the_remaining_stroke(page: Page):
    one_stroke, one_ink, both, _ = _draw_seven_stroke_by_stroke(page)
    if one_stroke == both:
        pytest.fail(f"the stem of a 7 alone already reads {one_stroke!r}: cannot tell an undo from no change")
    click_and_wait(page, toolbar_button(page, "Undo"))
    shown = wait_for_answer(page, previous=both)
    assert shown == one_stroke, f"after the toolbar's Undo the page shows {shown!r}; the first stroke alone read {one_stroke!r}"
    assert abs(ink_pixels(page) - one_ink) <= 0.1 * one_ink
    expect(answer_locator(page)).to_be_visible()
    assert_no_exception(page)
