"""Outside text cannot fetch or link anything, in a real browser: a model's streamed answer, a share
link's prompt and image addresses, a model's name and description from Clarifai's catalogue, captions
on All tasks and Compare, a model's own error, the notes and labels the app makes of a model's answer,
and the name of a file that cannot be read each carry markdown images and links, autolinks, raw HTML,
a bare address and KaTeX pointing at a local "pixel server". The page must show that text as text:
no request reaches the pixel server, no link or image to it is in the page, no math is typeset,
and the payload itself is on the page to read.

Screenshots are saved to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from components.outputs.share import SharedPage, share_query
from components.tasks import DEEPSEEK_OCR, MM_POLY, QWEN_VL
from tests.app_process import UPLOAD_INPUT, app_running, settle
from tests.conftest import ARTIFACTS, TEST_KEY, require_chromium, screenshot
from tests.helpers import png_bytes, scene_with_square

pytestmark = pytest.mark.browser
PIXEL = png_bytes(np.zeros((1, 1, 3), np.uint8))
SETTLE_MS = 1000  # after a page settles: time for anything it would fetch to be asked for


# --- the pixel server ------------------------------------------------------------------------------


@dataclass
class PixelServer:
    """A local HTTP server answering every request with a 1x1 PNG, and recording each one."""

    host: str = ""  # "127.0.0.1:<port>"
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (method, path, headers)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def base(self) -> str:
        return f"http://{self.host}"

    def payload(self, where: str) -> str:
        """Every kind of markup that could fetch or link, each pointing here and naming `where`."""
        base = self.base()
        return (
            f"![x]({base}/img-{where}.png) [Your key expired]({base}/link-{where}) <{base}/auto-{where}> "
            f"<img src={base}/html-{where}.png> {base}/bare-{where} $x^2$"
        )

    def label(self, where: str) -> str:
        """What is left of a payload once a model's label is cleaned (tags and markdown links go):
        still a bare address and math."""
        return f"$x^2$ {self.base()}/bare-{where}"

    def seen(self) -> list[tuple[str, str, dict[str, str]]]:
        with self.lock:
            return list(self.requests)


@pytest.fixture(scope="module")
def pixels():
    server = PixelServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            with server.lock:
                server.requests.append((self.command, self.path, dict(self.headers)))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(PIXEL)

        do_GET = do_HEAD = do_POST = do_OPTIONS = _answer

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.host = f"127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_the_pixel_server_answers_and_records(pixels):
    """The checks below mean something only if a request that did go out would be seen."""
    import urllib.request

    before = len(pixels.seen())
    body = urllib.request.urlopen(f"{pixels.base()}/img-probe.png", timeout=5).read()
    assert body == PIXEL
    assert [path for _, path, _ in pixels.seen()[before:]] == ["/img-probe.png"]
    with pixels.lock:
        del pixels.requests[before:]


# --- the app, against a catalogue naming the pixel server ------------------------------------------


@pytest.fixture(scope="module")
def hostile_catalogue(clarifai_server, pixels):
    """Qwen-VL's name and description on the local Clarifai are payloads, for this module only."""
    servicer = clarifai_server.servicer
    kept = list(servicer.catalogue)
    servicer.catalogue = [
        replace(m, name=pixels.payload("name"), description=pixels.payload("description")) if m.path == QWEN_VL.path else m
        for m in kept
    ]
    yield servicer
    servicer.catalogue = kept
    servicer.reset()


@pytest.fixture(scope="module")
def app_url(hostile_catalogue, clarifai_server):
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "streamlit-outside-text.log"
    env = {"CLARIFAI_GRPC_BASE": clarifai_server.address, "CLARIFAI_GRPC_INSECURE": "true", "CLARIFAI_PAT": TEST_KEY}
    with app_running(env, log) as url:
        yield url


@pytest.fixture
def page(browser, hostile_catalogue, pixels):
    hostile_catalogue.reset()
    with pixels.lock:
        pixels.requests.clear()  # each test answers for its own page
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


# --- the checks ------------------------------------------------------------------------------------


def page_text(page) -> str:
    return " ".join(page.locator("body").inner_text().split())


# Each element found, as the Streamlit elements it sits in (innermost first) and its start.
WHERE_IN_PAGE = """l => l.map(e => {
    const within = [];
    for (let p = e.parentElement; p && within.length < 4; p = p.parentElement) {
        if (p.dataset.testid) within.push(p.dataset.testid);
    }
    return [within.join(' < '), e.outerHTML.slice(0, 160)];
})"""


