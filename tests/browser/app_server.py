"""Start and stop `streamlit run app.py` on a loopback port, and find Debian's chromium: shared
by the browser tests' fixtures and benchmarks/app_latency.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except OSError:
        return False


def launch(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`streamlit run app.py`, headless, in its own process group, its output appended to log_path."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(process: subprocess.Popen, url: str, log_path: Path, timeout_s: float) -> None:
    """Return once the server answers its health check; RuntimeError with its log if it dies or hangs."""
    deadline = time.monotonic() + timeout_s
    while not healthy(url):
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit not healthy after {timeout_s:.0f} s:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.02)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, the server's whole process group."""
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def chromium_path(explicit: str | None = None) -> str | None:
    """--chromium, else $DIGITREC_CHROMIUM, else chromium on PATH."""
    for candidate in (explicit, os.environ.get("DIGITREC_CHROMIUM")):
        if candidate:
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None
