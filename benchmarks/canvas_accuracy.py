"""Accuracy on real pen-drawn digits (UNIPEN strokes) rendered the way a browser canvas draws them.

The data: UNIPEN isolated digits as pen trajectories (see the README beside the .npz file), found
through --unipen PATH or $DIGITREC_UNIPEN. Each digit's strokes are replayed onto a canvas image in
several named styles (STYLES below: canvas size, pen width, colours, transparency, digit size and
place) and every image goes through `Recognizer.predict(image, strokes=...)` as an RGBA uint8
array with the strokes in the canvas's pixels, the same call the app makes with its canvas; with
--ink-only the image goes alone, as `digitrec predict` reads a file. A declined answer (digit
None: confidence below the threshold) counts as wrong; the decline rate is reported beside the
accuracy.

Rendering: each digit is scaled with its aspect ratio kept so that the longer side of its pen path
(for nearly every digit the height) spans `size` x the canvas, then centred or put in a corner (the
corner cycles TL, TR, BR, BL with the digit's index in the file). Strokes are PIL lines of the pen's
width with a filled circle at every point (round caps and joins, as `lineCap = lineJoin = "round"`),
drawn as a coverage mask at 2-4x the canvas size and area-averaged down (anti-aliasing). The mask
then tints ink over an opaque background, or for a transparent canvas becomes the alpha channel
over the ink colour (what getImageData returns: colour unpremultiplied, alpha 0 where nothing is
drawn, (0, 0, 0, 0) there). Tablet points are used as they are: no smoothing or resampling.

Rerun (the full set, every style, the default model; --limit 300 first for a quick look):

    DIGITREC_UNIPEN=/path/to/unipen_digits_dev.npz \\
        .venv/bin/python benchmarks/canvas_accuracy.py --json artifacts/canvas_accuracy.json \\
        --save-examples artifacts/canvas_accuracy

Single process, one ONNX thread; the time a full run would take is estimated from the run itself
(per style: seconds per digit x all digits in the file), so a --limit 300 run tells you.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from digitrec.card import ModelError, default_model_path
from digitrec.evaluate import expected_calibration_error
from digitrec.pen import ENV_VAR, SOURCES, PenDigits, load_pen_digits, parse_sources, pen_data_path
from digitrec.recognize import Recognizer
from digitrec.strokes import draw_on, fit_to_canvas

DECLINED = -1  # stored for a digit None in the raw results


@dataclass(frozen=True)
class Style:
    name: str  # short key, used by --styles and as a table column
    description: str
    canvas: int  # square canvas, pixels
    pen: float  # pen width, canvas pixels
    ink: tuple[int, int, int]
    background: tuple[int, int, int, int]  # RGBA; alpha 0 = a transparent canvas
    size: float  # the longer side of the digit's pen path, as a fraction of the canvas side
    place: str  # "centre" or "corner"


BLACK, WHITE, DARK_PEN = (0, 0, 0), (255, 255, 255), (17, 17, 17)  # the app's pen: webapp/draw.py
TRANSPARENT = (0, 0, 0, 0)

STYLES: tuple[Style, ...] = (
    Style("black-on-white", "the app's Draw page as shipped: 320 px, pen 20, #111111 on white, digit 70% high, centred",
          320, 20, DARK_PEN, (*WHITE, 255), 0.70, "centre"),
    Style("white-on-black", "320 px, pen 20, white ink on black (a dark-mode canvas), 70%, centred",
          320, 20, WHITE, (*BLACK, 255), 0.70, "centre"),
    Style("transparent", "320 px, pen 20, #111111 on a transparent canvas (alpha 0 where nothing is drawn), 70%, centred",
          320, 20, DARK_PEN, TRANSPARENT, 0.70, "centre"),
    Style("blue-on-yellow", "400 px, pen 24, blue ink on a yellow background, 70%, centred",
          400, 24, (30, 60, 200), (250, 225, 80, 255), 0.70, "centre"),
    Style("chalk", "300 px, pen 14, light green chalk on a dark slate board, 65%, centred",
          300, 14, (190, 240, 190), (40, 50, 60, 255), 0.65, "centre"),
    Style("stylus", "600 px, pen 3 (a fine stylus on a big canvas: pen 0.7% of the digit's height), black on white, 70%",
          600, 3, BLACK, (*WHITE, 255), 0.70, "centre"),
    Style("finger", "200 px, pen 30 (a finger on a phone: pen ~21% of the digit's height), transparent, 70%, centred",
          200, 30, DARK_PEN, TRANSPARENT, 0.70, "centre"),
    Style("small-corner", "400 px, pen 8, black on white, digit 22% high, in a corner (5% margin)",
          400, 8, BLACK, (*WHITE, 255), 0.22, "corner"),
    Style("tiny-thin", "400 px, pen 4, dark on transparent, digit 25% high, in a corner (a thin pen on a small digit)",
          400, 4, DARK_PEN, TRANSPARENT, 0.25, "corner"),
    Style("large", "560 px, pen 40, black on white, digit 80% high, centred (fills the canvas)",
          560, 40, BLACK, (*WHITE, 255), 0.80, "centre"),
)  # fmt: skip
STYLE_NAMES = [s.name for s in STYLES]


# -----------------------------------------------------------------------------
# the data


def choose(data: PenDigits, limit: int | None, seed: int) -> np.ndarray:
    """All indices, or a seeded subset stratified by (source, label) in proportion to the file."""
    n = len(data)
    if limit is None or limit >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    # Each stratum's members get keys spread evenly over [0, 1) in a random order; the `limit`
    # smallest keys are then a proportional sample of every stratum (systematic sampling).
    keys = np.empty(n)
    strata = np.char.add(data.sources, data.labels.astype(str))
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        keys[members[rng.permutation(len(members))]] = (np.arange(len(members)) + rng.random(len(members))) / len(members)
    return np.sort(np.argsort(keys, kind="stable")[:limit])


# -----------------------------------------------------------------------------
# rendering


def placed(strokes: list[np.ndarray], style: Style, index: int) -> list[np.ndarray]:
    """One digit's strokes where the canvas draws them, in its pixels: what the app passes on with its image."""
    corner = None if style.place == "centre" else index % 4
    return fit_to_canvas(strokes, style.canvas, style.pen, style.size, corner)


