"""The client against the local Clarifai server, through real gRPC: old-style models (batches of
images in, outputs[].data out), with the server answering as the seed page knew Clarifai. The new-style
protocol is in tests/clarifai/test_today.py."""

from __future__ import annotations

import io
import logging
import threading
import time

import cv2
import grpc
import numpy as np
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from google.protobuf import text_format
from PIL import Image

from components import errors
from components.clarifai.client import ClarifaiClient, get_client
from components.clarifai.replies import decode_mask, prediction_from_output
from components.clarifai.requests import plan_chunks
from components.clarifai.transport import CallPolicy
from components.models import ModelRef, PredictSettings
from components.settings import Credentials, Endpoint
from components.tasks import BLIP_CAPTIONS, GENERAL_DETECTION, GENERAL_RECOGNITION, GENERAL_SEGMENTATION
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.fake_clarifai import Fault
from tests.helpers import jpeg_bytes, png_bytes, scene_with_square

CLASSIFIER = GENERAL_RECOGNITION
DETECTOR = GENERAL_DETECTION
SEGMENTER = GENERAL_SEGMENTATION
CAPTIONER = BLIP_CAPTIONS
SETTINGS = PredictSettings()
pytestmark = pytest.mark.usefixtures("classic_clarifai")


def sized_jpegs(count: int) -> list[bytes]:
    """Small JPEGs whose widths encode their position (the captioner reports the size)."""
    return [jpeg_bytes(16 + index, 12, quality=50) for index in range(count)]


# --- predictions ---------------------------------------------------------------------------------


def test_classification_returns_concepts_sorted_by_the_model(client, credentials):
    [result] = client.predict(CLASSIFIER, [jpeg_bytes(300, 200, (220, 30, 30))], SETTINGS, credentials)
    assert result.ok
    names = [c.name for c in result.prediction.concepts]
    assert names[0] == "landscape"
    assert "red" in names
    assert result.prediction.model_label == CLASSIFIER.path
    assert result.prediction.raw["status"]["code"] == "SUCCESS"


def test_each_call_carries_the_key_in_metadata_and_the_model_owner_as_app(client, credentials, fake_clarifai):
    client.predict(DETECTOR, [jpeg_bytes(64, 64)], SETTINGS, credentials)
    [call] = fake_clarifai.calls_to("PostModelOutputs")
    assert call.metadata["authorization"] == f"Key {TEST_KEY}"
    assert (call.request.user_app_id.user_id, call.request.user_app_id.app_id) == ("clarifai", "main")
    assert (call.request.model_id, call.request.version_id) == (DETECTOR.model_id, "")  # no version unless named


def test_settings_become_the_output_config_and_are_honoured(client, credentials, fake_clarifai):
    image = jpeg_bytes(300, 200, (220, 30, 30))
    [few] = client.predict(CLASSIFIER, [image], PredictSettings(max_concepts=2), credentials)
    assert len(few.prediction.concepts) == 2
    [selected] = client.predict(CLASSIFIER, [image], PredictSettings(select_concepts=("red", "portrait")), credentials)
    assert {c.name for c in selected.prediction.concepts} == {"red"}
    [high] = client.predict(CLASSIFIER, [image], PredictSettings(min_value=0.98), credentials)
    assert [c.name for c in high.prediction.concepts] == ["landscape"]

    config = fake_clarifai.calls_to("PostModelOutputs")[-1].request.model.model_version.output_info.output_config
    assert config.min_value == pytest.approx(0.98)
    first = fake_clarifai.calls_to("PostModelOutputs")[1].request.model.model_version.output_info.output_config
    assert [c.name for c in first.select_concepts] == ["red", "portrait"]


