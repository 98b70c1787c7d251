"""Vision-language models in the running app, in headless Chromium: a caption streams onto the page
while the model writes it, and boxes a VLM gives for an EXIF-rotated photo land where it put them.

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
from components.text import plural
from tests.app_process import UPLOAD_INPUT
from tests.browser.test_app import app_url, page, settle  # noqa: F401 (fixtures)
from tests.conftest import screenshot

pytestmark = pytest.mark.browser
QWEN = "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct"


def upload(page, paths) -> None:  # noqa: F811 (the page fixture's value)
    page.locator(UPLOAD_INPUT).set_input_files([str(p) for p in paths])
    page.get_by_text(f"{plural(len(paths), 'image')} chosen").wait_for(timeout=60_000)
    settle(page)


def test_a_vlm_caption_streams_onto_the_page_as_it_is_written(app_url, page, testdata, clarifai_server):  # noqa: F811
    runner = clarifai_server.servicer.runner(QWEN)
    runner.chunk_delay_s = 0.4  # a few words at a time, slowly enough to watch
    page.goto(f"{app_url}/Captioning")
    settle(page)
    upload(page, [testdata / "photos" / "coffee.png"])
    page.get_by_role("button", name=re.compile(r"^Predict 1 image")).click()
    live = page.get_by_text("Answers as they arrive")
    live.wait_for(timeout=30_000)
    partial = page.locator('[data-testid="stMain"]').inner_text()
    screenshot(page, "vlm-caption-streaming")
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    settle(page)
    final = page.locator('[data-testid="stMain"] [data-testid="stText"]').first.inner_text()  # the caption, as plain text
    shown_while_writing = re.search(r"coffee\.png: (.+)▌", partial)
    assert shown_while_writing, "part of the caption was on the page before the model finished"
    assert final.startswith(shown_while_writing.group(1).strip())
    assert len(shown_while_writing.group(1).strip()) < len(final.strip())
    assert clarifai_server.servicer.calls_to("GenerateModelOutputs")


def rotated_photo(tmp_path):
    """A JPEG stored on its side with EXIF orientation 6: shown upright it is 300 wide, 400 high, grey,
    with a red square at x 60–180, y 220–340 (the square's place in the upright picture)."""
    upright = np.full((400, 300, 3), 128, np.uint8)
    upright[220:340, 60:180] = (220, 30, 30)  # RGB red
    stored = np.rot90(upright, k=1)  # orientation 6 means: turn 90° clockwise to show it
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, "JPEG", quality=95, exif=exif)
    return path


def test_vlm_boxes_on_an_exif_rotated_photo_land_where_the_model_put_them(app_url, page, clarifai_server, tmp_path):  # noqa: F811
    page.goto(f"{app_url}/Detection")
    settle(page)
    upload(page, [rotated_photo(tmp_path)])
    page.get_by_role("button", name=re.compile(r"^Predict 1 image")).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    settle(page)
    screenshot(page, "vlm-boxes-exif-rotated")

    [call] = clarifai_server.servicer.prediction_calls()
    sent = Image.open(io.BytesIO(call.images[0]))
    assert sent.size == (300, 400), "the photo went out upright"

    picture = page.locator('[data-testid="stMain"] [data-testid="stImage"] img').last
    drawn = page.request.get(picture.get_attribute("src")).body()
    pixels = cv2.imdecode(np.frombuffer(drawn, np.uint8), cv2.IMREAD_COLOR)
    height, width = pixels.shape[:2]
    assert (width, height) == (300, 400)
    box_color = np.array(color_for("red"), dtype=np.int16)

    near_box_color = np.abs(pixels.astype(np.int16) - box_color).max(axis=2) < 40

    def edge_drawn(rows: slice, cols: slice, along_rows: bool) -> float:
        """The share of the edge's length where the box colour shows within the few pixels across it."""
        band = near_box_color[rows, cols]
        return float(band.any(axis=1 if along_rows else 0).mean())

    # the box's left and right edges run down the square's sides, its bottom along the square's bottom
    assert edge_drawn(slice(230, 330), slice(56, 65), along_rows=True) > 0.9
    assert edge_drawn(slice(230, 330), slice(175, 184), along_rows=True) > 0.9
    assert edge_drawn(slice(336, 345), slice(70, 170), along_rows=False) > 0.9
    # and nothing where the square would be had the photo gone out on its side
    assert not near_box_color[60:180, 220:300].any()
