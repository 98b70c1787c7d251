"""Decoding a picture a band of rows at a time, so memory follows the band, not the picture.

Pillow decodes a PNG or a TIFF whole, in the file's own mode: 338 MB for a 9200x9200 RGBA or
float picture that arrived as a 300 KB file. libvips (pyvips) reads both formats as a stream
instead: rows are decoded as they are asked for, top to bottom, and only a few are held. Each
band is handed back as a Pillow image in the mode Pillow itself would have decoded the file to
(16-bit colour reduced to its high bytes as Pillow does, a 16-bit grey's tRNS alpha dropped as
Pillow does), so everything after decoding treats a streamed band and a Pillow band alike.

Measured on 9200x9200 files (2 shared cores): 16-bit grey PNG 0.7 s, float32 TIFF 1.6 s,
RGBA PNG 2.1 s, under 100 MB; the same rows through a hand-made PNG unfilterer (zlib + libpng
via OpenCV + Pillow's unpackers) took 4 to 7 s.

Only libvips's PNG and TIFF loaders are used, called by name: libvips's other loaders (SVG,
PDF, ImageMagick...) are never reached, and its "untrusted" operations are blocked.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from types import ModuleType

import numpy as np
from PIL import Image

from components.images.metadata import png_chunks

__all__ = ["StreamError", "decoded_bands", "streamed_bands"]


class StreamError(Exception):
    """libvips could not decode the stream; `truncated` when the data ended early."""

    def __init__(self, message: str, truncated: bool) -> None:
        super().__init__(message)
        self.truncated = truncated


def decoded_bands(image: Image.Image, rows: int) -> Iterator[Image.Image]:
    """Bands of `rows` rows cut from a loaded picture (the last one may be shorter)."""
    for top in range(0, image.height, rows):
        yield image.crop((0, top, image.width, min(top + rows, image.height)))


@functools.cache
def _vips() -> ModuleType | None:
    try:
        import pyvips
    except (ImportError, OSError):  # no libvips here: big PNG and TIFF files are decoded whole
        return None
    pyvips.cache_set_max(0)  # no operation cache: it would keep decoded pictures alive
    pyvips.block_untrusted_set(True)
    return pyvips


# Pillow's mode for the file -> (libvips sample format, bands it may give) -> how to match Pillow.
_UNSIGNED = ("uchar", "ushort")
_SAME_AS_PILLOW = {
    "L": (1, 2),  # 2 when a tRNS chunk added alpha: Pillow keeps it as info["transparency"]
    "LA": (2,),
    "RGB": (3, 4),
    "RGBA": (4,),
    "CMYK": (4,),
}


def streamed_bands(data: bytes, image: Image.Image, rows: int) -> Iterator[Image.Image] | None:
    """Bands of `rows` rows of a PNG or TIFF `image` (opened from `data`, not loaded), streamed.

    Each band has Pillow's mode for the file and its transparency info. None when this file
    cannot be streamed (no libvips, another format, or a mode libvips gives differently).
    Damaged data raises StreamError while iterating.
    """
    pyvips = _vips()
    if pyvips is None or not _streamable_layout(data, image):
        return None
    try:
        if image.format == "PNG":
            picture = pyvips.Image.pngload_buffer(data, access="sequential", fail_on="truncated")
        else:
            picture = pyvips.Image.tiffload_buffer(data, access="sequential", fail_on="truncated", page=0)
    except pyvips.Error:
        return None  # let Pillow say what is wrong with it
    if (picture.width, picture.height) != image.size or picture.format not in _DTYPES:
        return None
    if _samples_kept(image.mode, picture) is None:
        return None
    return _bands(pyvips, picture, image, rows, data)


def _bands(pyvips: ModuleType, picture, image: Image.Image, rows: int, data: bytes) -> Iterator[Image.Image]:
    region = pyvips.Region.new(picture)
    for top in range(0, picture.height, rows):
        count = min(rows, picture.height - top)
        try:
            raw = region.fetch(0, top, picture.width, count)
        except pyvips.Error as error:
            raise StreamError(str(error), truncated=_ends_early(data, image)) from None
        band = _to_pillow(image.mode, picture, raw, count)
        if "transparency" in image.info:
            band.info["transparency"] = image.info["transparency"]
        yield band


# libvips decodes an interlaced PNG, or a TIFF strip or tile, whole before handing out rows.
MAX_BLOCK_BYTES = 16 * 1024 * 1024


def _streamable_layout(data: bytes, image: Image.Image) -> bool:
    """PNG without interlacing; TIFF whose strips or tiles are small once decoded."""
    if image.format == "PNG":
        return len(data) > 28 and data[12:16] == b"IHDR" and data[28] == 0
    if image.format != "TIFF":
        return False
    tags = image.tag_v2
    try:
        bytes_per_pixel = max(1, sum(tags.get(258, (8,))) // 8)
        if 322 in tags:
            block_pixels = int(tags[322]) * int(tags[323])
        else:
            block_pixels = image.width * min(int(tags.get(278, image.height)), image.height)
    except (TypeError, ValueError, KeyError):
        return False
    return block_pixels * bytes_per_pixel <= MAX_BLOCK_BYTES


def _ends_early(data: bytes, image: Image.Image) -> bool:
    """Whether the file stops before its picture data does (libvips says only "read error")."""
    if image.format == "PNG":
        return not any(kind == b"IEND" for kind, _, _ in png_chunks(data))
    tags = getattr(image, "tag_v2", {})
    offsets, counts = tags.get(324) or tags.get(273) or (), tags.get(325) or tags.get(279) or ()
    return any(offset + count > len(data) for offset, count in zip(offsets, counts))


_DTYPES = {"uchar": np.uint8, "ushort": np.uint16, "float": np.float32, "int": np.int32}


def _samples_kept(mode: str, picture) -> int | None:
    """How many of libvips's bands make Pillow's `mode`; None if its pixels cannot make it."""
    sample, bands = picture.format, picture.bands
    if mode in _SAME_AS_PILLOW:
        if sample not in _UNSIGNED or bands not in _SAME_AS_PILLOW[mode]:
            return None
        if mode == "CMYK" and picture.interpretation != "cmyk":
            return None
        return len(mode)
    if mode.startswith("I;16"):
        return 1 if sample == "ushort" and bands in (1, 2) else None  # 2: tRNS alpha, which Pillow ignores
    if mode in ("I", "F"):
        return 1 if bands == 1 and sample == ("int" if mode == "I" else "float") else None
    return None


def _to_pillow(mode: str, picture, raw: bytes, rows: int) -> Image.Image:
    """`rows` rows of libvips pixels as Pillow would have decoded them."""
    width = picture.width
    pixels = np.frombuffer(raw, _DTYPES[picture.format]).reshape(rows, width, picture.bands)
    pixels = pixels[..., : _samples_kept(mode, picture)]
    if mode.startswith("I;16") or mode in ("I", "F"):
        return Image.fromarray(np.ascontiguousarray(pixels[..., 0]))  # uint16, int32, float32
    if picture.format == "ushort":  # Pillow keeps the high byte of 16-bit colour
        pixels = (pixels >> 8).astype(np.uint8)
    return Image.frombytes(mode, (width, rows), np.ascontiguousarray(pixels).tobytes())