def test_server_also_accepts_output_info_directly_on_the_model(clarifai_server, fake_clarifai):
    """The docs' older request form: Model.output_info rather than Model.model_version.output_info."""
    from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel

    channel = ClarifaiChannel.get_insecure_grpc_channel(base="127.0.0.1", port=clarifai_server.port)
    stub = service_pb2_grpc.V2Stub(channel)
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id="clarifai", app_id="main"),
        model_id=CLASSIFIER.model_id,
        inputs=[resources_pb2.Input(data=resources_pb2.Data(image=resources_pb2.Image(base64=jpeg_bytes(50, 40))))],
        model=resources_pb2.Model(output_info=resources_pb2.OutputInfo(output_config=resources_pb2.OutputConfig(max_concepts=1))),
    )
    response = stub.PostModelOutputs(request, metadata=(("authorization", f"Key {TEST_KEY}"),), timeout=5)
    channel.close()
    assert response.status.code == 10000
    assert len(response.outputs[0].data.concepts) == 1


def test_detection_boxes_are_fractions_of_the_image_sent(client, credentials):
    box = (0.1, 0.2, 0.5, 0.6)
    [result] = client.predict(DETECTOR, [png_bytes(scene_with_square(box=box))], SETTINGS, credentials)
    [region] = result.prediction.regions
    assert region.top_concept.name == "red"
    found = region.box
    assert (found.top, found.left, found.bottom, found.right) == pytest.approx(box, abs=0.02)


def test_segmentation_masks_decode_and_coverage_sums_to_one(client, credentials, fake_clarifai):
    image = scene_with_square(box=(0.0, 0.0, 1.0, 0.25))  # a quarter red, the rest grey
    for style in ("gray255", "ones", "rgb", "rgba"):
        fake_clarifai.mask_style = style
        [result] = client.predict(SEGMENTER, [png_bytes(image)], SETTINGS, credentials)
        regions = {r.top_concept.name: r for r in result.prediction.regions}
        assert set(regions) == {"red", "gray"}, style
        assert sum(r.top_concept.value for r in regions.values()) == pytest.approx(1.0)
        red = regions["red"]
        assert red.box is None  # Clarifai's all-zero box means "no box"
        assert red.mask.dtype == bool
        assert red.mask.shape != image.shape[:2]  # masks come at another size than the input
        assert red.mask.mean() == pytest.approx(0.25, abs=0.02)
        assert red.mask[:, 0].all() and not red.mask[:, -1].any()


def test_caption_is_the_text_of_the_output(client, credentials):
    [result] = client.predict(CAPTIONER, [jpeg_bytes(320, 240, (40, 80, 220))], SETTINGS, credentials)
    assert result.prediction.caption.startswith("a landscape picture (320x240), mostly blue")


def test_a_url_is_sent_for_clarifai_to_fetch(client, credentials, fake_clarifai):
    url = "https://samples.clarifai.com/metro-north.jpg"
    if url not in fake_clarifai.url_images:
        pytest.skip("shared test data not found")
    [result] = client.predict(CAPTIONER, [url], SETTINGS, credentials)
    assert "(512x384)" in result.prediction.caption
    [call] = fake_clarifai.calls_to("PostModelOutputs")
    assert call.request.inputs[0].data.image.url == url


# --- batching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "calls"), [(1, 1), (128, 1), (129, 2), (300, 3)])
def test_batches_split_at_128_inputs_and_come_back_in_order(client, credentials, fake_clarifai, count, calls):
    images = sized_jpegs(count)
    results = client.predict(CAPTIONER, images, SETTINGS, credentials)
    received = fake_clarifai.calls_to("PostModelOutputs")
    assert len(received) == calls
    assert all(len(call.request.inputs) <= 128 for call in received)
    assert sum(len(call.request.inputs) for call in received) == count
    assert [f"({16 + i}x12)" in r.prediction.caption for i, r in enumerate(results)] == [True] * count


def test_big_images_are_split_by_bytes_and_each_request_stays_under_the_limit(client, credentials, fake_clarifai):
    noise = np.random.default_rng(0).integers(0, 255, (700, 700, 3), np.uint8)
    image = png_bytes(noise)  # about 1.4 MB
    results = client.predict(CLASSIFIER, [image] * 24, SETTINGS, credentials)
    assert all(r.ok for r in results)
    received = fake_clarifai.calls_to("PostModelOutputs")
    assert len(received) >= 4
    assert max(call.request.ByteSize() for call in received) < 128 * 1024 * 1024


