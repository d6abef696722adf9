"""Calibration: temperature scaling recovers a known temperature; ECE tells calibrated from not.
A summary records every answer, so the app can show them without scoring again."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.evaluate import Evaluation, expected_calibration_error, fit_temperature
from digitrec.recognize import softmax


def _sample(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    probabilities = softmax(logits)
    return np.array([rng.choice(10, p=p) for p in probabilities])


def test_fit_temperature_recovers_how_overconfident_the_scores_are():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2.5, size=(4000, 10))
    labels = _sample(true_logits, rng)
    assert abs(fit_temperature(true_logits * 3.0, labels) - 3.0) < 0.3
    assert abs(fit_temperature(true_logits / 2.0, labels) - 0.5) < 0.05


def test_expected_calibration_error_is_small_only_when_calibrated():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2.5, size=(4000, 10))
    labels = _sample(logits, rng)
    calibrated = expected_calibration_error(softmax(logits), labels)
    overconfident = expected_calibration_error(softmax(logits * 4), labels)
    assert calibrated < 0.03 < overconfident


def test_a_summary_records_every_answer():
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    predictions = np.array([3, 7, 4, 1, 3, 9, 2, 6])
    summary = Evaluation(labels, predictions, tta_predictions=None).summary()
    assert summary["mistakes"] == [[1, 7], [4, 3]]
    again = Evaluation.from_summary(summary, labels)
    assert np.array_equal(again.predictions, predictions) and again.accuracy == summary["accuracy"]
    with pytest.raises(ValueError, match="does not record"):
        Evaluation.from_summary(summary, labels[:5])  # another split
    with pytest.raises(ValueError, match="does not record"):
        Evaluation.from_summary({"accuracy": 0.75, "count": 8}, labels)  # a card from before the list
    for damaged in ([8, 1], [1, 10], [1, 1]):  # past the split, no digit, not a mistake (a hand-edited card)
        with pytest.raises(ValueError, match="not a wrong answer"):
            Evaluation.from_summary({**summary, "mistakes": [damaged]}, labels)
