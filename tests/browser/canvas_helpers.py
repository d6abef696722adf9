"""Helpers for driving the digitrec page in a real browser: find the drawing canvas, draw on it
with real mouse or touch input, read the answer, and check that Streamlit shows no exception.

DOM facts these rely on (streamlit-drawable-canvas 0.13.0, Streamlit 1.67):

* The canvas is a Streamlit *v2* component: it is rendered inline, not in an iframe, inside an
  open shadow root hosted by ``[data-testid="stBidiComponentIsolated"]`` (``isolate_styles=True``).
  Playwright's CSS engine pierces open shadow roots, so plain CSS selectors reach it.
* fabric.js renders three ``<canvas>`` elements: ``canvas.dc-background-canvas`` (background),
  ``canvas.lower-canvas`` (the drawing) and ``canvas.upper-canvas`` (on top, receives the pointer
  events). We draw on the upper one.
* The element container carries the widget key as a class, ``st-key-<key>`` (for example
  ``st-key-canvas`` or ``st-key-canvas-0`` when the key embeds a version counter).
* After the pen is lifted the component sends the drawing to Python (debounced ~200 ms), the
  script reruns and the answer column updates.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

Point = tuple[float, float]
Strokes = Sequence[Sequence[Point]]

CANVAS = "canvas.upper-canvas"
EMPTY_TEXT = "Draw a digit"
NUMBER_EMPTY_TEXT = "Draw a number"  # the answer area's text in Number mode before anything is drawn
UNSURE_TEXT = "Not sure"
STEP_PX = 4.0  # pointer moves are interpolated so no two events are further apart than this

# Finds the answer text on the page. Prefers an explicit `data-testid="answer"` element; else the
# last heading-like leaf in the main area whose whole text is a digit, "Not sure" or "Draw a digit",
# skipping widgets (slider tick labels like "4", the sidebar, charts) and the page title (the first
# h1). Streamlit headings hold an anchor link, so an h1..h6 counts even with children.
_READ_ANSWER_JS = """
() => {
  const tagged = document.querySelector('[data-testid="answer"]');
  if (tagged) return tagged.innerText.trim();
  const re = /^([0-9]|not sure|draw a digit)$/i;
  const skip = '[data-testid="stSlider"], [data-testid="stSidebar"], [data-testid="stDataFrame"],'
             + ' [data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"], [role="slider"],'
             + ' [data-testid="stCaptionContainer"], [data-testid="stImageCaption"]';
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const title = main.querySelector('h1');
  const found = [];
  for (const el of main.querySelectorAll('h1, h2, h3, h4, h5, h6, p, div, span')) {
    if (el.children.length > 0 && !/^H[1-6]$/.test(el.tagName)) continue;
    if (el.closest(skip)) continue;
    const text = (el.innerText || '').trim();
    if (!re.test(text)) continue;
    if (title && title.contains(el) && !/^[0-9]$/.test(text)) continue;
    found.push(text);
  }
  return found.length ? found[found.length - 1] : null;
}
"""


REPO = Path(__file__).resolve().parents[2]


def artifacts_path() -> Path:
    """$DIGITREC_ARTIFACTS, else artifacts/ at the repository root; created if missing."""
    path = Path(os.environ.get("DIGITREC_ARTIFACTS") or REPO / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "screenshot"


_RENDERED_JS = """
() => !document.querySelector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], [data-testid="stAppSkeleton"]')
      && [...document.images].every(img => img.complete)
"""


def wait_for_render(page: Page, timeout: float = 10_000) -> bool:
    """Wait until the script run is over and Streamlit has drawn every element: no loading
    skeletons (charts, images and tables show one for a moment after the run), images loaded.
    Returns False instead of failing when that takes longer than `timeout`."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        if not is_running(page) and page.evaluate(_RENDERED_JS):
            return True
        page.wait_for_timeout(50)
    return False


