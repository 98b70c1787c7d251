"""What is sent and shown: the picture re-encoded without metadata (PNG for graphics, JPEG
otherwise) and its small JPEG preview."""

from __future__ import annotations

import io

from PIL import Image

from components.images.limits import fit_within

PREVIEW_SIDE = 512
JPEG_QUALITY = 90
PREVIEW_QUALITY = 80


def encode(picture: Image.Image, lossless_source: bool) -> tuple[str, bytes]:
    """PNG for lossless sources with few colours (graphics stay sharp), JPEG otherwise."""
    picture.info = {}  # nothing from the source file (EXIF, ICC, text) is written out
    buffer = io.BytesIO()
    if lossless_source and picture.getcolors(256) is not None:
        picture.save(buffer, format="PNG", optimize=False)
        return "image/png", buffer.getvalue()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "image/jpeg", buffer.getvalue()


def make_preview(picture: Image.Image) -> bytes:
    preview = picture
    if max(picture.size) > PREVIEW_SIDE:
        size = fit_within(picture.size, PREVIEW_SIDE)
        preview = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)  # a fast box reduce first
    buffer = io.BytesIO()
    preview.save(buffer, format="JPEG", quality=PREVIEW_QUALITY)
    return buffer.getvalue()
