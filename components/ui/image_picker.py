"""The Upload tab's picker that shrinks photos in the visitor's browser before they are sent.

The browser decodes each file upright (EXIF orientation applied), scales it to the size sent and
encodes it (JPEG, or PNG when it has transparency), then sends it here one file, and one piece of
at most 4 MB of base64, per value update; the next piece waits for this side to acknowledge the
last. A file the browser cannot decode (TIFF, HEIF, a broken file) comes as its original bytes,
flagged "original"; one at or over 20 MB is not read at all, only named. Whatever arrives is
prepared by `prepare_upload` like any upload: nothing is trusted because the browser sent it.

AppTest cannot run custom components, and a browser may lack what the picker needs: then the
page uses Streamlit's own uploader (see `inputs`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components.errors import ImageError
from components.images.limits import MAX_IMAGES_PER_RUN, megabytes
from components.images.preparation import PreparedImage, PrepareOptions, prepare_upload
from components.text import plural
from components.ui import state as ui_state
from components.ui.state import ImageProblem

ASSETS = Path(__file__).resolve().parent / "image_picker_assets"
SWITCH = "shrink_in_browser"  # the sidebar's "Shrink photos in the browser"
ON_BY_DEFAULT = True
PICKER_KEY = "browser_picker"
BATCH = "browser_picker_batch"  # the batch of files being received (a PickerBatch)
ACK = "browser_picker_ack"  # the id of the last piece taken, passed back to the browser
UNSUPPORTED = "browser_picker_unsupported"  # True once a browser said it cannot shrink
AddPrepared = Callable[[Sequence[str], Sequence[Callable[[], PreparedImage]]], list[ImageProblem]]
MAX_PIECES = 8  # 8 pieces of 4 MB of base64 hold a file just under 20 MB

_mount = st.components.v2.component(
    "clarifai_demo.image_picker",
    html=(ASSETS / "picker.html").read_text(),
    css=(ASSETS / "picker.css").read_text(),
    js=(ASSETS / "picker.js").read_text(),
)


@dataclass
class PickerBatch:
    """One choice of files in the browser: the pieces of the file arriving, and what was met."""

    batch: str
    pieces: list[str] = dataclasses.field(default_factory=list)
    problems: list[ImageProblem] = dataclasses.field(default_factory=list)
    skipped: int = 0  # files over the per-run limit
    finished: bool = False


@dataclass(frozen=True)
class Arrival:
    """One file as the browser described it; every field is the browser's word, shown only."""

    name: str
    kind: str  # "shrunk" | "original" | "too_big"
    size: int
    original_width: int = 0
    original_height: int = 0


def wanted() -> bool:
    """Whether the picker is shown: switched on, and it can run here."""
    return st.session_state.get(SWITCH, ON_BY_DEFAULT) and available()


def available() -> bool:
    """Whether the picker can run here: a real browser session, whose browser did not refuse it."""
    from streamlit.runtime import Runtime

    # AppTest runs scripts under a stand-in Runtime (a mock), and cannot run custom components.
    real_browser = Runtime.exists() and type(Runtime.instance()) is Runtime
    return real_browser and not st.session_state.get(UNSUPPORTED, False)


@st.fragment
def shrinking_uploader(options: PrepareOptions, hint: str, add: AddPrepared) -> None:
    """The drop zone; a finished batch reruns the whole page, so the new images show."""
    batch: PickerBatch | None = st.session_state.get(BATCH)
    if batch is not None and batch.finished:
        st.session_state.pop(BATCH)
        st.rerun(scope="app")
    if st.session_state.get(UNSUPPORTED, False):  # the page then shows Streamlit's uploader
        st.rerun(scope="app")
    _mount(
        key=PICKER_KEY,
        data={"ack": st.session_state.get(ACK, ""), "max_side": options.max_side, "hint": hint},
        on_piece_change=lambda: take_piece(_piece(), options, add),
        on_unsupported_change=_mark_unsupported,
    )


