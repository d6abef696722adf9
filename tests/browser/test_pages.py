"""The Model and Train pages in a real browser, the model picker, and no exception anywhere.

The Model page scores each model on the 10,000 MNIST test digits on its first visit (cached by
the server afterwards), so the first test to open it waits longer. The comparison test needs two
models beside $DIGITREC_MODEL (the repository ships digitrec and original) and fails, never skips,
when there are fewer."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from strokes import DIGIT_STROKES

from .canvas_helpers import (
    assert_no_exception,
    draw_strokes,
    find_canvas,
    page_text,
    screenshot,
    touch_draw,
    wait_for_answer,
    wait_for_empty,
    wait_for_render,
)
from .page_helpers import (
    SLOW_PAGE_MS,
    canvas_model,
    go_to,
    model_options,
    models_message,
    open_draw_page,
    pick_model,
    picked_model,
    wait_for_history,
)

METRICS = ["Test accuracy", "With test-time augmentation", "Parameters", "Size"]
MISTAKE_CAPTION = re.compile(r"^[0-9] read as [0-9]$")


def _main(page: Page):
    return page.locator('[data-testid="stMain"]')


def _open_model_page(page: Page) -> None:
    find_canvas(page)
    go_to(page, "Model", timeout=SLOW_PAGE_MS)
    heading = _main(page).get_by_role("heading", name="The model")
    expect(heading).to_be_visible(timeout=SLOW_PAGE_MS)
    mistakes = _main(page).get_by_text("The test digits it gets wrong")
    try:
        mistakes.wait_for(timeout=SLOW_PAGE_MS)
    except Exception as e:
        raise AssertionError(
            f"the Model page shows no mistakes grid (is MNIST there? $DIGITREC_DATA).\nPage:\n{page_text(page)}"
        ) from e
    wait_for_render(page, SLOW_PAGE_MS)


def test_the_model_page_shows_metrics_charts_and_mistakes(page: Page):
    _open_model_page(page)
    main = _main(page)
    assert_no_exception(page)

    metrics = main.locator('[data-testid="stMetric"]')
    labels = [t.strip() for t in metrics.locator('[data-testid="stMetricLabel"]').all_inner_texts()]
    assert labels[:4] == METRICS, f"metrics shown: {labels}"
    values = [t.strip() for t in metrics.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    assert re.fullmatch(r"\d{2,3}\.\d\d%", values[0]), f"test accuracy shown as {values[0]!r}"
    assert float(values[0].rstrip("%")) > 90, f"test accuracy {values[0]}"

    charts = main.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() >= 1, "no Vega chart (accuracy per digit) on the Model page"
    expect(charts.first.locator("canvas, svg").first).to_be_attached()
    images = main.locator('[data-testid="stImage"] img')
    assert images.count() >= 1, "no image (confusion matrix) on the Model page"
    confusion = images.first
    assert confusion.evaluate("img => img.complete && img.naturalWidth > 100"), "the confusion matrix image did not load"

    heading = main.locator('[data-testid="stMarkdownContainer"]').filter(has_text="The test digits it gets wrong")
    heading = heading.last.inner_text()
    wrong = int(re.search(r"\((\d[\d,]*) of", heading).group(1).replace(",", ""))
    captions = [c.strip() for c in main.locator('[data-testid="stImageCaption"]').all_inner_texts()]
    mistakes = [c for c in captions if MISTAKE_CAPTION.match(c)]
    assert len(mistakes) == min(wrong, 32), f"{wrong} mistakes, {len(mistakes)} shown in the grid: {captions[:40]}"
    for caption in mistakes:
        true, read = caption.split(" read as ")
        assert true != read, f"a 'mistake' that is right: {caption!r}"
    screenshot(page, "model-page", full_page=True)


def test_two_models_are_compared_and_the_picked_one_reads_the_canvas(page: Page):
    find_canvas(page)
    options = model_options(page)
    assert len(options) >= 2, models_message(options)
    current = picked_model(page)
    other = "original" if "original" in options and current != "original" else next(o for o in options if o != current)

    _open_model_page(page)
    comparison = _main(page).get_by_role("heading", name="Compare models")
    expect(comparison).to_be_visible(timeout=SLOW_PAGE_MS)
    table = _main(page).locator('[data-testid="stDataFrame"]')
    expect(table.first).to_be_visible()
    cells = table.first.locator('[role="gridcell"]')
    for name in options:  # the grid fills its accessible cells a moment after it is drawn
        expect(cells.filter(has_text=re.compile(rf"^{re.escape(name)}$"))).not_to_have_count(0)
    assert_no_exception(page)
    comparison.scroll_into_view_if_needed()
    wait_for_render(page, SLOW_PAGE_MS)
    screenshot(page, "model-comparison")

    pick_model(page, other)
    expect(_main(page).get_by_role("heading", name=other, exact=True)).to_be_visible(timeout=SLOW_PAGE_MS)
    assert_no_exception(page)

    open_draw_page(page)
    wait_for_empty(page)
    assert picked_model(page) == other, "the sidebar forgot the picked model on the way to the Draw page"
    assert canvas_model(page) == other, f"the Draw page reads with {canvas_model(page)!r}, not {other!r}"
    expect(_main(page)).to_contain_text(f"Reading with the model {other}")
    draw_strokes(page, DIGIT_STROKES[7])
    wait_for_history(page, 1)
    answer = wait_for_answer(page)
    rows = wait_for_history(page, 1)
    assert rows[0]["model"] == f"{other}.onnx", f"the prediction was made with {rows[0]['model']!r}, not {other}.onnx"
    assert rows[0]["answer"].lower() == answer.lower()
    assert_no_exception(page)
    screenshot(page, f"desktop-answered-with-{other}")


def test_no_page_shows_an_exception(page: Page):
    find_canvas(page)
    wait_for_empty(page)
    assert_no_exception(page)
    draw_strokes(page, DIGIT_STROKES[3])
    wait_for_answer(page)
    assert_no_exception(page)

    go_to(page, "Model", timeout=SLOW_PAGE_MS)
    expect(_main(page).get_by_role("heading", name="The model")).to_be_visible(timeout=SLOW_PAGE_MS)
    wait_for_render(page, SLOW_PAGE_MS)
    assert_no_exception(page)

    go_to(page, "Train")
    expect(_main(page).get_by_role("heading", name="Train a model")).to_be_visible()
    expect(_main(page).get_by_role("button", name=re.compile(r"^(Retrain|Train a model)$"))).to_be_enabled()
    expect(_main(page).get_by_text("Network")).to_be_visible()
    assert_no_exception(page)
    screenshot(page, "train-page", full_page=True)

    open_draw_page(page)
    wait_for_empty(page)
    assert_no_exception(page)


def test_on_a_phone_the_pages_fit_and_show_no_exception(phone_page: Page):
    page = phone_page
    canvas = find_canvas(page)
    wait_for_empty(page)
    touch_draw(page, DIGIT_STROKES[2], canvas)
    wait_for_answer(page)
    assert_no_exception(page)
    screenshot(page, "phone-answered", full_page=True)

    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the Draw page is {overflow}px wider than the phone's screen"

    # On a phone the sidebar is collapsed: open pages by URL (a new session, which is fine here).
    url = page.url.split("?")[0].rstrip("/")
    for path, heading in (("model", "The model"), ("train", "Train a model")):
        page.goto(f"{url}/{path}", wait_until="domcontentloaded")
        expect(_main(page).get_by_role("heading", name=heading)).to_be_visible(timeout=SLOW_PAGE_MS)
        wait_for_render(page, SLOW_PAGE_MS)
        assert_no_exception(page)
        screenshot(page, f"phone-{path}-page", full_page=True)
