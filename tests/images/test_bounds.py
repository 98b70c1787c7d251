"""Preparation whose memory follows the picture sent: band-wise conversion, streamed PNG/TIFF,
refusals before decoding, no process-wide lock, bounded frame counting, orientation read from the
bytes, and one instruction per refusal.

Pixel-exact checks compare `decoding.decode` (the picture before it is encoded, so JPEG's losses
do not blur the comparison) with `whole_picture_reference`: the previous way of preparing, which
decoded the whole file, converted it whole and then resized it.
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, TiffImagePlugin, WebPImagePlugin

from components.errors import ImageError
from components.images import bands as image_bands
from components.images import decoding
from components.images import metadata as image_metadata
from components.images.limits import fit_within
from components.images.preparation import PrepareOptions, prepare_upload
from tests.images.test_preparation import encode, linear_rgb_profile, png_header_only, quadrants

GUARD_SECONDS = 30  # only against a hang


# --- the previous, whole-picture way, as the reference -------------------------------------------


def whole_picture_reference(data: bytes, max_side: int | None) -> np.ndarray:
    """Decode whole, convert whole (as before), then resize with Pillow's reducing gap of 2."""
    image = Image.open(io.BytesIO(data))
    target = fit_within(image.size, max_side)
    if image.format == "JPEG" and target != image.size:
        image.draft(None, target)
    image.load()
    picture = _convert_whole(image)
    if picture.size != target:
        picture = picture.resize(target, Image.Resampling.HAMMING, reducing_gap=2.0)
    return np.asarray(picture)


def _convert_whole(image: Image.Image) -> Image.Image:
    mode, icc = image.mode, image.info.get("icc_profile")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    if mode in ("CMYK", "RGB") and icc:
        return ImageCms.profileToProfile(
            image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb,
            renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB",
        )
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        peak = float(np.nan_to_num(values).max(initial=0.0))
        if mode == "F":
            scaled = np.nan_to_num(values) * (255.0 if peak <= 1.0 else 255.0 / 65535.0 if peak > 255 else 1.0)
        else:
            scaled = values / 257.0 if (mode != "I" or peak > 255) else values
        return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode in ("P", "L", "RGB", "1") and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] == 255:
            return rgba.convert("RGB")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    return image.convert("RGB")


def prepared_picture(data: bytes, max_side: int | None) -> np.ndarray:
    return np.asarray(decoding.decode("test", data, max_side).picture)


def varied(width: int, height: int, seed: int = 3) -> np.ndarray:
    """Smooth colour plus noise: every pixel differs, so a misplaced band would show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], -1)
    return np.clip(base + rng.integers(-20, 21, (height, width, 3)), 0, 255).astype(np.uint8)


def alpha_ramp(width: int, height: int) -> np.ndarray:
    alpha = np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))
    alpha[: height // 4] = 255  # an opaque band
    alpha[-height // 4 :] = 0  # a fully transparent band
    return alpha


def palette_with_trns(width: int, height: int) -> bytes:
    image = Image.fromarray(varied(width, height)).quantize(64)
    alpha = bytes(range(0, 256, 4))  # 64 levels of alpha for 64 colours
    return encode(image, format="PNG", transparency=alpha)


# 1301x951 with max_side 300: reduced by (2, 2) then resampled, with odd edges.
SIDE = 300
SOURCES = {
    "rgba png": lambda: encode(Image.fromarray(np.dstack([varied(1301, 951), alpha_ramp(1301, 951)]), "RGBA"), "PNG"),
    "la png": lambda: encode(Image.fromarray(np.dstack([varied(1301, 951)[..., 0], alpha_ramp(1301, 951)]), "LA"),
                             "PNG"),
    "palette png with trns": lambda: palette_with_trns(1301, 951),
    "gif with a transparent index": lambda: encode(Image.fromarray(varied(1301, 951)).quantize(32), "GIF",
                                                   transparency=5),
    "grey png with trns": lambda: encode(Image.fromarray(varied(1301, 951)[..., 1]), "PNG", transparency=77),
    "rgb png with trns": lambda: encode(Image.fromarray(varied(1301, 951) // 32 * 32), "PNG", transparency=(64, 96, 0)),
    "16-bit grey png": lambda: cv2.imencode(".png", (varied(1301, 951)[..., 0].astype(np.uint16) * 257 + 100))[1]
    .tobytes(),
    "rgb png, linear profile": lambda: encode(Image.fromarray(varied(1301, 951)), "PNG",
                                              icc_profile=linear_rgb_profile()),
    "bilevel png": lambda: encode(Image.fromarray(varied(1301, 951)[..., 0]).convert("1"), "PNG"),
    "palette png": lambda: encode(Image.fromarray(varied(1301, 951)).quantize(200), "PNG"),
    "grey png": lambda: encode(Image.fromarray(varied(1301, 951)[..., 2]), "PNG"),
    "rgb png": lambda: encode(Image.fromarray(varied(1301, 951)), "PNG"),
}


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of a few rows, so every picture here is converted in dozens of bands."""
    monkeypatch.setattr(decoding, "BAND_BYTES", 1301 * 4 * 7)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_band_by_band_conversion_gives_the_pixels_of_the_whole_picture_way(name: str, small_bands):
    data = SOURCES[name]()
    assert np.array_equal(prepared_picture(data, SIDE), whole_picture_reference(data, SIDE))
    assert np.array_equal(prepared_picture(data, None), whole_picture_reference(data, None))


