"""digitrec in the browser: draw a digit, see what the model reads.

Start it with `streamlit run app.py`. This page is a thin layer over `digitrec.Recognizer`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitrec.card import ModelError
from digitrec.recognize import Recognizer

st.set_page_config(page_title="digitrec", page_icon="✍️", layout="centered")


@st.cache_resource
def load_recognizer() -> Recognizer:
    return Recognizer()


st.title("digitrec")
st.caption("Draw a digit. The model reads it as you draw.")

try:
    recognizer = load_recognizer()
except ModelError as e:
    st.error(f"No usable model: {e}")
    st.stop()

drawing, answer = st.columns(2)
with drawing:
    canvas = st_canvas(
        stroke_width=18,
        stroke_color="#000000",
        background_color="#ffffff",
        width=280,
        height=280,
        return_image_data=True,
        key="canvas",
    )
with answer:
    image = canvas.image_data if canvas is not None else None
    prediction = recognizer.predict(image) if image is not None else None
    if prediction is None or prediction.status == "empty":
        st.subheader("Draw a digit")
    else:
        if prediction.digit is None:
            st.subheader("Not sure")
        else:
            st.markdown(f"<h1 style='font-size:6rem;margin:0'>{prediction.digit}</h1>", unsafe_allow_html=True)
        st.write(f"Confidence {prediction.confidence:.1%}")
        st.write("Top 3: " + ", ".join(f"{d} ({p:.1%})" for d, p in prediction.top3))
        st.image(np.kron(prediction.image, np.ones((6, 6), dtype=np.uint8)), caption="What the model saw (28x28)")
