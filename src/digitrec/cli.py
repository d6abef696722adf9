"""The `digitrec` command: a thin layer over the library.

Heavy imports (torch for train/export) happen inside the commands that need them, so
`digitrec predict` starts fast and never loads torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from digitrec.card import ModelError, card_text, default_model_path, read_card
from digitrec.config import TrainConfig
from digitrec.data import DataError
from digitrec.preprocess import ImageError, to_array

app = typer.Typer(
    help="Handwritten digit recognition: train, evaluate and use a small CNN trained on MNIST.", no_args_is_help=True
)

ModelOption = Annotated[
    Path | None, typer.Option("--model", "-m", help="ONNX model (default: $DIGITREC_MODEL or models/digitrec.onnx)")
]
DataOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Directory of the MNIST .gz files (default: $DIGITREC_DATA or the user cache)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")]
PenDataOption = Annotated[
    Path | None,
    typer.Option(help="The UNIPEN digits file (default: $DIGITREC_UNIPEN); needed for a model trained on pen strokes"),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.command()
def predict(
    paths: Annotated[list[Path], typer.Argument(help="Image files (PNG, JPEG...), or - for standard input", show_default=False)],
    as_json: JsonOption = False,
    no_tta: Annotated[
        bool, typer.Option("--no-tta", help="One pass instead of the 5-version test-time-augmentation ensemble")
    ] = False,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="Decline (digit null) below this confidence")] = 0.5,
    number: Annotated[bool, typer.Option("--number", help="Read several digits written left to right")] = False,
    model: ModelOption = None,
) -> None:
    """Recognise the digit in each image. Unreadable inputs are reported; the others still answered."""
    from digitrec.recognize import Recognizer

    try:
        recognizer = Recognizer(model, tta=not no_tta, threshold=threshold)
    except ModelError as e:
        raise _fail(str(e)) from e
    failures = 0
    for path in paths:
        try:
            image = to_array(sys.stdin.buffer.read() if str(path) == "-" else path)  # read once, answer both ways
            result = {"path": str(path), **recognizer.predict(image).to_json()}
            if number:
                result.update(recognizer.read_number(image).to_json())
        except ImageError as e:
            failures += 1
            result = {"path": str(path), "digit": None, "confidence": 0.0, "top3": [], "error": str(e)}
        if as_json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            typer.secho(f"{path}: error: {result['error']}", fg=typer.colors.RED, err=True)
        elif result["status"] == "empty":
            print(f"{path}: nothing drawn")
        elif number:
            digits = ", ".join(f"{d['digit'] if d['digit'] is not None else '?'} {d['confidence']:.0%}" for d in result["digits"])
            print(f"{path}: number {result['number']} ({digits})")
        elif result["status"] == "not a digit":
            print(f"{path}: not a digit (a dot, a line, a blob or a scribble?)")
        elif result["status"] == "several digits":
            print(f"{path}: several digits side by side (read them with --number)")
        else:
            alternatives = ", ".join(f"{d} {p:.1%}" for d, p in result["top3"])
            answer = result["digit"] if result["digit"] is not None else "not sure"
            print(f"{path}: {answer} ({result['confidence']:.1%}; top 3: {alternatives})")
    if failures:
        raise typer.Exit(1)


@app.command()
def evaluate(as_json: JsonOption = False, model: ModelOption = None, data_dir: DataOption = None) -> None:
    """Accuracy of the model on the 10,000 MNIST test images, with and without test-time augmentation."""
    from digitrec.data import load_split
    from digitrec.evaluate import evaluate_split

    try:
        result = evaluate_split(model or default_model_path(), load_split("test", data_dir))
    except (ModelError, DataError) as e:
        raise _fail(str(e)) from e
    summary = result.summary()
    if as_json:
        print(json.dumps(summary))
        return
    print(f"test accuracy: {result.accuracy:.2%} ({summary['count'] - len(result.mistakes())}/{summary['count']})")
    print(f"with test-time augmentation: {result.tta_accuracy:.2%}")
    print("per class: " + "  ".join(f"{d}: {a:.2%}" for d, a in enumerate(result.per_class_accuracy())))
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("      " + "".join(f"{d:>6}" for d in range(10)))
    for d, row in enumerate(result.confusion_matrix()):
        print(f"{d:>6}" + "".join(f"{n:>6}" for n in row))


@app.command()
def train(
    architecture: Annotated[str, typer.Option("--arch", help="Network: compact or original")] = TrainConfig.architecture,
    epochs: Annotated[int, typer.Option(min=1)] = TrainConfig.epochs,
    batch_size: Annotated[int, typer.Option(min=8)] = TrainConfig.batch_size,
    lr: Annotated[float, typer.Option(min=0.0, help="Peak learning rate (one-cycle, AdamW)")] = TrainConfig.lr,
    patience: Annotated[
        int,
        typer.Option(min=1, help="Stop after this many annealing epochs without a lower validation loss"),
    ] = TrainConfig.patience,
    validation_size: Annotated[
        int, typer.Option(min=100, help="Training images held out for validation")
    ] = TrainConfig.validation_size,
    seed: int = TrainConfig.seed,
    train_limit: Annotated[int | None, typer.Option(min=1, help="Train on only this many images (quick trials)")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the ONNX model and its card")] = Path(
        "models/digitrec.onnx"
    ),
    checkpoint: Annotated[Path | None, typer.Option(help="Checkpoint file (default: runs/<model name>.pt)")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the checkpoint")] = False,
    data_dir: DataOption = None,
    pen_sources: Annotated[
        str,
        typer.Option(help="Comma-separated UNIPEN writer groups (syn, apb, ...) whose pen-drawn digits, rendered, join MNIST"),
    ] = "",
    pen_copies: Annotated[int, typer.Option(min=1, help="Renderings of each pen-drawn digit")] = TrainConfig.pen_copies,
    pen_data: PenDataOption = None,
    device: Annotated[str, typer.Option(help="auto (a GPU if there is one), cpu, cuda")] = "auto",
) -> None:
    """Train a network on MNIST (and rendered pen strokes) and export the best weights, by validation loss, to ONNX."""
    from digitrec.train import ExportError, command_line
    from digitrec.train import train as run_training

    config = TrainConfig(
        architecture=architecture,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
        validation_size=validation_size,
        seed=seed,
        train_limit=train_limit,
        pen_sources=tuple(s.strip() for s in pen_sources.split(",") if s.strip()),
        pen_copies=pen_copies,
    )
    checkpoint = checkpoint or Path("runs") / f"{output.stem}.pt"
    try:
        path = run_training(
            config,
            output,
            checkpoint,
            data_dir=data_dir,
            resume=resume,
            command=command_line(),
            pen_data=pen_data,
            device=device,
        )
    except (DataError, ExportError, ValueError) as e:
        raise _fail(str(e)) from e
    except KeyboardInterrupt:
        raise _fail(f"interrupted; continue with the same command and --resume (checkpoint: {checkpoint})", 130) from None
    card = read_card(path)
    print(f"wrote {path}: test accuracy {card['metrics']['test']['accuracy']:.2%}")


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Option(help="Training checkpoint to export the best weights of")] = Path(
        "runs/digitrec.pt"
    ),
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("models/digitrec.onnx"),
    data_dir: DataOption = None,
    pen_data: PenDataOption = None,
) -> None:
    """Export the best weights of a training checkpoint to ONNX, with a measured model card."""
    from digitrec.export import export_checkpoint

    try:
        path = export_checkpoint(checkpoint, output, data_dir=data_dir, pen_data=pen_data)
    except (DataError, ValueError) as e:
        raise _fail(str(e)) from e
    print(f"wrote {path}")


@app.command()
def ensemble(
    members: Annotated[list[Path], typer.Argument(help="Exported models (ONNX, each with its card) to average")],
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("models/digitrec.onnx"),
    data_dir: DataOption = None,
    pen_data: PenDataOption = None,
) -> None:
    """Average several trained models' logits into one ONNX model, calibrated and measured like an export."""
    if len(members) < 2:
        raise _fail("an ensemble needs at least two models")
    from digitrec.ensemble import export_ensemble

    try:
        path = export_ensemble(members, output, data_dir=data_dir, pen_data=pen_data)
    except (DataError, ModelError, ValueError) as e:
        raise _fail(str(e)) from e
    metrics = read_card(path)["metrics"]
    print(f"wrote {path}: validation {metrics['validation']['accuracy']:.2%}, test {metrics['test']['accuracy']:.2%}")


@app.command("fit-not-digit")
def fit_not_digit(
    model: ModelOption = None,
    data_dir: DataOption = None,
    pen_data: PenDataOption = None,
    refit: Annotated[bool, typer.Option("--refit", help="replace the model's detector (after a preprocessing change)")] = False,
) -> None:
    """Fit the not-a-digit detector (declines letters and symbols) into an exported model.

    `digitrec train` and `digitrec export` fit it themselves; this is for models exported before,
    and, with --refit, for a model whose detector was fitted on other preprocessing."""
    from digitrec.nondigit import add_detector

    try:
        section = add_detector(model or default_model_path(), data_dir=data_dir, pen_data=pen_data, refit=refit)
    except (DataError, ModelError, ValueError) as e:
        raise _fail(str(e)) from e
    print(f"not-a-digit threshold {section['threshold']:.4f}: {section['threshold_from']}")


@app.command()
def info(model: ModelOption = None) -> None:
    """Print the model card (JSON)."""
    try:
        card = read_card(model or default_model_path())
    except ModelError as e:
        raise _fail(str(e)) from e
    print(card_text(card))


if __name__ == "__main__":
    app()