def test_cmyk_jpeg_through_its_profile_matches_the_whole_picture_way(testdata, small_bands):
    data = (testdata / "formats/Channel_digital_image_CMYK_color.jpg").read_bytes()
    for side in (200, None):
        assert np.array_equal(prepared_picture(data, side), whole_picture_reference(data, side))


@pytest.mark.parametrize("values", [
    np.linspace(0.0, 1.0, 700 * 500, dtype=np.float32),  # 0..1: times 255
    np.linspace(-50.0, 40000.0, 700 * 500, dtype=np.float32),  # above 255: a 16-bit range
    np.linspace(0.0, 200.0, 700 * 500, dtype=np.float32),  # 8-bit range: as it is
])
def test_float_tiff_is_scaled_by_the_whole_pictures_peak(values: np.ndarray, small_bands):
    values = values.reshape(500, 700).copy()
    values[3, 3] = np.nan
    data = encode(Image.fromarray(values, "F"), "TIFF", compression="tiff_adobe_deflate")
    new, old = prepared_picture(data, SIDE), whole_picture_reference(data, SIDE)
    assert np.abs(new.astype(int) - old.astype(int)).max() <= 1  # rounding before or after reducing


@pytest.mark.parametrize("peak", [200, 60000])
def test_int32_tiff_is_scaled_only_when_it_goes_past_8_bits(peak: int, small_bands):
    values = np.linspace(0, peak, 700 * 500).astype(np.int32).reshape(500, 700)
    data = encode(Image.fromarray(values), "TIFF", compression="tiff_adobe_deflate")
    new, old = prepared_picture(data, SIDE), whole_picture_reference(data, SIDE)
    assert np.abs(new.astype(int) - old.astype(int)).max() <= 1
    assert new.max() >= 199 if peak == 200 else new.max() >= 230


def test_transparency_note_comes_only_from_pixels_that_are_see_through(small_bands):
    quantized = Image.fromarray(varied(300, 200)).quantize(15)  # indices 0-14; 15 is see-through
    palette = quantized.getpalette()[: 15 * 3] + [0, 0, 0]
    alpha = bytes([255] * 15 + [0])

    def png(indices: np.ndarray) -> bytes:
        picture = Image.fromarray(indices, "P")
        picture.putpalette(palette)
        return encode(picture, "PNG", transparency=alpha)

    indices = np.asarray(quantized).copy()
    assert not any("transparent" in note for note in prepare_upload("opaque.png", png(indices)).notes)
    indices[150:, 250:] = 15
    assert "transparent areas filled with white" in prepare_upload("holes.png", png(indices)).notes


# --- big PNG and TIFF files are streamed ------------------------------------------------------------


