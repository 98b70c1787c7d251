"""Sending 128 images of about 300 KB to Clarifai: the client's chunked, concurrent calls against
one call per image and one 128-input call.

Run from the project root: python bench/bench_sending.py

The server is the local Clarifai of the tests (tests/fake_clarifai.py), a real gRPC server on
127.0.0.1, started in this process. Every way sends the same 128 distinct JPEGs to the same
classifier (the classification TaskSpec's default model), alternating, median of the repeats. Calls are
counted at the server. Three server behaviours:
  A. as in the tests: the server decodes and analyses every image (CPU in this process);
  B. the server answers at once: transport and (de)serialisation only;
  C. like B, but each call waits (sleeps, no CPU) 30 ms + 2 ms per input: a stand-in for the
     network round trip and the model's time, which loopback does not have.
A fourth row (B and C only) sends MAX_CONCURRENT_CALLS equal chunks at once through the client's
private `_predict_chunk`: a variant of the chunk plan, for comparison.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from clarifai_grpc.grpc.api import resources_pb2  # noqa: E402

from components.clarifai.client import ClarifaiClient  # noqa: E402
from components.clarifai.requests import TARGET_CHUNK_BYTES, input_sizes, plan_chunks  # noqa: E402
from components.clarifai.transport import MAX_CONCURRENT_CALLS, CallPolicy  # noqa: E402
from components.models import PredictSettings  # noqa: E402
from components.settings import Credentials, Endpoint  # noqa: E402
from components.tasks import Task  # noqa: E402
from tests.fake_clarifai import FakeClarifai, LocalClarifaiServer, RecordedCall, _status  # noqa: E402

COUNT = 128
SIDE = 700
KEY = "bench-sending-key"
MODEL = Task.CLASSIFICATION.spec.default_model
SETTINGS = PredictSettings()
CALL_LATENCY_S = 0.030
INPUT_LATENCY_S = 0.002
SCENARIOS = [  # (title, server computes, simulated latency, repeats)
    ("A. server computes its answers, as in the tests (decode + colour analysis, in this process)", True, False, 3),
    ("B. server answers at once: transport + serialisation only", False, False, 7),
    (f"C. as B, each call waits {CALL_LATENCY_S * 1000:.0f} ms + {INPUT_LATENCY_S * 1000:.0f} ms per input "
     "(stand-in for network + model time)", False, True, 3),
]


class BenchClarifai(FakeClarifai):
    """The tests' local Clarifai. With `compute=False` it answers without looking at the images
    and records calls without copying the requests; with `latency=True` each call sleeps."""

    compute = True
    latency = False

    def PostModelOutputs(self, request, context):
        if self.latency:
            time.sleep(CALL_LATENCY_S + INPUT_LATENCY_S * len(request.inputs))
        return super().PostModelOutputs(request, context)

    def _record(self, method, request, context) -> None:
        if self.compute:
            super()._record(method, request, context)
        else:
            with self._lock:
                self.calls.append(RecordedCall(method, None, {}))

    def _predict_one(self, model, item, config, fault):
        if self.compute:
            return super()._predict_one(model, item, config, fault)
        output = resources_pb2.Output(id=item.id)
        output.input.id = item.id
        output.status.CopyFrom(_status(10000))
        output.data.concepts.add(id="ai_landscape", name="landscape", value=0.99)
        return output


def noisy_jpegs(count: int = COUNT, side: int = SIDE) -> list[bytes]:
    """`count` distinct photo-like JPEGs (smooth colour fields + grain), quality 95, ~300 KB each."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    images = []
    for index in range(count):
        phase = index * 0.37
        base = np.stack(
            [
                120 + 80 * np.sin(x / 90 + phase),
                110 + 70 * np.cos(y / 70 - phase),
                100 + 60 * np.sin((x + y) / 120 + 2 * phase),
            ],
            axis=-1,
        )
        picture = np.clip(base + rng.normal(0, 14, (side, side, 3)), 0, 255).astype(np.uint8)
        ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        images.append(encoded.tobytes())
    return images


