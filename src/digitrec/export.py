"""Export a trained network to ONNX and write its model card, with metrics measured on the
exported file itself (so the card's numbers are what `digitrec evaluate` reports)."""

from __future__ import annotations

import io
import os
import platform
import tempfile
import warnings
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import torch

from digitrec import data, nondigit, pen
from digitrec.card import move_model, sha256_file, write_card
from digitrec.config import MNIST_MEAN, MNIST_STD, AugmentConfig, TrainConfig
from digitrec.files import write_bytes_atomically
from digitrec.history import save_history
from digitrec.model import count_parameters, load_best_network

INPUT_NAME = "image"
OUTPUT_NAME = "logits"
OPSET = 17


def onnx_bytes(model: torch.nn.Module) -> bytes:
    """The network as ONNX, with a dynamic batch dimension."""
    model = model.eval().to(memory_format=torch.contiguous_format)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            (torch.zeros(1, 1, 28, 28),),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def export_model(
    model: torch.nn.Module,
    model_path: Path,
    config: TrainConfig,
    history: list[dict],
    best_epoch: int,
    command: str | None,
    data_dir: str | os.PathLike | None = None,
    pen_sha256: str | None = None,
    pen_data: str | os.PathLike | None = None,
) -> Path:
    """Write `model_path` (ONNX), its history and its measured card, the not-a-digit detector fitted in.

    All are made in a staging folder beside the target and moved into place together, the card
    last, so nobody ever sees a new model with an old or unfinished card."""
    target = Path(model_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.stem}.staging.") as staging:
        model_path = Path(staging) / target.name
        write_bytes_atomically(model_path, onnx_bytes(model))
        csv_path, png_path = save_history(history, model_path)
        card = {
            "onnx": model_path.name,
            "sha256": sha256_file(model_path),
            "size_bytes": model_path.stat().st_size,
            "input": {
                "name": INPUT_NAME,
                "shape": ["batch", 1, 28, 28],
                "dtype": "float32",
                "mean": MNIST_MEAN,
                "std": MNIST_STD,
                "description": "(pixels / 255 - mean) / std of a 28x28 MNIST-style image: white digit on black, "
                "fitted into 20x20 and centred by centre of mass",
            },
            "output": "logits",
            "output_name": OUTPUT_NAME,
            "temperature": 1.0,
            "architecture": config.architecture,
            "parameters": count_parameters(model),
            "training": {
                "command": command,
                "settings": asdict(config),
                "best_epoch": best_epoch,
                "epochs_run": int(history[-1]["epoch"] + 0.5) if history else 0,
                "train_time_s": round(history[-1]["elapsed_s"], 1) if history else None,
                "history_csv": csv_path.name if csv_path.exists() else None,
                "curves_png": png_path.name if png_path.exists() else None,
                "torch": torch.__version__,
                "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads"
                + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
            },
            "data": {"name": "MNIST", "sha256_of_decompressed_files": data.dataset_checksums()},
            "pen_data": None
            if not config.pen_sources
            else {
                "name": "UNIPEN isolated digits, rendered as canvas drawings",
                "sha256": pen_sha256,
                "trained_on_sources": list(config.pen_sources),
                "held_out_sources": [s for s in pen.SOURCES if s not in config.pen_sources],
                "copies_per_digit": config.pen_copies,
            },
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        finish_model(card, model_path, target, config.validation_size, data_dir, pen_data)
    return target


def finish_model(
    card: dict,
    model_path: Path,
    target: Path,
    validation_size: int,
    data_dir: str | os.PathLike | None,
    pen_data: str | os.PathLike | None,
) -> None:
    """The last steps of every export (of one network or an ensemble), on the staged files:
    calibrate, measure, fit the not-a-digit detector, then move model and card into place."""
    from digitrec.evaluate import evaluate_split  # onnxruntime side: the exported file, not torch

    write_card(card, model_path)
    _, validation = data.train_validation_split(data.load_split("train", data_dir), validation_size)
    test = data.load_split("test", data_dir)
    card["calibration"] = calibrate(model_path, validation, test)
    card["temperature"] = card["calibration"]["temperature"]
    write_card(card, model_path)  # the temperature is part of the model: measure with it
    card["metrics"] = {
        "validation": evaluate_split(model_path, validation, with_tta=False).summary(),
        "test": evaluate_split(model_path, test).summary(),
    }
    write_card(card, model_path)
    nondigit.fit_into(model_path, data_dir, pen_data)
    move_model(model_path, target)


def calibrate(model_path: Path, validation: data.Split, test: data.Split) -> dict:
    """Fit the softmax temperature on the validation split; report calibration error on test."""
    from digitrec.evaluate import expected_calibration_error, fit_temperature
    from digitrec.recognize import Recognizer, softmax

    recognizer = Recognizer(model_path, threads=os.cpu_count() or 1)
    temperature = fit_temperature(recognizer.logits(validation.images / 255.0), validation.labels)
    test_logits = recognizer.logits(test.images / 255.0)
    return {
        "temperature": round(temperature, 4),
        "fitted_on": "validation split",
        "test_ece_before": round(expected_calibration_error(softmax(test_logits), test.labels), 5),
        "test_ece_after": round(expected_calibration_error(softmax(test_logits / temperature), test.labels), 5),
    }


def export_checkpoint(
    checkpoint_path: Path,
    model_path: Path,
    data_dir: str | os.PathLike | None = None,
    pen_data: str | os.PathLike | None = None,
) -> Path:
    """Export the best weights a training checkpoint holds (after Ctrl-C, or to re-export)."""
    model, ckpt = load_best_network(checkpoint_path)
    settings = ckpt["config"]
    config = TrainConfig(**{**settings, "augment": AugmentConfig(**settings["augment"])})
    return export_model(
        model,
        model_path,
        config,
        ckpt["history"],
        ckpt["best"]["epoch"],
        command=ckpt.get("command"),
        data_dir=data_dir,
        pen_sha256=ckpt.get("pen_sha256"),
        pen_data=pen_data,
    )
