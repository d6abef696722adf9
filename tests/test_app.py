"""The app script runs with the committed model and shows the empty state before any drawing."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_app_starts_and_asks_for_a_digit():
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception
    assert [h.value for h in app.title] == ["digitrec"]
    assert "Draw a digit" in [s.value for s in app.subheader]
