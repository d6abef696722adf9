"""Recognise a digit in any image, with ONNX Runtime only (no torch at prediction time)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
from scipy import ndimage

from digitrec.card import default_model_path, load_verified_card
from digitrec.preprocess import ImageInput, Preprocessed, crop_to_ink, preprocess, read_ink
from digitrec.segment import segment_number, split_digits
from digitrec.shape import not_a_digit, not_a_number, pieces_side_by_side
from digitrec.strokes import Strokes

DEFAULT_THRESHOLD = 0.5  # below this confidence the recognizer declines (digit None)
ONE_FOR_SEVEN = [0, 7, 2, 3, 4, 5, 6, 1, 8, 9]  # the probabilities of 1 and 7 swapped
NOT_DIGIT_OUTPUT = "not_digit"  # the not-a-digit detector's output, in a model that has one (see digitrec.nondigit)

# Test-time augmentation: the image itself and four slight variations (degrees, scale).
TTA_TRANSFORMS: tuple[tuple[float, float], ...] = ((0.0, 1.0), (-8.0, 1.0), (8.0, 1.0), (0.0, 0.9), (0.0, 1.1))


@dataclass(frozen=True)
class Prediction:
    digit: int | None  # None when nothing is drawn, the model is not sure enough or it is plainly no digit
    confidence: float  # probability of the most likely digit (0 when nothing is drawn)
    probabilities: list[float]  # all ten, summing to 1 (all zero when nothing is drawn)
    top3: list[tuple[int, float]]
    image: np.ndarray | None  # (28, 28) uint8: what the network saw
    # "ok", "unsure" (below the threshold), "not a digit" (a dot, line, blob, scribble or letter),
    # "several digits" (a number, given where one digit was expected) or "empty"
    status: str
    box: tuple[int, int, int, int] | None = None  # where the ink is in the input image
    # With test-time augmentation: each version the network saw, and its vote.
    versions: list[np.ndarray] = field(default_factory=list)
    votes: list[int] = field(default_factory=list)
    number: str | None = None  # with status "several digits": the digits the drawing reads as

    def to_json(self) -> dict:
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "top3": [[d, round(p, 6)] for d, p in self.top3],
            "status": self.status,
        }


@dataclass(frozen=True)
class NumberReading:
    digits: list[Prediction]  # left to right
    not_a_number: str | None = None  # what the drawing plainly is when it is no digits at all ("a line")

    @property
    def text(self) -> str:
        """The digits read, with "?" for each one the model is not sure of ("" when nothing is drawn)."""
        return "".join("?" if d.digit is None else str(d.digit) for d in self.digits)

    def to_json(self) -> dict:
        return {
            "number": self.text,
            "digits": [{**d.to_json(), "box": list(d.box) if d.box else None} for d in self.digits],
            "not_a_number": self.not_a_number,
        }


def tta_versions(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) float -> (N, 5, 28, 28): each image and slightly rotated and scaled copies."""
    centre = np.array([0.0, *((np.array(images.shape[1:]) - 1) / 2)])
    versions = []
    for degrees, scale in TTA_TRANSFORMS:
        if degrees == 0 and scale == 1:
            versions.append(images)
            continue
        a = math.radians(degrees)
        # affine_transform maps output coordinates to input ones (the inverse transform);
        # the first axis is the batch, left alone.
        matrix = np.eye(3)
        matrix[1:, 1:] = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) / scale
        offset = centre - matrix @ centre
        versions.append(ndimage.affine_transform(images, matrix, offset=offset, order=1, mode="constant", cval=0.0))
    return np.stack(versions, axis=1).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


