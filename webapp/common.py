"""What every page shares: the model the user picked, loaded once and cached, and MNIST."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from digitrec.card import ModelError, card_path, default_model_path, find_models, load_verified_card, read_card
from digitrec.data import DataError, Split, load_split
from digitrec.evaluate import Evaluation, evaluate_split
from digitrec.recognize import Recognizer

STYLESHEET = Path(__file__).with_name("style.css")


def models_dir() -> Path:
    return default_model_path().parent


def selected_model() -> Path:
    """The model the canvas uses: the user's pick, else the default."""
    return Path(st.session_state.get("model_path") or default_model_path())


def model_choices() -> list[Path]:
    return find_models(models_dir())


def model_problem(path: Path) -> str | None:
    """Why this model cannot be used (missing, no card, checksum mismatch), or None.

    Checked once per version of the files (their size and modification time), not on every
    rerun: hashing the model each time a stroke ends would slow every answer down."""
    stamps = tuple((p.stat().st_size, p.stat().st_mtime_ns) if p.exists() else None for p in (path, card_path(path)))
    return _model_problem(str(path), stamps)


@st.cache_data(max_entries=32)
def _model_problem(path: str, stamps: tuple) -> str | None:
    try:
        load_verified_card(Path(path))
    except ModelError as e:
        return str(e)
    return None


@st.cache_resource(max_entries=8)
def _recognizer(path: str, sha256: str) -> Recognizer:  # sha256 in the key: a retrained file reloads
    return Recognizer(path)


def recognizer(path: Path) -> Recognizer:
    return _recognizer(str(path), read_card(path)["sha256"])


@st.cache_resource
def mnist_test() -> Split | None:
    try:
        return load_split("test")
    except DataError:
        return None


@st.cache_data(max_entries=8, show_spinner="Scoring the model on the 10,000 MNIST test digits...")
def _evaluation(path: str, sha256: str) -> Evaluation:
    return evaluate_split(Path(path), mnist_test(), with_tta=False)


def evaluation(path: Path) -> Evaluation | None:
    """The model's answers on MNIST test, or None without MNIST. Read from its card, which
    records them; scored here (once per model file) only for a card written before it did."""
    test = mnist_test()
    if test is None:
        return None
    card = read_card(path)
    try:
        return Evaluation.from_summary(card.get("metrics", {}).get("test", {}), test.labels)
    except ValueError:
        return _evaluation(str(path), card["sha256"])


@functools.cache
def _stylesheet() -> str:
    return STYLESHEET.read_text()


def apply_style() -> None:
    st.html(f"<style>{_stylesheet()}</style>")  # read once per process, not on every rerun


def training_curves(history: list[dict]) -> None:
    """Loss and accuracy, train against validation, side by side."""
    epochs = [h["epoch"] for h in history]
    for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
        column.line_chart(
            {
                "epoch": epochs,
                "train": [h[f"train_{metric}"] for h in history],
                "validation": [h[f"val_{metric}"] for h in history],
            },
            x="epoch",
            y=["train", "validation"],
            y_label=metric,
        )
