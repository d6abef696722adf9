"""MNIST loading, downloading and verification (digitrec.data), and atomic writes (digitrec.files).

The real files come from $DIGITREC_DATA. Downloads are exercised against HTTP servers that the
tests start on 127.0.0.1 and point the module at through $DIGITREC_MNIST_MIRRORS; nothing here
touches the internet.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from digitrec import data, files
from digitrec.data import DataError, Split

TRAIN_IMAGES, TRAIN_LABELS = data.SPLIT_FILES["train"]
TEST_IMAGES, TEST_LABELS = data.SPLIT_FILES["test"]


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The directory with the four real MNIST files, from $DIGITREC_DATA (required, no skip)."""
    value = os.environ.get(data.ENV_VAR)
    if not value:
        names = ", ".join(data.FILES)
        pytest.fail(f"${data.ENV_VAR} is not set: point it at a directory holding the four MNIST .gz files ({names})")
    root = Path(value)
    missing = [name for name in data.FILES if not (root / name).is_file()]
    if missing:
        pytest.fail(f"${data.ENV_VAR}={root} lacks {', '.join(missing)}")
    return root


@pytest.fixture(scope="session")
def mnist_train(mnist_dir) -> Split:
    return data.load_split("train", directory=mnist_dir, download_missing=False)


@pytest.fixture(scope="session")
def good_mirror_dir(mnist_dir, tmp_path_factory) -> Path:
    """A copy of the real .gz files, for the local mirrors to serve."""
    root = tmp_path_factory.mktemp("good-mirror")
    for name in data.FILES:
        shutil.copy(mnist_dir / name, root / name)
    return root


@pytest.fixture(scope="session")
def refused_url() -> Iterator[str]:
    """A URL on a port that is bound but not listening, so connections are refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


@pytest.fixture(autouse=True)
def _offline(monkeypatch, refused_url):
    """Never reach a real mirror or a proxy: the default mirror list is a dead local port."""
    monkeypatch.setenv(data.MIRRORS_ENV_VAR, refused_url)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


class Mirror:
    """An HTTP server on 127.0.0.1 serving one directory, recording the paths requested."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[str] = []
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                mirror.requests.append(self.path.lstrip("/"))
                super().do_GET()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def start_mirror(tmp_path_factory) -> Iterator[Callable[..., Mirror]]:
    """start_mirror(directory=None, **files): serve `directory`, or a fresh one holding `files`
    (name -> bytes), from a local HTTP server that is shut down after the test."""
    mirrors: list[Mirror] = []

    def start(directory: Path | None = None, **contents: bytes) -> Mirror:
        if directory is None:
            directory = tmp_path_factory.mktemp("mirror")  # outside the test's tmp_path
            for name, content in contents.items():
                (directory / name).write_bytes(content)
        mirror = Mirror(directory)
        mirrors.append(mirror)
        return mirror

    yield start
    for mirror in mirrors:
        mirror.close()


def use_mirrors(monkeypatch, *urls: str) -> None:
    monkeypatch.setenv(data.MIRRORS_ENV_VAR, " ".join(urls))


