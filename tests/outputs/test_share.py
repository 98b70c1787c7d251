"""Share links: what a page's link carries and what opening one restores; never the key, never uploads."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.models import ModelRef
from components.outputs.share import MAX_URLS, SharedPage, read_share, share_query
from components.run.backend import Backend
from components.ui import share as ui_share
from tests.apptest import no_traceback, open_page, page_text, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square

QWEN = ModelRef("qwen", "qwen-VL", "Qwen2_5-VL-7B-Instruct")
SQUARE = png_bytes(scene_with_square())
SQUARE_URL = "https://images.example/square.png"


def params(query: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(query).query, keep_blank_values=True)


def test_a_page_goes_into_a_link_and_comes_back_the_same():
    page = SharedPage(
        model=QWEN, prompt='What is "this"?\nSay it & more', labels="cat, dog", min_value=0.25, max_concepts=7,
        select="Person", urls=("https://a.example/x.jpg?size=2&b=1", "https://b.example/y.png"), clarifai_fetches_urls=True,
    )
    query = share_query(page)
    assert query.startswith("?model=qwen%2Fqwen-VL")
    assert read_share(params(query)) == page


@pytest.mark.parametrize(
    ("given_params", "problem"),
    [
        ({"model": ["not a model"]}, "model was left out"),
        ({"min_value": ["nan"]}, "minimum score"),
        ({"min_value": ["7"]}, "minimum score"),
        ({"max_concepts": ["2.5"]}, "number of concepts"),
        ({"url": ["javascript:alert(1)"]}, "image address in the link was left out"),
        ({"url": ["file:///etc/passwd"]}, "image address in the link was left out"),
        ({"url": [f"https://x.example/{i}.jpg" for i in range(MAX_URLS + 5)]}, f"the first {MAX_URLS} were added"),
    ],
)
def test_what_a_link_carries_is_checked_like_anything_typed(given_params, problem):
    shared = read_share(given_params)
    assert any(problem in p for p in shared.problems), shared.problems
    assert len(shared.urls) <= MAX_URLS


@given(st.dictionaries(st.sampled_from(["model", "prompt", "labels", "min_value", "max_concepts", "select", "fetch", "url"]),
                       st.lists(st.text(max_size=300), max_size=40)))
def test_any_link_opens_without_raising(given_params):
    shared = read_share(given_params)
    assert len(shared.prompt) <= 4000 and len(shared.urls) <= MAX_URLS
    assert shared.min_value is None or 0 <= shared.min_value <= 1


def test_opening_a_shared_link_restores_the_model_request_settings_and_images(clarifai_env, monkeypatch):
    monkeypatch.setattr(ui_share, "prepare_url", lambda url, options: _fetched(url, options))
    link = share_query(SharedPage(model=QWEN, labels="red things", urls=(SQUARE_URL,), min_value=0.2))
    at = open_page("home", key=TEST_KEY)
    for name, value in params(link).items():
        at.query_params[name] = value
    at = at.switch_page("app_pages/2_Detection.py").run()
    no_traceback(at)
    assert at.text_input(key="detection_things").value == "red things"
    assert at.session_state["min_value"] == pytest.approx(0.2)
    assert "1 image chosen" in page_text(at)
    assert not at.query_params, "the link's query is cleared once opened"
    at = predict(at)
    no_traceback(at)
    assert {call.model_path for call in clarifai_env.prediction_calls()} == {QWEN.short_path}


def _fetched(url, options):
    from components.images.preparation import prepare_upload

    image = prepare_upload(url, SQUARE, options)
    from dataclasses import replace

    return replace(image, source="url", url=url)


def test_a_pages_link_holds_its_model_and_image_addresses_but_no_key_and_no_uploads(clarifai_env, monkeypatch):
    monkeypatch.setattr(ui_share, "prepare_url", lambda url, options: _fetched(url, options))
    at = open_page("home", key=TEST_KEY)
    at.query_params["url"] = [SQUARE_URL]
    at = at.switch_page("app_pages/2_Detection.py").run()
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at.text_input(key="pat").input(TEST_KEY).run()
    at = predict(upload(at, ("uploaded.png", png_bytes(scene_with_square(color_bgr=(230, 60, 20))))))
    no_traceback(at)
    [link] = [c.value for c in at.code if "?model=" in c.value]  # the link, not the code beside the result
    assert TEST_KEY not in link and "uploaded" not in link
    assert params(link)["url"] == [SQUARE_URL]
    assert params(link)["model"] == [QWEN.short_path]
    assert any("uploaded picture is not in it" in c.value for c in at.caption), [c.value for c in at.caption]


@pytest.mark.parametrize("address", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9000/x.jpg"])
def test_a_link_letting_clarifai_fetch_a_private_address_is_refused_and_never_sent(clarifai_env, address):
    link = share_query(SharedPage(model=QWEN, urls=(address, SQUARE_URL), clarifai_fetches_urls=True))
    at = open_page("home", key=TEST_KEY)
    for name, value in params(link).items():
        at.query_params[name] = value
    at = at.switch_page("app_pages/2_Detection.py").run()
    no_traceback(at)
    shown = page_text(at)
    assert "only public addresses can be fetched" in shown
    assert "1 image chosen" in shown, "the public address is kept"
    at = predict(at)
    no_traceback(at)
    calls = clarifai_env.prediction_calls()
    assert calls, "the public address was predicted"
    assert address not in "".join(str(call.request) for call in calls), "the server never received it"


@pytest.mark.parametrize(
    ("page", "carried", "left_out"),
    [
        ("app_pages/4_Captioning.py", set(), {"min_value", "max_concepts", "select"}),
        ("app_pages/1_Classification.py", {"max_concepts"}, set()),
    ],
)
def test_a_link_carries_only_the_settings_that_mean_something_for_its_task(clarifai_env, page, carried, left_out):
    at = open_page("home", key=TEST_KEY).switch_page(page).run()
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at = predict(upload(at, ("square.png", png_bytes(scene_with_square()))))
    [link] = [c.value for c in at.code if "?" in c.value and "model=" in c.value]
    for name in carried:
        assert name in params(link), link
    for name in left_out:
        assert name not in params(link), link
