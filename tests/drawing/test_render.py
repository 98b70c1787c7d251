"""Drawing, checked by pixels: boxes, labels, palette, masks."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import webcolors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import colors
from components.colors import Color
from components.drawing import render
from components.drawing.labels import SMALLEST_DISPLAY_PX, Label, drawable_text, label_font, layout_labels, page_font_path, style_for
from components.images.preparation import prepare_upload
from components.local_models import color_maths
from components.local_models.segmenter import segment_colors, segment_colors_finely
from components.results import Box, Concept, Prediction, Region
from tests.drawing.visibility import visibility
from tests.local_models.pictures import sample_picture

# A drawn segment is visible when this share of its pixels, and of its edge, changed by more
# than visibility.VISIBLE_DELTA; segments under MIN_AREA of the picture are specks.
MIN_CHANGED, MIN_OUTLINED, MIN_AREA = 0.3, 0.9, 0.01

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def detection(name: str, value: float, top: float, left: float, bottom: float, right: float) -> Region:
    return Region((Concept(name, value),), box=Box(top, left, bottom, right))


def segment(name: str, mask: np.ndarray, value: float = 0.5) -> Region:
    return Region((Concept(name, value),), mask=mask)


def blank(width: int, height: int, value: int = 0) -> np.ndarray:
    return np.full((height, width, 3), value, dtype=np.uint8)


def is_color(pixel: np.ndarray, color) -> bool:
    return tuple(int(v) for v in pixel) == tuple(color)


def changed_rect(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) exclusive of the pixels that differ."""
    diff = np.any(before != after, axis=2)
    if not diff.any():
        return None
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def mask_reference_blend(image, regions, opacity=0.5, hidden=frozenset()):
    """The straightforward blend: per mask, a full-frame float blend where the mask is set.
    Each pixel blends the original picture with the colour of the last mask covering it."""
    height, width = image.shape[:2]
    hidden = {colors.normalise_name(n) for n in hidden}
    original = image.astype(np.float64)
    out = original.copy()
    for region in regions:
        name = region.top_concept.name if region.top_concept else ""
        if colors.normalise_name(name) in hidden or region.mask is None:
            continue
        mask = np.asarray(region.mask)
        if mask.ndim != 2 or mask.size == 0:
            continue
        mask = cv2.resize((mask > 0).astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
        color = np.array(colors.color_for(name), dtype=np.float64)
        out[mask] = original[mask] * (1 - opacity) + color * opacity
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def random_picture(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


# --- palette ---------------------------------------------------------------------------------


def test_palette_has_about_twenty_distinct_colors():
    assert 18 <= len(colors.PALETTE) <= 24
    assert len(set(colors.PALETTE)) == len(colors.PALETTE)


@pytest.mark.parametrize("color", colors.PALETTE)
def test_every_palette_color_gets_text_with_at_least_4_5_to_1_contrast(color):
    text = colors.text_color_for(color)
    assert text in (colors.BLACK, colors.WHITE)
    assert colors.contrast_ratio(color, text) >= 4.5


@pytest.mark.parametrize("named", colors.NAMED_COLORS, ids=lambda c: c.name)
def test_every_named_color_gets_text_with_at_least_4_5_to_1_contrast(named):
    text = colors.text_color_for(named.color)
    assert colors.contrast_ratio(named.color, text) >= 4.5


def test_a_color_concept_is_its_own_color_and_every_named_color_is_distinct():
    for named in colors.NAMED_COLORS:
        assert colors.color_for(named.name, named.concept_id) == named.color
        assert colors.color_for(named.name.upper(), named.concept_id) == named.color
    drawn = {colors.color_for(named.name, named.concept_id) for named in colors.NAMED_COLORS}
    assert len(drawn) == len(colors.NAMED_COLORS)  # no two colour names share a colour
    assert color_maths.NAMED_COLORS is colors.NAMED_COLORS  # the local models name these very colours


def test_a_color_word_from_any_model_is_drawn_in_that_color():
    # One concept, one colour everywhere: Clarifai's "red" concept, a VLM's "red" label and the local
    # colour models' red are all red (a label "orange" drawn in lime would mislead).
    assert colors.color_for("red", "ai_red") == colors.color_for("red") == colors.named_color("colour-red").color
    assert colors.named_color("ai_red") is None
    assert colors.named_color("colour-sky-blue").name == "sky blue"


# What vision-language models call colours outside the app's own twenty, as CSS names them.
CSS_COLORS_SAID = {
    "maroon": "#800000", "gold": "#ffd700", "crimson": "#dc143c", "dark blue": "#00008b",
    "darkblue": "#00008b", "Dark-Blue": "#00008b", "cyan": "#00ffff", "light sea green": "#20b2aa",
}


@pytest.mark.parametrize("name", CSS_COLORS_SAID)
def test_a_css_color_name_is_drawn_in_that_color(name):
    assert colors.color_for(name).hex == CSS_COLORS_SAID[name]
    assert colors.color_for(f"{name} round object").hex == CSS_COLORS_SAID[name], "a thing named by it too"


def test_the_apps_own_named_colors_come_before_the_css_names():
    # CSS's skyblue is #87ceeb and darkred #8b0000: the local models' sky blue and dark red stay theirs
    for name in ("sky blue", "skyblue", "Sky-Blue"):
        assert colors.color_for(name) == colors.named_color("colour-sky-blue").color
    assert colors.color_for("darkred") == colors.color_for("dark red") == colors.named_color("colour-dark-red").color
    assert colors.color_for("gray") == colors.color_for("grey") == colors.named_color("colour-grey").color
    assert colors.color_for("dog") in colors.PALETTE and colors.color_for("sky-other") in colors.PALETTE


@pytest.mark.parametrize("name", webcolors.names(webcolors.CSS3))
def test_every_css_color_gets_label_text_with_at_least_4_5_to_1_contrast(name):
    own = {named.name.replace(" ", ""): named.color for named in colors.NAMED_COLORS} | {"gray": colors.color_for("grey")}
    color = colors.color_for(name)
    assert color == own.get(name, Color.from_hex(webcolors.name_to_hex(name))), "resolved, not hashed"
    assert colors.contrast_ratio(color, colors.text_color_for(color)) >= 4.5


def test_a_box_and_label_named_by_a_css_color_are_drawn_in_it():
    image = blank(400, 300, 128)
    drawn = render.draw_detections(image, [detection("gold", 0.9, 0.3, 0.2, 0.9, 0.8)])
    x0, y0, x1, y1 = detection("gold", 0.9, 0.3, 0.2, 0.9, 0.8).box.pixels(400, 300)
    gold = Color.from_hex("#ffd700")
    assert is_color(drawn[(y0 + y1) // 2, x0], gold), "the box's line"
    label = drawn[: y0 + 1, x0:x1]  # the label sits above the box
    assert np.all(label == gold, axis=2).sum() > 200, "the label's background"
    assert np.all(label == colors.BLACK, axis=2).sum() > 20, "black text, the one that reads on gold"
    assert not np.all(label == colors.WHITE, axis=2).any()


def test_contrast_ratio_follows_wcag():
    assert colors.contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert colors.contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert colors.contrast_ratio((90, 90, 90), (90, 90, 90)) == pytest.approx(1.0)
    assert colors.text_color_for((0, 255, 255)) == colors.BLACK  # yellow
    assert colors.text_color_for((117, 0, 0)) == colors.WHITE  # navy


def test_same_concept_gets_same_color_whatever_the_case_or_spacing():
    assert colors.color_for("Person") == colors.color_for("person") == colors.color_for(" PERSON ")
    assert colors.color_for("person") in colors.PALETTE


def test_a_thing_named_by_its_color_is_drawn_in_that_color():
    red = colors.color_for("red")
    assert colors.color_for("red round object") == colors.color_for("Red object") == red
    assert colors.color_for("sky blue object") == colors.color_for("sky blue")
    assert colors.color_for("round object") in colors.PALETTE  # no colour named: hashed as usual


def test_unlabelled_segments_and_objects_of_one_picture_never_share_a_color():
    for word in ("segment", "object"):
        shown = [colors.color_for(f"{word} {n}") for n in range(1, len(colors.PALETTE) + 1)]
        assert len(set(shown)) == len(colors.PALETTE)
        assert colors.color_for(f"{word.title()} 4") == shown[3]


def test_concept_color_is_the_same_in_a_new_process():
    names = ["person", "dog", "Land vehicle", "sky-other", "café"]
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from components.colors import color_for;"
        "print(repr([color_for(n) for n in sys.argv[2:]]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(PROJECT_ROOT), *names],
        capture_output=True, text=True, env=env, check=True, timeout=60,
    ).stdout
    assert out.strip() == repr([colors.color_for(n) for n in names])


def test_box_color_depends_on_the_concept_not_its_position_in_the_response():
    image = blank(400, 300)
    dog = detection("dog", 0.9, 0.5, 0.5, 0.9, 0.9)
    cat = detection("cat", 0.8, 0.1, 0.1, 0.4, 0.4)
    first = render.draw_detections(image, [dog, cat], show_labels=False)
    second = render.draw_detections(image, [cat, dog], show_labels=False)
    x0, y0, _, _ = dog.box.pixels(400, 300)
    assert is_color(first[y0 + 20, x0], colors.color_for("dog"))
    assert is_color(second[y0 + 20, x0], colors.color_for("dog"))


# --- boxes -----------------------------------------------------------------------------------


def test_box_edges_land_where_its_fractions_say():
    image = blank(400, 300)
    region = detection("person", 0.93, top=0.25, left=0.1, bottom=0.75, right=0.5)
    drawn = render.draw_detections(image, [region], show_labels=False)
    color = colors.color_for("person")
    width = style_for(400, 300).line_width
    # left edge x=40, right edge x=200, top y=75, bottom y=225 (fractions of 400 x 300)
    assert all(is_color(drawn[y, 40], color) for y in range(75, 226))
    assert all(is_color(drawn[y, 200], color) for y in range(75, 226))
    assert all(is_color(drawn[75, x], color) for x in range(40, 201))
    assert all(is_color(drawn[225, x], color) for x in range(40, 201))
    # nothing outside the box; the stroke, then a black or white rim, lie inside it
    assert changed_rect(image, drawn) == (40, 75, 201, 226)
    assert is_color(drawn[150, 40 + width - 1], color)
    rim = render.rim_width(width)
    assert all(is_color(drawn[150, 40 + width + i], color.text_color) for i in range(rim))
    assert is_color(drawn[150, 40 + width + rim], (0, 0, 0))


def test_drawing_returns_a_new_array_and_leaves_the_input_alone():
    image = random_picture(200, 100)
    before = image.copy()
    drawn = render.draw_detections(image, [detection("dog", 0.9, 0.1, 0.1, 0.9, 0.9)])
    assert drawn is not image and not np.shares_memory(drawn, image)
    assert np.array_equal(image, before)
    assert not np.array_equal(drawn, image)


def test_boxes_under_min_score_and_hidden_concepts_are_not_drawn():
    image = blank(300, 200)
    low = detection("dog", 0.2, 0.1, 0.1, 0.5, 0.5)
    hidden = detection("cat", 0.9, 0.5, 0.5, 0.9, 0.9)
    assert np.array_equal(render.draw_detections(image, [low], min_score=0.5), image)
    assert np.array_equal(render.draw_detections(image, [hidden], hidden={"Cat"}), image)
    assert not np.array_equal(render.draw_detections(image, [low], min_score=0.2), image)


def test_line_width_and_text_grow_with_the_picture():
    def stroke_width(width, height):
        image = blank(width, height)
        drawn = render.draw_detections(image, [detection("dog", 0.9, 0.2, 0.2, 0.8, 0.8)], show_labels=False)
        row = drawn[height // 2]
        x0 = Box(0.2, 0.2, 0.8, 0.8).pixels(width, height)[0]
        run = 0
        while is_color(row[x0 + run], colors.color_for("dog")):
            run += 1
        return run

    def label_height(width, height):
        labels = layout_labels([detection("dog", 0.9, 0.2, 0.2, 0.8, 0.8)], width, height)
        return labels[0].rect[3] - labels[0].rect[1]

    small, large = stroke_width(300, 300), stroke_width(4000, 3000)
    assert small >= 2
    assert large >= 3 * small
    assert label_height(4000, 3000) >= 3 * label_height(300, 300)
    assert label_height(300, 300) >= 12  # still readable on a small picture


def test_text_is_black_on_light_labels_and_white_on_dark_ones():
    light = next(c for c in colors.PALETTE if colors.text_color_for(c) == colors.BLACK)
    dark = next(c for c in colors.PALETTE if colors.text_color_for(c) == colors.WHITE)
    light_name = next(n for n in (f"thing{i}" for i in range(1000)) if colors.color_for(n) == light)
    dark_name = next(n for n in (f"thing{i}" for i in range(1000)) if colors.color_for(n) == dark)
    image = blank(2000, 1500, 128)
    for name, text in ((light_name, colors.BLACK), (dark_name, colors.WHITE)):
        region = detection(name, 0.9, 0.4, 0.4, 0.6, 0.6)
        drawn = render.draw_detections(image, [region])
        (label,) = layout_labels([region], 2000, 1500)
        left, top, right, bottom = label.rect
        inside = drawn[top:bottom, left:right].reshape(-1, 3)
        assert any(is_color(p, text) for p in inside)  # solid text pixels
        assert not any(is_color(p, colors.WHITE if text == colors.BLACK else colors.BLACK) for p in inside)


# --- labels ----------------------------------------------------------------------------------


def label_border_is_painted(drawn: np.ndarray, label: Label) -> bool:
    left, top, right, bottom = label.rect
    border = np.concatenate([
        drawn[top, left:right], drawn[bottom - 1, left:right],
        drawn[top:bottom, left], drawn[top:bottom, right - 1],
    ])
    return bool(np.all(border == np.array(label.color, dtype=np.uint8)))


CORNER_BOXES = {
    "top-left": (0.0, 0.0, 0.15, 0.1),
    "top-right": (0.0, 0.9, 0.15, 1.0),
    "bottom-left": (0.85, 0.0, 1.0, 0.1),
    "bottom-right": (0.85, 0.9, 1.0, 1.0),
    "outside-right": (0.4, 0.97, 0.6, 1.4),
    "whole-picture": (0.0, 0.0, 1.0, 1.0),
}


@pytest.mark.parametrize("where", list(CORNER_BOXES))
@pytest.mark.parametrize("size", [(400, 300), (1920, 1080)])
def test_label_stays_whole_and_inside_the_picture_at_every_edge(where, size):
    width, height = size
    image = blank(width, height, 40)
    name = "waste container"
    corner = detection(name, 0.93, *CORNER_BOXES[where])
    centre = detection(name, 0.93, 0.4, 0.4, 0.6, 0.6)

    def drawn_label(region):
        boxes_only = render.draw_detections(image, [region], show_labels=False)
        labelled = render.draw_detections(image, [region])
        (label,) = layout_labels([region], width, height)
        # every pixel the label changed lies inside its rectangle, and that rectangle is
        # painted right up to its border: nothing was cut off by the picture's edge
        left, top, right, bottom = changed_rect(boxes_only, labelled)
        rl, rt, rr, rb = label.rect
        assert rl <= left and rt <= top and right <= rr and bottom <= rb
        assert label_border_is_painted(labelled, label)
        return label.rect

    rl, rt, rr, rb = drawn_label(corner)
    assert 0 <= rl < rr <= width and 0 <= rt < rb <= height
    cl, ct, cr, cb = drawn_label(centre)
    assert (rr - rl, rb - rt) == (cr - cl, cb - ct)  # same size as a label with room around it


def test_label_sits_above_its_box_when_there_is_room():
    region = detection("dog", 0.9, 0.5, 0.3, 0.8, 0.6)
    (label,) = layout_labels([region], 400, 300)
    x0, y0, _, _ = region.box.pixels(400, 300)
    assert label.rect[0] == x0 and label.rect[3] == y0


def test_labels_of_overlapping_boxes_do_not_overlap():
    names = []
    for name in (f"object {i}" for i in range(200)):
        if colors.color_for(name) not in {colors.color_for(n) for n in names}:
            names.append(name)
        if len(names) == 6:
            break
    regions = [
        detection(name, 0.9 - i * 0.05, 0.3 + i * 0.01, 0.3 + i * 0.01, 0.7, 0.7)
        for i, name in enumerate(names)
    ]
    drawn = render.draw_detections(blank(640, 480), regions)
    labels = layout_labels(regions, 640, 480)
    assert len(labels) == len(regions)
    for a, b in itertools.combinations(labels, 2):
        apart = a.rect[2] <= b.rect[0] or b.rect[2] <= a.rect[0] or a.rect[3] <= b.rect[1] or b.rect[3] <= a.rect[1]
        assert apart, (a, b)
    for label in labels:  # each label's own colour all round: none painted over another
        assert label_border_is_painted(drawn, label)




# --- robustness ------------------------------------------------------------------------------

coordinate = st.one_of(
    st.floats(min_value=-2, max_value=3, allow_nan=False),
    st.sampled_from([0.0, 1.0, 0.5, float("nan"), float("inf"), float("-inf")]),
)
weird_region = st.builds(
    lambda name, value, top, left, bottom, right: detection(name, value, top, left, bottom, right),
    st.text(max_size=12),
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1)),
    coordinate, coordinate, coordinate, coordinate,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regions=st.lists(weird_region, max_size=25),
    width=st.integers(1, 120),
    height=st.integers(1, 120),
    min_score=st.floats(0, 1),
)
def test_weird_boxes_never_raise_and_labels_stay_inside(regions, width, height, min_score):
    image = random_picture(width, height)
    before = image.copy()
    drawn = render.draw_detections(image, regions, min_score=min_score)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert np.array_equal(image, before)
    for label in layout_labels(regions, width, height, min_score):
        left, top, right, bottom = label.rect
        assert 0 <= left <= right <= width and 0 <= top <= bottom <= height


def test_boxes_that_cannot_be_drawn_are_skipped():
    for box in [Box(0.5, 0.5, 0.5, 0.9), Box(float("nan"), 0, 1, 1), Box(1.2, 0, 1.5, 1), Box(0, -1, 1, -0.5)]:
        assert box.pixels(100, 100) is None
    assert Box(0.9, 0.8, 0.1, 0.2).pixels(100, 100) == (20, 10, 80, 90)  # inverted
    assert Box(-0.5, -0.5, 2, 2).pixels(100, 50) == (0, 0, 99, 49)  # clipped


def test_thousands_of_boxes_draw_without_error():
    rng = np.random.default_rng(3)
    regions = [
        detection(f"thing {i % 40}", float(rng.random()), *np.sort(rng.random(2)), *np.sort(rng.random(2)))
        for i in range(3000)
    ]
    regions = [Region(r.concepts, Box(r.box.top, r.box.bottom, r.box.left, r.box.right)) for r in regions]
    picture = random_picture(640, 480)
    drawn = render.draw_detections(picture, regions)
    assert drawn.shape == (480, 640, 3)
    assert (drawn != picture).any(axis=2).mean() > 0.2  # boxes really were drawn


# --- masks -----------------------------------------------------------------------------------


def ellipse_mask(width, height, centre, axes) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def test_mask_blend_equals_the_reference_within_one_level():
    image = random_picture(320, 240, seed=1)
    regions = [
        segment("sky", ellipse_mask(320, 240, (80, 60), (60, 40))),
        segment("road", ellipse_mask(320, 240, (220, 170), (80, 50))),
        segment("tree", ellipse_mask(320, 240, (150, 120), (50, 50))),  # overlaps both
    ]
    for opacity in (0.0, 0.3, 0.5, 1.0):
        fast = render.blend_masks(image, regions, opacity=opacity)
        reference = mask_reference_blend(image, regions, opacity=opacity)
        assert np.abs(fast.astype(int) - reference.astype(int)).max() <= 1


def test_pixels_under_no_mask_stay_exactly_the_same():
    image = random_picture(320, 240, seed=2)
    mask = ellipse_mask(320, 240, (160, 120), (50, 30))
    blended = render.blend_masks(image, [segment("sky", mask)], opacity=0.6)
    assert np.array_equal(blended[~mask], image[~mask])
    assert np.all(np.any(blended[mask] != image[mask], axis=1) | np.all(image[mask] == colors.color_for("sky"), axis=1))


def test_later_masks_win_where_masks_overlap():
    image = blank(100, 100)
    full = np.ones((100, 100), bool)
    names = [n for n in (f"part {i}" for i in range(100))]
    first = names[0]
    second = next(n for n in names if colors.color_for(n) != colors.color_for(first))
    blended = render.blend_masks(image, [segment(first, full), segment(second, full)], opacity=1.0)
    assert is_color(blended[50, 50], colors.color_for(second))


def test_small_mask_is_resized_to_the_picture_with_nearest_neighbour():
    image = blank(640, 480, 255)
    mask = np.zeros((48, 64), bool)
    mask[12:25, 16:33] = True  # -> rows 120..249, cols 160..329 on 640 x 480
    blended = render.blend_masks(image, [segment("car", mask)], opacity=1.0)
    color = colors.color_for("car")
    assert is_color(blended[120, 160], color) and is_color(blended[249, 329], color)
    for y, x in [(119, 200), (250, 200), (200, 159), (200, 330)]:
        assert is_color(blended[y, x], (255, 255, 255))
    assert changed_rect(image, blended) == (160, 120, 330, 250)
    assert np.array_equal(blended, mask_reference_blend(image, [segment("car", mask)], opacity=1.0))


def test_hidden_concepts_are_not_painted():
    image = blank(200, 100, 200)
    sky, road = np.zeros((100, 200), bool), np.zeros((100, 200), bool)
    sky[:40], road[60:] = True, True
    blended = render.blend_masks(image, [segment("Sky", sky), segment("road", road)], hidden={"sky"})
    assert np.array_equal(blended[:40], image[:40])
    assert not np.array_equal(blended[60:], image[60:])
    both_hidden = render.blend_masks(image, [segment("Sky", sky), segment("road", road)], hidden={"SKY", "road"})
    assert np.array_equal(both_hidden, image)


def test_unusable_masks_leave_the_picture_unchanged():
    image = random_picture(60, 40)
    regions = [
        segment("a", np.zeros((40, 60), bool)),
        segment("b", np.zeros((0, 0), bool)),
        Region((Concept("c", 0.5),), mask=None),
        Region((Concept("d", 0.5),), box=Box(0.1, 0.1, 0.5, 0.5)),
        segment("e", np.zeros((5,), bool)),
    ]
    blended = render.blend_masks(image, regions)
    assert np.array_equal(blended, image) and blended is not image
    assert np.array_equal(render.blend_masks(image, []), image)


def test_three_d_and_non_bool_masks_count_pixels_above_zero():
    image = blank(40, 30)
    mask = np.zeros((30, 40, 3), np.uint8)
    mask[10:20, 10:20, 1] = 255
    as_3d = render.blend_masks(image, [segment("x", mask)], opacity=1.0)
    flat = render.blend_masks(image, [segment("x", mask[:, :, 1] > 0)], opacity=1.0)
    assert np.array_equal(as_3d, flat)
    floats = render.blend_masks(image, [segment("x", (mask[:, :, 1] / 255.0))], opacity=1.0)
    assert np.array_equal(floats, flat)


@st.composite
def mask_regions(draw):
    count = draw(st.integers(0, 6))
    regions = []
    for _ in range(count):
        h, w = draw(st.integers(0, 30)), draw(st.integers(0, 30))
        seed = draw(st.integers(0, 2**16))
        density = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
        mask = np.random.default_rng(seed).random((h, w)) < density
        regions.append(segment(draw(st.sampled_from(["sky", "road", "Tree", "", "é"])), mask))
    return regions


@settings(max_examples=120, deadline=None)
@given(regions=mask_regions(), width=st.integers(1, 50), height=st.integers(1, 50),
       opacity=st.floats(0, 1), hide=st.sets(st.sampled_from(["sky", "tree"])))
def test_masks_of_any_size_blend_like_the_reference(regions, width, height, opacity, hide):
    image = random_picture(width, height, seed=width * height)
    before = image.copy()
    fast = render.blend_masks(image, regions, opacity=opacity, hidden=hide)
    assert np.array_equal(image, before)
    reference = mask_reference_blend(image, regions, opacity=opacity, hidden=hide)
    assert np.abs(fast.astype(int) - reference.astype(int)).max(initial=0) <= 1


def test_thousands_of_masks_blend_without_error():
    rng = np.random.default_rng(4)
    regions = [segment(f"thing {i % 30}", rng.random((24, 32)) < 0.05) for i in range(2000)]
    image = random_picture(320, 240)
    blended = render.blend_masks(image, regions)
    assert blended.shape == image.shape
    assert (blended != image).any(axis=2).mean() > 0.5  # most pixels sit under some mask


def test_weird_opacity_is_clamped():
    image = random_picture(20, 10)
    mask = np.ones((10, 20), bool)
    assert np.array_equal(render.blend_masks(image, [segment("x", mask)], opacity=-1), image)
    solid = render.blend_masks(image, [segment("x", mask)], opacity=7)
    assert is_color(solid[5, 5], colors.color_for("x"))
    render.blend_masks(image, [segment("x", mask)], opacity=float("nan"))


# --- annotate --------------------------------------------------------------------------------


def test_annotate_draws_masks_then_boxes():
    image = blank(400, 300)
    mask = np.ones((300, 400), bool)
    prediction = Prediction(regions=(
        segment("floor", mask),
        detection("dog", 0.9, 0.25, 0.1, 0.75, 0.5),
    ))
    annotated = render.annotate(image, prediction, opacity=0.5)
    assert is_color(annotated[150, 40], colors.color_for("dog"))  # box on top of the mask
    expected_floor = mask_reference_blend(image, [segment("floor", mask)])[10, 390]
    assert np.array_equal(annotated[10, 390], expected_floor)


def color_concept(name: str, value: float = 0.5) -> Concept:
    named = next(c for c in colors.NAMED_COLORS if c.name == name)
    return Concept(name, value, named.concept_id)


def test_color_concepts_are_painted_and_boxed_in_their_own_color():
    image = blank(200, 100, 128)
    left, right = np.zeros((100, 200), bool), np.zeros((100, 200), bool)
    left[:, :100], right[:, 100:] = True, True
    regions = [Region((color_concept("sky blue"),), mask=left), Region((color_concept("olive"),), mask=right)]
    painted = render.blend_masks(image, regions, opacity=1.0)
    assert is_color(painted[50, 50], Color.from_rgb(120, 190, 240))
    assert is_color(painted[50, 150], Color.from_rgb(128, 128, 0))
    boxed = render.draw_detections(image, [Region((color_concept("pink", 0.9),), box=Box(0.2, 0.2, 0.8, 0.8))])
    assert is_color(boxed[50, 40], Color.from_rgb(250, 160, 190))


def test_offline_color_segments_are_hatched_and_outlined_on_a_picture_of_their_own_colors():
    """A picture made of named colours, segmented: each segment tinted in its own colour alone
    would change nothing, so each is hatched and outlined in black or white."""
    stripes = ("sky blue", "green", "orange", "navy", "beige", "purple")
    picture = np.zeros((240, 360, 3), np.uint8)
    for i, name in enumerate(stripes):
        picture[:, i * 60 : (i + 1) * 60] = next(c.color for c in colors.NAMED_COLORS if c.name == name)
    prediction = segment_colors(picture)
    assert {r.top_concept.name for r in prediction.regions} == set(stripes)
    plain = render.blend_masks(picture, prediction.regions, opacity=0.55)
    assert np.abs(plain.astype(int) - picture.astype(int)).max(axis=2).mean() < 3  # what it used to draw
    drawn = render.annotate(picture, prediction, opacity=0.55, boxes=False)
    for segment_seen in visibility(picture, drawn, list(prediction.regions)):
        assert segment_seen.changed >= MIN_CHANGED and segment_seen.outlined >= MIN_OUTLINED, segment_seen


def test_a_mask_far_from_the_pixels_under_it_is_tinted_not_hatched_and_outlined_inside_itself():
    image = blank(200, 100, 128)
    mask = np.zeros((100, 200), bool)
    mask[20:80, 40:160] = True
    region = segment("car", mask)  # a palette colour, far from grey
    drawn = render.blend_masks(image, [region], opacity=0.5, outlined=True)
    plain = render.blend_masks(image, [region], opacity=0.5)
    assert np.array_equal(drawn[~mask], image[~mask])  # the outline lies inside the mask
    width = render.rim_width(style_for(200, 100).line_width)
    inner = np.zeros_like(mask)
    inner[20 + width : 80 - width, 40 + width : 160 - width] = True
    assert np.array_equal(drawn[inner], plain[inner])  # no stripes inside
    edge = mask & ~inner
    ink = colors.text_color_for(tuple(int(v) for v in plain[50, 100]))
    assert (drawn[edge] == np.array(ink)).all()


def test_masks_are_visible_on_every_sample_whatever_their_colour():
    for key in ("street", "sunset", "fruit", "balloons"):
        picture = sample_picture(key)
        for segmenter in (segment_colors, segment_colors_finely):
            prediction = segmenter(picture)
            drawn = render.annotate(picture, prediction, opacity=0.55, boxes=False)
            for seen in visibility(picture, drawn, list(prediction.regions)):
                if seen.area >= MIN_AREA:
                    assert seen.changed >= MIN_CHANGED and seen.outlined >= MIN_OUTLINED, (key, segmenter, seen)


@pytest.mark.parametrize("name", ["metro-north.jpg", "astronaut.png", "chelsea.png", "coffee.png", "red-truck.png"])
def test_masks_are_visible_on_the_shared_photos(testdata, name):
    path = testdata / "photos" / name
    picture = prepare_upload(name, path.read_bytes()).pixels()
    prediction = segment_colors(picture)
    drawn = render.annotate(picture, prediction, opacity=0.55, boxes=False)
    for seen in visibility(picture, drawn, list(prediction.regions)):
        if seen.area >= MIN_AREA:
            assert seen.changed >= MIN_CHANGED and seen.outlined >= MIN_OUTLINED, seen


def test_a_clarifai_mask_in_a_colour_far_from_the_picture_keeps_its_plain_tint():
    """Masks from any model go through the same rule: one hashed to a colour unlike the pixels
    under it is tinted as before, only outlined."""
    picture = sample_picture("street")
    mask = np.zeros(picture.shape[:2], bool)
    mask[560:690, 420:640] = True  # the blue car
    region = segment("car", mask)
    assert colors.color_for("car") != colors.color_for("blue")
    drawn = render.annotate(picture, Prediction(regions=(region,)), opacity=0.55, boxes=False)
    plain = render.blend_masks(picture, [region], opacity=0.55)
    inside = np.zeros_like(mask)
    inside[570:680, 430:630] = True
    assert np.array_equal(drawn[inside], plain[inside])
    [seen] = visibility(picture, drawn, [region])
    assert seen.outlined >= MIN_OUTLINED


def _edge_contrast(picture: np.ndarray, xyxy, band: int) -> list[float]:
    """Per side of a box, the highest contrast between a pixel of its drawn edge (stroke and rim)
    and the picture just outside the box (the median of a short run along the side, so a hatched
    mask's stripe there does not stand for the whole surroundings)."""
    x0, y0, x1, y1 = xyxy
    my, mx = (y0 + y1) // 2, (x0 + x1) // 2
    run = slice(-12, 13)

    def around(ys, xs):
        return np.median(picture[ys, xs].reshape(-1, 3), axis=0)

    sides = [
        (picture[my, x0 : x0 + band], around(np.r_[run] + my, x0 - 3)),
        (picture[my, x1 - band + 1 : x1 + 1], around(np.r_[run] + my, x1 + 3)),
        (picture[y1 - band + 1 : y1 + 1, mx], around(y1 + 3, np.r_[run] + mx)),
        # the label sits above the box's left end: look at the top edge near its right end
        (picture[y0 : y0 + band, x1 - band - 3], around(y0 - 3, np.r_[run] + x1 - band - 3)),
    ]
    return [max(colors.contrast_ratio(p, outside) for p in edge) for edge, outside in sides]


@pytest.mark.parametrize("opacity", [0.5, 1.0])
def test_a_box_stays_visible_on_a_mask_of_its_own_color(opacity):
    # On All tasks a box often sits on the mask of its own concept, or of one hashed to its colour.
    picture = blank(400, 300, 128)
    mask = np.ones((300, 400), bool)
    width = style_for(400, 300).line_width
    band = width + render.rim_width(width)
    concepts = [Concept(f"thing {i}", 0.9) for i in range(60)]
    concepts += [color_concept(named.name, 0.9) for named in colors.NAMED_COLORS]
    seen = set()
    for concept in concepts:
        color = colors.color_for(concept.name, concept.id)
        if color in seen:
            continue
        seen.add(color)
        box = Box(0.3, 0.3, 0.7, 0.7)
        prediction = Prediction(regions=(Region((concept,), mask=mask), Region((concept,), box=box)))
        drawn = render.annotate(picture, prediction, opacity=opacity)
        contrasts = _edge_contrast(drawn, box.pixels(400, 300), band)
        assert min(contrasts) >= 3.0, (concept.name, color.hex, contrasts)
    assert len(seen) >= len(colors.PALETTE)


def test_annotate_without_regions_returns_a_copy():
    image = random_picture(30, 20)
    for prediction in (None, Prediction(), Prediction(concepts=(Concept("dog", 0.9),))):
        out = render.annotate(image, prediction)
        assert np.array_equal(out, image) and out is not image


def test_grey_and_bgra_pictures_are_accepted():
    grey = np.full((30, 40), 100, np.uint8)
    bgra = np.full((30, 40, 4), 100, np.uint8)
    region = detection("dog", 0.9, 0.1, 0.1, 0.9, 0.9)
    assert render.draw_detections(grey, [region]).shape == (30, 40, 3)
    assert render.draw_detections(bgra, [region]).shape == (30, 40, 3)


def test_masks_that_are_not_pictures_are_ignored():
    image = random_picture(20, 10)
    odd = [segment("a", np.array([["x"] * 20] * 10)), segment("b", np.ones((2, 2, 2, 2), bool))]
    assert np.array_equal(render.blend_masks(image, odd), image)


def test_a_single_hidden_name_is_not_read_letter_by_letter():
    image = blank(20, 10)
    mask = np.ones((10, 20), bool)
    assert np.array_equal(render.blend_masks(image, [segment("sky", mask)], hidden="sky"), image)
    assert not np.array_equal(render.blend_masks(image, [segment("s", mask)], hidden="sky"), image)


# --- labels that read on a phone ---------------------------------------------------------------


def text_ink_rows(drawn: np.ndarray, label: Label) -> tuple[int, int]:
    """(first, last + 1) rows of the label's rectangle holding text: pixels nearer the text
    colour than the fill colour."""
    left, top, right, bottom = label.rect
    patch = drawn[top:bottom, left:right].astype(float)
    to_fill = np.linalg.norm(patch - np.array(label.color, float), axis=2)
    to_ink = np.linalg.norm(patch - np.array(label.text_color, float), axis=2)
    rows = np.flatnonzero((to_ink < to_fill).any(axis=1))
    return int(rows[0]), int(rows[-1]) + 1


def ink_per_em(text: str) -> float:
    """Height of the text's ink per pixel of font size, measured on the label font at 400 px."""
    _, top, _, bottom = label_font(400).getbbox(text, anchor="ls")
    return (bottom - top) / 400


# widths of the picture drawn for the browser: landscape, portrait, small, and a full-size export
@pytest.mark.parametrize("size", [(1200, 800), (1024, 683), (683, 1024), (400, 300), (4000, 3000)])
def test_label_text_is_at_least_11_css_px_and_lines_3_css_px_on_a_phone(size):
    width, height = size
    name = "bdpq person"  # ascenders and descenders: the ink spans the font's whole height
    region = detection(name, 0.93, 0.4, 0.3, 0.8, 0.7)
    drawn = render.draw_detections(blank(width, height, 90), [region])
    (label,) = layout_labels([region], width, height)
    assert label.text == f"{name} 0.93"
    first, last = text_ink_rows(drawn, label)
    css_per_px = SMALLEST_DISPLAY_PX / width  # the picture shown as narrow as it ever is
    font_css = (last - first) / ink_per_em(label.text) * css_per_px
    assert font_css >= 11.5, f"{font_css:.1f} CSS px"
    assert (last - first) * css_per_px >= 10.5  # the ink itself: ascender to descender
    left, top, right, bottom = label.rect
    assert 0 < first and last < bottom - top  # the text lies inside its label, with room
    x0 = region.box.pixels(width, height).x0
    row = drawn[(height * 6) // 10]
    stroke = 0
    while is_color(row[x0 + stroke], colors.color_for(name)):
        stroke += 1
    assert stroke * css_per_px >= 3.0, f"{stroke * css_per_px:.1f} CSS px"


def test_a_phone_sized_label_is_not_drawn_larger_on_a_bigger_export_than_its_share():
    # The same proportions at every size: an exported picture looks like the one on the page.
    small = layout_labels([detection("dog", 0.9, 0.4, 0.4, 0.8, 0.8)], 1000, 750)[0]
    large = layout_labels([detection("dog", 0.9, 0.4, 0.4, 0.8, 0.8)], 4000, 3000)[0]
    small_width, large_width = small.rect[2] - small.rect[0], large.rect[2] - large.rect[0]
    assert large_width / 4000 == pytest.approx(small_width / 1000, rel=0.05)


def crowd(count: int, seed: int = 5) -> list[Region]:
    """`count` overlapping boxes in the middle of the picture, as a detector gives for a busy
    scene (20 on the astronaut at 0.30)."""
    rng = np.random.default_rng(seed)
    regions = []
    for i in range(count):
        top, left = rng.uniform(0.15, 0.55), rng.uniform(0.1, 0.6)
        height, width = rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.35)
        name = ["person", "face", "building", "car", "traffic light", "dog"][i % 6]
        regions.append(detection(name, float(rng.uniform(0.3, 0.99)), top, left, top + height, left + width))
    return regions


def apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


@pytest.mark.parametrize("size", [(1024, 683), (683, 1024), (1200, 300)])
def test_crowded_labels_never_overlap_and_the_ones_without_room_are_left_off(size):
    width, height = size
    regions = crowd(30)
    drawn = render.draw_detections(blank(width, height, 60), regions)
    labels = layout_labels(regions, width, height)
    assert 3 <= len(labels) < len(regions)  # some fit, the rest are left off
    for a, b in itertools.combinations(labels, 2):
        assert apart(a.rect, b.rect), (a, b)
    for label in labels:
        left, top, right, bottom = label.rect
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        assert label_border_is_painted(drawn, label)  # nothing drawn over it
        box = regions[label.region].box.pixels(width, height)
        touches = not apart(label.rect, (box.x0 - 1, box.y0 - 1, box.x1 + 2, box.y1 + 2))
        assert touches, "a label sits against its own box"
    # every box is drawn, labelled or not
    for index, region in enumerate(regions):
        x0, y0, x1, y1 = region.box.pixels(width, height)
        outline = np.concatenate([drawn[y0 : y1 + 1, x0], drawn[y0 : y1 + 1, x1], drawn[y0, x0:x1], drawn[y1, x0:x1]])
        assert any(is_color(pixel, colors.color_for(region.top_concept.name)) for pixel in outline), index


def test_the_best_scores_get_their_labels_first():
    regions = crowd(20)
    labels = layout_labels(regions, 1024, 683)
    best = max(range(len(regions)), key=lambda i: regions[i].top_concept.value)
    assert labels[0].region == best and not labels[0].shortened
    assert [label.region for label in labels] == sorted(
        (label.region for label in labels), key=lambda i: -regions[i].top_concept.value
    )


def test_a_label_is_shortened_before_it_is_left_off():
    width, height = 640, 40  # room for one row of labels
    style = style_for(width, height)
    font = label_font(style.font_px)
    person = detection("person", 0.9, 0.0, 0.0, 1.0, 1.0)
    (first,) = layout_labels([person], width, height)
    room = width - (first.rect[2] - first.rect[0]) - 2 * style.padding  # beside the person's label
    # a name that fits beside it alone, but not with its score
    name = next(
        name for name in (" ".join(["elephant"] * k + ["seal"] * s) for k in range(1, 8) for s in range(4))
        if font.getlength(name) <= room < font.getlength(f"{name} 0.80")
    )
    crowded = [person, detection(name, 0.8, 0.0, 0.0, 1.0, 1.0), detection("dog", 0.7, 0.0, 0.0, 1.0, 1.0)]
    labels = layout_labels(crowded, width, height)
    assert [label.region for label in labels] == [0, 1]  # the dog finds no room: left off
    assert labels[1].text == name and labels[1].shortened  # the score gave way first
    assert apart(labels[0].rect, labels[1].rect)
    drawn = render.draw_detections(blank(width, height), crowded)
    assert all(label_border_is_painted(drawn, label) for label in labels)


def test_a_name_wider_than_the_picture_is_cut_with_an_ellipsis_and_stays_inside():
    region = detection("a really very long concept name that no picture could hold", 0.9, 0.3, 0.1, 0.9, 0.9)
    (label,) = layout_labels([region], 200, 150)
    assert label.text.endswith("…") and label.shortened
    assert 0 <= label.rect[0] and label.rect[2] <= 200


def test_accented_names_are_drawn_with_their_accents():
    image = blank(640, 480, 128)
    cafe = render.draw_detections(image, [detection("Café", 0.9, 0.4, 0.3, 0.8, 0.7)])
    plain = render.draw_detections(image, [detection("Cafe", 0.9, 0.4, 0.3, 0.8, 0.7)])
    (label,) = layout_labels([detection("Café", 0.9, 0.4, 0.3, 0.8, 0.7)], 640, 480)
    assert label.text == "Café 0.90"
    first_cafe, _ = text_ink_rows(cafe, label)
    first_plain, _ = text_ink_rows(plain, label)
    assert first_cafe < first_plain  # the accent rises above the letters
    assert not np.array_equal(cafe, plain)


def test_characters_a_font_lacks_become_plain_letters_or_a_question_mark():
    page_font = label_font(20)
    assert drawable_text("Żółć Ωмега", page_font) == "Żółć Ωмега"  # Source Sans has these
    assert drawable_text("人 and 😀", page_font) == "? and ?"
    assert drawable_text("tab\there\x00", page_font) == "tabhere"
    fallback = label_font(20, page_font=False)  # Pillow's own font has no accents
    assert drawable_text("Café", fallback) == "Cafe"
    labels = layout_labels([detection("Café", 0.5, 0.4, 0.4, 0.8, 0.8)], 640, 480, page_font=False)
    assert labels[0].text == "Cafe 0.50"


def test_labels_use_the_pages_own_font_from_the_installed_streamlit():
    # If a Streamlit upgrade moves it, labels fall back to Pillow's font without accents: say so here.
    path = page_font_path()
    assert path is not None and path.exists()
    assert label_font(30).getname()[0].startswith("SourceSans")


# --- picking boxes and segments out -----------------------------------------------------------


def test_a_picked_box_is_drawn_full_and_labelled_and_the_rest_thin_on_a_dimmed_picture():
    image = blank(640, 480, 200)
    regions = [detection("dog", 0.9, 0.1, 0.1, 0.5, 0.4), detection("cat", 0.8, 0.5, 0.5, 0.9, 0.9)]
    normal = render.draw_detections(image, regions)
    picked = render.draw_detections(image, regions, highlighted={1})
    assert not np.array_equal(normal, picked)
    style = style_for(640, 480)
    dog, cat = (r.box.pixels(640, 480) for r in regions)

    def stroke(drawn, box, name):
        row, run = drawn[(box.y0 + box.y1) // 2], 0
        while is_color(row[box.x0 + run], colors.color_for(name)):
            run += 1
        return run

    assert stroke(picked, cat, "cat") == style.line_width
    assert stroke(picked, dog, "dog") == render.rim_width(style.line_width) < style.line_width
    assert is_color(picked[(cat.y0 + cat.y1) // 2, (cat.x0 + cat.x1) // 2], (200, 200, 200))  # inside: as it was
    assert picked[470, 10].max() < 200 * render.DIMMED + 2  # around it: dimmed
    labels = layout_labels(regions, 640, 480, highlighted={1})
    assert [label.region for label in labels] == [1]
    assert label_border_is_painted(picked, labels[0])


def test_picking_a_box_that_is_not_shown_changes_nothing():
    image = blank(320, 240, 90)
    regions = [detection("dog", 0.9, 0.1, 0.1, 0.5, 0.4), detection("cat", 0.2, 0.5, 0.5, 0.9, 0.9)]
    normal = render.draw_detections(image, regions, min_score=0.3)
    for highlighted in ({1}, {7}, {-1}):
        assert np.array_equal(render.draw_detections(image, regions, min_score=0.3, highlighted=highlighted), normal)


def test_a_picked_segment_is_painted_on_top_and_outlined_and_the_rest_is_dimmed():
    image = blank(400, 300, 128)
    left, right = np.zeros((300, 400), bool), np.zeros((300, 400), bool)
    left[50:250, 40:200], right[50:250, 200:360] = True, True
    regions = [segment("sky", left), segment("road", right)]
    normal = render.blend_masks(image, regions, opacity=0.5)
    picked = render.blend_masks(image, regions, opacity=0.5, highlighted={1})
    faded = mask_reference_blend(image, regions[:1], opacity=0.5 * render.FADED) * render.DIMMED
    assert np.abs(picked[150, 100].astype(int) - faded[150, 100]).max() <= 1  # the other segment
    assert np.abs(picked[10, 10].astype(int) - 128 * render.DIMMED).max() <= 1  # under no mask
    strong = mask_reference_blend(image, regions[1:], opacity=render.PICKED_MIN_OPACITY)
    assert np.abs(picked[150, 280].astype(int) - strong[150, 280].astype(int)).max() <= 1
    outline = colors.text_color_for(colors.color_for("road"))
    for y, x in [(50, 280), (150, 359), (249, 280)]:  # on the segment's edge (anti-aliased)
        assert np.abs(picked[y, x].astype(int) - np.array(outline)).max() <= 40, (y, x, picked[y, x])
    assert not np.array_equal(picked[150, 280], normal[150, 280])
    # a picked segment that is hidden stays hidden
    assert np.array_equal(render.blend_masks(image, regions, hidden={"road"}, highlighted={1}),
                          render.blend_masks(image, regions, hidden={"road"}))


def test_annotate_passes_the_picked_regions_to_boxes_and_masks():
    image = blank(400, 300, 128)
    mask = np.zeros((300, 400), bool)
    mask[:100] = True
    prediction = Prediction(regions=(segment("sky", mask), detection("dog", 0.9, 0.5, 0.5, 0.9, 0.9)))
    assert np.array_equal(
        render.annotate(image, prediction, highlighted={0}, boxes=False),
        render.blend_masks(image, prediction.regions, highlighted={0}, outlined=True),
    )
    assert np.array_equal(
        render.annotate(image, prediction, highlighted={1}, masks=False),
        render.draw_detections(image, prediction.regions, highlighted={1}),
    )
