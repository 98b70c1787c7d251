"""What the browser-shrinking picker does with what arrives: the pieces joined, each file prepared
as an upload, and today's messages. (The component itself runs in tests/browser.)"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from components.errors import ImageError
from components.images.limits import check_file_size
from components.images.preparation import PrepareOptions, prepare_upload
from components.ui.image_picker import Arrival, prepare_arrival, too_big_message


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_file_too_big_to_read_gets_the_uploads_own_message():
    size = 21 * 1024 * 1024
    with pytest.raises(ImageError) as upload:
        check_file_size("“big.tif”", b"\0" * size)
    assert too_big_message("big.tif", size) == upload.value.message
    with pytest.raises(ImageError, match="images must be under 20 MB"):
        prepare_arrival(Arrival("big.tif", "too_big", size), "", PrepareOptions())


def test_a_shrunk_picture_is_prepared_again_and_keeps_the_originals_size_in_its_details():
    data = jpeg(1024, 683)
    prepared = prepare_arrival(Arrival("photo.jpg", "shrunk", 4_000_000, 4032, 3024), base64.b64encode(data).decode(), PrepareOptions())
    direct = prepare_upload("photo.jpg", data)
    assert prepared.data == direct.data  # the same preparation as an upload of those bytes
    assert (prepared.width, prepared.height) == (1024, 683)
    assert prepared.original_size == 4_000_000
    assert prepared.notes[0] == "shrunk in the browser from 4032×3024"


def test_what_the_browser_claims_does_not_get_past_the_limits():
    # "shrunk" is only the browser's word: a picture over the size sent is still reduced.
    data = jpeg(3000, 2000)
    prepared = prepare_arrival(Arrival("claims.jpg", "shrunk", len(data), 100, 100), base64.b64encode(data).decode(), PrepareOptions())
    assert max(prepared.width, prepared.height) == 1024
    with pytest.raises(ImageError, match="arrived damaged"):
        prepare_arrival(Arrival("bad.jpg", "shrunk", 10), "not base64!", PrepareOptions())


def test_an_original_is_prepared_exactly_as_an_upload_with_its_messages():
    with pytest.raises(ImageError) as upload:
        prepare_upload("broken.jpg", b"\xff\xd8\xff garbage")
    with pytest.raises(ImageError) as arrival:
        prepare_arrival(Arrival("broken.jpg", "original", 14), base64.b64encode(b"\xff\xd8\xff garbage").decode(), PrepareOptions())
    assert arrival.value.message == upload.value.message


def _pieces_script():
    import base64
    import io

    import streamlit as st
    from PIL import Image

    from components.images.preparation import PrepareOptions
    from components.ui import state as ui_state
    from components.ui.image_picker import BATCH, take_piece
    from components.ui.inputs import add_prepared

    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(buffer, "PNG")
    text = base64.b64encode(buffer.getvalue()).decode()
    half = len(text) // 2
    about = {"batch": "b1", "count": 3, "size": len(buffer.getvalue()), "type": "image/png"}
    pieces = [
        {**about, "index": 0, "name": "two-parts.png", "kind": "original", "part": 0, "parts": 2, "id": "b1:0:0", "data": text[:half]},
        {**about, "index": 0, "name": "two-parts.png", "kind": "original", "part": 1, "parts": 2, "id": "b1:0:1", "data": text[half:]},
        {**about, "index": 1, "name": "huge.tif", "kind": "too_big", "size": 30 * 1024 * 1024, "part": 0, "parts": 1, "id": "b1:1:0"},
        {**about, "index": 2, "name": "out-of-order.png", "kind": "original", "part": 1, "parts": 2, "id": "b1:2:1", "data": text},
    ]
    for piece in pieces:
        take_piece(piece, PrepareOptions(), add_prepared)
    st.session_state["names"] = [image.name for image in ui_state.images().values()]
    st.session_state["messages"] = [problem.message for problem in ui_state.problems()]
    st.session_state["finished"] = st.session_state[BATCH].finished


def test_pieces_are_joined_into_files_and_each_file_gets_its_own_message(visitors):
    at = AppTest.from_function(_pieces_script).run()
    assert not at.exception
    assert at.session_state["names"] == ["two-parts.png"]
    messages = at.session_state["messages"]
    assert messages[0].startswith("“huge.tif” is 30.0 MB; images must be under 20 MB")
    assert messages[1] == "The file arrived incomplete: add it again."
    assert at.session_state["finished"]
