"""Coloured objects that stand out from their surroundings: the local detector's colour pass.

No model and no training. A picture (CIE Lab, plus a colour class per pixel chosen by the
caller) is cut into connected pieces of one class. Neighbouring pieces are joined again where the
boundary between them is soft or their colours nearly the same, so shading on a fruit, a
gradient sky or wood grain split nothing; inside an object, pieces of one hue in different shades
are joined too (grapes in a bunch). Regions touching the picture's edge are background. A small
region bordered mostly by one coloured region becomes part of it (a window, a highlight). Then
two levels are looked at:

- a coloured region (an apple, a house, a car's body);
- a blob: regions touching each other and cut off from the rest by background (a striped
  balloon in the sky, a car with its wheels on the road).

A region counts as an object when it is solid, not a thin band, clearly set off from its
surroundings, sharply edged (a soft-edged blob such as a cloud is not) and not of the colour of
a background surface (the sky seen through a tree's crown). A blob stands in for
its parts when none of them counts on its own, when one of them makes up most of it, when those
that count are small details of it (a badge on a truck), or when it is much rounder than any of
them (stripes). Naming and scoring are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Joining pieces. A boundary crossed in steps under SOFT_STEP (CIE76 units between neighbouring
# pixels, at the analysed size) is shading, not an edge; pieces whose mean colours are under
# SAME_COLOUR apart are one surface cut by the colour classes; coloured pieces within SAME_HUE
# degrees of hue, the weaker chroma at least SAME_HUE_CHROMA of the stronger, are shades of one.
SOFT_STEP = 3.0
SAME_COLOR = 8.0
SAME_HUE = 12.0
SAME_HUE_CHROMA = 0.6
# A region at most 1/PART_RATIO the size of a coloured neighbour, with at least PART_SHARE of its
# boundary on it, is part of that neighbour.
PART_RATIO = 5
PART_SHARE = 0.5

MIN_CHROMA = 18.0  # Lab chroma under this is white, grey or black: not "coloured"
MIN_AREA = 0.003  # shares of the picture
MAX_AREA = 0.7
MIN_SOLIDITY = 0.7  # area / convex hull area: rejects ragged, branching shapes
MIN_ROUNDNESS = 0.15  # area / smallest enclosing circle's area: rejects lines and thin bands
MIN_CONTRAST = 32.0  # mean colour difference (CIE76) between its surroundings and its inside
MIN_SHARPNESS = 0.3  # boundary steps per pixel / contrast: under it the edge is a blur (clouds)
BLOB_SHARE = 0.6  # a region making up this share of its blob gives way to the blob
BLOB_DETAILS = 0.25  # so do regions making up less than this share together: details of a bigger thing
BLOB_COLORED = 0.25  # share of a blob that must be coloured for it to count
ROUNDER_WHOLE = 0.2  # a blob this much rounder than each of its parts stands in for them
# A region within SURFACE_HUE_CHROMA in a*b* and SURFACE_LIGHTNESS in L* of the mean colour of a
# background region covering SURFACE_AREA of the picture or more is that surface seen through a
# gap. Sky through a blossoming tree came within 7 (a*b*) and 14 (L*); the nearest real objects
# in the photos and samples (coffee on a wooden table, puppies on gravel) 11 and 13 (a*b*).
SURFACE_HUE_CHROMA = 8.0
SURFACE_LIGHTNESS = 20.0
SURFACE_AREA = 0.05
UPRIGHT_CONTRAST = 15.0  # a weaker region can still be where a person stands: the caller checks
UPRIGHT_RATIO = 1.2  # height / width

_RING_NEAR, _RING_FAR = 2, 5  # pixels from the boundary between which inside and outside are sampled
_DISCS = {r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)) for r in (1, _RING_NEAR, _RING_FAR)}

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels; right and bottom exclusive


@dataclass(frozen=True)
class ColorObject:
    """One object, in pixels of the analysed picture."""

    box: Box
    color_class: int  # the caller's colour class that most of its coloured pixels have
    roundness: float  # area / smallest enclosing circle's: 1 for a disc, 0.64 a square, < 0.2 a band
    solidity: float  # area / convex hull area
    contrast: float  # mean colour difference (CIE76) between its surroundings and its inside
    chroma: float  # mean Lab chroma of its pixels of the main colour class: how saturated that colour is


@dataclass(frozen=True)
class ColorAnalysis:
    objects: tuple[ColorObject, ...]
    upright: tuple[Box, ...]  # taller-than-wide regions of any colour that stand out a little, most first


def find_color_objects(lab: np.ndarray, classes: np.ndarray) -> ColorAnalysis:
    """Objects in a picture given as float32 Lab (H x W x 3) and a colour class per pixel (H x W)."""
    pieces = _Pieces.cut(classes, lab)
    graph = _RegionGraph(pieces, _joined(pieces))
    graph.absorb_parts()
    scene = _Scene(graph, lab, classes)

    shapes = {index: scene.describe([index]) for index in graph.regions(scene.smallest, scene.largest)}
    kept = {
        index
        for index, shape in shapes.items()
        if shape.is_object and graph.colored[index] and not scene.shows_background([index])
    }
    blurred = [index for index, shape in shapes.items() if shape.is_blurred and index not in kept]

    found: list[ColorObject] = []
    for members in scene.blobs(leaving_out=blurred):
        kept_members = [m for m in members if m in kept]
        whole = scene.blob_in_place_of(members, [shapes[m] for m in kept_members])
        if whole is not None:
            found.append(whole)
        else:
            found.extend(scene.as_object(shapes[m], [m]) for m in kept_members)

    upright = sorted(
        (s for s in shapes.values() if s.contrast >= UPRIGHT_CONTRAST and s.height >= UPRIGHT_RATIO * s.width),
        key=lambda s: -s.contrast,
    )
    return ColorAnalysis(tuple(found), tuple(s.box for s in upright))


# ---------------------------------------------------------------------------------------------
# Pieces: connected pixels of one colour class


@dataclass
class _Pieces:
    piece_of: np.ndarray  # piece id per pixel
    area: np.ndarray
    boxes: np.ndarray  # (count, 4): left, top, right, bottom
    mean: np.ndarray  # (count, 3) Lab
    touches_edge: np.ndarray
    # every boundary between two pieces: the pair, its length in pixel pairs, its mean colour step
    first: np.ndarray
    second: np.ndarray
    length: np.ndarray
    step: np.ndarray

    @property
    def count(self) -> int:
        return len(self.area)

    @classmethod
    def cut(cls, classes: np.ndarray, lab: np.ndarray) -> _Pieces:
        height, width = classes.shape
        flat = classes.ravel()
        order = np.argsort(flat, kind="stable")
        values, starts = np.unique(flat[order], return_index=True)
        ends = np.append(starts[1:], len(flat))
        piece_of = np.zeros(classes.shape, np.int32)
        stats = []
        count = 0
        for value, start, end in zip(values, starts, ends):
            ys, xs = np.divmod(order[start:end], width)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            inside = classes[y0:y1, x0:x1] == value
            found, labels, piece_stats, _ = cv2.connectedComponentsWithStats(inside.astype(np.uint8), connectivity=4)
            piece_of[y0:y1, x0:x1][inside] = labels[inside] - 1 + count
            count += found - 1
            piece_stats = piece_stats[1:].astype(np.int64)
            piece_stats[:, 0] += x0
            piece_stats[:, 1] += y0
            stats.append(piece_stats)
        stats = np.concatenate(stats)
        boxes = np.stack([stats[:, 0], stats[:, 1], stats[:, 0] + stats[:, 2], stats[:, 1] + stats[:, 3]], axis=1)
        area = stats[:, 4]
        pixels = piece_of.ravel()
        mean = np.stack([np.bincount(pixels, lab[..., c].ravel(), minlength=len(area)) for c in range(3)], 1)
        mean /= area[:, None]
        touches_edge = (boxes[:, 0] == 0) | (boxes[:, 1] == 0) | (boxes[:, 2] == width) | (boxes[:, 3] == height)
        first, second, length, step = _boundaries(piece_of, lab)
        return cls(piece_of, area, boxes, mean, touches_edge, first, second, length, step)


def _boundaries(piece_of: np.ndarray, lab: np.ndarray):
    """Per pair of touching pieces (a < b): a, b, boundary length, mean colour step across it."""
    ry, rx = np.nonzero(piece_of[:, :-1] != piece_of[:, 1:])
    dy, dx = np.nonzero(piece_of[:-1, :] != piece_of[1:, :])
    one = np.concatenate([piece_of[ry, rx], piece_of[dy, dx]])
    other = np.concatenate([piece_of[ry, rx + 1], piece_of[dy + 1, dx]])
    step = np.concatenate(
        [np.linalg.norm(lab[ry, rx] - lab[ry, rx + 1], axis=1), np.linalg.norm(lab[dy, dx] - lab[dy + 1, dx], axis=1)]
    )
    count = int(piece_of.max()) + 1
    low, high = np.minimum(one, other).astype(np.int64), np.maximum(one, other).astype(np.int64)
    keys, inverse, length = np.unique(low * count + high, return_inverse=True, return_counts=True)
    return keys // count, keys % count, length, np.bincount(inverse, step) / length


def _joined(pieces: _Pieces) -> np.ndarray:
    """The region (numbered from 0) each piece belongs to once soft boundaries and shades are joined."""
    a, b = pieces.first, pieces.second
    soft = (pieces.step < SOFT_STEP) | (np.linalg.norm(pieces.mean[a] - pieces.mean[b], axis=1) < SAME_COLOR)
    root = _components(pieces.count, a[soft], b[soft])

    # Shades of one hue with edges between them (grapes in a bunch, leaves of a crown). Only away
    # from the picture's edge, so a blue object never melts into a blue sky.
    area = np.bincount(root, pieces.area, minlength=pieces.count)
    mean = np.stack([np.bincount(root, pieces.mean[:, c] * pieces.area, minlength=pieces.count) for c in range(3)], 1)
    mean /= np.maximum(area, 1)[:, None]
    edge = np.zeros(pieces.count, bool)
    edge[root[pieces.touches_edge]] = True
    ra, rb = root[a], root[b]
    chroma = np.hypot(mean[:, 1], mean[:, 2])
    hue = np.degrees(np.arctan2(mean[:, 2], mean[:, 1]))
    hue_gap = np.abs((hue[ra] - hue[rb] + 180) % 360 - 180)
    weaker, stronger = np.minimum(chroma[ra], chroma[rb]), np.maximum(chroma[ra], chroma[rb])
    same_hue = (
        (ra != rb)
        & ~edge[ra]
        & ~edge[rb]
        & (weaker >= MIN_CHROMA)
        & (hue_gap < SAME_HUE)
        & (weaker >= SAME_HUE_CHROMA * stronger)
    )
    root = _components(pieces.count, ra[same_hue], rb[same_hue])[root]
    return np.unique(root, return_inverse=True)[1].ravel()


def _components(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest node of each node's connected group, for a graph of `count` nodes and edges a-b."""
    root = np.arange(count)
    while True:
        previous = root
        low = np.minimum(root[a], root[b])
        root = root.copy()
        np.minimum.at(root, previous[a], low)
        np.minimum.at(root, previous[b], low)
        root = root[root[root]]
        if np.array_equal(root, previous):
            return root


