"""The local Clarifai in "today" mode, through real gRPC with a raw V2Stub (not the app's client):
new-style models served by Clarifai's runner code, routing, cold starts, fail-fast batches,
exact select_concepts, not-found codes, and the legacy models made private."""

from __future__ import annotations

import json

import cv2
import grpc
import numpy as np
import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from google.protobuf import json_format, text_format

from tests.conftest import TEST_KEY
from tests.fake_clarifai import (
    DEFAULT_CATALOGUE,
    TODAY_CATALOGUE,
    FakeClarifai,
    Fault,
    LocalClarifaiServer,
)
from tests.helpers import jpeg_bytes, png_bytes, scene_with_square

QWEN = "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct"
CAPTIONER = "test-user/vision/optional-prompt-captioner"
SAM = "meta/segment-anything/sam2_1-hiera-base-plus"
BROKEN = "test-user/vision/broken-vlm"
WHISPER = "openai/whisper/whisper-large-v3"
ACME = "acme/vision/acme-vlm"
SLOW = "test-user/bench/slow-vlm"
RECOGNITION = "clarifai/main/general-image-recognition"
METADATA = (("authorization", "Key " + TEST_KEY),)
RED_SQUARE = png_bytes(scene_with_square())  # 400x300 grey, red square at x 80–240, y 30–150
SQUARE_URL = "https://images.example/red-square.png"
SUCCESS, MIXED, FAILURE = 10000, 10010, 10020


@pytest.fixture(scope="module")
def today_server():
    servicer = FakeClarifai(keys=[TEST_KEY], mode="today", url_images={SQUARE_URL: RED_SQUARE})
    with LocalClarifaiServer(servicer) as server:
        yield server


@pytest.fixture
def fake(today_server):
    servicer = today_server.servicer
    servicer.reset()
    servicer.catalogue = list(TODAY_CATALOGUE)
    yield servicer
    servicer.reset()
    servicer.fail_fast = False


@pytest.fixture(scope="module")
def stub(today_server):
    host, port = today_server.address.rsplit(":", 1)
    channel = ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port))
    yield service_pb2_grpc.V2Stub(channel)
    channel.close()


# --- building requests by hand ---------------------------------------------------------------


def model_ids(path: str, version_id: str = "") -> dict:
    user_id, app_id, model_id = path.split("/")
    app = resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id)
    return {"user_app_id": app, "model_id": model_id, "version_id": version_id}


def parts_input(method: str = "predict", **arguments) -> resources_pb2.Input:
    """One input of a new-style call: a Part per argument (part.id = its name, the value in the
    field for its type), the method named in metadata."""
    data = resources_pb2.Data()
    data.metadata.update({"_method_name": method})
    for name, value in arguments.items():
        part = data.parts.add(id=name)
        if isinstance(value, str):
            part.data.string_value = value
        elif isinstance(value, int):
            part.data.int_value = value
        elif isinstance(value, float):
            part.data.float_value = value
        elif isinstance(value, resources_pb2.Image):
            part.data.image.CopyFrom(value)
        elif isinstance(value, resources_pb2.Audio):
            part.data.audio.CopyFrom(value)
        else:  # a list of regions goes inline
            part.data.regions.extend(value)
    return resources_pb2.Input(data=data)


def predict(stub, path: str, *inputs: resources_pb2.Input, **request) -> service_pb2.MultiOutputResponse:
    request = service_pb2.PostModelOutputsRequest(**model_ids(path), inputs=inputs, **request)
    return stub.PostModelOutputs(request, metadata=METADATA)


def generate(stub, path: str, item: resources_pb2.Input, **request) -> list[service_pb2.MultiOutputResponse]:
    request = service_pb2.PostModelOutputsRequest(**model_ids(path), inputs=[item], **request)
    return list(stub.GenerateModelOutputs(request, metadata=METADATA))


def returned(output: resources_pb2.Output) -> resources_pb2.Data:
    [part] = output.data.parts
    assert part.id == "return"
    return part.data


def image(data: bytes = RED_SQUARE) -> resources_pb2.Image:
    return resources_pb2.Image(base64=data)


def signatures(stub, path: str) -> dict[str, resources_pb2.MethodSignature]:
    response = stub.GetModelVersion(service_pb2.GetModelVersionRequest(**model_ids(path)), metadata=METADATA)
    assert response.status.code == SUCCESS, response.status
    return {s.name: s for s in response.model_version.method_signatures}


