"""Training from the app: a background job publishes a new model only when it finishes."""

from __future__ import annotations

from digitrec.card import find_models, load_verified_card
from digitrec.config import TrainConfig
from digitrec.jobs import start_training

QUICK = TrainConfig(epochs=1, train_limit=512, validation_size=500, batch_size=64, evals_per_epoch=2)


def test_a_finished_job_publishes_a_new_model_beside_the_old(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "digitrec.onnx").write_bytes(b"existing")
    job = start_training(QUICK, models, tmp_path / "runs")
    job.thread.join(timeout=600)
    assert job.state == "done", job.message
    assert [p["epoch"] for p in job.progress] == [0.5, 1.0]
    assert job.target.parent == models and job.target.name.startswith("compact-")
    card, _ = load_verified_card(job.target)
    assert card["training"]["settings"]["train_limit"] == 512
    assert job.target.with_suffix(".history.csv").exists() and job.target.with_suffix(".curves.png").exists()
    assert (models / "digitrec.onnx").read_bytes() == b"existing"
    assert find_models(models) == [job.target]  # the old file has no card: not a usable model


def test_a_cancelled_job_changes_nothing_in_models(tmp_path):
    models = tmp_path / "models"
    job = start_training(QUICK, models, tmp_path / "runs")
    job.cancel()
    job.thread.join(timeout=600)
    assert job.state == "cancelled"
    assert not models.exists() or list(models.iterdir()) == []


def test_a_failed_job_reports_why(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_DATA", str(tmp_path / "no-mnist-here"))
    monkeypatch.setenv("DIGITREC_MNIST_MIRRORS", "http://127.0.0.1:9/")
    job = start_training(QUICK, tmp_path / "models", tmp_path / "runs")
    job.thread.join(timeout=120)
    assert job.state == "failed" and "could not download" in job.message
    assert not (tmp_path / "models").exists()
