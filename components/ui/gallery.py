"""Many results at a glance: a grid of annotated thumbnails, each with its top answer under it and
a button that opens its full card in a dialog, paged.

Four to a row on a wide screen and two on a phone: each row is two columns, which stack on a
narrow screen, each holding two columns that never stack.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np
import streamlit as st

from components.colors import Color
from components.drawing.thumbnails import on_tile, scaled_to_fit
from components.errors import ImageError
from components.images.preparation import PreparedImage
from components.text import last_path_part, plain, shorten

GALLERY_ABOVE = 3  # more results than this are shown as a gallery, fewer as full cards
PAGE_SIZE = 24  # tiles on a page: 6 rows of 4, 12 of 2 on a phone
TILE_SIZE = (480, 360)  # picture px of a tile (shown about 230 CSS px wide: sharp on a 2x screen)
TILE_JPEG_QUALITY = 82
TILE_NAME_LENGTH = 16  # a file name on a tile's button: what fits on one line at a phone's two to a row
ANSWER_LENGTH = 110  # characters of each answer line under a tile: two or three lines of text
DIALOG_TITLE_LENGTH = 60
LIGHT_TILE, DARK_TILE = "#f0f2f6", "#262730"  # Streamlit's own secondary backgrounds
TILES_KEPT = 2 * PAGE_SIZE  # drawn thumbnails kept per visitor (about 30 KB each)
TILES_STATE = "gallery_tiles"

T = TypeVar("T")


@dataclass(frozen=True)
class Tile:
    """One result as the gallery shows it: the drawn thumbnail (JPEG; None for a picture Clarifai
    fetched itself), what it shows in words, and the top answers as plain text (not markdown)."""

    name: str
    picture: bytes | None
    alt: str
    answers: tuple[str, ...]


def paginate(items: Sequence[T], key: str, page_size: int = PAGE_SIZE) -> Sequence[T]:
    """The items on the page chosen in a page selector, shown with which ones they are
    ("Images 25–48 of 128") only when there is more than one page."""
    pages = max(1, -(-len(items) // page_size))
    if pages == 1:
        return items
    page = st.segmented_control(
        "Page", list(range(1, pages + 1)), default=1, key=f"{key}_page", persist_state="session"
    ) or 1
    first = (page - 1) * page_size
    shown = items[first : first + page_size]
    st.caption(f"Images {first + 1}–{first + len(shown)} of {len(items)}")
    return shown


def show_gallery(count: int, tile: Callable[[int], Tile], open_card: Callable[[int], None], key: str) -> None:
    """Tiles for the results on the chosen page (`tile` makes result `index`'s); its button calls
    `open_card(index)`, after the grid is drawn."""
    indexes = list(paginate(range(count), key))
    opened = None
    with st.container(key=f"{key}_gallery"):
        for start in range(0, len(indexes), 4):
            row = indexes[start : start + 4]
            for half, pair in zip(st.columns(2, gap="small"), (row[:2], row[2:])):
                for cell, index in zip(half.columns(2, gap="small", wrap=False), pair):
                    with cell:
                        if _show_tile(tile(index), f"{key}_open_{index}"):
                            opened = index
    if opened is not None:
        open_card(opened)


def _show_tile(tile: Tile, key: str) -> bool:
    """The thumbnail, a button with the file name that opens the card, and the answers; whether it was pressed."""
    if tile.picture is not None:
        st.image(tile.picture, width="stretch", alt=tile.alt)
    else:
        st.info("Clarifai fetched this image itself.", icon=":material/link:")
    name = shorten(last_path_part(tile.name), TILE_NAME_LENGTH, keep="both")
    pressed = st.button(
        plain(name), key=key, icon=":material/open_in_full:", width="stretch", help=f"Open the full result: {plain(tile.name)}"
    )
    st.caption("  \n".join(plain(shorten(answer, ANSWER_LENGTH)) for answer in tile.answers if answer))
    return pressed


def open_dialog(name: str, body: Callable[[], None]) -> None:
    """A dialog titled with the image's name, showing `body` (a card); widgets in it rerun only the dialog."""
    title = plain(shorten(name, DIALOG_TITLE_LENGTH, keep="end")) or "Result"
    st.dialog(title, width="large", icon=":material/image:")(body)()


def tile_picture(image: PreparedImage, draw: Callable[[np.ndarray], np.ndarray], background: Color) -> bytes | None:
    """The image at tile size with `draw` applied, on a tile of one shape, as JPEG."""
    if image.data is None:
        return None
    drawn = draw(tile_pixels(image))
    ok, encoded = cv2.imencode(".jpg", on_tile(drawn, *TILE_SIZE, background), [cv2.IMWRITE_JPEG_QUALITY, TILE_JPEG_QUALITY])
    if not ok:
        raise ImageError("A thumbnail could not be encoded for display.")
    return encoded.tobytes()


def tile_pixels(image: PreparedImage) -> np.ndarray:
    """The upright picture scaled to fit a tile (read-only: draw on copies)."""
    return _tile_pixels(image.digest, image)


@st.cache_resource(max_entries=TILES_KEPT, show_spinner=False)
def _tile_pixels(digest: str, _image: PreparedImage) -> np.ndarray:
    # Kept by digest, shared by every visitor: the images themselves stay with their sessions.
    pixels = scaled_to_fit(_image.pixels(), *TILE_SIZE)
    pixels.setflags(write=False)
    return pixels


def kept_tile(key: Hashable, held: object, make: Callable[[], bytes | None]) -> bytes | None:
    """`make()` once per `key` for this visitor, the latest TILES_KEPT kept in the session (so
    they go with it). `held` is kept beside each: objects whose ids the key holds stay alive,
    and their ids unique, while it is kept."""
    kept: OrderedDict = st.session_state.setdefault(TILES_STATE, OrderedDict())
    if key in kept:
        kept.move_to_end(key)
        return kept[key][1]
    picture = make()
    kept[key] = (held, picture)
    while len(kept) > TILES_KEPT:
        kept.popitem(last=False)
    return picture


def tile_background() -> Color:
    """The page's secondary background, around a picture whose shape is not the tile's."""
    if st.context.theme.type == "dark":
        return Color.from_hex(DARK_TILE)
    configured = st.get_option("theme.secondaryBackgroundColor")
    try:
        return Color.from_hex(configured or LIGHT_TILE)
    except ValueError:  # a colour written another way than #rrggbb
        return Color.from_hex(LIGHT_TILE)
