"""Reading whole numbers: real pen-drawn digits (UNIPEN strokes) composed into numbers on one canvas.

The data: UNIPEN isolated digits as pen trajectories (see the README beside the .npz file), found
through --unipen PATH or $DIGITREC_UNIPEN. Each composed number takes 2 to 6 digits, all from one
writer group, and places them left to right as a person writes a number in the app's Number mode:
the RGBA image and its pen strokes, in the order drawn, go through
`Recognizer.read_number(image, strokes=...)`, the same call the app makes. With --ink-only the
image goes alone, as `digitrec predict --number` reads a file. Each digit's strokes are drawn one
after another, left to right, as most people write a number (one who crosses all the sevens at
the end would not be).

Composition (`plan` draws the choices, `compose` places the strokes): every digit is scaled, aspect
kept (a "1" stays thin), so that its pen path is the common digit height times a small size jitter
(+-8%); the gap between neighbouring digits' ink boxes (the pen path's box grown by half the pen) is
drawn, once per number, from one of the GAP_BANDS: wide (0.25-0.5 digit heights) down to touching
boxes (+-0.02) and overlapping ones (-0.1 to -0.02; never more than half the narrower digit's pen
path, so two 1s are not written through each other). The baseline waves: each digit moves up or down
on a sine of random amplitude (up to 0.15 digit heights), frequency and phase. The digit height is
60% of the canvas height, less when a long, widely spaced number would not fit the canvas width
(a person writes smaller then); the number is centred. Canvas and pen are the app's (webapp/draw.py:
720x240, pen 20, #111111 on white); strokes are drawn by `digitrec.strokes.draw_strokes` (round caps
and joins, anti-aliased), as in benchmarks/canvas_accuracy.py.

Scoring: a number is right only if every digit is read, in order, and no digit is added or lost
(a declined digit, "?", is wrong). Per digit: when as many digits are read as were written, each
is compared with the one at its position; when the count is wrong none of that number's digits
count as right, and the count errors (digits split in two, or merged into one) are reported apart.

Writer groups: by default all but "syn" and any other the model's card lists as trained on
(`pen_data.trained_on_sources`): a model trained on a group's strokes would be graded on its own
homework, and so would digitrec.segment, whose constants were tuned on numbers of syn's digits.
With the default model the numbers depend only on the seed, --limit and --sources.

Rerun (1,000 numbers, the default model; single process, one ONNX thread):

    DIGITREC_UNIPEN=/path/to/unipen_digits_dev.npz \\
        .venv/bin/python benchmarks/number_accuracy.py --json artifacts/number_accuracy.json \\
        --save-examples artifacts/number_accuracy
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from canvas_accuracy import add_pen_benchmark_arguments, open_pen_benchmark, pct
from digitrec.pen import PenDigits, parse_sources
from digitrec.recognize import Recognizer
from digitrec.strokes import draw_strokes

CANVAS = (720, 240)  # the app's Number canvas: webapp/draw.py
PEN = 20.0  # the app's default pen width
INK, BACKGROUND = (17, 17, 17), (255, 255, 255)  # #111111 on white
DIGIT_HEIGHT = 0.6  # of the canvas height: a digit's pen path, before the size jitter
MARGIN = 0.05  # of the canvas height, kept free on every side
SIZE_JITTER = 0.08  # each digit's height: x (1 +- this)
WAVE = 0.15  # the baseline's largest swing, in digit heights
MAX_OVERLAP = 0.5  # of the narrower digit's pen path width: overlapping digits stay two digits
LENGTHS = (2, 3, 4, 5, 6)
GAP_BANDS: dict[str, tuple[float, float]] = {  # gap between neighbouring ink boxes, in digit heights
    "wide": (0.25, 0.5),
    "normal": (0.1, 0.25),
    "close": (0.02, 0.1),
    "touching": (-0.02, 0.02),
    "overlapping": (-0.1, -0.02),
}
WITHOUT_OVERLAP = ("wide", "normal", "close", "touching")  # the gaps the issue asks for; overlapping goes beyond
NOT_BY_DEFAULT = ("syn",)  # the shipped model learnt from syn's strokes, the segmentation was tuned on them


@dataclass(frozen=True)
class Number:
    """One composed number: which digits of the file, and how they are laid out."""

    indices: list[int]  # into the file, left to right
    text: str  # the digits written
    source: str
    band: str
    gaps: list[float]  # between neighbouring ink boxes, in digit heights (len(indices) - 1)
    sizes: list[float]  # each digit's pen-path height, in digit heights
    offsets: list[float]  # each digit's vertical move, in digit heights (down is positive)


@dataclass(frozen=True)
class Composition:
    strokes: list[np.ndarray]  # every digit's strokes, in canvas pixels (x right, y down)
    boxes: list[tuple[float, float, float, float]]  # each digit's ink box: (left, top, right, bottom)
    height: float  # the common digit height, in pixels


def _extent(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(strokes)
    return points.min(axis=0), points.max(axis=0)


def _aspect(strokes: list[np.ndarray]) -> float:
    """Width over height of a digit's pen path (a dot or a flat dash counts as 1 high)."""
    low, high = _extent(strokes)
    width, height = high - low
    return float(width / height) if height > 0 else 1.0


