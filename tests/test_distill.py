"""Distillation: teachers' averaged scores, the loss that pulls a network towards them, and
`digitrec train --teacher` end to end with a real (quickly trained) teacher."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from digitrec.card import load_verified_card
from digitrec.config import TrainConfig
from digitrec.distill import Teachers, distillation_loss, load_teachers
from digitrec.model import build_model
from digitrec.train import train


def test_teachers_answer_with_the_mean_of_their_networks_logits():
    torch.manual_seed(0)
    networks = [build_model("compact").eval() for _ in range(3)]
    images = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        expected = torch.stack([network(images) for network in networks]).mean(0)
    torch.testing.assert_close(Teachers(networks)(images), expected, rtol=1e-4, atol=1e-5)


def test_distillation_loss_is_plain_cross_entropy_when_it_ignores_the_teachers():
    logits, teacher_logits, labels = torch.randn(16, 10), torch.randn(16, 10), torch.randint(0, 10, (16,))
    loss = distillation_loss(logits, teacher_logits, labels, weight=0.0, temperature=4.0)
    torch.testing.assert_close(loss, F.cross_entropy(logits, labels))


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_learning_from_the_teachers_alone_ends_at_their_probabilities(temperature):
    teacher_logits = torch.randn(4, 10) * 3
    labels = torch.randint(0, 10, (4,))
    logits = torch.zeros(4, 10, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.1)
    for _ in range(500):
        optimizer.zero_grad()
        distillation_loss(logits, teacher_logits, labels, weight=1.0, temperature=temperature).backward()
        optimizer.step()
    torch.testing.assert_close(logits.softmax(1), teacher_logits.softmax(1), atol=2e-3, rtol=0)


def test_train_learns_from_a_teacher_checkpoint_and_its_card_names_it(tmp_path, monkeypatch):
    quick = {"train_limit": 768, "validation_size": 500, "batch_size": 64}
    teacher = tmp_path / "teacher.pt"
    monkeypatch.setattr("digitrec.train.export_model", lambda model, path, **kwargs: path)  # a teacher is its checkpoint
    train(TrainConfig(epochs=1, **quick), tmp_path / "teacher.onnx", teacher, show_progress=False)
    monkeypatch.undo()

    student = tmp_path / "student.onnx"
    command = [
        sys.executable, "-m", "digitrec.cli", "train",
        "--epochs", "1", "--train-limit", "768", "--validation-size", "500", "--batch-size", "64",
        "--teacher", str(teacher), "--distill-temperature", "2",
        "--output", str(student), "--checkpoint", str(tmp_path / "student.pt"),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    card, _ = load_verified_card(student)
    settings = card["training"]["settings"]
    assert settings["teachers"] == [str(teacher)]
    assert (settings["distill_weight"], settings["distill_temperature"]) == (TrainConfig.distill_weight, 2.0)
    assert f"--teacher {teacher}" in card["training"]["command"]

    # A teacher that held out other validation images has seen some of the student's.
    with pytest.raises(ValueError, match="validation"):
        load_teachers((str(teacher),), validation_size=600, device=torch.device("cpu"))


def test_a_missing_or_foreign_teacher_file_is_a_clear_error_before_any_training(tmp_path):
    not_a_checkpoint = tmp_path / "notes.pt"
    not_a_checkpoint.write_bytes(b"not a checkpoint")
    for path, message in [(tmp_path / "missing.pt", "does not exist"), (not_a_checkpoint, "not a `digitrec train` checkpoint")]:
        result = subprocess.run(
            [sys.executable, "-m", "digitrec.cli", "train", "--teacher", str(path), "--checkpoint", str(tmp_path / "run.pt")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "run.pt").exists()