def screenshot(page: Page, name: str, full_page: bool = False, settle: bool = True) -> Path:
    """Save a PNG of the page as <artifacts>/<name>.png and return its path. With `settle`, first
    wait (up to 10 s) for the page to finish rendering. Streamlit scrolls inside its main
    container, not the document, so `full_page` temporarily makes the viewport as tall as the
    content instead of using Playwright's full_page."""
    path = artifacts_path() / f"{safe_name(name)}.png"
    if settle:
        wait_for_render(page)
    if not full_page:
        page.screenshot(path=str(path))
        return path
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(document.body.scrollHeight,"
        " ...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]"
        ".map(e => e.scrollHeight))"
    )
    try:
        if size and height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
            page.wait_for_timeout(300)
        page.screenshot(path=str(path))
    finally:
        if size:
            page.set_viewport_size(size)
    return path


def canvas_locator(page: Page, key: str | None = "canvas") -> Locator:
    """The interactive (upper) fabric.js canvas: the one in the widget whose key starts with `key`
    when there is such a widget on the page right now, else the first on the page."""
    if key:
        keyed = page.locator(f'[class*="st-key-{key}"] {CANVAS}')
        if keyed.count():
            return keyed.first
    return page.locator(CANVAS).first


def find_canvas(page: Page, key: str | None = "canvas", timeout: float = 60_000) -> Locator:
    """Wait until a drawing canvas is rendered, sized and the script run is over; scroll it into
    view and return it."""
    deadline = time.monotonic() + timeout / 1000
    box = None
    while True:
        left_ms = max(1_000.0, (deadline - time.monotonic()) * 1000)
        page.locator(CANVAS).first.wait_for(state="visible", timeout=left_ms)
        wait_for_idle(page, left_ms)
        canvas = canvas_locator(page, key)
        try:
            canvas.scroll_into_view_if_needed(timeout=left_ms)
            box = canvas.bounding_box()  # fabric sizes the canvas after the component mounts
        except PlaywrightError as error:
            # The app remounts the canvas (after Undo, Clear or a new model): the element found a
            # moment ago may be gone. Find the new one.
            if "not attached" not in str(error):
                raise
            box = None
        if box and box["width"] > 10 and box["height"] > 10:
            return canvas
        if time.monotonic() > deadline:
            raise AssertionError(f"the drawing canvas never got a size: {box}")
        page.wait_for_timeout(100)


def _box(page: Page, canvas: Locator | None) -> dict[str, float]:
    canvas = canvas or find_canvas(page)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box, "the drawing canvas is not visible"
    return box


def _to_page(box: dict[str, float], point: Point) -> Point:
    x, y = point
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def _densify(points: Sequence[Point], step: float = STEP_PX) -> list[Point]:
    """Points along the polyline, no two further apart than `step` pixels."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = max(1, int(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / step))
        out.extend((x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1))
    return out


def fit_to_canvas(strokes: Strokes, aspect: float) -> list[list[Point]]:
    """Strokes measured in units of the canvas height (as tests/strokes.py's number_strokes gives
    them) as fractions of a canvas `aspect` times as wide as tall, centred across it."""
    xs = [x for stroke in strokes for x, _ in stroke]
    shift = (aspect - (max(xs) - min(xs))) / 2 - min(xs)
    return [[((x + shift) / aspect, y) for x, y in stroke] for stroke in strokes]


def draw_strokes(page: Page, strokes: Strokes, canvas: Locator | None = None, pause_ms: float = 0) -> None:
    """Draw strokes (lists of (x, y) in 0..1 of the canvas, y down) with real mouse events."""
    box = _box(page, canvas)
    for stroke in strokes:
        points = _densify([_to_page(box, p) for p in stroke])
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
        if pause_ms:
            page.wait_for_timeout(pause_ms)


def touch_draw(page: Page, strokes: Strokes, canvas: Locator | None = None, pause_ms: float = 0) -> None:
    """Draw strokes with real touch events (a finger), sent through the Chrome DevTools Protocol:
    Playwright itself can only tap. The page's context should be created with has_touch=True."""
    box = _box(page, canvas)
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            points = _densify([_to_page(box, p) for p in stroke])
            x, y = points[0]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 1}]})
            for x, y in points[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            if pause_ms:
                page.wait_for_timeout(pause_ms)
    finally:
        cdp.detach()


def read_answer(page: Page) -> str | None:
    """The answer area's text right now ("Draw a digit", "Not sure", or a digit), or None."""
    return page.evaluate(_READ_ANSWER_JS)


def answer_locator(page: Page) -> Locator:
    """The answer element: `[data-testid="answer"]` when the app tags it, else the last element in
    the main area whose text is exactly a digit, "Not sure" or "Draw a digit"."""
    tagged = page.locator('[data-testid="answer"]')
    if tagged.count():
        return tagged.first
    pattern = re.compile(r"^\s*(draw a digit|not sure|[0-9])\s*$", re.IGNORECASE)
    return page.locator('[data-testid="stMain"]').get_by_text(pattern).last


def page_text(page: Page, limit: int = 2000) -> str:
    """The main area's text (for assertion messages): what the app says next to a wrong answer."""
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text() if main.count() else page.locator("body").inner_text()
    return text[:limit]


def script_state(page: Page) -> str | None:
    """Streamlit's script state, from `data-test-script-state` on stApp: "initial", "running",
    "notRunning", "rerunRequested", ... (None if the app root is not there)."""
    return page.evaluate(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app ? app.getAttribute('data-test-script-state') : null; }"
    )


