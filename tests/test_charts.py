"""The tables behind the result views."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from components import charts, colors
from components.colors import Color
from components.results import Box, Concept, Region


def test_color_hex_turns_bgr_into_rgb_hex():
    assert Color(255, 0, 0).hex == "#0000ff"
    assert Color(0, 128, 255).hex == "#ff8000"
    assert colors.color_for("person").hex in {h.lower() for h in colors.PALETTE_HEX}


def test_concepts_frame_is_sorted_best_first_and_filtered():
    concepts = [Concept("tree", 0.4), Concept("train", 0.95), Concept("sky", 0.7), Concept("odd", math.nan)]
    frame = charts.concepts_frame(concepts, min_value=0.5)
    assert list(frame.columns) == ["concept", "score"]
    assert frame["concept"].tolist() == ["train", "sky"]
    assert frame["score"].tolist() == [0.95, 0.7]
    assert charts.concepts_frame(concepts, max_concepts=1)["concept"].tolist() == ["train"]
    assert charts.concepts_frame(concepts, max_concepts=0).empty


def test_empty_frames_keep_their_columns():
    assert list(charts.concepts_frame([]).columns) == ["concept", "score"]
    assert list(charts.regions_frame([], 100, 100).columns) == charts.REGION_COLUMNS
    assert list(charts.coverage_frame([]).columns) == ["concept", "share", "color"]
    assert pd.api.types.is_float_dtype(charts.concepts_frame([])["score"])


def test_regions_frame_gives_boxes_in_pixels_of_the_picture():
    regions = [
        Region((Concept("dog", 0.6),), Box(0.25, 0.1, 0.75, 0.5)),
        Region((Concept("cat", 0.9), Concept("animal", 0.5)), Box(0.0, 0.5, 0.5, 1.0)),
        Region((Concept("ghost", 0.99),), Box(float("nan"), 0, 1, 1)),  # not drawable: left out
        Region((Concept("faint", 0.1),), Box(0.1, 0.1, 0.2, 0.2)),
        Region((Concept("sky", 0.5),), mask=np.ones((4, 4), bool)),  # a segment, no box
    ]
    frame = charts.regions_frame(regions, 400, 300, min_score=0.2)
    assert frame["concept"].tolist() == ["cat", "dog"]
    assert frame.iloc[1][["x0", "y0", "x1", "y1"]].tolist() == [40, 75, 200, 225]
    assert frame.iloc[0][["x0", "y0", "x1", "y1"]].tolist() == [200, 0, 399, 150]
    assert frame.iloc[0]["color"] == colors.color_for("cat").hex


def test_coverage_frame_uses_clarifai_shares_and_the_drawing_colours():
    regions = [
        Region((Concept("sky-other", 0.2198),), mask=np.ones((4, 4), bool)),
        Region((Concept("railroad", 0.1943),), mask=np.ones((4, 4), bool)),
        Region((Concept("train", 0.0939),), mask=np.ones((4, 4), bool)),
    ]
    frame = charts.coverage_frame(regions)
    assert frame["concept"].tolist() == ["sky-other", "railroad", "train"]
    assert frame["share"].tolist() == [0.2198, 0.1943, 0.0939]
    assert frame["color"].tolist() == [colors.color_for(n).hex for n in frame["concept"]]


def test_coverage_falls_back_to_the_mask_fraction_when_the_value_is_missing():
    quarter = np.zeros((10, 10), bool)
    quarter[:5, :5] = True
    regions = [
        Region((Concept("road", 0.0),), mask=quarter),
        Region((Concept("wall", math.nan),), mask=np.ones((2, 2), bool)),
        Region((), mask=np.zeros((3, 3), bool)),
    ]
    frame = charts.coverage_frame(regions)
    assert frame["concept"].tolist() == ["wall", "road", ""]
    assert frame["share"].tolist() == [1.0, 0.25, 0.0]
