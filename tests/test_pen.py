"""Pen-drawn digits: reading the UNIPEN file, and the rendered training images. The real file
comes from $DIGITREC_UNIPEN (CI points it at ../shared/unipen)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from digitrec import pen
from digitrec.config import TrainConfig
from digitrec.recognize import Recognizer
from digitrec.strokes import draw_strokes
from digitrec.train import train


def write_pen_file(path, digits: list[tuple[int, str, list[list[tuple[float, float]]]]]) -> None:
    """A file in the UNIPEN .npz layout: (label, source, strokes) per digit."""
    strokes = [np.array(stroke, dtype=np.float32) for _, _, digit in digits for stroke in digit]
    np.savez(
        path,
        labels=np.array([label for label, _, _ in digits], dtype=np.int8),
        sources=np.array([source for _, source, _ in digits]),
        n_strokes=np.array([len(digit) for _, _, digit in digits], dtype=np.int32),
        stroke_lens=np.array([len(s) for s in strokes], dtype=np.int32),
        points=np.concatenate(strokes),
    )


ONE = [[(50, 0), (50, 100)]]
SEVEN = [[(0, 0), (60, 0), (20, 100)], [(10, 50), (50, 50)]]  # a crossed seven: two strokes


def test_strokes_are_read_back_digit_by_digit(tmp_path):
    path = tmp_path / "pen.npz"
    write_pen_file(path, [(1, "aaa", ONE), (7, "bbb", SEVEN)])
    digits = pen.load_pen_digits(path)
    assert digits.labels.tolist() == [1, 7] and digits.sources.tolist() == ["aaa", "bbb"]
    assert [len(d) for d in digits.strokes] == [1, 2]
    np.testing.assert_array_equal(digits.strokes[1][1], [[10, 50], [50, 50]])
    assert len(digits.sha256) == 64


def test_a_missing_or_damaged_pen_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(pen.ENV_VAR, raising=False)
    with pytest.raises(ValueError, match=pen.ENV_VAR):
        pen.load_pen_digits()
    with pytest.raises(ValueError, match="not a file"):
        pen.load_pen_digits(tmp_path / "nowhere.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not the UNIPEN digits file"):
        pen.load_pen_digits(tmp_path / "junk.npz")
    path = tmp_path / "short.npz"
    write_pen_file(path, [(1, "aaa", ONE)])
    with np.load(path) as data:
        np.savez(path, **{**data, "stroke_lens": np.array([5], dtype=np.int32)})
    with pytest.raises(ValueError, match="do not add up"):
        pen.load_pen_digits(path)


def test_training_images_look_like_mnist_and_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "pen.npz"
    write_pen_file(path, [(1, "aaa", ONE), (7, "bbb", SEVEN), (7, "aaa", SEVEN)])
    digits = pen.load_pen_digits(path)
    images, labels = pen.training_images(digits, ("aaa",), copies=3)
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [1, 1, 1, 7, 7, 7]  # only the asked writer group
    assert images[:, :4].max() == 0 and images.max() == 255  # a white digit on black, inside the 20x20 box
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 1
    assert not np.array_equal(images[0], images[1])  # each copy drawn differently
    again, _ = pen.training_images(digits, ("aaa",), copies=3)
    np.testing.assert_array_equal(again, images)
    (cached,) = (tmp_path / "cache").rglob("*.npz")
    cached.unlink()
    np.testing.assert_array_equal(pen.training_images(digits, ("aaa",), copies=3)[0], images)  # drawn again, the same
    with pytest.raises(ValueError, match="unknown source\\(s\\) zzz"):
        pen.training_images(digits, ("zzz",), copies=1)


def test_renderings_made_by_other_preprocessing_are_drawn_again(tmp_path, monkeypatch):
    """Cached renderings from older preprocessing code would teach a network images it is not served."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "pen.npz"
    write_pen_file(path, [(1, "aaa", ONE), (7, "aaa", SEVEN)])
    digits = pen.load_pen_digits(path)
    pen.training_images(digits, ("aaa",), copies=1)
    older = tmp_path / "preprocess.py"
    older.write_text("# the preprocessing code as it was before a change\n")
    monkeypatch.setattr(pen.preprocessing, "__file__", str(older))
    pen.training_images(digits, ("aaa",), copies=1)
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 2


def test_training_with_pen_sources_records_them_on_the_card(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "pen.npz"
    write_pen_file(path, [(1, "aaa", ONE), (7, "bbb", SEVEN)] * 10)
    config = TrainConfig(epochs=1, train_limit=512, validation_size=500, batch_size=64, pen_sources=("aaa",), pen_copies=2)
    model_path = train(config, tmp_path / "m.onnx", tmp_path / "m.pt", pen_data=path, show_progress=False, device="auto")
    card = Recognizer(model_path).card
    assert card["pen_data"]["trained_on_sources"] == ["aaa"]
    assert card["pen_data"]["sha256"] == pen.load_pen_digits(path).sha256
    assert card["training"]["settings"]["pen_copies"] == 2
    with pytest.raises(ValueError, match="choose auto, cpu or cuda"):
        train(config, tmp_path / "m.onnx", tmp_path / "m.pt", pen_data=path, device="gpu")


def test_the_real_pen_file_holds_every_writer_group(pen_digits):
    assert len(pen_digits) == 9157
    assert set(pen_digits.sources.tolist()) == set(pen.SOURCES)
    assert set(pen_digits.labels.tolist()) == set(range(10))


def test_the_shipped_model_reads_pen_digits_it_never_trained_on(pen_digits, recognizer):
    """Every 25th digit of the writer groups the shipped model held out, on the app's canvas."""
    held_out = recognizer.card["pen_data"]["held_out_sources"]
    chosen = np.flatnonzero(np.isin(pen_digits.sources, held_out))[::25]
    correct = 0
    for i in chosen:
        coverage = draw_strokes(pen_digits.strokes[i], canvas=320, pen=20, size=0.7)
        canvas = np.full((320, 320, 4), 255, dtype=np.uint8)
        canvas[:, :, :3] = np.round(255 - 238 * coverage[:, :, None]).astype(np.uint8)  # #111111 on white
        correct += recognizer.predict(canvas).digit == pen_digits.labels[i]
    assert len(chosen) > 150
    assert correct / len(chosen) >= 0.97


def test_writer_groups_from_the_command_line_are_checked_against_the_file(tmp_path):
    path = tmp_path / "pen.npz"
    write_pen_file(path, [(1, "apa", ONE), (7, "imp", SEVEN)])
    digits = pen.load_pen_digits(path)
    assert pen.parse_sources(" apa, imp ,", digits) == ["apa", "imp"]
    with pytest.raises(ValueError, match=r"unknown source\(s\) zzz; the file has apa, imp$"):  # its own groups
        pen.parse_sources("apa,zzz", digits)
    with pytest.raises(ValueError, match="none given"):
        pen.parse_sources(" , ", digits)


def test_training_checks_the_writer_groups_before_reading_mnist(tmp_path):
    path = tmp_path / "pen.npz"
    write_pen_file(path, [(1, "apa", ONE)])
    empty = tmp_path / "no-mnist-here"
    command = [sys.executable, "-m", "digitrec.cli", "train", "--pen-sources", "zzz", "--pen-data", str(path)]
    result = subprocess.run([*command, "--data-dir", str(empty), "-o", str(tmp_path / "m.onnx")], capture_output=True, text=True)
    assert result.returncode != 0 and "unknown source(s) zzz" in result.stderr and "Traceback" not in result.stderr
    assert not empty.exists()  # nothing downloaded first