# --- signatures --------------------------------------------------------------------------------


def test_get_model_version_gives_the_vlm_signatures_the_runner_builds(stub, fake):
    found = signatures(stub, QWEN)
    assert set(found) == {"predict", "generate", "openai_transport", "openai_stream_transport"}  # an OpenAIModelClass
    assert [f.name for f in found["openai_stream_transport"].input_fields] == ["msg"]
    predict_method, generate_method = found["predict"], found["generate"]
    assert predict_method.method_type == resources_pb2.RunnerMethodType.UNARY_UNARY
    assert generate_method.method_type == resources_pb2.RunnerMethodType.UNARY_STREAMING
    fields = {f.name: f for f in predict_method.input_fields}
    assert list(fields) == ["prompt", "image", "images", "chat_history", "max_tokens", "temperature", "top_p"]
    types = resources_pb2.ModelTypeField.DataType
    assert fields["prompt"].required and fields["prompt"].type == types.STR
    assert fields["image"].type == types.IMAGE and not fields["image"].required
    assert fields["images"].type == types.LIST and fields["images"].type_args[0].type == types.IMAGE
    assert fields["chat_history"].type_args[0].type == types.JSON_DATA
    max_tokens = fields["max_tokens"]
    assert max_tokens.is_param and max_tokens.type == types.INT and max_tokens.default == "512"
    assert max_tokens.description and max_tokens.model_type_range_info.max == 4096
    assert fields["temperature"].default == "0.7" and fields["top_p"].model_type_range_info.max == 1
    [answer] = predict_method.output_fields
    assert (answer.name, answer.type) == ("return", types.STR)
    assert generate_method.output_fields[0].iterator


def test_get_model_and_list_models_carry_the_same_signatures(stub, fake):
    expected = signatures(stub, QWEN)
    model = stub.GetModel(service_pb2.GetModelRequest(**model_ids(QWEN)), metadata=METADATA).model
    assert model.model_type_id == "multimodal-to-text"
    assert {s.name: s for s in model.model_version.method_signatures} == expected
    listed = stub.ListModels(
        service_pb2.ListModelsRequest(user_app_id=model_ids(QWEN)["user_app_id"]), metadata=METADATA
    ).models
    assert {s.name: s for s in listed[0].model_version.method_signatures} == expected


def test_a_classic_model_has_no_signatures(stub, fake):
    assert signatures(stub, RECOGNITION) == {}


def test_hidden_signatures_come_from_the_model_itself_through_get_signatures(stub, fake):
    expected = signatures(stub, QWEN)
    fake.hide_signatures(QWEN)
    assert signatures(stub, QWEN) == {}
    model = stub.GetModel(service_pb2.GetModelRequest(**model_ids(QWEN)), metadata=METADATA).model
    assert not model.model_version.method_signatures

    ask = resources_pb2.Input(data=resources_pb2.Data(parts=[resources_pb2.Part()]))
    ask.data.metadata.update({"_method_name": "_GET_SIGNATURES"})
    response = predict(stub, QWEN, ask)
    assert response.status.code == SUCCESS
    told = json.loads(response.outputs[0].data.text.raw)
    assert {name: json_format.ParseDict(sig, resources_pb2.MethodSignature()) for name, sig in told.items()} == expected


def test_the_audio_model_takes_audio_and_returns_text(stub, fake):
    [method] = signatures(stub, WHISPER).values()
    types = resources_pb2.ModelTypeField.DataType
    assert [(f.name, f.type, f.required) for f in method.input_fields] == [("audio", types.AUDIO, True)]
    assert method.output_fields[0].type == types.STR
    response = predict(stub, WHISPER, parts_input(audio=resources_pb2.Audio(base64=b"RIFF" + bytes(96))))
    assert returned(response.outputs[0]).string_value == "a transcript of 100 bytes of audio"


# --- a VLM, called with parts ------------------------------------------------------------------


def test_a_parts_request_gets_a_caption_computed_from_the_image(stub, fake):
    item = parts_input(prompt="Describe the picture. Which colour is the square?", image=image(), max_tokens=64)
    response = predict(stub, QWEN, item)
    shown = resources_pb2.Input()
    shown.CopyFrom(item)
    shown.data.parts[1].data.image.base64 = f"<{len(RED_SQUARE)} bytes of PNG>".encode()
    print("request input:\n" + text_format.MessageToString(shown, as_utf8=True))
    print("answer:\n" + text_format.MessageToString(response.outputs[0], as_utf8=True))

    assert response.status.code == SUCCESS
    [output] = response.outputs
    answer = returned(output).string_value
    assert answer.startswith("a landscape picture (400x300), mostly gray and red")
    assert "Which colour is the square?" in answer, "the prompt reached the model"
    assert output.prompt_tokens > 256 and output.completion_tokens == len(answer.split())