# -----------------------------------------------------------------------------
# composing numbers


def plan(data: PenDigits, pool: np.ndarray, n: int, seed: int) -> list[Number]:
    """`n` numbers from the digits at `pool`: lengths and gap bands balanced, the rest drawn at random.

    A number's writer group is drawn in proportion to its digits in the pool."""
    rng = np.random.default_rng(seed)
    lengths = rng.permutation(np.resize(LENGTHS, n))
    bands = rng.permutation(np.resize(list(GAP_BANDS), n))
    groups = {s: pool[data.sources[pool] == s] for s in dict.fromkeys(data.sources[pool].tolist())}
    names = list(groups)
    weights = np.array([len(groups[s]) for s in names], dtype=float)
    numbers = []
    for length, band in zip(lengths, bands, strict=True):
        source = names[rng.choice(len(names), p=weights / weights.sum())]
        indices = rng.choice(groups[source], size=int(length), replace=len(groups[source]) < length)
        sizes = 1 + rng.uniform(-SIZE_JITTER, SIZE_JITTER, int(length))
        widths = [_aspect(data.strokes[i]) * s for i, s in zip(indices, sizes, strict=True)]
        gaps = [
            max(float(rng.uniform(*GAP_BANDS[band])), -MAX_OVERLAP * min(left, right))
            for left, right in itertools.pairwise(widths)
        ]
        wave = rng.uniform(0, WAVE) * np.sin(rng.uniform(0, 2 * np.pi) + rng.uniform(0.6, 2.0) * np.arange(length))
        numbers.append(
            Number(
                indices=[int(i) for i in indices],
                text="".join(str(data.labels[i]) for i in indices),
                source=str(source),
                band=str(band),
                gaps=gaps,
                sizes=sizes.tolist(),
                offsets=wave.tolist(),
            )
        )
    return numbers


def compose(
    digits: list[list[np.ndarray]],
    gaps: list[float],
    sizes: list[float],
    offsets: list[float],
    canvas: tuple[int, int] = CANVAS,
    pen: float = PEN,
) -> Composition:
    """Place digits' strokes left to right on the canvas: ink boxes `gaps` digit heights apart.

    The digit height is DIGIT_HEIGHT of the canvas height, or less where the number would not
    fit the canvas width; the whole number is centred."""
    width, height = canvas
    aspects = [_aspect(d) for d in digits]
    relative_width = sum(a * s for a, s in zip(aspects, sizes, strict=True)) + sum(gaps)
    room = width - 2 * MARGIN * height - len(digits) * pen  # for the pen paths and gaps
    digit_height = DIGIT_HEIGHT * height
    if relative_width > 0:
        digit_height = min(digit_height, room / relative_width)
    placed, boxes, left = [], [], 0.0
    for strokes, size, offset, gap in zip(digits, sizes, offsets, [*gaps, 0.0], strict=True):
        low, high = _extent(strokes)
        scale = size * digit_height / max(float(high[1] - low[1]), 1e-9)
        path_width, path_height = (high - low) * scale
        top = (offset + 0.5) * digit_height - path_height  # standing on the (wavy) baseline
        shift = np.array([left + pen / 2, top]) - low * scale
        placed += [stroke * scale + shift for stroke in strokes]
        boxes.append((left, top - pen / 2, left + path_width + pen, top + path_height + pen / 2))
        left += path_width + pen + gap * digit_height
    # Centre the number on the canvas.
    lows, highs = np.array([b[:2] for b in boxes]).min(axis=0), np.array([b[2:] for b in boxes]).max(axis=0)
    move = (np.array(canvas) - (lows + highs)) / 2
    placed = [stroke + move for stroke in placed]
    boxes = [(a + move[0], b + move[1], c + move[0], d + move[1]) for a, b, c, d in boxes]
    return Composition(placed, boxes, digit_height)


def render(composition: Composition, canvas: tuple[int, int] = CANVAS, pen: float = PEN) -> np.ndarray:
    """The number on the canvas as the browser hands it over: (height, width, 4) uint8 RGBA.

    `draw_strokes` centres what it draws on a square canvas at scale 1 when `size` is the
    strokes' extent over the side: the composition is centred too, so the middle rows are it."""
    width, height = canvas
    side = max(width, height)
    low, high = _extent(composition.strokes)
    coverage = draw_strokes(composition.strokes, side, pen, float((high - low).max()) / side)
    top, left = (side - height) // 2, (side - width) // 2
    coverage = coverage[top : top + height, left : left + width, None]
    rgb = np.array(BACKGROUND, dtype=np.float32) * (1 - coverage) + np.array(INK, dtype=np.float32) * coverage
    return np.concatenate([rgb, np.full_like(coverage, 255.0)], axis=2).round().astype(np.uint8)


