"""Decoding a file into the picture to send: opening it, decoding within a memory bound, reducing
it to the size sent and turning it upright from its EXIF orientation."""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass

from PIL import Image

from components.errors import ImageError
from components.images import bands, metadata
from components.images.color_conversion import Color
from components.images.decode_errors import (
    bomb_message,
    decoding_problems_explained,
    sniff_image_kind,
    too_large_to_decode_message,
    unidentified_message,
    value_error_message,
)
from components.images.limits import PILLOW_OPENERS, check_pixel_count, fit_within

# Hamming: sharper than bilinear, no box artefacts, and about 2.5x faster than Lanczos on the
# 2000x1500 -> 1024x768 step that follows a 1/2-scale JPEG decode.
_DOWNSCALE_FILTER = Image.Resampling.HAMMING


@dataclass(frozen=True)
class _Decoded:
    picture: Image.Image  # RGB, upright, at the size to send
    source_format: str
    upright_size: tuple[int, int]  # of the original picture
    notes: tuple[str, ...]


def decode(label: str, data: bytes, max_side: int | None) -> _Decoded:
    image = _open(label, data)
    source_format = image.format or ""
    stored_size = image.size
    check_pixel_count(label, *stored_size)
    frames_note = _frames_note(image, data)
    target = fit_within(stored_size, max_side)
    if target != stored_size and source_format in ("JPEG", "MPO"):
        image.draft(None, target)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below target
    orientation, exif_note = _read_orientation(image, data)
    color = Color(image)
    with decoding_problems_explained(label, source_format):
        picture, box = _reduced_picture(label, data, image, target, color)
    notes = [note for note in (frames_note, exif_note) if note] + color.notes()

    if picture.size != target:
        picture = picture.resize(target, _DOWNSCALE_FILTER, box=box, reducing_gap=2.0)
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    picture = _turn_upright(picture, orientation, notes)
    upright_size = stored_size if orientation < 5 else stored_size[::-1]
    return _Decoded(picture, source_format, upright_size, tuple(notes))


# --- decoding within a memory bound ----------------------------------------------------------------
#
# Memory follows the picture sent, not the file: a 200 KB PNG can declare 85 megapixels of
# 16-bit grey, which Pillow would hold whole (and numpy copy) before any downscaling. So a
# picture is decoded a band of rows at a time, each band converted to 8-bit colour and reduced
# by whole pixels (the same box reduction Pillow's resize does first), and only the reduced
# picture is kept. JPEG is shrunk by libjpeg while decoding; big PNG and TIFF files are streamed
# by libvips (components/images/bands.py); the rest is decoded whole, within WHOLE_DECODE_BYTES.

BAND_BYTES = 2 * 1024 * 1024  # pixels converted at a time (libvips holds about 20 bands more)
STREAM_ABOVE_BYTES = 96 * 1024 * 1024  # PNG and TIFF bigger than this once decoded are streamed
WHOLE_DECODE_BYTES = 160 * 1024 * 1024  # the most a whole decode may take (or 12 bytes a pixel sent)
# Memory a whole decode takes, per pixel of the file's mode, beyond Pillow's own picture: WebP and
# AVIF decoders fill a buffer of their own first; libtiff can hold a whole strip.
_DECODER_COPIES = {"WEBP": 2, "AVIF": 3, "TIFF": 2}


