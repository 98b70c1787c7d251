"""Turn an upload or a URL into the picture that is sent to Clarifai and drawn on.

One path for every input: check the size limits from the file header, decode a band of rows at
a time (or shrinking while decoding, for JPEG), convert each band to sRGB, flatten transparency
onto white, reduce, turn the picture upright from its EXIF orientation, and re-encode without
metadata. What is sent (`data`) and what is drawn on (`pixels()`) are then the same upright
picture, and the memory it takes follows the picture sent, not the file (see "decoding within a
memory bound" below). Nothing here holds a lock: preparations run side by side.

Why 1024 px by default: Clarifai's image models work on inputs of at most about 1024 px (they
resize larger ones themselves), boxes and masks come back as fractions of the image so they
land right at any size, and a 12 MP photo goes from ~4.7 MB to ~190 KB per request.
`PrepareOptions(max_side=None)` keeps the full size (still upright and metadata-free).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageCms

from components.errors import ImageError
from components.images import bands as image_bands
from components.images import metadata as image_metadata
from components.images.url_fetch import (
    MAX_FILE_BYTES,
    UrlRefusedError,
    check_url_syntax,
    fetch_image_url,
    shorten_url,
)

DEFAULT_MAX_SIDE = 1024
PREVIEW_SIDE = 512
MAX_IMAGES_PER_RUN = 128
MAX_PIXELS = 85_000_000  # Clarifai's limit per image
# Longest side taken (JPEG's own limit): it keeps a band of rows, which must hold a whole number
# of the rows reduced into one, to a few megabytes even for the thinnest strip of a picture.
MAX_SIDE_PIXELS = 65_535
JPEG_QUALITY = 90
PREVIEW_QUALITY = 80
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF", "MPO")
_PILLOW_OPENERS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF")  # JPEG's opener also reads MPO
SUPPORTED_FORMATS_TEXT = "JPEG, PNG, WebP, BMP, TIFF, GIF, AVIF or MPO"
_LOSSLESS_FORMATS = {"PNG", "GIF", "BMP", "TIFF"}
# Hamming: sharper than bilinear, no box artefacts, and about 2.5x faster than Lanczos on the
# 2000x1500 -> 1024x768 step that follows a 1/2-scale JPEG decode.
_DOWNSCALE_FILTER = Image.Resampling.HAMMING
_MESSAGE_NAME_LENGTH = 80

__all__ = [
    "DEFAULT_MAX_SIDE",
    "MAX_FILE_BYTES",
    "MAX_IMAGES_PER_RUN",
    "MAX_PIXELS",
    "PREVIEW_SIDE",
    "PrepareOptions",
    "PreparedImage",
    "parse_url_lines",
    "prepare_upload",
    "prepare_url",
]


@dataclass(frozen=True)
class PrepareOptions:
    max_side: int | None = DEFAULT_MAX_SIDE  # None keeps the full size
    clarifai_fetches_urls: bool = False  # URL inputs are passed to Clarifai as URLs, not fetched


@dataclass(frozen=True, eq=False)
class PreparedImage:
    name: str  # file name, or the URL, as the user knows it
    source: str  # "upload" | "url" | "sample"
    digest: str  # sha256 hex of `data` (of the URL when data is None)
    data: bytes | None = field(repr=False)  # upright, metadata-free encoded bytes to send
    mime: str  # "image/jpeg" | "image/png" | "" when data is None
    width: int  # of the upright picture in `data` (0 when unknown)
    height: int
    preview: bytes = field(repr=False)  # app-made JPEG, longest side <= PREVIEW_SIDE; b"" if no data
    original_size: int  # bytes of the file as given (0 for url-only)
    url: str = ""
    notes: tuple[str, ...] = ()
    source_format: str = ""  # Pillow's name of the format given ("JPEG", "PNG", ...)

    def pixels(self) -> np.ndarray:
        """BGR uint8 HxWx3 decoded from `data`: exactly the picture that was sent.

        Decoded on each call, so the caller owns (and may draw on) the array.
        """
        if self.data is None:
            raise ImageError(
                f"{_display_name(self.name)} was not downloaded by the app (Clarifai fetches it "
                "directly), so there is no picture to draw on. Let the app download URLs to see "
                "boxes and masks."
            )
        buffer = np.frombuffer(self.data, dtype=np.uint8)
        picture = cv2.imdecode(buffer, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        if picture is None:  # only possible if `data` was replaced by hand
            raise ImageError(f"{_display_name(self.name)} could not be decoded for drawing.")
        return picture

    @property
    def bytes_saved(self) -> int:
        return self.original_size - len(self.data or b"")

    @property
    def fetched_by_clarifai(self) -> bool:
        return self.data is None


def prepare_upload(
    name: str, data: bytes, options: PrepareOptions = PrepareOptions(), source: str = "upload"
) -> PreparedImage:
    """Decode, check, orient, downscale and re-encode one file; ImageError says what is wrong."""
    return _prepare_bytes(name, bytes(data), options, source=source, url="")


def prepare_url(
    url: str,
    options: PrepareOptions = PrepareOptions(),
    fetch: Callable[[str], bytes] = fetch_image_url,
) -> PreparedImage:
    """Fetch (safely) and prepare the image at `url`, or hand the URL to Clarifai as it is."""
    url = check_url_syntax(url)
    if options.clarifai_fetches_urls:
        return PreparedImage(
            name=url,
            source="url",
            digest=hashlib.sha256(url.encode("utf-8")).hexdigest(),
            data=None,
            mime="",
            width=0,
            height=0,
            preview=b"",
            original_size=0,
            url=url,
            notes=(
                (
                    "Clarifai downloads this image itself: the app did not download it, so it cannot "
                    "turn it upright from its EXIF orientation or draw boxes and masks on it"
                ),
            ),
        )
    data = fetch(url)
    return _prepare_bytes(url, data, options, source="url", url=url)


def parse_url_lines(text: str) -> tuple[list[str], list[ImageError]]:
    """One URL per line: the usable ones (in order) and one error per line that is not.

    Blank lines are ignored. Only the first MAX_IMAGES_PER_RUN addresses are kept.
    """
    urls: list[str] = []
    problems: list[ImageError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            url = check_url_syntax(line)
        except UrlRefusedError as refusal:
            problems.append(UrlRefusedError(f"Line {number}: {refusal.message}", refusal.reason))
            continue
        urls.append(url)
    if len(urls) > MAX_IMAGES_PER_RUN:
        problems.append(
            ImageError(
                f"{len(urls)} addresses were given; only the first {MAX_IMAGES_PER_RUN} are used "
                "in one run. Run the rest separately."
            )
        )
        urls = urls[:MAX_IMAGES_PER_RUN]
    return urls, problems


# --- the preparation pipeline -------------------------------------------------------------


@dataclass(frozen=True)
class _Decoded:
    picture: Image.Image  # RGB, upright, at the size to send
    source_format: str
    upright_size: tuple[int, int]  # of the original picture
    notes: tuple[str, ...]


def _prepare_bytes(name: str, data: bytes, options: PrepareOptions, source: str, url: str) -> PreparedImage:
    label = _display_name(name)
    _check_file_size(label, data)
    decoded = _decode(label, data, options.max_side)
    picture = decoded.picture
    notes = list(decoded.notes)

    if picture.size != decoded.upright_size:
        (w0, h0), (w1, h1) = decoded.upright_size, picture.size
        notes.append(f"downscaled from {w0}×{h0} to {w1}×{h1}")

    mime, encoded = _encode(picture, lossless_source=decoded.source_format in _LOSSLESS_FORMATS)
    if len(encoded) >= MAX_FILE_BYTES:  # Clarifai: under 20 MB
        raise ImageError(
            f"{label} is still {_megabytes(len(encoded))} after re-encoding at full size; images "
            "must be under 20 MB. Turn on downscaling or use a smaller picture."
        )
    return PreparedImage(
        name=name,
        source=source,
        digest=hashlib.sha256(encoded).hexdigest(),
        data=encoded,
        mime=mime,
        width=picture.width,
        height=picture.height,
        preview=_make_preview(picture),
        original_size=len(data),
        url=url,
        notes=tuple(notes),
        source_format=decoded.source_format,
    )


def _check_file_size(label: str, data: bytes) -> None:
    if not data:
        raise ImageError(
            f"{label} is empty (0 bytes). Choose the file again; if it is still empty, the copy "
            "on your device is broken."
        )
    if len(data) >= MAX_FILE_BYTES:  # "under 20 MB": exactly 20 MB is refused too
        raise ImageError(
            f"{label} is {_megabytes(len(data))}; images must be under 20 MB. Save a smaller or "
            "more compressed copy (for example a JPEG) and try again."
        )


def _decode(label: str, data: bytes, max_side: int | None) -> _Decoded:
    image = _open(label, data)
    source_format = image.format or ""
    stored_size = image.size
    _check_pixel_count(label, *stored_size)
    frames_note = _frames_note(image, data)
    target = _fit_within(stored_size, max_side)
    if target != stored_size and source_format in ("JPEG", "MPO"):
        image.draft(None, target)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below target
    orientation, exif_note = _read_orientation(image, data)
    colour = _Colour(image)
    with _decoding_problems_explained(label, source_format):
        picture, box = _reduced_picture(label, data, image, target, colour)
    notes = [note for note in (frames_note, exif_note) if note] + colour.notes()

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
# by libvips (components/image_bands.py); the rest is decoded whole, within WHOLE_DECODE_BYTES.

BAND_BYTES = 2 * 1024 * 1024  # pixels converted at a time (libvips holds about 20 bands more)
STREAM_ABOVE_BYTES = 96 * 1024 * 1024  # PNG and TIFF bigger than this once decoded are streamed
WHOLE_DECODE_BYTES = 160 * 1024 * 1024  # the most a whole decode may take (or 12 bytes a pixel sent)
# Memory a whole decode takes, per pixel of the file's mode, beyond Pillow's own picture: WebP and
# AVIF decoders fill a buffer of their own first; libtiff can hold a whole strip.
_DECODER_COPIES = {"WEBP": 2, "AVIF": 3, "TIFF": 2}


def _reduced_picture(
    label: str, data: bytes, image: Image.Image, target: tuple[int, int], colour: _Colour
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The picture in 8-bit grey or RGB, reduced by whole pixels towards `target`, and the box of
    the original picture it covers in its own pixels (for the final resize)."""
    width, height = image.size
    factor = _reduction_factor(image.size, target)
    rows = _band_rows(width, factor[1])
    whole_decode = _whole_decode_bytes(image)
    bands = None
    if whole_decode > STREAM_ABOVE_BYTES:
        bands = image_bands.streamed_bands(data, image, rows)
    if bands is None:
        if whole_decode > max(WHOLE_DECODE_BYTES, 12 * target[0] * target[1]):
            raise ImageError(_too_large_to_decode_message(label, image))
        image.load()
        if colour.is_identity:  # plain RGB or grey: Pillow's resize reduces it in one step
            return image, (0, 0, width, height)
        bands = image_bands.decoded_bands(image, rows)

    reduced = Image.new(colour.working_mode, (math.ceil(width / factor[0]), math.ceil(height / factor[1])))
    top = 0
    for band in bands:
        converted = colour.convert(band)
        if factor != (1, 1):
            converted = converted.reduce(factor)
        reduced.paste(converted, (0, top))
        top += converted.height
    image.close()
    return colour.finish(reduced), (0, 0, width / factor[0], height / factor[1])


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


