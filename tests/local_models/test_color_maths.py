"""Colour maths: CIEDE2000 and the names of colours."""

from __future__ import annotations

import numpy as np
import pytest

from components.colors import NAMED_COLORS, Color
from components.local_models.color_maths import ciede2000, name_color
from tests.local_models.pictures import (
    COLOR_NAMES,
)

# --- colour names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lab1, lab2, expected",
    [  # Sharma, Wu & Dalal (2005), the CIEDE2000 reference pairs
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
        ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ],
)
def test_ciede2000_matches_the_published_reference_pairs(lab1, lab2, expected):
    assert float(ciede2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)
    assert float(ciede2000(np.array(lab2), np.array(lab1))) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    "rgb, name",
    [
        ((255, 0, 0), "red"),
        ((0, 0, 255), "blue"),
        ((65, 105, 225), "blue"),  # royal blue: plain Lab distance calls it purple
        ((0, 200, 0), "green"),
        ((255, 255, 255), "white"),
        ((0, 0, 0), "black"),
        ((128, 128, 128), "grey"),
        ((64, 64, 64), "grey"),
        ((135, 206, 235), "sky blue"),
        ((255, 140, 0), "orange"),
        ((255, 220, 0), "yellow"),
        ((0, 0, 128), "navy"),
        ((139, 69, 19), "brown"),
        ((255, 182, 193), "pink"),
    ],
)
def test_everyday_colors_get_the_name_people_use(rgb, name):
    assert name_color(Color.from_rgb(*rgb)) == name


def test_every_named_color_names_itself_and_the_table_has_a_workable_size():
    assert 15 <= len(NAMED_COLORS) <= 20
    assert len(COLOR_NAMES) == len(NAMED_COLORS)
    for color in NAMED_COLORS:
        assert name_color(color.color) == color.name
