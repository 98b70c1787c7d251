"""Peak memory of the running app after a batch of 128 phone photos, against Community Cloud's
smallest tier (690 MB).

Run from the project root: python bench/bench_memory.py [--page All_tasks|Detection|...]

It starts `streamlit run streamlit_app.py` (as tests/browser/test_app.py does) pointed at the local
Clarifai server (tests/fake_clarifai.py, in this process, so its memory is not counted), drives
it in headless Chromium (/usr/bin/chromium) with Playwright: open the page, upload 128 distinct
4000x3000 JPEGs of 2-4 MB (a quarter of them with EXIF orientation 6, as phones write them),
wait for "128 images chosen", press "Predict 128 images", wait for "Results". It reads the app
process's peak resident memory (VmHWM in /proc/<pid>/status, plus any children's) and samples
VmRSS every 0.2 s to say in which step the peak came.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from components.text import plural  # noqa: E402
from tests.app_process import CHROMIUM, CHROMIUM_ARGS, UPLOAD_INPUT, settle, start_app, stop_app  # noqa: E402
from tests.fake_clarifai import FakeClarifai, LocalClarifaiServer  # noqa: E402

COUNT = 128
WIDTH, HEIGHT = 4000, 3000
GRAIN = 6  # +- grey levels of sensor-like grain; sets the file size
QUALITY = 94
LIMIT_MB = 690  # Streamlit Community Cloud's smallest memory tier
KEY = "pat-bench-memory-0f3b9c2d7e4a4b1c8d6e5f7a9b0c1d2e"
STEP_TIMEOUT_MS = 15 * 60 * 1000


# --- photos -----------------------------------------------------------------------------------


def _exif_orientation_6() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    exif[0x010F] = "BenchPhone"
    exif[0x0110] = "Model 1"
    return exif.tobytes()


def phone_photo(index: int, grain: np.ndarray) -> bytes:
    """A distinct photo-like 4000x3000 JPEG: smooth light and colour, blobs, sharp lines, grain."""
    rng = np.random.default_rng(index)
    h, w = 150, 200
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 6.28, 4)
    scale = rng.uniform(20, 80, 5)
    small = np.stack(
        [
            120 + 90 * np.sin(x / scale[0] + phase[0]) * np.cos(y / scale[1] + phase[1]),
            110 + 80 * np.cos(x / scale[2] + y / scale[3] + phase[2]),
            100 + 70 * np.sin((x - y) / scale[4] + phase[3]),
        ],
        axis=-1,
    )
    small = np.clip(small + rng.normal(0, 15, (h, w, 3)), 0, 255).astype(np.uint8)
    for _ in range(12):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(5, 40)), int(rng.integers(5, 40)))
        cv2.ellipse(small, centre, axes, float(rng.uniform(0, 180)), 0, 360, color, -1)
    picture = cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    for _ in range(25):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        start = (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT)))
        end = (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT)))
        cv2.line(picture, start, end, color, int(rng.integers(2, 12)), cv2.LINE_AA)
    dy, dx = (int(v) for v in rng.integers(0, 64, 2))
    picture = cv2.subtract(cv2.add(picture, grain[dy : dy + HEIGHT, dx : dx + WIDTH]), GRAIN)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    assert ok
    data = encoded.tobytes()
    if index % 4 == 1:  # an APP1 Exif segment right after the start-of-image marker
        exif = _exif_orientation_6()
        data = data[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + data[2:]
    return data


def write_photos(folder: Path) -> list[Path]:
    grain = np.random.default_rng(99).integers(0, 2 * GRAIN + 1, (HEIGHT + 64, WIDTH + 64, 3), dtype=np.uint8)
    paths = []
    for index in range(COUNT):
        path = folder / f"IMG_{20240001 + index}.jpg"
        path.write_bytes(phone_photo(index, grain))
        paths.append(path)
    return paths


# --- memory of a process tree ---------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_kb(root: int, field: str) -> int:
    return sum(_status_kb(pid, field) for pid in process_tree(root))


class RssSampler(threading.Thread):
    """Samples the tree's VmRSS; remembers the highest value seen in each named step."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.step = "start"
        self.peaks: dict[str, int] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            rss = tree_kb(self.pid, "VmRSS")
            self.peaks[self.step] = max(self.peaks.get(self.step, 0), rss)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


# --- the app --------------------------------------------------------------------------------


def held_by_streamlit(url: str) -> dict[str, int]:
    """Bytes Streamlit says it holds, by kind (its /_stcore/metrics cache_memory_bytes family):
    uploaded files kept by the upload manager, st.cache_* entries, media files."""
    try:
        text = urllib.request.urlopen(f"{url}/_stcore/metrics?families=cache_memory_bytes", timeout=30).read().decode()
    except OSError:
        return {}
    held: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r'cache_memory_bytes\{cache_type="([^"]*)"[^}]*\}\s+(\d+)', line)
        # st_session_state is an item count unless server.enableExpensiveMemoryStats is on: left out.
        if match and match.group(1) != "st_session_state":
            held[match.group(1)] = held.get(match.group(1), 0) + int(match.group(2))
    return held