# -----------------------------------------------------------------------------
# the report


def digits_right(truth: str, read: str) -> int:
    """Digits read right at their position; none when the count of digits is wrong."""
    if len(truth) != len(read):
        return 0
    return sum(t == r for t, r in zip(truth, read, strict=True))


def _accuracies(rows: list[dict]) -> tuple[float, float]:
    """(numbers read right, digits read right), as fractions; zeros for no rows."""
    if not rows:
        return 0.0, 0.0
    right = sum(r["read"] == r["truth"] for r in rows) / len(rows)
    return right, sum(r["digits_right"] for r in rows) / sum(len(r["truth"]) for r in rows)


def _table(title: str, key: str, order: list, results: list[dict]) -> None:
    print(f"## By {title}\n")
    print(f"| {title} | numbers | number right | digits right | count wrong (split / merged) | ms per number |")
    print("|---|---:|---:|---:|---:|---:|")
    for value in [*order, None]:
        rows = [r for r in results if value is None or r[key] == value]
        if not rows:
            continue
        numbers_right, digits_read_right = _accuracies(rows)
        split = sum(len(r["read"]) > len(r["truth"]) for r in rows)
        merged = sum(len(r["read"]) < len(r["truth"]) for r in rows)
        ms = 1000 * sum(r["seconds"] for r in rows) / len(rows)
        name = "**all**" if value is None else value
        print(
            f"| {name} | {len(rows)} | {pct(numbers_right, 1)} | {pct(digits_read_right, 1)} "
            f"| {pct(split + merged, len(rows))} ({split} / {merged}) | {ms:.0f} |"
        )
    print()


def _example(canvas: np.ndarray, composition: Composition, boxes: list) -> Image.Image:
    """The canvas with the composed digits' ink boxes (grey) and the boxes read (red)."""
    image = Image.fromarray(canvas).convert("RGB")
    draw = ImageDraw.Draw(image)
    for box in composition.boxes:
        draw.rectangle(box, outline=(170, 170, 170))
    for box in boxes:
        draw.rectangle(box, outline=(220, 0, 0), width=2)
    return image


