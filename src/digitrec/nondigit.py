"""Knowing a letter is no digit: a small detector on the network's own features.

A network trained on ten digits reads an A as a 4 and an R as an 8, confidently: a softmax
over ten digits has no way to say "none of these". The shape rules (`digitrec.shape`) catch
dots, lines, blobs and scribbles, but a letter is strokes, like a digit. What tells them apart
is what the network makes of the ink: the code it computes just before its last layer. A small
classifier on that code, fitted on letters and symbols that look like no digit against the
digits the network was trained on, says how likely a drawing is no digit. It becomes a second
output of the ONNX file (`not_digit`, from 0 to 1), so serving stays one call and torch-free.

The letters and symbols come from the Hershey vector fonts: pen strokes, drawn like the pen-drawn
digits are (random canvas, pen, size and place, then the recognizer's preprocessing), slanted,
turned and stretched a little. Letters a digit is commonly written like (O, I, S, Z, B, G, b, q,
and their Greek and Cyrillic look-alikes) are left out. Some fonts are held out to measure on.

The decline threshold is set on validation digits only: the score that 99.9% of them stay under
(the MNIST validation split, and the pen-drawn digits of the writer group kept for validation
when the model was trained on pen strokes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from HersheyFonts import HersheyFonts
from onnx import helper, numpy_helper

from digitrec import data, pen
from digitrec.card import card_path, load_verified_card, move_model, sha256_file, write_card
from digitrec.files import write_bytes_atomically
from digitrec.recognize import NOT_DIGIT_OUTPUT, Recognizer

FEATURES = "features"  # where a graph names its code explicitly (an ensemble: its members' codes side by side)
# Characters no digit is written like, per Hershey font (Greek and Cyrillic fonts map Latin keys to their letters).
PRINT = "AEFHKLMNPRTUVWXYefhkmnrtuvwxy#+*%@<>="
TRAINING_GLYPHS = {
    "futural": PRINT,
    "futuram": PRINT,
    "rowmans": PRINT,
    "rowmand": PRINT,
    "timesr": PRINT,
    "timesrb": PRINT,
    "greek": "ACDEFGHKLMNPRSUWXYchlmnpuwy",
    "cyrillic": "ADEFGHIKLMNPQRTUWXY",
}
HELD_OUT_GLYPHS = {"timesi": PRINT, "scripts": "AHKMNUVWXYfhkmnrtuvwx"}  # italic and joined-up script
GLYPH_COPIES = 16  # renderings of each training glyph
GLYPH_SEED = 0
VALIDATION_SOURCE = "apa"  # the pen writer group that model selection already used for validation
KEPT_DIGITS = 0.999  # of validation digits stay under the threshold
HIDDEN = 64  # units of the detector's one hidden layer
EPOCHS, BATCH, LR, WEIGHT_DECAY, TORCH_SEED = 30, 1024, 3e-3, 1e-3, 0


def glyph_strokes(glyphs: dict[str, str]) -> list[tuple[str, str, list[np.ndarray]]]:
    """(font, character, strokes) for every glyph: strokes as (k, 2) arrays, y down like the pen data."""
    fonts = HersheyFonts()
    out = []
    for font, characters in glyphs.items():
        fonts.load_default_font(font)
        for character in characters:
            strokes = [np.array(s, dtype=np.float64) for s in fonts.strokes_for_text(character) if len(s) > 0]
            if strokes:
                out.append((font, character, strokes))
    return out


def _distorted(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Slanted, turned and stretched a little, as a hand writes a printed shape."""
    angle = np.radians(rng.uniform(-12, 12))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    slant_and_stretch = np.array([[np.exp(rng.uniform(-0.25, 0.25)), rng.uniform(-0.3, 0.3)], [0.0, 1.0]])
    matrix = turn @ slant_and_stretch
    return [s @ matrix.T for s in strokes]


def glyph_images(glyphs: dict[str, str], copies: int, seed: int = GLYPH_SEED) -> tuple[np.ndarray, np.ndarray]:
    """`copies` canvas drawings of each glyph as the network sees them (N, 28, 28) uint8, and each
    one's glyph ("font:character"). A fixed data set, made once and cached."""
    key = hashlib.sha256(repr((sorted(glyphs.items()), copies, seed)).encode()).hexdigest()[:16]
    return pen.cached_renderings(f"glyphs-{key}", lambda: _render_glyphs(glyphs, copies, seed))