class Recognizer:
    """Loads a model once (checked against its card) and answers many predictions."""

    def __init__(
        self, model_path: str | Path | None = None, tta: bool = True, threshold: float = DEFAULT_THRESHOLD, threads: int = 1
    ) -> None:
        """`threads` > 1 pays off for large batches (evaluation), not for one drawing at a time."""
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.card, onnx_bytes = load_verified_card(self.model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        spec = self.card["input"]
        self.input_name = spec["name"]
        self.mean, self.std = float(spec["mean"]), float(spec["std"])
        self.outputs_logits = self.card["output"] == "logits"
        self.temperature = float(self.card.get("temperature", 1.0))
        self.tta = tta
        self.threshold = threshold
        # The detector's score is read wherever the network has it; it declines only with a
        # threshold, which the card gives once it has been measured.
        has_detector = NOT_DIGIT_OUTPUT in [output.name for output in self.session.get_outputs()]
        self.output_names = [self.card["output_name"], *([NOT_DIGIT_OUTPUT] if has_detector else [])]
        detector = self.card.get("not_digit")
        self.not_digit_threshold = float(detector["threshold"]) if detector else None

    def probabilities(self, images: np.ndarray, tta: bool = False, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) MNIST-style floats in [0, 1] -> (N, 10) probabilities."""
        return self._scores(images, tta, batch_size)[0]

    def not_digit_scores(self, images: np.ndarray, tta: bool = False, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) MNIST-style floats in [0, 1] -> (N,) how likely each is no digit at all (0-1).

        From the model's not-a-digit detector (see `digitrec.nondigit`); all zeros for a model without one."""
        return self._scores(images, tta, batch_size)[1]

    def _scores(self, images: np.ndarray, tta: bool, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        probabilities, not_digit = [np.zeros((0, 10), dtype=np.float32)], [np.zeros(0, dtype=np.float32)]
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].astype(np.float32)
            versions = len(TTA_TRANSFORMS) if tta else 1
            stacked = tta_versions(batch).reshape(-1, *batch.shape[1:]) if tta else batch
            p, n = self._run(stacked)
            probabilities.append(p.reshape(len(batch), versions, 10).mean(axis=1))
            not_digit.append(n.reshape(len(batch), versions).mean(axis=1))
        return np.concatenate(probabilities), np.concatenate(not_digit)

    def logits(self, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) MNIST-style floats in [0, 1] -> (N, 10) raw network scores (for calibration)."""
        if not self.outputs_logits:
            raise ValueError(f"{self.model_path} outputs probabilities, not logits")
        batches = [self._network(images[i : i + batch_size])[0] for i in range(0, len(images), batch_size)]
        return np.concatenate(batches) if batches else np.zeros((0, 10), dtype=np.float32)

    def _network(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network's ten scores per image, and its not-a-digit score (zeros without a detector)."""
        x = ((images.astype(np.float32) - self.mean) / self.std)[:, None, :, :]
        logits, *not_digit = self.session.run(self.output_names, {self.input_name: x})
        return logits, not_digit[0][:, 0] if not_digit else np.zeros(len(x), dtype=np.float32)

    def _run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, not_digit = self._network(images)
        return (softmax(scores / self.temperature) if self.outputs_logits else scores), not_digit

    def predict(self, source: ImageInput, tta: bool | None = None, strokes: Strokes | None = None) -> Prediction:
        """Recognise the digit in one image (path, bytes, PIL image or numpy array).

        `strokes`: the pen strokes in the order drawn, each a list of (x, y) points in the
        image's pixels, where they are known (a canvas knows them): the network then reads them
        drawn afresh with the app's pen, so a finger-wide pen that fills in loops reads as well
        as a fine one (see `digitrec.preprocess.preprocess`).

        A drawing of several digits side by side is no digit: the network would read it as one
        all the same (a 2026 as a 0), or, read as one, call it no digit at all; it is declined as
        "several digits" (read it with `read_number`). The network's guesses stay in top3."""
        prepared = preprocess(source, strokes)
        prediction = self._recognise(prepared, self.tta if tta is None else tta)
        number = self._several_digits(prepared.ink) if prediction.status != "empty" else None
        return prediction if number is None else replace(prediction, digit=None, status="several digits", number=number)

    def _several_digits(self, ink: np.ndarray | None) -> str | None:
        """The digits read when the ink stands in tall pieces apart (cheap, and rare in one digit)
        and reads as two or more sure digits; else None."""
        if ink is None or not pieces_side_by_side(ink):
            return None
        digits = split_digits(ink, score=self.probabilities)
        if len(digits) < 2 or min(d.probabilities.max() for d in digits) < self.threshold:
            return None
        return "".join(str(d.probabilities.argmax()) for d in digits)

    def read_number(self, source: ImageInput, tta: bool | None = None, strokes: Strokes | None = None) -> NumberReading:
        """Read several digits written left to right: each digit's answer, confidence and box.

        `strokes`: the pen strokes in the order drawn, each a list of (x, y) points in the
        image's pixels, where they are known (a canvas knows them): digits that touch or overlap
        are then kept apart by who drew which ink, not by where the ink thins."""
        use_tta = self.tta if tta is None else tta
        ink_map = read_ink(source, strokes)
        if ink_map is None:
            return NumberReading([])
        top, bottom, left, right = crop_to_ink(ink_map.ink)
        if (plainly := not_a_number(ink_map.ink[top:bottom, left:right])) is not None:
            return NumberReading([], not_a_number=plainly)  # a dot or a line would read as digits all the same
        digits = segment_number(ink_map, score=self.probabilities, strokes=strokes)
        # Segmentation already chose pieces that read as digits; the not-a-digit checks, made for
        # whole drawings, misfire on those pieces (measured: they wrongly declined a digit in 8 of
        # 1,000 composed numbers), so within a number they are not applied.
        return NumberReading([self._recognise(digit, use_tta, decline_non_digits=False) for digit in digits])

    def _recognise(self, prepared: Preprocessed, use_tta: bool, decline_non_digits: bool = True) -> Prediction:
        if prepared.image is None:
            return Prediction(None, 0.0, [0.0] * 10, [], None, "empty")
        image = prepared.image
        versions, votes = [], []
        if use_tta:
            stacked = tta_versions(image[None])[0]
            per_version, not_digit = self._run(stacked)
            probabilities = per_version.mean(axis=0)
            versions = [(v * 255).round().astype(np.uint8) for v in stacked]
            votes = [int(p.argmax()) for p in per_version]
        else:
            per_version, not_digit = self._run(image[None])
            probabilities = per_version[0]
        if prepared.flagged_one and probabilities[7] > probabilities[1]:
            # Written stem first, then a flag from its top: a one, though its shape reads as a seven.
            probabilities = probabilities[ONE_FOR_SEVEN]
            votes = [1 if vote == 7 else vote for vote in votes]
        order = np.argsort(probabilities)[::-1]
        confidence = float(probabilities[order[0]])
        # A dot, a line, a blob, a scribble or a letter gets a confident digit from the network all
        # the same: the shape of the ink (or of its strokes, a colouring-in), or the not-a-digit
        # detector, declines it whatever the model says (the guesses stay in top3).
        plainly_not = decline_non_digits and (
            prepared.scribble
            or (prepared.ink is not None and not_a_digit(prepared.ink) is not None)
            or (self.not_digit_threshold is not None and float(not_digit.mean()) >= self.not_digit_threshold)
        )
        sure = confidence >= self.threshold and not plainly_not
        return Prediction(
            digit=int(order[0]) if sure else None,
            confidence=confidence,
            probabilities=[float(p) for p in probabilities],
            top3=[(int(d), float(probabilities[d])) for d in order[:3]],
            image=(image * 255).round().astype(np.uint8),
            status="not a digit" if plainly_not else "ok" if sure else "unsure",
            box=prepared.box,
            versions=versions,
            votes=votes,
        )
