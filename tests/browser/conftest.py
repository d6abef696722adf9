"""Browser tests: the real app, served by `streamlit run`, driven by Playwright in Debian's chromium.

Session fixtures start one Streamlit server (on a free loopback port, with this process's
environment, so $DIGITREC_MODEL picks the model) and one headless chromium. Each test gets a fresh
browser context, hence a fresh Streamlit session. Screenshots, the server's log, console errors of
failed tests and answer timings go to $DIGITREC_ARTIFACTS (default: artifacts/ at the repository root).

Chromium: $DIGITREC_CHROMIUM, else `chromium` (apt-get install chromium) on PATH. Without one the
tests fail with a message saying so: a missing browser is never a silent skip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from .app_server import CHROMIUM_ARGS, chromium_path, free_port, launch, stop, wait_healthy
from .canvas_helpers import artifacts_path, safe_name, screenshot

__all__ = ["screenshot"]  # tests import it from canvas_helpers; re-exported here for convenience

BROWSER_DIR = Path(__file__).resolve().parent

SERVER_START_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 60_000  # first load compiles the component bundle; the machine may be busy
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


# --- markers and failure reports ------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the real app in chromium (tests/browser)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)  # the page fixtures screenshot failed tests
    return report


# --- artifacts ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    return artifacts_path()


@pytest.fixture(scope="session")
def timings(artifacts_dir: Path) -> Iterator[dict[str, float]]:
    """Seconds measured by tests (e.g. pen up to answer), written to <artifacts>/browser-timings.json."""
    measured: dict[str, float] = {}
    yield measured
    if measured:
        (artifacts_dir / "browser-timings.json").write_text(json.dumps(measured, indent=2, sort_keys=True) + "\n")


# --- the app --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_url(artifacts_dir: Path) -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port; yield its URL; stop it at the end."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = artifacts_dir / "streamlit.log"
    log_path.unlink(missing_ok=True)
    process = launch(port, os.environ.copy(), log_path)
    try:
        try:
            wait_healthy(process, url, log_path, SERVER_START_TIMEOUT_S)
        except RuntimeError as e:
            pytest.fail(str(e))
        yield url
    finally:
        stop(process)


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pw() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(pw: Playwright) -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail("no chromium to drive: apt-get install chromium, or set DIGITREC_CHROMIUM")
    browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _open(browser: Browser, app_url: str, request: pytest.FixtureRequest, artifacts_dir: Path, options: dict) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(**options)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(app_url, wait_until="domcontentloaded")
    page.locator('[data-testid="stApp"]').wait_for(timeout=PAGE_TIMEOUT_MS)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = f"FAILED-{request.node.name}"
        try:
            screenshot(page, name, settle=False)
        except Exception as e:  # the failure itself matters more than its screenshot
            console.append(f"(no screenshot: {e})")
        (artifacts_dir / f"{safe_name(name)}.console.txt").write_text("\n".join(console) + "\n")
    context.close()


@pytest.fixture
def page(browser: Browser, app_url: str, request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[Page]:
    """The app in a fresh 1280x900 desktop context (a fresh Streamlit session)."""
    yield from _open(browser, app_url, request, artifacts_dir, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser, app_url: str, request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[Page]:
    """The app on a phone: 390x844, mobile, touch, device scale factor 2."""
    yield from _open(browser, app_url, request, artifacts_dir, PHONE)
