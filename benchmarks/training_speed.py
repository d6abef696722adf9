"""Training time to reach 98.0%, 99.0% and 99.5% MNIST test accuracy: `original` against
the default network, in the same run, on the same machine.

Each network trains with `digitrec.train.train` (same augmentation, optimiser and one-cycle
schedule of --epochs epochs), its EMA weights are scored on the MNIST test set several times per
epoch, and the clock counts training only: the time spent scoring the test set is subtracted.
A network stops when it reaches the last target or its --budget of training seconds runs out.
The test set is only *reported* here, never used to choose anything.

Rerun:  DIGITREC_DATA=../shared/mnist .venv/bin/python benchmarks/training_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from digitrec.config import TrainConfig
from digitrec.data import load_split
from digitrec.train import Progress, evaluate_model, to_tensor, train

TARGETS = (0.98, 0.99, 0.995)

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--architectures", nargs="+", default=["compact", "original"])
parser.add_argument("--epochs", type=int, default=2, help="length of the one-cycle schedule (2: fastest to 99.0%%, measured)")
parser.add_argument("--evals-per-epoch", type=int, default=8)
parser.add_argument("--budget", type=float, default=600, help="training seconds per network at most")
parser.add_argument("--json", type=Path, help="also write the results here")
parser.add_argument("--save", type=Path, help="keep each trained model here as <network>.onnx (with its card)")
args = parser.parse_args()

test = load_split("test")
test_x, test_y = to_tensor(test.images), torch.from_numpy(test.labels)
print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}")


def measure(architecture: str) -> dict:
    reached: dict[float, float] = {}
    curve: list[tuple[float, float]] = []
    scoring_s = 0.0

    def on_progress(progress: Progress) -> bool:
        nonlocal scoring_s
        started = time.perf_counter()
        _, accuracy = evaluate_model(progress.model, test_x, test_y)
        training_s = progress.elapsed_s - scoring_s
        scoring_s += time.perf_counter() - started
        curve.append((round(training_s, 1), accuracy))
        for target in TARGETS:
            if accuracy >= target and target not in reached:
                reached[target] = training_s
        print(f"  {architecture}: epoch {progress.epoch:.2f}, {training_s:.0f} s, test accuracy {accuracy:.4f}", flush=True)
        return len(reached) == len(TARGETS) or training_s > args.budget

    config = TrainConfig(architecture=architecture, epochs=args.epochs, evals_per_epoch=args.evals_per_epoch)
    with tempfile.TemporaryDirectory() as tmp:
        output = (args.save or Path(tmp)) / f"{architecture}.onnx"
        command = f"benchmarks/training_speed.py --epochs {args.epochs} --budget {args.budget:.0f}"
        train(config, output, Path(tmp) / "m.pt", callback=on_progress, show_progress=False, command=command)
    return {"reached_s": {str(t): reached.get(t) for t in TARGETS}, "curve": curve}


results = {architecture: measure(architecture) for architecture in args.architectures}
print()
print("| network | " + " | ".join(f"to {t:.1%}" for t in TARGETS) + " | best test accuracy seen |")
print("|---|" + "---|" * (len(TARGETS) + 1))
for architecture, result in results.items():
    cells = [f"{s:.0f} s" if s is not None else f"not within {args.budget:.0f} s" for s in result["reached_s"].values()]
    best = max(a for _, a in result["curve"])
    print(f"| {architecture} | " + " | ".join(cells) + f" | {best:.2%} |")
if args.json:
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
