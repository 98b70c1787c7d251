"""Facts read from an image file's bytes without decoding pixels: frame count and orientation.

Both are read here rather than through Pillow for two reasons. Pillow counts GIF frames and TIFF
pages by seeking through every one (190,000 one-pixel TIFF pages took 250 s); here the count
stops after `FRAME_COUNT_LIMIT`. And Pillow's `getexif()` reports damaged EXIF blocks through
the process-wide `warnings` machinery (which cannot be silenced for one thread) and, for PNG,
decodes the whole picture first; reading the one Orientation tag needs neither.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

from PIL import Image

__all__ = [
    "FRAME_COUNT_LIMIT",
    "PNG_SIGNATURE",
    "count_frames",
    "exif_block",
    "png_chunks",
    "png_exif",
    "read_orientation",
]

FRAME_COUNT_LIMIT = 1000  # more frames or pages than this are reported as "many"
_GIF_BLOCK_LIMIT = 500_000  # GIF sub-blocks walked at most while counting frames
_ORIENTATION_TAG = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def count_frames(data: bytes, image: Image.Image) -> int | None:
    """Frames (or pages) in the file: exact up to FRAME_COUNT_LIMIT, None for more than that."""
    if image.format == "GIF":
        return _gif_frames(data)
    if image.format == "TIFF":
        return _tiff_pages(data)
    frames = getattr(image, "n_frames", 1)  # PNG, WebP, AVIF, MPO: already read from the header
    return frames if frames <= FRAME_COUNT_LIMIT else None


def _gif_frames(data: bytes) -> int | None:
    if len(data) < 13:
        return 1
    position = 13
    if data[10] & 0x80:  # global colour table
        position += 3 << ((data[10] & 7) + 1)
    frames = 0
    blocks = 0
    while position < len(data):
        introducer = data[position]
        if introducer == 0x21:  # extension: label, then sub-blocks
            position += 2
        elif introducer == 0x2C:  # image descriptor: one frame
            frames += 1
            if frames > FRAME_COUNT_LIMIT or position + 10 > len(data):
                return None if frames > FRAME_COUNT_LIMIT else frames
            flags = data[position + 9]
            position += 10
            if flags & 0x80:  # local colour table
                position += 3 << ((flags & 7) + 1)
            position += 1  # LZW minimum code size
        else:  # trailer, or bytes that are not GIF blocks
            break
        while position < len(data):  # sub-blocks, each led by its length, up to an empty one
            length = data[position]
            position += 1 + length
            blocks += 1
            if length == 0:
                break
            if blocks > _GIF_BLOCK_LIMIT:
                return None if frames >= 2 else max(frames, 1)
    return max(frames, 1)


def _tiff_pages(data: bytes) -> int | None:
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 16:
        return 1
    magic = struct.unpack_from(order + "H", data, 2)[0]
    if magic == 43:  # BigTIFF
        count_format, entry_size, next_format = "Q", 20, "Q"
        offset = struct.unpack_from(order + "Q", data, 8)[0]
    else:
        count_format, entry_size, next_format = "H", 12, "I"
        offset = struct.unpack_from(order + "I", data, 4)[0]
    count_size, next_size = struct.calcsize(count_format), struct.calcsize(next_format)
    pages = 0
    seen: set[int] = set()
    while offset and offset not in seen and offset + count_size <= len(data):
        seen.add(offset)
        pages += 1
        if pages > FRAME_COUNT_LIMIT:
            return None
        entries = struct.unpack_from(order + count_format, data, offset)[0]
        next_at = offset + count_size + entries * entry_size
        if next_at + next_size > len(data):
            break
        offset = struct.unpack_from(order + next_format, data, next_at)[0]
    return max(pages, 1)


# --- PNG chunks -----------------------------------------------------------------------------------


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each complete chunk of a PNG, in order, up to IEND."""
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        start = position + 8
        end = start + length
        if end > len(data):
            yield kind, start, len(data)  # cut off: the reader notices when it runs short
            return
        yield kind, start, end
        if kind == b"IEND":
            return
        position = end + 4  # skip the CRC


def png_exif(data: bytes) -> bytes | None:
    """The eXIf chunk of a PNG wherever it is (Pillow reads one after IDAT only while loading)."""
    for kind, start, end in png_chunks(data):
        if kind == b"eXIf":
            return data[start:end]
    return None


# --- orientation -----------------------------------------------------------------------------------

_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')


def read_orientation(image: Image.Image, exif: bytes | None) -> tuple[int | None, bool]:
    """(the Orientation value or None when absent, whether an EXIF block was there but unreadable).

    `exif` is the raw EXIF block (with or without its "Exif" prefix); without one, a TIFF's own
    first directory and then XMP's `tiff:Orientation` are used, as Pillow's `getexif()` does.
    """
    value: int | None = None
    if exif:
        try:
            value = _orientation_in_exif(exif)
        except (struct.error, ValueError):
            return None, True
    elif hasattr(image, "tag_v2"):
        raw = image.tag_v2.get(_ORIENTATION_TAG)
        value = raw[0] if isinstance(raw, tuple) and raw else raw
    if value is None:
        value = _orientation_in_xmp(image.info)
    try:
        return (None if value is None else int(value)), False
    except (TypeError, ValueError):
        return None, False


def exif_block(image: Image.Image) -> bytes | None:
    """The raw EXIF block Pillow found while opening, including ImageMagick's PNG text form."""
    exif = image.info.get("exif")
    if exif:
        return bytes(exif)
    text = image.info.get("Raw profile type exif")
    if isinstance(text, str):
        try:
            return bytes.fromhex("".join(text.split("\n")[3:]))
        except ValueError:
            return None
    return None


def _orientation_in_exif(exif: bytes) -> int | None:
    data = exif[6:] if exif.startswith(b"Exif\0\0") else exif
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack_from(order + "H", data, 2)[0] != 42:
        raise ValueError("not a TIFF header")
    offset = struct.unpack_from(order + "I", data, 4)[0]
    entries = struct.unpack_from(order + "H", data, offset)[0]
    for index in range(entries):
        entry = offset + 2 + 12 * index
        if entry + 12 > len(data):
            return None  # a directory cut short: what was there had no orientation
        tag, kind, count = struct.unpack_from(order + "HHI", data, entry)
        if tag != _ORIENTATION_TAG or count < 1:
            continue
        if kind == 3:  # SHORT
            return struct.unpack_from(order + "H", data, entry + 8)[0]
        if kind in (4, 9):  # LONG, SLONG
            return struct.unpack_from(order + ("I" if kind == 4 else "i"), data, entry + 8)[0]
        if kind in (1, 6):  # BYTE, SBYTE
            return data[entry + 8]
        return None
    return None


def _orientation_in_xmp(info: dict) -> int | None:
    for key in ("XML:com.adobe.xmp", "xmp"):
        xmp = info.get(key)
        if not xmp:
            continue
        text = xmp.encode("utf-8", "replace") if isinstance(xmp, str) else bytes(xmp)
        match = _XMP_ORIENTATION.search(text)
        if match:
            return int(match.group(1))
    return None
