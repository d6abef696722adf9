"""Draw a digit (or a number), see the answer, how sure the model is, and what it saw."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from datetime import datetime

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw
from streamlit_drawable_canvas import st_canvas

from digitrec.recognize import NumberReading, Prediction, Recognizer
from webapp.common import apply_style, model_problem, recognizer, selected_model
from webapp.strokes import pen_strokes

DIGIT_CANVAS = (320, 320)  # fits a phone's width, big enough for a finger
NUMBER_CANVAS = (720, 240)  # room for a year or a phone code
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


def _record(thumbnail: np.ndarray, answer: str, confidence: float, top3: str) -> None:
    st.session_state.history.append(
        {
            "thumbnail": _png_data_uri(thumbnail),
            "time": datetime.now().strftime("%H:%M:%S"),
            "answer": answer,
            "confidence": round(confidence, 4),
            "top3": top3,
            "model": selected_model().name,
        }
    )


def _is_sure(confidence: float, threshold: float) -> bool:
    return threshold < 1.0 and confidence >= threshold  # a threshold of 1 means "never sure"


def _answer_text(prediction: Prediction | None, threshold: float) -> str:
    if prediction is None or prediction.status == "empty":
        return "empty"
    if prediction.status in ("not a digit", "several digits"):  # whatever the threshold: the ink's shape says so
        return prediction.status
    return str(prediction.top3[0][0]) if _is_sure(prediction.confidence, threshold) else "not sure"


def _confidence_text(confidence: float) -> str:
    return f"{confidence:.3%}" if confidence >= 0.9995 else f"{confidence:.1%}"


def _show_answer(prediction: Prediction | None, threshold: float) -> None:
    answer = _answer_text(prediction, threshold)
    if answer == "empty":
        st.html('<div class="answer-empty" data-testid="answer">Draw a digit</div>')
        st.caption("The answer appears when you lift the pen.")
        return
    if answer == "not a digit":
        st.html('<div class="answer-unsure" data-testid="answer">Not a digit</div>')
        st.caption("That looks like a dot, a line, a blob or a scribble. Draw one digit, 0 to 9.")
        return
    if answer == "several digits":
        st.html('<div class="answer-unsure" data-testid="answer">Several digits</div>')
        st.html(f'<div class="answer-meta" data-testid="number-read">Read as a number: {prediction.number}</div>')
        st.caption("Draw one digit here, or switch the mode to Number to read them all, each in its box.")
        return
    if answer == "not sure":
        guesses = ", ".join(f"{d} ({p:.0%})" for d, p in prediction.top3)
        st.html('<div class="answer-unsure" data-testid="answer">Not sure</div>')
        st.html(f'<div class="answer-meta" data-testid="guesses">Best guesses: {guesses}</div>')
    else:
        st.html(f'<div class="answer-digit" data-testid="answer">{answer}</div>')
    st.html(f'<div class="answer-meta" data-testid="confidence">Confidence {_confidence_text(prediction.confidence)}</div>')
    st.markdown("**Top 3:** " + " · ".join(f"{d} — {p:.1%}" for d, p in prediction.top3))
    st.html(_probability_bars(prediction.probabilities))


def _probability_bars(probabilities: list[float]) -> str:
    """All ten probabilities as a bar chart in plain HTML: drawn at once, no chart library to wait for."""
    top = int(np.argmax(probabilities))
    bars = "".join(
        f'<div class="bar-column" title="{d}: {p:.2%}"><div class="bar{" bar-top" if d == top else ""}"'
        f' style="height:{max(p, 0.004) * 100:.1f}%"></div><span>{d}</span></div>'
        for d, p in enumerate(probabilities)
    )
    return f'<div class="bars" data-testid="probability-bars" aria-label="probability of each digit">{bars}</div>'


def _show_what_the_model_saw(prediction: Prediction | None) -> None:
    if prediction is None or prediction.image is None:
        return
    st.markdown("**What the model saw**")
    st.image(_enlarged(prediction.image), caption="28x28 after preprocessing", width=28 * SEEN_SCALE)
    if prediction.versions:
        st.markdown("**The 5 versions of the ensemble, and each one's vote**")
        st.image(
            [_enlarged(version, 3) for version in prediction.versions],
            caption=[f"votes {vote}" for vote in prediction.votes],
            width=28 * 3,
        )


def _digit_label(digit: Prediction) -> str:
    """One digit of a number and how sure the model is of it ("?": not sure)."""
    return f"{'?' if digit.digit is None else digit.digit} {digit.confidence:.0%}"


def _show_number(image: np.ndarray, reading: NumberReading | None) -> None:
    if reading is None:
        st.html('<div class="answer-empty" data-testid="answer">Draw a number</div>')
        st.caption("Write several digits left to right, like a year.")
        return
    if not reading.digits:
        st.html('<div class="answer-empty" data-testid="answer">No digits found</div>')
        plainly = f"That looks like {reading.not_a_number}." if reading.not_a_number else "Scribbles are not read as digits."
        st.caption(f"{plainly} Write several digits left to right, like a year.")
        return
    st.html(f'<div class="answer-digit" data-testid="answer">{reading.text}</div>')
    found = " · ".join(f'<span data-testid="number-digit">{_digit_label(digit)}</span>' for digit in reading.digits)
    st.html(f'<div class="answer-meta" data-testid="number-digits">Digits found: {found}</div>')
    picture = Image.fromarray(image).convert("RGB")
    pen = ImageDraw.Draw(picture)
    free_from = 0.0  # labels of digits written into one another would overprint: each starts after the last
    for digit in reading.digits:
        left, top, right, bottom = digit.box
        pen.rectangle([left - 4, top - 4, right + 4, bottom + 4], outline="#4f46e5", width=3)
        label, x = _digit_label(digit), max(float(left), free_from)
        pen.text((x, max(0, top - 28)), label, fill="#4f46e5", font_size=22)
        free_from = x + pen.textlength(label, font_size=22) + 6
    st.image(picture, caption="Each digit found, its answer and confidence ('?': not sure)")


def _canvas(size: tuple[int, int], pen: int):
    state = st.session_state
    return st_canvas(
        stroke_width=pen,
        stroke_color="#111111",
        background_color="#ffffff",
        width=size[0],
        height=size[1],
        return_image_data=True,
        initial_drawing=state.initial_drawing,
        key=f"canvas-{state.canvas_version}",
    )


def _drawing(canvas) -> tuple[np.ndarray | None, list[dict], bool]:
    """The drawing as an RGBA array, its objects (the strokes, in the order drawn), and whether
    Predict was pressed.

    Undo and Clear remount the canvas, which sends no image until the next stroke: the image
    of the drawing with one stroke fewer is kept from when it was drawn."""
    state = st.session_state
    drawing = canvas.json_data or state.initial_drawing or {}  # after a remount: what it was given
    objects = drawing.get("objects", [])
    image = canvas.image_data
    if image is not None:
        state.images_by_strokes[len(objects)] = image
        state.restored_image = None
    undo, clear, predict = st.columns(3)
    if undo.button("Undo", width="stretch", disabled=not objects):
        kept = objects[:-1]
        state.initial_drawing = {**drawing, "objects": kept} if kept else None
        state.restored_image = state.images_by_strokes.get(len(kept)) if kept else None
        state.images_by_strokes = {n: im for n, im in state.images_by_strokes.items() if n <= len(kept)}
        state.canvas_version += 1
        st.rerun()
    if clear.button("Clear", width="stretch"):
        state.initial_drawing, state.restored_image, state.images_by_strokes = None, None, {}
        state.canvas_version += 1
        st.rerun()
    asked = predict.button("Predict", type="primary", width="stretch")
    return (image if image is not None else state.restored_image), objects, asked


def _signature(image: np.ndarray, *settings: object) -> str:
    return hashlib.sha1(image.tobytes() + repr((selected_model().name, *settings)).encode()).hexdigest()


def _digit_mode(model: Recognizer, pen: int) -> None:
    state = st.session_state
    drawing_column, answer_column = st.columns(2, gap="large")
    with drawing_column:
        image, objects, asked = _drawing(_canvas(DIGIT_CANVAS, pen))
        live = st.toggle("Predict after every stroke", value=True, key="live")
        tta = st.toggle("Ensemble of 5 (test-time augmentation)", value=model.tta, key="tta")
        threshold = st.slider("Confidence threshold", 0.0, 1.0, 0.5, 0.05, key="threshold")

    signature = _signature(image, tta) if image is not None else None
    if image is not None and (live or asked) and signature != state.drawing_signature:
        # With its strokes, a drawing reads alike whatever the pen width (a fat pen fills in loops).
        prediction = model.predict(image, tta=tta, strokes=pen_strokes(objects, image.shape[1] / DIGIT_CANVAS[0]))
        state.prediction, state.drawing_signature = prediction, signature
        if prediction.status != "empty":
            top3 = " ".join(f"{d}:{p:.3f}" for d, p in prediction.top3)
            _record(prediction.image, _answer_text(prediction, threshold), prediction.confidence, top3)
    prediction = state.prediction if signature == state.drawing_signature else None

    with answer_column:
        if prediction is None and image is not None and not live:
            st.info("Live prediction is off: press **Predict** to read your drawing.")
        _show_answer(prediction, threshold)
        _show_what_the_model_saw(prediction)


def _number_mode(model: Recognizer, pen: int) -> None:
    state = st.session_state
    image, objects, asked = _drawing(_canvas(NUMBER_CANVAS, pen))
    live = st.toggle("Predict after every stroke", value=True, key="live")
    tta = st.toggle("Ensemble of 5 (test-time augmentation)", value=model.tta, key="tta")
    if image is None:
        _show_number(None, None)
        return
    signature = _signature(image, tta, "number")
    if (live or asked) and signature != state.drawing_signature:
        # The strokes keep digits that touch or overlap apart (the image alone is read where they do not match it).
        reading = model.read_number(image, tta=tta, strokes=pen_strokes(objects, image.shape[1] / NUMBER_CANVAS[0]))
        state.reading, state.drawing_signature = reading, signature
        if reading.digits:
            thumbnail = np.asarray(Image.fromarray(image).convert("L").resize((84, 28), Image.Resampling.BOX))
            confidence = min(d.confidence for d in reading.digits)
            _record(255 - thumbnail, reading.text, confidence, "")
    _show_number(image, state.get("reading") if signature == state.drawing_signature else None)


def _show_history() -> None:
    history = st.session_state.history
    st.subheader("Your predictions")
    if not history:
        st.caption("Nothing yet: the answers to your drawings will be listed here.")
        return
    st.dataframe(
        list(reversed(history)),
        column_config={
            "thumbnail": st.column_config.ImageColumn("drawing", width="small"),
            "confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0, format="percent"),
        },
        column_order=["thumbnail", "time", "answer", "confidence", "top3", "model"],
        hide_index=True,
    )
    st.download_button(
        "Download as CSV",
        _history_csv(history),
        file_name="digitrec-predictions.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def page() -> None:
    apply_style()
    state = st.session_state
    for name, value in {
        "canvas_version": 0,
        "initial_drawing": None,
        "images_by_strokes": {},
        "restored_image": None,
        "history": [],
        "prediction": None,
        "drawing_signature": None,
    }.items():
        state.setdefault(name, value)

    st.title("Draw a number" if state.get("mode") == "Number" else "Draw a digit")  # the mode picked below
    problem = model_problem(selected_model())
    if problem:
        st.error(f"The model can't be used: {problem}")
        st.info("Open **Train** in the menu to train a new model, or pick another model there.")
        return
    model = recognizer(selected_model())
    st.caption(f"Reading with the model **{selected_model().stem}**: pick another in the menu.")

    mode_column, pen_column = st.columns([1, 2])
    with mode_column:
        mode = st.segmented_control("Mode", ["Digit", "Number"], default="Digit", key="mode") or "Digit"
    with pen_column:
        pen = st.slider("Pen width", 4, 40, 20, key="pen")
    if state.get("drawn_mode") != mode:  # a new mode starts on a clean canvas
        state.drawn_mode, state.initial_drawing, state.images_by_strokes = mode, None, {}
        state.canvas_version += 1
    (_number_mode if mode == "Number" else _digit_mode)(model, pen)
    _show_history()
