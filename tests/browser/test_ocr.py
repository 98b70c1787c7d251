"""Text in the picture, in headless Chromium against the local Clarifai server: a photo of printed
text stored on its side (EXIF orientation 6) is read upright by the default model (DeepSeek-OCR,
which reads the pixels it receives), the text is on the page as selectable text, and each line's
box is drawn where the line is.

Screenshots are saved to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
import pytest
from PIL import Image

from components.colors import color_for
from components.results import TEXT_CONCEPT
from tests import ocr_engine
from tests.app_process import UPLOAD_INPUT
from tests.browser.test_app import app_url, page, predict, settle  # noqa: F401 (fixtures)
from tests.conftest import require_tesseract, screenshot
from tests.helpers import scene_with_text

pytestmark = pytest.mark.browser
LINES = ("PLATFORM 4", "Grand Central 10:42")


def sideways_sign(tmp_path) -> tuple[np.ndarray, object]:
    """The upright picture (RGB, 600 wide, 450 high) and a JPEG of it stored on its side with EXIF
    orientation 6, as a phone held sideways saves it."""
    upright = cv2.cvtColor(scene_with_text(LINES, 600, 450), cv2.COLOR_BGR2RGB)
    stored = np.rot90(upright, k=1)  # orientation 6 means: turn 90° clockwise to show it
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sign-sideways.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, "JPEG", quality=95, exif=exif)
    return upright, path


def test_text_read_from_a_sideways_photo_is_on_the_page_and_its_lines_are_boxed_in_place(
    app_url, page, clarifai_server, tmp_path  # noqa: F811
):
    require_tesseract()
    upright, path = sideways_sign(tmp_path)
    page.goto(f"{app_url}/Text")
    settle(page)
    page.locator(UPLOAD_INPUT).set_input_files([str(path)])
    page.get_by_text("1 image chosen").wait_for(timeout=60_000)
    settle(page)
    predict(page)
    screenshot(page, "ocr-sideways-sign")

    [call] = clarifai_server.servicer.prediction_calls()
    assert Image.open(io.BytesIO(call.images[0])).size == (600, 450), "the photo went out upright"

    # The text, whole, as plain page text (not a code box) a visitor can select and copy.
    boxed = page.locator('[data-testid="stMain"] [data-testid="stCode"]').filter(has_text=LINES[0], visible=True)
    assert not boxed.count(), "the text read is not in a code box"
    block = page.locator('[data-testid="stMain"] [data-testid="stText"]').first
    selected = block.evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            return selection.toString();
        }"""
    )
    assert [line.strip() for line in selected.strip().splitlines()] == list(LINES)
    assert re.search(r"2 lines, 5 words read", page.locator('[data-testid="stMain"]').inner_text())

    # Each line's box where the line is in the upright picture (as the test's own reading finds it).
    upright_png = io.BytesIO()
    Image.fromarray(upright).save(upright_png, "PNG")
    expected = ocr_engine.read_lines(upright_png.getvalue())
    assert [line.text for line in expected] == list(LINES)
    picture = page.locator('[data-testid="stMain"] [data-testid="stImage"] img').last
    drawn = cv2.imdecode(np.frombuffer(page.request.get(picture.get_attribute("src")).body(), np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape[:2] == (450, 600)
    near_box_color = np.abs(drawn.astype(np.int16) - np.array(color_for(TEXT_CONCEPT), np.int16)).max(axis=2) < 40
    for line in expected:
        x0, y0, x1, y1 = line.box
        above = near_box_color[max(0, y0 - 12) : y0 + 3, x0 + 5 : x1 - 5].any(axis=0).mean()
        below = near_box_color[y1 - 3 : y1 + 12, x0 + 5 : x1 - 5].any(axis=0).mean()
        assert above > 0.9 and below > 0.9, f"the box of {line.text!r} runs along its top and bottom"
    # and no box where the lines would be had the photo gone out on its side
    assert not near_box_color[:, 500:].any()