# ---------------------------------------------------------------------------------------------
# Regions: joined pieces, and the parts they take in


class _RegionGraph:
    """Regions, which touch which and along how long a boundary, and which took in which."""

    def __init__(self, pieces: _Pieces, region_of_piece: np.ndarray):
        count = int(region_of_piece.max()) + 1
        self.region_of_pixel = region_of_piece[pieces.piece_of]
        self.area = np.bincount(region_of_piece, pieces.area, minlength=count).astype(np.int64)
        weighted = pieces.mean * pieces.area[:, None]
        self.mean = np.stack([np.bincount(region_of_piece, weighted[:, c], minlength=count) for c in range(3)], 1)
        self.mean /= self.area[:, None]
        self.colored = np.hypot(self.mean[:, 1], self.mean[:, 2]) >= MIN_CHROMA
        self.boxes = np.empty((count, 4), np.int64)
        self.boxes[:, :2] = np.iinfo(np.int64).max
        self.boxes[:, 2:] = -1
        np.minimum.at(self.boxes[:, 0], region_of_piece, pieces.boxes[:, 0])
        np.minimum.at(self.boxes[:, 1], region_of_piece, pieces.boxes[:, 1])
        np.maximum.at(self.boxes[:, 2], region_of_piece, pieces.boxes[:, 2])
        np.maximum.at(self.boxes[:, 3], region_of_piece, pieces.boxes[:, 3])
        self.background = np.zeros(count, bool)
        self.background[region_of_piece[pieces.touches_edge]] = True

        a, b = region_of_piece[pieces.first], region_of_piece[pieces.second]
        between = a != b
        keys = np.minimum(a, b)[between].astype(np.int64) * count + np.maximum(a, b)[between]
        keys, inverse = np.unique(keys, return_inverse=True)
        lengths = np.bincount(inverse.ravel(), pieces.length[between])
        self._neighbours: list[dict[int, int]] = [{} for _ in range(count)]
        for key, length in zip(keys.tolist(), lengths.astype(np.int64).tolist()):
            i, j = divmod(key, count)
            self._neighbours[i][j] = length
            self._neighbours[j][i] = length
        self._taken_by = np.arange(count)

    def absorb_parts(self) -> None:
        """Fold each small region into the coloured region it mostly borders, smallest first."""
        area, background, colored = self.area, self.background, self.colored
        for part in np.argsort(area, kind="stable").tolist():
            if background[part]:
                continue
            neighbours = self._neighbours[part]
            holders = [
                (length, other)
                for other, length in neighbours.items()
                if colored[other] and not background[other] and area[other] >= PART_RATIO * area[part]
            ]
            if holders:
                length, holder = max(holders)
                if length >= PART_SHARE * sum(neighbours.values()):
                    self._take_in(holder, part)
        taken_by = self._taken_by
        while not np.array_equal(taken_by[taken_by], taken_by):
            taken_by = taken_by[taken_by]
        self._taken_by = taken_by
        self.region_of_pixel = taken_by[self.region_of_pixel]

    def _take_in(self, holder: int, part: int) -> None:
        for other, length in self._neighbours[part].items():
            del self._neighbours[other][part]
            if other != holder:
                self._neighbours[holder][other] = self._neighbours[holder].get(other, 0) + length
                self._neighbours[other][holder] = self._neighbours[other].get(holder, 0) + length
        self._neighbours[part] = {}
        self.area[holder] += self.area[part]
        self.boxes[holder, :2] = np.minimum(self.boxes[holder, :2], self.boxes[part, :2])
        self.boxes[holder, 2:] = np.maximum(self.boxes[holder, 2:], self.boxes[part, 2:])
        self._taken_by[part] = holder

    def regions(self, smallest: float, largest: float) -> list[int]:
        """Regions left (not background, not taken in) of an area within the bounds."""
        left = (self._taken_by == np.arange(len(self.area))) & ~self.background
        return np.flatnonzero(left & (self.area >= smallest) & (self.area <= largest)).tolist()

    def box_of(self, members: list[int]) -> Box:
        boxes = self.boxes[members]
        return int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max())


