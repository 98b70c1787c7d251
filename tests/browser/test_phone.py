"""The running app on a 390x844 phone (and a 1440x900 desktop), offline and against the local Clarifai server.

What a phone visitor meets: the sidebar closes once a page is chosen, nothing is wider than the
screen, chosen images sit in a compact grid in the order chosen, and a reload keeps them.
Screenshots are saved to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.navigation import COMPARE, PAGES
from components.text import plural
from tests.app_process import UPLOAD_INPUT, settle, start_app, stop_app
from tests.conftest import ARTIFACTS, TEST_KEY, require_chromium, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
# What a phone's browser says it is: Streamlit closes the sidebar after navigation on mobile devices.
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
PAGE_ADDRESSES = tuple(page.url_path for page in PAGES if page is not COMPARE)  # Compare has its own test
TWO_PHOTOS = ("photos/coffee.png", "exif/Landscape_6.jpg")
SIX_PHOTOS = (
    "photos/astronaut.png", "photos/chelsea.png", "photos/coffee.png",
    "photos/metro-north.jpg", "photos/red-truck.png", "exif/Landscape_6.jpg",
)
SIDEBAR = '[data-testid="stSidebar"]'
THUMBNAILS = ".st-key-chosen_thumbnails"

# Elements reaching past the right edge of the screen, other than those inside something that
# scrolls sideways on its own (a table, a code block).
OVERFLOW = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const scrolls = el => { for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if ((x === 'auto' || x === 'scroll') && a.getBoundingClientRect().right <= innerWidth + 1) return true; }
    return false; };
  const wide = [...main.querySelectorAll('*')].filter(el => { const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > innerWidth + 1 && !scrolls(el); })
    .slice(0, 5).map(el => `${el.tagName}.${el.getAttribute('data-testid') || ''} `
                           + `right=${Math.round(el.getBoundingClientRect().right)}`);
  return {page: document.scrollingElement.scrollWidth, main: main.scrollWidth, mainWidth: main.clientWidth,
          screen: innerWidth, wide};
}"""


def _app(env: dict[str, str], name: str):
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"streamlit-{name}.log"
    try:
        process, url = start_app(env, log)
    except RuntimeError as error:
        pytest.fail(str(error))
    return process, url, log


@pytest.fixture(scope="module")
def offline_url():
    """The app with no key and no endpoint: the offline models."""
    env = {"CLARIFAI_PAT": "", "CLARIFAI_GRPC_BASE": "", "CLARIFAI_GRPC_INSECURE": ""}
    process, url, _ = _app(env, "phone-offline")
    yield url
    stop_app(process)


@pytest.fixture(scope="module")
def online_url(clarifai_server):
    """The app against the local Clarifai server, with an owner key."""
    env = {"CLARIFAI_GRPC_BASE": clarifai_server.address, "CLARIFAI_GRPC_INSECURE": "true", "CLARIFAI_PAT": TEST_KEY}
    process, url, log = _app(env, "phone-online")
    yield url
    stop_app(process)
    assert TEST_KEY not in log.read_text(), "the key appeared in the app's log"


def _context(browser, viewport=PHONE):
    if viewport["width"] < 600:
        return browser.new_context(viewport=viewport, user_agent=PHONE_AGENT, is_mobile=True, has_touch=True)
    return browser.new_context(viewport=viewport)


@pytest.fixture
def phone(browser, clarifai_server):
    clarifai_server.servicer.reset()
    context = _context(browser)
    yield context.new_page()
    context.close()


def open_address(page, url: str, address: str) -> None:
    page.goto(f"{url}/{address}")
    settle(page)


def upload(page, testdata, files) -> None:
    page.locator(UPLOAD_INPUT).set_input_files([str(testdata / f) for f in files])
    page.get_by_text(f"{plural(len(files), 'image')} chosen").wait_for(timeout=60_000)
    settle(page)


def predict_if_possible(page) -> None:
    button = page.get_by_role("button", name=re.compile(r"^Predict \d+ images?"))
    if button.count() and button.is_enabled():
        button.click()
        page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
        settle(page)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def sidebar_collapsed(page) -> bool:
    return page.locator(SIDEBAR).get_attribute("data-collapsed") == "true"


