"""All tasks: segmenting what the detector found, the combined card's legend, toggles, downloads and
summary line; pure pieces first, then the backend and the page against the local Clarifai server."""

from __future__ import annotations

import io
import math
import zipfile

import cv2
import numpy as np
import pytest

from components import colors
from components.drawing.regions import region_color
from components.errors import ModelNotFoundError
from components.images.preparation import prepare_upload
from components.models import ModelInfo, ModelRef
from components.results import Box, Concept, ImageResult, Prediction, Region
from components.run import answers, backend
from components.run.backend import Backend, PredictionCache, RunOutcome, RunPlan, TaskRun
from components.run.combined_results import legend, legend_html, summary_line, toggle_names
from components.run.model_fit import ModelFit, Serving, fit_model
from components.settings import Credentials
from components.signatures import IMAGE, LIST, REGION, Argument, Method, RegionValue
from components.tasks import Task
from tests.apptest import built, no_traceback, open_page, page_text, photo, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes

SAM = Task.SEGMENTATION.spec.default_model
QWEN = Task.DETECTION.spec.default_model
CREDENTIALS = Credentials(TEST_KEY, "sidebar")


def two_squares(width: int = 400, height: int = 300) -> np.ndarray:
    """Grey, a red square at x 40–160, y 30–150 and a blue one at x 240–360, y 150–270 (BGR)."""
    picture = np.full((height, width, 3), 128, np.uint8)
    picture[30:150, 40:160] = (0, 0, 230)
    picture[150:270, 240:360] = (230, 60, 40)
    return picture


def plain_grey() -> np.ndarray:
    return np.full((240, 320, 3), 128, np.uint8)


# --- regions given to a segmenter ----------------------------------------------------------------

SEGMENT_ANYTHING_METHODS = (
    Method("segment_anything", False, (Argument("image", IMAGE),), returns=LIST, returns_item=REGION),
    Method(
        "predict",
        False,
        (Argument("image", IMAGE), Argument("regions", LIST, REGION, required=True)),
        returns=LIST,
        returns_item=REGION,
    ),
)
SAM_INFO = ModelInfo(SAM, "SAM", "visual-segmenter", methods=SEGMENT_ANYTHING_METHODS)


def test_a_detectors_boxes_are_given_with_their_labels_best_first_and_without_unusable_ones():
    prediction = Prediction(
        regions=(
            Region((Concept("bus", 0.6, "ai_bus"),), Box(0.5, 0.5, 0.9, 0.9)),
            Region((Concept("person", 0.9),), Box(0.1, 0.2, 0.5, 0.4)),
            Region((Concept("dog", 0.1),), Box(0.1, 0.1, 0.2, 0.2)),  # below the score given
            Region((Concept("cat", 0.8),), Box(0.3, 0.3, 0.3, 0.6)),  # no area
            Region((Concept("sky", 0.9),), None),  # no box
            Region((Concept("kite", math.nan),), Box(0.0, 0.0, 0.1, 0.1)),
            Region((Concept("edge", 0.7),), Box(-0.2, 0.8, 0.4, 1.3)),  # reaches past the picture
        )
    )
    given = answers.given_regions(prediction, min_score=0.3)
    assert [value.concepts[0][1] for value in given] == ["person", "edge", "bus"]
    assert given[0] == RegionValue(0.1, 0.2, 0.5, 0.4, (("", "person", 0.9),))
    assert (given[1].top, given[1].left, given[1].bottom, given[1].right) == (0.0, 0.8, 0.4, 1.0)
    assert given[2].concepts == (("ai_bus", "bus", 0.6),)
    assert answers.given_regions(prediction, min_score=0.3, limit=1) == given[:1]
    assert answers.given_regions(None) == ()


def test_the_regions_go_in_the_methods_region_argument_and_nowhere_else():
    segment_anything, with_regions = SEGMENT_ANYTHING_METHODS
    regions = [RegionValue(0.1, 0.2, 0.5, 0.6, (("", "person", 0.9),))]
    assert answers.call_arguments(with_regions, b"png", "", {}, regions) == {"image": b"png", "regions": regions}
    assert answers.call_arguments(segment_anything, b"png", "", {}, regions) == {"image": b"png"}
    assert answers.call_arguments(with_regions, b"png", "", {}) == {"image": b"png"}