def markup_in_page(page, host: str) -> list[str]:
    """Whatever in the page links to `host`, loads from it or typesets math, each with where it is."""
    found = []
    for what, selector in (
        ("a link", f'a[href*="{host}"]'),
        ("an image", f'img[src*="{host}"]'),
        ("an element naming it", f'[src*="{host}"], [href*="{host}"], [srcset*="{host}"], [style*="{host}"]'),
        ("math", ".katex"),
    ):
        found += [f"{what}: {element}" for element in page.locator(selector).evaluate_all(WHERE_IN_PAGE)]
    return found


def assert_nothing_reached_out(page, pixels: PixelServer, where: str) -> None:
    """A moment after the page settled: no request reached the pixel server, and nothing in the page
    links to it, loads from it or typesets math."""
    page.wait_for_timeout(SETTLE_MS)
    asked = [(path, headers.get("User-Agent", "")) for _, path, headers in pixels.seen()]
    assert asked == [], f"{where}: the pixel server was asked for (path, user agent) {asked}"
    assert markup_in_page(page, pixels.host) == [], where


def assert_shown(page, *texts: str) -> None:
    """Each text is on the page as text a person reads (white space as the page wraps it)."""
    shown = page_text(page)
    for text in texts:
        expected = " ".join(text.split())
        assert expected in shown, f"not on the page as text: {expected!r}"


def upload(page, tmp_path, name: str, color_bgr) -> None:
    """One picture of its own colour, so no earlier run's result is taken from the app's cache."""
    path = tmp_path / name
    path.write_bytes(png_bytes(scene_with_square(color_bgr=color_bgr)))
    page.locator(UPLOAD_INPUT).set_input_files([str(path)])
    page.get_by_text("1 image chosen").wait_for(timeout=60_000)
    settle(page)


def click_predict(page) -> None:
    page.get_by_role("button", name=re.compile(r"^Predict 1 image")).click()


def wait_for_results(page) -> None:
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    settle(page)


# --- each place outside text reaches -----------------------------------------------------------------


def test_a_streamed_answer_a_shared_prompt_and_the_models_name_stay_text(app_url, page, pixels, hostile_catalogue, tmp_path):
    runner = hostile_catalogue.runner(QWEN_VL.path)
    answer = pixels.payload("answer")
    runner.script_replies(answer)
    runner.chunk_delay_s = 0.5  # slowly enough to look at the answer while it is written
    prompt = pixels.payload("prompt")
    page.goto(f"{app_url}/Captioning{share_query(SharedPage(model=QWEN_VL, prompt=prompt))}")
    settle(page)
    assert_nothing_reached_out(page, pixels, "the page opened from the link")
    assert_shown(page, pixels.payload("name")[:59])  # the sidebar names the model (shortened to 60)
    upload(page, tmp_path, "stream.png", (0, 0, 230))

    click_predict(page)
    live = page.locator('[data-testid="stMain"]').get_by_text(re.compile(r"stream\.png: .*127\.0\.0\.1.*▌"))
    live.wait_for(timeout=30_000)
    assert markup_in_page(page, pixels.host) == [], "while the answer streams"
    written = re.search(r"stream\.png: (.+)▌", live.inner_text()).group(1).strip()
    assert answer.startswith(written) and len(written) < len(answer), "part of the answer, as text"
    screenshot(page, "outside-text-streaming")

    wait_for_results(page)
    assert_nothing_reached_out(page, pixels, "the captioning results")
    assert_shown(page, answer, f"asked: “{prompt[:119]}…”")
    assert hostile_catalogue.calls_to("GenerateModelOutputs"), "the answer was streamed"
    screenshot(page, "outside-text-caption")


def test_a_models_name_and_description_in_the_community_search_stay_text(app_url, page, pixels):
    page.goto(f"{app_url}/Captioning")
    settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Search the community").click()
    settle(page)
    sidebar.get_by_role("textbox", name="Search models").fill("qwen")
    sidebar.get_by_role("textbox", name="Search models").press("Enter")
    settle(page)
    sidebar.get_by_role("button", name="Search", exact=True).click()
    settle(page)
    name, description = pixels.payload("name"), pixels.payload("description")
    found = sidebar.get_by_role("radiogroup", name="Models found")
    found.wait_for(timeout=20_000)
    assert_nothing_reached_out(page, pixels, "the search results")
    assert_shown(page, f"{name[:39]}… · qwen · multimodal-to-text", f"{description[:89]}…")
    found.get_by_text(re.compile(r"Your key|img-name")).first.click()  # picking it: the sidebar names it
    settle(page)
    assert_nothing_reached_out(page, pixels, "the model picked from the search")
    assert_shown(page, name[:59])
    screenshot(page, "outside-text-search")