def test_a_list_of_images_goes_in_nested_parts_and_each_is_described(stub, fake):
    item = parts_input(prompt="Compare them.")
    pictures = item.data.parts.add(id="images")
    for data in (RED_SQUARE, jpeg_bytes(60, 90)):
        pictures.data.parts.add().data.image.base64 = data
    answer = returned(predict(stub, QWEN, item).outputs[0]).string_value
    assert answer.startswith("picture 1: a landscape picture (400x300)")
    assert "picture 2: a portrait picture (60x90)" in answer


def test_an_image_url_in_a_part_is_downloaded_by_the_runner_and_an_unknown_one_fails_the_call(stub, fake):
    response = predict(stub, QWEN, parts_input(prompt="Describe it.", image=resources_pb2.Image(url=SQUARE_URL)))
    assert "(400x300)" in returned(response.outputs[0]).string_value
    missing = predict(stub, SAM, parts_input(method="segment_anything", image=resources_pb2.Image(url=SQUARE_URL + "x")))
    assert (missing.status.code, missing.status.details, len(missing.outputs)) == (FAILURE, "Image has no bytes", 0)


def test_a_grounding_prompt_gets_qwen_style_boxes_in_pixels_of_the_image_as_sent(stub, fake):
    prompt = 'Outline every object and output the coordinates in JSON as {"bbox_2d": [x1, y1, x2, y2], "label": ...}.'
    answer = returned(predict(stub, QWEN, parts_input(prompt=prompt, image=image())).outputs[0]).string_value
    assert answer.startswith("```json\n") and answer.endswith("\n```")
    [found] = json.loads(answer.removeprefix("```json").removesuffix("```"))
    assert found["label"] == "red"
    assert np.allclose(found["bbox_2d"], [80, 30, 240, 150], atol=3)


def test_a_confidence_prompt_gets_the_labels_it_names_with_their_shares(stub, fake):
    prompt = "Rate each label: red, blue, landscape. Answer as JSON with a confidence per label."
    response = predict(stub, QWEN, parts_input(prompt=prompt, image=image()))
    answer = json.loads(returned(response.outputs[0]).string_value)
    scores = {a["label"]: a["confidence"] for a in answer}
    assert set(scores) == {"red", "blue", "landscape"}
    assert scores["landscape"] > scores["red"] > scores["blue"] == 0
    assert scores["red"] == pytest.approx(0.16, abs=0.02)  # the square covers 16% of the picture


def test_max_tokens_cuts_the_answer_and_the_token_counts_follow(stub, fake):
    [output] = predict(stub, QWEN, parts_input(prompt="Describe it.", image=image(), max_tokens=3)).outputs
    assert returned(output).string_value == "a landscape picture"
    assert output.completion_tokens == 3


def test_scripted_replies_are_used_one_per_call(stub, fake):
    fake.script_replies(QWEN, '```json\n[{"bbox_2d": [1, 2', "I cannot see")
    item = parts_input(prompt="Find objects, bbox_2d please.", image=image())
    answers = [returned(predict(stub, QWEN, item).outputs[0]).string_value for _ in range(3)]
    assert answers[:2] == ['```json\n[{"bbox_2d": [1, 2', "I cannot see"]
    assert '"label": "red"' in answers[2]


def test_generate_streams_the_same_answer_in_chunks_with_no_token_counts(stub, fake):
    item = parts_input("generate", prompt="Describe the picture.", image=image())
    chunks = generate(stub, QWEN, item)
    assert len(chunks) >= 3 and all(c.status.code == SUCCESS for c in chunks)
    streamed = "".join(returned(c.outputs[0]).string_value for c in chunks)
    whole = returned(predict(stub, QWEN, parts_input(prompt="Describe the picture.", image=image())).outputs[0])
    assert streamed == whole.string_value
    assert whole.string_value and not any(c.outputs[0].prompt_tokens or c.outputs[0].completion_tokens for c in chunks), (
        "a hosted VLM's generate stream carries no token counts"
    )