def test_a_segmenter_is_fitted_through_its_region_method_only_when_the_page_gives_regions():
    plain = fit_model(Task.SEGMENTATION.spec, SAM_INFO)
    assert (plain.serving, plain.method.name) == (Serving.METHOD, "segment_anything")
    with_regions = answers.fit_with_regions(Task.SEGMENTATION.spec, SAM_INFO)
    assert (with_regions.serving, with_regions.method.name) == (Serving.METHOD, "predict")
    assert answers.region_argument_names(SAM_INFO) == frozenset({"regions"})
    without = ModelInfo(SAM, "SAM", "visual-segmenter", methods=SEGMENT_ANYTHING_METHODS[:1])
    assert answers.fit_with_regions(Task.SEGMENTATION.spec, without) is None
    classic = ModelInfo(Task.SEGMENTATION.spec.models[-1].ref, "classic", "visual-segmenter")
    assert answers.fit_with_regions(Task.SEGMENTATION.spec, classic) is None


def test_masks_answered_without_labels_take_the_labels_of_the_boxes_given():
    mask = np.zeros((10, 10), np.uint8)
    mask[:5, :5] = 255
    answer = ImageResult(Prediction(regions=(Region((), None, mask), Region((), None, mask))))
    given = (RegionValue(0, 0, 0.5, 0.5, (("", "person", 0.9),)), RegionValue(0, 0, 0.5, 0.5, (("", "bus", 0.8),)))
    fit = ModelFit(Serving.METHOD, SEGMENT_ANYTHING_METHODS[1])
    segments = answers.interpret(Task.SEGMENTATION.spec, fit, answer, (), 10, 10, given).prediction.regions
    assert [(s.top_concept.name, s.top_concept.value) for s in segments] == [("person", 0.25), ("bus", 0.25)]
    unmatched = answers.interpret(Task.SEGMENTATION.spec, fit, answer, (), 10, 10, given[:1]).prediction.regions
    assert [s.top_concept.name for s in unmatched] == ["segment 1", "segment 2"]


# --- the combined card's legend, toggles and summary ------------------------------------------------


def test_the_legend_lists_what_is_drawn_in_the_colors_it_is_drawn_in():
    mask = np.ones((4, 4), bool)
    boxes = Prediction(
        regions=(
            Region((Concept("Person", 0.9),), Box(0, 0, 0.5, 0.5)),
            Region((Concept("person", 0.8),), Box(0.5, 0.5, 1, 1)),
            Region((Concept("bus", 0.2),), Box(0, 0, 1, 1)),  # under the threshold
            Region((Concept("car", 0.9),), Box(0, 0, 1, 1)),  # hidden
        )
    )
    masks = Prediction(
        regions=(
            Region((Concept("person", 0.12),), None, mask),
            Region((Concept("sky blue", 0.3, "colour-sky-blue"),), None, mask),
        )
    )
    entries = legend(
        [(Task.DETECTION.spec, boxes), (Task.SEGMENTATION.spec, masks), (Task.CAPTIONING.spec, None)],
        min_score=0.3,
        hidden={"CAR"},
    )
    assert [(e.name, e.boxes, e.share) for e in entries] == [("Person", 2, 0.12), ("sky blue", 0, 0.3)]
    assert entries[0].color == region_color(boxes.regions[0]) == colors.color_for("person")
    assert entries[1].color == colors.named_color("colour-sky-blue").color
    assert entries[0].words == "Person: 2 boxes, mask 12 %"
    chips = legend_html(entries)
    assert f"background-color:{entries[1].color.hex};color:#000000" in chips
    assert "<script>" not in legend_html(legend([(Task.DETECTION.spec, Prediction(regions=(
        Region((Concept("<script>x</script>", 1.0),), Box(0, 0, 1, 1)),
    )))]))


def test_every_concept_drawn_can_be_toggled_once_most_frequent_first():
    mask = np.ones((2, 2), bool)
    drawn = [
        (Task.DETECTION.spec, Prediction(regions=(Region((Concept("bus", 1),), Box(0, 0, 1, 1)),))),
        (Task.DETECTION.spec, Prediction(regions=(Region((Concept("Person", 1),), Box(0, 0, 1, 1)),) * 2)),
        (Task.SEGMENTATION.spec, Prediction(regions=(Region((Concept("person", 0.5),), None, mask),))),
        (Task.CLASSIFICATION.spec, Prediction(concepts=(Concept("landscape", 0.9),))),
        (Task.SEGMENTATION.spec, None),
    ]
    assert toggle_names(drawn) == ["Person", "bus"]


