"""Concept charts in headless Chromium, offline with no key, at desktop and phone sizes.

Reads each chart as the browser drew it (SVG: bar fills, axis labels, value labels, the bars'
accessible text) and checks it against the picture's pixels: a segmentation bar has the colour
of its mask, a colour concept's bar is that colour, every label shows and none overlaps.
Screenshots go to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urljoin

import numpy as np
import pytest
from PIL import Image

from components import colors
from tests.app_process import settle, start_app, stop_app
from tests.chart_gallery import BAR_COUNTS, gallery_concepts
from tests.conftest import ARTIFACTS, require_chromium, screenshot

pytestmark = pytest.mark.browser

SAMPLE = "City street"
NAMED = {named.name: named.color for named in colors.NAMED_COLORS}

# Every chart on the page as drawn: the container's accessible name, the SVG's box, each bar's fill
# and accessible text, the y-axis labels and the value labels, with their boxes in page pixels.
READ_CHARTS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(chart => {
    const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const svg = chart.querySelector('svg');
    const texts = sel => [...chart.querySelectorAll(sel)].map(t => ({text: t.textContent, box: box(t)}));
    return {
        name: chart.getAttribute('aria-label'),
        svg: svg ? box(svg) : null,
        container: box(chart.parentElement),
        bars: [...chart.querySelectorAll('g.mark-rect path')].map(p => ({
            fill: p.getAttribute('fill'), text: p.getAttribute('aria-label'), box: box(p)})),
        labels: texts('g.role-axis[aria-label^="Y-axis"] g.role-axis-label text'),
        values: texts('g.mark-text.role-mark text'),
        ticks: texts('g.role-axis[aria-label^="X-axis"] g.role-axis-label text'),
    };
})"""


def _serve(script: str, log_name: str):
    """`streamlit run script` with no key and no endpoint: the offline backend, as on a fresh checkout."""
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as env:
        for name in ("CLARIFAI_PAT", "CLARIFAI_GRPC_BASE", "CLARIFAI_GRPC_INSECURE"):
            env.delenv(name, raising=False)
        try:
            process, url = start_app({}, ARTIFACTS / log_name, script=script)
        except RuntimeError as error:
            pytest.fail(str(error))
    return process, url


@pytest.fixture(scope="module")
def offline_app():
    process, url = _serve("streamlit_app.py", "streamlit-charts.log")
    yield url
    stop_app(process)


@pytest.fixture(scope="module")
def gallery():
    process, url = _serve("tests/chart_gallery.py", "streamlit-chart-gallery.log")
    yield url
    stop_app(process)


def run_sample(page, url: str, title: str) -> None:
    page.goto(f"{url}/{title}")
    settle(page)
    page.get_by_role("tab", name="Samples").click()
    page.get_by_role("button", name=SAMPLE).click()
    page.get_by_text("1 image chosen").wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("button", name=re.compile(r"^Predict \d+ images?")).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    settle(page)


def read_charts(page) -> list[dict]:
    page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for(timeout=30_000)
    page.wait_for_timeout(300)  # vega lays out after the element appears
    return page.evaluate(READ_CHARTS)


def bar_values(chart: dict) -> dict[str, str]:
    """{concept: value as printed} from each bar's accessible text "concept: value"."""
    pairs = [bar["text"].rsplit(": ", 1) for bar in chart["bars"]]
    return {name: value for name, value in pairs}


def rgb(hex_color: str) -> tuple[int, int, int]:
    return colors.Color.from_hex(hex_color).rgb


def assert_every_label_shows(chart: dict, names: list[str], viewport_width: int) -> None:
    """One y-axis label per bar, each the name or its start cut with "…", none overlapping
    another, and the whole chart, value labels included, inside the viewport."""
    labels = chart["labels"]
    assert len(chart["bars"]) == len(names), chart["name"]
    assert len(labels) == len(names), [label["text"] for label in labels]
    for label, name in zip(labels, names):
        text = label["text"]
        assert text == name or (text.endswith("…") and name.startswith(text[:-1].rstrip())), (text, name)
    tops = sorted((label["box"][1], label["box"][3]) for label in labels)
    for (_, bottom), (top, _) in zip(tops, tops[1:]):
        assert top >= bottom - 0.5, "two axis labels overlap"
    svg_left, _, svg_right, _ = chart["svg"]
    assert svg_right <= viewport_width + 0.5, "the chart is wider than the screen"
    for item in labels + chart["values"]:
        left, _, right, _ = item["box"]
        assert svg_left - 0.5 <= left and right <= svg_right + 0.5, item
    assert len(chart["values"]) == len(names), "a value printed on every bar"


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return [m.scrollWidth, m.clientWidth, document.documentElement.scrollWidth, window.innerWidth]; }"
    )
    assert overflow[0] <= overflow[1] + 1 and overflow[2] <= overflow[3] + 1, overflow


