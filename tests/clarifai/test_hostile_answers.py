"""Answers anyone can publish a model to give: bounded before they are decoded. Ten thousand
full-size masks keep the best regions and decode masks only within the answer's pixel budget, the
raw answer keeps no image bytes, and the prediction cache counts everything an entry holds."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from clarifai_grpc.grpc.api import resources_pb2

from components.clarifai import replies
from components.clarifai.client import LIVE_TAIL_CHARS, MAX_STREAMED_CHARS, ClarifaiClient, RunCallbacks
from components.clarifai.replies import MAX_MASK_PIXELS_PER_ANSWER, MAX_REGIONS, prediction_from_output, regions_from_protos
from components.clarifai.transport import CallPolicy
from components.models import ModelRef
from components.results import ImageResult, Prediction
from components.run import answers
from components.run.backend import PredictionCache
from components.run.model_fit import fit_model
from components.settings import Credentials
from components.tasks import Task
from tests.conftest import TEST_KEY
from tests.fake_clarifai import HOSTILE_CATALOGUE
from tests.helpers import png_bytes
from tests.runner_models import EndlessWriter

WIDTH, HEIGHT = 1024, 683


def full_size_mask_png() -> bytes:
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[100:400, 200:700] = 255
    ok, encoded = cv2.imencode(".png", mask)
    assert ok
    return encoded.tobytes()


def hostile_output(count: int) -> resources_pb2.Output:
    """An answer with `count` regions, each a full-size mask, scores rising with their number."""
    png = full_size_mask_png()
    output = resources_pb2.Output()
    for number in range(count):
        region = output.data.regions.add(id=f"r{number}")
        region.region_info.mask.image.base64 = png
        region.region_info.bounding_box.SetInParent()
        region.data.concepts.add(name=f"thing {number}", value=number / count)
    return output


def test_ten_thousand_full_size_masks_keep_the_best_regions_and_decode_within_the_budget(monkeypatch):
    decoded = []
    real_decode = replies.decode_mask
    monkeypatch.setattr(replies, "decode_mask", lambda data: decoded.append(1) or real_decode(data))
    output = hostile_output(10_000)
    regions, notes = regions_from_protos(output.data.regions)

    assert len(regions) == MAX_REGIONS
    kept = {region.concepts[0].name for region in regions}
    assert kept == {f"thing {number}" for number in range(10_000 - MAX_REGIONS, 10_000)}, "the best scores"
    within_budget = MAX_MASK_PIXELS_PER_ANSWER // (WIDTH * HEIGHT)
    assert len(decoded) == within_budget
    assert sum(region.mask is not None for region in regions) == within_budget
    assert sum(region.mask.nbytes for region in regions if region.mask is not None) <= MAX_MASK_PIXELS_PER_ANSWER
    assert any("10,000 regions" in note for note in notes)
    assert any("not drawn" in note for note in notes)


def test_the_kept_regions_stay_in_the_answers_order():
    output = hostile_output(MAX_REGIONS + 5)
    names = [region.concepts[0].name for region in regions_from_protos(output.data.regions)[0]]
    numbers = [int(name.split()[1]) for name in names]
    assert numbers == sorted(numbers) and numbers[0] == 5


def test_the_raw_answer_is_kept_without_image_bytes_and_with_the_kept_regions_only():
    output = hostile_output(2_000)
    output.input.data.image.base64 = b"the picture sent"
    prediction = prediction_from_output(output, "hostile/segmenter")
    raw = json.dumps(prediction.raw)
    assert "base64" not in raw
    assert len(prediction.raw["data"]["regions"]) == MAX_REGIONS
    assert len(raw) < 100_000


def test_a_small_answer_is_read_as_before():
    output = hostile_output(3)
    regions, notes = regions_from_protos(output.data.regions)
    assert len(regions) == 3 and all(region.mask is not None for region in regions) and notes == ()


def test_cache_entries_are_sized_by_their_text_and_raw_answer_too():
    caption = "word " * 200_000  # a 1 MB answer
    prediction = Prediction(caption=caption, raw={"data": {"text": {"raw": caption}}}, raw_answer=caption)
    assert prediction.approximate_bytes > 3 * len(caption)
    cache = PredictionCache(max_bytes=5 * len(caption))
    for number in range(5):
        cache.put(("key", number), ImageResult(prediction=prediction))
    assert len(cache) <= 2, "the cache's byte bound holds for text answers"


# --- through real gRPC, the answer made by Clarifai's runner code ------------------------------

MANY_MASKS = ModelRef("test-user", "hostile", "many-masks")


@pytest.fixture
def hostile(fake_clarifai):
    fake_clarifai.catalogue = [*fake_clarifai.catalogue, *HOSTILE_CATALOGUE]
    return fake_clarifai


def test_a_published_segmenter_answering_ten_thousand_masks_gives_a_bounded_result(client, hostile):
    credentials = Credentials(TEST_KEY, "sidebar")
    info = client.get_model(MANY_MASKS, credentials)
    fit = fit_model(Task.SEGMENTATION.spec, info)
    picture = png_bytes(np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    [result] = client.call_method(MANY_MASKS, fit.method, [answers.call_arguments(fit.method, picture, "", {})], credentials)
    assert result.ok, result.error
    regions = result.prediction.regions
    assert len(regions) == MAX_REGIONS
    assert sum(region.mask.nbytes for region in regions if region.mask is not None) <= MAX_MASK_PIXELS_PER_ANSWER
    assert "base64" not in json.dumps(result.prediction.raw)


ENDLESS = ModelRef("test-user", "hostile", "endless-writer")


def _streaming_call(client, fake, prompt: str = "Describe it."):
    credentials = Credentials(TEST_KEY, "sidebar")
    fit = fit_model(Task.CAPTIONING.spec, client.get_model(ENDLESS, credentials))
    assert fit.method.streaming
    seen: list[str] = []
    picture = png_bytes(np.full((64, 64, 3), 90, np.uint8))
    arguments = answers.call_arguments(fit.method, picture, prompt, {})
    [result] = client.call_method(
        ENDLESS, fit.method, [arguments], credentials, callbacks=RunCallbacks(on_text=lambda index, text: seen.append(text))
    )
    return result, seen


def test_a_stream_past_the_character_cap_is_cut_there_and_keeps_what_came(client, hostile):
    result, seen = _streaming_call(client, hostile)
    assert result.ok, result.error
    caption = result.prediction.caption
    assert len(caption) == MAX_STREAMED_CHARS and caption.startswith(EndlessWriter.chunk)
    assert any(f"{MAX_STREAMED_CHARS:,} characters" in note for note in result.prediction.notes)
    assert seen and max(len(text) for text in seen) <= LIVE_TAIL_CHARS + 1, "the page is sent the latest part only"
    assert len(json.dumps(result.prediction.raw)) < 2 * MAX_STREAMED_CHARS


def test_a_stream_cut_by_the_deadline_keeps_what_came_with_a_note(clarifai_endpoint, hostile):
    runner = hostile.runner(ENDLESS.path)
    runner.chunk_delay_s = 0.05
    runner.chunks = 10_000
    client = ClarifaiClient(clarifai_endpoint, CallPolicy(predict_timeout_s=1.5, retry_budget_s=0.5, cold_start_wait_s=0.5))
    result, _ = _streaming_call(client, hostile)
    assert result.ok, result.error
    assert 0 < len(result.prediction.caption) < MAX_STREAMED_CHARS
    assert any("still writing" in note for note in result.prediction.notes)


def test_a_mask_too_big_to_be_one_does_not_use_up_the_budget_of_the_others():
    bomb = full_size_mask_png()
    header_end = bomb.index(b"IHDR") + 4
    bomb = bomb[:header_end] + (30_000).to_bytes(4, "big") * 2 + bomb[header_end + 8 :]  # declares 900 MP
    output = hostile_output(3)
    output.data.regions[0].region_info.mask.image.base64 = bomb
    regions, notes = regions_from_protos(output.data.regions)
    assert [region.mask is not None for region in regions] == [False, True, True]
    assert any("could not be decoded" in note for note in notes) and not any("size one answer" in note for note in notes)
