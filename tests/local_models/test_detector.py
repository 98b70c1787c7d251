"""The local detector: faces, cat faces, people and coloured objects."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from components.colors import NAMED_COLORS, Color
from components.images.preparation import prepare_upload
from components.local_models.cascades import NMS_OVERLAP
from components.local_models.catalogue import LOCAL_DETECTOR
from components.local_models.color_maths import name_color
from components.local_models.detector import DETECTION_CONCEPTS, MAX_COLOR_SCORE, _find_people, detect_objects
from components.models import PredictSettings
from components.results import Box
from components.tasks import Task
from tests.local_models.pictures import (
    RED,
    contains,
    iou,
    photo,
    regions_named,
    sample_picture,
)

# --- detection -------------------------------------------------------------------------------

ASTRONAUT_FACE = Box(top=0.13, left=0.35, bottom=0.31, right=0.53)  # checked by eye


def test_detection_finds_the_astronauts_face(testdata):
    prediction = detect_objects(photo(testdata, "astronaut.png"))
    faces = regions_named(prediction, "face")
    assert len(faces) == 1
    box = faces[0].box
    assert 0.3 <= (box.left + box.right) / 2 <= 0.6
    assert 0.1 <= (box.top + box.bottom) / 2 <= 0.45
    assert iou(box, ASTRONAUT_FACE) > 0.6
    assert 0.5 < faces[0].concepts[0].value <= 1.0
    assert faces[0].concepts[0].id == "local-face"
    assert not regions_named(prediction, "cat face")


def test_detection_finds_the_cat_face_filling_the_frame(testdata):
    prediction = detect_objects(photo(testdata, "chelsea.png"))
    cat_faces = regions_named(prediction, "cat face")
    assert len(cat_faces) == 1
    box = cat_faces[0].box
    for x, y in [(0.38, 0.38), (0.70, 0.45), (0.58, 0.80)]:  # both eyes and the nose
        assert contains(box, x, y), (x, y)
    assert 0.0 < cat_faces[0].concepts[0].value <= 1.0
    assert not regions_named(prediction, "face")


@pytest.mark.parametrize("name", ["coffee.png", "metro-north.jpg"])
def test_detection_finds_no_face_where_there_is_none(testdata, name):
    prediction = detect_objects(photo(testdata, name))
    assert not regions_named(prediction, "face")
    assert not regions_named(prediction, "cat face")


def test_detection_boxes_are_fractions_of_the_full_image_at_any_size(testdata):
    astronaut = photo(testdata, "astronaut.png")
    large = cv2.resize(astronaut, (1800, 1800), interpolation=cv2.INTER_CUBIC)
    [face] = regions_named(detect_objects(large), "face")
    assert iou(face.box, ASTRONAUT_FACE) > 0.6


def test_detection_finds_two_faces_side_by_side_in_a_wide_image(testdata):
    astronaut = photo(testdata, "astronaut.png")
    pair = np.hstack([astronaut, cv2.flip(astronaut, 1)])
    faces = sorted(regions_named(detect_objects(pair), "face"), key=lambda r: r.box.left)
    assert len(faces) == 2
    left, right = faces[0].box, faces[1].box
    assert iou(left, Box(0.13, 0.35 / 2, 0.31, 0.53 / 2)) > 0.5
    assert iou(right, Box(0.13, 0.5 + 0.47 / 2, 0.31, 0.5 + 0.65 / 2)) > 0.5


def test_detection_regions_are_sorted_in_range_and_not_duplicated(testdata):
    astronaut = photo(testdata, "astronaut.png")
    pair = np.hstack([astronaut, cv2.flip(astronaut, 1)])
    regions = detect_objects(pair).regions
    scores = [r.concepts[0].value for r in regions]
    assert scores == sorted(scores, reverse=True)
    for region in regions:
        assert region.mask is None and not region.box.is_empty
        box = region.box
        assert all(0.0 <= v <= 1.0 for v in (box.top, box.left, box.bottom, box.right))
        assert region.concepts[0].name in DETECTION_CONCEPTS
    for i, a in enumerate(regions):
        for b in regions[i + 1 :]:
            if a.concepts[0].name == b.concepts[0].name:
                assert iou(a.box, b.box) <= NMS_OVERLAP


def test_detection_honours_select_concepts_min_value_and_max_concepts(testdata):
    astronaut = photo(testdata, "astronaut.png")
    pair = np.hstack([astronaut, cv2.flip(astronaut, 1)])
    assert not detect_objects(astronaut, PredictSettings(select_concepts=("cat face",))).regions
    only_faces = detect_objects(pair, PredictSettings(select_concepts=(" FACE",)))
    assert len(only_faces.regions) == 2
    assert len(detect_objects(pair, PredictSettings(max_concepts=1)).regions) == 1
    top_score = only_faces.regions[0].concepts[0].value
    assert not detect_objects(pair, PredictSettings(min_value=min(1.0, top_score + 1e-6))).regions
    assert len(detect_objects(pair, PredictSettings(min_value=top_score)).regions) >= 1


def test_detection_is_repeatable(testdata):
    image = photo(testdata, "chelsea.png")
    first, second = detect_objects(image), detect_objects(image)
    assert [(r.concepts, r.box) for r in first.regions] == [(r.concepts, r.box) for r in second.regions]


def test_detection_from_several_threads_matches_one_thread(testdata):
    images = [photo(testdata, name) for name in ("astronaut.png", "chelsea.png", "coffee.png")] * 2

    def detections(image):
        return [(r.concepts, r.box) for r in detect_objects(image).regions]

    expected = [detections(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(detections, images)) == expected


# --- detection: the objects a visitor sees first ------------------------------------------------
# Where things are in the 1024x768 samples, measured from the painting code in
# components/samples.py, with the colour each was painted (the main one, for striped ones) and
# the shape word expected ("round object", "object", or None when either is fair).


def painted(x0: float, y0: float, x1: float, y1: float, width: int = 1024, height: int = 768) -> Box:
    return Box.from_xyxy(x0, y0, x1, y1, width, height)


SAMPLE_OBJECTS = {
    "street": [
        ("#d62828", "object", painted(70, 558, 290, 679)),  # cars: x..x+220, roof y-42, wheels to y+79
        ("#1d4ed8", "object", painted(420, 570, 640, 691)),
        ("#f7c815", "object", painted(760, 556, 980, 677)),
        ("#37a047", "round object", painted(67, 320, 230, 473)),  # tree crowns: three discs each
        ("#37a047", "round object", painted(527, 320, 690, 473)),
        ("#f4c542", "object", painted(180, 150, 360, 520)),  # the yellow and the orange house
        ("#e67e22", "object", painted(700, 240, 860, 520)),
    ],
    "balloons": [  # envelopes: centre x ± r, from centre y - r down to the neck at centre y + 1.45 r
        ("#e63946", None, painted(190, 190, 410, 460)),
        ("#2a9d8f", None, painted(620, 180, 780, 376)),
        ("#8e44ad", None, painted(820, 410, 920, 533)),
        ("#ff6f00", None, painted(482, 482, 558, 575)),
    ],
    "fruit": [
        ("#d7263d", "round object", painted(263, 388, 427, 552)),  # apple
        ("#f28c28", "round object", painted(434, 414, 606, 586)),  # orange
        ("#7a1f5c", "round object", painted(183, 498, 307, 622)),  # plum
        ("#b5172a", "round object", painted(568, 518, 712, 662)),  # the other apple
        ("#f7e03c", None, painted(339, 581, 501, 679)),  # lemon, with its pointed ends
        ("#8fc93a", None, painted(662, 426, 841, 528)),  # grapes, as placed by the sample's seeded generator
    ],
}
BANANA = painted(272, 360, 768, 471)  # the whole arc; the apple and the orange hide part of it
# Where nothing should be found: sky, road, wall, table, sea, hills (and the sun's glitter on the sea).
SAMPLE_BACKGROUNDS = {
    "street": [painted(0, 0, 1024, 148), painted(0, 692, 1024, 768)],
    "balloons": [painted(0, 0, 1024, 175), painted(0, 600, 1024, 768)],
    "fruit": [
        painted(0, 0, 1024, 300), painted(0, 690, 1024, 768), painted(0, 300, 170, 768), painted(860, 300, 1024, 768)
    ],
    "sunset": [
        painted(0, 0, 1024, 340), painted(0, 340, 550, 470), painted(730, 340, 1024, 470), painted(380, 470, 1024, 768)
    ],
}
METRO_NORTH_PERSON = Box(top=0.497, left=0.647, bottom=0.669, right=0.697)  # Clarifai's box for her
RED_TRUCK = Box.from_xyxy(56, 1, 482, 232, 538, 238)  # the opaque pixels of red-truck.png
COFFEE_CUP_TOP = Box.from_xyxy(172, 17, 410, 205, 600, 400)  # measured on coffee.png


def share_inside(box: Box, area: Box) -> float:
    """How much of `box` lies inside `area`."""
    width = max(0.0, min(box.right, area.right) - max(box.left, area.left))
    height = max(0.0, min(box.bottom, area.bottom) - max(box.top, area.top))
    own = (box.right - box.left) * (box.bottom - box.top)
    return width * height / own if own > 0 else 0.0


def describe(regions) -> list[tuple[str, tuple[float, ...]]]:
    """Names and boxes (left, top, right, bottom), for assertion messages."""
    return [(r.concepts[0].name, tuple(round(v, 3) for v in (r.box.left, r.box.top, r.box.right, r.box.bottom)))
            for r in regions]


def painted_color_names(paint: str) -> set[str]:
    """The named colour of a paint, lit or in the shade the samples paint on round things."""
    color = Color.from_hex(paint)
    return {name_color(color), name_color(Color(*(round(0.75 * v) for v in color)))}


@pytest.mark.parametrize("key", list(SAMPLE_OBJECTS))
def test_detection_finds_the_obvious_objects_in_each_sample_where_they_are(key):
    regions = detect_objects(sample_picture(key)).regions
    for paint, shape, where in SAMPLE_OBJECTS[key]:
        shapes = [shape] if shape else ["object", "round object"]
        names = {f"{color} {s}" for color in painted_color_names(paint) for s in shapes}
        matches = [r for r in regions if r.concepts[0].name in names and iou(r.box, where) > 0.5]
        assert matches, (paint, names, where, describe(regions))


def test_detection_finds_the_banana_where_it_shows():
    yellow = regions_named(detect_objects(sample_picture("fruit")), "yellow object")
    assert any(share_inside(r.box, BANANA) > 0.8 and (r.box.right - r.box.left) > 0.1 for r in yellow), describe(yellow)


@pytest.mark.parametrize("key", list(SAMPLE_BACKGROUNDS))
def test_detection_finds_nothing_on_the_samples_sky_road_table_or_sea(key):
    regions = detect_objects(sample_picture(key)).regions
    for region in regions:
        for area in SAMPLE_BACKGROUNDS[key]:
            assert share_inside(region.box, area) < 0.5, (describe([region]), area)


@pytest.mark.parametrize("key", ["street", "sunset", "fruit", "balloons"])
def test_detection_scores_are_below_certainty_and_ranked(key):
    regions = detect_objects(sample_picture(key)).regions
    scores = [r.concepts[0].value for r in regions]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < score < 1.0 for score in scores)
    color_scores = [score for r, score in zip(regions, scores) if r.concepts[0].name.endswith("object")]
    assert all(score <= MAX_COLOR_SCORE for score in color_scores)


def test_detection_finds_the_person_on_the_metro_north_platform(testdata):
    prediction = detect_objects(photo(testdata, "metro-north.jpg"))
    [person] = regions_named(prediction, "person")
    assert iou(person.box, METRO_NORTH_PERSON) > 0.5
    assert 0.3 < person.concepts[0].value < 1.0
    assert person.concepts[0].id == "local-person"
    # her red coat is part of her, not a second object
    assert not any(share_inside(r.box, person.box) > 0.5 for r in prediction.regions if r is not person)


def test_a_person_filling_the_picture_is_found_by_the_whole_picture_search(testdata):
    crop = photo(testdata, "metro-north.jpg")[170:275, 300:390]  # 90x105 px around her
    enlarged = cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    gray = cv2.cvtColor(enlarged, cv2.COLOR_BGR2GRAY)
    [(box, score)] = _find_people(gray, upright=[])  # no region to look around: the search alone
    assert iou(box, Box.from_xyxy(31, 21, 57, 87, 90, 105)) > 0.5
    assert 0.3 < score < 1.0


def test_detection_finds_the_red_truck(testdata):
    truck = prepare_upload("red-truck.png", (testdata / "photos" / "red-truck.png").read_bytes()).pixels()
    regions = detect_objects(truck).regions
    best = max(regions, key=lambda r: iou(r.box, RED_TRUCK))
    assert iou(best.box, RED_TRUCK) > 0.7, describe(regions)
    assert best.concepts[0].name in {"red object", "dark red object"}


def test_detection_finds_the_top_of_the_coffee_cup(testdata):
    regions = detect_objects(photo(testdata, "coffee.png")).regions
    assert any(iou(r.box, COFFEE_CUP_TOP) > 0.5 for r in regions), describe(regions)


def quiet_sky(width: int = 640, height: int = 480) -> np.ndarray:
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([217, 111, 30], np.float32), np.array([245, 215, 160], np.float32)  # BGR
    return np.repeat(top * (1 - rows) + bottom * rows, width, axis=1)


def wood_grain(width: int = 640, height: int = 480) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    grain = 0.5 + 0.5 * np.sin(ys / 6.0 + 3.0 * np.sin(xs / 140.0))
    return np.array([43, 90, 139], np.float32) * (0.88 + 0.12 * grain)[..., None]


def noisy_jpeg(picture: np.ndarray, seed: int = 3, amount: float = 3.0) -> np.ndarray:
    """Grain, then a JPEG round trip, as a photo would have."""
    noise = np.random.default_rng(seed).normal(0, amount, picture.shape[:2])[..., None]
    image = np.clip(picture + noise, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1], cv2.IMREAD_COLOR)


def color_sweep(width: int = 640, height: int = 200) -> np.ndarray:
    hue = np.tile(np.linspace(0, 179, width, dtype=np.float32), (height, 1)).astype(np.uint8)
    hsv = np.dstack([hue, np.full_like(hue, 200), np.full_like(hue, 220)])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def vignette(width: int = 640, height: int = 480) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot((xs - width / 2) / width, (ys - height / 2) / height)
    return np.repeat((230 - 160 * distance)[..., None], 3, axis=2)


PLAIN_BACKGROUNDS = {
    "sky gradient": lambda: noisy_jpeg(quiet_sky()),
    "wood grain": lambda: noisy_jpeg(wood_grain()),
    "grey with grain": lambda: noisy_jpeg(np.full((480, 640, 3), 128, np.float32), amount=8.0),
    "colour sweep": color_sweep,
    "vignette": lambda: noisy_jpeg(vignette()),
    "the fruit sample's wall and table": lambda: sample_picture("fruit")[:330],
    "the balloons sample's sky": lambda: sample_picture("balloons")[:100],
    "the sunset sample's sky": lambda: sample_picture("sunset")[:130],
}


@pytest.mark.parametrize("name", list(PLAIN_BACKGROUNDS))
def test_detection_finds_nothing_on_plain_backgrounds(name):
    assert detect_objects(PLAIN_BACKGROUNDS[name]()).regions == ()


def test_the_sky_seen_through_a_tree_is_not_an_object(testdata):
    tree = prepare_upload("4.webp", (testdata / "formats" / "4.webp").read_bytes()).pixels()  # white blossom, blue sky
    assert detect_objects(tree).regions == ()


# The colour pass on drawn shapes: a 400x300 grey picture, shapes drawn anti-aliased.
def grey_picture() -> np.ndarray:
    return np.full((300, 400, 3), 128, np.uint8)


def test_a_sharp_disc_is_a_round_object_named_by_its_color():
    image = grey_picture()
    cv2.circle(image, (200, 150), 60, RED, -1, cv2.LINE_AA)
    [region] = detect_objects(image).regions
    assert region.concepts[0].name == "red round object"
    assert region.concepts[0].id == "local-red-round-object"
    assert iou(region.box, Box.from_xyxy(140, 90, 260, 210, 400, 300)) > 0.85
    assert 0.5 < region.concepts[0].value <= MAX_COLOR_SCORE


def pink_cloud(blur: float) -> np.ndarray:
    """A pink disc in a blue sky, 1024x768, its edge blurred by `blur` px (the samples' clouds: 6)."""
    image = np.full((768, 1024, 3), (230, 160, 60), np.uint8)
    cv2.circle(image, (500, 380), 150, (180, 120, 250), -1, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), blur) if blur else image