def test_one_summary_line_gives_each_tasks_model_results_failures_time_and_calls():
    def outcome(plan, ok, calls, seconds):
        results = [ImageResult(Prediction()) if good else ImageResult(error=ModelNotFoundError("gone")) for good in ok]
        return RunOutcome(plan, results, seconds, calls)

    plans = [
        RunPlan(Task.CLASSIFICATION, Backend.CLARIFAI, Task.CLASSIFICATION.spec.default_model),
        RunPlan(Task.DETECTION, Backend.CLARIFAI, QWEN),
        RunPlan(Task.SEGMENTATION, Backend.CLARIFAI, SAM, regions_from=Task.DETECTION),
        RunPlan(Task.CAPTIONING, Backend.CLARIFAI, QWEN),
    ]
    runs = [
        TaskRun(plans[0], outcome(plans[0], [True, True], 1, 0.41)),
        TaskRun(plans[1], outcome(plans[1], [True, False], 2, 1.26)),
        TaskRun(plans[2], outcome(plans[2], [True, True], 2, 0.8)),
        TaskRun(plans[3], error=ModelNotFoundError("gone")),
    ]
    line = summary_line(runs, 2)
    assert "\n" not in line
    assert line.startswith("**2 images · 5 Clarifai calls** — ")
    assert "**Classification** (general-image-recognition): 2/2 with results, 0.4 s, 1 call" in line
    assert "**Detection** (Qwen2_5-VL-7B-Instruct): 1/2 with results, :red[1 failed], 1.3 s, 2 calls" in line
    assert "**Segmentation** (sam2_1-hiera-base-plus on the detection boxes): 2/2 with results" in line
    assert "**Captioning** (Qwen2_5-VL-7B-Instruct): :red[failed]" in line
    offline = RunPlan(Task.DETECTION, Backend.LOCAL)
    cached = RunOutcome(offline, [ImageResult(Prediction())] * 2, 0.2, 0, 1)
    line = summary_line([TaskRun(offline, cached)], 2)
    assert line == f"**2 images** — **Detection** ({offline.model_label}): 2/2 with results, 0.2 s, 1 from the cache"
    cached.from_cache = 2
    assert summary_line([TaskRun(offline, cached)], 2).endswith(": 2/2 with results, from the cache")


# --- the backend: detection, then segmentation of what it found ---------------------------------------


def clarifai_plan(task: Task, **kw) -> RunPlan:
    return RunPlan(task, Backend.CLARIFAI, task.spec.default_model, credentials=CREDENTIALS, **kw)


def sam_calls(fake):
    return [c for c in fake.prediction_calls() if c.model_path == SAM.short_path]


def region_parts(call) -> list[list]:
    """Per input of a recorded call, the regions its `regions` part carries."""
    return [[r for p in item.data.parts if p.id == "regions" for r in p.data.regions] for item in call.request.inputs]


def test_the_segmenter_is_given_each_pictures_detected_boxes_and_names_its_masks_after_them(client, fake_clarifai):
    pictures = [prepare_upload("squares.png", png_bytes(two_squares())), prepare_upload("grey.png", png_bytes(plain_grey()))]
    plans = [clarifai_plan(Task.DETECTION), clarifai_plan(Task.SEGMENTATION, regions_from=Task.DETECTION)]
    detection, segmentation = backend.run_tasks_concurrently(plans, pictures, client=client)
    assert detection.error is None and segmentation.error is None, (detection.error, segmentation.error)
    found = detection.outcome.results[0].prediction.regions
    assert sorted(r.top_concept.name for r in found) == ["blue", "red"]

    calls = sam_calls(fake_clarifai)
    methods = sorted(c.request.inputs[0].data.metadata["_method_name"] for c in calls)
    assert methods == ["predict", "segment_anything"], "boxes for the squares; the grey picture whole"
    [boxed] = [c for c in calls if c.request.inputs[0].data.metadata["_method_name"] == "predict"]
    detections_done = max(finished for _, finished in fake_clarifai.runner(QWEN.short_path).calls)
    assert boxed.received_at > detections_done, "the segmenter was called once the detector had answered"
    [sent] = region_parts(boxed)
    assert sorted(r.data.concepts[0].name for r in sent) == ["blue", "red"]
    for region in sent:
        [detected] = [r for r in found if r.top_concept.name == region.data.concepts[0].name]
        box = region.region_info.bounding_box
        assert (box.top_row, box.left_col, box.bottom_row, box.right_col) == pytest.approx(
            (detected.box.top, detected.box.left, detected.box.bottom, detected.box.right), abs=1e-6
        )

    squares, grey = segmentation.outcome.results
    segments = {s.top_concept.name: s for s in squares.prediction.regions}
    assert set(segments) == {"red", "blue"}
    assert segments["red"].top_concept.value == pytest.approx(0.12, abs=0.01)  # 120x120 of 400x300
    assert grey.ok and "gave no boxes for this picture" in " ".join(grey.prediction.notes)
    assert all(not s.top_concept.name.startswith(("red", "blue")) for s in grey.prediction.regions)


