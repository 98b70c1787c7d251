"""Thumbnails for the gallery: the whole picture, scaled down to fit one tile shape, centred."""

from __future__ import annotations

import numpy as np

from components.colors import Color
from components.drawing.thumbnails import on_tile, scaled_to_fit

GREY = Color.from_hex("#f0f2f6")


def test_a_wide_picture_fills_the_tile_across_with_bands_above_and_below():
    picture = np.full((200, 800, 3), 200, np.uint8)
    picture[:, :20] = (0, 0, 255)  # a red strip at the left edge: it must still be there
    tile = on_tile(picture, 480, 360, GREY)
    assert tile.shape == (360, 480, 3)
    rows = np.flatnonzero((tile != GREY).any(axis=(1, 2)))
    assert (rows[0], rows[-1]) == (120, 239), "scaled to 480x120, centred"
    assert tuple(tile[180, 2]) == (0, 0, 255), "nothing is cropped off the sides"
    assert tuple(tile[0, 0]) == tuple(GREY) and tuple(tile[-1, -1]) == tuple(GREY)


def test_a_tall_picture_fits_the_tile_height_and_a_small_one_is_never_enlarged():
    tall = on_tile(np.zeros((800, 200, 3), np.uint8), 480, 360, GREY)
    columns = np.flatnonzero((tall != GREY).any(axis=(0, 2)))
    assert (columns[0], columns[-1]) == (195, 284)  # 90 px wide in the middle
    small = np.zeros((30, 40, 3), np.uint8)
    assert scaled_to_fit(small, 480, 360) is small
    assert scaled_to_fit(np.zeros((720, 960, 3), np.uint8), 480, 360).shape == (360, 480, 3)
