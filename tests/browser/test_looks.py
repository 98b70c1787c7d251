"""How the running app looks, offline in headless Chromium: the theme follows the browser's light or
dark setting (the page, the chart text, the logo), the sidebar's logo and sections, every page at
its address, and Home's button changing the first screen.

Screenshots are saved to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from components.colors import Color, contrast_ratio, relative_luminance
from components.navigation import NAVIGATION_SECTIONS, PAGES
from tests.app_process import app_running, settle
from tests.conftest import ARTIFACTS, require_chromium, screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
# Playwright's devices["iPhone 13"] (the `browser` fixture's Playwright is not at hand here)
IPHONE_13 = {
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/27.2 Mobile/15E148 Safari/604.1"
    ),
    "viewport": {"width": 390, "height": 664},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
SIDEBAR = '[data-testid="stSidebar"]'
RGB = re.compile(r"rgba?\((\d+), (\d+), (\d+)")


@pytest.fixture(scope="module")
def offline_url():
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"CLARIFAI_PAT": "", "CLARIFAI_GRPC_BASE": "", "CLARIFAI_GRPC_INSECURE": ""}
    with app_running(env, ARTIFACTS / "streamlit-looks.log") as url:
        yield url


def _open(browser, url: str, address: str = "", **context):
    tab = browser.new_context(**({"viewport": DESKTOP} | context)).new_page()
    tab.goto(f"{url}/{address}")
    settle(tab)
    return tab


def _color(css: str) -> Color:
    r, g, b = (int(v) for v in RGB.match(css).groups())
    return Color.from_rgb(r, g, b)


def _chart_text_colors(tab) -> list[str]:
    """The fill of the chart's names, ticks, axis title and of each value printed just after a bar
    (those inside a bar are black or white on it: tests/drawing checks them)."""
    return tab.evaluate(
        """() => [...document.querySelectorAll('.vega-embed svg g.role-axis-label text, .vega-embed svg g.role-axis-title text,'
                                            + ' .vega-embed svg g.layer_2_marks text')].map(t => t.getAttribute('fill'))"""
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_follows_the_browsers_light_or_dark_setting(browser, offline_url, scheme):
    tab = _open(browser, offline_url, color_scheme=scheme)
    app = tab.locator('[data-testid="stApp"]')
    background = _color(app.evaluate("e => getComputedStyle(e).backgroundColor"))
    text = _color(tab.locator("h1").first.evaluate("e => getComputedStyle(e).color"))
    sidebar = _color(tab.locator(SIDEBAR).evaluate("e => getComputedStyle(e).backgroundColor"))
    if scheme == "light":
        assert background.hex == "#ffffff"
        assert relative_luminance(sidebar) > 0.8
    else:
        assert relative_luminance(background) < 0.02 and relative_luminance(sidebar) < 0.05
    assert contrast_ratio(background, text) >= 7, (background.hex, text.hex)

    # the chart's names, axis and values beside the bars take the page's text colour
    tab.locator(".vega-embed svg text").first.wait_for()
    fills = _chart_text_colors(tab)
    assert len(fills) > 10, "the home page's chart names its bars and prints values beside the short ones"
    for fill in fills:
        assert contrast_ratio(Color.from_hex(fill), background) >= 4.5, (fill, background.hex)

    # the logo's wordmark reads on the sidebar: the part right of the mark holds ink of good contrast
    logo = Image.open(io.BytesIO(tab.locator('[data-testid="stSidebarLogo"]').screenshot())).convert("RGB")
    words = logo.crop((logo.width // 4, 0, logo.width, logo.height))
    ink = max(
        (Color.from_rgb(*pixel) for pixel in np.unique(np.asarray(words).reshape(-1, 3), axis=0)),
        key=lambda color: contrast_ratio(color, sidebar),
    )
    assert contrast_ratio(ink, sidebar) >= 7, (ink.hex, sidebar.hex)
    screenshot(tab, f"home-{scheme}")
    tab.context.close()


def test_the_sidebar_has_the_logo_and_the_pages_in_sections_home_first(browser, offline_url):
    tab = _open(browser, offline_url)
    logo = tab.locator('[data-testid="stSidebarLogo"]')
    expect(logo).to_be_visible()
    assert logo.evaluate("e => e.naturalWidth") > 0, "the logo's picture loaded"
    nav = tab.locator(f'{SIDEBAR} [data-testid="stSidebarNav"]')
    headings = nav.locator('[data-testid="stNavSectionHeader"]').all_inner_texts()
    assert [h.strip() for h in headings] == [heading for heading, _ in NAVIGATION_SECTIONS if heading]
    links = [text.strip().splitlines()[-1] for text in nav.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]
    assert links == [page.label for _, pages in NAVIGATION_SECTIONS for page in pages]
    assert links[0] == "Home"
    # the collapsed sidebar leaves the mark alone in the corner
    tab.locator('[data-testid="stSidebarHeader"]').hover()  # the button shows while the pointer is over the sidebar
    tab.locator('[data-testid="stSidebarCollapseButton"] button').click()
    expect(tab.locator('[data-testid="stHeaderLogo"]')).to_be_visible()
    tab.context.close()


def test_every_page_keeps_its_address(browser, offline_url):
    tab = _open(browser, offline_url)
    for page in PAGES:
        tab.goto(f"{offline_url}/{page.url_path}")
        settle(tab)
        current = tab.locator(f'{SIDEBAR} [data-testid="stSidebarNavLink"][aria-current="page"]')
        expect(current).to_contain_text(page.label)
    tab.context.close()


@pytest.mark.parametrize("device", ["desktop", "iPhone 13"])
def test_homes_button_is_on_the_first_screen_and_opens_detection_with_the_picture(browser, offline_url, device):
    context = {"viewport": DESKTOP} if device == "desktop" else IPHONE_13
    tab = _open(browser, offline_url, **context)
    screen = tab.viewport_size["height"]
    button = tab.get_by_role("button", name="Use this picture in Detection")
    box = button.bounding_box()
    assert box is not None and box["y"] + box["height"] <= screen, f"below the first screen: {box}"
    button.click()
    settle(tab)
    assert tab.url.rstrip("/").endswith("/Detection")
    expect(tab.get_by_text("Fruit on a table is chosen: press Predict to run Detection.")).to_be_visible()
    chosen = tab.get_by_text("1 image chosen")
    expect(chosen).to_be_visible()
    if device == "desktop":  # on a phone the page's title and the uploader come first
        chosen_box = chosen.bounding_box()
        assert chosen_box["y"] + chosen_box["height"] <= screen
        predict = tab.get_by_role("button", name="Predict 1 image").bounding_box()
        assert predict["y"] + predict["height"] <= screen, "Predict is in view too"
    screenshot(tab, f"home-button-{device.replace(' ', '-')}")
    tab.context.close()