def payload_sha256(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# Ways a served or stored file can be wrong: (bytes given the real .gz, the reason data.py reports).
CORRUPTIONS = {
    "gzip of the wrong bytes": (lambda real: gzip.compress(b"definitely not MNIST\n" * 500), "checksum mismatch"),
    "not gzip at all": (lambda real: b"<html><body>502 Bad Gateway</body></html>", "not a valid gzip file"),
    "truncated gzip": (lambda real: real[: len(real) // 2], "not a valid gzip file"),
    "empty file": (lambda real: b"", "checksum mismatch"),
}


# --------------------------------------------------------------------------------------------
# 1. Loading the real files from $DIGITREC_DATA
# --------------------------------------------------------------------------------------------


def test_train_split_shapes_dtypes_and_labels(mnist_train):
    assert mnist_train.images.shape == (60000, 28, 28)
    assert mnist_train.images.dtype == np.uint8
    assert mnist_train.labels.shape == (60000,)
    assert mnist_train.labels.dtype == np.int64
    assert set(np.unique(mnist_train.labels).tolist()) == set(range(10))
    # white digit on black: mostly-zero background, some full-intensity strokes
    assert np.median(mnist_train.images) == 0
    assert mnist_train.images.max() == 255
    # the well-known first training labels
    assert mnist_train.labels[:5].tolist() == [5, 0, 4, 1, 9]


def test_test_split_is_found_through_the_env_var(monkeypatch, mnist_dir):
    monkeypatch.setenv(data.ENV_VAR, str(mnist_dir))
    assert data.data_dir() == mnist_dir
    split = data.load_split("test", download_missing=False)
    assert split.images.shape == (10000, 28, 28)
    assert split.images.dtype == np.uint8
    assert split.labels.shape == (10000,)
    assert split.labels.dtype == np.int64
    assert split.labels.min() == 0 and split.labels.max() == 9
    assert np.bincount(split.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # the arrays are the caller's own, not views of a read-only buffer
    assert split.images.flags.writeable and split.labels.flags.writeable


def test_the_argument_beats_the_env_var(monkeypatch, mnist_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(empty))
    assert data.data_dir(mnist_dir) == mnist_dir
    assert data.data_dir() == empty
    split = data.load_split("test", directory=mnist_dir, download_missing=False)
    assert len(split.labels) == 10000
    # ...and without the argument the env var really is what is used
    with pytest.raises(DataError, match="empty"):
        data.load_split("test", download_missing=False)


@pytest.mark.parametrize("split", ["validation", "TRAIN", "", "t10k"])
def test_an_invalid_split_name_is_a_value_error(mnist_dir, split):
    with pytest.raises(ValueError, match="train, test"):
        data.load_split(split, directory=mnist_dir, download_missing=False)


def test_dataset_checksums_are_the_enforced_ones(mnist_dir):
    sums = data.dataset_checksums()
    assert sums == data.FILES
    sums.clear()  # a copy: the caller cannot loosen verification
    assert len(data.FILES) == 4
    assert payload_sha256(mnist_dir / TEST_LABELS) == data.FILES[TEST_LABELS]


# --------------------------------------------------------------------------------------------
# 2. Downloading from (local) mirrors
# --------------------------------------------------------------------------------------------


def test_missing_files_are_downloaded_verified_and_loadable(monkeypatch, tmp_path, start_mirror, good_mirror_dir):
    mirror = start_mirror(good_mirror_dir)
    use_mirrors(monkeypatch, mirror.url)
    target = tmp_path / "data" / "nested"  # does not exist yet

    assert data.ensure_files(target) == target
    assert leftovers(target) == sorted(data.FILES)  # all four, no *.part temp files
    assert sorted(mirror.requests) == sorted(data.FILES)
    for name, digest in data.FILES.items():
        assert payload_sha256(target / name) == digest
        assert (target / name).read_bytes() == (good_mirror_dir / name).read_bytes()

    split = data.load_split("test", directory=target)
    assert split.images.shape == (10000, 28, 28) and split.labels.shape == (10000,)
    # present files are not downloaded again
    data.ensure_files(target)
    assert len(mirror.requests) == 4


def test_load_split_downloads_into_the_env_var_directory(monkeypatch, tmp_path, start_mirror, good_mirror_dir):
    mirror = start_mirror(good_mirror_dir)
    use_mirrors(monkeypatch, mirror.url.rstrip("/"))  # a base URL without the slash works too
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    split = data.load_split("test")
    assert len(split.labels) == 10000
    assert leftovers(tmp_path) == sorted(data.FILES)


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupt_download_is_refused_and_leaves_nothing(monkeypatch, tmp_path, start_mirror, mnist_dir, corruption):
    make, reason = CORRUPTIONS[corruption]
    name = TEST_LABELS
    mirror = start_mirror(**{name: make((mnist_dir / name).read_bytes())})
    use_mirrors(monkeypatch, mirror.url)
    target = tmp_path / "data"

    with pytest.raises(DataError) as excinfo:
        data.download(name, target)
    message = str(excinfo.value)
    assert name in message
    assert mirror.url + name in message
    assert reason in message
    assert leftovers(target) == []  # neither the file nor a *.part temp file


@pytest.mark.parametrize("corruption", ["gzip of the wrong bytes", "not gzip at all"])
def test_load_split_with_a_corrupt_mirror_fails_cleanly(monkeypatch, tmp_path, start_mirror, mnist_dir, corruption):
    make, reason = CORRUPTIONS[corruption]
    first = next(iter(data.FILES))  # the first file ensure_files fetches
    mirror = start_mirror(**{first: make((mnist_dir / first).read_bytes())})
    use_mirrors(monkeypatch, mirror.url)

    with pytest.raises(DataError, match=reason) as excinfo:
        data.load_split("test", directory=tmp_path / "data")
    assert f"could not download {first}" in str(excinfo.value)
    assert leftovers(tmp_path / "data") == []


@pytest.mark.parametrize("failure", ["connection refused", "404", "corrupt copy"])
def test_a_failing_mirror_falls_through_to_the_next(monkeypatch, tmp_path, start_mirror, good_mirror_dir, refused_url, failure):
    good = start_mirror(good_mirror_dir)
    bad = None
    if failure == "connection refused":
        bad_url = refused_url
    elif failure == "404":
        bad = start_mirror()  # serves an empty directory
        bad_url = bad.url
    else:
        bad = start_mirror(**{name: gzip.compress(b"wrong") for name in data.FILES})
        bad_url = bad.url
    use_mirrors(monkeypatch, bad_url, good.url)
    target = tmp_path / "data"

    assert data.ensure_files(target) == target
    assert leftovers(target) == sorted(data.FILES)
    for name, digest in data.FILES.items():
        assert payload_sha256(target / name) == digest
    assert sorted(good.requests) == sorted(data.FILES)
    if bad is not None:
        assert sorted(bad.requests) == sorted(data.FILES)  # the first mirror was tried first


def test_when_every_mirror_fails_the_error_lists_them_and_says_what_to_do(monkeypatch, tmp_path, start_mirror, refused_url):
    empty = start_mirror()
    use_mirrors(monkeypatch, refused_url, empty.url)
    with pytest.raises(DataError) as excinfo:
        data.download(TEST_LABELS, tmp_path)
    message = str(excinfo.value)
    assert refused_url + TEST_LABELS in message
    assert empty.url + TEST_LABELS in message and "404" in message
    assert str(tmp_path) in message and data.ENV_VAR in message
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + b"x" * 10,  # dropped mid-chunk
        b"SSH-2.0-OpenSSH_9.6\r\n",  # not HTTP at all
    ],
    ids=["dropped chunked transfer", "not an HTTP server"],
)
def test_a_broken_http_response_falls_through_to_the_next_mirror(monkeypatch, tmp_path, start_mirror, mnist_dir, reply):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve_once():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(reply)

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    good = start_mirror(**{TEST_LABELS: (mnist_dir / TEST_LABELS).read_bytes()})
    use_mirrors(monkeypatch, f"http://127.0.0.1:{listener.getsockname()[1]}/", good.url)
    try:
        path = data.download(TEST_LABELS, tmp_path)  # today: a raw http.client error escapes here
        assert payload_sha256(path) == data.FILES[TEST_LABELS]
    finally:
        thread.join(timeout=5)
        listener.close()


def _data_dir_with(tmp_path: Path, mnist_dir: Path, name: str, content: bytes) -> Path:
    """A data directory linking the real files, except `name`, which holds `content`."""
    root = tmp_path / "data"
    root.mkdir()
    for other in data.FILES:
        if other != name:
            (root / other).symlink_to(mnist_dir / other)
    (root / name).write_bytes(content)
    return root


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupt_file_in_the_data_dir_is_named_with_what_to_do(tmp_path, mnist_dir, corruption):
    make, reason = CORRUPTIONS[corruption]
    bad = make((mnist_dir / TEST_LABELS).read_bytes())
    root = _data_dir_with(tmp_path, mnist_dir, TEST_LABELS, bad)

    with pytest.raises(DataError) as excinfo:
        data.load_split("test", directory=root)  # downloading allowed, but the file is present
    message = str(excinfo.value)
    assert str(root / TEST_LABELS) in message
    assert reason in message
    assert "Delete it" in message and "replace it" in message
    assert (root / TEST_LABELS).read_bytes() == bad  # left for the user to deal with, not touched
    assert leftovers(root) == sorted(data.FILES)


def test_a_truncated_image_file_in_the_data_dir_is_refused(tmp_path, mnist_dir):
    real = (mnist_dir / TEST_IMAGES).read_bytes()
    root = _data_dir_with(tmp_path, mnist_dir, TEST_IMAGES, real[: len(real) - 1000])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: not a valid gzip file.*Delete it"):
        data.load_split("test", directory=root, download_missing=False)


@pytest.mark.parametrize("missing", list(data.FILES))
def test_missing_files_without_download_are_a_data_error(monkeypatch, tmp_path, start_mirror, good_mirror_dir, missing):
    mirror = start_mirror(good_mirror_dir)
    use_mirrors(monkeypatch, mirror.url)
    root = tmp_path / "data"
    root.mkdir()
    for name in data.FILES:
        if name != missing:
            (root / name).symlink_to(good_mirror_dir / name)

    with pytest.raises(DataError, match=f"{missing} is missing") as excinfo:
        data.ensure_files(root, download_missing=False)
    assert str(root / missing) in str(excinfo.value)
    with pytest.raises(DataError, match=f"{missing} is missing"):
        data.load_split("test", directory=root, download_missing=False)
    assert mirror.requests == []  # nothing was fetched
    assert not (root / missing).exists()


def test_an_empty_data_dir_without_download_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="is missing"):
        data.load_split("train", directory=tmp_path, download_missing=False)
    assert leftovers(tmp_path) == []


def _idx(magic: int, dims: list[int], data_bytes: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + bytes(data_bytes)


def test_idx_parsing_checks_header_magic_and_size():
    array = data._parse_idx(_idx(0x803, [2, 3, 4], 24), "x", 3)
    assert array.shape == (2, 3, 4) and array.dtype == np.uint8
    with pytest.raises(DataError, match="truncated IDX header"):
        data._parse_idx(b"\x00\x00\x08", "x", 1)
    with pytest.raises(DataError, match="not an IDX file of 3 dimension"):
        data._parse_idx(_idx(0x801, [2, 3, 4], 24), "x", 3)
    with pytest.raises(DataError, match="expected 24 data bytes"):
        data._parse_idx(_idx(0x803, [2, 3, 4], 23), "x", 3)


# --------------------------------------------------------------------------------------------
# 3. Validation split
# --------------------------------------------------------------------------------------------


def _indexed_split(n: int) -> Split:
    """Labels are the example's index, and so is the image's first pixel pair (a base-256 number)."""
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n) // 256
    images[:, 0, 1] = np.arange(n) % 256
    return Split(images=images, labels=np.arange(n, dtype=np.int64))


def _ids(split: Split) -> np.ndarray:
    return split.images[:, 0, 0].astype(np.int64) * 256 + split.images[:, 0, 1]


def test_validation_split_is_seeded_disjoint_and_complete():
    train = _indexed_split(1000)
    fit, val = data.train_validation_split(train, validation_size=150, seed=7)
    assert len(fit.labels) == 850 and len(val.labels) == 150
    assert fit.images.shape == (850, 28, 28) and val.images.shape == (150, 28, 28)
    assert np.array_equal(_ids(fit), fit.labels) and np.array_equal(_ids(val), val.labels)  # pairs kept
    assert set(fit.labels.tolist()).isdisjoint(val.labels.tolist())
    assert sorted(fit.labels.tolist() + val.labels.tolist()) == list(range(1000))
    assert not np.array_equal(val.labels, np.arange(150))  # shuffled, not just the first ones

    fit2, val2 = data.train_validation_split(train, validation_size=150, seed=7)
    assert np.array_equal(fit.labels, fit2.labels) and np.array_equal(val.labels, val2.labels)
    assert np.array_equal(fit.images, fit2.images) and np.array_equal(val.images, val2.images)

    _, val_other = data.train_validation_split(train, validation_size=150, seed=8)
    assert not np.array_equal(val.labels, val_other.labels)


def test_validation_split_of_real_mnist(mnist_train):
    fit, val = data.train_validation_split(mnist_train, validation_size=5000, seed=0)
    assert len(fit.labels) == 55000 and len(val.labels) == 5000
    assert fit.images.shape[1:] == val.images.shape[1:] == (28, 28)
    assert len(fit.labels) + len(val.labels) == len(mnist_train.labels)
    # every digit is in the validation split, roughly in proportion
    assert np.bincount(val.labels, minlength=10).min() > 350
    _, again = data.train_validation_split(mnist_train, validation_size=5000, seed=0)
    assert np.array_equal(val.images, again.images)


# --------------------------------------------------------------------------------------------
# 4. Atomic writes
# --------------------------------------------------------------------------------------------


def test_write_bytes_atomically_writes_and_overwrites(tmp_path):
    path = tmp_path / "a" / "b" / "model.onnx"  # parents are created
    files.write_bytes_atomically(path, b"first")
    assert path.read_bytes() == b"first"
    files.write_bytes_atomically(path, b"second, longer content")
    assert path.read_bytes() == b"second, longer content"
    assert leftovers(path.parent) == ["model.onnx"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_leaves_the_original_and_no_temp_file(monkeypatch, tmp_path, failing):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"original")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        files.write_bytes_atomically(path, b"new content that never lands")
    monkeypatch.undo()
    assert path.read_bytes() == b"original"
    assert leftovers(tmp_path) == ["weights.bin"]


def test_a_failed_write_of_a_new_file_leaves_nothing(monkeypatch, tmp_path):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # even an interrupt cleans up

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        files.write_bytes_atomically(tmp_path / "new.bin", b"data")
    assert leftovers(tmp_path) == []


def test_a_download_whose_write_fails_leaves_nothing(monkeypatch, tmp_path, start_mirror, mnist_dir):
    mirror = start_mirror(**{TEST_LABELS: (mnist_dir / TEST_LABELS).read_bytes()})
    use_mirrors(monkeypatch, mirror.url)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(OSError, match="No space left"):
        data.download(TEST_LABELS, tmp_path)
    assert leftovers(tmp_path) == []
