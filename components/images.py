"""Turn an upload or a URL into the picture that is sent to Clarifai and drawn on.

One path for every input: check the size limits from the file header, decode (shrinking while
decoding when the picture is larger than needed), convert to sRGB, flatten transparency onto
white, turn the picture upright from its EXIF orientation, and re-encode without metadata.
What is sent (`data`) and what is drawn on (`pixels()`) are then the same upright picture.

Why 1024 px by default: Clarifai's image models work on inputs of at most about 1024 px (they
resize larger ones themselves), boxes and masks come back as fractions of the image so they
land right at any size, and a 12 MP photo goes from ~4.7 MB to ~190 KB per request.
`PrepareOptions(max_side=None)` keeps the full size (still upright and metadata-free).
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from components.errors import ImageError
from components.url_fetch import (
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
                "Clarifai downloads this image itself: the app did not download it, so it cannot "
                "turn it upright from its EXIF orientation or draw boxes and masks on it",
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
    with _decompression_bombs_refused(label):
        image = _open(label, data)
        source_format = image.format or ""
        stored_size = image.size
        _check_pixel_count(label, *stored_size)
        frames_note = _frames_note(image)
        target = _fit_within(stored_size, max_side)
        if target != stored_size and source_format in ("JPEG", "MPO"):
            image.draft(None, target)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below target
        _load(label, image, source_format)
        # Read after load: for some formats (PNG) reading EXIF loads the whole image.
        orientation, exif_note = _read_orientation(image)
        notes = [note for note in (frames_note, exif_note) if note]
        picture = _to_rgb(image, notes)

    if picture.size != target:
        picture = picture.resize(target, _DOWNSCALE_FILTER, reducing_gap=2.0)
    picture = _turn_upright(picture, orientation, notes)
    upright_size = stored_size if orientation < 5 else stored_size[::-1]
    return _Decoded(picture, source_format, upright_size, tuple(notes))


# Pillow signals an oversized image with DecompressionBombWarning (and only raises above twice
# its limit). Turning that warning into an error needs the process-wide warnings filters, which
# `catch_warnings` swaps in and out; the lock keeps two of our own decodes from interleaving
# those swaps. Pillow's global MAX_IMAGE_PIXELS is never touched.
_WARNINGS_LOCK = threading.Lock()
_BOMB_PIXELS = re.compile(r"Image size \((\d+) pixels\)")


@contextmanager
def _decompression_bombs_refused(label: str) -> Iterator[None]:
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. "Corrupt EXIF data": handled below
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            match = _BOMB_PIXELS.search(str(bomb))
            declared = f"about {int(match.group(1)) / 1e6:,.0f} megapixels" if match else "a huge size"
            raise ImageError(
                f"{label} declares {declared}, more than the {MAX_PIXELS // 1_000_000}-megapixel "
                "limit (files like this can exhaust memory), so it was not decoded. Resize it to at "
                "most 85 megapixels (for example 4000×3000) and try again."
            ) from None


def _open(label: str, data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=_PILLOW_OPENERS)
    except UnidentifiedImageError:
        raise ImageError(_unidentified_message(label, data)) from None
    except ValueError as error:
        raise ImageError(_value_error_message(label, error)) from None
    except (OSError, SyntaxError, EOFError, IndexError, TypeError, ZeroDivisionError):
        kind = _sniff_image_kind(data)
        raise ImageError(
            f"{label} looks like a {kind or 'picture'} file but its header is damaged, so it "
            "cannot be opened. Export or download it again."
        ) from None


def _load(label: str, image: Image.Image, source_format: str) -> None:
    try:
        image.load()
    except ValueError as error:
        raise ImageError(_value_error_message(label, error)) from None
    except (OSError, SyntaxError, EOFError, IndexError, TypeError, ZeroDivisionError, KeyError) as error:
        if "truncated" in str(error).lower():
            raise ImageError(
                f"{label} is cut off: the file ends before the picture does (an incomplete "
                "download or copy). Get the complete file and try again."
            ) from None
        raise ImageError(
            f"{label} has corrupt {source_format or 'image'} data and cannot be decoded. "
            "Export or download it again."
        ) from None


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
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{label} is {width}×{height} pixels ({width * height / 1e6:,.0f} megapixels); images "
            f"can have at most {MAX_PIXELS // 1_000_000} megapixels. Resize it (for example to "
            "4000×3000) and try again."
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
    other = _sniff_other_kind(head)
    if other:
        return f"{label} is {other}, not a picture the app can read. Use a {SUPPORTED_FORMATS_TEXT} file."
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


def _sniff_other_kind(head: bytes) -> str:
    text = head.lstrip().lower()
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "a Microsoft Office document"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or an Office document)"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return (
            "a web page (HTML); for a URL, use the image's own address "
            "(right-click the image, Copy image address)"
        )
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "an SVG drawing, which is not supported: export it as PNG"
    if head.startswith(b"\xff\x0a") or head[4:12] == b"JXL \r\n\x87\n":
        return "a JPEG XL image, which is not supported: export it as JPEG or PNG"
    if head.startswith(b"8BPS"):
        return "a Photoshop document, which is not supported: export it as JPEG or PNG"
    return ""


def _frames_note(image: Image.Image) -> str:
    try:
        frames = getattr(image, "n_frames", 1)  # seeks through every frame (TIFF: every page)
    except Exception:  # a damaged later frame or page must not stop the first one
        try:
            image.seek(0)
        except Exception:
            pass  # the load that follows reports the damage as an ImageError
        return ""
    if frames <= 1:
        return ""
    unit = "page" if image.format == "TIFF" else "frame"
    return f"first {unit} of {frames}"


_ORIENTATION_TAG = 0x0112
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


def _read_orientation(image: Image.Image) -> tuple[int, str]:
    """The EXIF orientation (1 when absent, 0, invalid or unreadable) and a note if unreadable."""
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a damaged EXIF block must never stop the picture itself
        return 1, "EXIF data unreadable; treated as upright"
    if isinstance(value, tuple):
        value = value[0] if value else 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 1, ""
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


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """8-bit sRGB without alpha, from any mode Pillow gives."""
    mode = image.mode
    icc = image.info.get("icc_profile")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    )

    if mode == "CMYK":
        converted = _through_profile(image, icc)
        notes.append(
            "CMYK converted to RGB through its colour profile" if converted else "CMYK converted to RGB"
        )
        return converted or image.convert("RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        image = _high_depth_grey_to_l(image)
        mode = "L"
    if has_alpha:
        return _flatten_on_white(image, notes)
    if mode in ("RGB", "L") and icc:
        converted = _through_profile(image, icc)
        if converted is not None:
            if mode == "RGB" and converted is not image:
                notes.append(f"colours converted to sRGB from its {_profile_name(icc)} profile")
            return converted
    if mode == "RGB":
        return image
    return image.convert("RGB")


def _through_profile(image: Image.Image, icc: bytes | None) -> Image.Image | None:
    """`image` converted to sRGB through its embedded ICC profile; None if it has none usable."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return image  # already sRGB
        return ImageCms.profileToProfile(
            image, profile, _SRGB_PROFILE, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken profile: plain conversion is the best we can do


def _profile_name(icc: bytes) -> str:
    try:
        name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return "embedded"
    return name[:40] or "embedded"


def _high_depth_grey_to_l(image: Image.Image) -> Image.Image:
    """16-bit or float grey to 8 bits by scaling, not clipping (Pillow's convert clips at 255)."""
    values = np.asarray(image)
    if image.mode == "F":
        values = np.nan_to_num(values.astype(np.float64))
        peak = float(values.max(initial=0.0))
        scaled = values * 255.0 if peak <= 1.0 else values * (255.0 / 65535.0 if peak > 255 else 1.0)
    else:
        values = values.astype(np.float64)
        peak = float(values.max(initial=0.0))
        scaled = values / 257.0 if (image.mode != "I" or peak > 255) else values
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def _flatten_on_white(image: Image.Image, notes: list[str]) -> Image.Image:
    rgba = image.convert("RGBA")
    lowest_alpha = rgba.getchannel("A").getextrema()[0]
    if lowest_alpha == 255:
        return rgba.convert("RGB")
    notes.append("transparent areas filled with white")
    background = Image.new("RGBA", rgba.size, _WHITE + (255,))
    background.alpha_composite(rgba)
    return background.convert("RGB")


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
