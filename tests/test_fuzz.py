"""Property-based robustness: whatever bytes, text, boxes or masks come in, nothing crashes.

What tests/images/test_preparation.py and tests/drawing/test_render.py already fuzz (plain random bytes, one splice
into a small picture, weird boxes through draw_detections, masks through blend_masks) is not
repeated here. This file adds: random bytes behind every format's signature, several stacked
mutations of richer pictures (EXIF, animation, pages, alpha, 16 bits, CMYK, progressive); URL
lists; mask decoding; and the whole drawing → table → export path on broken regions, checking
that every export still parses as strict JSON / CSV / ZIP.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import struct
import zipfile
import zlib

import cv2
import numpy as np
import pytest
from clarifai_grpc.grpc.api import resources_pb2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from components.clarifai.replies import decode_mask, prediction_from_output
from components.drawing import charts, render
from components.errors import ImageError
from components.images.limits import MAX_IMAGES_PER_RUN
from components.images.preparation import PreparedImage, PrepareOptions, parse_url_lines, prepare_upload
from components.images.url_fetch import check_url_syntax
from components.outputs import exports
from components.results import Box, Concept, Prediction, Region

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- image loading ---------------------------------------------------------------------------------


def _encode(image: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def _picture(width: int = 48, height: int = 36, mode: str = "RGB") -> Image.Image:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 2] = (230, 30, 30)
    pixels[: height // 2, width // 2 :] = (30, 200, 30)
    pixels[height // 2 :, : width // 2] = (30, 30, 230)
    pixels[height // 2 :, width // 2 :] = (240, 240, 240)
    return Image.fromarray(pixels).convert(mode)


def _valid_files() -> dict[str, bytes]:
    """Small valid files of every format the app reads, in their trickier variants."""
    base = _picture()
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [_picture(), _picture().transpose(Image.Transpose.ROTATE_180)]
    files = {
        "jpeg": _encode(base, "JPEG", quality=80),
        "jpeg-progressive-exif": _encode(base, "JPEG", quality=70, progressive=True, exif=exif.tobytes()),
        "jpeg-cmyk": _encode(_picture(mode="CMYK"), "JPEG"),
        "png": _encode(base, "PNG"),
        "png-rgba": _encode(_picture(mode="RGBA"), "PNG"),
        "png-palette": _encode(_picture(mode="P"), "PNG", transparency=0),
        "png-16bit": cv2.imencode(".png", (np.arange(48 * 36, dtype=np.uint16).reshape(36, 48) * 37))[1].tobytes(),
        "png-exif": _encode(base, "PNG", exif=exif.tobytes()),
        "gif": _encode(_picture(mode="P"), "GIF"),
        "gif-animated": _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0),
        "webp": _encode(base, "WEBP", quality=60),
        "webp-lossless-alpha": _encode(_picture(mode="RGBA"), "WEBP", lossless=True),
        "tiff": _encode(base, "TIFF"),
        "tiff-deflate-pages": _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate"),
        "tiff-exif": _encode(base, "TIFF", exif=exif.tobytes()),
        "bmp": _encode(base, "BMP"),
    }
    return files


VALID_FILES = _valid_files()
SIGNATURES = [
    b"\xff\xd8\xff\xe0",
    b"\xff\xd8\xff\xdb",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"GIF89a",
    b"GIF87a",
    b"RIFF\x00\x01\x00\x00WEBPVP8 ",
    b"RIFF\x00\x01\x00\x00WEBPVP8L",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
    b"\x00\x00\x00\x1cftypavif",
    b"\x00\x00\x00\x18ftypheic",
]


def check_prepared(prepared: PreparedImage) -> None:
    """What a successful preparation promises: an upright picture the app itself can decode."""
    assert prepared.data and prepared.width >= 1 and prepared.height >= 1
    assert prepared.digest == hashlib.sha256(prepared.data).hexdigest()
    assert prepared.mime in ("image/jpeg", "image/png")
    assert prepared.pixels().shape == (prepared.height, prepared.width, 3)
    assert max(prepared.width, prepared.height) <= 1024
    with Image.open(io.BytesIO(prepared.preview)) as preview:
        assert preview.format == "JPEG"


def prepare_or_image_error(name: str, data: bytes) -> None:
    try:
        prepared = prepare_upload(name, data, PrepareOptions())
    except ImageError as error:
        assert error.message and str(error)
        assert "Traceback" not in error.message
        return
    check_prepared(prepared)


@FUZZ
@given(signature=st.sampled_from(SIGNATURES), tail=st.binary(max_size=1024))
def test_random_bytes_behind_a_real_signature_give_a_picture_or_an_image_error(signature, tail):
    prepare_or_image_error("random.img", signature + tail)


@st.composite
def mutated_file(draw):
    """A valid file with one to four stacked mutations: bit flips, cuts, insertions, deletions,
    overwrites and repeated spans."""
    kind = draw(st.sampled_from(sorted(VALID_FILES)))
    data = bytearray(VALID_FILES[kind])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite", "repeat"]))
        if action == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif action == "overwrite":
            patch = draw(st.binary(min_size=1, max_size=8))
            data[position : position + len(patch)] = patch
        else:
            span = bytes(data[position : position + draw(st.integers(1, 256))])
            data[position:position] = span * draw(st.integers(1, 4))
    return kind, bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_file())
def test_mutated_valid_files_give_a_picture_or_an_image_error(case):
    kind, data = case
    prepare_or_image_error(f"{kind}.bin", data)


@pytest.mark.parametrize("kind", sorted(VALID_FILES))
def test_every_unmutated_fuzz_seed_is_itself_readable(kind):
    """The mutation seeds are real pictures (else the fuzzing above would test nothing)."""
    check_prepared(prepare_upload(kind, VALID_FILES[kind]))


# --- URL lists -----------------------------------------------------------------------------------

URL_PIECES = st.sampled_from(
    ["http://", "https://", "HTTP://", "ftp://", "//", "[", "]", "::1", ":", "@", "%", "%25", "#", "?", "/",
     "example.com", "127.0.0.1", "[::ffff:10.0.0.1]", ":99999", ":0", ":-1", "user:pw@", "\u00e9", "\u200b",
     "\t", " ", "\x00", "\r", "xn--", "a" * 300, ".", "\ufeff", "\U0001f600"]
)
url_line = st.lists(URL_PIECES, max_size=8).map("".join)


def check_parsed(text: str) -> None:
    urls, problems = parse_url_lines(text)
    assert len(urls) <= MAX_IMAGES_PER_RUN
    for url in urls:
        assert check_url_syntax(url) == url  # what was kept is usable as it is
    for problem in problems:
        assert isinstance(problem, ImageError) and problem.message


@FUZZ
@given(st.text(max_size=600))
@example("http://[::1\nhttps://a:99999/\nhttp://[fe80::1%eth0]/x\n\x00")
def test_random_text_gives_urls_and_problems_never_an_exception(text):
    check_parsed(text)


@FUZZ
@given(st.lists(url_line, max_size=20))
def test_url_like_lines_give_urls_and_problems_never_an_exception(lines):
    check_parsed("\n".join(lines))


def test_more_lines_than_one_run_takes_are_capped_with_a_problem():
    urls, problems = parse_url_lines("\n".join(f"https://images.example/{i}.jpg" for i in range(MAX_IMAGES_PER_RUN + 5)))
    assert len(urls) == MAX_IMAGES_PER_RUN
    assert any(f"only the first {MAX_IMAGES_PER_RUN} are used" in p.message for p in problems)


# --- mask decoding -----------------------------------------------------------------------------


def _mask_seeds() -> list[bytes]:
    plane = np.zeros((24, 32), np.uint8)
    plane[4:18, 6:20] = 255
    alpha_only = np.zeros((24, 32, 4), np.uint8)
    alpha_only[..., 3] = plane
    seeds = [
        cv2.imencode(".png", plane)[1].tobytes(),
        cv2.imencode(".png", (plane > 0).astype(np.uint8))[1].tobytes(),
        cv2.imencode(".png", cv2.merge([plane, plane, plane]))[1].tobytes(),
        cv2.imencode(".png", alpha_only)[1].tobytes(),
        cv2.imencode(".png", plane.astype(np.uint16) * 257)[1].tobytes(),
        cv2.imencode(".bmp", plane)[1].tobytes(),
        cv2.imencode(".jpg", plane)[1].tobytes(),
    ]
    return seeds


MASK_SEEDS = _mask_seeds()


def check_mask(mask) -> None:
    assert mask is None or (isinstance(mask, np.ndarray) and mask.ndim == 2 and mask.dtype == np.bool_ and mask.size > 0)


@FUZZ
@given(st.binary(max_size=2048))
def test_decode_mask_on_random_bytes_is_none_or_a_boolean_plane(data):
    check_mask(decode_mask(data))


@settings(max_examples=150, deadline=None)
@given(
    seed=st.sampled_from(range(len(MASK_SEEDS))),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, 10_000) | st.none(),
)
def test_decode_mask_on_mutated_masks_is_none_or_a_boolean_plane(seed, edits, cut):
    data = bytearray(MASK_SEEDS[seed])
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        del data[cut % len(data) :]
    check_mask(decode_mask(bytes(data)))


def test_decode_mask_seeds_decode_to_the_same_square():
    for data in MASK_SEEDS[:5]:
        mask = decode_mask(data)
        assert mask.shape == (24, 32) and mask.sum() == 14 * 14 and mask[10, 10]


# --- drawing, tables and exports on broken regions ----------------------------------------------

odd_float = st.one_of(
    st.floats(min_value=-3, max_value=4, allow_nan=False),
    st.sampled_from([0.0, 1.0, -0.0, 0.5, math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
)
odd_score = st.one_of(st.floats(0, 1), st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 2.0, 0.0]))
odd_name = st.one_of(st.sampled_from(["dog", "Dog ", "", " ", "=cmd|' /C calc'!A0", "ça", "人", "a,b\"c\n"]), st.text(max_size=20))


@st.composite
def odd_mask(draw):
    kind = draw(st.sampled_from(["bool", "uint8", "float", "nan", "rgb", "rgba", "one-channel", "empty", "flat", "4d", "object", "none"]))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    density = draw(st.sampled_from([0.0, 0.05, 0.5, 1.0]))
    plane = rng.random((h, w)) < density
    if kind == "bool":
        return plane
    if kind == "uint8":
        return plane.astype(np.uint8) * draw(st.sampled_from([1, 255]))
    if kind == "float":
        return plane.astype(np.float32) * 0.5
    if kind == "nan":
        values = plane.astype(np.float64)
        values[rng.random((h, w)) < 0.3] = np.nan
        values[rng.random((h, w)) < 0.1] = -np.inf
        return values
    if kind == "rgb":
        return np.stack([plane.astype(np.uint8) * 255] * 3, axis=2)
    if kind == "rgba":
        return np.stack([np.zeros((h, w), np.uint8)] * 3 + [plane.astype(np.uint8) * 255], axis=2)
    if kind == "one-channel":
        return plane[:, :, None]
    if kind == "empty":
        return np.zeros((0, w), bool)
    if kind == "flat":
        return plane.ravel()
    if kind == "4d":
        return plane[None, :, :, None]
    if kind == "object":
        return np.array([[object()]], dtype=object)
    return None


@st.composite
def odd_region(draw):
    concepts = tuple(Concept(draw(odd_name), draw(odd_score)) for _ in range(draw(st.integers(0, 3))))
    box = draw(st.none() | st.builds(Box, odd_float, odd_float, odd_float, odd_float))
    mask = draw(odd_mask()) if draw(st.booleans()) else None
    return Region(concepts, box, mask)


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def check_everything(image: np.ndarray, regions: list[Region], width: int, height: int, min_score: float) -> None:
    """Every consumer of regions, on one picture and one item size."""
    before = image.copy()
    for drawn in (
        render.draw_detections(image, regions, min_score=min_score),
        render.blend_masks(image, regions, opacity=0.6, hidden={"dog"}),
        render.annotate(image, Prediction(regions=tuple(regions)), min_score=min_score),
    ):
        assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert np.array_equal(image, before), "the input picture is left alone"

    frame = charts.regions_frame(regions, width, height, min_score)
    assert list(frame.columns) == charts.REGION_COLUMNS
    if len(frame):
        assert frame["x0"].between(0, width - 1).all() and frame["x1"].between(0, width - 1).all()
        assert frame["y0"].between(0, height - 1).all() and frame["y1"].between(0, height - 1).all()
        assert (frame["x0"] <= frame["x1"]).all() and (frame["y0"] <= frame["y1"]).all()
        assert not frame["score"].isna().any()  # NaN scores are never shown
    coverage = charts.coverage_frame(regions)
    assert coverage["share"].between(0, 1).all()

    prediction = Prediction(concepts=tuple(c for r in regions for c in r.concepts), regions=tuple(regions), caption="a\u0000b \"c\"")
    items = [
        exports.ExportItem("odd,name\n.jpg", width, height, prediction),
        exports.ExportItem("failed.png", width, height, None, "it failed"),
    ]
    coco = exports.coco_detections(items, min_score)
    coco = strict_json(json.dumps(coco, allow_nan=False))
    for annotation in coco["annotations"]:
        x, y, w, h = annotation["bbox"]
        assert 0 <= x and 0 <= y and w >= 0 and h >= 0  # rounded to 0.01 px: a sliver can round to 0
        assert x + w <= width + 0.01 and y + h <= height + 0.01
    strict_json(exports.raw_json(items))
    for text in (exports.concepts_csv(items), exports.captions_csv(items)):
        rows = list(csv.reader(io.StringIO(text)))
        assert rows and all(len(row) == len(rows[0]) for row in rows)
    for mask_format in ("rle", "png"):
        with zipfile.ZipFile(io.BytesIO(exports.coco_segmentation_zip(items, mask_format))) as archive:
            assert archive.testzip() is None
            coco = strict_json(archive.read("annotations.json").decode("utf-8"))
            [entry] = [i for i in coco["images"] if i["id"] == 1] or [None]
            for annotation in coco["annotations"]:
                size = annotation["segmentation"]["size"]
                assert sum(annotation["segmentation"]["counts"]) == size[0] * size[1]
                assert annotation["area"] > 0
                if width > 0 and height > 0:
                    assert size == [height, width]
                if mask_format == "png":
                    png = cv2.imdecode(np.frombuffer(archive.read(annotation["mask_file"]), np.uint8), cv2.IMREAD_UNCHANGED)
                    assert png.shape == tuple(size)
            assert entry is not None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    regions=st.lists(odd_region(), max_size=12),
    width=st.integers(0, 64),
    height=st.integers(0, 64),
    item_size=st.sampled_from(["same", "zero", "other"]),
    min_score=st.one_of(st.floats(0, 1), st.just(math.nan)),
)
def test_broken_regions_never_break_drawing_tables_or_exports(regions, width, height, item_size, min_score):
    image = np.random.default_rng(width * 64 + height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    item_width, item_height = {"same": (width, height), "zero": (0, 0), "other": (width * 3 + 1, height + 7)}[item_size]
    check_everything(image, regions, item_width, item_height, min_score)


@settings(max_examples=40, deadline=None)
@given(regions=st.lists(odd_region(), max_size=6), channels=st.sampled_from([None, 1, 4]))
def test_grey_and_bgra_pictures_come_back_as_bgr_of_the_same_size(regions, channels):
    shape = (30, 40) if channels is None else (30, 40, channels)
    image = np.full(shape, 120, np.uint8)
    for drawn in (render.draw_detections(image, regions), render.blend_masks(image, regions)):
        assert drawn.shape == (30, 40, 3) and drawn.dtype == np.uint8


def test_thousands_of_mixed_broken_regions_go_through_every_consumer():
    rng = np.random.default_rng(11)
    specials = [math.nan, math.inf, -math.inf, -0.5, 1.5, 0.0, 1.0]
    regions = []
    for i in range(3000):
        coords = [float(v) if rng.random() > 0.1 else specials[int(rng.integers(len(specials)))] for v in rng.random(4) * 1.4 - 0.2]
        box = Box(*coords) if i % 3 else None
        mask = None
        if i % 4 == 0:
            h, w = int(rng.integers(1, 30)), int(rng.integers(1, 30))
            mask = rng.random((h, w)) < 0.2
        elif i % 4 == 1 and i % 7 == 0:
            mask = np.zeros((0, 3), bool)
        value = float(rng.random()) if i % 11 else math.nan
        regions.append(Region((Concept(f"thing {i % 37}", value),), box, mask))
    image = np.random.default_rng(12).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    check_everything(image, regions, 320, 240, 0.2)
    drawn = render.annotate(image, Prediction(regions=tuple(regions)), min_score=0.2)
    assert (drawn != image).any(axis=2).mean() > 0.2  # the regions really were drawn


def test_a_mask_at_another_size_is_exported_at_the_items_size():
    mask = np.zeros((12, 16), bool)
    mask[3:6, 4:8] = True
    item = exports.ExportItem("a.png", 64, 48, Prediction(regions=(Region((Concept("sky", 0.4),), mask=mask),)))
    with zipfile.ZipFile(io.BytesIO(exports.coco_segmentation_zip([item], "png"))) as archive:
        [annotation] = strict_json(archive.read("annotations.json"))["annotations"]
        assert annotation["segmentation"]["size"] == [48, 64]
        assert annotation["bbox"] == [16, 12, 16, 12]
        assert annotation["area"] == 16 * 12


# --- regressions found by the fuzzing above ------------------------------------------------------


def test_a_tiff_whose_second_page_is_damaged_still_gives_its_first_page():
    """Counting pages walks every page: a broken later page raised TypeError out of prepare_upload."""
    data = bytearray(_encode(_picture(), "TIFF", save_all=True, append_images=[_picture()]))
    first_ifd = int.from_bytes(data[4:8], "little")
    entries = int.from_bytes(data[first_ifd : first_ifd + 2], "little")
    next_pointer = first_ifd + 2 + 12 * entries
    data[next_pointer : next_pointer + 4] = (9).to_bytes(4, "little")  # page 2 now starts mid-header
    with Image.open(io.BytesIO(bytes(data))) as opened, pytest.raises(Exception):  # noqa: B017 (any error)
        opened.n_frames  # noqa: B018 — Pillow itself fails on the second page
    prepared = prepare_upload("two-pages.tif", bytes(data))
    check_prepared(prepared)
    assert (prepared.width, prepared.height) == (48, 36)
    blue, green, red = prepared.pixels()[5, 5]
    assert red > 200 and green < 60 and blue < 60  # the first page's red top-left quarter


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_a_mask_declaring_more_pixels_than_opencv_allows_is_undecodable_not_a_crash():
    """OpenCV raised cv2.error for it, which escaped client.predict and crashed the page."""
    huge = _png_header(70_000, 70_000)
    assert decode_mask(huge) is None
    output = resources_pb2.Output()
    output.status.code = 10000
    region = output.data.regions.add()
    region.region_info.mask.image.base64 = huge
    region.data.concepts.add(id="sky", name="sky", value=0.7)
    prediction = prediction_from_output(output, "clarifai/main/image-general-segmentation")
    [kept] = prediction.regions
    assert kept.mask is None and kept.top_concept.name == "sky"
    assert any("could not be decoded" in note for note in prediction.notes)


@pytest.mark.parametrize("text", ["a\rb", "\r", "line one\r\nline two", "tab\tand \"quotes\", commas"])
def test_csv_exports_read_back_whatever_the_names_and_captions_hold(text):
    """A bare carriage return was written unquoted, so the CSV split a row in two when read."""
    items = [
        exports.ExportItem(f"{text}.jpg", 10, 10, Prediction(concepts=(Concept(text, 0.5),), caption=text)),
        exports.ExportItem("plain.jpg", 10, 10, None, error_message=text),
    ]
    concept_rows = list(csv.reader(io.StringIO(exports.concepts_csv(items), newline="")))
    assert [len(row) for row in concept_rows] == [4, 4]
    assert concept_rows[1][1] == exports._csv_text(text)
    caption_rows = list(csv.reader(io.StringIO(exports.captions_csv(items), newline="")))
    assert [len(row) for row in caption_rows] == [3, 3, 3]
    assert caption_rows[1][1] == exports._csv_text(text) and caption_rows[2][2] == exports._csv_text(text)
