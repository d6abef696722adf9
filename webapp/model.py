"""The model card, measured: accuracy, per-class accuracy, confusion matrix, training curves,
the test digits it gets wrong, and a side-by-side comparison when there are several models."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import streamlit as st

from digitrec.card import read_card
from digitrec.history import load_history
from webapp.common import (
    apply_style,
    evaluation,
    mnist_test,
    model_choices,
    model_problem,
    recognizer,
    selected_model,
    training_curves,
)

MISTAKES_SHOWN = 32


def _confusion_figure(matrix: np.ndarray):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    shown = np.log1p(matrix)  # the diagonal dwarfs the mistakes otherwise
    ax.imshow(shown, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize=7, color="white" if row == col else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit")
    ax.set_title("Confusion matrix, MNIST test", fontsize=10)
    fig.tight_layout()
    return fig


@st.cache_data(max_entries=8)
def _ms_per_image(path: str, sha256: str) -> float:
    """Network time per image (no preprocessing), median of a few batches of 64 MNIST test digits."""
    model = recognizer(Path(path))
    images = mnist_test().images[:64].astype(np.float32) / 255
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        model.probabilities(images)
        timings.append((time.perf_counter() - started) / len(images) * 1000)
    return float(np.median(timings))


def _show_card(path: Path, card: dict) -> None:
    test = card.get("metrics", {}).get("test", {})
    training = card.get("training", {})
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{test['accuracy']:.2%}" if "accuracy" in test else "—")
    cols[1].metric("With test-time augmentation", f"{test['tta_accuracy']:.2%}" if "tta_accuracy" in test else "—")
    cols[2].metric("Parameters", f"{card.get('parameters', 0):,}")
    cols[3].metric("Size", f"{path.stat().st_size / 1024:.0f} KB")
    st.caption(
        f"Architecture **{card.get('architecture', '?')}**, trained with `{training.get('command') or 'digitrec train'}` "
        f"for {training.get('epochs_run', '?')} epochs ({training.get('train_time_s') or 0:.0f} s); "
        f"best validation epoch {training.get('best_epoch', '?')}. Created {card.get('created', '?')}."
    )
    if "per_class_accuracy" in test:
        left, right = st.columns(2)
        with left:
            st.markdown("**Accuracy per digit**")
            st.bar_chart({"digit": [str(d) for d in range(10)], "accuracy": test["per_class_accuracy"]}, x="digit", y="accuracy")
        with right:
            st.pyplot(_confusion_figure(np.array(test["confusion_matrix"])), width="content")


def _show_history(path: Path) -> None:
    try:
        history = load_history(path)
    except FileNotFoundError:
        st.caption("No training history was saved with this model.")
        return
    st.markdown("**Training curves**")
    training_curves(history)


def _digit_grid(indices: np.ndarray, captions: list[str]) -> None:
    images = mnist_test().images
    columns = st.columns(8)
    for slot, (index, caption) in enumerate(zip(indices, captions, strict=True)):
        columns[slot % 8].image(np.kron(images[index], np.ones((3, 3), dtype=np.uint8)), caption=caption)


def _show_mistakes(path: Path) -> None:
    result = evaluation(path)
    if result is None:
        st.info("MNIST is not available here (set DIGITREC_DATA), so the mistakes can't be shown.")
        return
    wrong = result.mistakes()
    st.markdown(f"**The test digits it gets wrong** ({len(wrong)} of {len(result.labels):,}, without test-time augmentation)")
    shown = wrong[:MISTAKES_SHOWN]
    _digit_grid(shown, [f"{result.labels[i]} read as {result.predictions[i]}" for i in shown])


def _show_comparison(models: list[Path]) -> None:
    st.header("Compare models")
    usable = [m for m in models if model_problem(m) is None]
    cards = {m: read_card(m) for m in usable}
    rows = []
    for path, card in cards.items():
        test = card.get("metrics", {}).get("test", {})
        rows.append(
            {
                "model": path.stem,
                "architecture": card.get("architecture"),
                "parameters": card.get("parameters"),
                "size (KB)": round(path.stat().st_size / 1024),
                "test accuracy": test.get("accuracy"),
                "with TTA": test.get("tta_accuracy"),
                "ms per image": round(_ms_per_image(str(path), card["sha256"]), 3) if mnist_test() is not None else None,
            }
        )
    st.dataframe(rows, hide_index=True)
    per_class = {
        path.stem: card["metrics"]["test"]["per_class_accuracy"]
        for path, card in cards.items()
        if "per_class_accuracy" in card.get("metrics", {}).get("test", {})
    }
    if per_class:
        st.markdown("**Accuracy per digit**")
        st.bar_chart({"digit": [str(d) for d in range(10)], **per_class}, x="digit", y=list(per_class), stack=False)

    evaluations = {path: evaluation(path) for path in usable}
    if len(usable) >= 2 and all(e is not None for e in evaluations.values()):
        answers = np.stack([e.predictions for e in evaluations.values()])
        disagree = np.flatnonzero((answers != answers[0]).any(axis=0))
        labels = next(iter(evaluations.values())).labels
        st.markdown(f"**Test digits on which they disagree** ({len(disagree)})")
        shown = disagree[:MISTAKES_SHOWN]
        captions = [f"{labels[i]}: " + " / ".join(str(a) for a in answers[:, i]) for i in shown]
        st.caption("Caption: true digit, then each model's answer in the table's order.")
        _digit_grid(shown, captions)


def page() -> None:
    apply_style()
    path = selected_model()
    st.title("The model")
    problem = model_problem(path)
    if problem:
        st.error(f"The model can't be used: {problem}")
        st.info("Open **Train** in the menu to train a new one.")
        return
    st.subheader(path.stem)
    _show_card(path, read_card(path))
    _show_history(path)
    _show_mistakes(path)
    models = model_choices()
    if len(models) > 1:
        _show_comparison(models)
    else:
        st.caption("Train another model (for example the `original` architecture) to compare them side by side.")
