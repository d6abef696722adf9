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
    "0123456789 in a row": ("0123456789", {"gap": 0.15}),
}
# Not yet: digits whose ink touches or overlaps ("307" with no gap, "86" overlapping) are cut
# in the wrong place; see the number-reading issue.


@pytest.mark.parametrize("case", CASES)
def test_numbers_are_read_digit_by_digit(recognizer, case):
    digits, layout = CASES[case]
    image = render(number_strokes(digits, **layout), size=(300 * len(digits), 300), pen=16)
    reading = recognizer.read_number(image)
    assert reading.text == digits
    boxes = [d.box for d in reading.digits]
    assert all(left < right for (left, _, right, _) in boxes)
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # left to right


@pytest.mark.parametrize("digit", "0123456789")
def test_a_single_digit_is_one_digit(recognizer, digit):
    """Never cut one digit in two: the 4 is two strokes, the 0 and 8 are wide loops."""
    reading = recognizer.read_number(render(number_strokes(digit), size=(300, 300)))
    assert reading.text == digit and len(reading.digits) == 1


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
