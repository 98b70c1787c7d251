"""Seven photos' results in the running app, offline, at 1440x900 and on an iPhone 13: a gallery
of annotated thumbnails, four to a row on the desktop and two on the phone, that fits in under
three screens; a thumbnail's button opens its full card. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from tests.app_process import UPLOAD_INPUT, app_running, settle
from tests.conftest import ARTIFACTS, require_chromium, screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHOTOS = 7
MAX_HEIGHT = 3 * DESKTOP["height"] - 3 * 100  # under three screens, with room to spare: 2,700 px
TILES = '[data-testid="stImage"] img'
LONG_NAME = "IMG_20240611_153045_HDR_portrait_mode.jpg"
# Buttons whose label the browser cuts off (an ellipsis drawn by CSS hides the end of the name).
CUT_LABELS = """selector => [...document.querySelectorAll(selector)]
  .filter(b => [...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
  .map(b => b.innerText)"""
MAIN_HEIGHT = "document.querySelector('[data-testid=\"stMain\"]').scrollHeight"


def photo(number: int, width: int, height: int) -> np.ndarray:
    """A photo-like scene: a sky-to-ground gradient, a sun, and a few coloured objects."""
    rows = np.linspace(0, 1, height)[:, None, None]
    sky, ground = np.array([235, 190, 120]), np.array([60, 120, 90])  # BGR
    picture = np.broadcast_to(sky * (1 - rows) + ground * rows, (height, width, 3)).astype(np.uint8).copy()
    noise = np.random.default_rng(number).normal(0, 6, picture.shape)
    picture = np.clip(picture + noise, 0, 255).astype(np.uint8)
    cv2.circle(picture, (width // 5, height // 5), height // 10, (80, 220, 250), -1)
    colours = [(0, 0, 220), (220, 60, 0), (0, 200, 255), (40, 160, 40)]
    for k in range(1 + number % 3):
        x, y = int(width * (0.25 + 0.22 * k)), int(height * (0.55 + 0.08 * (k % 2)))
        cv2.circle(picture, (x, y), int(min(width, height) * 0.09), colours[(number + k) % 4], -1)
    return picture


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    sizes = [(1024, 768), (800, 600), (768, 1024), (1280, 720), (900, 900), (1024, 683), (640, 960)]
    paths = []
    for number, (width, height) in enumerate(sizes[:PHOTOS]):
        name = LONG_NAME if number == 4 else f"photo-{number + 1}.jpg"  # a phone camera's kind of name, too
        path = folder / name
        cv2.imwrite(str(path), photo(number, width, height), [cv2.IMWRITE_JPEG_QUALITY, 88])
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def offline_url():
    """The app with no key and no endpoint: the local models."""
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"CLARIFAI_PAT": "", "CLARIFAI_GRPC_BASE": "", "CLARIFAI_GRPC_INSECURE": ""}
    with app_running(env, ARTIFACTS / "streamlit-gallery.log") as url:
        yield url


def upload_and_predict(page, url: str, address: str, files: list[str]) -> None:
    page.goto(f"{url}/{address}")
    settle(page)
    page.locator(UPLOAD_INPUT).set_input_files(files)
    page.get_by_text(f"{len(files)} images chosen").wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("button", name=re.compile(r"^Predict \d+ images")).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=120_000)
    settle(page)


def tile_rows(page, key: str) -> list[int]:
    """How many thumbnails sit on each row of the gallery, top to bottom."""
    tiles = page.locator(f".st-key-{key}_gallery {TILES}")
    tiles.last.wait_for()
    page.wait_for_function(
        "selector => [...document.querySelectorAll(selector)].every(img => img.complete && img.naturalWidth)",
        arg=f".st-key-{key}_gallery {TILES}",
    )
    tops = [round(tiles.nth(i).bounding_box()["y"]) for i in range(tiles.count())]
    return [tops.count(top) for top in sorted(set(tops))]


def open_card(page, key: str, name: str):
    page.locator(f".st-key-{key}_gallery").get_by_role("button", name=name, exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    settle(page)
    return dialog


@pytest.mark.parametrize(("address", "key"), [("Classification", "classification"), ("Detection", "detection")])
def test_seven_photos_fit_in_under_three_screens_four_to_a_row(browser, offline_url, photo_files, address, key):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        upload_and_predict(page, offline_url, address, photo_files)
        assert tile_rows(page, key) == [4, 3]
        height = page.evaluate(MAIN_HEIGHT)
        screenshot(page, f"gallery-{key}-1440")
        assert height < MAX_HEIGHT, f"{address} with {PHOTOS} photos is {height} px tall"
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "Page" not in main.split("Results", 1)[1].split("\n")[:6], "7 images are one page"

        dialog = open_card(page, key, "photo-3.jpg")
        expect_card(dialog, "photo-3.jpg")
        page.screenshot(path=ARTIFACTS / f"gallery-{key}-1440-card.png")
        if key == "detection":  # a table row picks its box out: the dialog reruns and stays open
            grid = dialog.locator('[data-testid="stDataFrame"]').bounding_box()
            page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 17)  # the first row's checkbox, under the header
            settle(page)
            picture = dialog.locator(TILES)
            picture.and_(page.locator("img[alt*='Picked out']")).wait_for(timeout=30_000)
            assert dialog.is_visible()
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")
        expect_card(open_card(page, key, "photo-7.jpg"), "photo-7.jpg")  # closed, another one opens
    finally:
        context.close()


def expect_card(dialog, name: str) -> None:
    title = [line.strip() for line in dialog.inner_text().splitlines() if line.strip()][:2]  # its icon, then its title
    assert name in title, f"the dialog is titled with the image's name: {title}"
    assert dialog.locator(TILES).count() == 1, "the card's picture"
    assert dialog.locator('[data-testid="stDataFrame"], [data-testid="stVegaLiteChart"], [data-testid="stTabs"]').count()


def test_on_a_phone_the_gallery_is_two_to_a_row(browser, running_playwright, offline_url, photo_files):
    iphone = dict(running_playwright.devices["iPhone 13"])  # its screen, pixel ratio, touch and user agent
    iphone.pop("default_browser_type", None)  # WebKit's phone, played by Chromium here
    context = browser.new_context(**iphone)
    page = context.new_page()
    try:
        upload_and_predict(page, offline_url, "Detection", photo_files)
        assert tile_rows(page, "detection") == [2, 2, 2, 1]
        cut = page.evaluate(CUT_LABELS, ".st-key-detection_gallery button")
        assert not cut, f"file names cut short by the button, not by the app: {cut}"
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= iphone["viewport"]["width"], "nothing wider than the screen"
        screenshot(page, "gallery-detection-phone")
        dialog = open_card(page, "detection", "photo-2.jpg")
        expect_card(dialog, "photo-2.jpg")
        box = dialog.bounding_box()
        assert box["width"] <= iphone["viewport"]["width"]
        page.screenshot(path=ARTIFACTS / "gallery-detection-phone-card.png", full_page=False)
    finally:
        context.close()

