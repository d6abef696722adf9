"""How fast the Streamlit app is in a real browser: cold start to a usable canvas, and pen up to answer.

What is measured, with the real app (`streamlit run app.py`, headless, on a free loopback port,
this process's environment, so $DIGITREC_MODEL / --model picks the model) and Debian's chromium
driven by Playwright (headless, one browser for the whole run, launched before any timing):

  cold start   For each of --starts runs: a new `streamlit run` process is launched; the clock
               starts at Popen and stops when a fresh page (new browser context, so a new
               Streamlit session) shows the drawing canvas with a size, the script run is over,
               and the answer area reads "Draw a digit". Two parts are reported as well:
               part 1, launch -> /_stcore/health answers "ok" (server up); part 2, from there,
               new browser context + page.goto -> canvas interactive (the front end loads, the
               first script run imports the pages and loads and checks the model, the canvas
               component's bundle loads). Each server is stopped after its run (the last one
               after the strokes below), so every start pays for the imports and the model
               load; the OS file cache stays warm after the first.

  pen up to    On the last cold start's server, in one fresh page per mode: --strokes
  answer       single-stroke digits (cycling 0 1 2 3 5 6 7 8 9: the 4 needs two strokes) are
               drawn with real mouse events, each on a blank canvas ("Clear" between them; one
               untimed warm-up stroke first). The timing is taken inside the page, on its
               performance.now() clock: a capturing `pointerup` listener on window stamps the
               pen-up, and a MutationObserver on the document stamps the first moment
               `[data-testid="answer"]` holds something other than "Draw a digit" (the DOM
               change; the paint follows within a frame). The difference is what the user
               waits: the component's debounce (~200 ms), PNG encoding and the websocket round
               trip, the script rerun (preprocess + ONNX, 1 or 5 versions) and React's render.
               Done with the ensemble on (the default, 5 versions) and off (the "Ensemble of 5
               (test-time augmentation)" toggle switched off before the strokes).

Results: seconds for the cold start, milliseconds for pen up to answer; median, p90, min, max.
The numbers depend heavily on the machine and its load (report the load average printed).

Rerun (the committed model; 3 cold starts, 20 strokes per mode, results also as JSON):

    .venv/bin/python benchmarks/app_latency.py --starts 3 --strokes 20 --json artifacts/app_latency.json

Needs chromium (apt-get install chromium, or --chromium / $DIGITREC_CHROMIUM); MNIST is not used.
Progress goes to stderr, the table to stdout. Exit status 1 if the app or the browser fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]  # tests/strokes.py and tests/browser/canvas_helpers.py

from browser.app_server import CHROMIUM_ARGS, chromium_path, free_port, launch, stop, wait_healthy  # noqa: E402
from browser.canvas_helpers import (  # noqa: E402
    draw_strokes,
    find_canvas,
    read_answer,
    wait_for_empty,
    wait_for_idle,
)
from strokes import DIGIT_STROKES  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}
SINGLE_STROKE_DIGITS = [d for d in range(10) if len(DIGIT_STROKES[d]) == 1]
TTA_TOGGLE = "Ensemble of 5 (test-time augmentation)"
EMPTY_TEXT = "Draw a digit"

# Stamps pen-ups and answer changes on the page's own clock, in window.__latency.
_INSTALL_PROBES_JS = """
() => {
  if (window.__latency) return;
  const probe = window.__latency = {penUp: null, answers: []};
  window.addEventListener('pointerup', () => { probe.penUp = performance.now(); }, {capture: true});
  let last = null;
  const check = () => {
    const el = document.querySelector('[data-testid="answer"]');
    const text = el ? el.innerText.trim() : null;
    if (text !== last) { last = text; probe.answers.push({t: performance.now(), text}); }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
  check();
}
"""

# The first answer (not the empty state) that appeared after the last pen-up, and when.
_ANSWER_AFTER_PEN_UP_JS = """
empty => {
  const probe = window.__latency;
  if (!probe || probe.penUp === null) return null;
  const hit = probe.answers.find(a => a.t >= probe.penUp && a.text && a.text !== empty);
  return hit ? {ms: hit.t - probe.penUp, text: hit.text} : null;
}
"""


# --- the server -----------------------------------------------------------------------------------


def open_page(browser: Browser, url: str, timeout_ms: float) -> Page:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(url, wait_until="domcontentloaded")
    return page


def canvas_ready(page: Page, timeout_ms: float) -> None:
    """The canvas is drawn and sized, the run is over and the answer area asks for a digit."""
    find_canvas(page, timeout=timeout_ms)
    wait_for_empty(page, timeout=timeout_ms)


# --- the measurements -----------------------------------------------------------------------------


def cold_start(browser: Browser, env: dict[str, str], log_path: Path, timeout_s: float, keep: bool = False):
    """One cold start; returns (seconds to canvas, to healthy, healthy to canvas, url, process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = launch(port, env, log_path)
    try:
        wait_healthy(process, url, log_path, timeout_s)
        up = time.perf_counter()
        page = open_page(browser, url, timeout_s * 1000)
        canvas_ready(page, timeout_s * 1000)
        ready = time.perf_counter()
        page.context.close()
    except BaseException:
        stop(process)
        raise
    if not keep:
        stop(process)
        process = None
    return ready - started, up - started, ready - up, url, process


def set_tta(page: Page, on: bool, timeout_ms: float) -> None:
    switch = page.get_by_role("switch", name=TTA_TOGGLE)
    if switch.is_checked() != on:
        page.locator('[data-testid="stCheckbox"]').filter(has_text=TTA_TOGGLE).locator("label").click()
        page.wait_for_timeout(300)
        wait_for_idle(page, timeout_ms)
    if switch.is_checked() != on:
        raise RuntimeError(f"could not switch the ensemble {'on' if on else 'off'}")


def clear(page: Page, timeout_ms: float) -> None:
    page.locator('[data-testid="stButton"] button').filter(has_text="Clear").click()
    page.wait_for_timeout(200)
    wait_for_idle(page, timeout_ms)
    canvas_ready(page, timeout_ms)


def pen_up_to_answer(browser: Browser, url: str, strokes: int, tta: bool, timeout_s: float) -> tuple[list[float], list[str]]:
    """Milliseconds from pen-up to the answer for `strokes` single-stroke digits, and the answers."""
    timeout_ms = timeout_s * 1000
    page = open_page(browser, url, timeout_ms)
    try:
        canvas_ready(page, timeout_ms)
        set_tta(page, tta, timeout_ms)
        page.evaluate(_INSTALL_PROBES_JS)
        timings, answers = [], []
        for i in range(strokes + 1):  # the first is an untimed warm-up
            digit = SINGLE_STROKE_DIGITS[i % len(SINGLE_STROKE_DIGITS)]
            if i:
                clear(page, timeout_ms)
            page.evaluate("() => { window.__latency.penUp = null; }")
            draw_strokes(page, DIGIT_STROKES[digit])
            deadline = time.monotonic() + timeout_s
            hit = None
            while hit is None:
                hit = page.evaluate(_ANSWER_AFTER_PEN_UP_JS, EMPTY_TEXT)
                if hit is None and time.monotonic() > deadline:
                    raise RuntimeError(
                        f"no answer {timeout_s:.0f} s after drawing a {digit}; the page shows {read_answer(page)!r}"
                    )
                if hit is None:
                    page.wait_for_timeout(20)
            wait_for_idle(page, timeout_ms)
            if i:
                timings.append(hit["ms"])
                answers.append(f"{digit}->{hit['text']}")
        return timings, answers
    finally:
        page.context.close()


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": float(statistics.median(values)),
        "p90": float(np.percentile(values, 90)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=3, help="cold starts of the app (default 3)")
    parser.add_argument("--strokes", type=int, default=20, help="timed strokes per ensemble setting (default 20)")
    parser.add_argument("--model", type=Path, help="the model to serve (sets $DIGITREC_MODEL; default: as the environment says)")
    parser.add_argument("--chromium", help="chromium executable (default: $DIGITREC_CHROMIUM, else chromium on PATH)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for any one step (default 120)")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args()
    if args.starts < 1 or args.strokes < 1:
        parser.error("--starts and --strokes must be at least 1")

    env = os.environ.copy()
    if args.model:
        env["DIGITREC_MODEL"] = str(args.model.resolve())
    load_before = os.getloadavg()
    log_dir = Path(tempfile.mkdtemp(prefix="app-latency-"))
    log_path = log_dir / "streamlit.log"
    results: dict = {}
    rows: list[tuple[str, str, dict[str, float]]] = []
    server = None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(args.chromium) or sys.exit("no chromium: apt-get install chromium, or pass --chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            total, up, page_part = [], [], []
            for i in range(args.starts):
                t, u, p, url, server = cold_start(browser, env, log_path, args.timeout, keep=i == args.starts - 1)
                total.append(t)
                up.append(u)
                page_part.append(p)
                print(f"cold start {i + 1}/{args.starts}: {t:.2f} s (server up {u:.2f} s)", file=sys.stderr)
            results["cold_start_s"] = {"launch_to_canvas": total, "launch_to_healthy": up, "page_open_to_canvas": page_part}
            rows += [
                ("cold start: launch to interactive canvas", "s", summary(total)),
                ("part 1: launch to server healthy", "s", summary(up)),
                ("part 2: page open to canvas + empty answer", "s", summary(page_part)),
            ]
            for tta in (True, False):
                label = "on" if tta else "off"
                timings, answers = pen_up_to_answer(browser, url, args.strokes, tta, args.timeout)
                print(f"ensemble {label}: {', '.join(answers)}", file=sys.stderr)
                results[f"pen_up_to_answer_ms_ensemble_{label}"] = {"values": timings, "answers": answers}
                rows.append((f"mouse up to answer, ensemble {label}", "ms", summary(timings)))
        except (RuntimeError, AssertionError) as e:
            print(f"failed: {e}\n(streamlit's log: {log_path})", file=sys.stderr)
            return 1
        finally:
            if server is not None:
                stop(server)
            browser.close()

    load_after = os.getloadavg()
    setup = {
        "model": env.get("DIGITREC_MODEL") or "models/digitrec.onnx (default)",
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    results["setup"] = setup
    results["summary"] = {name: {"unit": unit, **stats} for name, unit, stats in rows}

    print(f"App latency in headless chromium: model {setup['model']}, {setup['cpus']} CPUs, load average "
          f"{setup['load_average_before'][0]} before / {setup['load_average_after'][0]} after (1 min)\n")  # fmt: skip
    print("| measure | unit | n | median | p90 | min | max |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, unit, s in rows:
        digits = 2 if unit == "s" else 0
        cells = " | ".join(f"{s[k]:.{digits}f}" for k in ("median", "p90", "min", "max"))
        print(f"| {name} | {unit} | {s['n']} | {cells} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