STREAMED = {
    "rgba png": SOURCES["rgba png"],
    "la png": SOURCES["la png"],
    "grey png with trns": SOURCES["grey png with trns"],
    "rgb png with trns": SOURCES["rgb png with trns"],
    "16-bit grey png": SOURCES["16-bit grey png"],
    "rgb png": SOURCES["rgb png"],
    "rgb png, linear profile": SOURCES["rgb png, linear profile"],
    "16-bit rgb png": lambda: cv2.imencode(".png", varied(1301, 951).astype(np.uint16) * 257 + 3)[1].tobytes(),
    "16-bit rgba png": lambda: cv2.imencode(
        ".png", np.dstack([varied(1301, 951), alpha_ramp(1301, 951)]).astype(np.uint16) * 257)[1].tobytes(),
    "16-bit grey png with trns": lambda: encode(Image.fromarray(varied(1301, 951)[..., 0].astype(np.uint16) * 200),
                                                "PNG", transparency=400),
    "rgb tiff in strips": lambda: encode(Image.fromarray(varied(1301, 951)), "TIFF", compression="tiff_lzw"),
    "rgba tiff": lambda: encode(Image.fromarray(np.dstack([varied(1301, 951), alpha_ramp(1301, 951)]), "RGBA"),
                                "TIFF", compression="tiff_adobe_deflate"),
    "cmyk tiff": lambda: encode(Image.fromarray(varied(1301, 951)).convert("CMYK"), "TIFF", compression="packbits"),
    "16-bit grey tiff": lambda: encode(Image.fromarray(varied(1301, 951)[..., 0].astype(np.uint16) * 250), "TIFF",
                                       compression="tiff_adobe_deflate"),
    "int32 tiff": lambda: encode(Image.fromarray(varied(1301, 951)[..., 0].astype(np.int32) * 300), "TIFF",
                                 compression="tiff_adobe_deflate"),
    "float tiff": lambda: encode(Image.fromarray(varied(1301, 951)[..., 0].astype(np.float32) / 255), "TIFF",
                                 compression="tiff_adobe_deflate"),
}


@pytest.fixture
def stream_everything(monkeypatch, small_bands):
    """Stream every PNG and TIFF, and record whether a file was streamed and how big its bands were."""
    monkeypatch.setattr(decoding, "STREAM_ABOVE_BYTES", 0)
    record = {"streamed": 0, "largest_band": 0}
    original = image_bands.streamed_bands

    def spy(data, image, rows):
        bands = original(data, image, rows)
        if bands is None:
            return None
        record["streamed"] += 1

        def watched():
            for band in bands:
                record["largest_band"] = max(record["largest_band"], band.width * band.height)
                yield band

        return watched()

    monkeypatch.setattr(image_bands, "streamed_bands", spy)
    return record


@pytest.mark.parametrize("name", sorted(STREAMED))
def test_streamed_file_gives_the_pixels_of_pillows_whole_decode(name: str, stream_everything):
    data = STREAMED[name]()
    for side in (SIDE, None):
        new, old = prepared_picture(data, side), whole_picture_reference(data, side)
        tolerance = 1 if name in ("int32 tiff", "float tiff") else 0
        assert np.abs(new.astype(int) - old.astype(int)).max() <= tolerance, side
    assert stream_everything["streamed"] == 2
    assert stream_everything["largest_band"] <= 1301 * 7


def test_a_picture_too_big_to_hold_is_never_decoded_whole_by_pillow(stream_everything, monkeypatch):
    loads = []
    original_load = ImageFile.ImageFile.load

    def spy(self):
        loads.append(self.size)
        return original_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    grey16 = np.zeros((2400, 3000), np.uint16)
    grey16[:100, :100] = 65535
    data = cv2.imencode(".png", grey16)[1].tobytes()

    prepared = prepare_upload("grey16.png", data)

    assert (prepared.width, prepared.height) == (1024, 819)
    assert (3000, 2400) not in loads
    assert stream_everything["streamed"] == 1 and stream_everything["largest_band"] <= 3000 * 8


def test_palette_png_is_not_streamed_but_still_prepared(stream_everything):
    data = SOURCES["palette png"]()
    assert np.array_equal(prepared_picture(data, SIDE), whole_picture_reference(data, SIDE))
    assert stream_everything["streamed"] == 0