def test_a_stream_method_through_the_unary_call_fails(stub, fake):
    response = predict(stub, QWEN, parts_input("generate", prompt="Describe it.", image=image()))
    assert response.status.code == FAILURE and not response.outputs


def test_an_old_style_request_without_the_required_prompt_fails_as_the_runner_does(stub, fake):
    response = predict(stub, QWEN, resources_pb2.Input(data=resources_pb2.Data(image=image())))
    assert response.status.code == FAILURE
    assert response.status.details == "Field prompt is required but not set"
    assert not response.outputs


def test_an_old_style_request_with_text_fills_the_prompt_and_answers_in_both_places(stub, fake):
    data = resources_pb2.Data(image=image(), text=resources_pb2.Text(raw="What is this?"))
    [output] = predict(stub, QWEN, resources_pb2.Input(data=data)).outputs
    assert "What is this?" in output.data.text.raw
    assert output.data.text.raw == output.data.string_value


def test_the_optional_prompt_captioner_captions_an_old_style_image(stub, fake):
    response = predict(stub, CAPTIONER, resources_pb2.Input(data=resources_pb2.Data(image=image(jpeg_bytes(60, 90)))))
    assert response.status.code == SUCCESS
    assert response.outputs[0].data.text.raw.startswith("a portrait picture (60x90)")


def test_a_raising_model_gives_the_runners_failure(stub, fake):
    response = predict(stub, BROKEN, parts_input(prompt="Describe it.", image=image()))
    assert response.status.code == FAILURE
    assert "CUDA out of memory" in response.status.details
    assert not response.outputs
    [streamed] = generate(stub, BROKEN, parts_input("generate", prompt="Describe it.", image=image()))
    assert streamed.status.code == FAILURE and "CUDA out of memory" in streamed.status.details


def test_inputs_of_a_multi_input_request_are_answered_one_after_another(stub, fake):
    fake.runner(SLOW).seconds_per_call = 0.1  # until the next reset
    response = predict(stub, SLOW, *[parts_input(prompt="Describe it.", image=image()) for _ in range(3)])
    assert [o.status.code for o in response.outputs] == [SUCCESS] * 3
    calls = sorted(fake.runner(SLOW).calls)
    assert all(later[0] >= earlier[1] for earlier, later in zip(calls, calls[1:]))


def test_the_slow_vlm_serves_32_requests_at_once(stub, fake):
    pending = [
        stub.PostModelOutputs.future(
            service_pb2.PostModelOutputsRequest(**model_ids(SLOW), inputs=[parts_input(prompt="Hi", image=image())]),
            metadata=METADATA,
        )
        for _ in range(32)
    ]
    assert all(p.result().status.code == SUCCESS for p in pending)
    calls = fake.runner(SLOW).calls
    most_at_once = max(sum(start <= moment < end for start, end in calls) for moment, _ in calls)
    assert most_at_once == 32
    assert len(fake.calls_to("PostModelOutputs")) == 32  # each recorded with the time it arrived


# --- the segmenter -------------------------------------------------------------------------------


SQUARE_MASK = np.zeros((300, 400), bool)
SQUARE_MASK[30:150, 80:240] = True


def overlap(mask: np.ndarray, expected: np.ndarray) -> float:
    """Intersection over union."""
    return (mask & expected).sum() / (mask | expected).sum()


def decoded_mask(region: resources_pb2.Region) -> np.ndarray:
    mask = cv2.imdecode(np.frombuffer(region.region_info.mask.image.base64, np.uint8), cv2.IMREAD_UNCHANGED)
    assert mask is not None, "masks are image files"
    return mask


def test_segment_anything_masks_each_color_region_with_its_box(stub, fake):
    response = predict(stub, SAM, parts_input("segment_anything", image=image()))
    regions = returned(response.outputs[0]).regions
    assert len(regions) == 2 and not any(r.data.concepts for r in regions)  # class-agnostic
    square = next(r for r in regions if r.value < 0.5)
    mask = decoded_mask(square)
    assert mask.shape == (300, 400) and set(np.unique(mask)) == {0, 255}
    assert overlap(mask > 0, SQUARE_MASK) > 0.95
    box = square.region_info.bounding_box
    assert (box.left_col, box.top_row, box.right_col, box.bottom_row) == pytest.approx((0.2, 0.1, 0.6, 0.5), abs=0.01)


