"""Every page under Streamlit's AppTest, offline and against the local Clarifai server."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from components import colors
from components.run.backend import Backend
from components.tasks import Task
from tests.apptest import (
    PAGES,
    answer_blocks,
    as_read,
    no_traceback,
    open_page,
    page_text,
    photo,
    predict,
    upload,
    visible_text,
)
from tests.conftest import TEST_KEY
from tests.fake_clarifai import Fault
from tests.helpers import jpeg_bytes, png_bytes, scene_with_square

# --- offline, no key, no network -----------------------------------------------------------------


def test_home_explains_the_app_and_shows_setup_with_no_key(offline_env):
    at = open_page("home")
    no_traceback(at)
    text = page_text(at)
    assert "Clarifai's image models on your own pictures" in text
    assert "**Offline**: local OpenCV models on this server · no key needed" in text
    assert "api.clarifai.com" not in text, "no endpoint while offline"
    assert "clarifai/main/general-image-recognition" in text
    assert at.get("metric") == [], "a line, not three big cards"


def test_offline_classification_names_colors_and_says_it_is_local(offline_env, testdata):
    at = upload(open_page("classification"), photo(testdata, "coffee.png"))
    at = predict(at)
    no_traceback(at)
    assert "Local OpenCV model" in page_text(at)
    table = at.dataframe[-1].value
    assert list(table.columns) == ["concept", "score"]
    assert table["score"].is_monotonic_decreasing
    assert "Clarifai API" not in page_text(at).split("Results")[-1]


def test_a_session_that_chose_offline_before_it_was_called_local_stays_on_the_local_models(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY, state={"backend": "offline"})  # the owner's key: Clarifai by default
    no_traceback(at)
    assert "Local OpenCV model" in page_text(at)
    at = predict(upload(at, photo(testdata, "coffee.png")))
    no_traceback(at)
    assert list(at.dataframe[-1].value.columns) == ["concept", "score"]
    assert not clarifai_env.calls_to("PostModelOutputs")


def test_offline_detection_finds_the_face(offline_env, testdata):
    at = predict(upload(open_page("detection"), photo(testdata, "astronaut.png")))
    no_traceback(at)
    regions = at.dataframe[-1].value
    assert "face" in list(regions["concept"])
    assert len(at.image) >= 1


def test_offline_segmentation_shares_sum_to_one(offline_env, testdata):
    at = predict(upload(open_page("segmentation"), photo(testdata, "chelsea.png")))
    no_traceback(at)
    [chart] = at.get("vega_lite_chart")
    bars = convert_arrow_bytes_to_pandas_df(chart.proto.data.data)
    assert bars["value"].sum() == pytest.approx(1.0, abs=0.01)
    table = at.dataframe[-1].value
    assert table.columns[0] == "concept"
    # the share in one form: the table says it as the chart's bars do ("36 %"), not "36.12%" beside a bar
    assert table.iloc[:, 1].tolist() == bars["text"].tolist()
    assert all(text.endswith(" %") for text in table.iloc[:, 1])
    assert at.get("pills"), "a toggle per segment"


@pytest.mark.parametrize("page", ["classification", "segmentation"])
def test_offline_color_concepts_are_their_own_color_in_the_chart_and_the_table(offline_env, testdata, page):
    at = predict(upload(open_page(page), photo(testdata, "chelsea.png")))
    no_traceback(at)
    named = {color.name: color.color.hex for color in colors.NAMED_COLORS}
    [chart] = at.get("vega_lite_chart")
    bars = convert_arrow_bytes_to_pandas_df(chart.proto.data.data)
    assert len(bars) >= 2
    assert dict(zip(bars["concept"], bars["color"])) == {name: named[name] for name in bars["concept"]}
    table = at.dataframe[-1]
    styles = table.proto.arrow_data.styler.styles
    for row, name in enumerate(table.value["concept"]):
        assert re.search(rf"_row{row}_col0 {{ background-color: {named[name]};", styles), name


def test_offline_captioning_says_it_needs_clarifai_and_offers_no_predict_that_can_only_fail(offline_env, testdata):
    at = upload(open_page("captioning"), photo(testdata, "coffee.png"))
    no_traceback(at)
    assert at.button(key="predict").disabled
    assert "Captioning needs a Clarifai model" in page_text(at)
    assert "needs a vision-language model on Clarifai" in page_text(at), "the prompt box says prompts need Clarifai"


def test_offline_all_tasks_runs_three_tasks(offline_env, testdata):
    at = predict(upload(open_page("all"), photo(testdata, "astronaut.png")))
    no_traceback(at)
    text = page_text(at)
    [summary] = [m.value for m in at.markdown if m.value.startswith("**1 image** — ")]
    for title in ("Classification", "Detection", "Segmentation"):
        assert f"**{title}** (" in summary and "1/1 with results" in summary
    assert "Captioning and Text in the picture need a Clarifai model" in text


# --- bad input -----------------------------------------------------------------------------------


def test_bad_files_get_their_own_message_and_the_good_ones_still_run(offline_env, testdata):
    broken = testdata / "broken"
    at = upload(
        open_page("classification"),
        ("empty.jpg", (broken / "empty.jpg").read_bytes()),
        ("truncated_jpeg.jpg", (broken / "truncated_jpeg.jpg").read_bytes()),
        ("hopper.jpg", (testdata / "formats" / "hopper.heif").read_bytes()),  # a HEIF file under another name
        photo(testdata, "coffee.png"),
    )
    no_traceback(at)
    messages = [as_read(e.value) for e in at.error]
    assert any("empty.jpg" in m for m in messages)
    assert any("truncated_jpeg.jpg" in m for m in messages)
    assert any("HEIF" in m for m in messages)
    assert "1 image chosen" in page_text(at)
    at = predict(at)
    no_traceback(at)
    assert "1 with results" in page_text(at)


def test_a_refused_url_says_why_and_nothing_is_lost(offline_env, testdata):
    at = upload(open_page("detection"), photo(testdata, "astronaut.png"))
    at.text_area(key="url_text").input("http://169.254.169.254/latest/meta-data\nftp://example.com/a.jpg")
    at = at.button[0].click().run()  # the form's submit button
    no_traceback(at)
    messages = " ".join(as_read(e.value) for e in at.error)
    assert "169.254.169.254" in messages
    assert "ftp" in messages.lower()
    assert "1 image chosen" in page_text(at)


# --- against the local Clarifai server -----------------------------------------------------------


@pytest.mark.parametrize("page", ["classification", "detection", "segmentation", "captioning"])
def test_each_page_predicts_through_clarifai_with_upright_bytes(clarifai_env, testdata, page):
    at = open_page(page, key=TEST_KEY)
    at = predict(upload(at, photo(testdata, "coffee.png"), photo(testdata, "Landscape_6.jpg")))
    no_traceback(at)
    calls = clarifai_env.prediction_calls()
    assert calls and all(call.metadata["authorization"] == f"Key {TEST_KEY}" for call in calls)
    sent = [Image.open(io.BytesIO(image)) for call in calls for image in call.images]
    assert len(sent) == 2
    assert all(image.width > image.height for image in sent), "the EXIF-6 photo went out upright"
    assert "2 with results" in page_text(at)
    assert "Clarifai" in page_text(at)


def test_classification_shows_the_concepts_clarifai_returned(clarifai_env, testdata):
    at = predict(upload(open_page("classification", key=TEST_KEY), photo(testdata, "Landscape_6.jpg")))
    concepts = at.dataframe[-1].value
    assert concepts.iloc[0]["concept"] == "landscape"  # the fake saw an upright picture


def test_detection_draws_and_lists_the_box(clarifai_env):
    image = png_bytes(scene_with_square(box=(0.1, 0.2, 0.5, 0.6)))
    at = predict(upload(open_page("detection", key=TEST_KEY), ("square.png", image)))
    regions = at.dataframe[-1].value
    assert list(regions["concept"]) == ["red"]
    corners = [int(n) for n in regions.iloc[0]["box"].replace("–", ",").split(",")]
    assert corners == pytest.approx([80, 30, 240, 150], abs=2)  # the square sits at x 80–240, y 30–150


def test_captions_show_once_as_plain_text(clarifai_env, testdata):
    at = predict(upload(open_page("captioning", key=TEST_KEY), photo(testdata, "Landscape_6.jpg")))
    [text] = answer_blocks(at)  # st.text: the caption as written, selectable, not in a code box
    assert text.value.startswith("a landscape picture (1024x683)")
    assert visible_text(at).count(text.value) == 1, "the caption is not repeated as a heading"
    assert not [c for c in at.code if text.value in c.value], "no code box holds it"


def result_picture(at):
    """The annotated picture of the only result card: the one picture with alt text."""
    [picture] = [image.proto.imgs[0] for image in at.image if image.proto.imgs[0].alt]
    return picture


def select_rows(at, rows: list[int]):
    """Selects rows of the last table, as a click on their checkboxes does."""
    at.session_state[at.dataframe[-1].key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def test_detection_labels_and_scores_are_on_the_page_as_text(offline_env, testdata):
    at = predict(upload(open_page("detection"), photo(testdata, "astronaut.png")))
    no_traceback(at)
    regions = at.dataframe[-1].value
    assert len(regions) >= 2
    picture = result_picture(at)
    [boxes_line] = [caption.value for caption in at.caption if caption.value.startswith("**Boxes:**")]
    assert picture.alt.startswith(f"astronaut.png: {len(regions)} boxes drawn: ")
    for name, score in zip(regions["concept"], regions["score"]):
        assert f"{name} {score:.2f}" in picture.alt  # for a screen reader
        assert f"{name} {score:.2f}" in boxes_line  # for everyone, and the page's text search


def test_selecting_table_rows_picks_their_boxes_out_on_the_picture(offline_env, testdata):
    at = predict(upload(open_page("detection"), photo(testdata, "astronaut.png")))
    regions = at.dataframe[-1].value
    before = result_picture(at)
    at = select_rows(at, [1])
    no_traceback(at)
    picked = result_picture(at)
    assert picked.url != before.url, "the picture was drawn again"
    assert picked.alt.endswith(f"Picked out: {regions['concept'][1]} {regions['score'][1]:.2f}.")
    assert any(c.value.startswith("**Boxes:**") and "**Picked out:**" in c.value for c in at.caption)
    at = select_rows(at, [])
    assert result_picture(at).url == before.url


def test_picking_a_box_out_calls_no_model(clarifai_env):
    image = png_bytes(scene_with_square(box=(0.1, 0.2, 0.5, 0.6)))
    at = predict(upload(open_page("detection", key=TEST_KEY), ("square.png", image)))
    calls = len(clarifai_env.prediction_calls())
    before = result_picture(at).url
    at = select_rows(at, [0])
    assert result_picture(at).url != before
    assert len(clarifai_env.prediction_calls()) == calls


def test_a_new_threshold_starts_with_no_box_picked_out(offline_env, testdata):
    # A selection is of rows as they were: when the rows change, it must not land on another box.
    # At 0.8 the astronaut's face stays and the person found from it goes.
    at = predict(upload(open_page("detection"), photo(testdata, "astronaut.png")))
    at = select_rows(at, [0])
    assert "Picked out" in result_picture(at).alt
    at.slider(key="detection_min_score").set_value(0.8).run()
    assert "Picked out" not in result_picture(at).alt


def test_the_detection_threshold_says_it_filters_without_a_new_call(offline_env):
    at = open_page("detection")
    at = predict(upload(at, ("scene.png", png_bytes(scene_with_square()))))
    help_text = at.slider(key="detection_min_score").help
    assert "no new call" in help_text and "Minimum score" in help_text


def test_selecting_a_segment_row_picks_it_out(offline_env, testdata):
    at = predict(upload(open_page("segmentation"), photo(testdata, "chelsea.png")))
    table = at.dataframe[-1].value
    before = result_picture(at)
    assert before.alt.startswith("chelsea.png: ") and all(name in before.alt for name in table["concept"])
    at = select_rows(at, [0])
    picked = result_picture(at)
    assert picked.url != before.url
    assert picked.alt.endswith(f"Picked out: {table['concept'][0]} {table.iloc[0, 1]}.")


def test_all_tasks_runs_four_models_at_once(clarifai_env, testdata):
    at = predict(upload(open_page("all", key=TEST_KEY), photo(testdata, "coffee.png")))
    no_traceback(at)
    models = {call.model_path for call in clarifai_env.prediction_calls()}
    assert models == {task.spec.default_model.short_path for task in Task}
    text = page_text(at)
    assert "“a landscape picture" in text
    assert re.search(r"\d+ segments?\b", text)


def test_a_wrong_key_gets_a_message_before_predict_and_the_images_stay(clarifai_env, testdata):
    at = open_page("detection")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at.text_input(key="pat").input("definitely-wrong").run()
    at = upload(at, photo(testdata, "coffee.png"))
    no_traceback(at)
    assert any("Clarifai refused the key" in e.value for e in at.sidebar.error)
    assert at.button(key="predict").disabled
    assert not clarifai_env.prediction_calls()
    assert "1 image chosen" in page_text(at)
    assert "definitely-wrong" not in page_text(at)


def test_no_key_with_the_clarifai_backend_says_what_to_do(clarifai_env, testdata):
    at = open_page("classification")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at = predict(upload(at, photo(testdata, "coffee.png")))
    no_traceback(at)
    assert any("needs a key" in as_read(e.value) for e in at.error)


def test_a_retired_model_asks_for_another(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY)
    at.radio(key="model_source_classification").set_value("typed").run()
    at.text_input(key="model_text_classification").input("clarifai/main/general-image-detection").run()
    at = upload(at, photo(testdata, "coffee.png"))
    no_traceback(at)
    assert any("Pick another model" in e.value for e in at.sidebar.error)  # made private in 2026
    assert at.button(key="predict").disabled


def test_a_default_that_does_not_answer_is_replaced_by_a_suggestion_named_as_such(clarifai_env, testdata):
    clarifai_env.retire("general-image-recognition")
    at = upload(open_page("classification", key=TEST_KEY), photo(testdata, "coffee.png"))
    no_traceback(at)
    note = " ".join(c.value for c in at.sidebar.caption)
    assert "Using MM-Poly-8B (vision-language): General image recognition does not answer with this key" in note
    at = predict(at)
    no_traceback(at)
    assert {call.model_path for call in clarifai_env.prediction_calls()} == {"clarifai/main/mm-poly-8b"}
    assert "1 with results" in page_text(at)


def test_a_model_of_the_wrong_type_is_refused_before_predict(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY)
    at.radio(key="model_source_classification").set_value("typed").run()
    at.text_input(key="model_text_classification").input("https://clarifai.com/clarifai/main/models/logo-detection-v2").run()
    at = upload(at, photo(testdata, "coffee.png"))
    no_traceback(at)
    assert any("needs a visual-classifier model" in e.value for e in at.sidebar.error)
    assert at.button(key="predict").disabled
    assert not clarifai_env.prediction_calls()


def test_an_audio_model_is_refused_with_the_reason(clarifai_env, testdata):
    at = open_page("captioning", key=TEST_KEY)
    at.radio(key="model_source_captioning").set_value("typed").run()
    at = at.text_input(key="model_text_captioning").input("openai/whisper/whisper-large-v3").run()
    assert any("takes audio, not an image" in e.value for e in at.sidebar.error)


def test_a_typed_model_that_is_not_a_reference_disables_predict(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY)
    at.radio(key="model_source_classification").set_value("typed").run()
    at = at.text_input(key="model_text_classification").input("not a model").run()
    no_traceback(at)
    assert any("is not a model reference" in e.value for e in at.sidebar.error)
    assert at.button(key="predict").disabled


def test_the_community_is_searched_and_only_models_the_page_can_use_are_offered(clarifai_env, testdata):
    at = open_page("segmentation", key=TEST_KEY)
    at.radio(key="model_source_segmentation").set_value("browse").run()
    at.toggle(key="model_featured_segmentation").set_value(False).run()
    at = at.button(key="model_search_segmentation").click().run()
    [search] = clarifai_env.calls_to("ListModels")
    assert not search.request.user_app_id.user_id, "across users"
    found = at.radio(key="model_pick_segmentation")
    assert found.options == ["SAM 2.1 Hiera Base+ · meta · visual-segmenter"], "VLMs cannot give masks: not offered"
    assert "Page 1:" in " ".join(c.value for c in at.sidebar.caption)
    at = predict(upload(at, photo(testdata, "coffee.png")))
    no_traceback(at)
    assert clarifai_env.prediction_calls()[-1].model_path == "meta/segment-anything/sam2_1-hiera-base-plus"


def test_a_community_search_finds_models_by_name(clarifai_env, testdata):
    at = open_page("captioning", key=TEST_KEY)
    at.radio(key="model_source_captioning").set_value("browse").run()
    at.text_input(key="model_query_captioning").input("gemma").run()
    at = at.button(key="model_search_captioning").click().run()
    assert at.radio(key="model_pick_captioning").options == ["Gemma 3 4B IT · gcp · any-to-any"]
    assert clarifai_env.calls_to("ListModels")[-1].request.search == "gemma"


def test_an_unreachable_endpoint_says_so(monkeypatch, testdata):
    monkeypatch.setenv("CLARIFAI_GRPC_BASE", "127.0.0.1:9")
    monkeypatch.setenv("CLARIFAI_GRPC_INSECURE", "true")
    at = predict(upload(open_page("classification", key=TEST_KEY), photo(testdata, "coffee.png")))
    no_traceback(at)
    assert any("Could not reach Clarifai" in as_read(e.value) for e in at.error)


def test_mixed_results_show_each_images_error_in_its_place(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY)
    at = upload(at, photo(testdata, "coffee.png"), photo(testdata, "chelsea.png"))
    clarifai_env.fail_next(Fault.fewer_outputs(1))
    at = predict(at)
    no_traceback(at)
    assert "1 with results" in page_text(at) and "1 failed" in page_text(at)
    assert any("no result for this image" in as_read(e.value) for e in at.error)


# --- state, caching and the key ------------------------------------------------------------------


def test_images_and_settings_survive_a_page_switch(offline_env, testdata):
    at = upload(open_page("detection"), photo(testdata, "astronaut.png"))
    at.sidebar.slider(key="min_value").set_value(0.4).run()
    at.switch_page("app_pages/3_Segmentation.py").run()
    no_traceback(at)
    assert "1 image chosen" in page_text(at)
    assert at.sidebar.slider(key="min_value").value == pytest.approx(0.4)
    at.switch_page("app_pages/2_Detection.py").run()
    assert "1 image chosen" in page_text(at)


def test_reruns_and_display_controls_never_call_clarifai_again(clarifai_env):
    image = png_bytes(scene_with_square())
    at = open_page("detection", key=TEST_KEY)
    at.radio(key="model_source_detection").set_value("typed").run()
    at.text_input(key="model_text_detection").input("clarifai/main/logo-detection-v2").run()  # a classic detector
    at = predict(upload(at, ("square.png", image)))
    assert len(clarifai_env.calls_to("PostModelOutputs")) == 1
    at.slider(key="detection_min_score").set_value(1.0).run()
    assert "0 boxes shown, 1 below the threshold" in page_text(at)
    at = predict(at)
    assert len(clarifai_env.calls_to("PostModelOutputs")) == 1
    assert "1 from cache" in page_text(at)


def test_the_owners_key_has_a_budget_per_visitor_counting_images_and_look_ups(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY, CLARIFAI_DEMO_CALL_BUDGET=3)
    # the sidebar looked the model up to say what it is and whether it fits the page
    assert "2 of 3 Clarifai operations left for you today" in " ".join(c.value for c in at.sidebar.caption)
    at = predict(upload(at, photo(testdata, "coffee.png")))  # one image; the look-up is remembered
    assert "1 of 3 Clarifai operations left" in " ".join(c.value for c in at.sidebar.caption)
    at = predict(upload(at, photo(testdata, "chelsea.png")))  # two images, one already predicted
    assert "0 of 3 Clarifai operations left" in " ".join(c.value for c in at.sidebar.caption)
    at = predict(upload(at, photo(testdata, "astronaut.png")))
    no_traceback(at)
    assert any("each visitor spend 3 Clarifai operations a day" in as_read(e.value) for e in at.error)
    assert len(clarifai_env.calls_to("PostModelOutputs")) == 2


def test_visitors_can_be_made_to_bring_their_own_key(clarifai_env, testdata):
    at = open_page("classification", key=TEST_KEY, CLARIFAI_DEMO_REQUIRE_VISITOR_KEY=True)
    assert at.radio(key="backend").value == Backend.LOCAL
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    assert any("needs your own Clarifai key" in w.value for w in at.sidebar.warning)
    at = predict(upload(at, photo(testdata, "coffee.png")))
    assert not clarifai_env.calls_to("PostModelOutputs")


def test_the_key_never_shows_on_any_page(clarifai_env, testdata):
    for page in PAGES:
        at = open_page(page, key=TEST_KEY)
        if page != "home":
            at = predict(upload(at, photo(testdata, "coffee.png")))
        no_traceback(at)
        rendered = str(at._tree)
        assert TEST_KEY not in rendered, page


def test_an_unforeseen_exception_shows_a_message_and_keeps_the_images(offline_env, testdata, monkeypatch):
    from components.run import backend
    def explode(*args, **kwargs):
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(backend, "run_predictions", explode)
    at = predict(upload(open_page("classification"), photo(testdata, "coffee.png")))
    no_traceback(at)
    assert any("unexpected RuntimeError" in as_read(e.value) for e in at.error)
    assert "1 image chosen" in page_text(at)


def test_offline_detection_that_finds_nothing_says_what_it_looks_for(offline_env):
    at = predict(upload(open_page("detection"), ("plain.jpg", jpeg_bytes(320, 240))))
    no_traceback(at)
    assert "No objects found. The local detector looks only for faces" in page_text(at)


def test_submitting_the_same_bad_urls_twice_shows_each_message_once(offline_env):
    at = open_page("classification")
    at.text_area(key="url_text").input("ftp://example.com/a.jpg")
    at = at.button[0].click().run()
    at = at.button[0].click().run()
    no_traceback(at)
    assert sum("ftp:" in as_read(e.value) for e in at.error) == 1


def test_home_says_whose_key_is_in_use_without_showing_it(clarifai_env):
    at = open_page("home", key=TEST_KEY)
    no_traceback(at)
    assert "**Clarifai API** · the app's key (from the secrets)" in page_text(at)
    assert TEST_KEY not in str(at._tree)


def test_a_typed_key_with_characters_a_key_cannot_have_is_refused_before_any_call(clarifai_env, testdata):
    at = open_page("classification")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at.text_input(key="pat").input(TEST_KEY[:10] + "\u200b" + TEST_KEY[10:]).run()
    at = predict(upload(at, photo(testdata, "coffee.png")))
    no_traceback(at)
    messages = " ".join(e.value for e in at.sidebar.error)
    assert "characters a key cannot have" in messages and "zero-width space" in messages
    assert TEST_KEY[:10] not in page_text(at) + messages
    assert not clarifai_env.calls


def test_a_budget_setting_that_is_not_a_whole_number_stops_the_app_with_a_message(offline_env):
    at = open_page("home", CLARIFAI_DEMO_CALL_BUDGET="-1")
    no_traceback(at)
    assert any("CLARIFAI_DEMO_CALL_BUDGET" in as_read(e.value) for e in at.error)