def default_sources(data: PenDigits, recognizer: Recognizer) -> list[str]:
    """Every writer group in the file but syn and those the model was trained on."""
    trained = (recognizer.card.get("pen_data") or {}).get("trained_on_sources", [])
    present = dict.fromkeys(data.sources.tolist())
    return [s for s in present if s not in (*NOT_BY_DEFAULT, *trained)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_pen_benchmark_arguments(parser, "read")
    parser.add_argument("--sources", default=None, help="comma-separated writer groups to compose numbers from "
                        "(default: all but syn and those the model's card says it was trained on)")  # fmt: skip
    parser.add_argument("--limit", type=int, default=1000, help="how many numbers (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the numbers drawn (default 0)")
    parser.add_argument("--ink-only", action="store_true", help="read the image alone, as `digitrec predict --number` "
                        "reads a file (default: with the pen strokes, as the app's canvas hands them over)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="write the settings, summary and every reading here")
    parser.add_argument("--save-examples", type=Path, default=None, metavar="DIR", help="write PNGs of misread numbers here")
    parser.add_argument("--examples", type=int, default=40, help="misread numbers kept for --save-examples (default 40)")
    args = parser.parse_args()
    if args.limit < 1:
        parser.error("--limit must be at least 1")

    data, data_path, model_path, recognizer = open_pen_benchmark(args)
    if args.sources:
        try:
            sources = parse_sources(args.sources, data)
        except ValueError as e:
            parser.error(str(e))
    else:
        sources = default_sources(data, recognizer)
    pool = np.flatnonzero(np.isin(data.sources, sources))
    numbers = plan(data, pool, args.limit, args.seed)

    # --- the run -----------------------------------------------------------------------------------
    results: list[dict] = []
    render_s = 0.0
    kept = 0
    if args.save_examples:
        args.save_examples.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    for k, number in enumerate(tqdm(numbers, unit="number", smoothing=0.05, file=sys.stderr)):
        t0 = time.perf_counter()
        composition = compose([data.strokes[i] for i in number.indices], number.gaps, number.sizes, number.offsets)
        canvas = render(composition)
        t1 = time.perf_counter()
        reading = recognizer.read_number(canvas, strokes=None if args.ink_only else composition.strokes)
        t2 = time.perf_counter()
        render_s += t1 - t0
        read = reading.text
        results.append(
            asdict(number)
            | {
                "truth": number.text,
                "read": read,
                "digits_right": digits_right(number.text, read),
                "length": len(number.text),
                "confidence": [round(d.confidence, 5) for d in reading.digits],
                "seconds": t2 - t1,
            }
        )
        if args.save_examples and read != number.text and kept < args.examples:
            name = f"{k:04d}_{number.band}_{number.source}_{number.text}_read_{read.replace('?', 'x') or 'nothing'}.png"
            _example(canvas, composition, [d.box for d in reading.digits]).save(args.save_examples / name)
            kept += 1
    elapsed = time.perf_counter() - started
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None

    # --- the numbers ---------------------------------------------------------------------------
    n = len(results)
    numbers_right, digits_read_right = _accuracies(results)
    digits = sum(len(r["truth"]) for r in results)
    count_wrong = sum(len(r["read"]) != len(r["truth"]) for r in results)
    model_sha = recognizer.card["sha256"][:12]
    tta = not args.no_tta
    print("# Number accuracy: UNIPEN pen-drawn digits composed into numbers\n")
    print(f"- model: {model_path} (sha256 {model_sha}...), tta={'on' if tta else 'off'}, threshold {recognizer.threshold}")
    print(f"- numbers: {n} (--seed {args.seed}), {digits} digits, from writer groups {', '.join(sources)} of {data_path.name}")
    print(f"- canvas {CANVAS[0]}x{CANVAS[1]}, pen {PEN:g}, digit height {DIGIT_HEIGHT:.0%} of the canvas or less to fit")
    print(f"- read from: {'the image alone' if args.ink_only else 'the image and its pen strokes, in the order drawn'}")
    print(
        f"- **numbers read right {pct(numbers_right, 1)}%, digits right {pct(digits_read_right, 1)}%**, "
        f"count of digits wrong {pct(count_wrong, n)}%\n"
    )
    bands = ", ".join(f"{name} {low:g} to {high:g}" for name, (low, high) in GAP_BANDS.items())
    print(f"Gap bands (between ink boxes, in digit heights): {bands}.\n")
    _table("gap band", "band", list(GAP_BANDS), results)
    apart = [r for r in results if r["band"] in WITHOUT_OVERLAP]
    apart_right, apart_digits = _accuracies(apart)
    print(
        f"Gaps from wide to touching, no overlap ({', '.join(WITHOUT_OVERLAP)}; {len(apart)} numbers): "
        f"**numbers read right {pct(apart_right, 1)}%, digits right {pct(apart_digits, 1)}%**.\n"
    )
    _table("length", "length", list(LENGTHS), results)
    _table("source", "source", sources, results)

    misreads = Counter(
        (r["truth"][i], r["read"][i]) for r in results if len(r["read"]) == len(r["truth"]) for i in range(len(r["truth"]))
    )
    misreads = Counter({pair: c for pair, c in misreads.items() if pair[0] != pair[1]})
    print("## Most common digit misreads (numbers read with the right count)\n")
    print(", ".join(f"{t}->{'declined' if r == '?' else r}: {c}" for (t, r), c in misreads.most_common(12)) or "none")
    print()

    print("## Time\n")
    read_ms = 1000 * (elapsed - render_s) / n
    print(f"- this run: {elapsed:.0f} s for {n} numbers: render {1000 * render_s / n:.1f} ms, read {read_ms:.1f} ms per number")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; load average at start {load_start}, at end {load_end}")
    if args.save_examples:
        print(f"- misread numbers: {args.save_examples}/*.png (grey: the digits as composed, red: as read)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "benchmark": "number_accuracy",
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "data": {"path": str(data_path), "sha256": data.sha256, "sources": sources, "limit": args.limit, "seed": args.seed},
            "model": {
                "path": str(model_path),
                "sha256": recognizer.card["sha256"],
                "tta": tta,
                "threshold": recognizer.threshold,
                "strokes": not args.ink_only,
            },
            "layout": {"canvas": CANVAS, "pen": PEN, "digit_height": DIGIT_HEIGHT, "gap_bands": GAP_BANDS, "wave": WAVE},
            "summary": {
                "numbers_right": numbers_right,
                "digits_right": digits_read_right,
                "count_wrong": count_wrong / n,
                "per_band": {
                    band: dict(zip(("numbers_right", "digits_right"), _accuracies(rows), strict=True))
                    for band in GAP_BANDS
                    if (rows := [r for r in results if r["band"] == band])
                },
                "without_overlap": {"bands": WITHOUT_OVERLAP, "numbers_right": apart_right, "digits_right": apart_digits},
            },
            "timing": {"elapsed_s": elapsed, "render_s": render_s, "load_average": [load_start, load_end]},
            "numbers": results,
        }
        args.json.write_text(json.dumps(result) + "\n")
        print(f"- raw results: {args.json}")


if __name__ == "__main__":
    main()
