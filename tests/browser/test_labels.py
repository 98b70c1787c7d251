"""Detection labels in headless Chromium, offline with no key, at desktop and phone sizes.

Measures the label text as the browser shows it: the picture is screenshotted where it sits on
the page, each label found where the drawing put it (the test lays the labels out again from the
same detections), and the height of its text's ink turned into a font size in CSS pixels. Also
reads the labels as page text and picks a box out by selecting its table row.
Screenshots go to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urljoin

import cv2
import numpy as np
import pytest
from PIL import Image

from components.drawing.labels import Label, label_font, layout_labels
from components.local_models.detector import detect_objects
from components.views.detection import DEFAULT_MIN_SCORE
from tests.app_process import UPLOAD_INPUT, settle, start_app, stop_app
from tests.conftest import ARTIFACTS, require_chromium, screenshot

pytestmark = pytest.mark.browser

MIN_TEXT_CSS_PX = 11
MIN_LINE_CSS_PX = 3
PICTURE_NAME = "shapes.png"


@pytest.fixture(scope="module")
def offline_app():
    """`streamlit run` with no key and no endpoint: the offline backend, as on a fresh checkout."""
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as env:
        for name in ("CLARIFAI_PAT", "CLARIFAI_GRPC_BASE", "CLARIFAI_GRPC_INSECURE"):
            env.delenv(name, raising=False)
        try:
            process, url = start_app({}, ARTIFACTS / "streamlit-labels.log")
        except RuntimeError as error:
            pytest.fail(str(error))
    yield url
    stop_app(process)


def shapes_picture() -> np.ndarray:
    """A 1024x683 grey picture with a red disc and a blue block: things the local detector names
    ("red round object"), on a plain ground so the labels can be read back from a screenshot."""
    picture = np.full((683, 1024, 3), 200, np.uint8)
    cv2.circle(picture, (250, 340), 120, (40, 40, 220), -1)
    cv2.rectangle(picture, (600, 200), (850, 480), (200, 80, 20), -1)
    return picture


@pytest.fixture(scope="module")
def shapes_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("labels") / PICTURE_NAME
    cv2.imwrite(str(path), shapes_picture())
    return path


def detect(page, url: str, picture: Path) -> None:
    page.goto(f"{url}/Detection")
    settle(page)
    page.locator(UPLOAD_INPUT).set_input_files([str(picture)])
    page.get_by_text("1 image chosen").wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("button", name=re.compile(r"^Predict \d+ images?")).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    settle(page)


def result_picture(page):
    picture = page.locator(f'[data-testid="stMain"] [data-testid="stImage"] img[alt^="{PICTURE_NAME}:"]')
    picture.wait_for(timeout=30_000)
    picture.evaluate("img => img.decode()")  # drawn, not just in the page
    return picture


def picture_bytes(page, picture) -> np.ndarray:
    """The annotated picture exactly as the browser received it (BGR)."""
    response = page.request.get(urljoin(page.url, picture.get_attribute("src")))
    assert response.ok
    return cv2.cvtColor(np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB")), cv2.COLOR_RGB2BGR)


def as_shown(picture) -> np.ndarray:
    """The picture as it sits on the page, in CSS pixels (device scale 1), BGR."""
    shot = picture.screenshot(animations="disabled")
    return cv2.cvtColor(np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")), cv2.COLOR_RGB2BGR)


def expected_labels() -> tuple[list, list[Label]]:
    """The detections the app makes on the picture, and where it draws their labels."""
    regions = detect_objects(shapes_picture()).regions
    return regions, layout_labels(regions, 1024, 683, DEFAULT_MIN_SCORE)


def ink_height(patch: np.ndarray, label: Label) -> int:
    """Rows of a label's patch (as shown) holding text: pixels nearer the text colour than the fill."""
    to_fill = np.linalg.norm(patch.astype(float) - np.array(label.color, float), axis=2)
    to_ink = np.linalg.norm(patch.astype(float) - np.array(label.text_color, float), axis=2)
    rows = np.flatnonzero((to_ink < to_fill).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def ink_per_em(text: str) -> float:
    _, top, _, bottom = label_font(400).getbbox(text, anchor="ls")
    return (bottom - top) / 400


def stroke_width(row: np.ndarray, start: int, color) -> int:
    """Pixels from `start` along a row that are mostly the box colour."""
    run = 0
    while start + run < len(row) and np.linalg.norm(row[start + run].astype(float) - np.array(color, float)) < 80:
        run += 1
    return run


def test_labels_read_at_11_css_px_and_lines_at_3_on_every_screen(offline_app, page, shapes_file):
    detect(page, offline_app, shapes_file)
    regions, labels = expected_labels()
    assert {regions[label.region].top_concept.name for label in labels} == {"red round object", "blue round object"}
    picture = result_picture(page)
    received = picture_bytes(page, picture)
    assert received.shape[:2] == (683, 1024)
    shown = as_shown(picture)
    scale = shown.shape[1] / received.shape[1]  # CSS px per picture px
    box = picture.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 0.5
    report = []
    for label in labels:
        left, top, right, bottom = (round(v * scale) for v in label.rect)
        patch = shown[top + 1 : bottom - 1, left + 1 : right - 1]
        font_css = ink_height(patch, label) / ink_per_em(label.text)
        report.append(f"{label.text}: {font_css:.1f} CSS px")
        assert font_css >= MIN_TEXT_CSS_PX, report
        region = regions[label.region]
        x0, y0, x1, y1 = region.box.pixels(1024, 683)
        row = shown[round((y0 + y1) / 2 * scale)]
        assert stroke_width(row, round(x0 * scale), label.color) >= MIN_LINE_CSS_PX, f"{label.text}: line"
    print(page.viewport_name, f"picture {shown.shape[1]} CSS px wide;", "; ".join(report))
    screenshot(page, f"labels-detection-{page.viewport_name}")
    cv2.imwrite(str(ARTIFACTS / f"labels-picture-{page.viewport_name}.png"), shown)


def test_labels_and_scores_are_page_text_and_the_pictures_alt(offline_app, page, shapes_file):
    detect(page, offline_app, shapes_file)
    regions, labels = expected_labels()
    text = page.locator('[data-testid="stMain"]').inner_text()
    alt = result_picture(page).get_attribute("alt")
    for label in labels:
        concept = regions[label.region].top_concept
        shown = f"{concept.name} {concept.value:.2f}"
        assert shown in text, "the page's own text (find-in-page, a test reading the page)"
        assert shown in alt, "the picture's alt text (a screen reader)"


def test_selecting_a_table_row_picks_its_box_out(offline_app, page, shapes_file):
    detect(page, offline_app, shapes_file)
    picture = result_picture(page)
    before_src, before = picture.get_attribute("src"), picture_bytes(page, picture)
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').last
    table.scroll_into_view_if_needed()
    grid = table.bounding_box()
    page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 17)  # the first row's checkbox, under the header
    settle(page)
    page.wait_for_function(
        "src => [...document.querySelectorAll('img[alt]')].some(i => i.alt.includes('Picked out') && i.src !== src)",
        arg=urljoin(page.url, before_src),
        timeout=30_000,
    )
    picture = result_picture(page)
    after = picture_bytes(page, picture)
    regions, _ = expected_labels()
    best = max((r for r in regions if r.top_concept.value >= DEFAULT_MIN_SCORE), key=lambda r: r.top_concept.value)
    assert picture.get_attribute("alt").endswith(f"Picked out: {best.top_concept.name} {best.top_concept.value:.2f}.")
    x0, y0, x1, y1 = best.box.pixels(1024, 683)
    inside = (slice(y0 + 20, y1 - 20), slice(x0 + 20, x1 - 20))
    outside = np.ones(after.shape[:2], bool)
    outside[y0 - 60 : y1 + 60, x0 - 60 : x1 + 60] = False
    assert abs(after[inside].mean() - before[inside].mean()) < 4, "the picked box is shown as it was"
    assert after[outside].mean() < 0.6 * before[outside].mean(), "the rest of the picture is dimmed"
    screenshot(page, f"labels-picked-{page.viewport_name}")
