"""The running app in headless Chromium, against the local Clarifai server.

Screenshots are saved to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.app_process import UPLOAD_INPUT, app_running, settle
from tests.conftest import ARTIFACTS, TEST_KEY, require_chromium, screenshot

pytestmark = pytest.mark.browser

TASK_PAGES = {
    "Classification": "landscape",  # a concept the local server returns for the upright photo
    "Detection": re.compile(r"\d+ box(es)? shown"),
    "Segmentation": "Segments shown",
    "Captioning": "a landscape picture (1024x683)",
}


@pytest.fixture(scope="module")
def app_url(clarifai_server):
    """`streamlit run` on a free port, pointed at the local Clarifai server, with an owner key."""
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "streamlit.log"
    env = {"CLARIFAI_GRPC_BASE": clarifai_server.address, "CLARIFAI_GRPC_INSECURE": "true", "CLARIFAI_PAT": TEST_KEY}
    with app_running(env, log) as url:
        yield url
    assert TEST_KEY not in log.read_text(), "the key appeared in the app's log"


@pytest.fixture
def page(browser, clarifai_server):
    clarifai_server.servicer.reset()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def upload_photos(page, testdata) -> None:
    page.locator(UPLOAD_INPUT).set_input_files(
        [str(testdata / "photos" / "coffee.png"), str(testdata / "exif" / "Landscape_6.jpg")]
    )
    page.get_by_text("2 images chosen").wait_for(timeout=60_000)
    settle(page)


def predict(page) -> None:
    page.get_by_role("button", name=re.compile(r"^Predict \d+ images?")).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    settle(page)


def visible_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.parametrize("title", list(TASK_PAGES))
def test_each_task_page_uploads_predicts_and_draws(app_url, page, testdata, clarifai_server, title):
    page.goto(f"{app_url}/{title}")
    settle(page)
    upload_photos(page, testdata)
    predict(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("2 with results")
    expect(main).to_contain_text(TASK_PAGES[title], timeout=20_000)  # a chart's SVG text is drawn after the page settles
    pictures = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    assert pictures.count() >= 4  # two thumbnails and two result pictures
    assert all(pictures.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(pictures.count()))
    sent = [image for call in clarifai_server.servicer.prediction_calls() for image in call.images]
    assert len(sent) == 2
    screenshot(page, f"page-{title.lower()}")


def test_all_tasks_page_shows_boxes_masks_concepts_and_caption_together(app_url, page, testdata):
    page.goto(f"{app_url}/All_tasks")
    settle(page)
    upload_photos(page, testdata)
    predict(page)
    text = visible_text(page)
    assert "“a landscape picture (1024x683)" in text
    assert re.search(r"\d+ segments?\b", text)
    screenshot(page, "page-all-tasks")


def test_images_survive_a_page_switch(app_url, page, testdata):
    page.goto(f"{app_url}/Detection")
    settle(page)
    upload_photos(page, testdata)
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Segmentation").click()
    settle(page)
    assert "/Segmentation" in page.url
    assert "2 images chosen" in visible_text(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Home").click()
    settle(page)
    assert "2 images chosen" in visible_text(page)
    screenshot(page, "page-home")


def test_the_key_never_reaches_the_page(app_url, page, testdata):
    page.goto(f"{app_url}/Classification")
    settle(page)
    upload_photos(page, testdata)
    predict(page)
    assert TEST_KEY not in page.content()
    assert TEST_KEY not in page.url


def test_a_typed_key_stays_inside_its_password_field(app_url, page, testdata, clarifai_server):
    typed = TEST_KEY  # the local server accepts it; typed in the sidebar it takes precedence
    page.goto(f"{app_url}/Captioning")
    settle(page)
    field = page.get_by_role("textbox", name="Clarifai key (personal access token)")
    assert field.get_attribute("type") == "password"
    field.fill(typed)
    field.press("Enter")
    settle(page)
    upload_photos(page, testdata)
    predict(page)
    assert "Your key works" in page.locator('[data-testid="stSidebar"]').inner_text()
    html = page.evaluate(
        """() => { const copy = document.documentElement.cloneNode(true);
                   copy.querySelectorAll('input[type=password]').forEach(i => i.removeAttribute('value'));
                   return copy.outerHTML; }"""
    )
    assert typed not in html
    assert typed not in page.url


def test_a_broken_file_gets_a_message_and_the_rest_still_works(app_url, page, testdata):
    page.goto(f"{app_url}/Classification")
    settle(page)
    page.locator(UPLOAD_INPUT).set_input_files(
        [str(testdata / "broken" / "truncated_jpeg.jpg"), str(testdata / "photos" / "chelsea.png")]
    )
    page.get_by_text("1 image chosen").wait_for(timeout=60_000)
    settle(page)
    assert "truncated_jpeg.jpg" in visible_text(page)
    predict(page)
    assert "1 with results" in visible_text(page)
    assert not page.locator('[data-testid="stException"]').count()
    screenshot(page, "bad-file")
