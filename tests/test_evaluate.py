"""Calibration: temperature scaling recovers a known temperature; ECE tells calibrated from not."""

from __future__ import annotations

import numpy as np

from digitrec.evaluate import expected_calibration_error, fit_temperature
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