# ---------------------------------------------------------------------------------------------
# Shapes: what a region, or a blob of them, looks like


@dataclass(frozen=True)
class _Shape:
    box: Box
    area: int  # pixels
    roundness: float
    solidity: float
    contrast: float
    sharpness: float  # the steepest tenth of its boundary: a step / contrast, per pixel
    typical_sharpness: float  # the same for its boundary's steepest quarter

    @property
    def is_blurred(self) -> bool:
        """Mostly soft-edged: a cloud, even where it touches a balloon."""
        return self.typical_sharpness < MIN_SHARPNESS

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def is_object(self) -> bool:
        return (
            self.solidity >= MIN_SOLIDITY
            and self.roundness >= MIN_ROUNDNESS
            and self.contrast >= MIN_CONTRAST
            and self.sharpness >= MIN_SHARPNESS
        )


class _Scene:
    """The picture with its final regions."""

    def __init__(self, graph: _RegionGraph, lab: np.ndarray, classes: np.ndarray):
        self.graph, self.lab, self.classes = graph, lab, classes
        self.owner = graph.region_of_pixel
        self.gradient = _gradient_magnitude(lab)
        self.smallest, self.largest = MIN_AREA * classes.size, MAX_AREA * classes.size
        large = graph.background & (graph.area >= SURFACE_AREA * classes.size)
        self.surfaces = graph.mean[large].reshape(-1, 3)  # Lab of the sky, wall, table, road...

    def blobs(self, leaving_out: list[int]) -> list[list[int]]:
        """Groups of regions touching each other, cut off by background or the regions left out."""
        graph = self.graph
        candidates = np.zeros(len(graph.area), bool)
        candidates[graph.regions(0, np.inf)] = True
        candidates[leaving_out] = False
        found, blob_of_pixel = cv2.connectedComponents(candidates[self.owner].astype(np.uint8), connectivity=4)
        blob_of_region = np.zeros(len(graph.area), np.int64)
        blob_of_region[self.owner.ravel()] = blob_of_pixel.ravel()
        members = np.flatnonzero(candidates)
        order = np.argsort(blob_of_region[members], kind="stable")
        _, starts = np.unique(blob_of_region[members][order], return_index=True)
        return [group.tolist() for group in np.split(members[order], starts[1:])] if len(members) else []

    def describe(self, members: list[int]) -> _Shape:
        return _describe(self.owner, members, self.graph.box_of(members), self.lab, self.gradient)

    def blob_in_place_of(self, members: list[int], kept: list[_Shape]) -> ColorObject | None:
        """The whole blob as one object when it should stand in for its parts, else None."""
        if len(members) < 2:
            return None
        graph = self.graph
        area = int(graph.area[members].sum())
        colored = [m for m in members if graph.colored[m]]
        if not self.smallest <= area <= self.largest or graph.area[colored].sum() < BLOB_COLORED * area:
            return None
        kept_area = sum(k.area for k in kept)
        one_main_part = len(kept) == 1 and kept_area >= BLOB_SHARE * area
        details = kept_area < BLOB_DETAILS * area
        if kept and not (one_main_part or details) and max(k.roundness for k in kept) + ROUNDER_WHOLE > 1.0:
            return None  # it cannot be rounder enough than its parts: spare describing it
        shape = self.describe(members)
        if not shape.is_object or self.shows_background(colored):
            return None
        rounder = shape.roundness >= max((k.roundness for k in kept), default=0.0) + ROUNDER_WHOLE
        if kept and not (one_main_part or details or rounder):
            return None
        return self.as_object(shape, colored)

    def shows_background(self, members: list[int]) -> bool:
        """Whether these regions have the colour of a background surface: the sky seen through a
        tree's crown, not a thing in front of it. Seen through a gap a surface is often in shade,
        so its hue and chroma must match closely and its lightness only roughly."""
        weights = self.graph.area[members]
        color = (self.graph.mean[members] * weights[:, None]).sum(axis=0) / weights.sum()
        surfaces = self.surfaces
        same_hue = np.hypot(*(surfaces[:, 1:] - color[1:]).T) < SURFACE_HUE_CHROMA
        return bool((same_hue & (np.abs(surfaces[:, 0] - color[0]) < SURFACE_LIGHTNESS)).any())

    def as_object(self, shape: _Shape, colored: list[int]) -> ColorObject:
        left, top, right, bottom = shape.box
        window = self.owner[top:bottom, left:right]
        inside = np.isin(window, colored) if len(colored) > 1 else window == colored[0]
        classes = self.classes[top:bottom, left:right][inside]
        color_class = int(np.bincount(classes.ravel()).argmax())
        main = self.lab[top:bottom, left:right][inside][classes == color_class]
        chroma = float(np.hypot(main[:, 1], main[:, 2]).mean())
        return ColorObject(shape.box, color_class, shape.roundness, shape.solidity, shape.contrast, chroma)