def is_running(page: Page) -> bool:
    """Whether Streamlit is running (or about to rerun) the script."""
    return script_state(page) in ("running", "rerunRequested", "initial")


def wait_for_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script run is over, so the page shows everything this run draws."""
    deadline = time.monotonic() + timeout / 1000
    while is_running(page):
        if time.monotonic() > deadline:
            raise AssertionError(f"the script is still {script_state(page)!r} after {timeout / 1000:.0f} s")
        page.wait_for_timeout(50)


def wait_for_answer(
    page: Page,
    timeout: float = 30_000,
    previous: str | None = None,
    empty: str = EMPTY_TEXT,
    accept: Callable[[str], bool] | None = None,
) -> str:
    """Wait until the answer area shows a digit or "Not sure" (not `empty`, by default "Draw a digit"),
    and return it. With `previous`, wait for an answer different from it; with `accept`, for one it
    accepts (say, as many digits as a number drawn stroke by stroke has: each stroke is read on its
    own). Waits for the rerun to finish too, so the text returned is the settled one."""
    deadline = time.monotonic() + timeout / 1000
    last = None
    while time.monotonic() < deadline:
        last = read_answer(page)
        wanted = last and last.lower() != empty.lower() and last != previous and (accept is None or accept(last))
        if wanted and not is_running(page):
            page.wait_for_timeout(100)  # settle: still the same answer, still no rerun
            if read_answer(page) == last and not is_running(page):
                return last
        page.wait_for_timeout(50)
    raise AssertionError(f"no answer within {timeout / 1000:.0f} s; the answer area shows {last!r}.\nPage:\n{page_text(page)}")


def wait_for_empty(page: Page, timeout: float = 30_000, empty: str = EMPTY_TEXT) -> None:
    """Wait until the answer area asks for a digit (shows `empty`: "Draw a number" in Number mode)."""
    deadline = time.monotonic() + timeout / 1000
    last = None
    while time.monotonic() < deadline:
        last = read_answer(page)
        if last and last.lower() == empty.lower() and not is_running(page):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the answer area never showed {empty!r}; it shows {last!r}.\nPage:\n{page_text(page)}")


def assert_no_exception(page: Page) -> None:
    """Fail if Streamlit shows an exception box or a traceback anywhere on the page."""
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        raise AssertionError("Streamlit shows an exception:\n" + "\n---\n".join(exceptions.all_inner_texts()))
    body = page.locator("body").inner_text()
    assert "Traceback" not in body, f"the page shows a traceback:\n{body[-3000:]}"


__all__ = [
    "CANVAS",
    "EMPTY_TEXT",
    "NUMBER_EMPTY_TEXT",
    "UNSURE_TEXT",
    "answer_locator",
    "artifacts_path",
    "assert_no_exception",
    "canvas_locator",
    "draw_strokes",
    "find_canvas",
    "fit_to_canvas",
    "is_running",
    "page_text",
    "read_answer",
    "safe_name",
    "screenshot",
    "script_state",
    "touch_draw",
    "wait_for_answer",
    "wait_for_empty",
    "wait_for_idle",
    "wait_for_render",
]
