"""The "Your predictions" history in a real browser: the table lists each answer, and "Download as
CSV" downloads one row per prediction."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from strokes import DIGIT_STROKES

from .canvas_helpers import assert_no_exception, draw_strokes, find_canvas, screenshot, wait_for_answer, wait_for_empty
from .page_helpers import app_button, canvas_model, click_and_wait, download_history_csv, wait_for_history


def test_two_predictions_are_listed_and_downloaded_as_csv(page: Page):
    find_canvas(page)
    wait_for_empty(page)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("Nothing yet")
    model = canvas_model(page)
    assert model, "the Draw page does not say which model it reads with"

    answers = []
    for count, digit in enumerate((7, 1), start=1):
        if count > 1:
            click_and_wait(page, app_button(page, "Clear"))
            find_canvas(page)
            wait_for_empty(page)
        draw_strokes(page, DIGIT_STROKES[digit])
        wait_for_history(page, count)
        answers.append(wait_for_answer(page))

    rows = wait_for_history(page, 2)
    assert len(rows) == 2, f"two drawings, {len(rows)} rows in the table: {rows}"
    shown = [row["answer"].lower() for row in reversed(rows)]  # the table lists the newest first
    assert shown == [a.lower() for a in answers], f"the page answered {answers}, the table lists {shown}"
    assert all(row["model"] == f"{model}.onnx" for row in rows), f"the table's model column: {rows}"
    assert all(row["drawing"].startswith("data:image/png") for row in rows), "a row has no thumbnail"
    screenshot(page, "desktop-history", full_page=True)

    csv_rows = download_history_csv(page)
    assert len(csv_rows) == 2, f"two predictions, {len(csv_rows)} rows in the CSV: {csv_rows}"
    assert list(csv_rows[0]) == ["time", "answer", "confidence", "top3", "model"], f"CSV columns: {list(csv_rows[0])}"
    assert [r["answer"].lower() for r in csv_rows] == [a.lower() for a in answers], f"answers {answers}, CSV {csv_rows}"
    for row, answer in zip(csv_rows, answers, strict=True):
        assert row["model"] == f"{model}.onnx"
        assert 0.0 <= float(row["confidence"]) <= 1.0
        best = row["top3"].split()[0].split(":")[0]
        assert answer.lower() == "not sure" or best == answer, f"answer {answer}, top 3 {row['top3']}"
    assert_no_exception(page)
