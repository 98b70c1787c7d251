"""The local colour classifier: dominant colours and their shares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from components.local_models.classifier import classify_colors
from components.models import PredictSettings
from tests.local_models.pictures import (
    BLUE,
    COLOR_NAMES,
    GREEN,
    RED,
    photo,
    red_and_blue,
    values,
)

# --- classification --------------------------------------------------------------------------


def test_classification_gives_each_color_its_share_of_the_pixels():
    prediction = classify_colors(red_and_blue(red_share=0.7))
    assert [c.name for c in prediction.concepts] == ["red", "blue"]
    assert values(prediction)["red"] == pytest.approx(0.7, abs=0.02)
    assert values(prediction)["blue"] == pytest.approx(0.3, abs=0.02)
    assert [c.id for c in prediction.concepts] == ["colour-red", "colour-blue"]


@pytest.mark.parametrize("bgr, name", [(RED, "red"), (GREEN, "green"), ((255, 255, 255), "white")])
def test_a_single_color_image_is_all_that_color(bgr, name):
    prediction = classify_colors(np.full((120, 90, 3), bgr, np.uint8))
    assert values(prediction) == {name: pytest.approx(1.0)}


def test_clusters_with_the_same_name_are_merged_into_one_concept():
    image = np.zeros((100, 100, 3), np.uint8)
    shades_of_red = [(0, 0, 255), (10, 10, 235), (20, 20, 220), (5, 25, 245)]
    for i, shade in enumerate(shades_of_red):
        image[i * 25 : (i + 1) * 25] = shade
    prediction = classify_colors(image)
    assert values(prediction) == {"red": pytest.approx(1.0)}


def test_classification_of_a_photo_sums_to_one_and_is_sorted(testdata):
    prediction = classify_colors(photo(testdata, "astronaut.png"))
    shares = [c.value for c in prediction.concepts]
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)
    assert shares == sorted(shares, reverse=True)
    assert {c.name for c in prediction.concepts} <= COLOR_NAMES
    assert len(prediction.concepts) >= 3
    assert "orange" in values(prediction)  # the spacesuit


def test_classification_honours_min_value_max_concepts_and_select_concepts():
    image = np.zeros((100, 100, 3), np.uint8)
    image[:, :60] = RED
    image[:, 60:90] = BLUE
    image[:, 90:] = GREEN

    assert set(values(classify_colors(image))) == {"red", "blue", "green"}
    assert set(values(classify_colors(image, PredictSettings(min_value=0.2)))) == {"red", "blue"}
    assert [c.name for c in classify_colors(image, PredictSettings(max_concepts=1)).concepts] == ["red"]
    selected = classify_colors(image, PredictSettings(select_concepts=("GREEN", " Blue ")))
    assert set(values(selected)) == {"green", "blue"}
    assert values(selected)["green"] == pytest.approx(0.1, abs=0.02)  # shares stay shares of the image


def test_classification_is_repeatable(testdata):
    image = photo(testdata, "metro-north.jpg")
    first, second = classify_colors(image), classify_colors(image)
    assert first.concepts == second.concepts


@hypothesis_settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 30), st.integers(1, 30), st.just(3))))
def test_any_image_gets_named_colors_whose_shares_sum_to_one(image):
    prediction = classify_colors(image)
    shares = [c.value for c in prediction.concepts]
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)
    assert all(0 < share <= 1 for share in shares)
    assert shares == sorted(shares, reverse=True)
    assert {c.name for c in prediction.concepts} <= COLOR_NAMES
