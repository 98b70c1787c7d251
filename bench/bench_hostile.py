"""Hostile inputs: small files that decode to huge pictures, and a TIFF of 190,000 pages.

Run from the project root: python bench/bench_hostile.py [--only NAME ...] [--old-timeout S]

The files are generated here into a temporary folder (never committed). Each file is prepared
with `prepare_upload` in a fresh child process, which reports its peak resident memory growth
(VmHWM after the call minus VmRSS before it, with the high-water mark reset first) and the time
taken. A second child prepares the same file in one thread while another thread, a second
visitor, prepares a 64x64 JPEG: how long that small JPEG took is the stall one file causes
others. Both are measured for the current `components/images.py` and, side by side in the same
run, for the implementation at commit 9cd623b (loaded from `git show` as a module).
Targets: every file under 250 MB growth and 3 s, the many-page TIFF under 1 s, the small JPEG
within 0.5 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from components.errors import ImageError  # noqa: E402

OLD_COMMIT = "9cd623b"
SIDE = 9200  # 84.6 MP: just under Clarifai's 85 MP limit
PAGES = 190_000
GROWTH_TARGET_MB = 250
TIME_TARGET_S = 3.0
PAGES_TIME_TARGET_S = 1.0
SMALL_JPEG_TARGET_S = 0.5
SMALL_JPEG_START_DELAY_S = 0.15  # let the hostile file get going first


# --- the hostile files -------------------------------------------------------------------------


def _encoded(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **params)
    return buffer.getvalue()


def grey16_png() -> bytes:
    pixels = np.zeros((SIDE, SIDE), np.uint16)
    pixels[:64, :64] = 65535
    return cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()


def number_tiff(dtype: type) -> bytes:
    pixels = np.zeros((SIDE, SIDE), dtype)
    pixels[:64, :64] = 1000
    return _encoded(Image.fromarray(pixels), format="TIFF", compression="tiff_adobe_deflate")


def rgba_png() -> bytes:
    return _encoded(Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 0)), format="PNG", compress_level=9)


def _two_color_palette() -> Image.Image:
    image = Image.new("P", (SIDE, SIDE), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    return image


def transparent_gif() -> bytes:
    return _encoded(_two_color_palette(), format="GIF", transparency=0)


def palette_png_with_trns() -> bytes:
    return _encoded(_two_color_palette(), format="PNG", transparency=0, compress_level=9)


def many_page_tiff(pages: int = PAGES) -> bytes:
    """`pages` 1x1 grey pages, each an IFD of 8 entries plus its one byte of pixel data."""
    entries = 8
    ifd_size = 2 + entries * 12 + 4
    page_size = ifd_size + 2  # the pixel byte, padded to keep IFDs word-aligned
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    for page in range(pages):
        start = 8 + page * page_size
        pixel_at = start + ifd_size
        following = start + page_size if page + 1 < pages else 0
        tags = [
            (256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1),
            (262, 3, 1, 1), (273, 4, 1, pixel_at), (278, 3, 1, 1), (279, 4, 1, 1),
        ]
        out += struct.pack("<H", entries)
        for tag, kind, count, value in tags:
            out += struct.pack("<HHI", tag, kind, count)
            out += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<I", following) + bytes([page % 256, 0])
    return bytes(out)


def small_jpeg() -> bytes:
    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[:32] = (200, 40, 40)
    pixels[32:] = (40, 40, 200)
    return _encoded(Image.fromarray(pixels), format="JPEG", quality=90)


HOSTILE_FILES = {
    "grey16.png": ("9200x9200 16-bit grey PNG", grey16_png),
    "float32.tif": ("9200x9200 float32 TIFF", lambda: number_tiff(np.float32)),
    "int32.tif": ("9200x9200 int32 TIFF", lambda: number_tiff(np.int32)),
    "rgba.png": ("9200x9200 RGBA PNG", rgba_png),
    "transparent.gif": ("9200x9200 transparent GIF", transparent_gif),
    "palette-trns.png": ("9200x9200 palette PNG with tRNS", palette_png_with_trns),
    "pages.tif": (f"{PAGES:,} pages of 1x1 TIFF", many_page_tiff),
}


# --- one measurement, in a child process ---------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _load_images_module(which: str, old_source: Path | None):
    if which == "new":
        from components.images import preparation as images
        return images
    spec = importlib.util.spec_from_file_location("images_at_" + OLD_COMMIT, old_source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def child(which: str, path: Path, old_source: Path | None, with_small_jpeg: bool) -> dict:
    images = _load_images_module(which, old_source)
    data = path.read_bytes()
    small = small_jpeg()
    images.prepare_upload("warm-up.jpg", small)  # imports and first-call costs out of the way

    outcome: dict = {}

    def prepare_hostile() -> None:
        started = time.perf_counter()
        try:
            prepared = images.prepare_upload(path.name, data)
            outcome["result"] = f"{prepared.width}x{prepared.height} {prepared.mime}; " + "; ".join(prepared.notes)
        except ImageError as error:  # a refusal is a result too
            outcome["result"] = f"refused: {error.message}"
        outcome["seconds"] = time.perf_counter() - started

    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    rss_before = _status_kb("VmRSS")
    worker = threading.Thread(target=prepare_hostile)
    worker.start()
    if with_small_jpeg:
        time.sleep(SMALL_JPEG_START_DELAY_S)
        started = time.perf_counter()
        images.prepare_upload("other-visitor.jpg", small)
        outcome["small_jpeg_seconds"] = time.perf_counter() - started
        outcome["hostile_still_running"] = worker.is_alive()
    worker.join()
    outcome["growth_mb"] = (_status_kb("VmHWM") - rss_before) / 1024
    return outcome


@dataclass
class Measured:
    growth_mb: float | None = None
    seconds: float | None = None
    small_jpeg_seconds: float | None = None
    result: str = ""
    timed_out: bool = False


def measure(which: str, path: Path, old_source: Path, with_small_jpeg: bool, timeout: float) -> dict:
    command = [sys.executable, __file__, "--child", which, str(path), str(old_source)]
    if with_small_jpeg:
        command.append("--with-small-jpeg")
    try:
        done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timed_out": True}
    if done.returncode != 0:
        return {"result": f"child failed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the table -----------------------------------------------------------------------------------


def _cell(value: float | None, unit: str, timed_out: bool, timeout: float) -> str:
    if timed_out:
        return f"> {timeout:.0f} s (stopped)"
    if value is None:
        return "?"
    if unit == "ms":
        return f"{value * 1000:,.0f} ms"
    return f"{value:,.2f} s" if unit == "s" else f"{value:,.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("WHICH", "FILE", "OLD_SOURCE"))
    parser.add_argument("--with-small-jpeg", action="store_true")
    parser.add_argument("--only", nargs="*", default=[], help="file names to run (default: all)")
    parser.add_argument("--old-timeout", type=float, default=60.0, help="seconds before the old code is stopped")
    parser.add_argument("--skip-old", action="store_true", help="measure only the current code")
    arguments = parser.parse_args()
    if arguments.child:
        which, file, old_source = arguments.child
        print(json.dumps(child(which, Path(file), Path(old_source), arguments.with_small_jpeg)))
        return 0

    names = [name for name in HOSTILE_FILES if not arguments.only or name in arguments.only]
    failures = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        folder_path = Path(folder)
        old_source = folder_path / "images_old.py"
        old_source.write_text(
            subprocess.run(["git", "show", f"{OLD_COMMIT}:components/images.py"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, check=True).stdout
        )
        print(f"{'file':<18} {'size':>9}  {'code':<5} {'peak growth':>12} {'time':>10} "
              f"{'64x64 JPEG meanwhile':>21}  result")
        for name in names:
            _, make = HOSTILE_FILES[name]
            path = folder_path / name
            path.write_bytes(make())
            size = f"{path.stat().st_size / 1024:,.0f} KB"
            time_target = PAGES_TIME_TARGET_S if name == "pages.tif" else TIME_TARGET_S
            runs = [("old", arguments.old_timeout)] * (not arguments.skip_old) + [("new", 120.0)]
            for which, timeout in runs:
                alone = measure(which, path, old_source, with_small_jpeg=False, timeout=timeout)
                shared = measure(which, path, old_source, with_small_jpeg=True, timeout=timeout)
                timed_out = alone.get("timed_out", False)
                growth = _cell(alone.get("growth_mb"), "MB", timed_out, timeout)
                seconds = _cell(alone.get("seconds"), "s", timed_out, timeout)
                small = _cell(shared.get("small_jpeg_seconds"), "ms", shared.get("timed_out", False), timeout)
                first = which == runs[0][0]
                print(f"{name if first else '':<18} {size if first else '':>9}  {which:<5} "
                      f"{growth:>12} {seconds:>10} {small:>21}  {alone.get('result', '')[:70]}", flush=True)
                if which == "new":
                    met = (not timed_out and alone.get("growth_mb", 1e9) < GROWTH_TARGET_MB
                           and alone.get("seconds", 1e9) < time_target
                           and shared.get("small_jpeg_seconds", 1e9) < SMALL_JPEG_TARGET_S)
                    if not met:
                        failures.append(name)
            path.unlink()
    print()
    for name in names:
        print(f"{name:<18} {HOSTILE_FILES[name][0]}")
    print(f"\ntargets: growth < {GROWTH_TARGET_MB} MB and time < {TIME_TARGET_S:.0f} s per file "
          f"(< {PAGES_TIME_TARGET_S:.0f} s for pages.tif); another visitor's 64x64 JPEG within "
          f"{SMALL_JPEG_TARGET_S} s while a hostile file is being prepared")
    print("all targets met" if not failures else f"targets missed by: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