def test_chunks_are_sent_concurrently(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(*[Fault.slow(0.5) for _ in range(3)])
    client.predict(CLASSIFIER, sized_jpegs(300), SETTINGS, credentials)
    arrivals = sorted(call.received_at for call in fake_clarifai.calls_to("PostModelOutputs"))
    assert len(arrivals) == 3
    # Sent one after another, each call would arrive only after the previous 0.5 s answer.
    assert arrivals[-1] - arrivals[0] < 0.4


def test_plan_chunks_balances_and_bounds_every_chunk():
    assert plan_chunks([]) == []
    assert [len(c) for c in plan_chunks([10] * 129)] == [65, 64]
    assert [len(c) for c in plan_chunks([10] * 128)] == [128]
    sizes = [3_000_000] * 10
    chunks = plan_chunks(sizes, target_bytes=8_000_000)
    assert sum(len(c) for c in chunks) == 10 and len(chunks) == 4
    assert [i for c in chunks for i in c] == list(range(10))
    assert all(sum(sizes[i] for i in c) <= 100 * 1024 * 1024 for c in chunks)


def test_server_refuses_more_than_128_inputs(clarifai_server, fake_clarifai):
    from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel

    channel = ClarifaiChannel.get_insecure_grpc_channel(base="127.0.0.1", port=clarifai_server.port)
    stub = service_pb2_grpc.V2Stub(channel)
    inputs = [resources_pb2.Input(data=resources_pb2.Data(image=resources_pb2.Image(base64=b"x")))] * 129
    response = stub.PostModelOutputs(
        service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="clarifai", app_id="main"),
            model_id=CLASSIFIER.model_id,
            inputs=inputs,
        ),
        metadata=(("authorization", f"Key {TEST_KEY}"),),
        timeout=5,
    )
    channel.close()
    assert response.status.code == 40001
    assert not response.outputs


def test_server_accepts_requests_far_over_grpcs_default_4_mib(client, credentials):
    big = png_bytes(np.random.default_rng(1).integers(0, 255, (1500, 1500, 3), np.uint8))  # ~6.7 MB
    assert len(big) > 4 * 1024 * 1024
    [result] = client.predict(CLASSIFIER, [big], SETTINGS, credentials)
    assert result.ok


# --- per-input failures --------------------------------------------------------------------------


def test_mixed_status_gives_results_for_good_inputs_and_errors_for_the_rest(client, credentials, fake_clarifai):
    good, corrupt = jpeg_bytes(40, 30), b"\xff\xd8\xff\xe0 not a real jpeg"
    results = client.predict(CLASSIFIER, [good, corrupt, good], SETTINGS, credentials)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, errors.InputFailedError)
    assert results[1].error.code == 47104
    response_status = fake_clarifai.calls_to("PostModelOutputs")[0]
    assert response_status.request.inputs[1].data.image.base64 == corrupt


def test_one_undownloadable_url_alone_is_an_error_on_that_input(client, credentials):
    [result] = client.predict(CLASSIFIER, ["https://example.com/missing.jpg"], SETTINGS, credentials)
    assert isinstance(result.error, errors.InputFailedError)
    assert result.error.code == 30002
    assert "Download failed" in result.error.description
    assert "30002" in str(result.error)


def test_all_inputs_failing_gives_an_error_per_input(client, credentials):
    results = client.predict(CLASSIFIER, [b"junk", b"more junk"], SETTINGS, credentials)
    assert [type(r.error) for r in results] == [errors.InputFailedError] * 2


def test_images_over_clarifais_limits_fail_on_their_own(client, credentials):
    over_20_mb = b"\x89PNG" + bytes(20 * 1024 * 1024)
    buffer = io.BytesIO()
    Image.new("1", (10_000, 9_000)).save(buffer, "PNG")  # 90 megapixels, a small file
    avif = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(avif, "AVIF")
    results = client.predict(
        CLASSIFIER, [over_20_mb, buffer.getvalue(), avif.getvalue(), jpeg_bytes(20, 20)], SETTINGS, credentials
    )
    assert [r.error.code if r.error else None for r in results] == [30105, 30105, 30101, None]
    assert "20 MB" in results[0].error.message