def even_chunks(client: ClarifaiClient, images: list[bytes], credentials: Credentials, parts: int) -> list:
    """`parts` equal chunks sent at once: one concurrent round (a variant, not the app's code)."""
    size = -(-len(images) // parts)
    chunks = [images[i : i + size] for i in range(0, len(images), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        answers = pool.map(lambda chunk: client._predict_chunk(MODEL, chunk, SETTINGS, credentials), chunks)
        return [result for answer in answers for result in answer]


def main() -> int:
    started_all = time.perf_counter()
    images = noisy_jpegs()
    sizes = [len(image) for image in images]
    servicer = BenchClarifai(keys=[KEY])
    server = LocalClarifaiServer(servicer).start()
    client = ClarifaiClient(Endpoint(server.address, insecure=True), CallPolicy(predict_timeout_s=120))
    credentials = Credentials(KEY, "sidebar")
    chunks = plan_chunks(input_sizes(images))
    concurrency = MAX_CONCURRENT_CALLS

    ways: dict[str, Callable[[], list]] = {
        "ours: predict(128), chunked + concurrent": lambda: client.predict(MODEL, images, SETTINGS, credentials),
        "one call per image (128 sequential)": lambda: [
            result for image in images for result in client.predict(MODEL, [image], SETTINGS, credentials)
        ],
        "one 128-input call": lambda: client._predict_chunk(MODEL, images, SETTINGS, credentials),
        f"variant: {concurrency} chunks at once (one round)": lambda: even_chunks(client, images, credentials, concurrency),
    }
    ours, per_image, single, variant = ways

    print(f"Sending {COUNT} distinct {SIDE}x{SIDE} JPEGs (q95), {statistics.mean(sizes) / 1024:.0f} KB each on average, "
          f"{sum(sizes) / 1e6:.1f} MB in all, to {MODEL.path}")
    print(f"ours plans {len(chunks)} call(s) of {[len(c) for c in chunks]} inputs "
          f"(TARGET_CHUNK_BYTES {TARGET_CHUNK_BYTES / 2**20:.0f} MiB), at most {concurrency} at once; "
          f"{os.cpu_count()} CPU(s)")
    print("NOTE: the local Clarifai server runs in this same process (same GIL, same CPUs): its work to")
    print("      receive, parse and answer is inside every number. In A it also decodes and analyses each")
    print("      image and copies each request to record it, which dominates A.")

    failed = False
    try:
        servicer.compute = False
        for way in (ours, single, variant):  # warm-up: channel, threads, code paths
            ways[way]()
        for title, compute, latency, repeats in SCENARIOS:
            servicer.compute, servicer.latency = compute, latency
            names = [name for name in ways if name != variant or not compute]  # A is slow: no variant
            calls: dict[str, int] = {}
            times: dict[str, list[float]] = {name: [] for name in names}
            for repeat in range(repeats):
                for name in names:
                    servicer.reset()
                    started = time.perf_counter()
                    results = ways[name]()
                    times[name].append((time.perf_counter() - started) * 1000)
                    if repeat == 0:  # count the calls and check the answers
                        calls[name] = len(servicer.calls_to("PostModelOutputs"))
                        good = sum(result.ok for result in results)
                        if good != COUNT:
                            failed = True
                            print(f"  !! {name}: {good} of {COUNT} results ok")
            servicer.reset()
            medians = {name: statistics.median(values) for name, values in times.items()}
            print()
            print(f"{title}; median of {repeats}")
            print(f"  {'way':<42} {'ms':>8} {'calls':>6} {'ms/image':>9}")
            for name in names:
                print(f"  {name:<42} {medians[name]:>8.0f} {calls[name]:>6} {medians[name] / COUNT:>9.2f}")
            print(f"  per-image / ours:   {medians[per_image] / medians[ours]:5.2f}x")
            print(f"  single-call / ours: {medians[single] / medians[ours]:5.2f}x")
            if variant in medians:
                print(f"  variant / ours:     {medians[variant] / medians[ours]:5.2f}x")
            if calls[ours] != len(chunks):
                failed = True
                print(f"  !! ours made {calls[ours]} calls, planned {len(chunks)}")
    finally:
        client.close()
        server.stop()
    print(f"total {time.perf_counter() - started_all:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
