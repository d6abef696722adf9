"""Recognition through the serving path: canvas drawings in every style, every input type,
blank canvases, bad input, and a model that does not match its card."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from digitrec.card import ModelError
from digitrec.preprocess import ImageError, crop_to_ink, distance_to_background, preprocess, stroke_width
from digitrec.recognize import Recognizer
from strokes import DIGIT_STROKES, LIGHTS, photographed, render

WHITE, BLACK, CLEAR = (255, 255, 255, 255), (0, 0, 0, 255), (0, 0, 0, 0)

STYLES = {
    "black on white": {},
    "white on black": {"ink": WHITE, "background": BLACK},
    "black on transparent": {"background": CLEAR},
    "white on transparent": {"ink": WHITE, "background": CLEAR},
    "blue on pale yellow": {"ink": (30, 60, 200, 255), "background": (255, 250, 220, 255)},
    "small, top-left corner": {"scale": 0.3, "offset": (8, 4), "pen": 6},
    "small, bottom-right, transparent": {"scale": 0.25, "offset": (200, 205), "pen": 5, "background": CLEAR},
    "thin stylus on a large canvas": {"size": 600, "pen": 3},
    "fat finger on a small canvas": {"size": 200, "pen": 26},
    "wide canvas, digit at the side": {"size": (560, 280), "offset": (330, 0)},
}


@pytest.mark.parametrize("style", STYLES)
def test_drawn_digits_are_recognised_in_every_style(recognizer, style):
    wrong = {}
    for digit, strokes in DIGIT_STROKES.items():
        prediction = recognizer.predict(render(strokes, **STYLES[style]))
        if prediction.digit != digit:
            wrong[digit] = (prediction.digit, round(prediction.confidence, 3))
    assert not wrong, f"{style}: expected digit -> (answer, confidence): {wrong}"


PENS = {
    "the app's pen": {},
    "a stylus": {"size": 600, "pen": 3},
    "a hair-line stylus": {"size": 600, "pen": 2},
    "a finger": {"size": 200, "pen": 26},
    "a fat marker": {"pen": 40},
    "a thin pen, small in a corner": {"scale": 0.25, "offset": (200, 205), "pen": 5},
}


@pytest.mark.parametrize("pen", PENS)
def test_every_pen_reaches_the_network_at_mnist_stroke_width(pen):
    """Whatever the pen, the network sees MNIST's stroke width and about the ink of the app's
    pen: a stylus's hair line is thickened, a finger's fat line thinned."""
    for digit, strokes in DIGIT_STROKES.items():
        seen = preprocess(render(strokes, **PENS[pen])).image
        app_pen = preprocess(render(strokes)).image
        assert 2.4 <= stroke_width(seen > 0.5) <= 3.6, f"{digit}: stroke {stroke_width(seen > 0.5):.2f} px"
        assert abs(seen.sum() / app_pen.sum() - 1) < 0.15, f"{digit}: ink {seen.sum():.0f} against {app_pen.sum():.0f}"


def test_the_fast_distance_transform_gives_scipys_distances_exactly():
    """The stroke redraw and the shape checks measure with OpenCV's distance transform, for
    speed: every distance must be scipy's exact Euclidean one, or answers would shift."""
    rng = np.random.default_rng(0)
    drawn = [preprocess(render(digit_strokes)).ink > 0.5 for digit_strokes in DIGIT_STROKES.values()]
    speckled = [rng.random((97, 160)) < fill for fill in (0.02, 0.5, 0.98)]
    for mask in drawn + speckled:
        mask = np.pad(mask, 1)  # some background, as both callers have
        for side in (mask, ~mask):
            assert np.array_equal(distance_to_background(side), ndimage.distance_transform_edt(side))


@pytest.mark.parametrize("background", [WHITE, BLACK, CLEAR, (120, 120, 120, 255)])
def test_blank_canvas_is_nothing_drawn(recognizer, background):
    prediction = recognizer.predict(render([], background=background))
    assert prediction.digit is None
    assert prediction.status == "empty"
    assert prediction.confidence == 0.0 and prediction.top3 == []


