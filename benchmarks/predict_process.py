"""Start-up time and peak memory of a `digitrec predict` process, and a check that it never imports torch.

What is measured: a fresh process running `digitrec predict --json --model MODEL IMAGE` on one
280x280 canvas PNG (written by this script to a temp dir), --runs times: wall time from spawn
to exit (time.perf_counter) and the child's peak resident memory (ru_maxrss from os.wait4 on
that child, KiB on Linux, reported in MB = 10^6 bytes). It uses the `digitrec` console script
beside sys.executable when there is one (what users run), else `python -m digitrec.cli`.

For scale, two more processes are timed the same way, interleaved with the predict runs:
    python -c pass                        the interpreter alone
    python -c "import digitrec.recognize"  the import cost of the prediction path
One untimed run of each comes first (it warms the file cache); its time is shown separately.

Torch: one more predict run with PYTHONPROFILEIMPORTTIME=1 lists every module it imports. If
torch (or any torch.* module) is among them the script says so and exits with status 1.

Caveat: Linux charges a child the parent's resident memory at spawn (fork/vfork, then exec),
so no child can show a peak below this script's own RSS; rows at that floor are marked.

Rerun (the shipped model, 10 runs):

    .venv/bin/python benchmarks/predict_process.py --runs 10 --json artifacts/predict_process.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from canvas import draw
from digitrec.card import default_model_path  # light: no numpy, no onnxruntime in this process

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", type=Path, default=None, help="ONNX model (default: digitrec.card.default_model_path())")
parser.add_argument("--runs", type=int, default=10, help="timed runs of each process (default 10)")
parser.add_argument("--module", action="store_true", help="run `python -m digitrec.cli` even if the console script exists")
parser.add_argument("--no-tta", action="store_true", help="pass --no-tta to digitrec predict")
parser.add_argument("--json", type=Path, default=None, help="also write the raw runs and summary here")
args = parser.parse_args()

# -----------------------------------------------------------------------------
# the commands

model_path = (args.model or default_model_path()).resolve()
if not model_path.exists():
    sys.exit(f"error: {model_path} does not exist (pass --model or set DIGITREC_MODEL)")
workdir = tempfile.TemporaryDirectory(prefix="digitrec-bench-")
image_path = Path(workdir.name) / "four.png"
draw(4).save(image_path)

python = sys.executable
console_script = Path(python).parent / "digitrec"
launcher = [python, "-m", "digitrec.cli"] if args.module or not console_script.exists() else [str(console_script)]
tta_flag = ["--no-tta"] if args.no_tta else []
predict_cmd = [*launcher, "predict", "--json", "--model", str(model_path), *tta_flag, str(image_path)]
commands = {
    "python -c pass": [python, "-c", "pass"],
    "import digitrec.recognize": [python, "-c", "import digitrec.recognize"],
    "digitrec predict (1 image)": predict_cmd,
}

print("# digitrec predict: process start-up and peak memory\n")
print(f"- platform: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
print(f"- load average (1, 5, 15 min): {[round(x, 2) for x in os.getloadavg()]}")
print(f"- model: {model_path}")
print(f"- predict command: {' '.join(predict_cmd)}")


def run(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Spawn, wait with os.wait4 for this child's own rusage; wall time and peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited with {proc.returncode}:\n{stderr}")
    return {"wall_ms": wall * 1000.0, "peak_rss_mb": usage.ru_maxrss * 1024 / 1e6, "stdout": stdout, "stderr": stderr}


# -----------------------------------------------------------------------------
# the measurement: one warm-up run of each, then --runs rounds, interleaved

first = {name: run(cmd) for name, cmd in commands.items()}
answer = json.loads(first["digitrec predict (1 image)"]["stdout"].splitlines()[-1])
print(f"- predict answered: {json.dumps(answer)}")
assert "error" not in answer and answer["status"] != "empty", answer

runs: dict[str, list[dict]] = {name: [] for name in commands}
for _ in range(args.runs):
    for name, cmd in commands.items():
        result = run(cmd)
        runs[name].append({"wall_ms": result["wall_ms"], "peak_rss_mb": result["peak_rss_mb"]})
parent_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6

# -----------------------------------------------------------------------------
# torch check: every module the predict process imports, with its import time

profiled = run(predict_cmd, env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
imports = []  # (module, own microseconds, excluding the modules it imported)
for line in profiled["stderr"].splitlines():
    if not line.startswith("import time:") or "imported package" in line:
        continue
    own, _, name = line[len("import time:") :].split("|")
    imports.append((name.strip(), int(own)))
# The list must be real before "no torch" means anything: the prediction path has to be in it.
assert any(m == "digitrec.recognize" for m, _ in imports), "no import profile from the predict process"
torch_modules = [m for m, _ in imports if m == "torch" or m.startswith("torch.")]
by_package: dict[str, int] = {}  # own import time summed per top-level package
for module, own in imports:
    by_package[module.split(".")[0]] = by_package.get(module.split(".")[0], 0) + own
heaviest = sorted(by_package.items(), key=lambda kv: -kv[1])[:8]

# -----------------------------------------------------------------------------
# the report

summary = {}
print(f"\n## Per process, {args.runs} runs each (after 1 untimed warm-up run)\n")
print("| process | median wall (ms) | max wall (ms) | first run (ms) | median peak RSS (MB) | max peak RSS (MB) |")
print("|---|---:|---:|---:|---:|---:|")
for name, rs in runs.items():
    walls, rss = [r["wall_ms"] for r in rs], [r["peak_rss_mb"] for r in rs]
    s = {
        "wall_ms_median": statistics.median(walls),
        "wall_ms_max": max(walls),
        "wall_ms_first": first[name]["wall_ms"],
        "peak_rss_mb_median": statistics.median(rss),
        "peak_rss_mb_max": max(rss),
        "at_rss_floor": statistics.median(rss) <= parent_rss_mb * 1.02,
    }
    summary[name] = s
    floor = " (floor*)" if s["at_rss_floor"] else ""
    print(
        f"| {name} | {s['wall_ms_median']:.0f} | {s['wall_ms_max']:.0f} | {s['wall_ms_first']:.0f} "
        f"| {s['peak_rss_mb_median']:.1f}{floor} | {s['peak_rss_mb_max']:.1f} |"
    )
print(f"\n*this script's own peak RSS is {parent_rss_mb:.1f} MB: a child cannot show less (Linux spawn accounting).")

print(f"\n## Imports of the predict process ({len(imports)} modules; the heaviest packages, each module's own time summed)\n")
print("| package | import time (ms) |")
print("|---|---:|")
for package, us in heaviest:
    print(f"| {package} | {us / 1000:.0f} |")
print(f"\ntorch imported by `digitrec predict`: {'YES: ' + ', '.join(torch_modules[:5]) if torch_modules else 'no'}")

if args.json:
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "predict_process",
        "command": " ".join([Path(python).name, *sys.argv]),
        "settings": {"runs": args.runs, "no_tta": args.no_tta},
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()},
        "model": str(model_path),
        "commands": {name: cmd for name, cmd in commands.items()},
        "parent_peak_rss_mb": parent_rss_mb,
        "summary": summary,
        "runs": runs,
        "torch_imported": bool(torch_modules),
        "torch_modules": torch_modules,
        "imports_top_level_ms": {package: us / 1000 for package, us in heaviest},
        "modules_imported": len(imports),
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")

workdir.cleanup()
if torch_modules:
    sys.exit("FAIL: the predict path imported torch")
