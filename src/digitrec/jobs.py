"""Training in a background thread, for the app: live progress, cancel, and a new model that
appears in models/ only when the run finishes. A failed or cancelled run changes nothing there."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from digitrec.card import move_model
from digitrec.config import TrainConfig


@dataclass
class TrainingJob:
    config: TrainConfig
    target: Path  # where the finished model goes, e.g. models/digitrec-20261125-231500.onnx
    workdir: Path  # where it is trained (runs/...), so nothing half-done lands in models/
    progress: list[dict] = field(default_factory=list)
    state: str = "running"  # running, done, cancelled or failed
    message: str = ""
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def cancel(self) -> None:
        self.cancel_requested.set()

    @property
    def running(self) -> bool:
        return self.state == "running"


def new_model_path(models_dir: Path, architecture: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return models_dir / f"{architecture}-{stamp}.onnx"


def _run(job: TrainingJob, data_dir: str | os.PathLike | None) -> None:
    from digitrec.train import Progress, train  # torch: only once a run is started

    def on_progress(progress: Progress) -> bool:
        record = {k: getattr(progress, k) for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy")}
        job.progress.append(record)
        return job.cancel_requested.is_set()

    trained = job.workdir / job.target.name
    try:
        train(job.config, trained, job.workdir / "checkpoint.pt", data_dir=data_dir, callback=on_progress,
              command="digitrec app (Train page)", show_progress=False)  # fmt: skip
        if job.cancel_requested.is_set():
            job.state, job.message = "cancelled", "Cancelled: no model was changed."
            return
        move_model(trained, job.target)
        job.state, job.message = "done", f"New model {job.target.name} is ready and in use."
    except Exception as e:  # reported in the app; models/ is untouched
        job.state, job.message = "failed", f"Training failed: {e}"


def start_training(
    config: TrainConfig, models_dir: Path, runs_dir: Path, data_dir: str | os.PathLike | None = None
) -> TrainingJob:
    target = new_model_path(models_dir, config.architecture)
    job = TrainingJob(config=config, target=target, workdir=runs_dir / target.stem)
    job.thread = threading.Thread(target=_run, args=(job, data_dir), name=f"train-{target.stem}", daemon=True)
    job.thread.start()
    return job
