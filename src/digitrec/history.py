"""The training history beside the model: a CSV of every validation check and a PNG of the curves."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from digitrec.files import write_bytes_atomically


def history_paths(model_path: Path) -> tuple[Path, Path]:
    """`models/digitrec.onnx` -> `models/digitrec.history.csv`, `models/digitrec.curves.png`."""
    return model_path.with_suffix(".history.csv"), model_path.with_suffix(".curves.png")


def save_history(history: list[dict], model_path: Path) -> tuple[Path, Path]:
    csv_path, png_path = history_paths(model_path)
    if not history:
        return csv_path, png_path
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    write_bytes_atomically(csv_path, text.getvalue().encode())
    write_bytes_atomically(png_path, plot_history(history))
    return csv_path, png_path


def load_history(model_path: Path) -> list[dict]:
    csv_path, _ = history_paths(model_path)
    with open(csv_path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def plot_history(history: list[dict]) -> bytes:
    """Loss and accuracy curves, train against validation, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], label="train (augmented)")
    ax_loss.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss", yscale="log")
    ax_acc.plot(epochs, [h["train_accuracy"] for h in history], label="train (augmented)")
    ax_acc.plot(epochs, [h["val_accuracy"] for h in history], label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0.97, 1.0))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()
