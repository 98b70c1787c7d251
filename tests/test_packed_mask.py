"""PackedMask: a region's boolean mask kept in a bit per pixel around its pixels, read as the array."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from components.results import Concept, PackedMask, Region


@given(arrays(bool, st.tuples(st.integers(1, 40), st.integers(1, 40))))
@settings(max_examples=200, deadline=None)
def test_a_packed_mask_reads_back_as_the_same_pixels(mask):
    kept = PackedMask(mask)
    assert np.array_equal(np.asarray(kept), mask)
    assert kept.shape == mask.shape and kept.dtype == bool and kept.ndim == 2
    assert kept.mean() == pytest.approx(mask.mean())
    assert kept.any() == mask.any() and kept.count() == mask.sum()
    assert np.array_equal(kept[:, 0], mask[:, 0])
    assert np.array_equal(pickle.loads(pickle.dumps(kept)).unpack(), mask)


def test_a_region_keeps_its_boolean_mask_packed_and_small():
    mask = np.zeros((768, 1024), bool)
    mask[100:300, 200:500] = True  # a segment of 8 % of the picture
    region = Region((Concept("cat", 0.08),), mask=mask)
    assert isinstance(region.mask, PackedMask)
    assert region.mask.nbytes < mask.nbytes / 90  # only its rows and columns, a bit each
    assert np.array_equal(np.asarray(region.mask), mask)


def test_the_whole_picture_in_a_mask_takes_an_eighth():
    mask = np.random.default_rng(0).random((768, 1024)) < 0.5
    assert PackedMask(mask).nbytes <= mask.nbytes / 8 + 64


def test_an_empty_mask_and_other_kinds_of_mask():
    empty = Region((Concept("nothing", 0.0),), mask=np.zeros((5, 7), bool)).mask
    assert empty.shape == (5, 7) and not np.asarray(empty).any() and empty.mean() == 0
    greys = np.full((4, 4), 200, np.uint8)
    assert Region((Concept("grey", 1.0),), mask=greys).mask is greys  # views read other kinds as they are
    assert Region((Concept("none", 1.0),)).mask is None