def result_picture(page) -> np.ndarray:
    """The annotated picture exactly as the browser received it (RGB)."""
    pictures = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    widths = [pictures.nth(i).evaluate("img => img.naturalWidth") for i in range(pictures.count())]
    src = pictures.nth(int(np.argmax(widths))).get_attribute("src")
    response = page.request.get(urljoin(page.url, src))
    assert response.ok, src
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))


def test_segment_bars_have_the_color_of_their_masks(offline_app, page):
    run_sample(page, offline_app, "Segmentation")
    opacity = page.get_by_role("slider", name="Mask opacity")
    opacity.focus()
    opacity.press("End")  # masks fully opaque: their pixels are their colours
    settle(page)
    assert page.locator('[data-testid="stSliderThumbValue"]').filter(has_text="1.00").count() == 1
    [chart] = read_charts(page)
    shares = {name: float(value.rstrip(" %").lstrip("<")) / 100 for name, value in bar_values(chart).items()}
    assert [tick["text"] for tick in chart["ticks"]] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    fills = {name: bar["fill"] for name, bar in zip(bar_values(chart), chart["bars"])}
    assert len(shares) >= 3
    for name, fill in fills.items():
        assert rgb(fill) == NAMED[name].rgb, f"{name} is a colour, drawn in its own colour"

    picture = result_picture(page).reshape(-1, 3).astype(int)
    palette = np.array([rgb(fill) for fill in fills.values()])
    distance = np.linalg.norm(picture[:, None, :] - palette[None, :, :], axis=2)
    nearest, close = distance.argmin(axis=1), distance.min(axis=1) <= 24  # JPEG moves flat colours a little
    # Each segment is outlined in black or white, and one close in colour to the picture is also
    # hatched: those pixels are ink, not fill. The fill of every other colour is its bar's colour.
    ink_colors = np.array([(0, 0, 0), (255, 255, 255)])
    ink = np.linalg.norm(picture[:, None, :] - ink_colors[None, :, :], axis=2).min(axis=1) <= 40
    assert (close | ink).mean() >= 0.9, "nearly every pixel is a chart colour or the outlines' ink"
    for index, (name, share) in enumerate(shares.items()):
        if np.linalg.norm(palette[index][None, :] - ink_colors, axis=1).min() <= 40:
            continue  # a black or white segment cannot be told from the ink
        painted = float(np.mean(close & ~ink & (nearest == index)))
        assert 0.4 * share - 0.02 <= painted <= share + 0.04, f"{name}: {painted:.1%} of the picture, bar says {share:.0%}"

    assert_every_label_shows(chart, list(shares), page.viewport_size["width"])
    assert chart["name"].startswith("Bar chart of share of the image: ")
    assert_no_horizontal_scroll(page)
    screenshot(page, f"charts-segmentation-{page.viewport_name}")


def test_color_classifier_bars_show_the_colors_themselves(offline_app, page):
    run_sample(page, offline_app, "Classification")
    [chart] = read_charts(page)
    values = bar_values(chart)
    assert len(values) >= 3
    for (name, value), bar in zip(values.items(), chart["bars"]):
        assert rgb(bar["fill"]) == NAMED[name].rgb, name
        assert re.fullmatch(r"[01]\.\d\d", value), value
    scores = [float(value) for value in values.values()]
    assert scores == sorted(scores, reverse=True)
    assert sorted(v["text"] for v in chart["values"]) == sorted(values.values())
    assert [tick["text"] for tick in chart["ticks"]] == ["0", "0.25", "0.5", "0.75", "1"]
    assert_every_label_shows(chart, list(values), page.viewport_size["width"])
    assert_no_horizontal_scroll(page)
    screenshot(page, f"charts-classification-{page.viewport_name}")


def test_charts_of_1_to_50_bars_show_every_label(gallery, page):
    page.goto(gallery)
    settle(page)
    page.locator('[data-testid="stVegaLiteChart"] svg').nth(len(BAR_COUNTS) - 1).wait_for(timeout=30_000)
    charts = read_charts(page)
    assert len(charts) == len(BAR_COUNTS)
    for count, chart in zip(BAR_COUNTS, charts):
        concepts = gallery_concepts(count)
        assert_every_label_shows(chart, [c.name for c in concepts], page.viewport_size["width"])
        assert [v["text"] for v in chart["values"]] == [f"{c.value:.2f}" for c in concepts]
        assert [bar["fill"] for bar in chart["bars"]] == [colors.color_for(c.name).hex for c in concepts]
        widths = [bar["box"][2] - bar["box"][0] for bar in chart["bars"]]
        assert widths == sorted(widths, reverse=True)
        assert [tick["text"] for tick in chart["ticks"]] == ["0", "0.25", "0.5", "0.75", "1"]  # one axis for all
    # and it lines up: 0 and 1 at the same place on every chart
    assert len({tuple(round(t["box"][0]) for t in chart["ticks"]) for chart in charts}) == 1
    assert_no_horizontal_scroll(page)
    screenshot(page, f"charts-gallery-{page.viewport_name}")
