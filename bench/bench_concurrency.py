"""Many visitors predicting at once: the app's peak memory and each visitor's time to a result.

Run from the project root: python bench/bench_concurrency.py [--sessions 10 20] [--backend local clarifai]
                                                          [--photos 4]

It starts `streamlit run streamlit_app.py` (as bench_memory.py does) and opens N sessions at once
in one headless Chromium, each in its own browser context (its own Streamlit session). Every
session opens All tasks, uploads its own phone-size photos (4000x3000 JPEGs, distinct per session
so no cache is shared), waits until they are prepared, and presses Predict; all sessions do each
step together. With `clarifai` the app has a key and calls the local Clarifai server
(tests/fake_clarifai.py, in this process, so its memory is not counted); with `local` it has no
key and runs the local OpenCV models. Printed per run: the app's peak resident memory (VmHWM
of its process tree), its memory after, and per session the seconds from Predict to the results
(median and slowest), how many sessions got results and how many showed an error.
Target: peak under 600 MB with every session answered.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from bench_memory import GRAIN, HEIGHT, WIDTH, RssSampler, phone_photo, tree_kb  # noqa: E402

from components.text import plural  # noqa: E402
from tests.app_process import CHROMIUM, CHROMIUM_ARGS, UPLOAD_INPUT, start_app, stop_app  # noqa: E402
from tests.fake_clarifai import FakeClarifai, LocalClarifaiServer  # noqa: E402

TARGET_MB = 600
KEY = "pat-bench-concurrency-5b7e0c1d2a3f4e6b8c9d0a1b2c3d4e5f"
STEP_TIMEOUT_MS = 10 * 60 * 1000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


@dataclass
class SessionOutcome:
    seconds: float  # from pressing Predict to the results drawn
    answered: bool
    errors: int  # error boxes on the page
    first_error: str = ""


def write_photos(folder: Path, sessions: int, per_session: int, side: int | None) -> list[list[Path]]:
    grain = np.random.default_rng(7).integers(0, 2 * GRAIN + 1, (HEIGHT + 64, WIDTH + 64, 3), dtype=np.uint8)
    batches = []
    for session in range(sessions):
        paths = []
        for index in range(per_session):
            path = folder / f"s{session:02d}_IMG_{index:04d}.jpg"
            data = phone_photo(1000 + session * per_session + index, grain)
            if side:  # as a browser that shrinks photos before sending would send them
                picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                scale = side / max(picture.shape[:2])
                picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
            path.write_bytes(data)
            paths.append(path)
        batches.append(paths)
    return batches


async def _settle(page) -> None:
    await page.wait_for_selector(IDLE, timeout=STEP_TIMEOUT_MS)
    await page.wait_for_timeout(400)
    await page.wait_for_selector(IDLE, timeout=STEP_TIMEOUT_MS)


async def _one_session(browser, url: str, photos: list[Path], ready: asyncio.Barrier, sampler: RssSampler) -> SessionOutcome:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/All_tasks", timeout=STEP_TIMEOUT_MS)
        await _settle(page)
        await ready.wait()  # every session uploads together
        sampler.step = "upload + prepare"
        await page.locator(UPLOAD_INPUT).set_input_files(
            [str(p) for p in photos], timeout=STEP_TIMEOUT_MS
        )
        await page.get_by_text(f"{plural(len(photos), 'image')} chosen").wait_for(timeout=STEP_TIMEOUT_MS)
        await _settle(page)
        await ready.wait()  # every session presses Predict together
        sampler.step = "predict"
        started = time.perf_counter()
        await page.get_by_role("button", name=re.compile(rf"^Predict {len(photos)} images")).click()
        answered = True
        try:
            await page.get_by_role("heading", name="Results").first.wait_for(timeout=STEP_TIMEOUT_MS)
            await _settle(page)
        except Exception:
            answered = False
        seconds = time.perf_counter() - started
        boxes = page.locator('[data-testid="stAlertContentError"], [data-testid="stException"]')
        errors = await boxes.count()
        first_error = (await boxes.first.inner_text())[:200] if errors else ""
        return SessionOutcome(seconds, answered, errors, first_error)
    finally:
        await context.close()


async def _drive(url: str, batches: list[list[Path]], sampler: RssSampler) -> list[SessionOutcome]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ready = asyncio.Barrier(len(batches))
            return list(await asyncio.gather(*(_one_session(browser, url, photos, ready, sampler) for photos in batches)))
        finally:
            await browser.close()


def run_once(backend: str, batches: list[list[Path]], folder: Path) -> bool:
    server = None
    env = {"CLARIFAI_PAT": ""}
    if backend == "clarifai":
        server = LocalClarifaiServer(FakeClarifai(keys=[KEY], mode="today")).start()
        env = {"CLARIFAI_GRPC_BASE": server.address, "CLARIFAI_GRPC_INSECURE": "true", "CLARIFAI_PAT": KEY}
    process, url = start_app(env, folder / f"streamlit-{backend}-{len(batches)}.log")
    sampler = RssSampler(process.pid)
    sampler.step = "open the page"
    sampler.start()
    try:
        before = tree_kb(process.pid, "VmRSS") / 1024
        started = time.perf_counter()
        outcomes = asyncio.run(_drive(url, batches, sampler))
        wall = time.perf_counter() - started
        peak = tree_kb(process.pid, "VmHWM") / 1024
        after = tree_kb(process.pid, "VmRSS") / 1024
    finally:
        sampler.stop()
        stop_app(process)
        if server is not None:
            server.stop()
    times = [o.seconds for o in outcomes if o.answered]
    answered = sum(o.answered for o in outcomes)
    errors = sum(o.errors for o in outcomes)
    ok = peak <= TARGET_MB and answered == len(outcomes)
    print(
        f"{'PASS' if ok else 'FAIL'}: {len(batches):>2} sessions, {backend:<8} "
        f"{plural(len(batches[0]), 'photo')} each: peak {peak:.0f} MB (started at {before:.0f}, {after:.0f} after); "
        f"{answered}/{len(outcomes)} answered, {errors} error box(es); Predict to results: "
        + (f"median {statistics.median(times):.1f} s, slowest {max(times):.1f} s" if times else "none")
        + f"; whole run {wall:.0f} s"
    )
    for message in sorted({o.first_error for o in outcomes if o.first_error}):
        print(f"    error shown: {message!r}")
    print("    highest VmRSS sampled: " + ", ".join(f"{step} {kb / 1024:.0f} MB" for step, kb in sampler.peaks.items()))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--backend", nargs="+", default=["local", "clarifai"], choices=["local", "clarifai"])
    parser.add_argument("--photos", type=int, default=4, help="photos per session")
    parser.add_argument("--side", type=int, default=0, help="shrink the photos to this long side before upload (0: 4000x3000 originals)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"FAIL: Chromium not found at {CHROMIUM} (apt-get install chromium)")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    try:
        batches = write_photos(folder, max(args.sessions), args.photos, args.side or None)
        sizes = [path.stat().st_size for batch in batches for path in batch]
        print(f"photos: {'originals 4000x3000' if not args.side else f'shrunk to {args.side} px a side'}, "
              f"{sum(sizes) / len(sizes) / 1e6:.2f} MB each on average")
        print(f"target: peak under {TARGET_MB} MB, every session answered")
        results = [run_once(backend, batches[:n], folder) for backend in args.backend for n in args.sessions]
        return 0 if all(results) else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
