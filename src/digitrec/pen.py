"""Real pen strokes (the UNIPEN digits), and drawing them the way a browser canvas does.

Two users: the canvas benchmark, which measures accuracy on what people actually draw, and
training, which mixes rendered strokes into MNIST so the network learns the uniform pen lines
and the writing styles (slashed zeros, crossed sevens, flagged ones) that scanned MNIST lacks.

The data file holds pen trajectories per digit (see its README): `load_pen_digits` reads it,
`digitrec.strokes.draw_strokes` replays one digit onto a canvas as a browser draws it, and
`training_images` turns digits into 28x28 MNIST-style images through the same preprocessing the
recognizer applies to a canvas.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from digitrec import preprocess as preprocessing
from digitrec import strokes as drawing
from digitrec.files import write_bytes_atomically

ENV_VAR = "DIGITREC_UNIPEN"
SOURCES = ("syn", "apb", "app", "apa", "aga", "imp", "art")  # writer groups, largest first
RENDER_SEED = 0  # the training renderings are one fixed data set


@dataclass
class PenDigits:
    labels: np.ndarray  # (N,) int64
    sources: np.ndarray  # (N,) str: the writer group each digit came from
    strokes: list[list[np.ndarray]]  # per digit, its strokes as (k, 2) float arrays, y down
    sha256: str  # of the file, for model cards

    def __len__(self) -> int:
        return len(self.labels)


def pen_data_path(path: str | os.PathLike | None = None) -> Path:
    """The UNIPEN .npz file: the argument, else $DIGITREC_UNIPEN."""
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is None:
        raise ValueError(f"where are the pen-drawn digits? Pass their file (unipen_digits_dev.npz) or set ${ENV_VAR} to it")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is not a file; it should be the UNIPEN digits file, unipen_digits_dev.npz")
    return path


def load_pen_digits(path: str | os.PathLike | None = None) -> PenDigits:
    path = pen_data_path(path)
    raw = path.read_bytes()
    try:
        with np.load(path) as data:
            labels, sources = data["labels"].astype(np.int64), data["sources"].astype(str)
            n_strokes, stroke_lens, points = data["n_strokes"], data["stroke_lens"], data["points"].astype(np.float64)
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path} is not the UNIPEN digits file ({e})") from e
    if int(n_strokes.sum()) != len(stroke_lens) or int(stroke_lens.sum()) != len(points):
        raise ValueError(f"{path}: n_strokes, stroke_lens and points do not add up; the file is damaged")
    all_strokes = np.split(points, np.cumsum(stroke_lens)[:-1])
    stroke_ends = np.cumsum(n_strokes)
    strokes = [all_strokes[end - n : end] for n, end in zip(n_strokes, stroke_ends, strict=True)]
    return PenDigits(labels, sources, strokes, hashlib.sha256(raw).hexdigest())


def check_sources(sources: Sequence[str], digits: PenDigits) -> None:
    """A clear error for writer groups the file does not have (or none at all)."""
    unknown = sorted(set(sources) - set(digits.sources.tolist()))
    if unknown or not sources:
        present = ", ".join(dict.fromkeys(digits.sources.tolist()))  # in the file's order: another file may have other groups
        raise ValueError(f"unknown source(s) {', '.join(unknown) or '(none given)'}; the file has {present}")


def parse_sources(text: str, digits: PenDigits) -> list[str]:
    """Writer groups from a comma-separated list (a command-line option), each checked against the file."""
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    check_sources(wanted, digits)
    return wanted


def render_copies(strokes: list[np.ndarray], rng: np.random.Generator, copies: int) -> list[np.ndarray]:
    """`copies` canvas drawings of one set of strokes, as the network sees them (28x28 uint8).

    Each draws on a random canvas (200-600 px) with a random pen (a stylus line to a
    finger-wide one, relative to the drawing's size), large and centred or small in a corner,
    then goes through the recognizer's own preprocessing."""
    seen = []
    for _ in range(copies):
        canvas = int(rng.integers(200, 601))
        size = float(rng.uniform(0.2, 0.85))
        pen = float(np.exp(rng.uniform(np.log(0.01), np.log(0.2)))) * size * canvas  # 1-20% of the drawing's size
        corner = None if rng.random() < 0.5 else int(rng.integers(4))
        image = preprocessing.preprocess(drawing.draw_strokes(strokes, canvas, max(pen, 1.0), size, corner)).image
        if image is not None:
            seen.append(np.round(image * 255).astype(np.uint8))
    return seen


RenderJob = tuple[list[np.ndarray], list[int], int]  # strokes, the seed of their random generator, copies


def _render_job(job: RenderJob) -> list[np.ndarray]:
    strokes, seed, copies = job
    return render_copies(strokes, np.random.default_rng(seed), copies)


def render_in_parallel(jobs: list[RenderJob]) -> list[list[np.ndarray]]:
    """Each job's copies, drawn on every core (a few ms each). Seeded per job: any worker gives the same."""
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_render_job, jobs, chunksize=32))


def training_images(digits: PenDigits, sources: tuple[str, ...], copies: int) -> tuple[np.ndarray, np.ndarray]:
    """`copies` renderings (`render_copies`) of every digit from `sources`, as 28x28 uint8 MNIST-style images.

    The renderings are a fixed data set, like MNIST (a training seed changes the order and the
    augmentation, not them), and cached."""
    check_sources(sources, digits)
    chosen = np.flatnonzero(np.isin(digits.sources, sources))

    def render() -> tuple[np.ndarray, np.ndarray]:
        rendered = render_in_parallel([(digits.strokes[i], [RENDER_SEED, int(i)], copies) for i in chosen])
        images = np.stack([image for copies_of_one in rendered for image in copies_of_one])
        labels = np.concatenate([np.full(len(c), digits.labels[i]) for i, c in zip(chosen, rendered, strict=True)])
        return images, labels

    return cached_renderings(f"{digits.sha256[:16]}-{'+'.join(sources)}-{copies}", render)


def cached_renderings(name: str, render: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """`render()`'s images and labels, kept in the user's cache under `name` after the first time.

    The name also carries a digest of the drawing and preprocessing code, so renderings made by
    other code are never reused: they would teach the network images it is not served."""
    code = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (drawing, preprocessing))).hexdigest()[:12]
    cache = Path(platformdirs.user_cache_dir("digitrec")) / "pen" / f"{name}-{code}.npz"
    if cache.exists():
        with np.load(cache) as cached:
            return cached["images"], cached["labels"]
    images, labels = render()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images, labels=labels)
    write_bytes_atomically(cache, buffer.getvalue())
    return images, labels
