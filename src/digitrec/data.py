"""MNIST: find it, download it when missing, verify it, and read it into numpy arrays.

The four standard IDX `.gz` files live in one directory, chosen (first match wins) by an
argument, the `DIGITREC_DATA` environment variable, or a per-user cache directory. Files are
verified by the SHA-256 of their *decompressed* payload, which is the same for every mirror's
gzip wrapper. Downloads go to a temporary file that is renamed into place only once verified,
so a partial or wrong file is never left where the loader would find it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from digitrec.files import write_bytes_atomically

ENV_VAR = "DIGITREC_DATA"
MIRRORS_ENV_VAR = "DIGITREC_MNIST_MIRRORS"

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# SHA-256 of each file's decompressed payload (see ../shared/mnist/README.md).
FILES = {
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024  # the largest file is under 10 MB compressed
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024  # ... and 47 MB decompressed
DOWNLOAD_TIMEOUT_S = 30


class DataError(RuntimeError):
    """MNIST could not be found, downloaded or read; the message says what to do."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, 28, 28) uint8, white digit on black
    labels: np.ndarray  # (N,) int64


def data_dir(directory: str | os.PathLike | None = None) -> Path:
    """Where MNIST lives: the argument, else $DIGITREC_DATA, else the user cache."""
    if directory is not None:
        return Path(directory)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path(platformdirs.user_cache_dir("digitrec")) / "mnist"


def _mirrors() -> list[str]:
    configured = os.environ.get(MIRRORS_ENV_VAR, "").split()
    if configured:
        return [m if m.endswith("/") else m + "/" for m in configured]
    return list(MIRRORS)


def _decompress(raw: bytes, name: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            payload = f.read(MAX_PAYLOAD_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{name}: not a valid gzip file ({e})") from e
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DataError(f"{name}: decompresses to more than {MAX_PAYLOAD_BYTES} bytes")
    return payload


def _verified_payload(raw: bytes, name: str) -> bytes:
    payload = _decompress(raw, name)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != FILES[name]:
        raise DataError(f"{name}: checksum mismatch (SHA-256 of its content is {digest[:12]}..., expected {FILES[name][:12]}...)")
    return payload


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        raw = response.read(MAX_DOWNLOAD_BYTES + 1)
    if len(raw) > MAX_DOWNLOAD_BYTES:
        raise DataError(f"{url}: larger than {MAX_DOWNLOAD_BYTES} bytes, refusing it")
    return raw


def download(name: str, directory: Path) -> Path:
    """Download one file from the first mirror that serves a verified copy."""
    directory.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in _mirrors():
        url = mirror + name
        try:
            raw = _fetch(url)
            _verified_payload(raw, name)
        except (OSError, DataError, ValueError, http.client.HTTPException) as e:  # URLError, timeouts: OSError
            failures.append(f"{url}: {e}")
            continue
        target = directory / name
        write_bytes_atomically(target, raw)
        return target
    raise DataError(
        f"could not download {name} from any mirror:\n  "
        + "\n  ".join(failures)
        + f"\nDownload the four MNIST files yourself into {directory} or point ${ENV_VAR} at a directory that has them."
    )


def ensure_files(directory: str | os.PathLike | None = None, download_missing: bool = True) -> Path:
    """Make sure all four files are present in the data directory, downloading missing ones."""
    root = data_dir(directory)
    for name in FILES:
        if not (root / name).exists():
            if not download_missing:
                raise DataError(f"{root / name} is missing; run `digitrec train` once online or set ${ENV_VAR}")
            download(name, root)
    return root


def _parse_idx(payload: bytes, name: str, expected_dims: int) -> np.ndarray:
    header = 4 + 4 * expected_dims
    if len(payload) < header:
        raise DataError(f"{name}: truncated IDX header")
    magic = int.from_bytes(payload[:4], "big")
    if magic != 0x800 + expected_dims:
        raise DataError(f"{name}: not an IDX file of {expected_dims} dimension(s) (magic {magic:#x})")
    dims = [int.from_bytes(payload[4 + 4 * i : 8 + 4 * i], "big") for i in range(expected_dims)]
    if len(payload) - header != int(np.prod(dims)):
        raise DataError(f"{name}: expected {int(np.prod(dims))} data bytes for shape {dims}, found {len(payload) - header}")
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(dims)


def _read_verified(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read it ({e})") from e
    try:
        return _verified_payload(raw, path.name)
    except DataError as e:
        raise DataError(
            f"{path}: {str(e).split(': ', 1)[1]}. Delete it so it is downloaded again, or replace it with the original file."
        ) from e


def load_split(split: str = "train", directory: str | os.PathLike | None = None, download_missing: bool = True) -> Split:
    """Load the `train` (60,000) or `test` (10,000) split, verified."""
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {', '.join(SPLIT_FILES)}, not {split!r}")
    root = ensure_files(directory, download_missing)
    images_name, labels_name = SPLIT_FILES[split]
    images = _parse_idx(_read_verified(root / images_name), images_name, 3)
    labels = _parse_idx(_read_verified(root / labels_name), labels_name, 1)
    if len(images) != len(labels):
        raise DataError(f"{root}: {len(images)} images but {len(labels)} labels")
    return Split(images=images.copy(), labels=labels.astype(np.int64))


def dataset_checksums() -> dict[str, str]:
    """The content checksums the loader enforces, for the model card."""
    return dict(FILES)


VALIDATION_SEED = 0  # one validation split for every training run, so runs with different seeds compare on it


def train_validation_split(train: Split, validation_size: int, seed: int = VALIDATION_SEED) -> tuple[Split, Split]:
    """Carve a fixed, seeded validation split out of the training images."""
    if not 0 < validation_size < len(train.labels):
        raise ValueError(f"validation size must be between 1 and {len(train.labels) - 1}, not {validation_size}")
    order = np.random.default_rng(seed).permutation(len(train.labels))
    val, fit = order[:validation_size], order[validation_size:]
    return Split(train.images[fit], train.labels[fit]), Split(train.images[val], train.labels[val])
