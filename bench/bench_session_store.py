"""What a 128-photo session costs the reload store (components/session_store.py).

Run from the project root: python bench/bench_session_store.py

It makes the 128 phone photos bench_memory.py uploads (4000x3000 JPEGs, a quarter with EXIF
orientation 6), prepares them as the app does (shrunk to 1024 px), runs the local models of
the All tasks page on them (colours, objects, colour regions with their masks), and keeps the
session as the app keeps it after a run. It prints the store's estimate of the session's size,
the size of the same session pickled (a second measure of the bytes it holds), how long keeping
it takes, and how many such sessions the default store holds before forgetting the oldest.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from bench_memory import COUNT, GRAIN, HEIGHT, WIDTH, phone_photo  # noqa: E402

from components.images.preparation import prepare_upload  # noqa: E402
from components.run.backend import Backend, RunPlan, TaskRun, run_predictions  # noqa: E402
from components.session_store import DEFAULT_MAX_BYTES, SessionStore, kept_session  # noqa: E402
from components.tasks import Task  # noqa: E402
from components.ui.state import PageRun  # noqa: E402

MB = 1024 * 1024


def main() -> None:
    grain = np.random.default_rng(99).integers(0, 2 * GRAIN + 1, (HEIGHT + 64, WIDTH + 64, 3), dtype=np.uint8)
    started = time.perf_counter()
    images = [prepare_upload(f"IMG_{20240001 + i}.jpg", phone_photo(i, grain)) for i in range(COUNT)]
    print(f"{COUNT} photos made and prepared in {time.perf_counter() - started:.0f} s")
    sent = sum(len(image.data) for image in images)
    previews = sum(len(image.preview) for image in images)
    print(f"  bytes to send {sent / MB:.1f} MB, previews {previews / MB:.1f} MB")

    started = time.perf_counter()
    tasks = [task for task in Task if task.spec.local_model is not None]
    task_runs = [TaskRun(plan, run_predictions(plan, images)) for plan in (RunPlan(t, Backend.LOCAL) for t in tasks)]
    print(f"offline {', '.join(t.value for t in tasks)} in {time.perf_counter() - started:.0f} s")

    chosen = {image.digest: image for image in images}
    runs = {"all": PageRun(list(images), task_runs=task_runs)}
    runs.update({run.plan.task.value: PageRun(list(images), run.outcome) for run in task_runs})
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        kept = kept_session(chosen, runs, "all")
        timings.append(time.perf_counter() - started)
    pickled = len(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
    print(f"128-photo session, every offline page run: estimate {kept.size_bytes / MB:.1f} MB, "
          f"pickled {pickled / MB:.1f} MB (estimate / pickled {kept.size_bytes / pickled:.2f})")
    print(f"  keeping it (snapshot and size): median {sorted(timings)[2] * 1000:.0f} ms, done only when "
          "images or results changed")
    store = SessionStore()
    for number in range(100):
        store.keep(f"browser:{number}", kept)
        if len(store) <= number:
            break
    print(f"default store ({DEFAULT_MAX_BYTES / MB:.0f} MB) holds {len(store)} such session(s) at once "
          f"({store.size_bytes / MB:.0f} MB); older ones are forgotten first")


if __name__ == "__main__":
    main()
