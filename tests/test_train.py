"""Training, checkpoints, interruption and export, on small real runs (a few seconds each)."""

from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from digitrec.augment import augment_batch
from digitrec.card import load_verified_card
from digitrec.config import ARCHITECTURE_NAMES, AugmentConfig, TrainConfig
from digitrec.data import load_split
from digitrec.evaluate import Evaluation
from digitrec.export import export_checkpoint, onnx_bytes
from digitrec.history import load_history
from digitrec.model import ARCHITECTURES, build_model, count_parameters
from digitrec.recognize import Recognizer
from digitrec.train import ExportError, train

QUICK = {"train_limit": 768, "validation_size": 500, "batch_size": 64}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_networks_map_a_batch_of_digits_to_ten_scores(name):
    model = build_model(name).eval()
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert count_parameters(model) > 10_000


def test_the_torch_free_list_of_architectures_matches_the_networks():
    assert tuple(ARCHITECTURES) == ARCHITECTURE_NAMES


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="compact"):
        build_model("resnet9000")


def test_augmentation_keeps_shape_and_range_and_is_seeded():
    images = torch.rand(16, 1, 28, 28)
    first = augment_batch(images, AugmentConfig(), torch.Generator().manual_seed(1))
    again = augment_batch(images, AugmentConfig(), torch.Generator().manual_seed(1))
    other = augment_batch(images, AugmentConfig(), torch.Generator().manual_seed(2))
    assert first.shape == images.shape
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.allclose(first, images, atol=0.05)


def test_augmentation_with_everything_off_is_the_identity():
    images = torch.rand(4, 1, 28, 28)
    assert torch.allclose(augment_batch(images, OFF, torch.Generator()), images, atol=1e-5)


OFF = AugmentConfig(rotation_deg=0, zoom=0, shear=0, translate=0, elastic=0, stroke_width=0, brightness=0, noise=0)


def _bar_angles(images: torch.Tensor) -> np.ndarray:
    """Orientation (degrees) of the main axis of each image's ink."""
    angles = []
    for image in images[:, 0].numpy():
        rows, cols = np.nonzero(image > 0.5)
        cov = np.cov(np.stack([cols - cols.mean(), rows - rows.mean()]))
        vx, vy = np.linalg.eigh(cov)[1][:, -1]
        angles.append(np.degrees(np.arctan2(vy, vx)) % 180)
    return np.array(angles)


def test_augmentation_rotates_by_up_to_the_configured_angle():
    bars = torch.zeros(64, 1, 28, 28)
    bars[:, 0, 13:15, 4:24] = 1  # horizontal
    angles = _bar_angles(augment_batch(bars, dataclasses.replace(OFF, rotation_deg=11.5), torch.Generator()))
    tilt = np.minimum(angles, 180 - angles)
    assert tilt.max() <= 11.5 + 1.5
    assert tilt.max() >= 8  # and really rotates


def test_augmentation_translates_by_up_to_ten_percent():
    dots = torch.zeros(64, 1, 28, 28)
    dots[:, 0, 12:16, 12:16] = 1
    moved = augment_batch(dots, dataclasses.replace(OFF, translate=0.1), torch.Generator())
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = moved[:, 0].sum(dim=(1, 2))
    cx, cy = (moved[:, 0] * xs).sum(dim=(1, 2)) / mass, (moved[:, 0] * ys).sum(dim=(1, 2)) / mass
    shift = torch.maximum((cx - 13.5).abs(), (cy - 13.5).abs())
    assert shift.max() <= 2.8 + 0.2 and shift.max() >= 1.5