def _gradient_magnitude(lab: np.ndarray) -> np.ndarray:
    """The larger of the colour steps to the right and downwards, per pixel (CIE76)."""
    across = np.zeros(lab.shape[:2], np.float32)
    down = np.zeros(lab.shape[:2], np.float32)
    across[:, :-1] = np.linalg.norm(lab[:, 1:] - lab[:, :-1], axis=-1)
    down[:-1, :] = np.linalg.norm(lab[1:] - lab[:-1], axis=-1)
    return np.maximum(across, down)


def _describe(owner: np.ndarray, members: list[int], box: Box, lab: np.ndarray, gradient: np.ndarray) -> _Shape:
    """Shape, contrast and edge sharpness of the pixels owned by `members`, looked at around `box`."""
    height, width = owner.shape
    pad = _RING_FAR + 1
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, width), min(y1 + pad, height)
    window = owner[cy0:cy1, cx0:cx1]
    mask = (np.isin(window, members) if len(members) > 1 else window == members[0]).astype(np.uint8)

    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = max(contours, key=cv2.contourArea)
    filled = max(cv2.contourArea(outline), 1.0)
    hull = max(cv2.contourArea(cv2.convexHull(outline)), 1.0)
    _, radius = cv2.minEnclosingCircle(outline)
    roundness = min(filled / (np.pi * max(radius, 0.5) ** 2), 1.0)

    colors = lab[cy0:cy1, cx0:cx1]
    outside = (cv2.dilate(mask, _DISCS[_RING_FAR]) > 0) & ~(cv2.dilate(mask, _DISCS[_RING_NEAR]) > 0)
    inside = (cv2.erode(mask, _DISCS[_RING_NEAR]) > 0) & ~(cv2.erode(mask, _DISCS[_RING_FAR]) > 0)
    if not inside.any():
        inside = mask > 0
    # Each surrounding pixel against the inside's mean colour: the mean of varied surroundings
    # would come out greyish and understate how much the object stands out.
    own_color = colors[inside].mean(axis=0)
    contrast = float(np.linalg.norm(colors[outside] - own_color, axis=1).mean()) if outside.any() else 0.0
    edge = (cv2.dilate(mask, _DISCS[1]) > 0) & ~(cv2.erode(mask, _DISCS[1]) > 0)
    typical, steepest = np.percentile(gradient[cy0:cy1, cx0:cx1][edge], [75, 90]) / max(contrast, 1e-6)
    return _Shape(box, int(mask.sum()), roundness, filled / hull, contrast, float(steepest), float(typical))
