"""Colour maths for the local models: CIE Lab from BGR, the CIEDE2000 colour difference, the
nearest named colour, and k-means colour clusters in Lab."""

from __future__ import annotations

import cv2
import numpy as np

from components.colors import NAMED_COLORS, Color

# Named colours: the table is colors.NAMED_COLOURS, so every picture, chart and table paints a
# colour concept in its own colour.


def bgr_to_lab(bgr: np.ndarray) -> np.ndarray:
    """CIE Lab (L 0–100) of uint8 BGR pixels, as float32 with the same leading shape."""
    return cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


_NAMED_LAB = bgr_to_lab(np.array([[c.color for c in NAMED_COLORS]], dtype=np.uint8))[0]


def nearest_color_index(lab: np.ndarray) -> np.ndarray:
    """Index into NAMED_COLOURS of the nearest named colour (CIEDE2000) for each Lab row."""
    return ciede2000(lab.reshape(-1, 1, 3), _NAMED_LAB[None, :, :]).argmin(axis=1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between broadcastable arrays of Lab triples.

    Plain Lab distance calls royal blue "purple" and dark grey "black"; CIEDE2000 corrects
    Lab's uneven blues and weighs lightness, chroma and hue the way people see them.
    """
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    chroma_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(chroma_mean**7 / (chroma_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    achromatic = c1p * c2p == 0

    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(achromatic, 0, dh)
    dL, dC = L2 - L1, c2p - c1p
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    L_mean, c_mean = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_mean = np.where(achromatic, h_sum, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    rotation = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    rc = 2 * np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7))
    sl = 1 + 0.015 * (L_mean - 50) ** 2 / np.sqrt(20 + (L_mean - 50) ** 2)
    sc = 1 + 0.045 * c_mean
    sh = 1 + 0.015 * c_mean * t
    rt = -np.sin(np.radians(2 * rotation)) * rc
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))


def name_color(color: Color) -> str:
    """The named colour nearest to one colour."""
    lab = bgr_to_lab(np.array([[color]], dtype=np.uint8)).reshape(1, 3)
    return NAMED_COLORS[int(nearest_color_index(lab)[0])].name


def _unique_color_count(pixels_bgr: np.ndarray) -> int:
    packed = pixels_bgr.reshape(-1, 3).astype(np.uint32)
    return int(np.unique(packed[:, 0] << 16 | packed[:, 1] << 8 | packed[:, 2]).size)


def color_clusters(small_bgr: np.ndarray, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """k-means in Lab: (label per pixel, centre per cluster). Seeded, so repeatable."""
    lab = bgr_to_lab(small_bgr).reshape(-1, 3)
    k = max(1, min(clusters, _unique_color_count(small_bgr)))
    if k == 1:
        return np.zeros(len(lab), dtype=np.int32), lab.mean(axis=0, keepdims=True)
    # cv2.setRNGSeed seeds the calling thread's generator, which kmeans draws from.
    cv2.setRNGSeed(12345)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return labels.ravel(), centres