def _too_large_to_decode_message(label: str, image: Image.Image) -> str:
    kind = _FORMAT_NAMES.get(image.format or "", image.format or "image")
    if image.format == "PNG" and image.info.get("interlace"):
        kind = "interlaced PNG"
    width, height = image.size
    return (
        f"{label} is a {width}×{height} {kind} ({width * height / 1e6:,.0f} megapixels), too large "
        "for the app to decode within its memory limit, so it was not decoded. Save it as a JPEG "
        "and try again."
    )


_FORMAT_NAMES = {"WEBP": "WebP"}


def _open(label: str, data: bytes) -> Image.Image:
    """Pillow's Image.open for our formats, without its decompression-bomb warning.

    Image.open warns above Pillow's pixel limit, and turning that warning into an error would
    mean swapping the process-wide warnings filters. The size is checked right after this
    (`_check_pixel_count`, whose limit is lower), before any pixel is decoded.
    """
    prefix = data[:16]
    try:
        for name in _PILLOW_OPENERS:
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
        raise ImageError(_bomb_message(label, str(bomb))) from None
    except ValueError as error:
        raise ImageError(_value_error_message(label, error)) from None
    except (OSError, EOFError, ZeroDivisionError, KeyError, UserWarning):
        kind = _sniff_image_kind(data)
        raise ImageError(
            f"{label} looks like a {kind or 'picture'} file but its header is damaged, so it "
            "cannot be opened. Export or download it again."
        ) from None
    raise ImageError(_unidentified_message(label, data))