def test_regions_given_are_part_of_the_cache_key():
    picture = prepare_upload("squares.png", png_bytes(two_squares()))
    plan = clarifai_plan(Task.SEGMENTATION)
    boxes = (RegionValue(0.1, 0.1, 0.5, 0.4, (("", "red", 1.0),)),)
    keys = {plan.cache_key(picture), plan.cache_key(picture, ()), plan.cache_key(picture, boxes)}
    assert len(keys) == 3


def test_without_a_detection_plan_or_offline_the_segmenter_runs_as_usual(client, fake_clarifai):
    pictures = [prepare_upload("squares.png", png_bytes(two_squares()))]
    [alone] = backend.run_tasks_concurrently(
        [clarifai_plan(Task.SEGMENTATION, regions_from=Task.DETECTION)], pictures, client=client
    )
    assert alone.outcome.succeeded == 1
    assert [c.request.inputs[0].data.metadata["_method_name"] for c in sam_calls(fake_clarifai)] == ["segment_anything"]
    offline = [RunPlan(Task.DETECTION, Backend.LOCAL), RunPlan(Task.SEGMENTATION, Backend.LOCAL, regions_from=Task.DETECTION)]
    runs = backend.run_tasks_concurrently(offline, pictures)
    assert all(run.outcome is not None and run.outcome.succeeded == 1 for run in runs)


def test_a_failed_detector_leaves_every_picture_segmented_whole_with_a_note(client, fake_clarifai):
    pictures = [prepare_upload("squares.png", png_bytes(two_squares()))]
    plans = [
        RunPlan(Task.DETECTION, Backend.CLARIFAI, ModelRef("nobody", "none", "missing"), credentials=CREDENTIALS),
        clarifai_plan(Task.SEGMENTATION, regions_from=Task.DETECTION),
    ]
    detection, segmentation = backend.run_tasks_concurrently(plans, pictures, client=client)
    assert detection.error is not None
    [result] = segmentation.outcome.results
    assert result.ok and "The detection model gave no boxes" in result.prediction.notes[-1]


def test_cached_segments_of_given_regions_cost_no_call_the_second_time(client, fake_clarifai):
    cache = PredictionCache()
    picture = prepare_upload("squares.png", png_bytes(two_squares()))
    given = [(RegionValue(0.1, 0.1, 0.5, 0.4, (("", "red", 1.0),)),)]
    plan = clarifai_plan(Task.SEGMENTATION, regions_from=Task.DETECTION)
    first = backend.run_predictions(plan, [picture], client=client, cache=cache, given=given)
    again = backend.run_predictions(plan, [picture], client=client, cache=cache, given=given)
    assert (first.clarifai_calls, again.clarifai_calls, again.from_cache) == (1, 0, 1)
    assert [s.top_concept.name for s in again.results[0].prediction.regions] == ["red"]


# --- the page, against the local Clarifai server ---------------------------------------------------


def color_pixels(png: bytes, color: colors.Color) -> int:
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return int(np.count_nonzero(np.all(picture == np.array(color, np.uint8), axis=2)))


def test_all_tasks_gives_the_code_of_each_model_and_segment_anythings_is_given_the_boxes(clarifai_env):
    at = predict(upload(open_page("all", key=TEST_KEY), ("squares.png", png_bytes(two_squares()))))
    no_traceback(at)
    picker = at.selectbox(key="all_code_task")
    assert set(picker.options) >= {task.title for task in (Task.CLASSIFICATION, Task.DETECTION, Task.SEGMENTATION)}
    at = picker.select(Task.SEGMENTATION).run()
    snippets = [code.value for code in at.code]
    assert snippets and all(TEST_KEY not in snippet for snippet in snippets)
    with_regions = [snippet for snippet in snippets if "regions" in snippet]
    assert with_regions, "the segmenter's code passes the boxes it was given"
    assert all('"red"' in snippet and '"blue"' in snippet for snippet in with_regions)
    assert not any("left to its default" in snippet for snippet in snippets)


