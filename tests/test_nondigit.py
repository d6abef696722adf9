"""The not-a-digit detector: letters and signs are declined, digits are still read.

The letters here are drawn from the tests' own strokes (`strokes.LETTER_STROKES`), as a hand
prints them; the detector was fitted on the Hershey fonts' letters, never on these."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from digitrec import nondigit
from digitrec.data import Split
from digitrec.export import onnx_bytes
from digitrec.model import build_model
from digitrec.recognize import NOT_DIGIT_OUTPUT
from strokes import LETTER_STROKES, render

APP_INK = (17, 17, 17, 255)
WHITE, TRANSPARENT = (255, 255, 255, 255), (0, 0, 0, 0)


def letter_canvas(letter: str, size: int = 320, pen: int = 20, background: tuple[int, ...] = WHITE) -> np.ndarray:
    return np.asarray(render(LETTER_STROKES[letter], size, pen, ink=APP_INK, background=background))


@pytest.mark.parametrize("background", [WHITE, TRANSPARENT], ids=["white", "transparent"])
@pytest.mark.parametrize("letter", sorted(LETTER_STROKES))
def test_letters_drawn_with_the_app_pen_are_declined(recognizer, letter, background):
    prediction = recognizer.predict(letter_canvas(letter, background=background))
    assert prediction.digit is None and prediction.status == "not a digit", letter
    assert len(prediction.top3) == 3  # what the network guessed is still there to show


@pytest.mark.parametrize(("size", "pen"), [(320, 8), (600, 3), (200, 30), (320, 40)], ids=["fine", "stylus", "finger", "fat"])
def test_most_letters_are_declined_with_other_pens(recognizer, size, pen):
    answers = {letter: recognizer.predict(letter_canvas(letter, size, pen)).digit for letter in LETTER_STROKES}
    read_as_digits = [letter for letter, digit in answers.items() if digit is not None]
    assert len(read_as_digits) <= 1, read_as_digits  # measured: none or 1 of the 18 (R, with three pens)


@pytest.mark.parametrize(("size", "pen"), [(320, 8), (600, 3), (200, 30), (320, 40)], ids=["fine", "stylus", "finger", "fat"])
def test_letters_drawn_with_any_pen_are_declined_with_their_strokes(recognizer, size, pen):
    """As the app reads its canvas: the strokes drawn afresh with the app's pen are declined as that pen's are."""
    read_as_digits = []
    for letter, strokes in LETTER_STROKES.items():
        in_pixels = [size * np.array(stroke) for stroke in strokes]
        if recognizer.predict(letter_canvas(letter, size, pen), strokes=in_pixels).digit is not None:
            read_as_digits.append(letter)
    assert read_as_digits == []


def test_the_detector_keeps_mnist_digits(recognizer, mnist_test):
    """As served (with TTA), it calls 2 of the 10,000 MNIST test digits no digit."""
    scores = recognizer.not_digit_scores(mnist_test.images / 255.0, tta=True)
    assert np.sum(scores >= recognizer.not_digit_threshold) <= 5


def test_the_onnx_detector_computes_what_the_torch_one_does():
    network = build_model("compact").eval()
    rng = np.random.default_rng(0)
    digits, glyphs = rng.normal(0, 1, (300, 128)), rng.normal(1, 1, (100, 128))
    detector = nondigit.fit_detector(digits.astype(np.float32), glyphs.astype(np.float32))
    model = nondigit.with_detector(onnx.load_from_string(onnx_bytes(network)), detector)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = torch.rand(4, 1, 28, 28)
    logits, not_digit = session.run(["logits", NOT_DIGIT_OUTPUT], {"image": x.numpy()})
    with torch.no_grad():
        expected = torch.sigmoid(detector(network.features(x))).numpy()
        np.testing.assert_allclose(logits, network(x).numpy(), rtol=1e-4, atol=1e-4)  # the digits are untouched
    np.testing.assert_allclose(not_digit, expected, rtol=1e-4, atol=1e-5)


def test_every_glyph_the_detector_learns_from_is_in_the_fonts():
    glyphs = nondigit.glyph_strokes(nondigit.TRAINING_GLYPHS)
    assert len(glyphs) == sum(len(characters) for characters in nondigit.TRAINING_GLYPHS.values())
    assert all(len(strokes) >= 1 for _, _, strokes in glyphs)


def test_fitting_a_second_detector_is_refused_and_changes_nothing(model_path):
    before = model_path.read_bytes(), model_path.with_suffix(".json").read_bytes()
    command = [sys.executable, "-m", "digitrec.cli", "fit-not-digit", "--model", str(model_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "already has a not-a-digit detector" in result.stderr
    assert "Traceback" not in result.stderr
    assert (model_path.read_bytes(), model_path.with_suffix(".json").read_bytes()) == before


def test_a_detector_taken_out_leaves_the_network_as_it_was():
    """What `fit-not-digit --refit` starts from: the network alone, its digits untouched."""
    network = build_model("compact").eval()
    rng = np.random.default_rng(0)
    detector = nondigit.fit_detector(
        rng.normal(0, 1, (60, 128)).astype(np.float32), rng.normal(1, 1, (20, 128)).astype(np.float32)
    )
    alone = onnx.load_from_string(onnx_bytes(network))
    with_one = nondigit.with_detector(onnx.load_from_string(onnx_bytes(network)), detector)
    taken_out = nondigit.without_detector(with_one)
    assert [o.name for o in taken_out.graph.output] == [o.name for o in alone.graph.output]
    assert len(taken_out.graph.node) == len(alone.graph.node)
    assert {t.name for t in taken_out.graph.initializer} == {t.name for t in alone.graph.initializer}
    x = {"image": np.random.default_rng(1).random((2, 1, 28, 28), dtype=np.float32)}
    run = [
        ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, x) for m in (alone, taken_out)
    ]
    np.testing.assert_array_equal(run[0][0], run[1][0])
    refitted = nondigit.with_detector(taken_out, detector)  # and a detector can go in again
    assert NOT_DIGIT_OUTPUT in [o.name for o in refitted.graph.output]


def test_an_ensemble_computes_the_mean_of_its_members_and_shows_their_features_side_by_side():
    from digitrec.ensemble import averaged

    torch.manual_seed(0)
    networks = [build_model("compact").eval() for _ in range(2)]
    model = averaged([onnx.load_from_string(onnx_bytes(n)) for n in networks], "image", "logits")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = torch.rand(3, 1, 28, 28)
    (logits,) = session.run(["logits"], {"image": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, (networks[0](x) + networks[1](x)).numpy() / 2, rtol=1e-4, atol=1e-5)
        features = torch.cat([n.features(x) for n in networks], dim=1).numpy()
    model.graph.output.append(onnx.helper.make_tensor_value_info(nondigit.feature_name(model), onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run([nondigit.FEATURES], {"image": x.numpy()})[0], features, rtol=1e-4, atol=1e-5)


def test_the_detector_learns_digits_from_what_the_network_trained_on():
    """A quick run (`--train-limit`) trained on the first images only: so does its detector."""
    kept = Split(np.zeros((50, 28, 28), dtype=np.uint8), np.zeros(50, dtype=np.int64))
    card = {"training": {"settings": {"train_limit": 20}}, "pen_data": None}
    assert len(nondigit.training_digits(card, kept, None)) == 20
    card["training"]["settings"]["train_limit"] = None
    assert len(nondigit.training_digits(card, kept, None)) == 50