@pytest.mark.parametrize("blur", [0, 2])
def test_a_sharp_edged_disc_in_the_sky_is_an_object(blur):
    [region] = detect_objects(pink_cloud(blur)).regions
    assert region.concepts[0].name == "pink round object"
    assert iou(region.box, Box.from_xyxy(350, 230, 651, 531, 1024, 768)) > 0.9


@pytest.mark.parametrize("blur", [4, 6, 12])
def test_a_soft_edged_blob_is_not_an_object(blur):
    assert detect_objects(pink_cloud(blur)).regions == ()


def test_a_shaded_ball_is_one_object():
    image = grey_picture().astype(np.float32)
    ys, xs = np.mgrid[0:300, 0:400].astype(np.float32)
    inside = np.hypot(xs - 200, ys - 150) <= 70
    light = np.clip(1.15 - np.hypot(xs - 175, ys - 125) / 110, 0.35, 1.0)  # lit from the upper left
    image[inside] = (np.array([40, 60, 220], np.float32) * light[..., None])[inside]
    [region] = detect_objects(image.astype(np.uint8)).regions
    assert region.concepts[0].name.endswith("round object")
    assert iou(region.box, Box.from_xyxy(130, 80, 271, 221, 400, 300)) > 0.8


def test_a_striped_disc_is_one_object():
    image = np.full((300, 400, 3), (230, 160, 60), np.uint8)  # a blue sky
    disc = np.zeros((300, 400), np.uint8)
    cv2.circle(disc, (200, 150), 80, 1, -1)
    stripe = (np.arange(400) - 120) // 32 % 2  # red and yellow bands 32 px wide
    image[(disc == 1) & (stripe == 0)[None, :]] = RED
    image[(disc == 1) & (stripe == 1)[None, :]] = (40, 210, 240)
    [region] = detect_objects(image).regions
    assert region.concepts[0].name == "red round object"
    assert iou(region.box, Box.from_xyxy(120, 70, 281, 231, 400, 300)) > 0.85


