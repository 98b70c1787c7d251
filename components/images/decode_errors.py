"""Why a file cannot be opened or decoded, said in words: what a file is when it is no picture
the app reads, and one message, with what to do, for each way decoding fails."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from components.errors import ImageError
from components.images import bands
from components.images.limits import SUPPORTED_FORMATS_TEXT, declared_too_large


def too_large_to_decode_message(label: str, image: Image.Image) -> str:
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


@contextmanager
def decoding_problems_explained(label: str, source_format: str) -> Iterator[None]:
    try:
        yield
    except ImageError:
        raise
    except bands.StreamError as error:
        if error.truncated:
            raise ImageError(_cut_off_message(label)) from None
        raise ImageError(_corrupt_message(label, source_format)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise ImageError(bomb_message(label, str(bomb))) from None
    except ValueError as error:
        raise ImageError(value_error_message(label, error)) from None
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


def bomb_message(label: str, text: str) -> str:
    match = _BOMB_PIXELS.search(text)
    declared = f"about {int(match.group(1)) / 1e6:,.0f} megapixels" if match else "a huge size"
    return declared_too_large(label, declared)


def value_error_message(label: str, error: ValueError) -> str:
    if "decompressed data too large" in str(error).lower():
        return (
            f"{label} holds a metadata block that expands to an unsafe size (a decompression "
            "bomb), so it was not opened. Re-save the picture without metadata and try again."
        )
    return f"{label} has invalid image data and cannot be decoded. Export or download it again."


def unidentified_message(label: str, data: bytes) -> str:
    head = data[:64]
    if _is_heif(head):
        return (
            f"{label} is a HEIF/HEIC photo, which is not supported: export it as JPEG or PNG (on an "
            "iPhone: Settings → Camera → Formats → Most Compatible) and try again."
        )
    kind = sniff_image_kind(data)
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


def sniff_image_kind(data: bytes) -> str:
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
