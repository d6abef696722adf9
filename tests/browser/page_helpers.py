"""Helpers for the app's controls beyond the canvas: its buttons, sliders, the sidebar's pages and
model picker, the history table and the ink on the canvas.

DOM facts these rely on (Streamlit 1.67, streamlit-drawable-canvas 0.13.0):

* The canvas component has its own toolbar of icon buttons (``button.dc-icon-button``, one of
  them titled "Undo"), so "the Undo button" is ambiguous by role and name: the app's buttons are
  looked up inside ``[data-testid="stButton"]``.
* A slider's thumb is a visually hidden ``<input type="range">`` (react-aria), whose implicit
  ARIA role is "slider" and whose accessible name is the slider's label; it has no
  ``role="slider"`` attribute. It takes Home/End/arrow keys like any range input.
* A segmented control (the Draw page's Mode: Digit / Number) is a ``role="radiogroup"`` named
  after its label, holding one ``role="radio"`` button per option (``aria-checked`` on the picked one).
* The sidebar's model picker is a react-aria combobox: an ``<input role="combobox">`` named after
  the label, whose listbox of ``role="option"`` appears when it is clicked.
* ``st.dataframe`` draws its cells on a canvas (glide-data-grid) but keeps an accessible table
  beside it: ``[role="row"]`` rows of ``[role="gridcell"]`` cells holding each cell's text.
* The sidebar's page links are ``[data-testid="stSidebarNav"] a``; the default page (Draw) is
  at "/", the others at their url_path ("/model", "/train"). Clicking a link keeps the
  Streamlit session (and so the picked model and the history); loading a URL starts a new one.
"""

from __future__ import annotations

import csv
import io
import re
import time

from playwright.sync_api import Locator, Page, expect

from .canvas_helpers import find_canvas, page_text, wait_for_idle

MODEL_PICKER = "Model used by the canvas"
THRESHOLD = "Confidence threshold"
HISTORY_COLUMNS = ["drawing", "time", "answer", "confidence", "top3", "model"]
SLOW_PAGE_MS = 240_000  # the Model page scores every model on 10,000 digits on its first visit

# Counts the dark pixels (the pen is #111111 on white) of fabric's drawing canvas,
# `canvas.dc-canvas.lower-canvas` (`canvas.dc-background-canvas` below it holds the background).
_INK_JS = """
canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 128 && data[i] + data[i + 1] + data[i + 2] < 384) n++;
  return n;
}
"""


def app_button(page: Page, label: str) -> Locator:
    """One of the app's own st.button widgets, by its label (not the canvas toolbar's buttons)."""
    return page.locator('[data-testid="stButton"] button').filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))


def toolbar_button(page: Page, title: str) -> Locator:
    """One of the canvas component's own toolbar buttons, by its title ("Undo", "Redo", ...)."""
    return page.locator(f'button.dc-icon-button[title="{title}"]').first


def click_and_wait(page: Page, target: Locator, timeout: float = 60_000) -> None:
    """Click, then wait until the rerun that the click starts is over."""
    target.click()
    page.wait_for_timeout(300)  # let the rerun request reach the server and the state flip
    wait_for_idle(page, timeout)


def segment(page: Page, control: str, label: str) -> Locator:
    """One option of a segmented control (st.segmented_control, a radio group named after its
    label) in the main area, by the option's visible label."""
    group = page.locator('[data-testid="stMain"]').get_by_role("radiogroup", name=control)
    return group.get_by_role("radio", name=label, exact=True)


def choose_segment(page: Page, control: str, label: str, timeout: float = 60_000) -> None:
    """Click an option of a segmented control by its label, as a user would; wait for the rerun."""
    option = segment(page, control, label)
    click_and_wait(page, option, timeout)
    expect(option).to_be_checked()


def slider(page: Page, label: str) -> Locator:
    """A slider's thumb (the range input carrying its label), in the main area."""
    return page.locator('[data-testid="stMain"]').get_by_role("slider", name=label)


def slider_value(page: Page, label: str) -> float:
    return float(slider(page, label).input_value())