def test_fewer_outputs_than_inputs_marks_the_missing_ones(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.fewer_outputs(1))
    results = client.predict(CLASSIFIER, sized_jpegs(3), SETTINGS, credentials)
    assert [r.ok for r in results] == [True, True, False]
    assert "no result for this image" in results[2].error.message


def test_an_output_missing_its_fields_is_an_empty_prediction(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.missing_fields())
    [result] = client.predict(CLASSIFIER, [jpeg_bytes(30, 30)], SETTINGS, credentials)
    assert result.ok
    assert result.prediction.concepts == () and result.prediction.caption == ""


def test_a_malformed_mask_keeps_the_region_and_says_so(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.malformed_mask())
    [result] = client.predict(SEGMENTER, [png_bytes(scene_with_square())], SETTINGS, credentials)
    assert result.ok
    assert result.prediction.regions and all(r.mask is None for r in result.prediction.regions)
    assert "could not be decoded" in result.prediction.notes[0]


# --- whole-call failures -------------------------------------------------------------------------


def test_wrong_key_is_refused_with_11008(client):
    with pytest.raises(errors.AuthError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, Credentials("not-a-real-key", "sidebar"))
    assert caught.value.code == 11008
    assert "sidebar" in caught.value.message


def test_an_owner_key_refused_asks_the_visitor_for_their_own(client):
    with pytest.raises(errors.AuthError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, Credentials("not-a-real-key", "secrets"))
    assert "your own key" in caught.value.message


@pytest.mark.parametrize("header", ["", "Bearer something", "Key "])
def test_malformed_authorization_is_refused_with_11102(clarifai_server, fake_clarifai, header):
    from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel

    channel = ClarifaiChannel.get_insecure_grpc_channel(base="127.0.0.1", port=clarifai_server.port)
    stub = service_pb2_grpc.V2Stub(channel)
    metadata = (("authorization", header),) if header else ()
    response = stub.GetModel(
        service_pb2.GetModelRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id="clarifai", app_id="main"), model_id=CLASSIFIER.model_id
        ),
        metadata=metadata,
        timeout=5,
    )
    channel.close()
    assert response.status.code == 11102
    assert response.status.description == "Empty or malformed authorization header"


def test_blank_key_maps_to_a_malformed_key_message(client):
    with pytest.raises(errors.AuthError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, Credentials(" ", "sidebar"))
    assert caught.value.code == 11102
    assert "missing or malformed" in caught.value.message


