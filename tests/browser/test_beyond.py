"""Beyond the playgrounds, in headless Chromium against the local Clarifai server: two models compared
side by side, a shared link reopened in a fresh browser, and the HTML report opened on its own.

Screenshots are saved to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_app import app_url, page, predict, settle, upload_photos  # noqa: F401 (fixtures)
from tests.conftest import ARTIFACTS, TEST_KEY, screenshot

pytestmark = pytest.mark.browser
SAMPLE_URL = "https://samples.clarifai.com/metro-north.jpg"  # the local server serves it


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)])
def test_two_models_compared_side_by_side_show_what_only_one_found(app_url, browser, testdata, clarifai_server, size):  # noqa: F811
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    tab = context.new_page()
    tab.goto(f"{app_url}/Compare")
    settle(tab)
    upload_photos(tab, testdata)
    predict(tab)
    text = tab.locator('[data-testid="stMain"]').inner_text()
    assert "Agreement over all images" in text
    assert "Only this model" in text or "Every model found" in text
    models = {call.model_path for call in clarifai_server.servicer.prediction_calls()}
    assert {"qwen/qwen-VL/Qwen2_5-VL-7B-Instruct", "clarifai/main/mm-poly-8b"} <= models
    overflow = tab.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollWidth - window.innerWidth")
    assert overflow <= 1, "the page is not wider than the screen"
    screenshot(tab, f"compare-{size[0]}")
    context.close()


def test_a_shared_link_reopened_in_a_fresh_browser_restores_the_page(app_url, browser, clarifai_server):  # noqa: F811
    first = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = first.new_page()
    tab.goto(f"{app_url}/Detection")
    settle(tab)
    sidebar = tab.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Image handling").click()
    sidebar.get_by_text("Let Clarifai fetch image URLs").click()
    settle(tab)
    tab.get_by_role("textbox", name="What to find").fill("people")
    tab.get_by_role("textbox", name="What to find").press("Enter")
    settle(tab)
    tab.get_by_role("tab", name=re.compile("Image URLs")).click()
    tab.get_by_role("textbox", name="Image URLs, one per line").fill(SAMPLE_URL)
    tab.get_by_role("button", name="Add images from URLs").click()
    tab.get_by_text("1 image chosen").wait_for(timeout=60_000)
    settle(tab)
    predict(tab)
    tab.get_by_role("button", name="Share").click()
    link = tab.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').inner_text().strip()
    assert link.startswith(f"{app_url}/Detection?") and "people" in link and "metro-north" in link
    assert TEST_KEY not in link
    first.close()

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = fresh.new_page()
    other.goto(link)
    settle(other)
    other.get_by_text("1 image chosen").wait_for(timeout=60_000)
    # the browser draws a restored widget value a moment after the run ends: expect() waits for it
    expect(other.get_by_role("textbox", name="What to find")).to_have_value("people")
    expect(other, "the link's query is cleared once opened").not_to_have_url(re.compile(r"\?"))
    predict(other)
    expect(other.locator('[data-testid="stMain"]')).to_contain_text("1 with results")
    screenshot(other, "shared-link-reopened")
    fresh.close()


def test_the_html_report_opens_on_its_own_with_its_pictures(app_url, page, testdata, tmp_path):  # noqa: F811
    page.goto(f"{app_url}/Segmentation")
    settle(page)
    upload_photos(page, testdata)
    predict(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Report (HTML)").click()
    path = tmp_path / "report.html"
    download.value.save_as(path)
    page.context.set_offline(True)  # nothing may be fetched: the report holds everything
    page.goto(path.as_uri())
    pictures = page.locator("article img")
    assert pictures.count() == 2
    assert all(pictures.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(2))
    text = page.locator("body").inner_text()
    assert "Segmentation" in text and "sam2_1-hiera-base-plus" in text and "segment 1" in text
    page.screenshot(path=ARTIFACTS / "report.png", full_page=True)
    page.context.set_offline(False)
