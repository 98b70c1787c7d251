"""Prompted vision on every page, under AppTest, against vision-language models served by Clarifai's
runner code: labels to choose from, things to find, a caption prompt with presets, Segment Anything;
and answers that are not what was asked for."""

from __future__ import annotations

import re

import pytest

from components.tasks import MODEL_ESTIMATE_NOTE
from tests.apptest import answer_blocks, no_traceback, open_page, page_text, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square

MM_POLY = "clarifai/main/mm-poly-8b/7a1b2c3d4e5f60718293a4b5c6d7e8f9"
QWEN = "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct"
RED_SQUARE = ("red-square.png", png_bytes(scene_with_square(box=(0.1, 0.2, 0.5, 0.6))))  # 400x300
BLUE_SQUARE = ("blue-square.png", png_bytes(scene_with_square(box=(0.4, 0.4, 0.9, 0.9), color_bgr=(230, 60, 20))))


def with_model(at, task: str, path: str):
    at.radio(key=f"model_source_{task}").set_value("typed").run()
    return at.text_input(key=f"model_text_{task}").input(path).run()


def prompts_sent(fake) -> list[str]:
    return [
        part.data.string_value
        for call in fake.prediction_calls()
        for item in call.request.inputs
        for part in item.data.parts
        if part.id == "prompt"
    ]


def test_classification_with_a_vlm_chooses_from_the_labels_listed(clarifai_env):
    at = with_model(open_page("classification", key=TEST_KEY), "classification", "clarifai/main/mm-poly-8b")
    assert MODEL_ESTIMATE_NOTE in page_text(at), "the page says the scores are the model's own estimate"
    at.text_area(key="classification_labels").input("red, blue, landscape, portrait").run()
    at = predict(upload(at, RED_SQUARE))
    no_traceback(at)
    [prompt] = prompts_sent(clarifai_env)
    assert '["red", "blue", "landscape", "portrait"]' in prompt and "confidence" in prompt
    table = at.dataframe[-1].value
    assert table["concept"].tolist()[0] == "landscape" and set(table["concept"]) <= {"red", "blue", "landscape", "portrait"}
    assert table["score"].is_monotonic_decreasing
    assert MODEL_ESTIMATE_NOTE in page_text(at)
    assert any(e.label == "The model's own answer" for e in at.expander)


def test_classification_with_a_vlm_and_no_labels_lets_the_model_name_what_it_sees(clarifai_env):
    at = with_model(open_page("classification", key=TEST_KEY), "classification", QWEN)
    at = predict(upload(at, RED_SQUARE))
    no_traceback(at)
    assert "red" in at.dataframe[-1].value["concept"].tolist()


def test_detection_with_a_vlm_boxes_what_was_named(clarifai_env):
    at = open_page("detection", key=TEST_KEY)  # today's default: Qwen2.5-VL, grounded boxes
    at.text_input(key="detection_things").input("red things, blue things").run()
    at = predict(upload(at, RED_SQUARE))
    no_traceback(at)
    [prompt] = prompts_sent(clarifai_env)
    assert "bbox_2d" in prompt and '["red things", "blue things"]' in prompt and "400x300" in prompt
    regions = at.dataframe[-1].value
    assert regions["concept"].tolist() == ["red"]
    corners = [int(n) for n in regions.iloc[0]["box"].replace("–", ",").split(",")]
    assert corners == pytest.approx([80, 30, 240, 150], abs=3)


def test_a_caption_preset_becomes_the_prompt_sent(clarifai_env):
    at = open_page("captioning", key=TEST_KEY)
    at.pills(key="captioning_preset").set_value("Alt text").run()
    assert at.text_area(key="captioning_prompt").value.startswith("Write alt text for this image")
    at.text_area(key="captioning_prompt").input("What colour is the square?").run()
    at = predict(upload(at, RED_SQUARE))
    no_traceback(at)
    assert prompts_sent(clarifai_env) == ["What colour is the square?"]
    [code] = answer_blocks(at)
    assert "you asked: \"What colour is the square?\"" in code.value
    assert "tokens in" not in page_text(at), "a hosted VLM's stream carries no token counts, and none are made up"
    assert clarifai_env.calls_to("GenerateModelOutputs"), "the caption was streamed"


def test_a_caption_from_a_model_reporting_no_tokens_says_so_with_its_time(clarifai_env):
    from tests.fake_clarifai import TOKEN_CATALOGUE

    clarifai_env.catalogue.extend(TOKEN_CATALOGUE)
    at = with_model(open_page("captioning", key=TEST_KEY), "captioning", "test-user/tokens/uncounted-captioner")
    at = predict(upload(at, RED_SQUARE))
    no_traceback(at)
    [facts] = [c.value for c in at.caption if ":material/timer:" in c.value]
    assert "tokens not reported by this model" in facts
    assert re.search(r"timer: (\d+ ms|under 1 ms|\d+\.\d s) ·", facts) and "0.0 s" not in facts


@pytest.mark.parametrize(
    ("prompt", "words"), [("   ", "The prompt is empty"), ("x" * 5000, "at most 4,000")]
)
def test_a_prompt_that_cannot_be_sent_disables_predict_and_says_why(clarifai_env, prompt, words):
    at = upload(open_page("captioning", key=TEST_KEY), RED_SQUARE)
    at = at.text_area(key="captioning_prompt").input(prompt).run()
    assert at.button(key="predict").disabled
    assert words in page_text(at)


def test_segment_anything_masks_show_with_their_share(clarifai_env):
    at = predict(upload(open_page("segmentation", key=TEST_KEY), RED_SQUARE))
    no_traceback(at)
    shares = at.dataframe[-1].value
    percents = shares["share_text"].str.rstrip(" %").astype(float)
    assert all(name.startswith("segment ") for name in shares["concept"])
    assert percents.sum() == pytest.approx(100, abs=2)
    assert any(share == pytest.approx(16, abs=2) for share in percents), "the square covers 16 %"


@pytest.mark.parametrize(
    "reply",
    [
        "Sorry, I can't see any boxes here.",
        '{"objects": "none"}',
        '```json\n[{"bbox_2d": [500, 400, 900, 800], "label": "outside"}]\n```',
        "[" + ",".join('{"bbox_2d": [1, 1, 2, 2], "label": "<b>x</b>"}' for _ in range(10_000)) + "]",
    ],
)
def test_an_unusable_vlm_answer_shows_its_text_and_a_note_and_the_other_images_keep_their_results(clarifai_env, reply):
    clarifai_env.script_replies(QWEN, reply)
    at = predict(upload(open_page("detection", key=TEST_KEY), RED_SQUARE, BLUE_SQUARE))
    no_traceback(at)
    assert "2 with results" in page_text(at)
    assert any(e.label == "The model's own answer" for e in at.expander)
    notes = [c.value for c in at.caption if ":material/warning:" in c.value]
    assert notes, "a clear note says what was wrong with the answer"
    found = set().union(*(set(t.value["concept"]) for t in at.dataframe if "concept" in t.value.columns))
    assert found & {"red", "blue"}, "the other image is answered as usual"
