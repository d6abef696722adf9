"""Draw a digit, see the answer, how sure the model is, and what it saw."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from datetime import datetime

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from digitrec.recognize import Prediction
from webapp.common import apply_style, model_problem, recognizer, selected_model

CANVAS_SIZE = 320  # fits a phone's width, big enough for a finger
SEEN_SCALE = 6  # the 28x28 image, enlarged


def _png_data_uri(pixels: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _enlarged(pixels: np.ndarray, scale: int = SEEN_SCALE) -> np.ndarray:
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def _history_csv(history: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["time", "answer", "confidence", "top3", "model"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def _record(prediction: Prediction, answer: str) -> None:
    st.session_state.history.append(
        {
            "thumbnail": _png_data_uri(prediction.image),
            "time": datetime.now().strftime("%H:%M:%S"),
            "answer": answer,
            "confidence": round(prediction.confidence, 4),
            "top3": " ".join(f"{d}:{p:.3f}" for d, p in prediction.top3),
            "model": selected_model().name,
        }
    )


def _answer_text(prediction: Prediction | None, threshold: float) -> str:
    if prediction is None or prediction.status == "empty":
        return "empty"
    return str(prediction.top3[0][0]) if prediction.confidence >= threshold else "not sure"


def _show_answer(prediction: Prediction | None, threshold: float) -> None:
    answer = _answer_text(prediction, threshold)
    if answer == "empty":
        st.html('<div class="answer-empty" data-testid="answer">Draw a digit</div>')
        st.caption("The answer appears when you lift the pen.")
        return
    if answer == "not sure":
        guesses = ", ".join(f"{d} ({p:.0%})" for d, p in prediction.top3)
        st.html('<div class="answer-unsure" data-testid="answer">Not sure</div>')
        st.html(f'<div class="answer-meta" data-testid="guesses">Best guesses: {guesses}</div>')
    else:
        st.html(f'<div class="answer-digit" data-testid="answer">{answer}</div>')
    st.html(f'<div class="answer-meta" data-testid="confidence">Confidence {prediction.confidence:.1%}</div>')
    st.markdown("**Top 3:** " + " · ".join(f"{d} — {p:.1%}" for d, p in prediction.top3))
    st.bar_chart(
        {"digit": [str(d) for d in range(10)], "probability": prediction.probabilities},
        x="digit",
        y="probability",
        height=180,
    )


def _show_what_the_model_saw(prediction: Prediction | None) -> None:
    if prediction is None or prediction.image is None:
        return
    st.markdown("**What the model saw**")
    st.image(_enlarged(prediction.image), caption="28x28 after preprocessing", width=28 * SEEN_SCALE)
    if prediction.versions:
        st.markdown("**The 5 versions of the ensemble, and each one's vote**")
        for column, version, vote in zip(st.columns(5), prediction.versions, prediction.votes, strict=True):
            column.image(_enlarged(version, 3), caption=f"votes {vote}")


def page() -> None:
    apply_style()
    state = st.session_state
    state.setdefault("canvas_version", 0)
    state.setdefault("initial_drawing", None)
    state.setdefault("history", [])
    state.setdefault("prediction", None)
    state.setdefault("drawing_signature", None)

    st.title("Draw a digit")
    problem = model_problem(selected_model())
    if problem:
        st.error(f"The model can't be used: {problem}")
        st.info("Open **Train** in the menu to train a new model, or pick another model there.")
        return
    model = recognizer(selected_model())
    st.caption(f"Reading with the model **{selected_model().stem}**: pick another in the menu.")

    drawing_column, answer_column = st.columns(2, gap="large")
    with drawing_column:
        pen = st.slider("Pen width", 4, 40, 20, key="pen")
        canvas = st_canvas(
            stroke_width=pen,
            stroke_color="#111111",
            background_color="#ffffff",
            width=CANVAS_SIZE,
            height=CANVAS_SIZE,
            return_image_data=True,
            initial_drawing=state.initial_drawing,
            key=f"canvas-{state.canvas_version}",
        )
        undo, clear, predict_now = st.columns(3)
        objects = (canvas.json_data or {}).get("objects", [])
        if undo.button("Undo", width="stretch", disabled=not objects):
            state.initial_drawing = {**canvas.json_data, "objects": objects[:-1]}
            state.canvas_version += 1
            state.prediction, state.drawing_signature = None, None
            st.rerun()
        if clear.button("Clear", width="stretch"):
            state.initial_drawing = None
            state.canvas_version += 1
            state.prediction, state.drawing_signature = None, None
            st.rerun()
        asked = predict_now.button("Predict", type="primary", width="stretch")
        live = st.toggle("Predict after every stroke", value=True, key="live")
        tta = st.toggle("Ensemble of 5 (test-time augmentation)", value=model.tta, key="tta")
        threshold = st.slider("Confidence threshold", 0.0, 1.0, 0.5, 0.05, key="threshold")

    image = canvas.image_data
    signature = None
    if image is not None:
        signature = hashlib.sha1(image.tobytes() + bytes([tta]) + selected_model().name.encode()).hexdigest()
    if image is not None and (live or asked) and signature != state.drawing_signature:
        prediction = model.predict(image, tta=tta)
        state.prediction, state.drawing_signature = prediction, signature
        if prediction.status != "empty":
            _record(prediction, _answer_text(prediction, threshold))
    prediction = state.prediction if signature == state.drawing_signature else None

    with answer_column:
        if prediction is None and image is not None and not live:
            st.info("Live prediction is off: press **Predict** to read your drawing.")
        _show_answer(prediction, threshold)
        _show_what_the_model_saw(prediction)

    st.subheader("Your predictions")
    if not state.history:
        st.caption("Nothing yet: the answers to your drawings will be listed here.")
        return
    st.dataframe(
        list(reversed(state.history)),
        column_config={
            "thumbnail": st.column_config.ImageColumn("drawing", width="small"),
            "confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0, format="percent"),
        },
        column_order=["thumbnail", "time", "answer", "confidence", "top3", "model"],
        hide_index=True,
    )
    st.download_button(
        "Download as CSV",
        _history_csv(state.history),
        file_name="digitrec-predictions.csv",
        mime="text/csv",
        icon=":material/download:",
    )
