"""Text in the picture under AppTest, against the local Clarifai server (whose OCR models read the
pixels received with Tesseract): the default DeepSeek-OCR, Qwen2.5-VL asked for JSON lines, an
old-style OCR model, the TXT and JSON downloads, All tasks and Compare; and offline, the page
says what reading text needs."""

from __future__ import annotations

import json

import pytest

from components.colors import color_for
from components.results import TEXT_CONCEPT
from components.tasks import DEEPSEEK_OCR, QWEN_VL, Task
from tests.apptest import answer_blocks, as_read, built, no_traceback, open_page, page_text, predict, upload, visible_text
from tests.conftest import TEST_KEY, require_tesseract
from tests.fake_clarifai import classic_model_for
from tests.helpers import PRINTED_LINES, png_bytes, scene_with_text

SIGN = ("sign.png", png_bytes(scene_with_text()))
COMPARE = "app_pages/7_Compare.py"


@pytest.fixture(autouse=True)
def _tesseract():
    require_tesseract()


def text_blocks(at) -> list[str]:
    """The copyable blocks holding text read (not a model's own raw answer)."""
    return [block.value for block in answer_blocks(at) if "<|ref|>" not in block.value and "```" not in block.value]


def test_the_default_model_reads_each_line_whole_and_offers_text_and_json(clarifai_env, deferred_downloads):
    at = predict(upload(open_page("ocr", key=TEST_KEY), SIGN))
    no_traceback(at)
    assert not at.error
    [call] = clarifai_env.prediction_calls()
    assert call.model_path == DEEPSEEK_OCR.path
    assert "\n".join(PRINTED_LINES) in text_blocks(at)
    assert "2 lines, 5 words read." in page_text(at)
    assert "2 lines of text outlined." in page_text(at)

    text = built(deferred_downloads, "text-read.txt").decode()
    assert text == "== sign.png ==\n" + "\n".join(PRINTED_LINES) + "\n"
    lines = json.loads(built(deferred_downloads, "text-lines.json"))["images"][0]["lines"]
    assert [line["text"] for line in lines] == list(PRINTED_LINES)
    assert all(line["box"] and len(line["box_px"]) == 4 for line in lines)


def test_a_vision_language_model_is_asked_for_json_lines_and_read_the_same(clarifai_env):
    at = open_page("ocr", key=TEST_KEY)
    at.sidebar.selectbox(key="model_suggested_ocr").set_value(QWEN_VL.path).run()
    at = predict(upload(at, SIGN))
    no_traceback(at)
    [call] = clarifai_env.prediction_calls()
    assert call.model_path == QWEN_VL.path
    assert "\n".join(PRINTED_LINES) in text_blocks(at)


def test_an_old_style_ocr_model_answers_regions_with_text_and_its_lines_are_shown(clarifai_env, classic_clarifai):
    at = open_page("ocr", key=TEST_KEY)
    at.sidebar.radio(key="model_source_ocr").set_value("typed").run()
    at.sidebar.text_input(key="model_text_ocr").input(classic_model_for(Task.OCR.spec).path).run()
    at = predict(upload(at, SIGN))
    no_traceback(at)
    assert not at.error, [as_read(e.value) for e in at.error]
    assert "\n".join(PRINTED_LINES) in text_blocks(at)
    [table] = [t.value for t in at.dataframe if "line" in t.value.columns]
    assert table["concept"].tolist() == list(PRINTED_LINES)


def test_all_tasks_reads_the_text_beside_the_other_tasks_and_lists_its_lines_once(clarifai_env):
    at = predict(upload(open_page("all", key=TEST_KEY), SIGN))
    no_traceback(at)
    [summary] = [m.value for m in at.markdown if m.value.startswith("**1 image · ")]
    assert f"**{Task.OCR.title}** (" in summary
    shown = visible_text(at)
    assert all(line in shown for line in PRINTED_LINES)
    [chips] = [m.value for m in at.markdown if "border-radius" in m.value]
    assert f"background-color:{color_for(TEXT_CONCEPT).hex}" in chips
    assert f">{TEXT_CONCEPT}: 2 boxes<" in chips, "the lines are one entry, not one concept per line"
    assert TEXT_CONCEPT in at.pills[0].options and not set(PRINTED_LINES) & set(at.pills[0].options)


def test_compare_sets_two_texts_side_by_side_with_the_share_of_words_in_common(clarifai_env):
    at = open_page("home", key=TEST_KEY).switch_page(COMPARE).run()
    at.segmented_control(key="compare_task").set_value(Task.OCR).run()
    at.selectbox(key="compare_model_ocr_1").set_value(QWEN_VL.path).run()
    at = predict(upload(at, SIGN))
    no_traceback(at)
    assert {call.model_path for call in clarifai_env.prediction_calls()} == {DEEPSEEK_OCR.path, QWEN_VL.path}
    text = page_text(at)
    assert "Agreement over all images: 100%" in text and "(words the texts read have in common)" in text
    assert sum(1 for element in at.text if element.value == "\n".join(PRINTED_LINES)) == 2


def test_offline_the_page_says_reading_text_needs_a_clarifai_model_and_offers_no_predict(offline_env):
    at = upload(open_page("ocr"), SIGN)
    no_traceback(at)
    assert at.button(key="predict").disabled
    assert "Reading text needs a Clarifai model" in page_text(at)
