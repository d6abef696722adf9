"""Measure a model on MNIST through the serving path (ONNX Runtime), with and without
test-time augmentation: accuracy, per-class accuracy, confusion matrix, the digits it gets wrong."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitrec.data import Split
from digitrec.recognize import Recognizer


@dataclass(frozen=True)
class Evaluation:
    labels: np.ndarray  # (N,)
    predictions: np.ndarray  # (N,) without test-time augmentation
    tta_predictions: np.ndarray | None  # (N,) with it, when measured

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.labels).mean())

    @property
    def tta_accuracy(self) -> float | None:
        return None if self.tta_predictions is None else float((self.tta_predictions == self.labels).mean())

    def confusion_matrix(self) -> np.ndarray:
        """Rows: true digit; columns: predicted digit."""
        matrix = np.zeros((10, 10), dtype=np.int64)
        np.add.at(matrix, (self.labels, self.predictions), 1)
        return matrix

    def per_class_accuracy(self) -> list[float]:
        matrix = self.confusion_matrix()
        return [float(matrix[d, d] / max(1, matrix[d].sum())) for d in range(10)]

    def mistakes(self) -> np.ndarray:
        """Indices of the images the model gets wrong (without test-time augmentation)."""
        return np.flatnonzero(self.predictions != self.labels)

    def summary(self) -> dict:
        out = {"accuracy": self.accuracy, "count": len(self.labels)}
        if self.tta_predictions is not None:
            out["tta_accuracy"] = self.tta_accuracy
        out["per_class_accuracy"] = [round(a, 6) for a in self.per_class_accuracy()]
        out["confusion_matrix"] = self.confusion_matrix().tolist()
        return out


def evaluate_split(model: Path | Recognizer, split: Split, with_tta: bool = True) -> Evaluation:
    """MNIST images go in as they are (already 28x28, white on black), normalised as the card says."""
    recognizer = model if isinstance(model, Recognizer) else Recognizer(model, threads=os.cpu_count() or 1)
    images = split.images.astype(np.float32) / 255.0
    predictions = recognizer.probabilities(images).argmax(axis=1)
    tta_predictions = recognizer.probabilities(images, tta=True).argmax(axis=1) if with_tta else None
    return Evaluation(labels=split.labels, predictions=predictions, tta_predictions=tta_predictions)
