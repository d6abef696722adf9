"""digitrec in the browser: draw a digit, see what the model reads and why.

Start it with `streamlit run app.py`. The pages live in webapp/ and are thin layers over the
digitrec library; the model is loaded once per file (cached), not on every interaction.
"""

from __future__ import annotations

import streamlit as st
from webapp import draw, model, train
from webapp.common import model_choices, selected_model

st.set_page_config(page_title="digitrec", page_icon="✍️", layout="wide")

choices = model_choices()
if choices:
    current = selected_model()
    picked = st.sidebar.selectbox(
        "Model used by the canvas",
        choices,
        index=choices.index(current) if current in choices else 0,
        format_func=lambda path: path.stem,
        key="model_picker",
    )
    st.session_state.model_path = str(picked)
st.sidebar.caption("digitrec: a small CNN trained on MNIST, served with ONNX Runtime.")

navigation = st.navigation(
    [
        st.Page(draw.page, title="Draw", icon=":material/draw:", url_path="draw", default=True),
        st.Page(model.page, title="Model", icon=":material/analytics:", url_path="model"),
        st.Page(train.page, title="Train", icon=":material/model_training:", url_path="train"),
    ]
)
navigation.run()