def test_segmenter_predict_masks_the_main_color_inside_each_given_box_keeping_its_concepts(stub, fake):
    given = resources_pb2.Region(id="car-1")
    given.region_info.bounding_box.top_row, given.region_info.bounding_box.left_col = 0.05, 0.15
    given.region_info.bounding_box.bottom_row, given.region_info.bounding_box.right_col = 0.55, 0.65
    given.data.concepts.add(id="car", name="Car", value=0.9)
    [region] = returned(predict(stub, SAM, parts_input(image=image(), regions=[given])).outputs[0]).regions
    assert region.id == "car-1" and [c.name for c in region.data.concepts] == ["Car"]
    assert overlap(decoded_mask(region) > 0, SQUARE_MASK) > 0.95


# --- routing, cold starts, faults ----------------------------------------------------------------


def deployment(deployment_id: str, user_id: str = "acme") -> resources_pb2.RunnerSelector:
    return resources_pb2.RunnerSelector(deployment=resources_pb2.Deployment(id=deployment_id, user_id=user_id))


def nodepool(nodepool_id: str, cluster_id: str, user_id: str = "acme") -> resources_pb2.RunnerSelector:
    cluster = resources_pb2.ComputeCluster(id=cluster_id, user_id=user_id)
    return resources_pb2.RunnerSelector(nodepool=resources_pb2.Nodepool(id=nodepool_id, compute_cluster=cluster))


@pytest.mark.parametrize(
    "selector, code",
    [
        (None, 21353),
        (deployment("acme-deploy"), SUCCESS),
        (nodepool("acme-pool", "acme-cluster"), SUCCESS),
        (deployment("other-deploy"), 25900),
        (deployment("acme-deploy", user_id="someone"), 25900),
        (nodepool("other-pool", "acme-cluster"), 25700),
        (nodepool("acme-pool", "other-cluster"), 25800),
    ],
)
def test_a_user_uploaded_model_answers_only_through_its_deployment(stub, fake, selector, code):
    item = parts_input(prompt="Describe it.", image=image())
    routing = {"runner_selector": selector} if selector else {}
    response = predict(stub, ACME, item, **routing)
    assert response.status.code == code
    if selector is None:
        assert "Shared compute is not available for user-uploaded models" in response.status.details
    [call] = fake.calls_to("PostModelOutputs")
    assert call.runner_selector == selector, "the selector is recorded as sent"
    streamed = generate(stub, ACME, parts_input("generate", prompt="Hi"), **routing)
    assert streamed[-1].status.code == code


def test_a_clarifai_model_rejects_a_deployment_that_does_not_serve_it(stub, fake):
    response = predict(stub, QWEN, parts_input(prompt="Hi"), runner_selector=deployment("acme-deploy"))
    assert response.status.code == 25900


def test_a_cold_model_says_deploying_then_loading_then_answers(stub, fake):
    now = [100.0]
    fake.clock = lambda: now[0]
    fake.cold_start(QWEN, 120, loading_share=0.25)
    item = parts_input(prompt="Describe it.", image=image())
    assert predict(stub, QWEN, item).status.code == 21351
    now[0] += 60
    assert generate(stub, QWEN, parts_input("generate", prompt="Hi"))[0].status.code == 21351
    now[0] += 40
    assert predict(stub, QWEN, item).status.code == 21355
    now[0] += 21
    assert predict(stub, QWEN, item).status.code == SUCCESS


def test_faults_apply_to_generate_and_get_model_version(stub, fake):
    fake.fail_next(
        Fault.status(21354, method="GenerateModelOutputs"),
        Fault.rpc(grpc.StatusCode.INTERNAL, method="GetModelVersion"),
    )
    [busy] = generate(stub, QWEN, parts_input("generate", prompt="Hi"))
    assert busy.status.code == 21354
    with pytest.raises(grpc.RpcError) as raised:
        signatures(stub, QWEN)
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert signatures(stub, QWEN), "each fault is used once"


# --- today's catalogue, fail-fast, select_concepts, not found -------------------------------------


def classic_input(data: bytes = RED_SQUARE) -> resources_pb2.Input:
    return resources_pb2.Input(data=resources_pb2.Data(image=image(data)))


def test_the_default_server_is_the_classic_clarifai():
    servicer = FakeClarifai()
    assert servicer.mode == "classic" and servicer.catalogue == list(DEFAULT_CATALOGUE)