@contextmanager
def _decoding_problems_explained(label: str, source_format: str) -> Iterator[None]:
    try:
        yield
    except ImageError:
        raise
    except image_bands.StreamError as error:
        if error.truncated:
            raise ImageError(_cut_off_message(label)) from None
        raise ImageError(_corrupt_message(label, source_format)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise ImageError(_bomb_message(label, str(bomb))) from None
    except ValueError as error:
        raise ImageError(_value_error_message(label, error)) from None
    except (OSError, SyntaxError, EOFError, IndexError, TypeError, ZeroDivisionError, KeyError, struct.error,
            UserWarning) as error:
        if "truncated" in str(error).lower():
            raise ImageError(_cut_off_message(label)) from None
        raise ImageError(_corrupt_message(label, source_format)) from None


def _cut_off_message(label: str) -> str:
    return (
        f"{label} is cut off: the file ends before the picture does (an incomplete download or "
        "copy). Get the complete file and try again."
    )


def _corrupt_message(label: str, source_format: str) -> str:
    return f"{label} has corrupt {source_format or 'image'} data and cannot be decoded. Export or download it again."


_BOMB_PIXELS = re.compile(r"Image size \((\d+) pixels\)")


def _bomb_message(label: str, text: str) -> str:
    match = _BOMB_PIXELS.search(text)
    declared = f"about {int(match.group(1)) / 1e6:,.0f} megapixels" if match else "a huge size"
    return _declared_too_large(label, declared)


def _declared_too_large(label: str, declared: str) -> str:
    return (
        f"{label} declares {declared}, more than the {MAX_PIXELS // 1_000_000}-megapixel "
        "limit (files like this can exhaust memory), so it was not decoded. Resize it to at "
        "most 85 megapixels (for example 4000×3000) and try again."
    )


def _value_error_message(label: str, error: ValueError) -> str:
    if "decompressed data too large" in str(error).lower():
        return (
            f"{label} holds a metadata block that expands to an unsafe size (a decompression "
            "bomb), so it was not opened. Re-save the picture without metadata and try again."
        )
    return f"{label} has invalid image data and cannot be decoded. Export or download it again."


def _check_pixel_count(label: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{label} declares a size of {width}×{height} pixels, so it holds no picture.")
    pixels = width * height
    if Image.MAX_IMAGE_PIXELS is not None and pixels > Image.MAX_IMAGE_PIXELS:  # Pillow's bomb limit
        raise ImageError(_declared_too_large(label, f"about {pixels / 1e6:,.0f} megapixels"))
    if pixels > MAX_PIXELS:
        raise ImageError(
            f"{label} is {width}×{height} pixels ({pixels / 1e6:,.0f} megapixels); images "
            f"can have at most {MAX_PIXELS // 1_000_000} megapixels. Resize it (for example to "
            "4000×3000) and try again."
        )
    if max(width, height) > MAX_SIDE_PIXELS:
        raise ImageError(
            f"{label} is {width}×{height} pixels; images can be at most {MAX_SIDE_PIXELS:,} pixels "
            "on a side. Resize it (for example to 4000×3000) and try again."
        )


def _unidentified_message(label: str, data: bytes) -> str:
    head = data[:64]
    if _is_heif(head):
        return (
            f"{label} is a HEIF/HEIC photo, which is not supported: export it as JPEG or PNG (on an "
            "iPhone: Settings → Camera → Formats → Most Compatible) and try again."
        )
    kind = _sniff_image_kind(data)
    if kind == "GIF" and len(data) >= 10 and (data[6:8] == b"\0\0" or data[8:10] == b"\0\0"):
        return (
            f"{label} declares a width or height of 0 pixels, so it holds no picture. The file is "
            "broken: export it again."
        )
    if kind:
        return (
            f"{label} looks like a {kind} file but its header is damaged, so it cannot be opened. "
            "Export or download it again."
        )
    other = _other_kind_message(head)
    if other:
        return f"{label} {other}"
    return (
        f"{label} is not in an image format the app can read. Use a {SUPPORTED_FORMATS_TEXT} file."
    )


def _is_heif(head: bytes) -> bool:
    if head[4:8] != b"ftyp":
        return False
    brands = {head[i : i + 4] for i in range(8, min(len(head), 32) - 3, 4)}
    return bool(brands & {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}) and not (
        brands & {b"avif", b"avis"}
    )


def _sniff_image_kind(data: bytes) -> str:
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM"):
        return "BMP"
    if head.startswith((b"II*\0", b"MM\0*")):
        return "TIFF"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "AVIF"
    return ""


def _other_kind_message(head: bytes) -> str:
    """What a non-picture file is and the one thing to do instead; "" if it is not recognised."""
    text = head.lstrip().lower()
    readable = f"not a picture the app can read. Use a {SUPPORTED_FORMATS_TEXT} file."
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return f"is a Microsoft Office document, {readable}"
    if head.startswith(b"%PDF"):
        return f"is a PDF document, {readable}"
    if head.startswith(b"PK\x03\x04"):
        return f"is a ZIP archive (or an Office document), {readable}"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return (
            "is a web page (HTML), not a picture. Use the picture's own address or file instead (in "
            "a browser: right-click the picture, then Copy image address or Save image as)."
        )
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "is an SVG drawing, which the app cannot read. Export it as PNG and try again."
    if head.startswith(b"\xff\x0a") or head[4:12] == b"JXL \r\n\x87\n":
        return "is a JPEG XL image, which the app cannot read. Export it as JPEG or PNG and try again."
    if head.startswith(b"8BPS"):
        return "is a Photoshop document, which the app cannot read. Export it as JPEG or PNG and try again."
    return ""


def _frames_note(image: Image.Image, data: bytes) -> str:
    try:
        frames = image_metadata.count_frames(data, image)
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
    exif = image_metadata.png_exif(data) if image.format == "PNG" else None
    value, unreadable = image_metadata.read_orientation(image, exif or image_metadata.exif_block(image))
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


def _fit_within(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if max_side is None or longest <= max_side:
        return size
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


# --- colour ---------------------------------------------------------------------------------

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_WHITE = (255, 255, 255)


_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_SIXTEEN_TO_EIGHT_BITS = np.rint(np.arange(65536) / 257.0).astype(np.uint8)  # a lookup is one pass
_PROFILE_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)


class _Colour:
    """How each band of a picture becomes 8-bit sRGB (or grey), decided once from its mode and profile.

    Every step works pixel by pixel, so converting band by band gives exactly the pixels that
    converting the whole picture would. The exception is 32-bit integer and float grey, whose
    scale depends on the brightest pixel of the whole picture: those bands stay float (mode F),
    are reduced like the others, and are scaled in `finish` once the peak is known.
    """

    def __init__(self, image: Image.Image) -> None:
        mode = image.mode
        icc = image.info.get("icc_profile")
        self._source_mode = mode
        self._transform: ImageCms.ImageCmsTransform | None = None
        self._transform_failed = False
        self._transparent_seen = False
        self._peak = 0.0
        self._profile_note = ""
        self.is_identity = False
        has_alpha = mode in _ALPHA_MODES or (mode in ("P", "L", "RGB", "1") and "transparency" in image.info)

        if mode == "CMYK":
            self._transform = _profile_transform(icc, "CMYK")
            self._step, self.working_mode = self._through_profile, "RGB"
        elif mode.startswith("I;16") or mode in ("I", "F"):
            self._transform = _profile_transform(icc, "L")
            if mode in ("I", "F"):
                self._step, self.working_mode = self._to_float, "F"
            else:
                self._step, self.working_mode = self._grey16_to_l, "RGB" if self._transform else "L"
        elif mode == "P" and "transparency" in image.info:
            self._flat_palette: tuple[bytes, tuple[int, ...]] | None = None  # made from the first band
            self._step, self.working_mode = self._flat_palette_to_rgb, "RGB"
        elif has_alpha:
            self._step, self.working_mode = self._flatten_on_white, "RGB"
        elif mode in ("RGB", "L") and icc and not _is_srgb(icc, mode):
            self._transform = _profile_transform(icc, mode)
            self._step, self.working_mode = self._through_profile, "RGB"
            if mode == "RGB" and self._transform is not None:
                self._profile_note = f"colours converted to sRGB from its {_profile_name(icc)} profile"
        elif mode in ("RGB", "L"):
            self._step, self.working_mode, self.is_identity = _unchanged, mode, True
        else:
            self._step, self.working_mode = _plain_rgb, "RGB"

    def convert(self, band: Image.Image) -> Image.Image:
        return self._step(band)

    def finish(self, reduced: Image.Image) -> Image.Image:
        if reduced.mode != "F":
            return reduced
        values = np.array(reduced, dtype=np.float32)  # one copy, scaled in place
        peak = self._peak
        if self._source_mode == "F":
            values *= 255.0 if peak <= 1.0 else 255.0 / 65535.0 if peak > 255 else 1.0
        elif peak > 255:
            values /= 257.0
        np.clip(np.rint(values, out=values), 0, 255, out=values)
        grey = Image.fromarray(values.astype(np.uint8), "L")
        return self._through_profile(grey) if self._transform else grey

    def notes(self) -> list[str]:
        if self._source_mode == "CMYK":
            converted = self._transform is not None and not self._transform_failed
            return ["CMYK converted to RGB through its colour profile" if converted else "CMYK converted to RGB"]
        if self._profile_note and not self._transform_failed:
            return [self._profile_note]
        return ["transparent areas filled with white"] if self._transparent_seen else []

    def _through_profile(self, band: Image.Image) -> Image.Image:
        if self._transform is not None and not self._transform_failed:
            try:
                return ImageCms.applyTransform(band, self._transform)
            except _PROFILE_ERRORS:
                self._transform_failed = True  # a broken profile: plain conversion is the best we can do
        return band if band.mode == "L" and self.working_mode == "L" else band.convert("RGB")

    def _grey16_to_l(self, band: Image.Image) -> Image.Image:
        """16-bit grey to 8 bits by scaling (v/257, rounded), not clipping as Pillow's convert does."""
        values = np.asarray(band)
        if values.dtype.kind != "u":  # signed 16-bit: below zero is black
            values = np.clip(values, 0, None).astype(np.uint16)
        grey = Image.fromarray(_SIXTEEN_TO_EIGHT_BITS[values], "L")
        return self._through_profile(grey) if self._transform else grey

    def _to_float(self, band: Image.Image) -> Image.Image:
        values = np.nan_to_num(np.asarray(band, dtype=np.float32))
        self._peak = max(self._peak, float(values.max(initial=0.0)))
        # Whatever the scale turns out to be, a pixel ends up clipped to black below 0 and to white
        # above 65535 (or below a lower peak, which no pixel exceeds): clip now, before averaging.
        np.clip(values, 0, 65535, out=values)
        return Image.fromarray(values, "F")

    def _flat_palette_to_rgb(self, band: Image.Image) -> Image.Image:
        """A palette band through the palette already flattened on white: one lookup per pixel."""
        if self._flat_palette is None:
            self._flat_palette = _palette_flattened_on_white(band)
        flat_palette, see_through = self._flat_palette
        if not self._transparent_seen:
            counts = band.histogram()
            self._transparent_seen = any(counts[index] for index in see_through)
        band = band.copy()
        band.info.pop("transparency", None)
        band.putpalette(flat_palette)
        return band.convert("RGB")

    def _flatten_on_white(self, band: Image.Image) -> Image.Image:
        rgba = band.convert("RGBA")
        lowest, highest = rgba.getchannel("A").getextrema()
        if lowest == 255:
            return rgba.convert("RGB")
        self._transparent_seen = True
        if highest == 0:  # all see-through: compositing gives the background itself
            return Image.new("RGB", rgba.size, _WHITE)
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        background.alpha_composite(rgba)
        return background.convert("RGB")


def _palette_flattened_on_white(band: Image.Image) -> tuple[bytes, tuple[int, ...]]:
    """Each palette colour flattened on white exactly as a pixel of it would be, and the indices
    that are not fully opaque."""
    palette_mode = band.palette.mode if band.palette is not None else "RGB"
    indices = Image.frombytes("P", (256, 1), bytes(range(256)))
    indices.putpalette(band.getpalette(palette_mode) or b"", palette_mode)
    indices.info["transparency"] = band.info["transparency"]
    rgba = indices.convert("RGBA")
    background = Image.new("RGBA", rgba.size, _WHITE + (255,))
    background.alpha_composite(rgba)
    alpha = rgba.getchannel("A").tobytes()
    return background.convert("RGB").tobytes(), tuple(i for i, value in enumerate(alpha) if value < 255)


def _unchanged(band: Image.Image) -> Image.Image:
    return band


def _plain_rgb(band: Image.Image) -> Image.Image:
    return band.convert("RGB")


def _profile_transform(icc: bytes | None, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded ICC profile to sRGB; None if there is none usable."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(
            profile, _SRGB_PROFILE, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except _PROFILE_ERRORS:
        return None


def _is_srgb(icc: bytes, mode: str) -> bool:
    if mode != "RGB":
        return False
    try:
        return "srgb" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).lower()
    except _PROFILE_ERRORS:
        return False


def _profile_name(icc: bytes) -> str:
    try:
        name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except _PROFILE_ERRORS:
        return "embedded"
    return name[:40] or "embedded"


# --- encoding ---------------------------------------------------------------------------------


def _encode(picture: Image.Image, lossless_source: bool) -> tuple[str, bytes]:
    """PNG for lossless sources with few colours (graphics stay sharp), JPEG otherwise."""
    picture.info = {}  # nothing from the source file (EXIF, ICC, text) is written out
    buffer = io.BytesIO()
    if lossless_source and picture.getcolors(256) is not None:
        picture.save(buffer, format="PNG", optimize=False)
        return "image/png", buffer.getvalue()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "image/jpeg", buffer.getvalue()


def _make_preview(picture: Image.Image) -> bytes:
    preview = picture
    if max(picture.size) > PREVIEW_SIDE:
        size = _fit_within(picture.size, PREVIEW_SIDE)
        preview = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)  # a fast box reduce first
    buffer = io.BytesIO()
    preview.save(buffer, format="JPEG", quality=PREVIEW_QUALITY)
    return buffer.getvalue()


# --- small helpers ------------------------------------------------------------------------------


def _display_name(name: str) -> str:
    """The name in messages: quoted, URLs without query strings, at most ~80 characters."""
    text = name.strip()
    if not text:
        return "The image"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        text = shorten_url(text, _MESSAGE_NAME_LENGTH)
    elif len(text) > _MESSAGE_NAME_LENGTH:
        text = text[: _MESSAGE_NAME_LENGTH - 1] + "…"
    return f"“{text}”"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