def _reduced_picture(
    label: str, data: bytes, image: Image.Image, target: tuple[int, int], color: Color
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The picture in 8-bit grey or RGB, reduced by whole pixels towards `target`, and the box of
    the original picture it covers in its own pixels (for the final resize)."""
    width, height = image.size
    factor = _reduction_factor(image.size, target)
    rows = _band_rows(width, factor[1])
    whole_decode = _whole_decode_bytes(image)
    picture_bands = None
    if whole_decode > STREAM_ABOVE_BYTES:
        picture_bands = bands.streamed_bands(data, image, rows)
    if picture_bands is None:
        if whole_decode > max(WHOLE_DECODE_BYTES, 12 * target[0] * target[1]):
            raise ImageError(too_large_to_decode_message(label, image))
        image.load()
        if color.is_identity:  # plain RGB or grey: Pillow's resize reduces it in one step
            return image, (0, 0, width, height)
        picture_bands = bands.decoded_bands(image, rows)

    reduced = Image.new(color.working_mode, (math.ceil(width / factor[0]), math.ceil(height / factor[1])))
    top = 0
    for band in picture_bands:
        converted = color.convert(band)
        if factor != (1, 1):
            converted = converted.reduce(factor)
        reduced.paste(converted, (0, top))
        top += converted.height
    image.close()
    return color.finish(reduced), (0, 0, width / factor[0], height / factor[1])


def _reduction_factor(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The whole-pixel reduction Pillow's resize(reducing_gap=2.0) does before resampling."""
    if size == target:
        return 1, 1
    return max(1, int(size[0] / target[0] / 2.0)), max(1, int(size[1] / target[1] / 2.0))


def _band_rows(width: int, row_factor: int) -> int:
    rows = max(1, BAND_BYTES // max(1, width * 4))
    return max(row_factor, rows - rows % row_factor)


def _whole_decode_bytes(image: Image.Image) -> int:
    mode = image.mode
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return image.width * image.height * per_pixel * _DECODER_COPIES.get(image.format or "", 1)


def picture_size(data: bytes) -> tuple[int, int] | None:
    """The size a file's header declares, without decoding a pixel; None when it does not open."""
    try:
        with _open("", data) as header:
            return header.size
    except ImageError:
        return None


def _open(label: str, data: bytes) -> Image.Image:
    """Pillow's Image.open for our formats, without its decompression-bomb warning.

    Image.open warns above Pillow's pixel limit, and turning that warning into an error would
    mean swapping the process-wide warnings filters. The size is checked right after this
    (`check_pixel_count`, whose limit is lower), before any pixel is decoded.
    """
    prefix = data[:16]
    try:
        for name in PILLOW_OPENERS:
            if name not in Image.OPEN:
                Image.init()  # registers every plugin, as Image.open does
            factory, accept = Image.OPEN[name]
            verdict = accept(prefix) if accept else True
            if not verdict or isinstance(verdict, str):
                continue
            try:
                return factory(io.BytesIO(data), "")
            except (SyntaxError, IndexError, TypeError, struct.error):
                continue  # not this format after all, as Image.open treats it
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise ImageError(bomb_message(label, str(bomb))) from None
    except ValueError as error:
        raise ImageError(value_error_message(label, error)) from None
    except (OSError, EOFError, ZeroDivisionError, KeyError, UserWarning):
        kind = sniff_image_kind(data)
        raise ImageError(
            f"{label} looks like a {kind or 'picture'} file but its header is damaged, so it "
            "cannot be opened. Export or download it again."
        ) from None
    raise ImageError(unidentified_message(label, data))


def _frames_note(image: Image.Image, data: bytes) -> str:
    try:
        frames = metadata.count_frames(data, image)
    except (IndexError, ValueError, TypeError, struct.error):  # damage after the first frame is not our concern
        return ""
    unit = "page" if image.format == "TIFF" else "frame"
    if frames is None:
        return f"first {unit} of many"
    return f"first {unit} of {frames}" if frames > 1 else ""


# The same transposition for each EXIF orientation as Pillow's ImageOps.exif_transpose. It is
# applied here after downscaling (on far fewer pixels), with the tag read once from the file so
# it works for TIFF and PNG as well as JPEG.
_TRANSPOSE_FOR_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _read_orientation(image: Image.Image, data: bytes) -> tuple[int, str]:
    """The EXIF orientation (1 when absent, 0, invalid or unreadable) and a note if unreadable."""
    exif = metadata.png_exif(data) if image.format == "PNG" else None
    value, unreadable = metadata.read_orientation(image, exif or metadata.exif_block(image))
    if unreadable:  # a damaged EXIF block must never stop the picture itself
        return 1, "EXIF data unreadable; treated as upright"
    return (value if value in _TRANSPOSE_FOR_ORIENTATION else 1), ""


def _turn_upright(picture: Image.Image, orientation: int, notes: list[str]) -> Image.Image:
    steps = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    if not steps:
        return picture
    for step in steps:
        picture = picture.transpose(step)
    verb = "rotated" if orientation in (3, 6, 8) else "flipped"
    notes.append(f"{verb} upright (EXIF orientation {orientation})")
    return picture
