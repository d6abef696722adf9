"""Turn whatever image a user hands us into what MNIST digits look like.

MNIST digits are white on black, their ink fitted into a 20x20 box with the aspect ratio kept,
anti-aliased, and centred by centre of mass in a 28x28 frame. A canvas drawing is none of
that: any size, usually dark on light (or on a transparent background), in any corner, with
a pen that may be far thinner or fatter than MNIST's; a photo of paper adds grain, a shadow or a
lamp's fall-off, and the table round the page. Every step below closes one of those gaps.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from digitrec.strokes import (
    ON_INK,
    Strokes,
    checked_strokes,
    cover,
    draw_on,
    draw_with_reference_pen,
    flag_after_stem,
    on_ink,
    reach,
    scribbled,
)

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 50_000_000  # beyond this an "image" is a decompression bomb, not a drawing
WORKING_SIZE = 512  # larger images are shrunk to this longer side first: same answer, less work
INK_THRESHOLD = 0.25  # contrast against the background that counts as ink...
NOISE_FLOOR = 5.0  # ...above this many times the background's own noise (a photo's grain)...
FAINT, FAINTEST = 0.5, 0.05  # ...once a drawing whose strongest ink lies between these is stretched to full contrast
FRAME_MARGIN = 0.05  # the outer 5% of an image is background: a drawing or a photo of paper rarely reaches it
UNEVEN_LIGHT = 0.1  # a background frame whose level spreads wider than this is lit unevenly (a photo)
LIGHT_GRID = 6  # an unevenly lit background is measured in this many blocks across and down
OFF_PAGE = 0.5  # a block under this fraction of the page's typical level holds no page (a photo's table)
MIN_INK_FRACTION = 0.0005  # less ink than this (of the image area) is "nothing drawn"...
MIN_INK_EXTENT = 0.02  # ...unless its largest piece spans this much of the image's longer side
HALFTONE_PINHOLES = 0.02  # dithered ink: 8% as many pinholes as ink pixels; solid strokes, drawn or scanned: under 0.4%
SPECK_FRACTION = 0.05  # ink blobs smaller than this fraction of the largest are dust, not digit
SURROUND = 0.5  # ink along more than this share of each of the image's sides surrounds the drawing: a table, a frame
BOX = 20  # MNIST fits each digit into 20x20...
FRAME = 28  # ...centred by mass in 28x28
TARGET_STROKE = 2.8  # typical MNIST stroke width at 28x28, in pixels (2 * area / perimeter; median 3.1)
DETAIL = 8 * BOX  # strokes are redrawn at this resolution: fine enough for a stylus's hair line
HAIRLINE = 2.5  # a stroke measured this wide at DETAIL (the narrowest measures 2) is a hair line
COARSE = 4 * BOX  # the number reader's stroke width rule works at this one

ImageInput = str | os.PathLike | bytes | Image.Image | np.ndarray


class ImageError(ValueError):
    """The input is not an image we can read; the message says why."""


@dataclass(frozen=True)
class Preprocessed:
    image: np.ndarray | None  # (28, 28) float32 in [0, 1], white on black; None when nothing is drawn
    box: tuple[int, int, int, int] | None  # (left, top, right, bottom) of the ink in the input image
    ink: np.ndarray | None = None  # the ink map cropped to the ink, for digitrec.shape's checks; None: not checked
    flagged_one: bool = False  # its strokes are a one's stem, then its flag (digitrec.strokes.flag_after_stem)
    scribble: bool = False  # its strokes all zigzag as no digit's do (digitrec.strokes.scribbled)


def _open_pil(source: str | os.PathLike | bytes) -> Image.Image:
    limit = f"the limit is {MAX_FILE_BYTES // 1024 // 1024} MB"
    if isinstance(source, bytes):
        if not source:
            raise ImageError("image bytes: empty")
        if len(source) > MAX_FILE_BYTES:
            raise ImageError(f"image is {len(source) / 1e6:.1f} MB; {limit}")
        stream: io.BytesIO | Path = io.BytesIO(source)
        name = "image bytes"
    else:
        stream = Path(source)
        name = str(source)
        if stream.is_dir():
            raise ImageError(f"{name}: is a folder, not an image file")
        if not stream.is_file():
            raise ImageError(f"{name}: no such file")
        size = stream.stat().st_size
        if size == 0:
            raise ImageError(f"{name}: the file is empty")
        if size > MAX_FILE_BYTES:
            raise ImageError(f"{name}: {size / 1e6:.1f} MB; {limit}")
    try:
        image = Image.open(stream)
        if image.width * image.height > MAX_PIXELS:
            raise ImageError(f"{name}: {image.width}x{image.height} pixels is too large for a drawing")
        image.load()
    except UnidentifiedImageError as e:
        raise ImageError(f"{name}: not a readable image (no format Pillow knows: PNG, JPEG, GIF, BMP, TIFF, WebP...)") from e
    except Image.DecompressionBombError as e:
        raise ImageError(f"{name}: not a readable image ({e})") from e
    except OSError as e:
        raise ImageError(f"{name}: the image is damaged or truncated ({e})") from e
    return image


def _high_depth_to_array(image: Image.Image) -> np.ndarray:
    """16-bit, 32-bit integer and float grey images (scans, TIFFs) in [0, 1]: Pillow's own
    conversion to 8 bits clips them to white instead of scaling, which would erase the drawing."""
    array = np.asarray(image, dtype=np.float32)
    if not np.isfinite(array).all():
        raise ImageError("the image contains NaN or infinite values")
    top = float(array.max(initial=0))
    full = 65535.0 if image.mode.startswith("I;16") or top > 255 else 255.0 if image.mode == "I" or top > 1 else 1.0
    if array.min(initial=0) < 0 or top > full:
        raise ImageError(f"{image.mode} pixel values {array.min():.6g}..{top:.6g} are not an image's 0..{full:.0f}")
    return array / full


def _pil_to_array(image: Image.Image) -> np.ndarray:
    # A photo is often stored sideways, with an EXIF tag that says how to turn it upright.
    image = ImageOps.exif_transpose(image)
    if image.mode == "F" or image.mode.startswith("I"):
        return _high_depth_to_array(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(image, dtype=np.float32) / 255.0


def to_array(source: ImageInput) -> np.ndarray:
    """Any accepted input -> float32 array in [0, 1], (H, W), (H, W, 3) or (H, W, 4)."""
    if isinstance(source, (str, os.PathLike, bytes)):
        return _pil_to_array(_open_pil(source))
    if isinstance(source, Image.Image):
        return _pil_to_array(source)
    if not isinstance(source, np.ndarray):
        raise ImageError(f"expected a file path, bytes, a PIL image or a numpy array, not {type(source).__name__}")
    array = source
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"expected an array of shape (H, W), (H, W, 3) or (H, W, 4), not {array.shape}")
    if array.shape[0] < 1 or array.shape[1] < 1 or array.size > MAX_PIXELS * 4:
        raise ImageError(f"an array of shape {array.shape} is not a drawing")
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        if array.dtype != np.uint8 and (array.min() < 0 or array.max() > 255):
            raise ImageError(f"integer pixel values must lie in 0..255, found {array.min()}..{array.max()} ({info.dtype})")
        scaled = array.astype(np.float32)
        scaled *= 1 / 255  # in place: one pass over a large canvas, not two
        return scaled
    if not np.issubdtype(array.dtype, np.floating):
        raise ImageError(f"unsupported pixel type {array.dtype}")
    if not np.isfinite(array).all():
        raise ImageError("the image contains NaN or infinite values")
    array = array.astype(np.float32)
    if array.min() < 0 or array.max() > 255:
        raise ImageError(f"float pixel values must lie in 0..1 (or 0..255), found {array.min():.3g}..{array.max():.3g}")
    return array / 255.0 if array.max() > 1.0 else array


def shrink(ink: np.ndarray, longest: int = WORKING_SIZE) -> np.ndarray:
    """Shrink a large ink map (area-averaging) to `longest` pixels at most, so what follows costs
    the same for any input size."""
    h, w = ink.shape
    if max(h, w) <= longest:
        return ink
    scale = longest / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BOX))


def _luminance(array: np.ndarray) -> np.ndarray | None:
    """The image's grey level, transparency composited onto a background that contrasts with the
    ink's own colour (a black pen on a transparent canvas is drawn on white, a white one on
    black); None when it is transparent all over."""
    if array.ndim == 2:
        return array
    luminance = array[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if array.shape[2] == 4 and array[:, :, 3].min() < 1:
        alpha = array[:, :, 3]
        if alpha.max() <= 0:
            return None
        ink_level = float((luminance * alpha).sum() / alpha.sum())
        backdrop = 1.0 if ink_level < 0.5 else 0.0
        luminance = luminance * alpha + backdrop * (1 - alpha)
    return luminance


def ink_contrast(array: np.ndarray, background_at: np.ndarray | None = None) -> np.ndarray:
    """How much each pixel differs from the background, in [0, 1], whatever the polarity.

    The background level is the median, since a drawing covers far less than half the canvas; in
    a photo of paper lit unevenly, a level that varies smoothly over the page. Where some pixels
    are known to be background (`background_at`: those farthest from the pen's strokes), it is
    their level, however much of the canvas the drawing covers. A photo's grain is not ink, and
    a faint drawing is stretched to full contrast.
    """
    luminance = _luminance(array)
    if luminance is None:
        return np.zeros(array.shape[:2], dtype=np.float32)
    step = max(1, min(luminance.shape) // 64)  # a sample of ~4,000 pixels is enough for the median
    sample = luminance[::step, ::step]
    known = background_at is not None
    background = float(np.median(luminance[background_at] if known else sample))
    # A photo's grain, from neighbouring pixels' differences: blind to a smooth change of light,
    # and zero on a canvas, which is left exactly as it is.
    steps = np.abs(np.diff(sample, axis=1 if sample.shape[1] > 1 else 0))  # a one-pixel-wide image: down it
    grain = float(np.median(steps)) / 0.954 if steps.size else 0.0  # a Gaussian's sigma
    if known or _evenly_lit(sample, grain):  # strokes are known on a canvas, which no lamp lights
        contrast = np.abs(luminance - background).astype(np.float32)
    else:
        contrast = _contrast_to_local_background(luminance, sample, background)
    floor = min(NOISE_FLOOR * grain, 0.99)  # grain is no ink
    if floor > 0:
        contrast = np.clip((contrast - floor) / (1 - floor), 0, 1)
    # A faint drawing (pencil, a pale pen) is stretched to full contrast: it would fall below INK_THRESHOLD unseen.
    peak = float(contrast.max())
    return contrast / peak if FAINTEST <= peak < FAINT else contrast


def _evenly_lit(sample: np.ndarray, grain: float) -> bool:
    """Whether the image's outer frame, which is background even in a photo, has one level
    (a canvas or a scan), rather than a shadow or a lamp's fall-off across it (a photo of paper).

    The frame is measured piecewise, by medians: a stroke that reaches it does not move them, and
    the grain only by a little, which is allowed for.
    An image too small for blocks of 8x8 pixels (an MNIST digit, an icon) counts as evenly lit."""
    if min(sample.shape) < 8 * LIGHT_GRID:
        return True
    edge = max(1, round(FRAME_MARGIN * min(sample.shape)))
    medians = []
    for strips in ([sample[:edge], sample[-edge:]], [sample[:, :edge].T, sample[:, -edge:].T]):
        along = strips[0].shape[1] // LIGHT_GRID * LIGHT_GRID  # LIGHT_GRID equal pieces along each strip
        pieces = np.stack(strips)[:, :, :along].reshape(2, edge, LIGHT_GRID, -1).transpose(0, 2, 1, 3)
        medians.append(np.median(pieces.reshape(2 * LIGHT_GRID, -1), axis=1))
    levels = np.concatenate(medians)
    pixels = edge * (min(sample.shape) // LIGHT_GRID)  # in the smallest piece
    wobble = 4 * 1.25 * grain / np.sqrt(pixels)  # a median of n noisy pixels varies by 1.25 sigma / sqrt(n)
    return bool(levels.max() - levels.min() <= UNEVEN_LIGHT + wobble)


def _contrast_to_local_background(luminance: np.ndarray, sample: np.ndarray, background: float) -> np.ndarray:
    """Ink contrast against a background level that varies smoothly over the image.

    With one level for the whole photo, the dim side of the paper would be as far from it as ink
    is. The ink is the minority on one side of the median (the darker side for a pen on paper);
    in each of LIGHT_GRID x LIGHT_GRID blocks the background is a percentile from the other side,
    which ink covering up to three quarters of a block does not reach."""
    low, high = np.percentile(sample, [1, 99])
    dark_ink = background - low >= high - background
    blocks = [np.array_split(rows, LIGHT_GRID, axis=1) for rows in np.array_split(sample, LIGHT_GRID, axis=0)]
    levels = np.array([[np.percentile(block, 75 if dark_ink else 25) for block in row] for row in blocks], dtype=np.float32)
    if dark_ink:
        # Blocks far darker than the page's typical level show no page at all (the table round it):
        # they take the nearest page block's level, so the table stands out as ink along the
        # image's edge, which `_keep_digit_ink` erases.
        off_page = levels < OFF_PAGE * np.median(levels)
        if off_page.any() and not off_page.all():
            nearest = ndimage.distance_transform_edt(off_page, return_distances=False, return_indices=True)
            levels = levels[tuple(nearest)]
    height, width = luminance.shape
    local = np.asarray(Image.fromarray(levels).resize((width, height), Image.Resampling.BILINEAR))
    return np.clip(local - luminance if dark_ink else luminance - local, 0, 1).astype(np.float32)


def _without_halftone(ink: np.ndarray) -> np.ndarray:
    """A 1-bit image of grey ink is dithered: its strokes are riddled with pinholes, which the
    number reader takes for gaps between digits. Such ink is averaged over 3x3 pixels, which
    closes them; any other ink (anti-aliased, grey, or solid black and white) is left as it is."""
    if np.any((ink > 0) & (ink < 1)):
        return ink
    mask = ink > INK_THRESHOLD
    inked_sides = ndimage.convolve(mask.astype(np.uint8), np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8), mode="constant")
    pinholes = np.count_nonzero(~mask & (inked_sides >= 3))  # background pixels with ink on three or four sides
    return ndimage.uniform_filter(ink, 3) if pinholes > HALFTONE_PINHOLES * np.count_nonzero(mask) else ink


def _keep_digit_ink(ink: np.ndarray) -> np.ndarray | None:
    """Zero out what is not the drawing: isolated specks, and whatever surrounds it (the table
    round a photographed page, a frame drawn round the canvas). None when no real ink is left:
    none, or too little of it in one small spot."""
    mask = ink > INK_THRESHOLD
    total = np.count_nonzero(mask)
    if total < 2:
        return None
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sides = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    surrounding: list[int] | np.ndarray = []
    if all(side.any() for side in sides):
        # Ink along most of every side encloses the drawing; a digit, even cropped tightly, does not.
        # The frame may be in pieces (a table half in shadow): the pieces that run along most of
        # some side, if together they run along most of every side.
        lengths = [np.bincount(side, minlength=count + 1)[1:] for side in sides]
        framing = np.logical_or.reduce([length > SURROUND * len(side) for length, side in zip(lengths, sides, strict=True)])
        if all(length[framing].sum() > SURROUND * len(side) for length, side in zip(lengths, sides, strict=True)):
            surrounding = np.flatnonzero(framing)
    if count == 1 and not len(surrounding) and total >= MIN_INK_FRACTION * mask.size:
        return ink  # one piece of ink, and enough of it: the usual drawing
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    sizes[surrounding] = 0  # erased below, as specks are
    if not sizes.any():
        return None
    boxes = ndimage.find_objects(labels)
    if sizes.sum() < MIN_INK_FRACTION * mask.size:
        # Little ink for the image: dust, or a digit written small on a large page. Dust is small
        # every way; a digit, however thin its pen, stands some height.
        largest = boxes[sizes.argmax()]
        if max(part.stop - part.start for part in largest) < MIN_INK_EXTENT * max(mask.shape):
            return None
    ink = ink.copy()
    for index, where in enumerate(boxes):
        if sizes[index] >= SPECK_FRACTION * sizes.max():
            continue
        # Erase it with its soft, anti-aliased rim: its mask grown by one pixel.
        rows = slice(max(where[0].start - 1, 0), where[0].stop + 1)
        cols = slice(max(where[1].start - 1, 0), where[1].stop + 1)
        speck = ndimage.binary_dilation(labels[rows, cols] == index + 1, structure=np.ones((3, 3)))
        ink[rows, cols][speck] = 0.0
    return ink


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask: for long thin strokes area ~ length * width
    and the boundary ~ 2 * length."""
    inside = np.pad(mask, 1)
    # Ink with ink on all four sides is inside the stroke; the rest of the ink is its boundary.
    interior = inside[1:-1, 1:-1] & inside[:-2, 1:-1] & inside[2:, 1:-1] & inside[1:-1, :-2] & inside[1:-1, 2:]
    return 2.0 * mask.sum() / max(1, mask.sum() - interior.sum())


def distance_to_background(mask: np.ndarray) -> np.ndarray:
    """Each pixel's Euclidean distance to the nearest pixel outside `mask` (0 outside it).

    The same numbers as scipy's `distance_transform_edt`, in a fifth of the time (two of these
    run in every prediction): OpenCV's exact transform, its float32 distances put back on the
    square roots of whole numbers that distances between pixel centres are."""
    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.sqrt(np.rint(np.square(distance, dtype=np.float64)))


def disk(radius: int) -> np.ndarray:
    """A round footprint for morphology: thickening or thinning a pen line evenly in every direction."""
    span = np.arange(-radius, radius + 1) ** 2
    return np.add.outer(span, span) <= radius**2


def _resize(image: np.ndarray, longest: int, resample: Image.Resampling) -> np.ndarray:
    """Resize a float image to `longest` pixels on its long side, the aspect kept, rescaled so its
    brightest pixel is 1 again."""
    h, w = image.shape
    scale = longest / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = np.asarray(Image.fromarray(image.astype(np.float32)).resize(size, resample)).clip(0, 1)
    return out / max(float(out.max()), 1e-6)


def _redraw_at_mnist_width(crop: np.ndarray) -> np.ndarray:
    """Redraw the strokes at MNIST's width, whatever the pen: a stylus's hair line, the app's pen
    and a fat finger then all reach the network alike.

    The ink's edge (half its peak; a hair line's, all its ink) is moved evenly out or in, by its
    distance from the ink, until the stroke width at 28x28 is TARGET_STROKE; the width is measured
    twice, since a line one or two pixels wide is measured coarsely. Returns the redrawn ink at
    DETAIL pixels on its long side, with a margin round it for the growth."""
    upsample = Image.Resampling.BOX if max(crop.shape) > DETAIL else Image.Resampling.BILINEAR
    crop = _resize(crop, DETAIL, upsample)
    mask = crop > 0.5  # a stroke's edge: where a soft or blurred edge falls to half the ink
    width = stroke_width(mask)
    if width <= HAIRLINE:
        # A line under two pixels wide here has no half-peak edge: where it runs aslant, its ink
        # spreads over neighbouring pixels, none of them half-inked, and the line falls apart.
        mask = crop > INK_THRESHOLD
        width = stroke_width(mask)

    def shift_to_target(width: float, shift: float) -> float:
        # The long side that will be scaled to BOX (DETAIL, the pen's width included, grown by
        # the shift on both ends), less the pen.
        path = DETAIL + 2 * shift - width
        return (TARGET_STROKE * path / (BOX - TARGET_STROKE) - width) / 2

    shift = shift_to_target(width, 0.0)
    thicker = shift > 0
    # Room for the ink to grow (the second measurement may add a little), and no more: the
    # distance transform's cost grows with the area.
    margin = int(np.ceil(1.5 * shift)) + 2 if thicker else 1
    crop, mask = np.pad(crop, margin), np.pad(mask, margin)
    # Only one side of the edge moves: the distance from the ink out (bolder), or from the
    # background in (thinner), to the nearest pixel centre across the edge.
    distance = distance_to_background(~mask if thicker else mask) - 0.5
    signed = -distance if thicker else distance
    signed[mask if thicker else ~mask] = 0.5 if thicker else -0.5
    shift += shift_to_target(stroke_width(signed + shift > 0), shift)
    shift = max(shift, 0.0) if thicker else min(shift, 0.0)
    redrawn = np.clip(signed + shift + 0.5, 0, 1).astype(np.float32)
    # Never erase the digit: a blob thinned away to little is kept as it was.
    return redrawn if (redrawn > 0.5).sum() > 0.3 * mask.sum() else crop


def _towards_mnist_width(crop: np.ndarray) -> np.ndarray:
    """The number reader's gentler rule, which its scoring was tuned on: only a pen far thinner
    or fatter than MNIST's is brought towards it, at COARSE pixels on the long side. (Redrawn,
    the pieces a boundary cuts off read surer, and a 9 cut in two outscores a whole 9.)"""
    if max(crop.shape) > COARSE:
        crop = _resize(crop, COARSE, Image.Resampling.BOX)
    to_box = BOX / max(crop.shape)
    mask = crop > INK_THRESHOLD
    width = stroke_width(mask) * to_box  # in pixels of the final 28x28
    if width < 0.6 * TARGET_STROKE:
        radius = round((TARGET_STROKE - width) / to_box / 2)
        return ndimage.grey_dilation(crop, footprint=disk(radius)) if radius else crop
    if width > 1.6 * TARGET_STROKE:
        radius = round((width - TARGET_STROKE) / to_box / 2)
        thinner = ndimage.grey_erosion(crop, footprint=disk(radius)) if radius else crop
        if (thinner > INK_THRESHOLD).sum() > 0.3 * mask.sum():
            return thinner
    return crop


def fit_and_centre(crop: np.ndarray, redraw: bool = True) -> np.ndarray:
    """A tight crop of one digit's ink -> the 28x28 MNIST-style image. `redraw=False`: the pen
    width is only brought towards MNIST's when far from it (for the number reader)."""
    if redraw:
        crop = _redraw_at_mnist_width(crop)
        top, bottom, left, right = crop_to_ink(crop)
        crop = crop[top:bottom, left:right]
    else:
        crop = _towards_mnist_width(crop)
    small = _resize(crop, BOX, Image.Resampling.LANCZOS)
    cy, cx = ndimage.center_of_mass(small)
    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    top = round(FRAME / 2 - cy)
    left = round(FRAME / 2 - cx)
    top = min(max(top, 0), FRAME - small.shape[0])  # centre of mass, but never cut the digit off
    left = min(max(left, 0), FRAME - small.shape[1])
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame


@dataclass(frozen=True)
class InkMap:
    """How far each pixel is from the background, specks removed, at a working resolution."""

    ink: np.ndarray  # (h, w) float32 in [0, 1]
    scale_x: float  # input pixels per ink-map pixel
    scale_y: float

    def box_in_input(self, top: int, bottom: int, left: int, right: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in the input image's pixels."""
        return (
            int(left * self.scale_x),
            int(top * self.scale_y),
            int(np.ceil(right * self.scale_x)),
            int(np.ceil(bottom * self.scale_y)),
        )


def read_ink(source: ImageInput, strokes: Strokes | None = None) -> InkMap | None:
    """Any accepted image -> its ink map; None when nothing is drawn.

    `strokes` (in the image's pixels), where known, settle which level is ink when the drawing
    covers most of the canvas (coloured in): the median level is then the ink's, and the
    strokes fall on what it calls background. The background is then the level farthest from
    the strokes, if the strokes lie on the ink that gives and cover it."""
    array = to_array(source)
    contrast = ink_contrast(array)
    paths = checked_strokes(strokes)
    if paths and on_ink(contrast > INK_THRESHOLD, np.concatenate(paths)) < ON_INK:
        coloured_in = _ink_map(ink_contrast(array, background_at=_farthest_from(paths, contrast.shape)))
        if coloured_in is not None and _strokes_on_ink(coloured_in, paths):
            return coloured_in
    return _ink_map(contrast)


def _ink_map(contrast: np.ndarray) -> InkMap | None:
    """The contrast at the working size, specks and surroundings removed; None when nothing is left."""
    height, width = contrast.shape
    ink = shrink(contrast)
    scale_x, scale_y = width / ink.shape[1], height / ink.shape[0]
    ink = _keep_digit_ink(_without_halftone(ink))
    return None if ink is None else InkMap(ink, scale_x, scale_y)


def _farthest_from(strokes: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The tenth of the image farthest from the strokes' paths (measured at the working size):
    background, if any of it is."""
    scale = min(1.0, WORKING_SIZE / max(shape))
    small = (max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale)))
    beyond = 2 * max(small)  # far off the image is as good as anywhere off it
    paths = draw_on(small, [(points * scale).clip(-beyond, beyond) for points in strokes], pen=1.0) > 0
    distance = cv2.distanceTransform((~paths).astype(np.uint8), cv2.DIST_L2, 3)
    farthest = (distance >= np.quantile(distance, 0.9)).astype(np.uint8)
    return cv2.resize(farthest, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)


def crop_to_ink(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels that count as ink."""
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def preprocess(source: ImageInput, strokes: Strokes | None = None) -> Preprocessed:
    """Read any accepted image and return the 28x28 MNIST-style digit (or nothing drawn).

    `strokes`: the pen strokes that drew it, each a list of (x, y) points in the image's pixels,
    where they are known (a canvas knows them). The network then sees them drawn afresh with the
    app's pen (`digitrec.strokes.draw_with_reference_pen`), not the image: a fat pen fills in an
    8's loops, which no thinning opens again, while its strokes still go round them. Strokes that
    do not match the image's ink are not used, and the image is read alone."""
    paths = checked_strokes(strokes)
    ink_map = read_ink(source, paths)
    if ink_map is None:
        return Preprocessed(image=None, box=None)
    top, bottom, left, right = crop_to_ink(ink_map.ink)
    crop = ink_map.ink[top:bottom, left:right]
    strokes_on_ink = _strokes_on_ink(ink_map, paths) if paths else []
    image = fit_and_centre(drawn_afresh(strokes_on_ink) if strokes_on_ink else crop)
    flagged_one = bool(strokes_on_ink) and flag_after_stem(strokes_on_ink)
    scribble = bool(strokes_on_ink) and all(scribbled(points, bottom - top) for points in strokes_on_ink)
    box = ink_map.box_in_input(top, bottom, left, right)
    return Preprocessed(image=image, box=box, ink=crop, flagged_one=flagged_one, scribble=scribble)


def _strokes_on_ink(ink_map: InkMap, strokes: list[np.ndarray]) -> list[np.ndarray]:
    """The strokes (in the input's pixels) that lie on the ink map's ink, in its pixels, if they
    cover that ink; else none. Strokes off the ink (a speck the ink map dropped, strokes of
    another drawing) are left out."""
    solid = ink_map.ink > INK_THRESHOLD
    in_ink_map = [points / np.array([ink_map.scale_x, ink_map.scale_y]) for points in strokes]
    on = [points for points in in_ink_map if on_ink(solid, points) >= ON_INK]
    pen = stroke_width(solid)
    return on if on and cover(solid, [reach(solid.shape, points, pen) for points in on]) else []


def drawn_afresh(strokes: list[np.ndarray]) -> np.ndarray:
    """One digit's strokes drawn with the app's pen at the resolution strokes are redrawn at,
    cropped to the ink: what `fit_and_centre` takes, whatever pen drew them."""
    drawn = draw_with_reference_pen(strokes, DETAIL)
    top, bottom, left, right = crop_to_ink(drawn)
    return drawn[top:bottom, left:right]
