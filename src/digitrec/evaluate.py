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
        # [index, what it read as] of each image it gets wrong (one pass): with the labels, this
        # is every answer, so the app shows mistakes and compares models without scoring again.
        out["mistakes"] = [[int(i), int(self.predictions[i])] for i in self.mistakes()]
        return out

    @classmethod
    def from_summary(cls, summary: dict, labels: np.ndarray) -> Evaluation:
        """The one-pass answers a summary records (see `summary`), on the split of these labels."""
        if summary.get("count") != len(labels) or "mistakes" not in summary:
            raise ValueError("the summary does not record the answers on this split")
        predictions = labels.copy()
        for index, read_as in summary["mistakes"]:
            if not (0 <= index < len(labels) and 0 <= read_as <= 9 and read_as != labels[index]):
                raise ValueError(f"the summary's mistake {[index, read_as]} is not a wrong answer on this split")
            predictions[index] = read_as
        return cls(labels=labels, predictions=predictions, tta_predictions=None)


def evaluate_split(model: Path | Recognizer, split: Split, with_tta: bool = True) -> Evaluation:
    """MNIST images go in as they are (already 28x28, white on black), normalised as the card says."""
    recognizer = model if isinstance(model, Recognizer) else Recognizer(model, threads=os.cpu_count() or 1)
    images = split.images.astype(np.float32) / 255.0
    predictions = recognizer.probabilities(images).argmax(axis=1)
    tta_predictions = recognizer.probabilities(images, tta=True).argmax(axis=1) if with_tta else None
    return Evaluation(labels=split.labels, predictions=predictions, tta_predictions=tta_predictions)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """How far confidence is from accuracy, averaged over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_probabilities = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature scaling: the single T minimising the validation NLL of softmax(logits / T)
    (golden-section search over log T). It changes confidences, never the predicted digit."""
    low, high = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if _nll(logits, labels, np.exp(a)) < _nll(logits, labels, np.exp(b)):
            high = b
        else:
            low = a
    return float(np.exp((low + high) / 2))
