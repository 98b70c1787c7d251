"""The app's own sample pictures: made at run time, the same every time, colourful, usable."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from components.images.preparation import PrepareOptions
from components.images.samples import (
    CLARIFAI_SAMPLE_URL,
    SAMPLE_HEIGHT,
    SAMPLE_WIDTH,
    SAMPLES,
    prepare_sample,
    render_sample_jpeg,
    sample_bytes,
)

KEYS = [sample.key for sample in SAMPLES]


def test_there_are_three_or_four_samples_with_titles_and_descriptions():
    assert 3 <= len(SAMPLES) <= 4
    assert len(set(KEYS)) == len(KEYS)
    for sample in SAMPLES:
        assert sample.title and sample.description
        assert sample.file_name == f"sample-{sample.key}.jpg"


def test_clarifai_sample_url_is_the_metro_north_photo():
    assert CLARIFAI_SAMPLE_URL == "https://samples.clarifai.com/metro-north.jpg"


@pytest.mark.parametrize("key", KEYS)
def test_sample_is_a_1024_by_768_jpeg(key: str):
    image = Image.open(io.BytesIO(sample_bytes(key)))
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == (SAMPLE_WIDTH, SAMPLE_HEIGHT) == (1024, 768)


@pytest.mark.parametrize("key", KEYS)
def test_sample_is_the_same_bytes_every_time_it_is_made(key: str):
    assert render_sample_jpeg(key) == render_sample_jpeg(key) == sample_bytes(key)


def test_samples_are_made_once_per_process():
    assert sample_bytes(KEYS[0]) is sample_bytes(KEYS[0])
    assert prepare_sample(KEYS[0]) is prepare_sample(KEYS[0])


def test_samples_differ_from_each_other():
    pictures = [cv2.imdecode(np.frombuffer(sample_bytes(key), np.uint8), cv2.IMREAD_COLOR) for key in KEYS]
    for i, first in enumerate(pictures):
        for second in pictures[i + 1 :]:
            assert np.abs(first.astype(np.int16) - second.astype(np.int16)).mean() > 30


@pytest.mark.parametrize("key", KEYS)
def test_sample_has_several_strong_distinct_colors(key: str):
    picture = cv2.imdecode(np.frombuffer(sample_bytes(key), np.uint8), cv2.IMREAD_COLOR)
    hsv = cv2.cvtColor(picture, cv2.COLOR_BGR2HSV)
    saturated = hsv[..., 1] > 90
    hue_bins = np.bincount(hsv[..., 0][saturated] // 15, minlength=12)  # 12 bins of 30 degrees
    well_covered = int((hue_bins > 0.01 * picture.shape[0] * picture.shape[1]).sum())
    assert well_covered >= 3, hue_bins
    assert picture.std() > 30  # not a flat image


@pytest.mark.parametrize("key", KEYS)
def test_sample_prepares_like_an_upload(key: str):
    prepared = prepare_sample(key)
    assert prepared.source == "sample" and prepared.name == f"sample-{key}.jpg"
    assert (prepared.width, prepared.height) == (1024, 768)
    assert prepared.pixels().shape == (768, 1024, 3)
    smaller = prepare_sample(key, PrepareOptions(max_side=512))
    assert (smaller.width, smaller.height) == (512, 384)


def test_unknown_sample_names_the_known_ones():
    with pytest.raises(KeyError, match="street"):
        sample_bytes("no-such-sample")
