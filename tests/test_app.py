"""The app's pages run with the committed model, headless (Streamlit's AppTest): no exceptions,
the empty state before any drawing, the model card with its plots. The browser tests in
tests/browser/ drive the real page."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_draw_page_starts_empty_and_asks_for_a_digit():
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert [t.value for t in app.title] == ["Draw a digit"]
    assert any("Draw a digit" in h.body for h in app.get("html"))
    assert [s.label for s in app.slider] == ["Pen width", "Confidence threshold"]


def _model_page():
    from webapp import model

    model.page()


def test_model_page_shows_the_card_curves_and_mistakes(model_path):
    test = json.loads(model_path.with_suffix(".json").read_text())["metrics"]["test"]
    app = AppTest.from_function(_model_page, default_timeout=180).run()
    assert not app.exception
    assert [m.label for m in app.metric][:2] == ["Test accuracy", "With test-time augmentation"]
    assert [m.value for m in app.metric][:2] == [f"{test['accuracy']:.2%}", f"{test['tta_accuracy']:.2%}"]
    assert float(app.metric[0].value.rstrip("%")) >= 99.6  # the shipped model's, not a quick run's
    assert any("gets wrong" in m.value for m in app.markdown)


def test_model_page_scores_a_model_whose_card_lists_no_mistakes(monkeypatch, tmp_path, model_path):
    """A card written before cards recorded the answers: the page scores the model itself."""
    card = json.loads(model_path.with_suffix(".json").read_text())
    wrong = len(card["metrics"]["test"].pop("mistakes"))
    shutil.copyfile(model_path, tmp_path / model_path.name)
    (tmp_path / model_path.name).with_suffix(".json").write_text(json.dumps(card))
    monkeypatch.setenv("DIGITREC_MODEL", str(tmp_path / model_path.name))
    app = AppTest.from_function(_model_page, default_timeout=180).run()
    assert not app.exception
    assert any(f"gets wrong** ({wrong} of 10,000" in m.value for m in app.markdown)


def _train_page():
    from webapp import train

    train.page()


def test_train_page_offers_to_train_when_the_model_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITREC_MODEL", str(tmp_path / "digitrec.onnx"))
    app = AppTest.from_function(_train_page, default_timeout=60).run()
    assert not app.exception
    assert "no usable model" in app.warning[0].value
    assert [b.label for b in app.button] == ["Train a model"]


def _fabric_path(points: list[tuple[float, float]], **placed) -> dict:
    """A freehand stroke as the canvas (fabric.js 7) hands it over: quadratic curves through the
    pen's points, centred where its box's middle is unless it was moved."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    path = [["M", *points[0]]] + [["Q", *a, *b] for a, b in itertools.pairwise(points)]
    centre = {"left": (min(xs) + max(xs)) / 2, "top": (min(ys) + max(ys)) / 2}
    return (
        {"type": "Path", "originX": "center", "originY": "center", "scaleX": 1, "scaleY": 1, "angle": 0}
        | centre
        | {"path": path}
        | placed
    )


def test_canvas_paths_become_strokes_where_they_stand():
    """The Number mode hands the reader the canvas's strokes: where they were drawn, or where the
    toolbar's edit tool moved, scaled or turned them since; shapes that are not strokes are left out."""
    from webapp.strokes import pen_strokes

    stroke = [(100.0, 50.0), (120.0, 60.0), (140.0, 150.0)]  # its box's middle: (120, 100)
    drawn = _fabric_path(stroke)
    assert np.allclose(pen_strokes([drawn], 1.0)[0], stroke)
    assert np.allclose(pen_strokes([drawn], 2.0)[0], np.array(stroke) * 2)  # an image at twice the canvas's pixels
    moved = _fabric_path(stroke, left=220.0, top=90.0)
    assert np.allclose(pen_strokes([moved], 1.0)[0], np.array(stroke) + np.array([100.0, -10.0]))
    scaled = _fabric_path(stroke, scaleX=2.0, scaleY=0.5)
    assert np.allclose(pen_strokes([scaled], 1.0)[0], [(80.0, 75.0), (120.0, 80.0), (160.0, 125.0)])
    turned = _fabric_path(stroke, angle=90.0)  # clockwise on the screen, y pointing down
    assert np.allclose(pen_strokes([turned], 1.0)[0], [(170.0, 80.0), (160.0, 100.0), (70.0, 120.0)])
    assert pen_strokes([{"type": "Rect", "left": 0, "top": 0}, _fabric_path(stroke)], 1.0)[0].shape == (3, 2)
    assert len(pen_strokes([{"type": "Rect", "left": 0, "top": 0}], 1.0)) == 0
    broken = [_fabric_path(stroke, left="far"), {"type": "Path", "path": [["M", "a", "b"]]}, {"type": "Path", "path": "M 1 2"}]
    assert len(pen_strokes([*broken, drawn], 1.0)) == 1  # what it cannot read it leaves out, never a crash