@pytest.mark.parametrize("shape", [(1, 1), (1, 500), (500, 1)])
def test_an_image_one_pixel_wide_is_nothing_drawn_without_warnings(recognizer, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" reached the caller
        assert recognizer.predict(np.zeros(shape, dtype=np.uint8)).status == "empty"
        assert recognizer.read_number(np.zeros(shape, dtype=np.uint8)).text == ""


def test_a_speck_of_dust_is_still_nothing_drawn(recognizer):
    canvas = np.full((280, 280), 255, dtype=np.uint8)
    canvas[100:102, 100:102] = 0
    assert recognizer.predict(canvas).status == "empty"


def test_specks_beside_a_digit_are_ignored():
    clean = render(DIGIT_STROKES[7])
    dusty = np.asarray(clean).copy()
    dusty[5:8, 5:8] = (0, 0, 0, 255)
    dusty[270:273, 270:273] = (0, 0, 0, 255)
    assert preprocess(dusty).box == preprocess(clean).box


def test_a_digit_written_small_on_a_large_page_is_read(recognizer):
    """A 1.3 cm digit in a 0.5 mm pen on an A4 page at 150 dpi is far less ink than 0.05% of the
    page, which used to mean "nothing drawn"; dust on the same page still is nothing."""
    page = Image.new("RGB", (1240, 1754), "white")
    for digit, place in [(4, (600, 500)), (7, (300, 1200))]:
        sheet = page.copy()
        sheet.paste(render(DIGIT_STROKES[digit], size=118, pen=3), place)
        assert recognizer.predict(sheet).digit == digit
    dusty = np.asarray(page).copy()
    for y, x in [(300, 200), (900, 1000), (1500, 600)]:
        dusty[y : y + 3, x : x + 3] = 0
    assert recognizer.predict(dusty).status == "empty"


def test_every_input_type_gives_the_same_answer(recognizer, tmp_path):
    image = render(DIGIT_STROKES[3])
    rgba = np.asarray(image)
    gray = np.asarray(image.convert("L"))
    path = tmp_path / "three.png"
    image.save(path)
    inputs = {
        "path": path,
        "str path": str(path),
        "bytes": path.read_bytes(),
        "PIL": image,
        "RGBA uint8": rgba,
        "RGB uint8": rgba[:, :, :3],
        "gray uint8": gray,
        "gray HxWx1": gray[:, :, None],
        "gray float 0..1": gray / 255.0,
        "gray float 0..255": gray.astype(np.float64),
        "JPEG bytes": _jpeg(image),
    }
    answers = {name: recognizer.predict(source).digit for name, source in inputs.items()}
    assert answers == dict.fromkeys(inputs, 3)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


def test_prediction_holds_probabilities_top3_and_what_the_model_saw(recognizer):
    prediction = recognizer.predict(render(DIGIT_STROKES[2]), tta=True)
    assert prediction.status == "ok" and prediction.digit == 2
    assert abs(sum(prediction.probabilities) - 1) < 1e-4
    assert prediction.confidence == max(prediction.probabilities)
    assert [d for d, _ in prediction.top3] == list(np.argsort(prediction.probabilities)[::-1][:3])
    assert prediction.top3[0] == (2, prediction.confidence)
    assert prediction.image.shape == (28, 28) and prediction.image.dtype == np.uint8
    # MNIST layout: ink in the middle, black border, centre of mass near the centre.
    assert prediction.image[:3].max() == 0 and prediction.image[-3:].max() == 0
    rows, cols = np.nonzero(prediction.image)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21
    weights = prediction.image.astype(float)
    cy = (weights.sum(axis=1) * np.arange(28)).sum() / weights.sum()
    cx = (weights.sum(axis=0) * np.arange(28)).sum() / weights.sum()
    assert abs(cy - 14) < 1.5 and abs(cx - 14) < 1.5
    assert len(prediction.versions) == 5 and len(prediction.votes) == 5
    assert all(v.shape == (28, 28) for v in prediction.versions)


def test_without_tta_there_are_no_versions(recognizer):
    prediction = recognizer.predict(render(DIGIT_STROKES[2]), tta=False)
    assert prediction.digit == 2 and prediction.versions == [] and prediction.votes == []


def test_below_the_threshold_it_declines(model_path):
    strict = Recognizer(model_path, threshold=1.01)
    prediction = strict.predict(render(DIGIT_STROKES[5]))
    assert prediction.digit is None and prediction.status == "unsure"
    assert prediction.top3[0][0] == 5  # the best guesses are still there to show


def test_mnist_test_images_survive_the_canvas_preprocessing(recognizer, mnist_test):
    """Preprocessing must leave MNIST-style input MNIST-style: accuracy stays high."""
    images, labels = mnist_test.images[:300], mnist_test.labels[:300]
    answers = np.array([recognizer.predict(image, tta=False).digit for image in images])
    assert (answers == labels).mean() >= 0.98


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"this is not an image", "not a readable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable image"),
        (12345, "expected a file path, bytes"),
        (np.zeros((4, 4, 2)), "shape"),
        (np.zeros((0, 10)), "not a drawing"),
        (np.full((10, 10), np.nan), "NaN"),
        (np.full((10, 10), -3.0), "0..1"),
        (np.array([["a"]]), "unsupported pixel type"),
    ],
)
def test_bad_input_gets_a_clear_error(recognizer, source, message):
    with pytest.raises(ImageError, match=message):
        recognizer.predict(source)


