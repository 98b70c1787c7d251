"""Moving the detection threshold slider on a 30-box result: the redraw it costs, and the
Clarifai calls it makes (there must be none).

Run from the project root: python bench/bench_slider.py

1. Redraw: `ui_results.draw_results(display_pixels(image), [(detection view, prediction)], settings)`,
   what the results fragment draws for each picture when the slider moves, on a 1024x768 picture
   with 30 boxes; median of repeats, for several thresholds. Warm = the display-size pixels are
   already in `display_pixels`' cache (a slider move); cold = decoded and resized first.
2. Calls: the Detection page under Streamlit's AppTest against the local Clarifai server (started
   in this process): upload the picture, Predict, then move the slider "detection_min_score"
   several times, counting PostModelOutputs calls at the server before and after. Under AppTest
   the whole script reruns on a slider move; in the browser only the results fragment does.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from components.images.preparation import PrepareOptions, prepare_upload  # noqa: E402
from components.results import Box, Concept, Prediction, Region  # noqa: E402
from components.run.backend import PREDICTION_CACHE  # noqa: E402
from components.tasks import Task  # noqa: E402
from components.ui import results as ui_results  # noqa: E402
from components.views import DisplaySettings, view_for  # noqa: E402
from tests.fake_clarifai import FakeClarifai, LocalClarifaiServer  # noqa: E402

WIDTH, HEIGHT = 1024, 768
COLUMNS, ROWS = 6, 5  # 30 shapes
REPEATS = 15
THRESHOLDS = [0.3, 0.5, 0.7, 0.9]
SLIDER_MOVES = [0.5, 0.7, 0.9, 0.95, 0.3, 0.6]
KEY = "bench-slider-key"
# Saturated colours (RGB) in the fake detector's hue bands, and the names it gives them.
COLORS = {
    "red": (230, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "purple": (130, 50, 170),
    "pink": (240, 90, 170),
}


def blobs_picture() -> tuple[bytes, list[tuple[str, Box]]]:
    """A grey 1024x768 JPEG with 30 separated saturated shapes (rectangles, ellipses, triangles),
    and the box and colour name of each."""
    picture = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)  # RGB
    cell_w, cell_h = WIDTH // COLUMNS, HEIGHT // ROWS
    names = list(COLORS)
    shapes = []
    for index in range(COLUMNS * ROWS):
        row, column = divmod(index, COLUMNS)
        x0, y0 = column * cell_w + 25, row * cell_h + 22
        x1, y1 = x0 + cell_w - 50, y0 + cell_h - 44
        name = names[index % len(names)]
        color = COLORS[name]
        kind = index % 3
        if kind == 0:
            cv2.rectangle(picture, (x0, y0), (x1, y1), color, -1)
        elif kind == 1:
            cv2.ellipse(picture, ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2), 0, 0, 360, color, -1)
        else:
            cv2.fillPoly(picture, [np.array([(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)], np.int32)], color)
        shapes.append((name, Box(y0 / HEIGHT, x0 / WIDTH, (y1 + 1) / HEIGHT, (x1 + 1) / WIDTH)))
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return encoded.tobytes(), shapes


def thirty_box_prediction(shapes: list[tuple[str, Box]]) -> Prediction:
    rng = np.random.default_rng(3)
    regions = tuple(
        Region((Concept(name, round(float(rng.uniform(0.3, 1.0)), 3), id=name),), box=box) for name, box in shapes
    )
    return Prediction(regions=regions, model_label="bench/detector")


def median_ms(func, repeats: int = REPEATS) -> float:
    func()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def annotated_display(image, prediction, threshold: float):
    """What the results fragment draws for one picture at a threshold."""
    settings = DisplaySettings(min_score=threshold)
    return ui_results.draw_results(ui_results.display_pixels(image), [(view_for(Task.DETECTION), prediction)], settings)


def measure_redraw(image, prediction) -> None:
    print(f"1. Redraw in the fragment: annotated_display on {image.width}x{image.height}, "
          f"{len(prediction.regions)} boxes; median of {REPEATS} (ms)")
    print(f"   {'min score':>9} {'boxes drawn':>12} {'warm':>8} {'cold':>8}")
    for threshold in THRESHOLDS:
        drawn = sum(r.top_concept.value >= threshold for r in prediction.regions)

        def cold(threshold=threshold):
            ui_results.display_pixels.cache_clear()
            annotated_display(image, prediction, threshold)

        cold_ms = median_ms(cold)
        ui_results.display_pixels(image)
        warm_ms = median_ms(lambda: annotated_display(image, prediction, threshold))
        print(f"   {threshold:>9.2f} {drawn:>12} {warm_ms:>8.2f} {cold_ms:>8.2f}")
    drawings = {
        "these 30 blobs": annotated_display(image, prediction, 0.3),
        "a photo-like 1024x768": annotated_display(photo_like(), prediction, 0.3),
    }
    try:  # then st.image turns the picture into a file for the browser
        from streamlit.elements.lib import image_utils
        from streamlit.elements.lib.layout_utils import LayoutConfig
    except ImportError as error:  # private modules may move between Streamlit versions
        print(f"   (st.image's encoding not measured: {error})")
        return
    layout = LayoutConfig(width="stretch")
    print("   then st.image sends each drawing to the browser (Streamlit's image_to_url, outside a runtime):")
    print(f"   {'drawing':<24} {'as an array':>22} {'as JPEG q90 (ours)':>22}")
    for label, picture in drawings.items():
        array_ms = median_ms(lambda: image_utils.image_to_url(picture, layout, False, "BGR", "auto", "bench"), 7)
        array_kb = len(image_utils._np_array_to_bytes(np.ascontiguousarray(picture[..., ::-1]), "auto")) / 1024

        def as_jpeg(picture=picture) -> bytes:
            data = ui_results.display_jpeg(picture)
            image_utils.image_to_url(data, layout, False, "RGB", "auto", "bench")
            return data

        jpeg_ms = median_ms(as_jpeg, 7)
        jpeg_kb = len(as_jpeg()) / 1024
        print(f"   {label:<24} {array_ms:>7.1f} ms {array_kb:>6.0f} KB    {jpeg_ms:>7.1f} ms {jpeg_kb:>6.0f} KB")
    print("   (Streamlit encodes an array as JPEG at quality 100; the results grid shows up to 8 pictures)")


def photo_like():
    """A 1024x768 prepared image with smooth colour and grain, for the encoding sizes."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = np.stack([120 + 80 * np.sin(x / 90), 110 + 70 * np.cos(y / 70), 100 + 60 * np.sin((x + y) / 120)], axis=-1)
    picture = np.clip(base + rng.normal(0, 6, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
    data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    return prepare_upload("photo-like.jpg", data, PrepareOptions())


def measure_apptest(data: bytes) -> bool:
    from streamlit.testing.v1 import AppTest

    servicer = FakeClarifai(keys=[KEY])
    server = LocalClarifaiServer(servicer).start()
    saved_env = {name: os.environ.get(name) for name in ("CLARIFAI_GRPC_BASE", "CLARIFAI_GRPC_INSECURE", "CLARIFAI_PAT")}
    os.environ.update(CLARIFAI_GRPC_BASE=server.address, CLARIFAI_GRPC_INSECURE="true")
    os.environ.pop("CLARIFAI_PAT", None)
    PREDICTION_CACHE.clear()
    try:
        at = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=120)
        at.secrets["CLARIFAI_PAT"] = KEY
        at.run()
        at.switch_page("app_pages/2_Detection.py").run()
        at.sidebar.number_input(key="max_concepts").set_value(50).run()  # the fake returns 20 by default
        at.file_uploader[0].set_value([("thirty-blobs.jpg", data, "image/jpeg")])
        at.run()
        started = time.perf_counter()
        at.button(key="predict").click().run()
        predict_ms = (time.perf_counter() - started) * 1000
        if at.exception:
            print("   !! the page raised:", [e.value for e in at.exception])
            return False
        boxes_found = len(at.dataframe[-1].value) if at.dataframe else 0
        predict_calls = len(servicer.calls_to("PostModelOutputs"))
        before = {"PostModelOutputs": predict_calls, "all": len(servicer.calls)}

        baseline = []
        for _ in range(3):
            started = time.perf_counter()
            at.run()
            baseline.append((time.perf_counter() - started) * 1000)
        moves = []
        shown = []
        for threshold in SLIDER_MOVES:
            started = time.perf_counter()
            at.slider(key="detection_min_score").set_value(threshold).run()
            moves.append((time.perf_counter() - started) * 1000)
            caption = next((c.value for c in at.caption if re.search(r"\d+ box(es)? shown", c.value)), "?")
            shown.append(f"{threshold:.2f}: {caption}")
        new_predicts = len(servicer.calls_to("PostModelOutputs")) - before["PostModelOutputs"]
        new_all = len(servicer.calls) - before["all"]
        if at.exception:
            print("   !! the page raised:", [e.value for e in at.exception])
    finally:
        from components.clarifai.client import get_client
        from components.settings import Endpoint

        get_client(Endpoint(server.address, insecure=True)).close()  # the app's cached client
        server.stop()
        PREDICTION_CACHE.clear()
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    print("2. Detection page under AppTest, local Clarifai server in this process")
    print(f"   Predict: {predict_calls} PostModelOutputs call(s), {boxes_found} boxes in the table, {predict_ms:.0f} ms")
    for line in shown:
        print(f"   slider {line}")
    print(f"   AppTest rerun, nothing changed:    median {statistics.median(baseline):7.0f} ms")
    print(f"   AppTest rerun after a slider move: median {statistics.median(moves):7.0f} ms "
          f"(whole script; the browser reruns only the fragment)")
    print(f"   Clarifai calls during {len(SLIDER_MOVES)} slider moves: {new_predicts} PostModelOutputs, {new_all} in all")
    passed = new_predicts == 0 and new_all == 0 and boxes_found >= 25
    if boxes_found < 25:
        print(f"   !! the fake detector found only {boxes_found} boxes")
    return passed


def main() -> int:
    # Streamlit warns about calls made outside a script run (the bench's own); they are harmless.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    data, shapes = blobs_picture()
    image = prepare_upload("thirty-blobs.jpg", data, PrepareOptions())
    prediction = thirty_box_prediction(shapes)
    print(f"picture: {image.width}x{image.height} JPEG, {len(data) / 1024:.0f} KB given, {len(image.data) / 1024:.0f} KB prepared; "
          f"OpenCV {cv2.__version__}, {os.cpu_count()} CPU(s)")
    measure_redraw(image, prediction)
    passed = measure_apptest(data)
    print(f"{'PASS' if passed else 'FAIL'}: 0 Clarifai calls when the slider moves")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
