"""The local colour segmenter: colour regions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from components.local_models.segmenter import SEGMENT_SIDE, segment_colors
from components.models import PredictSettings
from tests.local_models.pictures import (
    BLUE,
    COLOR_NAMES,
    GREEN,
    RED,
    photo,
    region_shares,
)

# --- segmentation ----------------------------------------------------------------------------


def quadrants(width: int = 640, height: int = 480) -> np.ndarray:
    """Top half red; bottom-left green; bottom-right blue."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = RED
    image[height // 2 :, : width // 2] = GREEN
    image[height // 2 :, width // 2 :] = BLUE
    return image


def full_size_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)


def test_segmentation_masks_cover_the_right_areas():
    image = quadrants()
    height, width = image.shape[:2]
    expected = {"red": np.zeros((height, width), bool), "green": np.zeros((height, width), bool)}
    expected["red"][: height // 2] = True
    expected["green"][height // 2 :, : width // 2] = True
    expected["blue"] = ~(expected["red"] | expected["green"])

    prediction = segment_colors(image)
    names = [r.concepts[0].name for r in prediction.regions]
    assert names == ["red", "blue", "green"]  # equal shares are ordered by name
    for region in prediction.regions:
        name = region.concepts[0].name
        assert region.box is None
        assert region.mask.dtype == bool and region.mask.ndim == 2
        agreement = (full_size_mask(region.mask, width, height) == expected[name]).mean()
        assert agreement > 0.99, name
    assert region_shares(prediction) == {
        "red": pytest.approx(0.5, abs=0.01),
        "green": pytest.approx(0.25, abs=0.01),
        "blue": pytest.approx(0.25, abs=0.01),
    }


def test_segmentation_masks_are_at_a_reduced_size_with_the_image_aspect():
    prediction = segment_colors(quadrants(1600, 1200))
    for region in prediction.regions:
        height, width = region.mask.shape
        assert max(height, width) <= SEGMENT_SIDE
        assert width / height == pytest.approx(1600 / 1200, rel=0.02)


def test_segmentation_masks_partition_the_image_and_shares_sum_to_one(testdata):
    prediction = segment_colors(photo(testdata, "coffee.png"))
    masks = np.stack([region.mask for region in prediction.regions])
    assert (masks.sum(axis=0) == 1).all()  # every pixel in exactly one region
    shares = [region.concepts[0].value for region in prediction.regions]
    assert sum(shares) == pytest.approx(1.0)
    assert shares == sorted(shares, reverse=True)
    for region in prediction.regions:
        assert region.concepts[0].value == pytest.approx(region.mask.mean())


def test_segmentation_smooths_away_isolated_specks():
    rng = np.random.default_rng(7)
    image = np.full((300, 300, 3), RED, np.uint8)
    ys, xs = rng.integers(0, 300, 200), rng.integers(0, 300, 200)
    image[ys, xs] = BLUE  # scattered single pixels
    assert set(region_shares(segment_colors(image))) == {"red"}


def test_segmentation_keeps_a_solid_area_of_another_color():
    image = np.full((300, 300, 3), RED, np.uint8)
    image[100:160, 100:160] = BLUE
    shares = region_shares(segment_colors(image))
    assert shares["blue"] == pytest.approx(0.04, abs=0.005)


def test_segmentation_honours_min_value_max_concepts_and_select_concepts():
    image = quadrants()
    assert set(region_shares(segment_colors(image, PredictSettings(min_value=0.3)))) == {"red"}
    assert [r.concepts[0].name for r in segment_colors(image, PredictSettings(max_concepts=2)).regions] == [
        "red",
        "blue",
    ]
    selected = segment_colors(image, PredictSettings(select_concepts=("Green",)))
    assert region_shares(selected) == {"green": pytest.approx(0.25, abs=0.01)}


def test_segmentation_is_repeatable(testdata):
    image = photo(testdata, "astronaut.png")
    first, second = segment_colors(image), segment_colors(image)
    assert region_shares(first) == region_shares(second)
    for a, b in zip(first.regions, second.regions):
        assert np.array_equal(a.mask, b.mask)


@hypothesis_settings(max_examples=30, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.just(3))))
def test_any_image_is_partitioned_into_named_color_regions(image):
    prediction = segment_colors(image)
    masks = np.stack([region.mask for region in prediction.regions])
    assert masks.shape[1:] == image.shape[:2]
    assert (masks.sum(axis=0) == 1).all()
    assert {r.concepts[0].name for r in prediction.regions} <= COLOR_NAMES
