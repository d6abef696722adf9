"""The JSON model card beside each ONNX file: what the network expects, how it was made,
how well it measured. Loading a model goes through here, so a file that does not match its
card's checksum is refused with a clear message instead of being used silently."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from digitrec.files import write_bytes_atomically
from digitrec.history import history_paths

MODEL_ENV_VAR = "DIGITREC_MODEL"
DEFAULT_MODEL = Path("models/digitrec.onnx")
_REPO_MODEL = Path(__file__).resolve().parents[2] / DEFAULT_MODEL  # the committed model, for editable installs


class ModelError(RuntimeError):
    """The model or its card is missing, corrupt or inconsistent; the message says what to do."""


def default_model_path() -> Path:
    """$DIGITREC_MODEL, else ./models/digitrec.onnx, else the model committed with the source."""
    if os.environ.get(MODEL_ENV_VAR):
        return Path(os.environ[MODEL_ENV_VAR])
    if DEFAULT_MODEL.exists() or not _REPO_MODEL.exists():
        return DEFAULT_MODEL
    return _REPO_MODEL


def card_path(model_path: Path) -> Path:
    """`models/digitrec.onnx` -> `models/digitrec.json`."""
    return model_path.with_suffix(".json")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_text(card: dict) -> str:
    """The card as indented JSON, with each list of plain numbers on one line (a row of the
    confusion matrix, a mistake), so a person can read it: one number per line ran to 1,600 lines."""

    def one_line(numbers: re.Match) -> str:
        spread = numbers.group()
        if "\n" not in spread:  # inside a string (json.dumps never breaks one): leave it as written
            return spread
        return re.sub(r"\s+", " ", spread).replace("[ ", "[").replace(" ]", "]")

    return re.sub(r"\[[\d\s,.eE+-]*\]", one_line, json.dumps(card, indent=2))


def write_card(card: dict, model_path: Path) -> Path:
    path = card_path(model_path)
    write_bytes_atomically(path, (card_text(card) + "\n").encode())
    return path


def read_card(model_path: Path) -> dict:
    """The card, unverified (for `digitrec info` and the app's model page)."""
    path = card_path(model_path)
    if not path.exists():
        raise ModelError(f"{path} is missing: every model needs its card. Train one with `digitrec train`.")
    try:
        card = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path} is not a readable model card ({e}). Re-export the model with `digitrec export`.") from e
    if not isinstance(card, dict):
        raise ModelError(f"{path} is not a model card (expected a JSON object)")
    return card


def load_verified_card(model_path: Path) -> tuple[dict, bytes]:
    """The card and the ONNX bytes, after checking the bytes against the card's SHA-256."""
    model_path = Path(model_path)
    if not model_path.exists():
        raise ModelError(
            f"{model_path} does not exist. Train a model with `digitrec train`, or point --model/${MODEL_ENV_VAR} at one."
        )
    card = read_card(model_path)
    for key in ("sha256", "input", "output"):
        if key not in card:
            raise ModelError(f"{card_path(model_path)} has no {key!r}. Re-export the model with `digitrec export`.")
    onnx_bytes = model_path.read_bytes()
    actual = hashlib.sha256(onnx_bytes).hexdigest()
    if actual != card["sha256"]:
        raise ModelError(
            f"{model_path} does not match its card: SHA-256 is {actual[:12]}..., the card says {card['sha256'][:12]}.... "
            "The file was changed or damaged; restore it (git checkout models/) or retrain with `digitrec train`."
        )
    return card, onnx_bytes


def find_models(directory: Path) -> list[Path]:
    """The ONNX models in a directory that have a card beside them, the default one first."""
    models = sorted(p for p in Path(directory).glob("*.onnx") if card_path(p).exists())
    return sorted(models, key=lambda p: p.name != DEFAULT_MODEL.name)


def move_model(source: Path, target: Path) -> None:
    """Move a model and the files beside it (history, curves, card) into place, its card last:
    until the card is there, the model is not listed (see find_models). Within one file
    system each move is a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    moves = [*zip(history_paths(source), history_paths(target), strict=True), (source, target)]
    for old, new in [*moves, (card_path(source), card_path(target))]:
        if old.exists():
            shutil.move(old, new)
