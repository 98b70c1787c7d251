"""Downloads: PNG, JSON, CSV, COCO (checked by loading them with pycocotools)."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from components.drawing import render
from components.drawing.masks import resize_mask
from components.outputs import exports
from components.outputs.exports import ExportItem
from components.results import Box, Concept, Prediction, Region

# pycocotools' own decode trips a NumPy 2 deprecation warning; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def ellipse_mask(width, height, centre, axes) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def detection_item(name="street.jpg") -> ExportItem:
    prediction = Prediction(regions=(
        Region((Concept("person", 0.83, "p1"),), Box(0.5, 0.6, 0.7, 0.7)),
        Region((Concept("building", 0.94),), Box(0.2, 0.0, 0.55, 0.25)),
        Region((Concept("bench", 0.45),), Box(0.74, 0.82, 1.2, 1.0)),  # clipped at the bottom
        Region((Concept("ghost", 0.9),), Box(math.nan, 0.1, 0.2, 0.3)),  # not drawable
    ))
    return ExportItem(name, 512, 384, prediction)


def segmentation_item(name="room.png", width=64, height=48, mask_size=(32, 24)) -> ExportItem:
    mw, mh = mask_size
    sky = np.zeros((mh, mw), bool)
    sky[: mh // 3] = True
    floor = ellipse_mask(mw, mh, (mw // 2, mh * 3 // 4), (mw // 3, mh // 5))
    prediction = Prediction(regions=(
        Region((Concept("sky", 0.3),), mask=sky),
        Region((Concept("floor", 0.2),), mask=floor),
        Region((Concept("nothing", 0.0),), mask=np.zeros((mh, mw), bool)),  # no pixels: left out
    ))
    return ExportItem(name, width, height, prediction)


# --- file names and PNG ----------------------------------------------------------------------


@pytest.mark.parametrize("base, ext, expected", [
    ("IMG 01.jpg", "png", "IMG_01.png"),
    ("../../etc/passwd", "json", "passwd.json"),
    ("C:\\Users\\me\\photo.JPEG", ".csv", "photo.csv"),
    ("résumé photo.webp", "png", "resume_photo.png"),
    ("", "zip", "export.zip"),
    ("....", "png", "export.png"),
    ("con", "txt", "con_.txt"),
    ("archive.v2", "json", "archive.v2.json"),
    ("metro-north.jpg-annotated", "png", "metro-north-annotated.png"),
    ("photo.JPG.png", "zip", "photo.zip"),
])
def test_export_filenames_are_safe(base, ext, expected):
    assert exports.export_filename(base, ext) == expected


def test_long_names_are_capped():
    assert len(exports.export_filename("x" * 500, "png")) <= 104


def test_annotated_png_decodes_back_to_the_same_pixels():
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    data = exports.annotated_png(image)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), image)


# --- JSON ------------------------------------------------------------------------------------


def test_raw_json_keeps_clarifai_output_as_received():
    raw = {"id": "abc", "data": {"concepts": [{"id": "ai_1", "name": "train", "value": 0.99}]}}
    items = [
        ExportItem("a.jpg", 10, 10, Prediction(concepts=(Concept("train", 0.99),), raw=raw)),
        ExportItem("broken.jpg", 0, 0, None, error_message="The file is not an image."),
    ]
    data = json.loads(exports.raw_json(items))
    assert data["images"][0] == {"name": "a.jpg", "width": 10, "height": 10, "output": raw}
    assert data["images"][1]["error"] == "The file is not an image."
    assert "output" not in data["images"][1]


def test_raw_json_without_raw_output_serialises_the_plain_result():
    mask = np.zeros((3, 4), bool)
    mask[1, 1:3] = True
    prediction = Prediction(
        concepts=(Concept("cat", 0.9, "c1"), Concept("odd", math.nan)),
        regions=(Region((Concept("cat", 0.8),), Box(0.1, 0.2, 0.3, 0.4)), Region((Concept("sky", 0.5),), mask=mask)),
        caption="a cat on a mat",
        model_label="offline: faces",
    )
    text = exports.raw_json([ExportItem("cat.png", 4, 3, prediction)])
    entry = json.loads(text)["images"][0]["prediction"]
    assert "NaN" not in text
    assert entry["caption"] == "a cat on a mat"
    assert entry["concepts"][0] == {"id": "c1", "name": "cat", "value": 0.9}
    assert entry["concepts"][1]["value"] is None
    assert entry["regions"][0]["box"] == {"top": 0.1, "left": 0.2, "bottom": 0.3, "right": 0.4}
    rle = entry["regions"][1]["mask"]
    decoded = mask_utils.decode(mask_utils.frPyObjects(rle, *rle["size"]))
    assert np.array_equal(decoded.astype(bool), mask)


def test_exports_of_a_normal_response_carry_no_key(testdata):
    from clarifai_grpc.grpc.api import service_pb2
    from google.protobuf import json_format, text_format

    text = (testdata / "clarifai-responses" / "grpc_general-image-recognition_metro-north.pbtxt").read_text()
    response = text_format.Parse(text, service_pb2.MultiOutputResponse())
    raw = json_format.MessageToDict(response.outputs[0])
    concepts = tuple(Concept(c.name, c.value, c.id) for c in response.outputs[0].data.concepts)
    item = ExportItem("metro-north.jpg", 512, 384, Prediction(concepts=concepts, raw=raw))
    for text in (exports.raw_json([item]), exports.concepts_csv([item]), json.dumps(exports.coco_detections([item]))):
        assert "authorization" not in text.lower()
        assert "Key " not in text


# --- CSV -------------------------------------------------------------------------------------


def test_concepts_csv_has_one_row_per_concept():
    items = [
        ExportItem("a.jpg", 10, 10, Prediction(concepts=(Concept("tree", 0.4), Concept("train", 0.95)))),
        detection_item("b.jpg"),
        ExportItem("c.jpg", 0, 0, None, error_message="failed"),
    ]
    rows = list(csv.reader(io.StringIO(exports.concepts_csv(items))))
    assert rows[0] == ["image", "concept", "score", "region"]
    assert rows[1:3] == [["a.jpg", "train", "0.95", ""], ["a.jpg", "tree", "0.4", ""]]
    assert rows[3] == ["b.jpg", "person", "0.83", "1"]
    assert len(rows) == 1 + 2 + 4


def test_captions_csv_has_one_row_per_image():
    items = [
        ExportItem("a.jpg", 10, 10, Prediction(caption='a train, "late" again')),
        ExportItem("b.jpg", 0, 0, None, error_message="Image refused"),
    ]
    rows = list(csv.reader(io.StringIO(exports.captions_csv(items))))
    assert rows == [["image", "caption", "error"], ["a.jpg", 'a train, "late" again', ""], ["b.jpg", "", "Image refused"]]


def test_concepts_csv_keeps_spreadsheets_from_running_names_as_formulas():
    item = ExportItem("=HYPERLINK(evil).jpg", 1, 1, Prediction(concepts=(Concept("+cmd", 0.5),)))
    rows = list(csv.reader(io.StringIO(exports.concepts_csv([item]))))
    assert rows[1][:2] == ["'=HYPERLINK(evil).jpg", "'+cmd"]


# --- COCO detections -------------------------------------------------------------------------


def load_coco(tmp_path, data: dict) -> COCO:
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(data))
    return COCO(str(path))


def test_coco_detections_load_with_pycocotools(tmp_path):
    items = [detection_item("a.jpg"), ExportItem("failed.jpg", 0, 0, None, "boom"), detection_item("b.jpg")]
    coco = load_coco(tmp_path, exports.coco_detections(items))
    assert sorted(coco.getImgIds()) == [1, 2]
    assert [img["file_name"] for img in coco.loadImgs([1, 2])] == ["a.jpg", "b.jpg"]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["bench", "building", "person"]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert len(anns) == 3 and len(coco.getAnnIds()) == 6
    by_name = {coco.loadCats(a["category_id"])[0]["name"]: a for a in anns}
    assert by_name["person"]["bbox"] == pytest.approx([0.6 * 512, 0.5 * 384, 0.1 * 512, 0.2 * 384])
    assert by_name["person"]["score"] == pytest.approx(0.83)
    assert by_name["person"]["area"] == pytest.approx(0.1 * 512 * 0.2 * 384, abs=0.05)
    assert by_name["bench"]["bbox"][1] + by_name["bench"]["bbox"][3] == pytest.approx(384)  # clipped
    assert all(a["iscrowd"] == 0 for a in anns)


def test_coco_category_ids_are_stable_whatever_the_order():
    one = exports.coco_detections([detection_item()])["categories"]
    reordered = Prediction(regions=tuple(reversed(detection_item().prediction.regions)))
    two = exports.coco_detections([ExportItem("x.jpg", 512, 384, reordered)])["categories"]
    assert one == two
    assert [c["id"] for c in one] == [1, 2, 3]


def test_coco_detections_respect_min_score():
    data = exports.coco_detections([detection_item()], min_score=0.8)
    assert len(data["annotations"]) == 2


def test_coco_detections_of_nothing_still_load(tmp_path):
    coco = load_coco(tmp_path, exports.coco_detections([]))
    assert coco.getImgIds() == [] and coco.getAnnIds() == []


# --- COCO segmentation -----------------------------------------------------------------------


def read_zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


@pytest.mark.parametrize("mask_format", ["rle", "png"])
def test_segmentation_zip_masks_decode_back_exactly(tmp_path, mask_format):
    item = segmentation_item(width=64, height=48, mask_size=(32, 24))
    archive = read_zip(exports.coco_segmentation_zip([item], mask_format=mask_format))
    data = json.loads(archive.read("annotations.json"))
    coco = load_coco(tmp_path, data)
    anns = coco.loadAnns(coco.getAnnIds())
    assert [coco.loadCats(a["category_id"])[0]["name"] for a in anns] == ["sky", "floor"]
    regions = item.prediction.regions
    for ann, region in zip(anns, regions):
        expected = resize_mask(region.mask, 64, 48)
        segmentation = ann["segmentation"]
        assert segmentation["size"] == [48, 64]
        decoded = mask_utils.decode(mask_utils.frPyObjects(segmentation, 48, 64)).astype(bool)
        assert np.array_equal(decoded, expected)
        assert np.array_equal(coco.annToMask(ann).astype(bool), expected)
        assert ann["area"] == int(expected.sum())
        x, y, w, h = ann["bbox"]
        rows, cols = np.flatnonzero(expected.any(axis=1)), np.flatnonzero(expected.any(axis=0))
        assert (x, y, x + w - 1, y + h - 1) == (cols[0], rows[0], cols[-1], rows[-1])
        if mask_format == "png":
            png = archive.read(ann["mask_file"])
            stored = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
            assert stored.shape == (48, 64) and set(np.unique(stored)) <= {0, 255}
            assert np.array_equal(stored > 0, expected)
        else:
            assert "mask_file" not in ann
    if mask_format == "rle":
        assert archive.namelist() == ["annotations.json"]


def test_segmentation_masks_are_resized_like_the_drawing():
    mask = np.zeros((48, 64), bool)
    mask[12:25, 16:33] = True
    item = ExportItem("big.png", 640, 480, Prediction(regions=(Region((Concept("car", 0.1),), mask=mask),)))
    data = json.loads(read_zip(exports.coco_segmentation_zip([item])).read("annotations.json"))
    (ann,) = data["annotations"]
    assert ann["bbox"] == [160, 120, 170, 130]
    assert ann["area"] == 170 * 130
    drawn = render.blend_masks(np.zeros((480, 640, 3), np.uint8), item.prediction.regions, opacity=1.0)
    assert np.array_equal(drawn.any(axis=2), resize_mask(mask, 640, 480))


def test_rle_runs_start_with_zeros_in_column_major_order():
    mask = np.array([[1, 0], [1, 1]], bool)
    assert exports.mask_to_rle(mask) == {"size": [2, 2], "counts": [0, 2, 1, 1]}
    assert exports.mask_to_rle(np.zeros((2, 3), bool)) == {"size": [2, 3], "counts": [6]}


def test_segmentation_zip_rejects_unknown_formats():
    with pytest.raises(ValueError):
        exports.coco_segmentation_zip([], mask_format="bmp")