@pytest.mark.parametrize(
    "path",
    [
        "clarifai/main/general-image-detection",
        "clarifai/main/image-general-segmentation",
        "clarifai/main/face-detection",
        "salesforce/blip/general-english-image-caption-blip",
    ],
)
def test_legacy_models_are_private_today(stub, fake, path):
    assert predict(stub, path, classic_input()).status.code == 21200
    assert stub.GetModel(service_pb2.GetModelRequest(**model_ids(path)), metadata=METADATA).status.code == 21200


def test_recognition_color_and_logo_detection_still_answer_today(stub, fake):
    for path in (RECOGNITION, "clarifai/main/color-recognition"):
        recognised = predict(stub, path, classic_input())
        assert recognised.status.code == SUCCESS and recognised.outputs[0].data.concepts
    logos = predict(stub, "clarifai/main/logo-detection-v2", classic_input())
    assert [r.data.concepts[0].name for r in logos.outputs[0].data.regions] == ["red"]
    detectors = stub.ListModels(
        service_pb2.ListModelsRequest(
            user_app_id=model_ids(RECOGNITION)["user_app_id"], model_type_id="visual-detector"
        ),
        metadata=METADATA,
    ).models
    assert [m.id for m in detectors] == ["logo-detection-v2"]


def test_an_unknown_user_or_app_is_a_missing_resource_and_an_unknown_model_is_a_missing_model(stub, fake):
    unknown_app = predict(stub, "nobody/none/anything", classic_input())
    assert (unknown_app.status.code, unknown_app.status.description) == (11101, "Resource does not exist")
    assert predict(stub, "clarifai/nothing/anything", classic_input()).status.code == 11101
    assert predict(stub, "clarifai/main/no-such-model", classic_input()).status.code == 21200
    fake.retire("general-image-recognition")
    assert predict(stub, RECOGNITION, classic_input()).status.code == 21200


@pytest.mark.parametrize("path", [RECOGNITION, QWEN])
def test_fail_fast_rejects_the_whole_request_when_one_input_is_invalid(stub, fake, path):
    good = classic_input() if path == RECOGNITION else parts_input(prompt="Describe it.", image=image())
    bad = resources_pb2.Input()  # no data: INPUT_INVALID_ARGUMENT
    fake.fail_fast = True
    rejected = predict(stub, path, good, bad, good)
    assert rejected.status.code == FAILURE
    assert [o.status.code for o in rejected.outputs] == [30002, 30104, 30002]
    assert not any(o.data.ByteSize() for o in rejected.outputs), "no prediction for anyone"

    fake.fail_fast = False
    mixed = predict(stub, path, good, bad)
    assert mixed.status.code == MIXED
    assert [o.status.code for o in mixed.outputs] == [SUCCESS, 30104]
    assert mixed.outputs[0].data.ByteSize()


def test_fail_fast_keeps_each_invalid_inputs_own_code(stub, fake):
    fake.fail_fast = True
    rejected = predict(stub, RECOGNITION, classic_input(b"not an image"), classic_input())
    assert [o.status.code for o in rejected.outputs] == [47104, 30002]


def select(*concepts: resources_pb2.Concept) -> resources_pb2.Model:
    config = resources_pb2.OutputConfig(select_concepts=concepts)
    version = resources_pb2.ModelVersion(output_info=resources_pb2.OutputInfo(output_config=config))
    return resources_pb2.Model(model_version=version)


def test_select_concepts_match_names_and_ids_exactly(stub, fake):
    by_name = predict(stub, RECOGNITION, classic_input(), model=select(resources_pb2.Concept(name="red")))
    assert [c.name for c in by_name.outputs[0].data.concepts] == ["red"]
    by_id = predict(stub, RECOGNITION, classic_input(), model=select(resources_pb2.Concept(id="ai_red")))
    assert [c.name for c in by_id.outputs[0].data.concepts] == ["red"]
    wrong_case_and_right = select(resources_pb2.Concept(name="Red"), resources_pb2.Concept(name="gray"))
    some = predict(stub, RECOGNITION, classic_input(), model=wrong_case_and_right)
    assert [c.name for c in some.outputs[0].data.concepts] == ["gray"]


@pytest.mark.parametrize("path, asked", [(RECOGNITION, "Red"), ("clarifai/main/logo-detection-v2", "Person")])
def test_select_concepts_matching_nothing_is_an_invalid_model_argument(stub, fake, path, asked):
    response = predict(stub, path, classic_input(), model=select(resources_pb2.Concept(name=asked)))
    assert response.status.code == 21202 and not response.outputs
    assert repr(asked) in response.status.details and "exactly" in response.status.details