def test_streamed_png_that_is_cut_off_says_so(stream_everything):
    data = SOURCES["rgb png"]()
    with pytest.raises(ImageError, match="is cut off"):
        prepare_upload("cut.png", data[: len(data) // 2])


def test_streamed_png_with_damaged_data_says_so(stream_everything):
    data = SOURCES["rgb png"]()
    damaged = data[:3000] + bytes(range(256)) * 4 + data[4024:]
    with pytest.raises(ImageError, match="corrupt PNG data"):
        prepare_upload("damaged.png", damaged)


def test_interlaced_png_too_big_to_decode_whole_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(decoding, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(decoding, "WHOLE_DECODE_BYTES", 1024 * 1024)
    full = Image.open(io.BytesIO(_interlaced_copy(encode(Image.fromarray(varied(64, 48)), "PNG"))))
    assert np.array_equal(np.asarray(full.convert("RGB")), varied(64, 48))  # the hand-made interlacing is right
    interlaced = _interlaced_copy(encode(Image.fromarray(varied(1200, 900)), "PNG"))
    assert Image.open(io.BytesIO(interlaced)).info.get("interlace") == 1
    with pytest.raises(ImageError) as caught:
        prepare_upload("big.png", interlaced, PrepareOptions(max_side=SIDE))
    message = caught.value.message
    assert "1200×900 interlaced PNG" in message and "Save it as a JPEG" in message


def _interlaced_copy(png: bytes) -> bytes:
    """The same PNG with Adam7 interlacing, written by hand (Pillow and OpenCV write none)."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    height, width = image.shape[:2]
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = image[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def test_webp_too_big_to_decode_whole_is_refused_before_decoding_unless_sent_at_full_size(monkeypatch):
    monkeypatch.setattr(decoding, "WHOLE_DECODE_BYTES", 1024 * 1024)
    loads = []
    original_load = WebPImagePlugin.WebPImageFile.load
    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", lambda self: loads.append(1) or original_load(self))
    data = encode(Image.fromarray(varied(1200, 900)), "WEBP", quality=80)

    with pytest.raises(ImageError) as caught:
        prepare_upload("big.webp", data, PrepareOptions(max_side=SIDE))
    assert loads == []
    message = caught.value.message
    assert "1200×900 WebP" in message and "Save it as a JPEG and try again" in message

    full = prepare_upload("big.webp", data, PrepareOptions(max_side=None))  # the memory is the output's
    assert (full.width, full.height) == (1200, 900)


def test_a_picture_wider_than_65535_pixels_is_refused_from_its_header():
    with pytest.raises(ImageError, match=r"100000×40 pixels; images can be at most 65,535 pixels on a side"):
        prepare_upload("strip.png", png_header_only(100_000, 40))


# --- no lock held while decoding ----------------------------------------------------------------------


def test_a_small_jpeg_is_prepared_while_another_picture_is_still_being_decoded(monkeypatch):
    inside, release = threading.Event(), threading.Event()
    original = image_bands.decoded_bands

    def held_open(image, rows):
        inside.set()
        release.wait(GUARD_SECONDS)
        yield from original(image, rows)

    monkeypatch.setattr(image_bands, "decoded_bands", held_open)
    slow_result: list = []
    slow = threading.Thread(target=lambda: slow_result.append(prepare_upload("slow.png", SOURCES["rgba png"]())))
    slow.start()
    try:
        assert inside.wait(GUARD_SECONDS)
        quick_result: list = []
        small_jpeg = encode(quadrants(64, 64))
        quick = threading.Thread(target=lambda: quick_result.append(prepare_upload("quick.jpg", small_jpeg)))
        quick.start()
        quick.join(GUARD_SECONDS)
        assert quick_result and (quick_result[0].width, quick_result[0].height) == (64, 64)
        assert slow.is_alive()  # the first picture was still being decoded all along
    finally:
        release.set()
        slow.join(GUARD_SECONDS)
    assert slow_result and slow_result[0].width == 1024


def test_a_declared_bomb_is_refused_without_any_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageError, match="about 100 megapixels"):
            prepare_upload("bomb.png", png_header_only(10_000, 10_000))
    assert [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)] == []


# --- frames and pages are counted only so far ---------------------------------------------------------


def many_page_tiff(pages: int) -> bytes:
    """`pages` 1x1 grey pages, written directly (Pillow takes seconds for thousands of pages)."""
    page_size = 2 + 8 * 12 + 4 + 2
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    for page in range(pages):
        start = 8 + page * page_size
        following = start + page_size if page + 1 < pages else 0
        tags = [(256, 3, 1), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, start + page_size - 2),
                (278, 3, 1), (279, 4, 1)]
        out += struct.pack("<H", len(tags))
        for tag, kind, value in tags:
            packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        out += struct.pack("<I", following) + bytes([200, 0])
    return bytes(out)


def test_a_tiff_of_thousands_of_pages_says_many_without_visiting_them(monkeypatch):
    visited = []
    original_seek = TiffImagePlugin.TiffImageFile._seek
    def spy(self, frame):
        visited.append(frame)
        return original_seek(self, frame)

    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "_seek", spy)

    prepared = prepare_upload("pages.tif", many_page_tiff(5000))

    assert "first page of many" in prepared.notes
    assert max(visited, default=0) == 0
    assert (prepared.width, prepared.height) == (1, 1)


def test_pages_up_to_the_limit_are_counted_exactly():
    assert image_metadata.count_frames(many_page_tiff(image_metadata.FRAME_COUNT_LIMIT),
                                       Image.open(io.BytesIO(many_page_tiff(2)))) == image_metadata.FRAME_COUNT_LIMIT
    assert "first page of 7" in prepare_upload("seven.tif", many_page_tiff(7)).notes


def test_a_tiff_whose_pages_point_back_to_themselves_counts_once():
    data = bytearray(many_page_tiff(3))
    last_next = 8 + 2 * 104 + 2 + 8 * 12
    data[last_next : last_next + 4] = struct.pack("<I", 8)  # the third page points back to the first
    assert image_metadata.count_frames(bytes(data), Image.open(io.BytesIO(bytes(data)))) == 3


def animated_gif(frames: int) -> bytes:
    pictures = [Image.new("P", (8, 8), i % 2) for i in range(frames)]
    for picture in pictures:
        picture.putpalette([0, 0, 0, 255, 255, 255])
    return encode(pictures[0], "GIF", save_all=True, append_images=pictures[1:], duration=20, disposal=2)


def test_gif_frames_beyond_the_limit_are_many(monkeypatch):
    monkeypatch.setattr(image_metadata, "FRAME_COUNT_LIMIT", 4)
    assert "first frame of 4" in prepare_upload("four.gif", animated_gif(4)).notes
    assert "first frame of many" in prepare_upload("five.gif", animated_gif(5)).notes


def test_gif_frame_count_matches_pillows_and_survives_a_cut_off_file():
    data = animated_gif(9)
    assert image_metadata.count_frames(data, Image.open(io.BytesIO(data))) == Image.open(io.BytesIO(data)).n_frames
    cut = data[: len(data) * 2 // 3]
    assert 1 <= image_metadata.count_frames(cut, Image.open(io.BytesIO(data))) <= 9


# --- orientation, read from the bytes -------------------------------------------------------------------


def _with_chunk_after_idat(png: bytes, kind: bytes, body: bytes) -> bytes:
    end = png.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:end] + chunk + png[end:]


def exif_orientation(value: int, order: str = "<") -> bytes:
    marker = b"II" if order == "<" else b"MM"
    return marker + struct.pack(order + "HI", 42, 8) + struct.pack(order + "H", 1) + struct.pack(
        order + "HHIHH", 0x0112, 3, 1, value, 0) + struct.pack(order + "I", 0)


def test_exif_chunk_after_the_pixels_of_a_png_still_turns_it_upright():
    png = encode(quadrants(200, 100, marker=20), "PNG")
    prepared = prepare_upload("late-exif.png", _with_chunk_after_idat(png, b"eXIf", exif_orientation(6)))
    assert (prepared.width, prepared.height) == (100, 200)
    assert "rotated upright (EXIF orientation 6)" in prepared.notes


@pytest.mark.parametrize("order", ["<", ">"])
def test_exif_orientation_is_read_in_either_byte_order(order: str):
    data = encode(quadrants(200, 100, marker=20), exif=b"Exif\0\0" + exif_orientation(3, order))
    prepared = prepare_upload("turned.jpg", data)
    assert "rotated upright (EXIF orientation 3)" in prepared.notes
    assert prepared.pixels()[100 - 6, 200 - 6].min() > 235  # the stored top-left is now bottom-right


def test_xmp_orientation_is_used_when_there_is_no_exif_as_pillow_does():
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="8"/></x:xmpmeta>'
    data = encode(quadrants(200, 100), xmp=xmp)
    assert Image.open(io.BytesIO(data)).getexif().get(0x0112) == 8  # what Pillow itself says
    prepared = prepare_upload("xmp.jpg", data)
    assert (prepared.width, prepared.height) == (100, 200)
    assert "rotated upright (EXIF orientation 8)" in prepared.notes


def test_an_exif_block_that_is_not_exif_is_noted_and_treated_as_upright():
    data = encode(quadrants(200, 100), exif=b"Exif\0\0this is not a TIFF header")
    prepared = prepare_upload("bad-exif.jpg", data)
    assert (prepared.width, prepared.height) == (200, 100)
    assert "EXIF data unreadable; treated as upright" in prepared.notes


# --- each refusal gives one instruction -----------------------------------------------------------------


@pytest.mark.parametrize("name, data, instruction", [
    ("drawing.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "Export it as PNG"),
    ("photo.jxl", b"\xff\x0a" + bytes(30), "Export it as JPEG or PNG"),
    ("layers.psd", b"8BPS" + bytes(30), "Export it as JPEG or PNG"),
    ("page.jpg", b"<!DOCTYPE html><html><body>Not found</body></html>", "Copy image address"),
])
def test_an_unreadable_kind_of_file_gets_one_instruction(name: str, data: bytes, instruction: str):
    with pytest.raises(ImageError) as caught:
        prepare_upload(name, data)
    message = caught.value.message
    assert instruction in message
    assert "Use a JPEG" not in message and "not supported:" not in message
    assert message.count(". ") + message.count(": ") <= 2  # what it is, then what to do
