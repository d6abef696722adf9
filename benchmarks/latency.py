"""End-to-end latency of one prediction from a canvas drawing, in-process.

What is measured: `Recognizer.predict(array)` on a 280x280 RGBA uint8 canvas image (a dark
digit drawn with PIL on a transparent background, cycling through a small fixed set of
drawings, see canvas.py), which includes preprocessing. Four timings are interleaved in
each iteration, so background load hits them alike:

    preprocess   digitrec.preprocess.preprocess(array) alone
    tta=False    Recognizer.predict(array, tta=False): preprocess + one network pass
    tta=True     Recognizer.predict(array, tta=True):  preprocess + 5 versions in one batch
    tta=True, with strokes
                 Recognizer.predict(array, tta=True, strokes=...): as the app's Draw page calls it,
                 the drawing's pen strokes read drawn afresh (see digitrec.strokes)

The same calls are also timed on real pen-drawn digits, where the UNIPEN file is given (--unipen
or $DIGITREC_UNIPEN): PEN_DIGITS digits of the writer groups the model did not train on, drawn
on the same 280x280 canvas with the same pen, 70% of its height, centred. Their strokes have
tens of points each, against the fixed set's few, and their shapes are less regular, so these
rows are what a real drawing costs; the fixed set's rows are comparable with earlier runs.

The model is loaded once, before timing (loading is not part of a prediction). Each timing is
time.perf_counter around one call, after --warmup untimed iterations; the garbage collector
stays on, as in the app. Results are in milliseconds: median, p90, p99, mean.

Rerun (the shipped model, 1000 predictions of each kind):

    DIGITREC_UNIPEN=../shared/unipen/unipen_digits_dev.npz \\
        .venv/bin/python benchmarks/latency.py --n 1000 --json artifacts/latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from canvas import CANVAS, PEN, VARIANTS, drawings, drawings_strokes
from canvas_accuracy import TRANSPARENT, Style, placed, render
from digitrec.card import ModelError, default_model_path
from digitrec.pen import ENV_VAR, load_pen_digits
from digitrec.preprocess import preprocess
from digitrec.recognize import Recognizer

PEN_DIGITS = 60  # real pen-drawn digits cycled through, 6 of each digit
# The pen-drawn digits' canvas: the fixed set's (canvas.py), the digit 70% of it, centred.
PEN_DRAWN = Style("pen-drawn", "the fixed set's canvas and pen", CANVAS, PEN, (20, 20, 30), TRANSPARENT, 0.7, "centre")

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", type=Path, default=None, help="ONNX model (default: digitrec.card.default_model_path())")
parser.add_argument("--n", type=int, default=1000, help="timed predictions of each kind (default 1000)")
parser.add_argument("--warmup", type=int, default=50, help="untimed iterations first (default 50)")
parser.add_argument("--json", type=Path, default=None, help="also write the raw timings and summary here")
parser.add_argument(
    "--unipen", type=Path, default=os.environ.get(ENV_VAR) or None, help=f"UNIPEN file, for pen-drawn rows (default ${ENV_VAR})"
)
args = parser.parse_args()

# -----------------------------------------------------------------------------
# the machine and the model


def cpu_model() -> str:
    try:  # Linux; platform.processor() is often empty there
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "?"


def load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


model_path = args.model or default_model_path()
try:
    recognizer = Recognizer(model_path)
except ModelError as e:
    sys.exit(f"error: {e}")
machine = {
    "platform": platform.platform(),
    "machine": platform.machine(),
    "cpu_model": cpu_model(),
    "cpu_count": os.cpu_count(),
    "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    "python": platform.python_version(),
    "numpy": np.__version__,
    "onnxruntime": ort.__version__,
    "providers": recognizer.session.get_providers(),
    "load_average_at_start": load_average(),
}
model = {
    "path": str(model_path),
    "name": recognizer.card.get("name", model_path.stem),
    "sha256": recognizer.card["sha256"][:12],
    "architecture": recognizer.card.get("architecture"),
}
print("# digitrec prediction latency\n")
for key, value in {**machine, "model": f"{model['path']} (sha256 {model['sha256']}...)"}.items():
    print(f"- {key}: {value}")
print()

# -----------------------------------------------------------------------------
# the inputs: canvas images as the app hands them over (uint8, 280x280x4)


def pen_drawn(path: Path) -> list[tuple[int, np.ndarray, list[np.ndarray]]]:
    """PEN_DIGITS held-out UNIPEN digits as (digit, canvas, strokes in its pixels), the same every run."""
    data = load_pen_digits(path)
    rng = np.random.default_rng(0)
    held_out = data.sources != "syn"  # the writers the shipped model trained on
    per_digit = [np.flatnonzero(held_out & (data.labels == digit)) for digit in range(10)]
    chosen = [i for pool in per_digit for i in rng.choice(pool, PEN_DIGITS // 10, replace=False)]
    return [(int(data.labels[i]), render(data.strokes[i], PEN_DRAWN, 0), placed(data.strokes[i], PEN_DRAWN, 0)) for i in chosen]


pairs = zip(drawings(), drawings_strokes(), strict=True)
sets = {"fixed": [(digit, np.asarray(image, dtype=np.uint8), drawn) for (digit, image), drawn in pairs]}
if args.unipen:
    sets["pen-drawn"] = pen_drawn(args.unipen)
for name, inputs in sets.items():
    assert all(a.shape == (280, 280, 4) and a.dtype == np.uint8 for _, a, _ in inputs)
    # Every drawing must reach the network: an "empty" answer would time the early return.
    answers = [(digit, recognizer.predict(array, tta=True, strokes=drawn)) for digit, array, drawn in inputs]
    assert all(p.status != "empty" for _, p in answers), f"a {name} drawing came out empty"
    print(f"inputs, {name}: {len(inputs)} drawings cycled; drawn -> read (confidence), tta=True, with strokes:")
    print("  " + ", ".join(f"{d} -> {p.digit if p.digit is not None else '?'} ({p.confidence:.0%})" for d, p in answers[::5]))
if not args.unipen:
    print(f"(no pen-drawn rows: give --unipen or set ${ENV_VAR})")
print()

# -----------------------------------------------------------------------------
# the measurement

calls = {
    "preprocess": lambda a, _: preprocess(a),
    "predict tta=False": lambda a, _: recognizer.predict(a, tta=False),
    "predict tta=True": lambda a, _: recognizer.predict(a, tta=True),
    "predict tta=True, with strokes": lambda a, strokes: recognizer.predict(a, tta=True, strokes=strokes),
}
kinds = {name: ("fixed", call) for name, call in calls.items()}
if "pen-drawn" in sets:
    kinds |= {f"pen-drawn: {name}": ("pen-drawn", calls[name]) for name in ("predict tta=True", "predict tta=True, with strokes")}


def run_once(i: int, kind: str) -> None:
    name, call = kinds[kind]
    _, array, drawn = sets[name][i % len(sets[name])]
    call(array, drawn)


for i in range(args.warmup):
    for kind in kinds:
        run_once(i, kind)

timings: dict[str, list[float]] = {kind: [] for kind in kinds}
t_start = time.perf_counter()
for i in range(args.n):
    for kind in kinds:
        t0 = time.perf_counter()
        run_once(i, kind)
        timings[kind].append((time.perf_counter() - t0) * 1000.0)
elapsed = time.perf_counter() - t_start
machine["load_average_at_end"] = load_average()


def summarise(ms: list[float]) -> dict[str, float]:
    p90, p99 = np.percentile(ms, [90, 99])
    return {"median": statistics.median(ms), "p90": float(p90), "p99": float(p99), "mean": statistics.fmean(ms), "n": len(ms)}


summary = {kind: summarise(ms) for kind, ms in timings.items()}

# -----------------------------------------------------------------------------
# the report

print(f"## Latency per call (ms), n={args.n} each after {args.warmup} warm-up, {elapsed:.1f} s in all\n")
print("| call | median | p90 | p99 | mean |")
print("|---|---:|---:|---:|---:|")
for kind, s in summary.items():
    print(f"| {kind} | {s['median']:.2f} | {s['p90']:.2f} | {s['p99']:.2f} | {s['mean']:.2f} |")
print()

# The split: preprocessing vs the rest of predict (network, softmax, building the Prediction).
# Medians of different calls do not subtract exactly, so "rest" is an estimate.
split = {}
print("## Where a prediction's time goes (medians, ms)\n")
print("| call | whole predict | preprocessing | rest (network + result) | preprocessing share |")
print("|---|---:|---:|---:|---:|")
pre = summary["preprocess"]["median"]
for kind in ("predict tta=False", "predict tta=True"):
    whole = summary[kind]["median"]
    split[kind] = {"whole": whole, "preprocess": pre, "rest": whole - pre, "preprocess_share": pre / whole}
    print(f"| {kind} | {whole:.2f} | {pre:.2f} | {whole - pre:.2f} | {pre / whole:.0%} |")
print()
print(f"load average (1, 5, 15 min): start {machine['load_average_at_start']}, end {machine['load_average_at_end']}")

if args.json:
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "latency",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        # raw_ms[kind][i] used drawing i % len of its set
        "settings": {"n": args.n, "warmup": args.warmup, "drawings": VARIANTS, "unipen": args.unipen and str(args.unipen)},
        "machine": machine,
        "model": model,
        "summary_ms": summary,
        "split_ms": split,
        "raw_ms": timings,
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
