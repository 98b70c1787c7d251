"""Preparing images: formats, broken files, limits, orientation, colour, downscaling, URLs."""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps, JpegImagePlugin

from components.errors import ImageError
from components.images.encoding import PREVIEW_SIDE
from components.images.limits import MAX_IMAGES_PER_RUN, MAX_PIXELS
from components.images.preparation import (
    DEFAULT_MAX_SIDE,
    PreparedImage,
    PrepareOptions,
    parse_url_lines,
    prepare_upload,
    prepare_url,
)
from components.images.url_fetch import MAX_FILE_BYTES, UrlRefusedError

FULL_SIZE = PrepareOptions(max_side=None)
RED, GREEN, BLUE, YELLOW = (230, 20, 20), (20, 200, 40), (30, 40, 220), (240, 220, 30)


# --- helpers ------------------------------------------------------------------------------


def encode(image: Image.Image, format: str = "JPEG", orientation: int | None = None, **params) -> bytes:
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif
    if format == "JPEG":
        params.setdefault("quality", 92)
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def quadrants(width: int, height: int, marker: int = 0) -> Image.Image:
    """Four coloured quadrants (red, green / blue, yellow); `marker` px white square top-left."""
    array = np.zeros((height, width, 3), np.uint8)
    array[: height // 2, : width // 2] = RED
    array[: height // 2, width // 2 :] = GREEN
    array[height // 2 :, : width // 2] = BLUE
    array[height // 2 :, width // 2 :] = YELLOW
    if marker:
        array[:marker, :marker] = (255, 255, 255)
    return Image.fromarray(array, "RGB")


def rgb_pixels(prepared: PreparedImage) -> np.ndarray:
    return prepared.pixels()[..., ::-1].astype(np.int16)


def mean_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def linear_rgb_profile(name: str = "Linear RGB test") -> bytes:
    """A minimal ICC v2 RGB profile: sRGB primaries, gamma 1.0 (linear light)."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    linear_curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 256) + bytes(2)
    text = name.encode() + b"\0"
    description = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(78)
    tags = [
        (b"desc", description),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", linear_curve),
        (b"gTRC", linear_curve),
        (b"bTRC", linear_curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body)) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
        + bytes(12) + b"acsp" + bytes(28) + s15(0.9642) + s15(1.0) + s15(0.8249) + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + body


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds one tiny IDAT: enough for the header checks."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


# --- every file in testdata/broken and testdata/formats ------------------------------------

# name -> (width, height, mime, a note that must be present or "")
VALID_FILES = {
    "broken/hopper_bad_exif.jpg": (500, 500, "image/jpeg", ""),
    "formats/4.webp": (1024, 772, "image/jpeg", ""),
    "formats/5_webp_a.webp": (300, 300, "image/jpeg", "transparent areas filled with white"),
    "formats/Channel_digital_image_CMYK_color.jpg": (500, 333, "image/jpeg", "through its colour profile"),
    "formats/Channel_digital_image_CMYK_color_no_profile.jpg": (500, 333, "image/jpeg", "CMYK converted to RGB"),
    "formats/Flag_of_the_Netherlands-16bit.png": (900, 600, "image/png", ""),
    "formats/app13-multiple.jpg": (256, 160, "image/jpeg", ""),
    "formats/concert.jpg": (400, 267, "image/jpeg", ""),
    "formats/hopper.avif": (128, 128, "image/jpeg", ""),
    "formats/hopper.bmp": (128, 128, "image/jpeg", ""),
    "formats/hopper.tif": (128, 128, "image/jpeg", ""),
    "formats/iss634.gif": (245, 245, "image/png", "first frame of 42"),
    "formats/multipage.tiff": (10, 10, "image/png", "first page of 3"),
    "formats/pil123p.png": (162, 150, "image/png", ""),
    "formats/sugarshack.mpo": (640, 480, "image/jpeg", "first frame of 2"),
}

# name -> words the message must contain (all of them)
INVALID_FILES = {
    "broken/broken_data_stream.png": ("corrupt PNG data", "download it again"),
    "broken/corrupt-header.jpg": ("JPEG", "header is damaged"),
    "broken/decompression_bomb.gif": ("4,365 megapixels", "85-megapixel limit"),
    "broken/empty.jpg": ("is empty (0 bytes)",),
    "broken/ole_document_named_as.jpg": ("Microsoft Office document", "JPEG, PNG"),
    "broken/png_decompression_dos.png": ("decompression bomb", "without metadata"),
    "broken/truncated_image.png": ("cut off", "complete file"),
    "broken/truncated_jpeg.jpg": ("cut off", "complete file"),
    "broken/zero_width.gif": ("width or height of 0 pixels",),
    "formats/giant-image.jpg": ("280 megapixels", "85-megapixel limit", "Resize"),
    "formats/hopper.heif": ("HEIF/HEIC", "not supported", "export it as JPEG or PNG"),
}


def test_every_broken_and_formats_file_is_classified(testdata: Path):
    on_disk = {f"{folder}/{path.name}" for folder in ("broken", "formats") for path in (testdata / folder).iterdir()}
    assert on_disk == set(VALID_FILES) | set(INVALID_FILES)


@pytest.mark.parametrize("relative", sorted(VALID_FILES))
def test_valid_file_prepares_into_an_upright_metadata_free_picture(testdata: Path, relative: str):
    width, height, mime, note = VALID_FILES[relative]
    data = (testdata / relative).read_bytes()

    prepared = prepare_upload(Path(relative).name, data)

    assert (prepared.width, prepared.height, prepared.mime) == (width, height, mime)
    assert prepared.pixels().shape == (height, width, 3)
    if note:
        assert any(note in text for text in prepared.notes), prepared.notes
    sent = decoded(prepared.data)
    assert sent.size == (width, height) and sent.mode == "RGB"
    assert "exif" not in sent.info and "icc_profile" not in sent.info
    assert prepared.digest == hashlib.sha256(prepared.data).hexdigest()


@pytest.mark.parametrize("relative", sorted(INVALID_FILES))
def test_invalid_file_gives_a_specific_image_error(testdata: Path, relative: str):
    data = (testdata / relative).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Pillow warning may escape either
        with pytest.raises(ImageError) as caught:
            prepare_upload(Path(relative).name, data)
    message = caught.value.message
    assert Path(relative).name in message
    for words in INVALID_FILES[relative]:
        assert words in message, message


# --- orientation --------------------------------------------------------------------------


def softened(picture: np.ndarray) -> np.ndarray:
    """Blurred a little, so two resamplers' pixel-level differences do not count, only content."""
    return cv2.GaussianBlur(picture, (0, 0), 1.0)


def test_all_nine_landscape_files_come_out_upright_like_landscape_1(testdata: Path):
    reference = cv2.imread(str(testdata / "exif/Landscape_1.jpg"), cv2.IMREAD_COLOR)
    reference = softened(cv2.resize(reference, (1024, 683), interpolation=cv2.INTER_AREA))
    assert mean_abs_difference(reference, reference[:, ::-1]) > 30  # a wrong turn would show
    for number in range(9):
        prepared = prepare_upload(f"Landscape_{number}.jpg", (testdata / f"exif/Landscape_{number}.jpg").read_bytes())
        assert (prepared.width, prepared.height) == (1024, 683), number
        assert mean_abs_difference(softened(prepared.pixels()), reference) < 3, number
        sent = decoded(prepared.data)
        assert sent.size == (1024, 683)
        assert 0x0112 not in sent.getexif(), number


def test_landscape_files_at_full_size_match_landscape_1(testdata: Path):
    reference = np.asarray(decoded((testdata / "exif/Landscape_1.jpg").read_bytes()))
    for number in (0, 3, 5, 6, 8):
        prepared = prepare_upload("l.jpg", (testdata / f"exif/Landscape_{number}.jpg").read_bytes(), FULL_SIZE)
        assert (prepared.width, prepared.height) == (1800, 1200)
        assert mean_abs_difference(softened(rgb_pixels(prepared)), softened(reference)) < 3, number
        assert not any("downscaled" in note for note in prepared.notes)


# Where the stored top-left corner must appear once the EXIF orientation is applied.
CORNER_AFTER_ORIENTATION = {1: "TL", 2: "TR", 3: "BR", 4: "BL", 5: "TL", 6: "TR", 7: "BR", 8: "BL"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_orientation_puts_the_stored_top_left_corner_where_exif_says(orientation: int):
    data = encode(quadrants(400, 300, marker=40), orientation=orientation)

    prepared = prepare_upload("o.jpg", data, FULL_SIZE)

    expected_size = (400, 300) if orientation < 5 else (300, 400)
    assert (prepared.width, prepared.height) == expected_size
    picture = rgb_pixels(prepared)
    h, w = picture.shape[:2]
    corners = {"TL": picture[5, 5], "TR": picture[5, w - 6], "BL": picture[h - 6, 5], "BR": picture[h - 6, w - 6]}
    white = [name for name, value in corners.items() if value.min() > 235]
    assert white == [CORNER_AFTER_ORIENTATION[orientation]]
    reference = np.asarray(ImageOps.exif_transpose(decoded(data)))
    assert mean_abs_difference(picture, reference) < 3
    if orientation != 1:
        assert f"(EXIF orientation {orientation})" in " ".join(prepared.notes)


def test_orientation_six_phone_photo_lands_upright_downscaled_with_red_corner_top_right():
    stored = np.full((3000, 4000, 3), 90, np.uint8)
    stored[:300, :300] = (255, 0, 0)  # stored top-left: shown top-right after orientation 6
    data = encode(Image.fromarray(stored), orientation=6, quality=90)

    prepared = prepare_upload("phone.jpg", data)

    assert (prepared.width, prepared.height) == (768, 1024)
    picture = rgb_pixels(prepared)
    assert tuple(picture[20, 768 - 20]) == pytest.approx((255, 0, 0), abs=12)
    assert tuple(picture[20, 20]) == pytest.approx((90, 90, 90), abs=12)
    assert "rotated upright (EXIF orientation 6)" in prepared.notes
    assert "downscaled from 3000×4000 to 768×1024" in prepared.notes
    assert decoded(prepared.preview).size == (384, 512)


def test_orientation_tag_in_a_png_is_applied_too():
    data = encode(quadrants(200, 100, marker=20), format="PNG", orientation=8)
    prepared = prepare_upload("o.png", data, FULL_SIZE)
    assert (prepared.width, prepared.height) == (100, 200)
    assert rgb_pixels(prepared)[200 - 5, 5].min() > 235  # stored top-left is now bottom-left


def test_corrupt_exif_block_is_treated_as_upright(testdata: Path):
    data = (testdata / "broken/hopper_bad_exif.jpg").read_bytes()
    prepared = prepare_upload("hopper_bad_exif.jpg", data)
    reference = np.asarray(decoded(data).convert("RGB"))
    assert mean_abs_difference(rgb_pixels(prepared), reference) < 3
    assert not any("upright" in note for note in prepared.notes)


def test_metadata_is_not_sent():
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    data = encode(quadrants(300, 200), exif=exif, comment=b"private note")
    prepared = prepare_upload("meta.jpg", data)
    assert b"PhoneMaker" not in prepared.data and b"private note" not in prepared.data
    assert not decoded(prepared.data).getexif()


# --- colour -------------------------------------------------------------------------------


def test_cmyk_with_profile_is_converted_through_the_profile(testdata: Path):
    data = (testdata / "formats/Channel_digital_image_CMYK_color.jpg").read_bytes()
    naive = np.asarray(decoded(data).convert("RGB"))

    picture = rgb_pixels(prepare_upload("cmyk.jpg", data))

    assert mean_abs_difference(picture, naive) > 5  # not the naive conversion...
    correlation = np.corrcoef(picture.ravel(), naive.astype(np.int16).ravel())[0, 1]
    assert correlation > 0.9  # ...but the same picture


def test_cmyk_inks_come_out_as_the_profile_says_not_as_pure_rgb(testdata: Path):
    profile = decoded((testdata / "formats/Channel_digital_image_CMYK_color.jpg").read_bytes()).info["icc_profile"]
    inks = [(255, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 0)]  # cyan, black, paper
    patches = np.concatenate([np.full((64, 64, 4), ink, np.uint8) for ink in inks], axis=1)
    data = encode(Image.fromarray(patches, "CMYK"), quality=95, icc_profile=profile)

    picture = rgb_pixels(prepare_upload("inks.jpg", data))

    cyan, black, paper = (picture[32, 32 + 64 * i] for i in range(3))
    assert cyan[0] < 30 and 140 < cyan[1] < 200 and cyan[2] > 210  # SWOP cyan is about (0, 174, 239)
    assert 15 < black.mean() < 60  # printed black is not (0, 0, 0)
    assert paper.min() > 245


def test_rgb_with_a_non_srgb_profile_is_converted_to_srgb():
    grey = Image.new("RGB", (64, 64), (128, 128, 128))
    data = encode(grey, format="PNG", icc_profile=linear_rgb_profile())

    prepared = prepare_upload("linear.png", data)

    assert tuple(rgb_pixels(prepared)[10, 10]) == pytest.approx((188, 188, 188), abs=2)  # linear 0.5 in sRGB
    assert "colours converted to sRGB from its Linear RGB test profile" in prepared.notes


def test_srgb_profile_leaves_colors_alone(testdata: Path):
    data = (testdata / "photos/chelsea.png").read_bytes()
    prepared = prepare_upload("chelsea.png", data)
    assert mean_abs_difference(softened(rgb_pixels(prepared)), softened(np.asarray(decoded(data)))) < 2
    assert prepared.notes == ()


def test_cmyk_without_profile_uses_the_plain_conversion(testdata: Path):
    data = (testdata / "formats/Channel_digital_image_CMYK_color_no_profile.jpg").read_bytes()
    naive = np.asarray(decoded(data).convert("RGB"))
    picture = rgb_pixels(prepare_upload("cmyk.jpg", data)).astype(np.uint8)
    assert mean_abs_difference(softened(picture), softened(naive)) < 3


def test_transparent_corners_of_the_red_truck_become_white(testdata: Path):
    data = (testdata / "photos/red-truck.png").read_bytes()
    alpha = np.asarray(decoded(data).getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0

    prepared = prepare_upload("red-truck.png", data)

    picture = rgb_pixels(prepared)
    for y, x in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert picture[y, x].min() >= 250
    opaque = alpha == 255
    assert picture[opaque].mean() < 200  # the truck itself is still there
    assert "transparent areas filled with white" in prepared.notes


def test_opaque_alpha_channel_adds_no_transparency_note():
    data = encode(quadrants(64, 64).convert("RGBA"), format="PNG")
    assert not any("transparent" in note for note in prepare_upload("opaque.png", data).notes)


def test_sixteen_bit_flag_keeps_its_red_white_and_blue(testdata: Path):
    prepared = prepare_upload("flag.png", (testdata / "formats/Flag_of_the_Netherlands-16bit.png").read_bytes())
    picture = rgb_pixels(prepared)
    red, white, blue = picture[100, 450], picture[300, 450], picture[500, 450]
    assert red[0] > 150 and red[1] < 60 and red[2] < 60
    assert white.min() > 240
    assert blue[2] > 110 and blue[0] < 60 and blue[1] < 100


def test_sixteen_bit_grey_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (32, 1))
    source = Image.fromarray(ramp)
    assert source.mode.startswith("I")
    prepared = prepare_upload("grey16.png", encode(source, format="PNG"), FULL_SIZE)
    row = rgb_pixels(prepared)[16]
    assert row[0].max() <= 2 and row[-1].min() >= 253
    assert 120 <= row[128].mean() <= 136  # the middle of the ramp is mid grey, not white
    assert np.all(row[:, 0] == row[:, 1]) and np.all(row[:, 1] == row[:, 2])


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "RGBA"])
def test_other_modes_become_rgb_with_the_same_look(mode: str):
    source = quadrants(120, 80)
    converted = source.convert(mode) if mode != "P" else source.quantize(16)
    prepared = prepare_upload(f"{mode}.png", encode(converted, format="PNG"))
    expected = np.asarray(converted.convert("RGB"))
    assert mean_abs_difference(rgb_pixels(prepared), expected) < 3


def test_palette_png_with_transparency_is_flattened_on_white(testdata: Path):
    data = (testdata / "formats/pil123p.png").read_bytes()
    source = decoded(data).convert("RGBA")
    expected = Image.new("RGBA", source.size, (255, 255, 255, 255))
    expected.alpha_composite(source)
    prepared = prepare_upload("pil123p.png", data)
    assert prepared.mime == "image/png"
    assert mean_abs_difference(rgb_pixels(prepared), np.asarray(expected.convert("RGB"))) < 1


# --- limits -------------------------------------------------------------------------------


def test_file_over_twenty_megabytes_is_refused_before_decoding():
    data = b"\xff\xd8\xff" + bytes(MAX_FILE_BYTES)
    with pytest.raises(ImageError, match=r"is 20\.0 MB; images must be under 20 MB"):
        prepare_upload("huge.jpg", data)


def test_picture_over_85_megapixels_is_refused_from_its_header():
    data = png_header_only(9300, 9200)  # 85.6 MP: under Pillow's own bomb limit; no pixel data at all
    with pytest.raises(ImageError, match=r"9300×9200 pixels \(86 megapixels\).*at most 85 megapixels"):
        prepare_upload("big.png", data)


def test_pillow_bomb_warning_band_is_refused_and_warning_filters_are_restored():
    filters_before = list(warnings.filters)
    limit_before = Image.MAX_IMAGE_PIXELS
    data = png_header_only(10_000, 10_000)  # between Pillow's warning and error limits
    with pytest.raises(ImageError, match="about 100 megapixels"):
        prepare_upload("bomb.png", data)
    assert warnings.filters == filters_before
    assert Image.MAX_IMAGE_PIXELS == limit_before
    assert MAX_PIXELS == 85_000_000


def test_concurrent_preparations_give_the_right_results_and_leave_warning_filters_alone(testdata: Path):
    filters_before = list(warnings.filters)
    jobs = [("flag", encode(quadrants(300, 200), format="PNG"), (300, 200)), ("bomb", png_header_only(10_000, 10_000), None),
            ("turned", encode(quadrants(400, 300), orientation=6), (300, 400))] * 4

    def run(job):
        name, data, size = job
        try:
            prepared = prepare_upload(name, data)
        except ImageError:
            return None
        return prepared.width, prepared.height

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, jobs))
    assert results == [size for _, _, size in jobs]
    assert warnings.filters == filters_before


def test_html_page_is_named_as_a_web_page():
    with pytest.raises(ImageError, match=r"a web page \(HTML\)"):
        prepare_upload("page.jpg", b"<!DOCTYPE html><html><body>Not found</body></html>")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_picture_or_an_image_error(data: bytes):
    try:
        prepare_upload("random.bin", data)
    except ImageError as error:
        assert error.message


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_damaged_copies_of_real_files_give_a_picture_or_an_image_error(data):
    original = encode(quadrants(64, 48), format=data.draw(st.sampled_from(["JPEG", "PNG", "GIF", "WEBP", "TIFF"])))
    position = data.draw(st.integers(0, len(original) - 1))
    replacement = data.draw(st.binary(min_size=1, max_size=16))
    cut = data.draw(st.booleans())
    damaged = original[:position] if cut else original[:position] + replacement + original[position + len(replacement) :]
    try:
        prepared = prepare_upload("damaged", damaged)
    except ImageError as error:
        assert error.message
    else:
        assert prepared.width > 0 and prepared.pixels().shape[2] == 3


# --- downscaling, encoding, previews, identity ----------------------------------------------


def photo_like(width: int, height: int, seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([128 + 90 * np.sin(x / 300), 120 + 80 * np.cos(y / 250), 110 + 70 * np.sin((x + y) / 400)], -1)
    base += rng.normal(0, 4, (height, width, 1))
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def test_large_photo_is_downscaled_while_decoding(monkeypatch):
    data = encode(photo_like(4000, 3000), quality=90)
    draft_requests = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        draft_requests.append(size)
        return original_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    prepared = prepare_upload("big.jpg", data)

    assert draft_requests == [(1024, 768)]
    assert (prepared.width, prepared.height) == (1024, 768)
    assert "downscaled from 4000×3000 to 1024×768" in prepared.notes
    assert prepared.mime == "image/jpeg"
    assert prepared.bytes_saved == len(data) - len(prepared.data) > len(data) // 2


def test_downscaled_picture_matches_a_full_decode_resized():
    source = photo_like(2400, 1600)
    prepared = prepare_upload("p.jpg", encode(source, quality=95))
    reference = np.asarray(source.resize((1024, 683), Image.Resampling.LANCZOS))
    assert mean_abs_difference(rgb_pixels(prepared), reference) < 3


def test_max_side_none_keeps_full_size_and_small_max_side_shrinks_more():
    data = encode(photo_like(1600, 900), quality=90)
    full = prepare_upload("p.jpg", data, FULL_SIZE)
    small = prepare_upload("p.jpg", data, PrepareOptions(max_side=320))
    assert (full.width, full.height) == (1600, 900)
    assert (small.width, small.height) == (320, 180)
    assert DEFAULT_MAX_SIDE == 1024


def test_picture_smaller_than_max_side_is_not_resized():
    prepared = prepare_upload("small.jpg", encode(photo_like(800, 600)))
    assert (prepared.width, prepared.height) == (800, 600)
    assert not any("downscaled" in note for note in prepared.notes)


def test_sharp_graphics_stay_png_and_photos_become_jpeg(testdata: Path):
    flag = prepare_upload("flag.png", encode(quadrants(300, 200), format="PNG"))
    photo_png = prepare_upload("astronaut.png", (testdata / "photos/astronaut.png").read_bytes())
    flat_jpeg = prepare_upload("flat.jpg", encode(quadrants(300, 200)))
    assert flag.mime == "image/png" and decoded(flag.data).format == "PNG"
    assert photo_png.mime == "image/jpeg" and decoded(photo_png.data).format == "JPEG"
    assert flat_jpeg.mime == "image/jpeg"
    assert mean_abs_difference(rgb_pixels(flag), np.asarray(quadrants(300, 200))) == 0


def test_preview_is_a_small_jpeg_made_by_the_app(testdata: Path):
    data = encode(photo_like(3000, 2000))
    prepared = prepare_upload("p.jpg", data)
    preview = decoded(prepared.preview)
    assert preview.format == "JPEG" and max(preview.size) == PREVIEW_SIDE
    assert preview.size == (512, 342)

    tiny = prepare_upload("hopper.bmp", (testdata / "formats/hopper.bmp").read_bytes())
    assert decoded(tiny.preview).format == "JPEG" and decoded(tiny.preview).size == (128, 128)


def test_digest_identifies_the_sent_bytes():
    first = prepare_upload("a.jpg", encode(quadrants(200, 100)))
    again = prepare_upload("renamed.jpg", encode(quadrants(200, 100)))
    other = prepare_upload("b.jpg", encode(quadrants(200, 101)))
    assert first.digest == hashlib.sha256(first.data).hexdigest()
    assert first.digest == again.digest != other.digest


def test_pixels_are_a_fresh_array_each_time():
    prepared = prepare_upload("a.jpg", encode(quadrants(64, 64)))
    first = prepared.pixels()
    first[:] = 0
    assert prepared.pixels().max() > 0


# --- URLs -----------------------------------------------------------------------------------


def test_prepare_url_decodes_what_was_fetched():
    data = encode(quadrants(640, 480))
    prepared = prepare_url("https://images.example/q.jpg", fetch=lambda url: data)
    assert prepared.source == "url" and prepared.url == prepared.name == "https://images.example/q.jpg"
    assert (prepared.width, prepared.height) == (640, 480)
    assert prepared.original_size == len(data)


def test_prepare_url_passes_refusals_through():
    def refuse(url):
        raise UrlRefusedError("points to a private network address (10.0.0.5)", "address")

    with pytest.raises(UrlRefusedError, match="private network address"):
        prepare_url("http://intranet.example/a.jpg", fetch=refuse)


def test_prepare_url_names_a_web_page_body_and_hides_the_query_string():
    with pytest.raises(ImageError) as caught:
        prepare_url("https://site.example/photo?token=SECRET123", fetch=lambda url: b"<html><body>hi</body></html>")
    assert "web page (HTML)" in caught.value.message
    assert "SECRET123" not in caught.value.message


def test_clarifai_fetched_url_is_not_downloaded_and_says_what_that_costs():
    def must_not_fetch(url):
        raise AssertionError("fetched")

    url = "https://samples.clarifai.com/metro-north.jpg"
    prepared = prepare_url(url, PrepareOptions(clarifai_fetches_urls=True), fetch=must_not_fetch)

    assert prepared.data is None and prepared.url == url and prepared.mime == ""
    assert prepared.digest == hashlib.sha256(url.encode()).hexdigest()
    assert prepared.preview == b"" and (prepared.width, prepared.height) == (0, 0)
    notes = " ".join(prepared.notes)
    assert "upright" in notes and "draw boxes" in notes and "did not download" in notes
    with pytest.raises(ImageError, match="not downloaded"):
        prepared.pixels()


def test_clarifai_fetched_url_still_needs_http():
    with pytest.raises(UrlRefusedError, match="only http:// and https://"):
        prepare_url("file:///etc/passwd", PrepareOptions(clarifai_fetches_urls=True))


def test_parse_url_lines_keeps_web_addresses_and_explains_each_other_line():
    text = "\n".join([
        "https://a.example/1.jpg",
        "",
        "   ",
        "ftp://files.example/2.jpg",
        "  http://b.example/3.png  ",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "just some words",
    ])
    urls, problems = parse_url_lines(text)
    assert urls == ["https://a.example/1.jpg", "http://b.example/3.png"]
    messages = [problem.message for problem in problems]
    assert [message.split(":")[0] for message in messages] == ["Line 4", "Line 6", "Line 7", "Line 8", "Line 9"]
    assert all(isinstance(problem, ImageError) for problem in problems)
    assert "ftp:" in messages[0] and "only http:// and https://" in messages[0]


def test_parse_url_lines_caps_a_run_at_the_image_limit():
    urls, problems = parse_url_lines("\n".join(f"https://a.example/{i}.jpg" for i in range(MAX_IMAGES_PER_RUN + 5)))
    assert len(urls) == MAX_IMAGES_PER_RUN
    assert len(problems) == 1 and f"only the first {MAX_IMAGES_PER_RUN}" in problems[0].message