def render(strokes: list[np.ndarray], style: Style, index: int) -> np.ndarray:
    """One digit on a canvas as the browser hands it over: (canvas, canvas, 4) uint8 RGBA."""
    coverage = draw_on((style.canvas, style.canvas), placed(strokes, style, index), style.pen)[:, :, None]

    ink = np.array(style.ink, dtype=np.float32)
    if style.background[3] == 0:  # transparent: the coverage is the alpha, the colour is the ink's
        rgb = np.where(coverage > 0, ink, 0.0)
        alpha = coverage * 255.0
    else:
        background = np.array(style.background[:3], dtype=np.float32)
        rgb = background * (1 - coverage) + ink * coverage
        alpha = np.full_like(coverage, 255.0)
    return np.concatenate([rgb, alpha], axis=2).round().astype(np.uint8)


# -----------------------------------------------------------------------------
# example sheets


THUMB = 112


def _thumbnail(canvas: np.ndarray) -> Image.Image:
    """The canvas as seen, transparency shown over a light checkerboard."""
    image = Image.fromarray(canvas, "RGBA").resize((THUMB, THUMB), Image.Resampling.LANCZOS)
    tiles = (np.add.outer(np.arange(THUMB) // 8, np.arange(THUMB) // 8) % 2).astype(np.uint8)
    board = Image.fromarray(np.where(tiles[:, :, None] == 1, 205, 240).repeat(3, axis=2).astype(np.uint8)).convert("RGBA")
    return Image.alpha_composite(board, image).convert("RGB")


def _seen(image: np.ndarray | None) -> Image.Image:
    if image is None:
        return Image.new("RGB", (THUMB, THUMB), (90, 0, 0))
    return Image.fromarray(image).resize((THUMB, THUMB), Image.Resampling.NEAREST).convert("RGB")


def sheet(cells: list[tuple[np.ndarray, np.ndarray | None, str]], title: str, columns: int = 4) -> Image.Image:
    """A grid of (canvas, what the model saw, caption) cells."""
    font = ImageFont.load_default()
    cell_w, cell_h, head = 2 * THUMB + 12, THUMB + 18, 20
    rows = max(1, -(-len(cells) // columns))
    out = Image.new("RGB", (columns * cell_w, head + rows * cell_h), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    draw.text((4, 4), title, fill=(0, 0, 0), font=font)
    for k, (canvas, seen, caption) in enumerate(cells):
        x, y = (k % columns) * cell_w, head + (k // columns) * cell_h
        out.paste(_thumbnail(canvas), (x + 2, y))
        out.paste(_seen(seen), (x + THUMB + 6, y))
        draw.text((x + 2, y + THUMB + 3), caption, fill=(160, 0, 0), font=font)
    return out


# -----------------------------------------------------------------------------
# the report


def pct(correct: int | float, total: int) -> str:
    return f"{100 * correct / total:.1f}" if total else "-"


def add_pen_benchmark_arguments(parser: argparse.ArgumentParser, reading: str) -> None:
    """The options every pen-stroke benchmark takes: the data file, the model, test-time augmentation."""
    parser.add_argument("--unipen", type=Path, default=None, help=f"the UNIPEN digits .npz (default: ${ENV_VAR})")
    parser.add_argument("--model", type=Path, default=None, help="ONNX model (default: digitrec.card.default_model_path())")
    parser.add_argument("--no-tta", action="store_true", help=f"{reading} without test-time augmentation")


def open_pen_benchmark(args: argparse.Namespace) -> tuple[PenDigits, Path, Path, Recognizer]:
    """The pen digits, their file, the model path and its recognizer, as the options name them;
    exits with the reason when either cannot be read."""
    try:
        data_path = pen_data_path(args.unipen)
        data = load_pen_digits(data_path)
        model_path = args.model or default_model_path()
        recognizer = Recognizer(model_path, tta=not args.no_tta, threads=1)
    except (ValueError, ModelError) as e:
        sys.exit(f"error: {e}")
    return data, data_path, model_path, recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_pen_benchmark_arguments(parser, "predict")
    parser.add_argument("--sources", default=None, help="comma-separated writer groups to read (default: all); "
                        "leave out those a model was trained on: its card's pen_data says which")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="a seeded subset of N digits, stratified by source and label")
    parser.add_argument("--seed", type=int, default=0, help="seed for --limit (default 0)")
    parser.add_argument("--styles", default=None, help=f"comma-separated subset of: {', '.join(STYLE_NAMES)}")
    parser.add_argument("--ink-only", action="store_true", help="read the image alone, as `digitrec predict` reads a file "
                        "(by default the strokes go with it, as the app passes its canvas's)")  # fmt: skip
    parser.add_argument("--temperature", type=float, default=None,
                        help="override the card's softmax temperature (1: uncalibrated)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="write the settings, summary and every prediction here")
    parser.add_argument("--save-examples", type=Path, default=None, metavar="DIR", help="write PNG sheets of misread digits here")
    parser.add_argument("--examples", type=int, default=12, help="misread digits kept per style for --save-examples (default 12)")
    args = parser.parse_args()

    styles = list(STYLES)
    if args.styles:
        wanted = [s.strip() for s in args.styles.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in STYLE_NAMES]
        if unknown or not wanted:
            parser.error(f"unknown style(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(STYLE_NAMES)}")
        styles = [s for s in STYLES if s.name in wanted]
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")

    data, data_path, model_path, recognizer = open_pen_benchmark(args)
    if args.temperature is not None:
        recognizer.temperature = args.temperature
    file_index = np.arange(len(data))  # a digit's place in the file, whatever subset is read
    if args.sources:
        try:
            wanted = parse_sources(args.sources, data)
        except ValueError as e:
            parser.error(str(e))
        keep = np.flatnonzero(np.isin(data.sources, wanted))
        data = PenDigits(data.labels[keep], data.sources[keep], [data.strokes[i] for i in keep], data.sha256)
        file_index = keep
    tta = not args.no_tta
    chosen = choose(data, args.limit, args.seed)
    labels, sources = data.labels[chosen], data.sources[chosen]
    n = len(chosen)

    # --- the run: style by style, every chosen digit -----------------------------------------
    predicted = {s.name: np.full(n, DECLINED, dtype=np.int64) for s in styles}
    confidence = {s.name: np.zeros(n, dtype=np.float64) for s in styles}
    probabilities = {s.name: np.zeros((n, 10), dtype=np.float64) for s in styles}
    status: dict[str, list[str]] = {s.name: [] for s in styles}
    seconds = {s.name: {"render": 0.0, "predict": 0.0} for s in styles}
    misread: dict[str, list[tuple[np.ndarray, np.ndarray | None, str]]] = {s.name: [] for s in styles}
    overview: dict[str, list[tuple[np.ndarray, np.ndarray | None, str]]] = {s.name: [] for s in styles}
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    with tqdm(total=n * len(styles), unit="digit", smoothing=0.05, file=sys.stderr) as progress:
        for style in styles:
            progress.set_description(style.name)
            for k, index in enumerate(file_index[chosen]):
                t0 = time.perf_counter()
                canvas = render(data.strokes[chosen[k]], style, int(index))
                strokes = None if args.ink_only else placed(data.strokes[chosen[k]], style, int(index))
                t1 = time.perf_counter()
                prediction = recognizer.predict(canvas, strokes=strokes)
                t2 = time.perf_counter()
                seconds[style.name]["render"] += t1 - t0
                seconds[style.name]["predict"] += t2 - t1
                if prediction.digit is not None:
                    predicted[style.name][k] = prediction.digit
                confidence[style.name][k] = prediction.confidence
                probabilities[style.name][k] = prediction.probabilities
                status[style.name].append(prediction.status)
                if args.save_examples:
                    read = "?" if prediction.digit is None else str(prediction.digit)
                    caption = f"{labels[k]}->{read} {prediction.confidence:.2f} {sources[k]} #{index}"
                    if len(overview[style.name]) < 4:
                        short = f"{style.name} {labels[k]}->{read} {prediction.confidence:.2f}"
                        overview[style.name].append((canvas, prediction.image, short))
                    if prediction.digit != labels[k] and len(misread[style.name]) < args.examples:
                        misread[style.name].append((canvas, prediction.image, caption))
                progress.update()
    elapsed = time.perf_counter() - started
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None

    # --- the numbers ---------------------------------------------------------------------------
    correct = {name: predicted[name] == labels for name in predicted}
    declined = {name: predicted[name] == DECLINED for name in predicted}
    all_correct = np.stack([correct[s.name] for s in styles])
    all_declined = np.stack([declined[s.name] for s in styles])
    present = [s for s in SOURCES if (sources == s).any()] + sorted(set(sources) - set(SOURCES))
    ece = {name: expected_calibration_error(probabilities[name], labels) for name in probabilities}
    ece_all = expected_calibration_error(np.concatenate(list(probabilities.values())), np.tile(labels, len(styles)))

    model_sha = recognizer.card["sha256"][:12]
    print("# Canvas accuracy: UNIPEN pen-drawn digits rendered as canvas drawings\n")
    print(
        f"- model: {model_path} (sha256 {model_sha}...), read {'from the image alone' if args.ink_only else 'with the strokes'}, "
        f"tta={'on' if tta else 'off'}, threshold {recognizer.threshold}, "
        f"temperature {recognizer.temperature:g}" + (" (overridden)" if args.temperature is not None else " (the card's)")
    )
    subset = f"a subset stratified by source and label, --limit {args.limit} --seed {args.seed}" if n < len(data) else "all"
    print(f"- digits: {n} of {len(data)} in {data_path.name} ({subset}); styles: {len(styles)}; predictions: {n * len(styles)}")
    overall, declined_all = pct(all_correct.sum(), all_correct.size), pct(all_declined.sum(), all_declined.size)
    print(f"- overall accuracy {overall}%, declined {declined_all}% (a declined answer, digit None, counts as wrong)")
    print(f"- expected calibration error {100 * ece_all:.2f}% (15 confidence bins, all styles)\n")

    print("## Styles\n")
    print("| style | canvas | pen | ink | background | digit size | place | description |")
    print("|---|---:|---:|---|---|---:|---|---|")
    for s in styles:
        background = "transparent" if s.background[3] == 0 else "#{:02x}{:02x}{:02x}".format(*s.background[:3])
        ink = "#{:02x}{:02x}{:02x}".format(*s.ink)
        print(f"| {s.name} | {s.canvas} | {s.pen:g} | {ink} | {background} | {s.size:.0%} | {s.place} | {s.description} |")
    print()

    print("## Accuracy per style (%)\n")
    print("| style | accuracy | declined | wrong digit | calibration error | ms per digit (render + predict) |")
    print("|---|---:|---:|---:|---:|---:|")
    for s in styles:
        ok, no = correct[s.name], declined[s.name]
        ms = 1000 * (seconds[s.name]["render"] + seconds[s.name]["predict"]) / n
        ms_split = f"{ms:.1f} ({1000 * seconds[s.name]['render'] / n:.1f} + {1000 * seconds[s.name]['predict'] / n:.1f})"
        wrong = pct(n - ok.sum() - no.sum(), n)
        print(f"| {s.name} | {pct(ok.sum(), n)} | {pct(no.sum(), n)} | {wrong} | {100 * ece[s.name]:.2f} | {ms_split} |")
    wrong_all = all_correct.size - all_correct.sum() - all_declined.sum()
    print(
        f"| **all styles** | **{pct(all_correct.sum(), all_correct.size)}** | {pct(all_declined.sum(), all_declined.size)} "
        f"| {pct(wrong_all, all_correct.size)} | {100 * ece_all:.2f} | |\n"
    )

    print("## Accuracy per source and style (%)\n")
    print("| source | digits | " + " | ".join(s.name for s in styles) + " | all styles |")
    print("|---|---:|" + "---:|" * (len(styles) + 1))
    for source in present:
        rows = sources == source
        cells = [pct(correct[s.name][rows].sum(), rows.sum()) for s in styles]
        together = pct(all_correct[:, rows].sum(), all_correct[:, rows].size)
        print(f"| {source} | {rows.sum()} | " + " | ".join(cells) + f" | {together} |")
    cells = [pct(correct[s.name].sum(), n) for s in styles]
    print(f"| **all** | {n} | " + " | ".join(cells) + f" | {pct(all_correct.sum(), all_correct.size)} |\n")

    print("## Accuracy per digit and style (%)\n")
    print("| style | " + " | ".join(str(d) for d in range(10)) + " |")
    print("|---|" + "---:|" * 10)
    for s in styles:
        cells = [pct(correct[s.name][labels == d].sum(), (labels == d).sum()) for d in range(10)]
        print(f"| {s.name} | " + " | ".join(cells) + " |")
    print("| digits | " + " | ".join(str((labels == d).sum()) for d in range(10)) + " |\n")

    confusions = Counter()
    for s in styles:
        for truth, read in zip(labels[~correct[s.name]], predicted[s.name][~correct[s.name]], strict=True):
            confusions[(int(truth), int(read))] += 1
    print("## Most common misreads (all styles)\n")
    print(
        ", ".join(f"{t}->{'declined' if r == DECLINED else r}: {count}" for (t, r), count in confusions.most_common(12)) or "none"
    )
    print()

    # --- time ------------------------------------------------------------------------------------
    per_digit = {name: (t["render"] + t["predict"]) / n for name, t in seconds.items()}
    full = sum(per_digit.values()) * len(data)
    print("## Time\n")
    print(f"- this run: {elapsed:.0f} s for {n * len(styles)} predictions ({1000 * elapsed / (n * len(styles)):.1f} ms each)")
    print(
        f"- a full run ({len(data)} digits x {len(styles)} styles, tta={'on' if tta else 'off'}) would take about "
        f"{full / 60:.0f} min on this machine at this load (per style: ms per digit x {len(data)})"
    )
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; load average at start {load_start}, at end {load_end}")

    # --- files ---------------------------------------------------------------------------------
    if args.save_examples:
        args.save_examples.mkdir(parents=True, exist_ok=True)
        cells = [cell for s in styles for cell in overview[s.name]]
        sheet(cells, "the first 4 digits in every style (truth->read confidence); left: canvas, right: model input").save(
            args.save_examples / "renders.png"
        )
        for s in styles:
            title = f"{s.name}: misread digits (truth->read confidence source #index); left: canvas, right: model input"
            sheet(misread[s.name], title).save(args.save_examples / f"misread_{s.name}.png")
        print(f"- example sheets: {args.save_examples}/renders.png and misread_<style>.png")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "benchmark": "canvas_accuracy",
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "data": {"path": str(data_path), "sources": args.sources, "digits": len(data)}
            | {"limit": args.limit, "seed": args.seed},
            "model": {
                "path": str(model_path),
                "sha256": recognizer.card["sha256"],
                "tta": tta,
                "ink_only": args.ink_only,
                "threshold": recognizer.threshold,
                "temperature": recognizer.temperature,
            },
            "styles": [asdict(s) for s in styles],
            "summary": {
                "accuracy": float(all_correct.mean()),
                "declined": float(all_declined.mean()),
                "calibration_error": ece_all,
                "per_style": {
                    name: {
                        "accuracy": float(correct[name].mean()),
                        "declined": float(declined[name].mean()),
                        "calibration_error": ece[name],
                    }
                    for name in correct
                },
                "per_source": {
                    source: {name: float(correct[name][sources == source].mean()) for name in correct} for source in present
                },
            },
            "timing": {
                "elapsed_s": elapsed,
                "per_style_s": seconds,
                "estimated_full_run_s": full,
                "load_average": [load_start, load_end],
            },
            # Per digit, in the order of "index": -1 in "digit" is a declined answer.
            "index": file_index[chosen].tolist(),
            "label": labels.tolist(),
            "source": sources.tolist(),
            "predictions": {
                name: {
                    "digit": predicted[name].tolist(),
                    "confidence": [round(float(p), 5) for p in confidence[name]],
                    "status": status[name],
                }
                for name in predicted
            },
        }
        args.json.write_text(json.dumps(result) + "\n")
        print(f"- raw results: {args.json}")


if __name__ == "__main__":
    main()
