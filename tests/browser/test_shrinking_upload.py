"""Photos shrunk in the browser before upload: upright, the same as the app's own preparation,
today's messages for what the browser cannot read, and far fewer bytes on the network.

The picker runs alone in tests/browser/picker_app.py, which writes what the app prepared from
each file to a folder, so the test can compare pixels with Pillow's view of the original.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from components.errors import ImageError
from components.images.preparation import prepare_upload
from tests.app_process import UPLOAD_INPUT, settle, start_app, stop_app
from tests.browser.test_app import app_url, predict  # noqa: F401 (fixtures)
from tests.conftest import ARTIFACTS, require_chromium, screenshot

pytestmark = pytest.mark.browser

PICKER_INPUT = ".picker[data-ready] input[data-input]"
UPLOADER_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
# The stored pixels for each Orientation tag: the inverse of what the tag asks a viewer to do.
STORED_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.fixture(scope="module")
def picker(tmp_path_factory):
    """(the picker's address, the folder it writes to)"""
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    out = tmp_path_factory.mktemp("picker")
    try:
        process, url = start_app({"PICKER_OUT": str(out)}, ARTIFACTS / "picker.log", script="tests/browser/picker_app.py")
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url, out
    finally:
        stop_app(process)


@pytest.fixture
def page(browser, picker):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.sent_bytes = 0

    def count_frames(socket):
        socket.on("framesent", lambda payload: setattr(page, "sent_bytes", page.sent_bytes + len(payload)))

    page.on("websocket", count_frames)
    page.goto(picker[0])
    settle(page)
    yield page
    context.close()


def send(page, out: Path, paths: list[Path]) -> None:
    """Chooses the files in the picker and waits until the app has prepared (or refused) each."""
    page.locator(PICKER_INPUT).set_input_files([str(path) for path in paths])
    deadline = time.monotonic() + 120
    while not all(_outcome(out, path.name) for path in paths):
        assert time.monotonic() < deadline, f"not all of {[p.name for p in paths]} arrived"
        time.sleep(0.3)
    settle(page)


def _outcome(out: Path, name: str) -> Path | None:
    return next((path for path in (out / f"{name}.sent", out / f"{name}.problem") if path.exists()), None)


def sent_picture(out: Path, name: str) -> Image.Image:
    assert (out / f"{name}.sent").exists(), (out / f"{name}.problem").read_text() if (out / f"{name}.problem").exists() else name
    return Image.open(out / f"{name}.sent").convert("RGB")


def facts(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    b = b.convert("RGB").resize(a.size, Image.Resampling.LANCZOS)
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def asymmetric_picture(width: int, height: int) -> Image.Image:
    """Smooth colour gradients, different in every corner: any wrong turn or flip shows."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    red = 255 * x * np.ones_like(y)
    green = 255 * y * np.ones_like(x)
    blue = 255 * (1 - x) * y
    pixels = np.stack([red, green, blue], axis=-1)
    pixels[: height // 5, : width // 6] = (250, 250, 30)  # a block near the top left
    return Image.fromarray(pixels.astype(np.uint8))


def oriented_jpeg(path: Path, orientation: int, upright: Image.Image) -> Path:
    stored = upright if STORED_FOR_ORIENTATION[orientation] is None else upright.transpose(STORED_FOR_ORIENTATION[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, "JPEG", quality=95, exif=exif)
    return path


def test_the_stored_pixels_need_their_tag_to_be_upright(tmp_path):
    upright = asymmetric_picture(300, 200)
    for orientation in STORED_FOR_ORIENTATION:
        with Image.open(oriented_jpeg(tmp_path / f"o{orientation}.jpg", orientation, upright)) as stored:
            assert mean_difference(upright, ImageOps.exif_transpose(stored)) < 3
            if orientation != 1:
                assert stored.size != upright.size or mean_difference(upright, stored) > 20


def test_all_eight_orientations_arrive_upright(picker, page, tmp_path):
    _, out = picker
    upright = asymmetric_picture(1600, 1000)
    paths = [oriented_jpeg(tmp_path / f"orientation-{o}.jpg", o, upright) for o in STORED_FOR_ORIENTATION]
    send(page, out, paths)
    for path in paths:
        sent = sent_picture(out, path.name)
        assert sent.size == (1024, 640), path.name
        assert "shrunk in the browser from 1600×1000" in facts(out, path.name)["notes"], path.name
        assert mean_difference(sent, upright) < 4, path.name
    screenshot(page, "picker-orientations")


def test_the_landscape_photos_arrive_upright(picker, page, testdata):
    _, out = picker
    paths = [testdata / "exif" / f"Landscape_{o}.jpg" for o in range(1, 9)]
    if not all(path.exists() for path in paths):
        pytest.skip("the Landscape_*.jpg photos are not in the shared test data")
    send(page, out, paths)
    with Image.open(paths[0]) as first:
        upright = ImageOps.exif_transpose(first).convert("RGB")
    for path in paths:
        sent = sent_picture(out, path.name)
        assert sent.size == (1024, 683), path.name
        assert mean_difference(sent, upright) < 4, path.name


def test_a_transparent_png_is_flattened_as_the_app_does_it(picker, page, tmp_path):
    _, out = picker
    # Grain, so the PNG the browser makes at 1024 px is smaller than the file (else it sends the file).
    grain = np.random.default_rng(3).normal(0, 5, (1200, 1800, 3))
    pixels = np.clip(np.asarray(asymmetric_picture(1800, 1200), dtype=np.float64) + grain, 0, 255)
    picture = Image.fromarray(pixels.astype(np.uint8)).convert("RGBA")
    alpha = np.full((1200, 1800), 255, dtype=np.uint8)
    alpha[300:900, 400:1400] = 0  # a transparent window
    alpha[:, 1500:] = 128  # and a half-transparent strip
    picture.putalpha(Image.fromarray(alpha))
    path = tmp_path / "cut-out.png"
    picture.save(path)
    send(page, out, [path])
    sent = sent_picture(out, path.name)
    direct = prepare_upload(path.name, path.read_bytes())
    assert "shrunk in the browser from 1800×1200" in facts(out, path.name)["notes"]
    assert facts(out, path.name)["mime"] == direct.mime
    assert sent.size == (direct.width, direct.height)
    assert mean_difference(sent, Image.open(io.BytesIO(direct.data))) < 4
    assert sent.getpixel((512, 300)) > (245, 245, 245)  # the window is white, as the app flattens it


def test_what_the_browser_cannot_read_is_sent_as_it_is_with_todays_messages(picker, page, testdata):
    _, out = picker
    tiff, broken = testdata / "formats" / "hopper.tif", testdata / "broken" / "truncated_jpeg.jpg"
    send(page, out, [tiff, broken])
    direct = prepare_upload(tiff.name, tiff.read_bytes())
    assert (out / f"{tiff.name}.sent").read_bytes() == direct.data
    assert not any("browser" in note for note in facts(out, tiff.name)["notes"])
    with pytest.raises(ImageError) as today:
        prepare_upload(broken.name, broken.read_bytes())
    assert (out / f"{broken.name}.problem").read_text() == today.value.message
    main = page.locator('[data-testid="stMain"]')
    assert today.value.message in main.inner_text()
    assert main.get_by_text("sent as is").count() == 2
    screenshot(page, "picker-fallback")


def test_a_file_of_20_mb_is_named_but_not_read(picker, page, tmp_path):
    _, out = picker
    path = tmp_path / "huge.jpg"
    path.write_bytes(b"\xff\xd8\xff" + bytes(21 * 1024 * 1024))
    with pytest.raises(ImageError) as today:
        prepare_upload(path.name, path.read_bytes())
    before = page.sent_bytes
    send(page, out, [path])
    assert (out / f"{path.name}.problem").read_text() == today.value.message
    assert page.sent_bytes - before < 100_000  # the name and size went, not the file


def test_a_12_megapixel_photo_costs_a_tenth_of_its_bytes_on_the_network(picker, page, tmp_path, testdata):
    _, out = picker
    with Image.open(testdata / "photos" / "coffee.png") as photo:
        big = photo.convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS)
    noise = np.random.default_rng(7).normal(0, 6, (3000, 4000, 3))  # a phone sensor's grain
    big = Image.fromarray(np.clip(np.asarray(big, dtype=np.float64) + noise, 0, 255).astype(np.uint8))
    path = tmp_path / "phone-photo.jpg"
    big.save(path, "JPEG", quality=92)
    before = page.sent_bytes
    send(page, out, [path])
    sent_over_network = page.sent_bytes - before
    assert path.stat().st_size > 3_000_000
    assert sent_over_network * 10 <= path.stat().st_size, (sent_over_network, path.stat().st_size)
    assert sent_picture(out, path.name).size == (1024, 768)
    assert facts(out, path.name)["original_size"] == path.stat().st_size


# --- in the app ------------------------------------------------------------------------------------


@pytest.fixture
def app_page(browser, clarifai_server):
    clarifai_server.servicer.reset()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def test_the_upload_tab_shrinks_in_the_browser_until_the_switch_is_turned_off(app_url, app_page, testdata, clarifai_server):  # noqa: F811
    page = app_page
    page.goto(f"{app_url}/Classification")
    settle(page)
    page.locator(PICKER_INPUT).wait_for(state="attached", timeout=30_000)
    assert page.locator(UPLOADER_INPUT).count() == 0
    page.locator(UPLOAD_INPUT).set_input_files([str(testdata / "photos" / "coffee.png"), str(testdata / "exif" / "Landscape_6.jpg")])
    page.get_by_text("2 images chosen").wait_for(timeout=60_000)
    settle(page)
    predict(page)
    sent = [image for call in clarifai_server.servicer.prediction_calls() for image in call.images]
    assert len(sent) == 2
    screenshot(page, "picker-in-the-app")

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Image handling").click()
    sidebar.get_by_text("Shrink photos in the browser").click()
    settle(page)
    page.locator(UPLOADER_INPUT).wait_for(state="attached", timeout=30_000)
    assert page.locator(PICKER_INPUT).count() == 0


def test_a_browser_that_cannot_shrink_gets_the_uploader(app_url, app_page):  # noqa: F811
    page = app_page
    page.add_init_script("delete window.createImageBitmap")
    page.goto(f"{app_url}/Detection")
    settle(page)
    page.locator(UPLOADER_INPUT).wait_for(state="attached", timeout=30_000)
    assert page.locator(PICKER_INPUT).count() == 0