def press_on_slider(page: Page, label: str, key: str, timeout: float = 30_000) -> float:
    """Focus a slider's thumb, press a key ("Home", "End", "ArrowLeft", ...), wait until the app
    has rerun with the new value; return the value."""
    thumb = slider(page, label)
    before = thumb.input_value()
    thumb.focus()
    page.keyboard.press(key)
    deadline = time.monotonic() + timeout / 1000
    while thumb.input_value() == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"pressing {key} on the {label!r} slider left it at {before}")
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)  # Streamlit sends the new value, then reruns
    wait_for_idle(page, timeout)
    return float(thumb.input_value())


def ink_pixels(page: Page) -> int:
    """How many pixels of the drawing canvas have ink on them."""
    canvas = page.locator("canvas.dc-canvas.lower-canvas").first
    canvas.wait_for(state="visible")
    return canvas.evaluate(_INK_JS)


def go_to(page: Page, title: str, timeout: float = 60_000) -> None:
    """Open a page from the sidebar's navigation (keeps the session) and wait for its run to end."""
    # By the label's exact text: the icon's ligature name ("model_training") is text in the link too.
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has=page.get_by_text(title, exact=True))
    link.click()
    path = "/" if title == "Draw" else f"/{title.lower()}"
    page.wait_for_function("path => window.location.pathname.endsWith(path)", arg=path, timeout=timeout)
    page.wait_for_timeout(300)
    wait_for_idle(page, timeout)


def open_draw_page(page: Page) -> None:
    """Back to the Draw page from another page, with the canvas ready."""
    go_to(page, "Draw")
    find_canvas(page)


def model_picker(page: Page) -> Locator:
    return page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=MODEL_PICKER)


def model_options(page: Page) -> list[str]:
    """The models the sidebar offers (their stems), read from the picker's list. Empty when there
    is no picker (no usable model)."""
    picker = model_picker(page)
    if not picker.count():
        return []
    picker.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = [name.strip() for name in options.all_inner_texts()]
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    return names


def picked_model(page: Page) -> str:
    return model_picker(page).input_value()


def pick_model(page: Page, stem: str, timeout: float = SLOW_PAGE_MS) -> None:
    """Choose a model in the sidebar and wait for the page to rerun with it."""
    model_picker(page).click()
    page.get_by_role("option", name=stem, exact=True).click()
    deadline = time.monotonic() + timeout / 1000
    while picked_model(page) != stem:
        if time.monotonic() > deadline:
            raise AssertionError(f"picked {stem!r} in the sidebar, it shows {picked_model(page)!r}")
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    wait_for_idle(page, timeout)


def models_message(options: list[str]) -> str:
    return (
        f"this test needs at least two models in the directory of $DIGITREC_MODEL (models/ by default: "
        f"digitrec and original, each a .onnx with its .json card), but the app offers {options or 'none'}"
    )


def history_rows(page: Page) -> list[dict[str, str]]:
    """The rows of the "Your predictions" table as the page shows them, newest first."""
    table = page.locator('[data-testid="stDataFrame"]').first
    if not table.count():
        return []
    rows = []
    for row in table.locator('[role="row"]').all():
        cells = [c.strip() for c in row.locator('[role="gridcell"]').all_inner_texts()]
        if cells:  # the header row has column headers, not grid cells
            rows.append(dict(zip(HISTORY_COLUMNS, cells, strict=False)))
    return rows


def wait_for_history(page: Page, count: int, timeout: float = 30_000) -> list[dict[str, str]]:
    """Wait until the history table lists `count` predictions; return its rows (newest first)."""
    deadline = time.monotonic() + timeout / 1000
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        rows = history_rows(page)
        if len(rows) >= count:
            return rows
        page.wait_for_timeout(100)
    raise AssertionError(f"the history table lists {len(rows)} predictions, not {count}: {rows}\nPage:\n{page_text(page)}")


def download_history_csv(page: Page) -> list[dict[str, str]]:
    """Click "Download as CSV" (the app's button, not the table toolbar's) and parse the file."""
    button = page.locator('[data-testid="stDownloadButton"] button').filter(has_text="Download as CSV")
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.failure() is None, f"the download failed: {download.failure()}"
    assert download.suggested_filename.endswith(".csv"), f"downloaded {download.suggested_filename!r}, not a CSV"
    with open(download.path(), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def canvas_model(page: Page) -> str | None:
    """The model the Draw page says it reads with ("Reading with the model **X**"), or None."""
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').filter(has_text="Reading with the model")
    if not caption.count():
        return None
    match = re.search(r"Reading with the model (\S+?):", caption.first.inner_text())
    return match.group(1) if match else None