# --- the sidebar on a phone ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["Detection", "All tasks", "Home"])
def test_on_a_phone_the_sidebar_closes_once_a_page_is_chosen(online_url, phone, target):
    open_address(phone, online_url, "Segmentation")
    assert sidebar_collapsed(phone), "a phone opens on the page, not the sidebar"
    phone.get_by_test_id("stExpandSidebarButton").click()
    phone.wait_for_timeout(400)
    assert not sidebar_collapsed(phone)
    phone.locator(f'{SIDEBAR} [data-testid="stSidebarNav"]').get_by_role("link", name=target, exact=True).click()
    settle(phone)
    assert target.replace(" ", "_") in phone.url or target == "Home"
    assert sidebar_collapsed(phone), "the page is in view, not the sidebar over it"
    box = phone.locator(SIDEBAR).bounding_box()
    assert box is None or box["x"] + box["width"] <= 1, box


# --- nothing wider than the screen -----------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
@pytest.mark.parametrize("backend", ["offline", "online"])
def test_no_page_is_wider_than_the_screen(request, browser, clarifai_server, testdata, backend, viewport):
    url = request.getfixturevalue(f"{backend}_url")
    clarifai_server.servicer.reset()
    context = _context(browser, viewport)
    page = context.new_page()
    try:
        for address in PAGE_ADDRESSES:
            open_address(page, url, address)
            if address and not re.search(r"\d+ images? chosen", main_text(page)):
                upload(page, testdata, TWO_PHOTOS)
            if address:
                predict_if_possible(page)
            measured = page.evaluate(OVERFLOW)
            name = f"{backend}-{address or 'Home'}-{viewport['width']}"
            screenshot(page, f"overflow-{name}")
            assert measured["page"] <= measured["screen"], (name, measured)
            assert measured["main"] <= measured["mainWidth"], (name, measured)
            assert not measured["wide"], (name, measured)
    finally:
        context.close()


# --- chosen images on a phone ----------------------------------------------------------------------


def test_chosen_images_are_a_compact_grid_in_the_order_chosen(offline_url, phone, testdata):
    open_address(phone, offline_url, "Classification")
    for count, file in enumerate(SIX_PHOTOS, start=1):  # one at a time, so the order chosen is known
        phone.locator(UPLOAD_INPUT).set_input_files(str(testdata / file))
        phone.get_by_text(f"{plural(count, 'image')} chosen").wait_for(timeout=60_000)
        settle(phone)
    tiles = phone.locator(f"{THUMBNAILS} [data-testid='stCaptionContainer']")
    assert tiles.count() == len(SIX_PHOTOS)
    boxes = [tiles.nth(i).bounding_box() for i in range(tiles.count())]
    names = [tiles.nth(i).inner_text() for i in range(tiles.count())]
    reading_order = sorted(range(len(boxes)), key=lambda i: (round(boxes[i]["y"]), boxes[i]["x"]))
    expected = [Path(file).stem[:5] for file in SIX_PHOTOS]
    assert [names[i][:5] for i in reading_order] == expected, "left to right, then down, as chosen"
    rows = sorted({round(box["y"]) for box in boxes})
    assert len(rows) <= 2, f"three or more to a row on a phone, not one: rows at {rows}"
    grid = phone.locator(THUMBNAILS).bounding_box()
    assert grid["height"] < 320, grid
    predict = phone.get_by_role("button", name=re.compile(r"^Predict 6 images"))
    top = predict.evaluate(
        "b => b.getBoundingClientRect().top + document.querySelector('[data-testid=\"stMain\"]').scrollTop"
    )
    assert top < 2 * PHONE["height"], f"Predict is {top:.0f} px down the page"
    screenshot(phone, "phone-thumbnail-grid")


# --- a reload ---------------------------------------------------------------------------------------


def test_a_reload_or_an_address_keeps_the_images_and_results_but_another_browser_starts_afresh(
    online_url, browser, phone, testdata
):
    open_address(phone, online_url, "Detection")
    upload(phone, testdata, TWO_PHOTOS)
    predict_if_possible(phone)
    assert "2 with results" in main_text(phone)

    phone.reload()
    settle(phone)
    text = main_text(phone)
    assert "2 images chosen" in text and "2 with results" in text, "a reload keeps images and results"
    open_address(phone, online_url, "Segmentation")  # a page opened by its address
    assert "2 images chosen" in main_text(phone)
    open_address(phone, online_url, "")
    assert "Your latest result" in main_text(phone), "the home page opens on the visitor's own result"
    screenshot(phone, "phone-home-after-reload")

    other = _context(browser)
    try:
        stranger = other.new_page()
        open_address(stranger, online_url, "Detection")
        assert "No images yet" in main_text(stranger), "another browser never sees them"
    finally:
        other.close()
