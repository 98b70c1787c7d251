"""Captioning 128 images with a slow vision-language model: the client's fan-out (one request per
image, concurrent, under the rate limit) against one 128-input request.

Run from the project root: python bench/bench_fanout.py [--images N] [--seconds S] [--quick]
Defaults: 128 images, 1 s per answer. --quick is --images 32 --seconds 0.25 (about 15 s in all).

The server is the local Clarifai of the tests (tests/fake_clarifai.py, "today" mode), a real gRPC
server on 127.0.0.1, started in this process. Its model test-user/bench/slow-vlm is served by
Clarifai's own runner code (the `clarifai` package's `ModelClass.predict_wrapper`): each answer
takes `seconds_per_call`, requests are served concurrently (as a vLLM-backed runner does), and a
multi-input request is worked through one input after another (as the runner does).

Both ways send the same small JPEGs, each with the same prompt, to the same model version:
  ours:       ClarifaiClient.call_method, one request per image, at most CallPolicy.fan_out in
              flight, at most CallPolicy.requests_per_second started per second;
  one request: one PostModelOutputs carrying every image, each input's data built by
              components.clarifai.parts.call_data, as one batch request would be.
Request start times are those the server recorded on receiving each request; the busiest
1-second window counts the requests received within any second (Clarifai's default limit is 15/s
per key). The ratio is of wall times measured side by side in this run.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from clarifai_grpc.grpc.api import resources_pb2, service_pb2  # noqa: E402

from components.clarifai import parts
from components.clarifai.client import ClarifaiClient, RunCallbacks  # noqa: E402
from components.clarifai.replies import outputs_by_input, prediction_from_answer  # noqa: E402
from components.clarifai.requests import MAX_INPUTS_PER_CALL  # noqa: E402
from components.clarifai.transport import CLARIFAI_RATE_LIMIT, CallPolicy  # noqa: E402
from components.models import ModelRef  # noqa: E402
from components.run import answers
from components.settings import Credentials, Endpoint  # noqa: E402
from tests.fake_clarifai import FakeClarifai, LocalClarifaiServer  # noqa: E402

KEY = "bench-fanout-key"
MODEL = ModelRef("test-user", "bench", "slow-vlm")
PROMPT = "Write a one-sentence caption for this picture."
SIDE = 96
TARGET_RATIO = 8.0


def small_jpegs(count: int, side: int = SIDE) -> list[bytes]:
    """`count` distinct small JPEGs: a colour field with a square of another colour, moving with the index."""
    images = []
    for index in range(count):
        hue = int(index * 180 / max(count, 1))
        picture = np.full((side, side, 3), (hue, 160, 200), np.uint8)
        corner = index % (side // 2)
        picture[corner : corner + side // 3, corner : corner + side // 3] = ((hue + 90) % 180, 220, 240)
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(picture, cv2.COLOR_HSV2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        images.append(encoded.tobytes())
    return images


def busiest_second(times: list[float]) -> int:
    """The most requests received within any 1-second window."""
    ordered = sorted(times)
    return max((sum(1 for t in ordered if start <= t < start + 1.0) for start in ordered), default=0)


def most_in_flight(spans: list[tuple[float, float]]) -> int:
    """The most answers the model was working on at one moment, from (started, finished) times."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def one_request(client: ClarifaiClient, model: ModelRef, method, arguments, credentials: Credentials) -> int:
    """Sends every image in one PostModelOutputs request; the number of inputs answered."""
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
        model_id=model.model_id,
        version_id=model.version_id,
        inputs=[
            resources_pb2.Input(id=f"input-{i}", data=parts.call_data(method, values))
            for i, values in enumerate(arguments)
        ],
    )
    response = client._transport.call(
        client._transport.stub.PostModelOutputs, request, credentials, client.policy.predict_timeout_s, model=model
    )
    outputs = outputs_by_input(response, len(arguments))
    answered = 0
    for output in outputs.values():
        if output.status.code == 10000 and prediction_from_answer(output, method, model.path).caption:
            answered += 1
    return answered


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=MAX_INPUTS_PER_CALL, help="images to caption (1-128; default 128)")
    parser.add_argument("--seconds", type=float, default=1.0, help="the model's time per answer (default 1.0)")
    parser.add_argument("--quick", action="store_true", help="a short run: --images 32 --seconds 0.25")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.seconds = 32, 0.25
    if not 1 <= args.images <= MAX_INPUTS_PER_CALL:
        parser.error(f"--images must be between 1 and {MAX_INPUTS_PER_CALL} (one request's limit)")
    if args.seconds <= 0:
        parser.error("--seconds must be more than 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_all = time.perf_counter()
    images = small_jpegs(args.images)
    servicer = FakeClarifai(keys=[KEY], mode="today")
    server = LocalClarifaiServer(servicer).start()
    # Only the one big request needs a long deadline: its answers come after images × seconds.
    policy = replace(CallPolicy(), predict_timeout_s=max(60.0, 2 * args.images * args.seconds + 30))
    client = ClarifaiClient(Endpoint(server.address, insecure=True), policy)
    credentials = Credentials(KEY, "sidebar")

    def fresh_server() -> None:
        servicer.reset()  # forgets recorded calls and makes the runner model afresh
        servicer.runner(MODEL.short_path).seconds_per_call = args.seconds

    failed = False
    try:
        info = client.get_model(MODEL, credentials)
        method = info.method("predict")
        model = replace(MODEL, version_id=info.ref.version_id)
        arguments = [answers.call_arguments(method, image, PROMPT, {}) for image in images]

        print(f"Captioning {args.images} distinct {SIDE}x{SIDE} JPEGs ({sum(map(len, images)) / 1024:.0f} KB in all) "
              f"with {model.path}, {args.seconds:g} s per answer, served by Clarifai's runner code")
        print(f"ours: call_method, fan_out {policy.fan_out} in flight, {policy.requests_per_second:g} requests/s "
              f"per key (Clarifai's default limit {CLARIFAI_RATE_LIMIT:g}/s)")

        fresh_server()  # warm-up: channel, threads, the runner's code paths
        client.call_method(model, method, arguments[:2], credentials)

        fresh_server()
        first_answer: list[float] = []
        lock = threading.Lock()

        def progress(done: int) -> None:
            with lock:
                first_answer.append(time.perf_counter())

        started = time.perf_counter()
        results = client.call_method(model, method, arguments, credentials, callbacks=RunCallbacks(progress=progress))
        ours_s = time.perf_counter() - started
        ours_first_s = min(first_answer) - started if first_answer else float("nan")
        ours_good = sum(r.ok and bool(r.prediction.caption) for r in results)
        ours_received = [c.received_at for c in servicer.calls_to("PostModelOutputs")]
        ours_in_flight = most_in_flight(servicer.runner(MODEL.short_path).calls)

        fresh_server()
        started = time.perf_counter()
        single_good = one_request(client, model, method, arguments, credentials)
        single_s = time.perf_counter() - started
        single_received = [c.received_at for c in servicer.calls_to("PostModelOutputs")]
        single_in_flight = most_in_flight(servicer.runner(MODEL.short_path).calls)
    finally:
        client.close()
        server.stop()

    ratio = single_s / ours_s
    peak = busiest_second(ours_received)
    print()
    print(f"  {'way':<34} {'s':>7} {'requests':>9} {'busiest 1 s':>12} {'answering at once':>18} {'answered':>9}")
    print(f"  {'ours: one request per image':<34} {ours_s:>7.1f} {len(ours_received):>9} {peak:>12} "
          f"{ours_in_flight:>18} {ours_good:>9}")
    print(f"  {f'one {args.images}-input request':<34} {single_s:>7.1f} {len(single_received):>9} "
          f"{busiest_second(single_received):>12} {single_in_flight:>18} {single_good:>9}")
    print(f"  ours' first answer after {ours_first_s:.1f} s; the single request's answers all come at the end")
    print(f"  one request / ours: {ratio:.1f}x faster "
          f"(target >= {TARGET_RATIO:g}x at 128 images, 1 s each: {'met' if ratio >= TARGET_RATIO else 'MISSED'})")
    print(f"  busiest second at the server: {peak} requests (target: never over {CLARIFAI_RATE_LIMIT:g}: "
          f"{'met' if peak <= CLARIFAI_RATE_LIMIT else 'MISSED'})")
    for name, good in (("ours", ours_good), ("one request", single_good)):
        if good != args.images:
            failed = True
            print(f"  !! {name}: {good} of {args.images} images captioned")
    if peak > CLARIFAI_RATE_LIMIT:
        failed = True
    print(f"total {time.perf_counter() - started_all:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