def test_missing_and_truncated_files_get_a_clear_error(recognizer, tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        recognizer.predict(tmp_path / "nope.png")
    png = io.BytesIO()
    render(DIGIT_STROKES[1]).save(png, format="PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"truncated|damaged|not a readable"):
        recognizer.predict(truncated)


def _encoded(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **options)
    return out.getvalue()


def test_high_bit_depth_images_are_scaled_not_clipped(recognizer):
    """16-bit PNGs and 32-bit TIFFs (scanners, image tools): an 8-bit conversion would clip them to white."""
    gray = np.asarray(render(DIGIT_STROKES[3]).convert("L"), dtype=np.float64) / 255
    sixteen = Image.fromarray((gray * 65535).astype(np.uint16))
    inputs = {
        "16-bit PNG": _encoded(sixteen, "PNG"),
        "16-bit PIL image": sixteen,
        "32-bit integer TIFF": _encoded(Image.fromarray((gray * 65535).astype(np.int32)), "TIFF"),
        "float TIFF, 0..1": _encoded(Image.fromarray(gray.astype(np.float32)), "TIFF"),
    }
    assert {name: recognizer.predict(source).digit for name, source in inputs.items()} == dict.fromkeys(inputs, 3)


@pytest.mark.parametrize(("orientation", "stored"), [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)])
def test_photos_stored_sideways_are_turned_upright_by_their_exif_tag(recognizer, orientation, stored):
    upright = render(DIGIT_STROKES[7]).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation  # EXIF Orientation: how to turn the stored pixels to show them
    photo = _encoded(upright.transpose(stored), "JPEG", exif=exif.tobytes())
    assert recognizer.predict(photo).digit == 7
    assert recognizer.predict(Image.open(io.BytesIO(photo))).digit == 7


def test_empty_files_and_folders_get_a_clear_error(recognizer, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for source, message in [(empty, "the file is empty"), (b"", "empty"), (tmp_path, "is a folder, not an image file")]:
        with pytest.raises(ImageError, match=message):
            recognizer.predict(source)


@pytest.mark.parametrize("light", LIGHTS)
def test_photos_of_paper_lit_unevenly_are_read(recognizer, light):
    """With one background level for the whole photo, the dim side of the page counts as ink."""
    answers = {
        digit: recognizer.predict(photographed(render(strokes, size=400, pen=22), light)).digit
        for digit, strokes in DIGIT_STROKES.items()
    }
    assert answers == {digit: digit for digit in DIGIT_STROKES}


def test_a_page_photographed_on_a_dark_table_is_read(recognizer):
    """The table round the page (here 70% of the photo) is no ink: it runs along every side of the
    image, in one piece or, where a shadow falls across it, in several. A blank page is nothing
    drawn; a digit cropped tightly, touching the sides, is kept."""
    for light in [None, "fading towards the top", "a lamp at the top right", "a soft shadow across a corner"]:
        answers = {}
        for digit, strokes in DIGIT_STROKES.items():
            photo = Image.new("L", (520, 520), 64)  # the table
            photo.paste(render(strokes, size=440).convert("L").rotate(6, fillcolor=255), (50, 30))
            answers[digit] = recognizer.predict(photo if light is None else photographed(photo, light)).digit
        assert answers == {digit: digit for digit in DIGIT_STROKES}, light
    blank = Image.new("L", (520, 520), 64)
    blank.paste(Image.new("L", (440, 440), 255), (50, 30))
    assert recognizer.predict(blank).status == "empty"
    for digit, strokes in DIGIT_STROKES.items():
        drawn = np.asarray(render(strokes).convert("L"))
        top, bottom, left, right = crop_to_ink(255 - drawn.astype(np.float32))
        assert recognizer.predict(drawn[top:bottom, left:right]).digit == digit


def test_faint_drawings_are_read_and_grain_is_no_ink(recognizer):
    """A pale pencil (ink 15% darker than the paper) used to be below the ink threshold, "nothing
    drawn"; a blank photo's grain used to be read as a confident 8."""
    paper = {d: np.asarray(render(s, size=300, pen=10).convert("L"), dtype=np.float32) / 255 for d, s in DIGIT_STROKES.items()}
    assert {d: recognizer.predict(0.85 + 0.15 * p).digit for d, p in paper.items()} == {d: d for d in paper}
    grainy = {d: np.clip(0.1 + 0.8 * p + np.random.default_rng(d).normal(0, 0.08, p.shape), 0, 1) for d, p in paper.items()}
    assert {d: recognizer.predict(g.astype(np.float32)).digit for d, g in grainy.items()} == {d: d for d in paper}
    for seed, noise in enumerate([0.05, 0.1, 0.15, 0.2]):
        blank = np.clip(0.9 + np.random.default_rng(seed).normal(0, noise, (300, 300)), 0, 1).astype(np.float32)
        assert recognizer.predict(blank).status == "empty", noise
        assert recognizer.read_number(blank).text == "", noise


def test_huge_images_are_refused_before_decoding(recognizer):
    bomb = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(bomb, format="PNG")  # tiny file, 60 megapixels
    with pytest.raises(ImageError, match="too large"):
        recognizer.predict(bomb.getvalue())


def test_large_canvas_photo_is_handled(recognizer):
    big = render(DIGIT_STROKES[4], size=3000, pen=160)
    assert recognizer.predict(big).digit == 4


def test_a_model_that_does_not_match_its_card_is_refused(model_path, tmp_path):
    copy = tmp_path / "model.onnx"
    shutil.copy(model_path, copy)
    shutil.copy(model_path.with_suffix(".json"), copy.with_suffix(".json"))
    Recognizer(copy)  # intact: loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its card"):
        Recognizer(copy)


def test_a_missing_model_or_card_is_a_clear_error(model_path, tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        Recognizer(tmp_path / "missing.onnx")
    lonely = tmp_path / "lonely.onnx"
    shutil.copy(model_path, lonely)
    with pytest.raises(ModelError, match="card"):
        Recognizer(lonely)


def test_the_recognition_path_does_not_import_torch():
    code = (
        "import sys, digitrec, digitrec.recognize, digitrec.cli\n"
        "from digitrec.recognize import Recognizer\n"
        "Recognizer().predict(__import__('numpy').zeros((28, 28)))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
