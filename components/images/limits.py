"""The limits on the images taken and the formats read, the checks that refuse a file over a
limit before any pixel is decoded, and the size a picture is fitted to within a longest side."""

from __future__ import annotations

from typing import NamedTuple

from PIL import Image

from components.errors import ImageError
from components.images.url_fetch import MAX_FILE_BYTES

MAX_IMAGES_PER_RUN = 128
MAX_PIXELS = 85_000_000  # Clarifai's limit per image
# Longest side taken (JPEG's own limit): it keeps a band of rows, which must hold a whole number
# of the rows reduced into one, to a few megabytes even for the thinnest strip of a picture.
MAX_SIDE_PIXELS = 65_535


class ImageFormat(NamedTuple):
    """A format the app reads: its name as people write it (Pillow's in capitals), its file extensions."""

    name: str
    extensions: tuple[str, ...]


SUPPORTED_FORMATS = (
    ImageFormat("JPEG", ("jpg", "jpeg")),
    ImageFormat("PNG", ("png",)),
    ImageFormat("WebP", ("webp",)),
    ImageFormat("BMP", ("bmp",)),
    ImageFormat("TIFF", ("tif", "tiff")),
    ImageFormat("GIF", ("gif",)),
    ImageFormat("AVIF", ("avif",)),
    ImageFormat("MPO", ("mpo",)),
)
SUPPORTED_FORMAT_NAMES = tuple(f.name for f in SUPPORTED_FORMATS)
SUPPORTED_FORMATS_TEXT = f"{', '.join(SUPPORTED_FORMAT_NAMES[:-1])} or {SUPPORTED_FORMAT_NAMES[-1]}"
SUPPORTED_EXTENSIONS = tuple(extension for f in SUPPORTED_FORMATS for extension in f.extensions)
PILLOW_OPENERS = tuple(name.upper() for name in SUPPORTED_FORMAT_NAMES if name != "MPO")  # JPEG's opener also reads MPO
LOSSLESS_FORMATS = {"PNG", "GIF", "BMP", "TIFF"}


def check_file_size(label: str, data: bytes) -> None:
    if not data:
        raise ImageError(
            f"{label} is empty (0 bytes). Choose the file again; if it is still empty, the copy "
            "on your device is broken."
        )
    if len(data) >= MAX_FILE_BYTES:  # "under 20 MB": exactly 20 MB is refused too
        raise ImageError(
            f"{label} is {megabytes(len(data))}; images must be under 20 MB. Save a smaller or "
            "more compressed copy (for example a JPEG) and try again."
        )


def check_pixel_count(label: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{label} declares a size of {width}×{height} pixels, so it holds no picture.")
    pixels = width * height
    if Image.MAX_IMAGE_PIXELS is not None and pixels > Image.MAX_IMAGE_PIXELS:  # Pillow's bomb limit
        raise ImageError(declared_too_large(label, f"about {pixels / 1e6:,.0f} megapixels"))
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


def declared_too_large(label: str, declared: str) -> str:
    return (
        f"{label} declares {declared}, more than the {MAX_PIXELS // 1_000_000}-megapixel "
        "limit (files like this can exhaust memory), so it was not decoded. Resize it to at "
        "most 85 megapixels (for example 4000×3000) and try again."
    )


def fit_within(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if max_side is None or longest <= max_side:
        return size
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