def _piece() -> object:
    value = st.session_state.get(PICKER_KEY)
    return getattr(value, "piece", None) if value is not None else None


def _mark_unsupported() -> None:
    st.session_state[UNSUPPORTED] = True


def take_piece(piece: object, options: PrepareOptions, add: AddPrepared) -> None:
    """Keeps one piece; with a file's last piece, prepares the file and adds it to the chosen images."""
    if not isinstance(piece, dict):
        return
    st.session_state[ACK] = str(piece.get("id", ""))
    batch_id = str(piece.get("batch", ""))
    batch: PickerBatch | None = st.session_state.get(BATCH)
    if batch is None or batch.batch != batch_id:
        batch = PickerBatch(batch_id)
        st.session_state[BATCH] = batch
    part, parts = _whole(piece.get("part")), _whole(piece.get("parts"))
    if parts < 1 or parts > MAX_PIECES or part != len(batch.pieces):
        batch.pieces.clear()
        batch.problems.append(ImageProblem(_name(piece), "The file arrived incomplete: add it again."))
    else:
        batch.pieces.append(str(piece.get("data") or ""))
        if part == parts - 1:
            text, batch.pieces = "".join(batch.pieces), []
            _take_file(batch, _arrival(piece), text, options, add)
    if _whole(piece.get("index")) >= _whole(piece.get("count")) - 1 and not batch.pieces:
        batch.finished = True
        if batch.skipped:
            batch.problems.insert(0, _over_limit_problem(batch.skipped))
    ui_state.set_problems(batch.problems)


def _take_file(batch: PickerBatch, arrival: Arrival, text: str, options: PrepareOptions, add: AddPrepared) -> None:
    if len(ui_state.images()) >= MAX_IMAGES_PER_RUN:
        batch.skipped += 1
        return
    batch.problems += add([arrival.name], [lambda: prepare_arrival(arrival, text, options)])


def prepare_arrival(arrival: Arrival, text: str, options: PrepareOptions) -> PreparedImage:
    """Prepares what the browser sent exactly as an upload; a shrunk picture keeps the original's
    size in the details, and says it was shrunk by the browser."""
    if arrival.kind == "too_big":
        raise ImageError(too_big_message(arrival.name, arrival.size))
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(f"“{arrival.name}” arrived damaged: add it again.") from None
    prepared = prepare_upload(arrival.name, data, options)
    if arrival.kind != "shrunk":
        return prepared
    notes = prepared.notes
    if (arrival.original_width, arrival.original_height) != (prepared.width, prepared.height):
        notes = (f"shrunk in the browser from {arrival.original_width}×{arrival.original_height}", *notes)
    return dataclasses.replace(prepared, original_size=max(arrival.size, 0), notes=notes)


def too_big_message(name: str, size: int) -> str:
    """The upload's own message for a file at or over 20 MB (`limits.check_file_size`)."""
    label = f"“{name[:79] + '…' if len(name) > 80 else name}”"
    return (
        f"{label} is {megabytes(size)}; images must be under 20 MB. Save a smaller or "
        "more compressed copy (for example a JPEG) and try again."
    )


def _over_limit_problem(skipped: int) -> ImageProblem:
    return ImageProblem(
        plural(skipped, "image"),
        f"Up to {MAX_IMAGES_PER_RUN} images go in one run, so {skipped} were not added. Clear some images first.",
    )


def _arrival(piece: dict) -> Arrival:
    kind = str(piece.get("kind", ""))
    return Arrival(
        name=_name(piece),
        kind=kind if kind in ("shrunk", "original", "too_big") else "original",
        size=_whole(piece.get("size")),
        original_width=_whole(piece.get("original_width")),
        original_height=_whole(piece.get("original_height")),
    )


def _name(piece: dict) -> str:
    return str(piece.get("name") or "image")[:300]


def _whole(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


__all__ = ["ON_BY_DEFAULT", "SWITCH", "wanted", "available", "prepare_arrival", "shrinking_uploader", "take_piece", "too_big_message"]