def test_unknown_model_tells_the_user_to_pick_another(client, credentials):
    with pytest.raises(errors.ModelNotFoundError) as caught:
        client.predict(ModelRef("someone", "app", "no-such-model"), [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert caught.value.code == 21200
    assert "Pick another model" in caught.value.message
    assert "someone/app/no-such-model" in caught.value.message


def test_a_retired_default_model_does_not_crash(client, credentials, fake_clarifai):
    fake_clarifai.retire(CLASSIFIER.model_id)
    with pytest.raises(errors.ModelNotFoundError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert f"“{CLASSIFIER.path}”" in caught.value.message and "retired" in caught.value.message


def test_a_private_model_is_forbidden(client, credentials):
    with pytest.raises(errors.ModelForbiddenError) as caught:
        client.predict(ModelRef("clarifai", "main", "private-detector"), [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert caught.value.code == 21201


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (11005, errors.ThrottledError),
        (21351, errors.ModelWarmingUpError),
        (21355, errors.ModelWarmingUpError),
        (40030, errors.ServerBusyError),  # RPC_REQUEST_QUEUE_FULL
        (40031, errors.ServerBusyError),  # RPC_SERVER_UNAVAILABLE
    ],
)
def test_throttling_and_warming_up_are_retried_then_succeed(client, credentials, fake_clarifai, code, kind):
    fake_clarifai.fail_next(Fault.status(code), Fault.status(code))
    [result] = client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert result.ok
    assert len(fake_clarifai.calls_to("PostModelOutputs")) == 3


@pytest.mark.parametrize(
    ("code", "kind"),
    [(11005, errors.ThrottledError), (21354, errors.ModelWarmingUpError), (40030, errors.ServerBusyError), (40031, errors.ServerBusyError)],
)
def test_persistent_throttling_gives_up_within_the_retry_budget(client, credentials, fake_clarifai, code, kind):
    fake_clarifai.fail_next(Fault.status(code, times=None))
    started = time.perf_counter()
    with pytest.raises(kind) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert time.perf_counter() - started < client.policy.retry_budget_s + 1.5
    assert caught.value.code == code
    assert 2 <= len(fake_clarifai.calls_to("PostModelOutputs")) <= 8


TOO_LARGE = "Received message larger than max (31457600 vs. 4194304)"  # gRPC's own words


def test_a_message_over_a_size_limit_is_not_retried_and_says_what_to_do(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.rpc(grpc.StatusCode.RESOURCE_EXHAUSTED, details=TOO_LARGE, times=None))
    with pytest.raises(errors.RequestError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert len(fake_clarifai.calls_to("PostModelOutputs")) == 1, "sending it again would fail again"
    assert "Send fewer images at once, or smaller ones" in caught.value.message
    assert "Shrink large images" in caught.value.message
    assert TOO_LARGE in caught.value.description


def test_resource_exhausted_for_another_reason_is_still_retried(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.rpc(grpc.StatusCode.RESOURCE_EXHAUSTED, details="Quota exceeded for this minute"))
    [result] = client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert result.ok
    assert len(fake_clarifai.calls_to("PostModelOutputs")) == 2


def test_a_server_refusing_a_message_by_its_size_is_asked_once(classic_clarifai):
    """A real gRPC server whose message limit is smaller than the request: gRPC's own
    RESOURCE_EXHAUSTED, raised before the server sees the call."""
    from tests.fake_clarifai import LocalClarifaiServer

    with LocalClarifaiServer(classic_clarifai, max_message_bytes=256 * 1024) as small:
        client = ClarifaiClient(Endpoint(small.address, insecure=True), CallPolicy(retry_budget_s=2.0, first_backoff_s=0.05))
        sent = []
        real = client._transport.stub.PostModelOutputs
        client._transport.stub.PostModelOutputs = lambda request, **kw: sent.append(1) or real(request, **kw)
        big = png_bytes(np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8))  # noise: 480 KB
        assert len(big) > 256 * 1024
        try:
            with pytest.raises(errors.RequestError) as caught:
                client.predict(CLASSIFIER, [big], SETTINGS, Credentials(TEST_KEY, "sidebar"))
        finally:
            client.close()
    assert len(sent) == 1
    assert "too large for Clarifai" in caught.value.message and "smaller ones" in caught.value.message


def test_unavailable_then_success(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE))
    [result] = client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert result.ok


def test_persistent_unavailable_is_a_network_error_within_seconds(client, credentials, fake_clarifai):
    fake_clarifai.fail_next(Fault.rpc(grpc.StatusCode.UNAVAILABLE, times=None))
    started = time.perf_counter()
    with pytest.raises(errors.NetworkError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert time.perf_counter() - started < 15
    assert "Could not reach Clarifai" in caught.value.message


def test_unreachable_endpoint_is_a_network_error():
    client = ClarifaiClient(Endpoint("127.0.0.1:9", insecure=True), CallPolicy(retry_budget_s=0.3, first_backoff_s=0.1))
    with pytest.raises(errors.NetworkError):
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, Credentials(TEST_KEY, "sidebar"))
    client.close()


def test_a_slow_answer_hits_the_call_timeout(clarifai_endpoint, fake_clarifai, credentials):
    client = ClarifaiClient(clarifai_endpoint, CallPolicy(predict_timeout_s=0.3, retry_budget_s=1.0, first_backoff_s=0.1))
    fake_clarifai.fail_next(Fault.slow(1.5, times=None))
    with pytest.raises(errors.CallTimeoutError):
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert len(fake_clarifai.calls_to("PostModelOutputs")) >= 2, "a call that ran out of time is tried again"
    client.close()


def test_a_call_that_ran_out_of_time_once_is_tried_again(clarifai_endpoint, fake_clarifai, credentials):
    client = ClarifaiClient(clarifai_endpoint, CallPolicy(predict_timeout_s=0.5, first_backoff_s=0.05))
    fake_clarifai.fail_next(Fault.slow(1.5))
    [result] = client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    assert result.ok
    client.close()


# --- model information ---------------------------------------------------------------------------


def test_get_model_gives_name_and_type_and_is_cached(client, credentials, fake_clarifai):
    info = client.get_model(DETECTOR, credentials)
    assert (info.name, info.model_type_id) == ("Image Detection", "visual-detector")
    assert info.ref == DETECTOR  # as asked for: no version, since none was named
    assert info.version_id == "1580bb1932594c93b7e2e04456af7c6f"  # the version Clarifai described
    client.get_model(DETECTOR, credentials)
    assert len(fake_clarifai.calls_to("GetModel")) == 1
    client.get_model(DETECTOR, Credentials(OTHER_KEY, "sidebar"))  # another key asks again
    assert len(fake_clarifai.calls_to("GetModel")) == 2


def test_get_model_of_an_unknown_model_is_model_not_found(client, credentials):
    with pytest.raises(errors.ModelNotFoundError):
        client.get_model(ModelRef("clarifai", "main", "gone"), credentials)


def test_list_models_filters_by_type_and_hides_private_models(client, credentials):
    detectors = client.list_models("clarifai", "main", "visual-detector", credentials)
    assert {m.ref.model_id for m in detectors} == {"general-image-detection", "face-detection"}
    assert all(m.model_type_id == "visual-detector" for m in detectors)
    captioners = client.list_models("salesforce", "blip", "image-to-text", credentials)
    assert len(captioners) == 2


# --- the key stays secret ------------------------------------------------------------------------


def test_the_key_never_appears_in_errors_or_logs(client, credentials, fake_clarifai, caplog):
    caplog.set_level(logging.DEBUG)
    raised = []
    scenarios = [
        lambda: client.predict(ModelRef("x", "y", "z"), [jpeg_bytes(20, 20)], SETTINGS, credentials),
        lambda: client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, Credentials(TEST_KEY + "x", "sidebar")),
        lambda: client.predict(ModelRef("clarifai", "main", "private-detector"), [b"junk"], SETTINGS, credentials),
        lambda: client.get_model(ModelRef("x", "y", "z"), credentials),
    ]
    for scenario in scenarios:
        with pytest.raises(errors.ClarifaiError) as caught:
            scenario()
        raised.append(caught.value)
    fake_clarifai.fail_next(Fault.status(11005, times=None))
    with pytest.raises(errors.ThrottledError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, credentials)
    raised.append(caught.value)
    fake_clarifai.reset()
    results = client.predict(CLASSIFIER, [b"junk", jpeg_bytes(20, 20)], SETTINGS, credentials)
    raised.append(results[0].error)

    texts = [caplog.text] + [f"{e} {e!r} {e.message} {e.description} {e.args}" for e in raised]
    texts += [repr(credentials), str(credentials), repr(results)]
    assert caplog.records, "the client should log its calls"
    for text in texts:
        assert TEST_KEY not in text


def test_a_key_echoed_by_the_server_is_redacted(client, credentials, fake_clarifai, monkeypatch):
    from tests import fake_clarifai as fake_module

    monkeypatch.setitem(fake_module.DESCRIPTIONS, 11008, f"Invalid API key {TEST_KEY}x")
    with pytest.raises(errors.AuthError) as caught:
        client.predict(CLASSIFIER, [jpeg_bytes(20, 20)], SETTINGS, Credentials(TEST_KEY + "x", "sidebar"))
    assert TEST_KEY not in str(caught.value)
    assert "[key]" in caught.value.description


# --- one client per process ----------------------------------------------------------------------


def test_one_client_per_endpoint_even_under_concurrent_first_use(clarifai_endpoint):
    found = []
    threads = [threading.Thread(target=lambda: found.append(get_client(clarifai_endpoint))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in found}) == 1
    assert get_client(Endpoint("127.0.0.1:1", insecure=True)) is not found[0]


def test_endpoint_comes_from_the_environment():
    assert Endpoint.from_env({}) == Endpoint("api.clarifai.com", False)
    env = {"CLARIFAI_GRPC_BASE": "127.0.0.1:50051", "CLARIFAI_GRPC_INSECURE": "true"}
    endpoint = Endpoint.from_env(env)
    assert endpoint == Endpoint("127.0.0.1:50051", True)
    assert endpoint.host_and_port == ("127.0.0.1", 50051)
    assert Endpoint("[::1]:8080").host_and_port == ("[::1]", 8080)
    assert Endpoint("api.clarifai.com").host_and_port == ("api.clarifai.com", 443)


# --- parsing Clarifai's real answers -------------------------------------------------------------


def test_a_real_classification_response_parses(testdata):
    text = (testdata / "clarifai-responses" / "grpc_general-image-recognition_metro-north.pbtxt").read_text()
    response = text_format.Parse(text, service_pb2.MultiOutputResponse(), allow_unknown_field=True)
    prediction = prediction_from_output(response.outputs[0], "clarifai/main/general-image-recognition")
    assert prediction.sorted_concepts[0].name == "train"
    assert prediction.sorted_concepts[0].value == pytest.approx(0.9996, abs=1e-4)
    assert len(prediction.concepts) == len(response.outputs[0].data.concepts) > 10


def test_a_real_caption_output_parses(testdata):
    text = (testdata / "clarifai-responses" / "grpc_output_image-to-text_blip_metro-north.pbtxt").read_text()
    output = text_format.Parse(text, resources_pb2.Output(), allow_unknown_field=True)
    prediction = prediction_from_output(output, "salesforce/blip/general-english-image-caption-blip")
    assert prediction.caption == "a photograph of a train station with a train on the tracks"


def test_the_fake_answers_in_the_shape_of_a_real_response(testdata, client, credentials, fake_clarifai):
    """Every field the real recorded output sets at the top of an output, the fake sets too."""
    text = (testdata / "clarifai-responses" / "grpc_general-image-recognition_metro-north.pbtxt").read_text()
    real = text_format.Parse(text, service_pb2.MultiOutputResponse(), allow_unknown_field=True)
    client.predict(CLASSIFIER, [jpeg_bytes(60, 40)], SETTINGS, credentials)
    fake_raw = client.predict(CLASSIFIER, [jpeg_bytes(60, 40)], SETTINGS, credentials)[0].prediction.raw
    real_fields = {f.name for f, _ in real.outputs[0].ListFields()}
    assert real_fields <= set(fake_raw)
    assert fake_raw["status"]["description"] == real.outputs[0].status.description == "Ok"
    assert fake_raw["model"]["model_type_id"] == real.outputs[0].model.model_type_id


# --- masks ---------------------------------------------------------------------------------------


def test_decode_mask_handles_sizes_channels_and_depths():
    plane = np.zeros((30, 40), np.uint8)
    plane[5:10, 3:8] = 1
    expected = plane > 0
    assert (decode_mask(png_bytes(plane)) == expected).all()
    assert (decode_mask(png_bytes(plane * 255)) == expected).all()
    three = np.dstack([np.zeros_like(plane), plane * 200, np.zeros_like(plane)])
    assert (decode_mask(png_bytes(three)) == expected).all()
    alpha_only = np.dstack([np.zeros_like(plane)] * 3 + [plane * 255])
    assert (decode_mask(png_bytes(alpha_only)) == expected).all()
    deep = plane.astype(np.uint16) * 40000
    assert (decode_mask(png_bytes(deep)) == expected).all()
    small = cv2.resize(plane, (7, 5), interpolation=cv2.INTER_NEAREST)
    assert decode_mask(png_bytes(small)).shape == (5, 7)
    assert decode_mask(b"") is None
    assert decode_mask(b"\x89PNG\r\n\x1a\n broken") is None


def test_a_mask_declaring_a_huge_size_is_not_decoded():
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 0, 0, 0, 0)  # 400 megapixels, grey
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    assert decode_mask(png) is None