def mb(kb: int) -> float:
    return kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="All_tasks", help="page path: All_tasks (default), Detection, Classification, ...")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"FAIL: Chromium not found at {CHROMIUM} (apt-get install chromium)")
        return 2
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    server = process = sampler = None
    rows: list[tuple[str, float, int, int, dict]] = []  # step, seconds, VmRSS kB, VmHWM kB, held by Streamlit
    try:
        started = time.perf_counter()
        paths = write_photos(folder)
        sizes = [path.stat().st_size for path in paths]
        print(f"{COUNT} photos {WIDTH}x{HEIGHT} JPEG q{QUALITY}, {COUNT // 4} with EXIF orientation 6: "
              f"{min(sizes) / 1e6:.1f}–{max(sizes) / 1e6:.1f} MB each, {sum(sizes) / 1e6:.0f} MB in all "
              f"(made in {time.perf_counter() - started:.0f} s)")

        server = LocalClarifaiServer(FakeClarifai(keys=[KEY])).start()
        env = {"CLARIFAI_GRPC_BASE": server.address, "CLARIFAI_GRPC_INSECURE": "true", "CLARIFAI_PAT": KEY}
        process, url = start_app(env, folder / "streamlit.log")
        sampler = RssSampler(process.pid)
        sampler.start()

        def record(step: str, since: float) -> None:
            seconds = time.perf_counter() - since
            rss, hwm = tree_kb(process.pid, "VmRSS"), tree_kb(process.pid, "VmHWM")
            rows.append((step, seconds, rss, hwm, held_by_streamlit(url)))

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                step_started = time.perf_counter()
                page.goto(f"{url}/{args.page}", timeout=STEP_TIMEOUT_MS)
                settle(page, STEP_TIMEOUT_MS)
                record(f"open /{args.page}", step_started)

                sampler.step = "upload + prepare"
                step_started = time.perf_counter()
                dropzone = page.locator(UPLOAD_INPUT)
                dropzone.set_input_files([str(p) for p in paths], timeout=STEP_TIMEOUT_MS)
                page.get_by_text(f"{plural(COUNT, 'image')} chosen").wait_for(timeout=STEP_TIMEOUT_MS)
                settle(page, STEP_TIMEOUT_MS)
                record(f"upload {COUNT} + prepare", step_started)

                sampler.step = "predict + results"
                step_started = time.perf_counter()
                page.get_by_role("button", name=re.compile(rf"^Predict {COUNT} images")).click()
                page.get_by_role("heading", name="Results").wait_for(timeout=STEP_TIMEOUT_MS)
                settle(page, STEP_TIMEOUT_MS)
                record("predict + show results", step_started)
                calls = len(server.servicer.calls_to("PostModelOutputs"))
                summary = page.locator('[data-testid="stMain"]').inner_text()
                exceptions = page.locator('[data-testid="stException"]').count()

                sampler.step = "idle after"
                step_started = time.perf_counter()
                page.wait_for_timeout(3000)
                record("3 s later", step_started)
            finally:
                browser.close()

        with_results = re.findall(r"(\d+) with results", summary)
        print(f"app pid {process.pid} ({len(process_tree(process.pid))} process(es)); page /{args.page}; "
              f"{calls} PostModelOutputs call(s); 'N with results' per task: {with_results or 'none found'}"
              + (f"; {exceptions} exception box(es) on the page" if exceptions else ""))
        print()
        kinds = sorted({kind for *_, held in rows for kind in held})
        print("after each step: the app's resident memory, its peak so far, and what Streamlit reports holding, in MB")
        print(f"{'step':<26} {'s':>6} {'VmRSS':>7} {'VmHWM':>7}  " + " ".join(f"{kind:>{max(len(kind), 8)}}" for kind in kinds))
        for step, seconds, rss, hwm, held in rows:
            print(f"{step:<26} {seconds:>6.1f} {mb(rss):>7.0f} {mb(hwm):>7.0f}  "
                  + " ".join(f"{held.get(kind, 0) / 2**20:>{max(len(kind), 8)}.1f}" for kind in kinds))
        print("highest VmRSS sampled in each step (every 0.2 s): "
              + ", ".join(f"{step} {mb(kb):.0f} MB" for step, kb in sampler.peaks.items()))
        peak = rows[-1][3]
        uploads = rows[-1][4].get("UploadedFileManager", 0)
        if uploads:
            print(f"Streamlit's upload manager still holds {uploads / 2**20:.0f} MB of uploaded files "
                  f"({uploads / sum(sizes):.0%} of what was uploaded)")
        print()
        verdict = "PASS" if mb(peak) <= LIMIT_MB else "FAIL"
        print(f"{verdict}: peak RSS {mb(peak):.0f} MB (now {mb(rows[-1][2]):.0f} MB) against Community Cloud's "
              f"smallest tier, {LIMIT_MB} MB")
        return 0 if verdict == "PASS" and not exceptions else 1
    finally:  # every step guarded: the app process and the photos must go even if one fails
        if sampler is not None:
            try:
                sampler.stop()
            except Exception as error:
                print(f"!! sampler: {error!r}")
        if process is not None:
            stop_app(process)
            log = folder / "streamlit.log"
            if log.exists() and KEY in log.read_text(errors="replace"):
                print("!! the key appeared in the app's log")
        if server is not None:
            try:
                server.stop()
            except Exception as error:
                print(f"!! local Clarifai server: {error!r}")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
