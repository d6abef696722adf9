"""The `digitrec` command as a user runs it: a real process, real files, real model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest

from digitrec.card import card_text
from strokes import DIGIT_STROKES, render

DIGITREC = [sys.executable, "-m", "digitrec.cli"]
# What the committed model measures on MNIST test (99.69%; the target of 99.70% is not reached).
SHIPPED_ACCURACY = 0.9969


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*DIGITREC, *args], capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def canvases(tmp_path_factory):
    """Canvas-style PNGs the test draws itself, with the answer each must get."""
    root = tmp_path_factory.mktemp("canvases")
    cases = {
        "seven_black_on_white.png": (render(DIGIT_STROKES[7]), 7),
        "three_white_on_black.png": (render(DIGIT_STROKES[3], ink=(255, 255, 255, 255), background=(0, 0, 0, 255)), 3),
        "zero_transparent.png": (render(DIGIT_STROKES[0], background=(0, 0, 0, 0)), 0),
        "four_small_off_centre.png": (render(DIGIT_STROKES[4], scale=0.25, offset=(190, 15), pen=5), 4),
        "blank.png": (render([]), None),
        "blank_transparent.png": (render([], background=(0, 0, 0, 0)), None),
    }
    expected = {}
    for name, (image, digit) in cases.items():
        image.save(root / name)
        expected[str(root / name)] = digit
    return expected


def test_predict_json_answers_each_canvas_on_its_own_line(canvases):
    lines = run("predict", "--json", *canvases).stdout.splitlines()
    assert len(lines) == len(canvases)
    answers = [json.loads(line) for line in lines]
    assert [a["path"] for a in answers] == list(canvases)
    assert {a["path"]: a["digit"] for a in answers} == canvases
    for answer in answers:
        assert set(answer) >= {"path", "digit", "confidence", "top3"}
        assert "error" not in answer
        if answer["digit"] is not None:
            assert answer["confidence"] >= 0.5
            assert answer["top3"][0] == [answer["digit"], answer["confidence"]]
            assert len(answer["top3"]) == 3


def test_predict_without_tta_gives_the_same_answers(canvases):
    answers = [json.loads(line) for line in run("predict", "--json", "--no-tta", *canvases).stdout.splitlines()]
    assert {a["path"]: a["digit"] for a in answers} == canvases


def test_predict_reports_unreadable_inputs_and_still_answers_the_rest(canvases, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    good = next(iter(canvases))
    result = run("predict", "--json", str(broken), good, str(tmp_path / "missing.png"), check=False)
    assert result.returncode != 0
    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert first["path"] == str(broken) and first["digit"] is None and "not a readable image" in first["error"]
    assert second["digit"] == canvases[good] and "error" not in second
    assert "no such file" in third["error"]


def test_predict_reads_standard_input_for_a_dash(canvases):
    """`cat drawing.png | digitrec predict -`: the Unix convention; empty input is an error, not a crash."""
    seven = next(path for path in canvases if path.endswith("seven_black_on_white.png"))
    with open(seven, "rb") as file:
        png = file.read()
    command = [*DIGITREC, "predict", "--json", "-"]
    result = subprocess.run(command, input=png, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["path"] == "-" and answer["digit"] == 7
    result = subprocess.run(command, input=b"", capture_output=True, timeout=600)
    assert result.returncode == 1 and "empty" in json.loads(result.stdout)["error"]


def test_predict_human_output(canvases):
    out = run("predict", *canvases).stdout
    assert "nothing drawn" in out
    assert any(line.split(": ")[1].startswith("7 (") for line in out.splitlines() if "seven" in line)


def test_predict_refuses_a_model_that_does_not_match_its_card(model_path, tmp_path, canvases):
    tampered = tmp_path / "m.onnx"
    shutil.copy(model_path.with_suffix(".json"), tampered.with_suffix(".json"))
    tampered.write_bytes(model_path.read_bytes() + b"\0")
    result = run("predict", "--model", str(tampered), next(iter(canvases)), check=False)
    assert result.returncode != 0
    assert "does not match its card" in result.stderr
    assert "Traceback" not in result.stderr


def test_info_prints_the_model_card(model_path):
    printed = run("info").stdout
    card = json.loads(printed)
    assert card == json.loads(model_path.with_suffix(".json").read_text())
    assert card["onnx"] == model_path.name
    assert card["architecture"] in {"compact", "original"}
    assert card["metrics"]["test"]["accuracy"] >= SHIPPED_ACCURACY
    # Readable: each row of the confusion matrix on a line of its own, not one number per line.
    lines = {line.strip().rstrip(",") for line in printed.splitlines()}
    assert all(json.dumps(row) in lines for row in card["metrics"]["test"]["confusion_matrix"])


def test_card_text_puts_number_lists_on_one_line_and_leaves_strings_as_written():
    card = {"command": "digitrec predict [ 1 ]  x.png", "matrix": [[1, 2], [3, 4.5e-05]], "empty": []}
    text = card_text(card)
    assert json.loads(text) == card
    assert "[1, 2]" in text and "[3, 4.5e-05]" in text


def test_evaluate_matches_plain_onnxruntime_and_the_card(model_path, mnist_test):
    """The shipped accuracy, and the same number from the ONNX file fed as its card says."""
    report = json.loads(run("evaluate", "--json").stdout)
    assert report["accuracy"] >= SHIPPED_ACCURACY
    assert 0 <= report["tta_accuracy"] <= 1
    assert len(report["per_class_accuracy"]) == 10
    assert np.array(report["confusion_matrix"]).sum() == 10_000

    card = json.loads(model_path.with_suffix(".json").read_text())
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    spec = card["input"]
    x = ((mnist_test.images.astype(np.float32) / 255 - spec["mean"]) / spec["std"])[:, None]
    (scores,) = session.run([card["output_name"]], {spec["name"]: x})
    independent = float((scores.argmax(axis=1) == mnist_test.labels).mean())
    assert report["accuracy"] == independent
    assert card["metrics"]["test"]["accuracy"] == independent
    wrong = np.flatnonzero(scores.argmax(axis=1) != mnist_test.labels)
    assert card["metrics"]["test"]["mistakes"] == report["mistakes"] == [[i, scores[i].argmax()] for i in wrong]


def test_errors_are_messages_not_tracebacks(tmp_path):
    result = run("evaluate", "--model", str(tmp_path / "none.onnx"), check=False)
    assert result.returncode != 0
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr

    result = run("export", "--checkpoint", str(tmp_path / "none.pt"), check=False)
    assert result.returncode != 0
    assert "does not exist; train first" in result.stderr and "Traceback" not in result.stderr

    damaged = tmp_path / "run.pt"
    damaged.write_bytes(b"half a checkpoint")
    result = run("export", "--checkpoint", str(damaged), "--output", str(tmp_path / "m.onnx"), check=False)
    assert result.returncode != 0 and not (tmp_path / "m.onnx").exists()
    assert "not a `digitrec train` checkpoint" in result.stderr and "Traceback" not in result.stderr