def test_all_tasks_segments_the_detectors_boxes_and_shows_one_card_with_legend_toggles_and_downloads(
    clarifai_env, deferred_downloads
):
    at = open_page("all", key=TEST_KEY)
    assert at.toggle(key="all_segment_found").value, "on: the default segmenter takes regions"
    at = predict(upload(at, ("squares.png", png_bytes(two_squares()))))
    no_traceback(at)

    [boxed] = sam_calls(clarifai_env)
    assert boxed.request.inputs[0].data.metadata["_method_name"] == "predict"
    [sent] = region_parts(boxed)
    assert sorted(r.data.concepts[0].name for r in sent) == ["blue", "red"]

    text = page_text(at)
    [summary] = [m.value for m in at.markdown if m.value.startswith("**1 image · ")]
    for task in Task:
        assert f"**{task.title}** (" in summary
    assert "on the detection boxes" in summary
    assert "— **1 image**" not in text, "no line per task any more"
    [chips] = [m.value for m in at.markdown if "border-radius" in m.value]
    for name in ("red", "blue"):
        assert f"background-color:{colors.color_for(name).hex}" in chips
        assert f">{name}: 1 box, mask " in chips, "boxes and masks under the detector's label"
    assert "segment 1" not in chips

    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Results (JSON)") == len(Task)
    for label in ("Concepts (CSV)", "COCO detections (JSON)", "COCO masks, RLE (ZIP)", "Captions (CSV)",
                  "Annotated images (ZIP)", "Annotated PNG"):
        assert label in labels
    for name in deferred_downloads:
        data = built(deferred_downloads, name)
        assert data and TEST_KEY.encode() not in data, name
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert all(TEST_KEY.encode() not in archive.read(member) for member in archive.namelist())
    with zipfile.ZipFile(io.BytesIO(built(deferred_downloads, "annotated-all-tasks.zip"))) as archive:
        [member] = archive.namelist()
        drawn = archive.read(member)
    red = colors.color_for("red")
    assert color_pixels(drawn, red) > 100, "the red box and its label are drawn in red's colour"

    [toggles] = at.pills
    assert set(toggles.options) == {"red", "blue"}
    at = toggles.unselect("red").run()
    no_traceback(at)
    [chips] = [m.value for m in at.markdown if "border-radius" in m.value]
    assert ">red:" not in chips and ">blue:" in chips
    png = built(deferred_downloads, "squares-annotated.png")
    assert color_pixels(png, red) == 0, "a hidden concept's box, label and mask are gone"
    assert len(sam_calls(clarifai_env)) == 1, "toggling redraws, it never calls again"


def test_with_the_option_off_the_segmenter_masks_everything_at_once(clarifai_env):
    at = open_page("all", key=TEST_KEY)
    at.toggle(key="all_segment_found").set_value(False).run()
    at = predict(upload(at, ("squares.png", png_bytes(two_squares()))))
    no_traceback(at)
    assert [c.request.inputs[0].data.metadata["_method_name"] for c in sam_calls(clarifai_env)] == ["segment_anything"]
    assert "on the detection boxes" not in page_text(at)


def test_a_picture_where_the_detector_found_nothing_says_so_and_is_segmented_whole(clarifai_env):
    at = predict(upload(open_page("all", key=TEST_KEY), ("grey.png", png_bytes(plain_grey()))))
    no_traceback(at)
    assert [c.request.inputs[0].data.metadata["_method_name"] for c in sam_calls(clarifai_env)] == ["segment_anything"]
    assert "Segmentation: The detection model gave no boxes for this picture" in page_text(at)


def test_offline_all_tasks_has_the_same_card_legend_and_downloads(offline_env, testdata, deferred_downloads):
    at = predict(upload(open_page("all"), photo(testdata, "astronaut.png")))
    no_traceback(at)
    assert "all_segment_found" not in [t.key for t in at.toggle], "the local segmenter takes no regions"
    [summary] = [m.value for m in at.markdown if m.value.startswith("**1 image** — ")]
    assert "**Classification**" in summary and "**Segmentation**" in summary and "Captioning" not in summary
    [chips] = [m.value for m in at.markdown if "border-radius" in m.value]
    assert ">face: 1 box<" in chips
    assert "face" in at.pills[0].options
    assert {"annotated-all-tasks.zip", "detection-results.json", "segments-coco-png.zip"} <= set(deferred_downloads)
    assert built(deferred_downloads, "annotated-all-tasks.zip")


def test_two_tasks_exporting_files_of_one_name_both_get_their_download(offline_env, monkeypatch, testdata):
    from components.views import Download, view_for

    # a new task's view might well export a file named as another's (say a second "concepts.csv")
    detection = view_for(Task.DETECTION)
    same_name = [Download("Concepts (CSV)", lambda: "a,b\n", "concepts.csv", "text/csv")]
    monkeypatch.setattr(type(detection), "downloads", lambda self, items, settings: same_name)
    at = predict(upload(open_page("all"), photo(testdata, "astronaut.png")))
    no_traceback(at)
    names = [button.proto.label for button in at.get("download_button")]
    assert names.count("Concepts (CSV)") == 2