def _render_glyphs(glyphs: dict[str, str], copies: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    jobs, names = [], []
    for index, (font, character, strokes) in enumerate(glyph_strokes(glyphs)):
        for copy in range(copies):
            rng = np.random.default_rng([seed, index, copy])
            jobs.append((_distorted(strokes, rng), [seed, index, copy, 1], 1))
            names.append(f"{font}:{character}")
    rendered = pen.render_in_parallel(jobs)
    kept = [(image, name) for images, name in zip(rendered, names, strict=True) for image in images]
    return np.stack([image for image, _ in kept]), np.array([name for _, name in kept])


def feature_name(model: onnx.ModelProto) -> str:
    """The network's code before its last layer: the tensor named FEATURES, else the input of the
    node that makes the logits."""
    if any(FEATURES in node.output for node in model.graph.node):
        return FEATURES
    output = model.graph.output[0].name
    (last,) = [node for node in model.graph.node if output in node.output]
    return last.input[0]


class FeatureReader:
    """Runs an exported network and returns the code before its last layer (N, features)."""

    def __init__(self, model_path: Path) -> None:
        card, onnx_bytes = load_verified_card(model_path)
        model = onnx.load_from_string(onnx_bytes)
        model.graph.output.append(helper.make_tensor_value_info(feature_name(model), onnx.TensorProto.FLOAT, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        spec = card["input"]
        self.input_name, self.mean, self.std = spec["name"], float(spec["mean"]), float(spec["std"])

    def __call__(self, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """`images`: (N, 28, 28) uint8, MNIST-style."""
        batches = []
        for start in range(0, len(images), batch_size):
            x = ((images[start : start + batch_size].astype(np.float32) / 255 - self.mean) / self.std)[:, None]
            batches.append(self.session.run(None, {self.input_name: x})[-1])
        return np.concatenate(batches)


def fit_detector(digit_features: np.ndarray, glyph_features: np.ndarray) -> torch.nn.Sequential:
    """One hidden layer, logistic output; the glyphs weighted up to count as much as the digits."""
    torch.manual_seed(TORCH_SEED)
    x = torch.from_numpy(np.concatenate([digit_features, glyph_features])).float()
    y = torch.cat([torch.zeros(len(digit_features)), torch.ones(len(glyph_features))])
    weight = torch.where(y > 0, len(digit_features) / len(glyph_features), 1.0)
    detector = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1))
    optimizer = torch.optim.AdamW(detector.parameters(), LR, weight_decay=WEIGHT_DECAY)
    for _ in range(EPOCHS):
        order = torch.randperm(len(x))
        for start in range(0, len(x), BATCH):
            batch = order[start : start + BATCH]
            logits = detector(x[batch]).squeeze(1)
            loss = (F.binary_cross_entropy_with_logits(logits, y[batch], reduction="none") * weight[batch]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return detector.eval()


def with_detector(model: onnx.ModelProto, detector: torch.nn.Sequential) -> onnx.ModelProto:
    """The network with a second output, `not_digit` (batch, 1): the detector's probability."""
    first, _, second = detector
    features = feature_name(model)
    weights = {
        "not_digit.w1": first.weight.detach().numpy().T,
        "not_digit.b1": first.bias.detach().numpy(),
        "not_digit.w2": second.weight.detach().numpy().T,
        "not_digit.b2": second.bias.detach().numpy(),
    }
    graph = model.graph
    graph.initializer.extend(numpy_helper.from_array(w.astype(np.float32), name) for name, w in weights.items())
    graph.node.extend(
        [
            helper.make_node("Gemm", [features, "not_digit.w1", "not_digit.b1"], ["not_digit.hidden"]),
            helper.make_node("Relu", ["not_digit.hidden"], ["not_digit.relu"]),
            helper.make_node("Gemm", ["not_digit.relu", "not_digit.w2", "not_digit.b2"], ["not_digit.score"]),
            helper.make_node("Sigmoid", ["not_digit.score"], [NOT_DIGIT_OUTPUT]),
        ]
    )
    graph.output.append(helper.make_tensor_value_info(NOT_DIGIT_OUTPUT, onnx.TensorProto.FLOAT, ["batch", 1]))
    onnx.checker.check_model(model)
    return model


def without_detector(model: onnx.ModelProto) -> onnx.ModelProto:
    """The network alone, a detector fitted before taken out (to fit it again, say after the
    preprocessing changed what the network is shown). The digit outputs are untouched."""
    graph = model.graph

    def part_of_detector(name: str) -> bool:
        return name == NOT_DIGIT_OUTPUT or name.startswith(f"{NOT_DIGIT_OUTPUT}.")

    nodes = [node for node in graph.node if not any(part_of_detector(name) for name in node.output)]
    initializers = [tensor for tensor in graph.initializer if not part_of_detector(tensor.name)]
    outputs = [output for output in graph.output if not part_of_detector(output.name)]
    for field, kept in ((graph.node, nodes), (graph.initializer, initializers), (graph.output, outputs)):
        del field[:]
        field.extend(kept)
    onnx.checker.check_model(model)
    return model


def validation_digits(card: dict, validation: data.Split, digits: pen.PenDigits | None) -> tuple[np.ndarray, str]:
    """Digits no part of training saw, and what they are: the MNIST validation split, and (for a
    model trained on pen strokes) renderings of the validation writer group."""
    if digits is None or VALIDATION_SOURCE not in set(digits.sources.tolist()) - set(card["pen_data"]["trained_on_sources"]):
        return validation.images, f"{len(validation.images)} MNIST validation digits"
    pen_images, _ = pen.training_images(digits, (VALIDATION_SOURCE,), 4)
    described = f"{len(validation.images)} MNIST validation digits and {len(pen_images)} renderings of pen group "
    described += VALIDATION_SOURCE
    return np.concatenate([validation.images, pen_images]), described


def training_digits(card: dict, kept: data.Split, digits: pen.PenDigits | None) -> np.ndarray:
    """The digits the network trained on: the MNIST training part (its first `train_limit` images
    for a quick run), and its pen-stroke renderings."""
    mnist = kept.images[: card["training"]["settings"].get("train_limit")]
    if digits is None:
        return mnist
    sources = tuple(card["pen_data"]["trained_on_sources"])
    return np.concatenate([mnist, pen.training_images(digits, sources, card["pen_data"]["copies_per_digit"])[0]])


def _write_model(model: onnx.ModelProto, card: dict, model_path: Path) -> None:
    """Write a changed network over `model_path`, then its card with the new checksum and size."""
    write_bytes_atomically(model_path, model.SerializeToString())
    card.update(sha256=sha256_file(model_path), size_bytes=model_path.stat().st_size)
    write_card(card, model_path)


def fit_into(
    model_path: Path, data_dir: str | os.PathLike | None = None, pen_data: str | os.PathLike | None = None, refit: bool = False
) -> dict:
    """Fit the not-a-digit detector on an exported model and write it in, in place (for a model
    nobody uses yet: export's staging copy). The ONNX file gains the `not_digit` output, the card
    a `not_digit` section: the threshold and what it was fitted on. The digit outputs are unchanged.
    A model that has a detector already keeps it, unless `refit` says to replace it."""
    card, onnx_bytes = load_verified_card(model_path)
    model = onnx.load_from_string(onnx_bytes)
    if NOT_DIGIT_OUTPUT in [o.name for o in model.graph.output]:
        if not refit:
            raise ValueError(f"{model_path} already has a not-a-digit detector (refit to replace it)")
        model = without_detector(model)
        card.pop("not_digit", None)
        _write_model(model, card, model_path)  # the features are read from the network alone, as for a new model
    kept, validation = data.train_validation_split(
        data.load_split("train", data_dir), card["training"]["settings"]["validation_size"]
    )
    digits = pen.load_pen_digits(pen_data) if card.get("pen_data") else None
    read_features = FeatureReader(model_path)
    glyphs, _ = glyph_images(TRAINING_GLYPHS, GLYPH_COPIES)
    detector = fit_detector(read_features(training_digits(card, kept, digits)), read_features(glyphs))
    # No threshold yet: the scores are measured as served (with TTA), nothing declined.
    _write_model(with_detector(model, detector), card, model_path)
    held_out, described = validation_digits(card, validation, digits)
    scores = Recognizer(model_path, threads=os.cpu_count() or 1).not_digit_scores(held_out / 255.0, tta=True)
    card["not_digit"] = {
        "output_name": NOT_DIGIT_OUTPUT,
        "threshold": round(float(np.quantile(scores, KEPT_DIGITS)), 6),
        "threshold_from": f"{KEPT_DIGITS:.1%} of {described} stay under it, as served (with TTA)",
        "fitted_on": {"digits": "the images the network trained on", "not_digits": TRAINING_GLYPHS, "copies": GLYPH_COPIES},
    }
    write_card(card, model_path)
    return card["not_digit"]


def add_detector(
    model_path: Path, data_dir: str | os.PathLike | None = None, pen_data: str | os.PathLike | None = None, refit: bool = False
) -> dict:
    """`fit_into` a model in use: on a copy beside it, then both files replaced together, the card last."""
    model_path = Path(model_path)
    with tempfile.TemporaryDirectory(dir=model_path.parent, prefix=f".{model_path.stem}.staging.") as staging:
        staged = Path(staging) / model_path.name
        shutil.copyfile(model_path, staged)
        shutil.copyfile(card_path(model_path), card_path(staged))
        section = fit_into(staged, data_dir, pen_data, refit)
        move_model(staged, model_path)
    return section
