"""Reading numbers: several digits drawn left to right, spaced, close, touching, on a wavy line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from strokes import number_strokes, render

CASES = {
    "2026 spaced": ("2026", {"gap": 0.2}),
    "1984 close": ("1984", {"gap": 0.06}),
    "4715 wavy": ("4715", {"gap": 0.12, "wave": 0.06}),
    "307 touching": ("307", {"gap": 0.0}),
    "86 slightly overlapping": ("86", {"gap": -0.02}),
}


@pytest.mark.parametrize("case", CASES)
def test_numbers_are_read_digit_by_digit(recognizer, case):
    digits, layout = CASES[case]
    image = render(number_strokes(digits, **layout), size=(300 * len(digits), 300), pen=16)
    reading = recognizer.read_number(image)
    assert reading.text == digits
    boxes = [d.box for d in reading.digits]
    assert all(left < right for (left, _, right, _) in boxes)
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # left to right


def test_a_four_drawn_in_two_strokes_is_one_digit(recognizer):
    reading = recognizer.read_number(render(number_strokes("4"), size=(300, 300)))
    assert reading.text == "4" and len(reading.digits) == 1


def test_an_empty_canvas_reads_no_number(recognizer):
    assert recognizer.read_number(render([], size=(600, 200))).text == ""


def test_predict_number_json(tmp_path):
    path = tmp_path / "year.png"
    render(number_strokes("2026", gap=0.2), size=(1200, 300), pen=16).save(path)
    out = subprocess.run(
        [sys.executable, "-m", "digitrec.cli", "predict", "--number", "--json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answer = json.loads(out)
    assert answer["number"] == "2026"
    assert [d["digit"] for d in answer["digits"]] == [2, 0, 2, 6]
    assert all(len(d["box"]) == 4 and 0 < d["confidence"] <= 1 for d in answer["digits"])
