"""The app's client against today's Clarifai: new-style models served by Clarifai's own runner code
(tests/runner_models.py), routing, cold starts, fail-fast batches, exact select_concepts, and the
retry and rate rules. Everything goes through real gRPC to the local server in "today" mode."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from clarifai.runners.utils.method_signatures import deserialize
from clarifai_grpc.grpc.api import resources_pb2

from components import errors
from components.clarifai import parts
from components.clarifai.client import ClarifaiClient, RunCallbacks
from components.clarifai.replies import prediction_from_answer
from components.clarifai.transport import CallPolicy
from components.models import ModelRef, PredictSettings, Routing
from components.run.model_fit import Serving, fit_model
from components.settings import Credentials, Endpoint
from components.signatures import RegionValue
from components.tasks import Task
from tests.conftest import TEST_KEY
from tests.fake_clarifai import TODAY_CATALOGUE, FakeClarifai, Fault, LocalClarifaiServer
from tests.helpers import jpeg_bytes, png_bytes, scene_with_square

QWEN = ModelRef("qwen", "qwen-VL", "Qwen2_5-VL-7B-Instruct")
GEMMA = ModelRef("gcp", "generate", "gemma-3-4b-it")
CAPTIONER = ModelRef("test-user", "vision", "optional-prompt-captioner")
SAM = ModelRef("meta", "segment-anything", "sam2_1-hiera-base-plus")
BROKEN = ModelRef("test-user", "vision", "broken-vlm")
WHISPER = ModelRef("openai", "whisper", "whisper-large-v3")
ACME = ModelRef("acme", "vision", "acme-vlm")
SLOW = ModelRef("test-user", "bench", "slow-vlm")
RECOGNITION = ModelRef("clarifai", "main", "general-image-recognition")
LOGO = ModelRef("clarifai", "main", "logo-detection-v2")
RED_SQUARE = png_bytes(scene_with_square())  # 400x300, a red square at x 80–240, y 30–150
CREDENTIALS = Credentials(TEST_KEY, "sidebar")
FAST = CallPolicy(
    predict_timeout_s=10, info_timeout_s=5, retry_budget_s=1.0, first_backoff_s=0.05, max_backoff_s=0.2,
    cold_start_wait_s=1.0, cold_start_poll_s=0.1,
)


@pytest.fixture(scope="module")
def today_server():
    with LocalClarifaiServer(FakeClarifai(keys=[TEST_KEY], mode="today")) as server:
        yield server


@pytest.fixture
def fake(today_server):
    servicer = today_server.servicer
    servicer.reset()
    servicer.catalogue = list(TODAY_CATALOGUE)
    servicer.fail_fast = False
    yield servicer
    servicer.reset()
    servicer.fail_fast = False


def make_client(server, policy: CallPolicy = FAST) -> ClarifaiClient:
    return ClarifaiClient(Endpoint(server.address, insecure=True), policy)


@pytest.fixture
def client(today_server, fake):
    client = make_client(today_server)
    yield client
    client.close()


def ask(client: ClarifaiClient, model: ModelRef, *argument_sets, **kw):
    info = client.get_model(model, CREDENTIALS)
    method = info.method(kw.pop("method", "predict"))
    return client.call_method(model, method, list(argument_sets), CREDENTIALS, **kw)


# --- signatures ------------------------------------------------------------------------------------


OPENAI_TRANSPORTS = ("openai_transport", "openai_stream_transport")  # hosted VLMs are OpenAIModelClass runners


def test_signatures_are_read_from_get_model_and_cached(client, fake):
    info = client.get_model(QWEN, CREDENTIALS)
    assert info.is_new_style and {m.name for m in info.methods} == {"predict", "generate", *OPENAI_TRANSPORTS}
    predict, generate = info.method("predict"), info.method("generate")
    assert not predict.streaming and generate.streaming
    assert predict.image_argument.name == "image" and predict.prompt_argument.name == "prompt"
    params = {a.name: a for a in predict.params}
    assert set(params) == {"max_tokens", "temperature", "top_p"}
    assert (params["max_tokens"].default, params["max_tokens"].minimum, params["max_tokens"].maximum) == (512, 1, 4096)
    assert params["temperature"].default == pytest.approx(0.7) and params["temperature"].description
    client.get_model(QWEN, CREDENTIALS)
    assert len(fake.calls_to("GetModel")) == 1


def test_hidden_signatures_are_asked_of_the_runner_itself(client, fake):
    fake.hide_signatures(QWEN.short_path)
    info = client.get_model(QWEN, CREDENTIALS)
    assert {m.name for m in info.methods} == {"predict", "generate", *OPENAI_TRANSPORTS}
    [ask_call] = fake.calls_to("PostModelOutputs")
    assert ask_call.request.inputs[0].data.metadata["_method_name"] == "_GET_SIGNATURES"


def test_classic_models_have_no_signatures_and_cost_one_look_up(client, fake):
    info = client.get_model(RECOGNITION, CREDENTIALS)
    assert not info.is_new_style
    assert len(fake.calls) == 1, "no extra calls to find that a classic model has no signatures"


# --- parts, as the runner reads them -----------------------------------------------------------------

T = resources_pb2.ModelTypeField.DataType


def field(name, data_type, item_type=None, required=False):
    proto = resources_pb2.ModelTypeField(name=name, type=data_type, required=required)
    if item_type is not None:
        proto.type_args.add(name=f"{name}_item", type=item_type)
    return proto


def test_parts_are_built_for_every_data_type_the_app_sends_as_the_runner_reads_them():
    fields = [
        field("prompt", T.STR, required=True), field("text", T.TEXT), field("count", T.INT), field("ratio", T.FLOAT),
        field("flag", T.BOOL), field("blob", T.BYTES), field("options", T.JSON_DATA), field("history", T.JSON_DATA),
        field("image", T.IMAGE), field("images", T.LIST, T.IMAGE), field("regions", T.LIST, T.REGION),
        field("concepts", T.LIST, T.CONCEPT), field("words", T.LIST, T.STR),
    ]
    proto = resources_pb2.MethodSignature(name="predict", method_type=resources_pb2.UNARY_UNARY, input_fields=fields)
    [method] = parts.methods_from_protos([proto])
    values = {
        "prompt": "What is this?", "text": "a text", "count": 7, "ratio": 0.25, "flag": True, "blob": b"\x00\x01",
        "options": {"a": 1}, "history": [{"role": "user"}], "image": b"\x89PNG-bytes", "images": [b"one", "https://x/y.jpg"],
        "regions": [RegionValue(0.1, 0.2, 0.5, 0.6, (("dog", "dog", 0.9),))], "concepts": [("cat", "cat", 0.8)],
        "words": ["a", "b"],
    }
    data = parts.call_data(method, values)
    assert data.metadata["_method_name"] == "predict"
    read = deserialize(data, list(fields))  # Clarifai's own runner code
    assert read["prompt"] == "What is this?" and read["text"].text == "a text"
    assert (read["count"], read["ratio"], read["flag"], read["blob"]) == (7, 0.25, True, b"\x00\x01")
    assert read["options"] == {"a": 1} and read["history"] == [{"role": "user"}]
    assert read["image"].bytes == b"\x89PNG-bytes"
    assert [i.bytes for i in read["images"][:1]] == [b"one"] and read["images"][1].url == "https://x/y.jpg"
    region = read["regions"] if not isinstance(read["regions"], list) else read["regions"][0]
    assert region.box == pytest.approx([0.2, 0.1, 0.6, 0.5]) and region.concepts[0].name == "dog"
    concept = read["concepts"] if not isinstance(read["concepts"], list) else read["concepts"][0]
    assert concept.name == "cat"
    assert read["words"] == ["a", "b"]


@pytest.mark.parametrize("shape", ["return part", "inline", "text.raw"])
def test_answers_are_read_in_all_three_shapes(shape):
    output = resources_pb2.Output(status={"code": 10000})
    if shape == "return part":
        output.data.parts.add(id="return").data.string_value = "a red square"
    elif shape == "inline":
        output.data.string_value = "a red square"
    else:
        output.data.text.raw = "a red square"
    [method] = parts.methods_from_protos(
        [resources_pb2.MethodSignature(name="predict", output_fields=[field("return", T.STR)])]
    )
    assert prediction_from_answer(output, method, "m").caption == "a red square"


# --- calling new-style models ----------------------------------------------------------------------


def test_a_vlm_answers_a_prompt_about_the_image_with_token_counts(client, fake):
    [result] = ask(client, QWEN, {"prompt": "Which colour is the square?", "image": RED_SQUARE, "max_tokens": 64})
    assert result.ok, result.error
    assert result.prediction.caption.startswith("a landscape picture (400x300)")
    assert "Which colour is the square?" in result.prediction.caption
    assert result.prediction.usage.prompt_tokens > 0 and result.prediction.usage.completion_tokens > 0
    [call] = fake.calls_to("PostModelOutputs")
    parts = {part.id: part.data for part in call.request.inputs[0].data.parts}
    assert parts["prompt"].string_value == "Which colour is the square?" and parts["max_tokens"].int_value == 64
    assert parts["image"].image.base64 == RED_SQUARE


def test_a_streamed_caption_arrives_in_growing_pieces(client, fake):
    seen: list[tuple[int, str]] = []
    [result] = ask(
        client, QWEN, {"prompt": "Describe it.", "image": RED_SQUARE}, method="generate",
        callbacks=RunCallbacks(on_text=lambda index, text: seen.append((index, text))),
    )
    assert result.ok, result.error
    assert len(seen) >= 3 and all(index == 0 for index, _ in seen)
    texts = [text for _, text in seen]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert result.prediction.caption == texts[-1].strip() or result.prediction.caption == texts[-1]
    assert result.prediction.usage is None, "a hosted VLM's stream carries no token counts, and none are made up"
    assert fake.calls_to("GenerateModelOutputs") and not fake.calls_to("PostModelOutputs")


def test_a_missing_required_prompt_is_a_clear_message_for_that_image(client, fake):
    [result] = ask(client, QWEN, {"image": RED_SQUARE})
    assert isinstance(result.error, errors.RequestError)
    assert "needs “prompt”, which was not sent" in result.error.message


def test_a_model_that_raises_fails_each_image_with_its_own_words(client, fake):
    results = ask(client, BROKEN, {"prompt": "Hi", "image": RED_SQUARE}, {"prompt": "Hi", "image": RED_SQUARE})
    assert all(isinstance(r.error, errors.ModelFailedError) for r in results)
    assert "CUDA out of memory" in str(results[0].error)


def test_segment_anything_returns_masks_with_boxes(client, fake):
    [result] = ask(client, SAM, {"image": RED_SQUARE}, method="segment_anything")
    assert result.ok, result.error
    regions = result.prediction.regions
    assert regions and all(r.mask is not None for r in regions)
    assert any(r.box is not None and abs(r.box.left - 0.2) < 0.03 and abs(r.box.top - 0.1) < 0.03 for r in regions)


def test_segment_anything_fills_the_boxes_it_is_given(client, fake):
    boxes = [RegionValue(0.1, 0.2, 0.5, 0.6, (("red", "red", 0.9),))]
    [result] = ask(client, SAM, {"image": RED_SQUARE, "regions": boxes})
    assert result.ok, result.error
    [region] = result.prediction.regions
    assert region.top_concept.name == "red" and region.mask is not None
    assert 0.1 < region.mask.mean() < 0.25  # the square covers 16 % of the picture


def test_segment_anything_predict_has_the_real_signature_with_regions_required(client, fake):
    method = client.get_model(SAM, CREDENTIALS).method("predict")
    arguments = {a.name: a for a in method.arguments}
    assert list(arguments) == ["image", "regions", "dict_inputs", "round_mask", "multimask_output", "denormalize_coord"]
    assert [name for name, a in arguments.items() if a.required] == ["image", "regions"]
    assert (arguments["round_mask"].default, arguments["denormalize_coord"].default) == (False, True)


def test_segment_anything_predict_without_regions_is_refused_as_the_runner_refuses_it(client, fake):
    [result] = ask(client, SAM, {"image": RED_SQUARE})  # predict, with no regions
    assert isinstance(result.error, errors.RequestError)
    assert result.error.code == 10020 and "Missing required field: regions" in result.error.description
    assert "needs “regions”, which was not sent" in result.error.message
    assert fit_model(Task.SEGMENTATION.spec, client.get_model(SAM, CREDENTIALS)).method.name == "segment_anything"


# --- which models fit which page -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "task", "serving"),
    [
        (QWEN, Task.CAPTIONING, Serving.PROMPTED),
        (GEMMA, Task.CAPTIONING, Serving.PROMPTED),  # any-to-any, takes an image: accepted
        (CAPTIONER, Task.CAPTIONING, Serving.PROMPTED),
        (QWEN, Task.DETECTION, Serving.PROMPTED),
        (GEMMA, Task.CLASSIFICATION, Serving.PROMPTED),
        (SAM, Task.SEGMENTATION, Serving.METHOD),
        (RECOGNITION, Task.CLASSIFICATION, Serving.CLASSIC),
        (LOGO, Task.DETECTION, Serving.CLASSIC),
    ],
)
def test_models_fit_the_pages_their_signature_and_type_can_serve(client, model, task, serving):
    fit = fit_model(task.spec, client.get_model(model, CREDENTIALS))
    assert fit.fits, fit.problem
    assert fit.serving == serving
    if task == Task.CAPTIONING:
        assert fit.method.streaming, "captions stream"
    if task == Task.SEGMENTATION:
        assert fit.method.name == "segment_anything", "the method whose arguments the page can fill"


@pytest.mark.parametrize(
    ("model", "task", "words"),
    [
        (WHISPER, Task.CAPTIONING, "takes audio, not an image"),
        (QWEN, Task.SEGMENTATION, "masks need a segmentation model"),
        (RECOGNITION, Task.DETECTION, "needs a visual-detector model"),
    ],
)
def test_models_that_cannot_serve_a_page_are_refused_with_the_reason(client, model, task, words):
    fit = fit_model(task.spec, client.get_model(model, CREDENTIALS))
    assert not fit.fits and words in fit.problem


# --- routing and new status codes --------------------------------------------------------------------


def test_a_user_model_without_a_deployment_says_so(client, fake):
    with pytest.raises(errors.DeploymentError) as caught:
        ask(client, ACME, {"prompt": "Hi", "image": RED_SQUARE})
    assert caught.value.code == 21353 and "no deployment you can use" in caught.value.message


@pytest.mark.parametrize(
    "routing",
    [
        Routing(deployment_id="acme-deploy", user_id="acme"),
        Routing(nodepool_id="acme-pool", compute_cluster_id="acme-cluster", user_id="acme"),
    ],
)
def test_routing_is_sent_as_given(client, fake, routing):
    [result] = ask(client, ACME, {"prompt": "Hi", "image": RED_SQUARE}, routing=routing)
    assert result.ok, result.error
    selector = fake.calls_to("PostModelOutputs")[-1].runner_selector
    if routing.deployment_id:
        assert (selector.deployment.id, selector.deployment.user_id) == ("acme-deploy", "acme")
    else:
        assert selector.nodepool.id == "acme-pool"
        assert (selector.nodepool.compute_cluster.id, selector.nodepool.compute_cluster.user_id) == ("acme-cluster", "acme")


@pytest.mark.parametrize(
    ("routing", "code"),
    [
        (Routing(deployment_id="nope", user_id="acme"), 25900),
        (Routing(nodepool_id="nope", compute_cluster_id="acme-cluster", user_id="acme"), 25700),
        (Routing(nodepool_id="acme-pool", compute_cluster_id="nope", user_id="acme"), 25800),
    ],
)
def test_a_wrong_deployment_nodepool_or_cluster_names_what_to_check(client, fake, routing, code):
    with pytest.raises(errors.DeploymentError) as caught:
        ask(client, ACME, {"prompt": "Hi", "image": RED_SQUARE}, routing=routing)
    assert caught.value.code == code
    assert "nope" in caught.value.message and "Where it runs" in caught.value.message


def test_a_wrong_user_or_app_is_resource_not_found(client, fake):
    with pytest.raises(errors.ModelNotFoundError) as caught:
        client.get_model(ModelRef("nobody", "nothing", "general-image-recognition"), CREDENTIALS)
    assert caught.value.code == 11101 and "“nobody/nothing/general-image-recognition”" in caught.value.message


def test_a_legacy_model_made_private_asks_for_another(client, fake):
    with pytest.raises(errors.ModelNotFoundError) as caught:
        client.get_model(ModelRef("clarifai", "main", "general-image-detection"), CREDENTIALS)
    assert "Pick another model" in caught.value.message


# --- cold starts, retries, slots and rate ------------------------------------------------------------


def test_a_model_starting_up_is_waited_for_and_the_wait_is_reported(today_server, fake):
    client = make_client(today_server, CallPolicy(cold_start_wait_s=10, cold_start_poll_s=0.2, first_backoff_s=0.1))
    fake.cold_start(QWEN.short_path, 0.8)
    waits: list[str] = []
    [result] = ask(client, QWEN, {"prompt": "Hi", "image": RED_SQUARE}, callbacks=RunCallbacks(on_wait=waits.append))
    assert result.ok, result.error
    assert waits and all(w.startswith("Starting the model on Clarifai") for w in waits)
    assert len(fake.calls_to("PostModelOutputs")) >= 2
    client.close()


def test_a_model_still_starting_after_the_bounded_wait_says_how_long_and_what_to_do(client, fake):
    fake.cold_start(QWEN.short_path, 60)
    started = time.monotonic()
    with pytest.raises(errors.ModelWarmingUpError) as caught:
        ask(client, QWEN, {"prompt": "Hi", "image": RED_SQUARE})
    assert time.monotonic() - started < 5
    assert "kept trying for 1 s" in caught.value.message and "press Predict again" in caught.value.message


@pytest.mark.parametrize("code", [grpc.StatusCode.INTERNAL, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNKNOWN])
def test_other_transport_errors_are_not_retried(client, fake, code):
    fake.fail_next(Fault.rpc(code, times=None))
    with pytest.raises(errors.ClarifaiError):
        client.predict(RECOGNITION, [jpeg_bytes(20, 20)], PredictSettings(), CREDENTIALS)
    assert len(fake.calls_to("PostModelOutputs")) == 1


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED]
)
def test_passing_transport_errors_are_retried(client, fake, code):
    fake.fail_next(Fault.rpc(code))
    [result] = client.predict(RECOGNITION, [jpeg_bytes(20, 20)], PredictSettings(), CREDENTIALS)
    assert result.ok
    assert len(fake.calls_to("PostModelOutputs")) == 2


@pytest.mark.parametrize("code", [40030, 40031])  # RPC_REQUEST_QUEUE_FULL, RPC_SERVER_UNAVAILABLE
def test_a_busy_clarifai_is_retried_for_a_new_style_call_and_stops_the_run_when_it_stays_busy(client, fake, code):
    fake.fail_next(Fault.status(code))
    [result] = ask(client, QWEN, {"prompt": "Describe", "image": RED_SQUARE})
    assert result.ok and len(fake.calls_to("PostModelOutputs")) == 2
    fake.reset()
    fake.fail_next(Fault.status(code, times=None))
    with pytest.raises(errors.ServerBusyError) as caught:
        ask(client, QWEN, *[{"prompt": "Describe", "image": RED_SQUARE}] * 3)
    assert caught.value.code == code and "press Predict again" in caught.value.message


def test_retrying_a_slow_throttled_server_is_bounded_in_wall_time(client, fake):
    fake.fail_next(Fault.status(11005, seconds=0.3, times=None))  # answers "throttled" after 0.3 s
    started = time.monotonic()
    with pytest.raises(errors.ClarifaiError):
        client.predict(RECOGNITION, [jpeg_bytes(20, 20)], PredictSettings(), CREDENTIALS)
    assert time.monotonic() - started < FAST.retry_budget_s + 0.3 + 1.5  # one last attempt may be under way


def test_a_call_waiting_to_retry_holds_no_slot(today_server, fake):
    client = make_client(today_server, CallPolicy(cold_start_wait_s=3, cold_start_poll_s=0.2, first_backoff_s=0.2))
    client._transport.batch_slots = threading.BoundedSemaphore(1)  # one batch on the wire at a time
    fake.cold_start(RECOGNITION.short_path, 2.0)
    waiting = threading.Thread(
        target=lambda: client.predict(RECOGNITION, [jpeg_bytes(20, 20)], PredictSettings(), CREDENTIALS)
    )
    waiting.start()
    time.sleep(0.3)  # the first call is now waiting for the model to start
    started = time.monotonic()
    [result] = client.predict(LOGO, [jpeg_bytes(20, 20)], PredictSettings(), CREDENTIALS)
    assert result.ok and time.monotonic() - started < 1.0, "a healthy call did not wait behind a sleeping retry"
    assert waiting.is_alive()
    waiting.join()
    client.close()


def test_new_style_calls_fan_out_but_never_over_fifteen_requests_a_second(today_server, fake):
    client = make_client(today_server, CallPolicy(fan_out=16))
    runner = fake.runner(SLOW.short_path)
    runner.seconds_per_call = 0.3
    images = [{"prompt": "Hi", "image": jpeg_bytes(32, 32, (i, 0, 0))} for i in range(30)]
    started = time.monotonic()
    results = ask(client, SLOW, *images)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert elapsed < 30 * 0.3 / 3, "requests ran concurrently"
    received = sorted(call.received_at for call in fake.calls_to("PostModelOutputs"))
    busiest = max(sum(1 for t in received if start <= t < start + 1.0) for start in received)
    assert busiest <= 15
    client.close()


# --- fail-fast batches and concepts --------------------------------------------------------------------


def test_a_fail_fast_batch_sends_the_healthy_images_again_without_the_bad_one(client, fake):
    fake.fail_fast = True
    good, bad = jpeg_bytes(40, 30, (200, 30, 30)), b"\xff\xd8\xff not really a jpeg"
    results = client.predict(RECOGNITION, [good, bad, good[:-1] + b"\xd9"], PredictSettings(), CREDENTIALS)
    assert results[0].ok and results[2].ok
    assert isinstance(results[1].error, errors.InputFailedError) and results[1].error.code != 30002
    first, again = fake.calls_to("PostModelOutputs")
    assert len(first.request.inputs) == 3 and len(again.request.inputs) == 2


def test_select_concepts_match_exactly_and_none_matching_names_them(client, fake):
    [exact] = client.predict(RECOGNITION, [jpeg_bytes(40, 30, (220, 30, 30))], PredictSettings(select_concepts=("red",)), CREDENTIALS)
    assert [c.name for c in exact.prediction.concepts] == ["red"]
    with pytest.raises(errors.RequestError) as caught:
        client.predict(RECOGNITION, [jpeg_bytes(40, 30)], PredictSettings(select_concepts=("Red", "Dog")), CREDENTIALS)
    assert caught.value.code == 21202
    assert "“Red”, “Dog”" in caught.value.message and "exactly" in caught.value.message


# --- every status code of today's Clarifai ------------------------------------------------------------

NEW_CODES = {
    11101: (errors.ModelNotFoundError, "Clarifai found nothing at"),
    21350: (errors.ModelFailedError, "could not be deployed"),
    21351: (errors.ModelWarmingUpError, "is starting up"),
    21352: (errors.ModelWarmingUpError, "is starting up"),
    21353: (errors.DeploymentError, "has no deployment you can use"),
    21354: (errors.ModelWarmingUpError, "is starting up"),
    21355: (errors.ModelWarmingUpError, "is starting up"),
    **{code: (errors.DeploymentError, "Nothing is running") for code in (25600, 25601)},
    25604: (errors.ThrottledError, "asked to try again"),
    **{code: (errors.ModelFailedError, "could not process the request") for code in (25602, 25603, 25605, 25606, 25607, 25608, 25609)},
    **{code: (errors.DeploymentError, "Clarifai has no usable") for code in (25700, 25701, 25702, 25800, 25801, 25802)},
    **{code: (errors.DeploymentError, "serving the model") for code in (25900, 25901, 25902)},
    25903: (errors.DeploymentError, "is disabled"),
}


@pytest.mark.parametrize("code", sorted(NEW_CODES))
def test_each_new_status_code_says_what_to_do(code):
    from components.clarifai.status import error_for_status

    kind, words = NEW_CODES[code]
    routing = Routing(deployment_id="my-deploy", user_id="me")
    error = error_for_status(code, "Some description", model=QWEN, routing_label=routing.label)
    assert type(error) is kind, error
    assert words in error.message and error.code == code
    assert "Clarifai could not complete the request" not in error.message, "not the generic message"
    if code in (25600, 25601) or code >= 25700:
        assert "“my-deploy”" in error.message, "the message names the routing the sidebar gave"


def test_a_model_that_is_not_there_is_not_looked_up_again_on_every_redraw(client, fake):
    missing = ModelRef("clarifai", "main", "general-image-detection")  # made private
    for _ in range(3):
        with pytest.raises(errors.ModelNotFoundError):
            client.get_model(missing, CREDENTIALS)
    assert len(fake.calls_to("GetModel")) == 1
    with pytest.raises(errors.ClarifaiError):
        client.get_model(missing, Credentials("another-key", "sidebar"))  # one key's answer is not another's
    assert len(fake.calls_to("GetModel")) == 2


# --- tokens and time, as the runner reports them -----------------------------------------------------


@pytest.fixture
def token_models(fake):
    from tests.fake_clarifai import TOKEN_CATALOGUE

    fake.catalogue.extend(TOKEN_CATALOGUE)
    return {m.model_id: ModelRef(m.user_id, m.app_id, m.model_id) for m in TOKEN_CATALOGUE}


def test_cached_tokens_are_read_beside_the_prompt_and_completion_tokens(client, token_models):
    [result] = ask(client, token_models["counting-captioner"], {"image": RED_SQUARE})
    assert result.ok, result.error
    usage = result.prediction.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (300, 12, 256)
    assert result.prediction.token_words == "300 tokens in (256 cached), 12 out"


@pytest.mark.parametrize("method", ["predict", "generate"])
def test_a_model_reporting_no_tokens_is_said_not_to(client, token_models, method):
    [result] = ask(client, token_models["uncounted-captioner"], {"image": RED_SQUARE}, method=method)
    assert result.ok, result.error
    assert result.prediction.usage is None and result.prediction.token_words == "tokens not reported by this model"


def test_each_image_has_the_time_of_its_own_call_and_masks_have_no_token_words(client, fake):
    fake.runner(SLOW.short_path).seconds_per_call = 0.2
    [slow] = ask(client, SLOW, {"prompt": "Hi", "image": RED_SQUARE})
    assert 0.2 <= slow.prediction.seconds < 2.0 and slow.prediction.facts[0].endswith(" ms")
    [masks] = ask(client, SAM, {"image": RED_SQUARE}, method="segment_anything")
    assert masks.prediction.seconds > 0 and masks.prediction.token_words == ""
    assert not masks.prediction.facts[0].startswith("0.0")
