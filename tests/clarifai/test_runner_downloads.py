"""The runner downloads image URLs itself (top-level and first-level parts) and does not validate
images: a failed download or bytes that are no picture come back as the runner reports an exception
in a model's method (top-level FAILURE, no description, the exception text in details, no outputs),
not as a per-input 30002. The addresses point at a local web server on 127.0.0.1."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from clarifai.runners.models.model_servicer import ModelServicer
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc

from components import errors
from components.images.preparation import PrepareOptions, prepare_upload, prepare_url
from components.run.backend import Backend, PredictionCache, RunPlan, run_predictions
from components.settings import Credentials
from components.tasks import QWEN_VL, SEGMENT_ANYTHING, Task
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square
from tests.runner_models import new_runner

RED_SQUARE = png_bytes(scene_with_square())  # 400x300, a red square
NOT_A_PICTURE = b"<html><body>This page has moved.</body></html>"
BROKEN_BYTES = b"\x00\x81\xfe\xff no known picture format \x80"  # bytes that are not text either
FAILURE = 10020


class _Web(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        body = {"/square.png": RED_SQUARE, "/moved.jpg": NOT_A_PICTURE, "/broken.jpg": BROKEN_BYTES}.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "image/png" if body is RED_SQUARE else "text/html")
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Web)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def sam_call(url: str) -> service_pb2.PostModelOutputsRequest:
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=SEGMENT_ANYTHING.user_id, app_id=SEGMENT_ANYTHING.app_id),
        model_id=SEGMENT_ANYTHING.model_id,
    )
    item = request.inputs.add()
    item.data.metadata.update({"_method_name": "segment_anything"})
    item.data.parts.add(id="image").data.image.url = url
    return request


def test_the_runner_downloads_a_url_in_a_part_itself(client, credentials, fake_clarifai, web):
    info = client.get_model(SEGMENT_ANYTHING, credentials)
    [result] = client.call_method(SEGMENT_ANYTHING, info.method("segment_anything"), [{"image": f"{web}/square.png"}], credentials)
    assert result.ok and len(result.prediction.regions) == 2  # the square and the grey around it
    [call] = fake_clarifai.prediction_calls()
    assert call.request.inputs[0].data.parts[0].data.image.url == f"{web}/square.png"
    assert not call.request.inputs[0].data.parts[0].data.image.base64, "Clarifai was sent the address, not bytes"


@pytest.mark.parametrize(("path", "details"), [("/gone.jpg", "Image has no bytes"), ("/moved.jpg", "cannot identify image file")])
def test_a_failed_download_or_no_picture_is_answered_exactly_as_clarifais_servicer_answers(
    clarifai_server, fake_clarifai, web, path, details
):
    """The local server's answer beside the one of Clarifai's own ModelServicer (which downloads the
    URLs, then calls predict_wrapper) for the same request."""
    channel = ClarifaiChannel.get_insecure_grpc_channel(base="127.0.0.1", port=clarifai_server.port)
    answer = service_pb2_grpc.V2Stub(channel).PostModelOutputs(sam_call(web + path), metadata=(("authorization", f"Key {TEST_KEY}"),))
    channel.close()
    reference = ModelServicer(new_runner("segment-anything")).PostModelOutputs(sam_call(web + path))

    assert (answer.status.code, answer.status.description) == (reference.status.code, reference.status.description)
    assert (answer.status.code, answer.status.description, len(answer.outputs)) == (FAILURE, "", 0)
    assert answer.status.details.split(" <")[0] == reference.status.details.split(" <")[0]  # less the object's address
    assert answer.status.details.startswith(details)
    assert answer.status.stack_trace, "the runner's traceback comes with it"


@pytest.mark.parametrize(
    ("path", "details"),
    [
        ("/moved.jpg", "Incorrect padding"),  # a text page: Clarifai's Image takes its bytes for base64 text
        ("/broken.jpg", "cannot identify image file"),  # bytes that are no picture: the server behind the model fails
    ],
)
def test_an_address_serving_no_picture_fails_a_prompted_model_as_its_runner_does(
    client, credentials, fake_clarifai, web, path, details
):
    info = client.get_model(QWEN_VL, credentials)
    [result] = client.call_method(QWEN_VL, info.method("predict"), [{"prompt": "Describe it.", "image": web + path}], credentials)
    assert isinstance(result.error, errors.ImageUnreadableError)
    assert result.error.code == FAILURE and details in result.error.description
    assert "Clarifai could not fetch or read this image" in result.error.message


def test_the_other_images_keep_their_results_and_the_failed_one_is_named(client, fake_clarifai, monkeypatch):
    """Through a run, as a page makes it: addresses Clarifai fetches (the app's address rules refuse
    127.0.0.1 there, so these are made-up public ones the local server knows)."""
    moved = "https://images.example/photos/moved.jpg?size=large"
    monkeypatch.setitem(fake_clarifai.url_images, moved, NOT_A_PICTURE)
    fetched_by_clarifai = PrepareOptions(clarifai_fetches_urls=True)
    images = [
        prepare_upload("red-square.png", RED_SQUARE),
        prepare_url("https://images.example/photos/gone.jpg", fetched_by_clarifai),
        prepare_url(moved, fetched_by_clarifai),
        prepare_upload("another.png", png_bytes(scene_with_square(300, 200))),
    ]
    plan = RunPlan(Task.SEGMENTATION, Backend.CLARIFAI, SEGMENT_ANYTHING, credentials=Credentials(TEST_KEY, "sidebar"))
    outcome = run_predictions(plan, images, client=client, cache=PredictionCache())
    first, gone, no_picture, last = outcome.results
    assert first.ok and last.ok and first.prediction.regions and last.prediction.regions
    for result, name in ((gone, "https://images.example/photos/gone.jpg"), (no_picture, "https://images.example/photos/moved.jpg?…")):
        assert isinstance(result.error, errors.ImageUnreadableError)
        assert result.error.message.startswith(f"Clarifai could not fetch or read “{name}”")
        assert "could not process the request" not in str(result.error)
    assert "size=large" not in no_picture.error.message, "the address is shortened: no query"


def test_a_vlm_given_an_address_nobody_can_fetch_fails_as_vllm_refuses_it(client, credentials, fake_clarifai, web):
    """The runner's download fails and leaves the address in the message; the server behind the
    model (vLLM) then cannot fetch it either and refuses the request."""
    info = client.get_model(QWEN_VL, credentials)
    [result] = client.call_method(
        QWEN_VL, info.method("predict"), [{"prompt": "Describe it.", "image": web + "/gone.jpg"}], credentials
    )
    assert isinstance(result.error, errors.ImageUnreadableError)
    assert result.error.code == FAILURE and "Failed to fetch image" in result.error.description
    assert "Clarifai could not fetch or read this image" in result.error.message
