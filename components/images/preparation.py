"""Turn an upload or a URL into the picture that is sent to Clarifai and drawn on.

One path for every input: check the size limits from the file header, decode a band of rows at
a time (or shrinking while decoding, for JPEG), convert each band to sRGB, flatten transparency
onto white, reduce, turn the picture upright from its EXIF orientation, and re-encode without
metadata. What is sent (`data`) and what is drawn on (`pixels()`) are then the same upright
picture, and the memory it takes follows the picture sent, not the file (see "decoding within a
memory bound" in `decoding`). Nothing here holds a lock: preparations run side by side.

Why 1024 px by default: Clarifai's image models work on inputs of at most about 1024 px (they
resize larger ones themselves), boxes and masks come back as fractions of the image so they
land right at any size, and a 12 MP photo goes from ~4.7 MB to ~190 KB per request.
`PrepareOptions(max_side=None)` keeps the full size (still upright and metadata-free).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from components.errors import ImageError
from components.images.decoding import decode, picture_size
from components.images.encoding import encode, make_preview
from components.images.limits import LOSSLESS_FORMATS, MAX_IMAGES_PER_RUN, check_file_size, fit_within, megabytes
from components.images.url_fetch import (
    MAX_FILE_BYTES,
    UrlRefusedError,
    check_url_for_clarifai,
    check_url_syntax,
    fetch_image_url,
    shorten_url,
)
from components.memory import WORKING_MEMORY

DEFAULT_MAX_SIDE = 1024
_MESSAGE_NAME_LENGTH = 80

__all__ = [
    "DEFAULT_MAX_SIDE",
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
    if options.clarifai_fetches_urls:
        url = check_url_for_clarifai(url)
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
    url = check_url_syntax(url)
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


def _prepare_bytes(name: str, data: bytes, options: PrepareOptions, source: str, url: str) -> PreparedImage:
    label = _display_name(name)
    check_file_size(label, data)
    with WORKING_MEMORY.hold(preparation_bytes(data, options.max_side)):
        return _prepare_checked(name, label, data, options, source, url)


def preparation_bytes(data: bytes, max_side: int | None) -> int:
    """About the most memory preparing `data` takes: the file twice over, the picture at the size
    sent a few times, and the bands decoded on the way (measured: a 3 MB, 12 MP phone JPEG peaks
    near 15 MB; at full size near 47 MB)."""
    width, height = fit_within(picture_size(data) or (0, 0), max_side)
    return 2 * len(data) + 4 * width * height + 8 * 1024 * 1024


def _prepare_checked(name: str, label: str, data: bytes, options: PrepareOptions, source: str, url: str) -> PreparedImage:
    decoded = decode(label, data, options.max_side)
    picture = decoded.picture
    notes = list(decoded.notes)

    if picture.size != decoded.upright_size:
        (w0, h0), (w1, h1) = decoded.upright_size, picture.size
        notes.append(f"downscaled from {w0}×{h0} to {w1}×{h1}")

    mime, encoded = encode(picture, lossless_source=decoded.source_format in LOSSLESS_FORMATS)
    if len(encoded) >= MAX_FILE_BYTES:  # Clarifai: under 20 MB
        raise ImageError(
            f"{label} is still {megabytes(len(encoded))} after re-encoding at full size; images "
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
        preview=make_preview(picture),
        original_size=len(data),
        url=url,
        notes=tuple(notes),
        source_format=decoded.source_format,
    )


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
