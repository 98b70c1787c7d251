"""Text from outside is shown as plain text: a model's answer, name and labels, a file name, a share
link's prompt. Each place that shows one is fed a payload of markdown images and links, KaTeX and
Streamlit directives, and every element on the page is read as Streamlit's markdown would read it:
no image, no link to the payload's host, no math, no directive may come of it."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from markdown_it import MarkdownIt

from components.outputs.share import SharedPage, share_query
from components.tasks import QWEN_VL
from components.text import plain
from tests.apptest import no_traceback, open_page, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square
from tests.outputs.test_share import params

HOST = "127.0.0.1:9"
PAYLOAD = f"![pixel](http://{HOST}/p.png) [Your key expired](http://{HOST}/login) $x^2$ :red[alert] <img src=x> **bold**"
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
MARKDOWN_KINDS = ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader", "toast")


def rendered_problems(body: str) -> list[str]:
    """What Streamlit's markdown would make of `body` that plain text must never become."""
    problems = []
    for token in MARKDOWN.parse(body):
        for child in [token, *(token.children or [])]:
            if child.type == "image":
                problems.append(f"an image: {child.attrs}")
            if child.type == "link_open" and HOST in str(child.attrs.get("href", "")):
                problems.append(f"a link: {child.attrs}")
            if child.type == "html_inline":
                problems.append(f"HTML: {child.content}")
    if re.search(r"(?<!\\)\$x\^2(?<!\\)\$", body):
        problems.append("math")
    if re.search(r"(?<!\\):red(?<!\\)\[", body):
        problems.append("a directive")
    return problems


def assert_plain(at) -> None:
    found = []
    for kind in MARKDOWN_KINDS:
        for element in getattr(at, kind):
            body = str(element.value)
            if "127.0.0.1" in body or "x^2" in body:
                found += [f"{kind}: {problem}" for problem in rendered_problems(body)]
    for radio in at.radio:
        for option in radio.options:
            found += [f"radio option: {problem}" for problem in rendered_problems(str(option))]
    assert found == []


def test_the_payload_is_caught_by_the_check_when_not_made_plain():
    assert len(rendered_problems(PAYLOAD)) == 5
    assert rendered_problems(plain(PAYLOAD)) == []


@pytest.fixture
def hostile_names(fake_clarifai):
    """A published VLM whose name is the payload."""
    fake_clarifai.catalogue = [replace(m, name=PAYLOAD) if m.path == QWEN_VL.path else m for m in fake_clarifai.catalogue]
    return fake_clarifai


def test_a_caption_prompt_file_name_and_model_name_from_outside_stay_plain(clarifai_env, hostile_names):
    hostile_names.runner(QWEN_VL.path).script_replies(PAYLOAD)
    link = share_query(SharedPage(model=QWEN_VL, prompt=PAYLOAD))
    at = open_page("home", key=TEST_KEY)
    for name, value in params(link).items():
        at.query_params[name] = value
    at = at.switch_page("app_pages/4_Captioning.py").run()
    at = predict(upload(at, (f"{PAYLOAD}.png", png_bytes(scene_with_square()))))
    no_traceback(at)
    assert any("asked: “" in element.value and "127" in element.value for element in at.caption), "the prompt is echoed"
    assert_plain(at)


def test_labels_and_notes_a_model_writes_stay_plain(clarifai_env, hostile_names):
    answer = json.dumps([{"bbox_2d": [10, 10, 120, 90], "label": PAYLOAD}, {"bbox_2d": [150, 30, 250, 100], "label": "x"}])
    hostile_names.runner(QWEN_VL.path).script_replies(answer)
    at = open_page("detection", key=TEST_KEY)
    at = at.text_input(key="detection_things").input("cats").run()
    at = predict(upload(at, ("square.png", png_bytes(scene_with_square()))))
    no_traceback(at)
    assert any("127.0.0.1" in element.value for element in at.caption), "the label is listed"
    assert_plain(at)


def test_captions_on_all_tasks_stay_plain(clarifai_env, hostile_names):
    runner = hostile_names.runner(QWEN_VL.path)
    runner.script_replies(*([PAYLOAD] * 6))
    at = predict(upload(open_page("all", key=TEST_KEY), ("square.png", png_bytes(scene_with_square()))))
    no_traceback(at)
    assert_plain(at)