def test_captions_labels_and_a_models_error_on_all_tasks_stay_text(app_url, page, pixels, hostile_catalogue, tmp_path):
    # Qwen-VL answers both detection and captioning here: one answer serves as a caption and holds boxes.
    boxes = [{"bbox_2d": [40, 60, 200, 180], "label": pixels.label("legend")}]
    answer = f"{pixels.payload('all')} {json.dumps(boxes)}"
    hostile_catalogue.runner(QWEN_VL.path).script_replies(answer, answer)
    failure = pixels.payload("error")
    hostile_catalogue.runner(DEEPSEEK_OCR.path).fails_with = failure  # its own error, in Clarifai's description
    page.goto(f"{app_url}/All_tasks")
    settle(page)
    upload(page, tmp_path, "all.png", (230, 0, 0))
    click_predict(page)
    wait_for_results(page)
    page.get_by_text("Shown on the pictures").wait_for(timeout=20_000)
    assert_nothing_reached_out(page, pixels, "All tasks")
    assert_shown(page, answer, pixels.label("legend"), failure)
    screenshot(page, "outside-text-all-tasks")


def test_captions_and_the_models_name_on_compare_stay_text(app_url, page, pixels, hostile_catalogue, tmp_path):
    answer = pixels.payload("compare")
    hostile_catalogue.runner(QWEN_VL.path).script_replies(answer)
    hostile_catalogue.runner(MM_POLY.path).script_replies("a red square on grey")
    page.goto(f"{app_url}/Compare")
    settle(page)
    page.locator('[data-testid="stMain"]').get_by_role("radio", name="Captioning").click()
    settle(page)
    assert_shown(page, pixels.payload("name")[:39])  # the model slot names the model
    upload(page, tmp_path, "compare.png", (0, 230, 0))
    click_predict(page)
    wait_for_results(page)
    page.get_by_text("Agreement over all images").wait_for(timeout=20_000)
    assert_nothing_reached_out(page, pixels, "Compare")
    assert_shown(page, f"“{answer}”")
    screenshot(page, "outside-text-compare")


def test_notes_and_labels_made_of_a_models_answer_stay_text(app_url, page, pixels, hostile_catalogue, tmp_path):
    answer = json.dumps(
        [{"bbox_2d": [40, 60, 200, 180], "label": "cat"}, {"bbox_2d": [220, 60, 380, 180], "label": pixels.payload("note")}]
    )
    hostile_catalogue.runner(QWEN_VL.path).script_replies(answer)
    page.goto(f"{app_url}/Detection")
    settle(page)
    things = page.get_by_role("textbox", name="What to find")
    things.fill("cat")
    things.press("Enter")
    settle(page)
    upload(page, tmp_path, "note.png", (0, 230, 230))
    click_predict(page)
    wait_for_results(page)
    assert_nothing_reached_out(page, pixels, "Detection")
    cleaned = f"x Your key expired {pixels.base()}/bare-note $x^2$"  # the label, markdown links and tags taken out
    assert_shown(page, f'The model also used labels you did not name: "{cleaned}"')
    screenshot(page, "outside-text-notes")


def test_addresses_and_file_names_of_images_that_cannot_be_added_stay_text(app_url, page, pixels):
    refused = f"{pixels.base()}/url-loopback.png"  # refused before any fetch: it names this machine
    unknown = f"https://example.invalid/![x]({pixels.base()}/img-url.png)"  # a host that cannot be found
    spaced = pixels.payload("url")  # refused as it is read: addresses hold no spaces
    page.goto(f"{app_url}/Classification{share_query(SharedPage(urls=(refused, unknown, spaced)))}")
    settle(page)
    page.get_by_text("3 images could not be added").wait_for(timeout=30_000)
    assert_nothing_reached_out(page, pixels, "the link's image addresses")
    assert_shown(page, refused, unknown, spaced[:30])
    screenshot(page, "outside-text-image-addresses")

    name = f"{pixels.payload('file')}.png"  # a name no disk would give, but a browser sends what it is told
    page.locator(UPLOAD_INPUT).set_input_files(
        [{"name": name, "mimeType": "image/png", "buffer": b"not a picture"}]
    )
    page.get_by_text("is not in an image format the app can read").wait_for(timeout=30_000)
    settle(page)
    assert_nothing_reached_out(page, pixels, "the file's problem")
    assert_shown(page, name)
    screenshot(page, "outside-text-file-name")
