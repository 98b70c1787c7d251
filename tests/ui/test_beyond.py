"""Beyond the playgrounds, under AppTest: the code beside each result, the HTML report, a camera
photo; the key is in none of them."""

from __future__ import annotations

import ast
import re

from components.run.backend import Backend
from tests.apptest import built, no_traceback, open_page, page_text, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import jpeg_bytes, png_bytes, scene_with_square

SQUARE = ("square.png", png_bytes(scene_with_square()))


def typed_key(at):
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    return at.text_input(key="pat").input(TEST_KEY).run()


def test_each_result_has_the_code_that_makes_the_same_request(clarifai_env):
    at = typed_key(open_page("detection"))
    at.text_input(key="detection_things").input("red things").run()
    at = predict(upload(at, SQUARE))
    no_traceback(at)
    [expander] = [e for e in at.expander if e.label == "Get the code"]
    assert [tab.label for tab in expander.tabs] == ["clarifai SDK", "OpenAI client", "clarifai-grpc"]
    installs = [c.value for c in expander.caption if "pip install" in c.value]
    assert [i.split("`")[-2] for i in installs] == ["pip install clarifai", "pip install openai", "pip install clarifai-grpc"]
    codes = [c.value for c in at.code if "CLARIFAI_PAT" in c.value]
    sdk, openai, grpc = (next(c for c in codes if marker in c) for marker in ("Model(", "OpenAI(", "stub.PostModelOutputs"))
    for code in (sdk, openai, grpc):
        ast.parse(code)
        assert TEST_KEY not in code and 'os.environ["CLARIFAI_PAT"]' in code
        assert "bbox_2d" in code and "red things" in code and "square.png" in code
    assert 'url="https://clarifai.com/qwen/qwen-VL/models/Qwen2_5-VL-7B-Instruct"' in sdk and "model.predict(" in sdk
    assert 'MODEL_URL = "https://clarifai.com/qwen/qwen-VL/models/Qwen2_5-VL-7B-Instruct"' in openai
    assert 'MODEL_ID = "Qwen2_5-VL-7B-Instruct"' in grpc and 'IMAGE_FILE_LOCATION = "square.png"' in grpc
    assert '"_method_name": "predict"' in grpc and "MODEL_VERSION_ID" not in grpc, "no version was named"
    assert "tokens in" in page_text(at), "predict's answer carries its token counts"


def test_a_classic_model_shows_its_grpc_code_first_and_no_openai_form(clarifai_env):
    at = predict(upload(typed_key(open_page("classification")), SQUARE))
    no_traceback(at)
    [expander] = [e for e in at.expander if e.label == "Get the code"]
    assert [tab.label for tab in expander.tabs] == ["clarifai SDK", "clarifai-grpc"]
    [code] = [c.value for c in at.code if "stub.PostModelOutputs" in c.value]
    assert "max_concepts=20" in code and TEST_KEY not in code


def test_local_models_offer_no_code_there_is_no_clarifai_call(offline_env):
    at = predict(upload(open_page("detection"), SQUARE))
    no_traceback(at)
    assert not any(e.label == "Get the code" for e in at.expander)


def test_the_report_holds_the_pictures_and_results_and_no_key(clarifai_env, deferred_downloads):
    at = typed_key(open_page("classification"))
    at = predict(upload(at, SQUARE, ("blue.png", png_bytes(scene_with_square(color_bgr=(230, 60, 20))))))
    no_traceback(at)
    report = built(deferred_downloads, "report.html").decode()
    assert report.startswith("<!doctype html>")
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', report)) == 2
    assert "general-image-recognition" in report and "landscape" in report and "square.png" in report
    assert TEST_KEY not in report and "http" not in report.replace("https://clarifai.com", "")


def test_the_all_tasks_report_draws_every_task_on_each_picture(clarifai_env, deferred_downloads):
    at = predict(upload(typed_key(open_page("all")), SQUARE))
    no_traceback(at)
    report = built(deferred_downloads, "report-all-tasks.html").decode()
    assert "All tasks" in report and "a landscape picture" in report
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', report)) == 1
    assert TEST_KEY not in report


def test_a_camera_photo_is_prepared_like_an_upload(offline_env):
    at = open_page("classification")
    at = at.toggle(key="camera_on").set_value(True).run()
    at.camera_input[0].set_value(("shot.jpg", jpeg_bytes(640, 480, (200, 40, 40)), "image/jpeg")).run()
    at = at.run()
    no_traceback(at)
    assert "1 image chosen" in page_text(at)
    [photo] = list(at.session_state["images"].values())
    assert photo.name.startswith("camera-") and photo.source == "camera" and photo.width == 640
    at = predict(at)
    no_traceback(at)
    assert "1 with results" in page_text(at)
