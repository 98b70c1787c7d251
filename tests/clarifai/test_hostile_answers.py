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
from components.clarifai.replies import MAX_MASK_PIXELS_PER_ANSWER, MAX_REGIONS, prediction_from_output, regions_from_protos
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
