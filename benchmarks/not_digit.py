"""How often letters and signs are declined, and how often digits are wrongly declined with them.

Letters: the Hershey fonts' glyphs the not-a-digit detector was never fitted on
(`digitrec.nondigit.HELD_OUT_GLYPHS`: an italic and a joined-up script), and for reference the
fonts it was fitted on, drawn as canvas drawings in every style of the canvas benchmark
(`canvas_accuracy.STYLES`) and sent through `Recognizer.predict` as the app sends its canvas,
with its pen strokes.
A letter counts as declined when the answer is no digit (the detector, the shape rules or a
confidence below the threshold). Digits: the MNIST test set through the detector, as served
(with TTA); for pen-drawn digits, the canvas benchmark's "declined" counts.

Rerun:

    DIGITREC_DATA=../shared/mnist .venv/bin/python benchmarks/not_digit.py
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from canvas_accuracy import STYLES, placed, render
from digitrec import data, nondigit
from digitrec.recognize import Recognizer


def declined_glyphs(recognizer: Recognizer, glyphs: dict[str, str]) -> tuple[dict[str, dict[str, float]], Counter]:
    """Per font and style, the fraction of glyphs declined; and which glyphs were read as which digit."""
    rates: dict[str, dict[str, float]] = {}
    read_as: Counter = Counter()
    for font, character, strokes in nondigit.glyph_strokes(glyphs):
        for index, style in enumerate(STYLES):
            digit = recognizer.predict(render(strokes, style, index), strokes=placed(strokes, style, index)).digit
            rates.setdefault(font, {}).setdefault(style.name, 0.0)
            rates[font][style.name] += (digit is None) / len(glyphs[font])
            if digit is not None:
                read_as[f"{font}:{character}->{digit}"] += 1
    return rates, read_as


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="ONNX model (default: the shipped one)")
    args = parser.parse_args()
    recognizer = Recognizer(args.model)
    print(f"model: {recognizer.model_path}, not-a-digit threshold {recognizer.not_digit_threshold}\n")

    print("| font | fitted on | " + " | ".join(s.name for s in STYLES) + " | all |")
    print("|---|---|" + "---:|" * (len(STYLES) + 1))
    misread: Counter = Counter()
    for glyphs, fitted in ((nondigit.HELD_OUT_GLYPHS, "no"), (nondigit.TRAINING_GLYPHS, "yes")):
        rates, read_as = declined_glyphs(recognizer, glyphs)
        misread.update(read_as if fitted == "no" else Counter())
        for font, per_style in rates.items():
            cells = " | ".join(f"{100 * per_style[s.name]:.0f}" for s in STYLES)
            print(f"| {font} ({len(glyphs[font])} glyphs) | {fitted} | {cells} | {100 * np.mean(list(per_style.values())):.1f} |")
    print("\nHeld-out glyphs most often read as a digit (glyph->digit: styles of 10):")
    print(", ".join(f"{k}: {n}" for k, n in misread.most_common(15)))

    test = data.load_split("test")
    scores = recognizer.not_digit_scores(test.images / 255.0, tta=recognizer.tta)
    declined = np.flatnonzero(scores >= recognizer.not_digit_threshold)
    print(f"\nMNIST test digits the detector declines: {len(declined)} of {len(test.labels)} (indices {declined.tolist()})")


if __name__ == "__main__":
    main()