def test_two_touching_things_of_different_colors_are_two_objects():
    image = grey_picture()
    cv2.circle(image, (140, 150), 60, RED, -1, cv2.LINE_AA)
    cv2.circle(image, (260, 150), 60, (0, 140, 255), -1, cv2.LINE_AA)  # orange, touching it
    found = {r.concepts[0].name: r.box for r in detect_objects(image).regions}
    assert set(found) == {"red round object", "orange round object"}
    assert iou(found["red round object"], Box.from_xyxy(80, 90, 200, 210, 400, 300)) > 0.8
    assert iou(found["orange round object"], Box.from_xyxy(200, 90, 320, 210, 400, 300)) > 0.8


def test_a_band_across_the_picture_is_background_not_an_object():
    image = grey_picture()
    image[120:180] = RED
    assert detect_objects(image).regions == ()


def test_color_objects_are_selected_by_full_name_or_by_shape():
    fruit = sample_picture("fruit")
    names = [r.concepts[0].name for r in detect_objects(fruit).regions]
    round_ones = [name for name in names if name.endswith(" round object")]
    assert round_ones and len(round_ones) < len(names)

    def selected(*wanted: str) -> list[str]:
        return [r.concepts[0].name for r in detect_objects(fruit, PredictSettings(select_concepts=wanted)).regions]

    assert sorted(selected("round object")) == sorted(round_ones)
    assert sorted(selected("Object")) == sorted(names)
    assert selected(" Purple round object") == ["purple round object"]
    assert selected("face", "cat face") == []


def test_the_detector_says_only_what_a_local_model_can_tell():
    vocabulary = set(DETECTION_CONCEPTS)
    assert {"face", "cat face", "person", "licence plate"} <= vocabulary
    for color in NAMED_COLORS:
        assert {f"{color.name} object", f"{color.name} round object"} <= vocabulary
    assert all(name == name.strip().lower() and len(name.split()) <= 4 for name in vocabulary)
    model = Task.DETECTION.spec.local_model
    assert model is LOCAL_DETECTOR
    assert "red round object" in model.description and "people" in model.description
    assert "colour" in model.nothing_found_hint
    for key in SAMPLE_OBJECTS:
        assert {r.concepts[0].name for r in detect_objects(sample_picture(key)).regions} <= vocabulary