def test_exported_onnx_computes_what_the_torch_network_computes():
    import onnxruntime as ort

    model = build_model("compact").eval()
    x = torch.rand(5, 1, 28, 28)
    session = ort.InferenceSession(onnx_bytes(model), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(onnx_out, model(x).detach().numpy(), rtol=1e-4, atol=1e-4)


def test_digitrec_train_writes_model_card_history_and_curves(tmp_path):
    model_path = tmp_path / "models" / "quick.onnx"
    command = [
        sys.executable, "-m", "digitrec.cli", "train",
        "--epochs", "1", "--train-limit", "768", "--validation-size", "500", "--batch-size", "64",
        "--output", str(model_path), "--checkpoint", str(tmp_path / "runs" / "quick.pt"),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "val loss" in result.stderr  # the live progress

    card, _ = load_verified_card(model_path)
    assert card["onnx"] == "quick.onnx"
    assert card["input"] == {**card["input"], "name": "image", "shape": ["batch", 1, 28, 28], "dtype": "float32"}
    assert card["output"] == "logits"
    assert card["architecture"] == "compact" and card["parameters"] == count_parameters(build_model("compact"))
    assert card["training"]["settings"]["train_limit"] == 768
    assert "digitrec train" in card["training"]["command"]
    assert len(card["data"]["sha256_of_decompressed_files"]) == 4
    for split in ("validation", "test"):
        assert 0.1 < card["metrics"][split]["accuracy"] <= 1
    assert card["metrics"]["validation"]["count"] == 500
    assert card["temperature"] == card["calibration"]["temperature"] > 0
    assert 0 <= card["calibration"]["test_ece_after"] < 1
    assert card["metrics"]["test"]["count"] == 10_000
    answers = Evaluation.from_summary(card["metrics"]["test"], load_split("test").labels)  # what the app shows
    assert answers.accuracy == card["metrics"]["test"]["accuracy"]
    assert 0 < card["not_digit"]["threshold"] <= 1 and "500 MNIST validation digits" in card["not_digit"]["threshold_from"]

    with open(tmp_path / "models" / "quick.history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and {"train_loss", "val_loss", "val_accuracy", "lr", "elapsed_s"} <= set(rows[0])
    assert (tmp_path / "models" / "quick.curves.png").read_bytes().startswith(b"\x89PNG")
    assert Recognizer(model_path).predict(np.zeros((28, 28))).status == "empty"


def test_a_missing_export_dependency_fails_before_training_not_after(tmp_path):
    """A GPU run once trained for six minutes, then lost its export to a missing package."""
    checkpoint = tmp_path / "quick.pt"
    blocked = "import sys; sys.modules['HersheyFonts'] = None; from digitrec.cli import app; app()"
    command = [
        sys.executable, "-c", blocked, "train", "--epochs", "1", "--train-limit", "768", "--validation-size", "500",
        "--output", str(tmp_path / "quick.onnx"), "--checkpoint", str(checkpoint),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "HersheyFonts" in result.stderr
    assert not checkpoint.exists()  # nothing was trained


def test_a_failed_export_says_where_the_weights_are_and_they_export_later(tmp_path, monkeypatch):
    checkpoint, model_path = tmp_path / "run.pt", tmp_path / "digitrec.onnx"

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("digitrec.train.export_model", disk_full)
    with pytest.raises(ExportError, match="No space left") as failed:
        train(TrainConfig(epochs=1, **QUICK), model_path, checkpoint, show_progress=False, command="digitrec train --seed 0")
    assert f"digitrec export --checkpoint {checkpoint}" in str(failed.value)
    assert not model_path.exists()

    monkeypatch.undo()
    export_checkpoint(checkpoint, model_path)  # what the message tells the user to run
    card, _ = load_verified_card(model_path)
    assert card["training"]["settings"]["train_limit"] == QUICK["train_limit"]
    assert card["training"]["command"] == "digitrec train --seed 0"  # the run's, not the export's


class Interrupt(KeyboardInterrupt):
    pass


def test_interrupt_keeps_best_model_beside_the_old_one_and_resume_continues(tmp_path):
    model_path = tmp_path / "digitrec.onnx"
    model_path.write_bytes(b"the user's existing model")
    checkpoint = tmp_path / "run.pt"
    config = TrainConfig(epochs=2, evals_per_epoch=2, **QUICK)

    def stop_in_the_second_epoch(progress):
        if progress.epoch > 1.2:
            raise Interrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, model_path, checkpoint, callback=stop_in_the_second_epoch, show_progress=False)
    assert model_path.read_bytes() == b"the user's existing model"
    kept = tmp_path / "digitrec.interrupted.onnx"
    interrupted_card, _ = load_verified_card(kept)
    assert interrupted_card["training"]["best_epoch"] in (1, 2)
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 1

    with pytest.raises(ValueError, match="different settings"):
        train(TrainConfig(epochs=2, evals_per_epoch=2, seed=7, **QUICK), model_path, checkpoint, resume=True)

    seen = []
    train(config, model_path, checkpoint, resume=True, callback=lambda p: seen.append(p.epoch), show_progress=False)
    assert seen == [1.5, 2.0]  # picked up after the first epoch, not from scratch
    card, _ = load_verified_card(model_path)
    assert [round(h["epoch"], 1) for h in load_history(model_path)] == [0.5, 1.0, 1.5, 2.0]
    assert card["training"]["epochs_run"] == 2
