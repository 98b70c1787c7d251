"""“Get the code”: each form (the clarifai SDK, the OpenAI client, clarifai-grpc), run as shown
against the local servers, prints the answer the page showed; it waits for a cold model; the key is
never in it (tests/outputs/conftest.py runs the snippets)."""

from __future__ import annotations

import ast
from dataclasses import replace

import pytest

from components.images.preparation import PreparedImage
from components.models import ModelInfo, ModelRef, PredictSettings, Routing
from components.outputs.codegen import CodeRequest, code_forms, grpc_code, openai_code, request_for, sdk_code
from components.run import answers
from components.run.backend import Backend, RunPlan
from components.run.model_fit import fit_model
from components.settings import Credentials
from components.signatures import RegionValue
from components.tasks import QWEN_VL, SEGMENT_ANYTHING, Task
from tests.conftest import TEST_KEY, require_tesseract
from tests.fake_clarifai import Fault, classic_model_for
from tests.helpers import PRINTED_LINES, png_bytes, scene_with_square, scene_with_text

SQUARE = png_bytes(scene_with_square())  # 400x300, a red square at x 80–240, y 30–150
SIGN = png_bytes(scene_with_text())  # the same with PRINTED_LINES on a white sign under the square
CREDENTIALS = Credentials(TEST_KEY, "sidebar")
FORMS = ("sdk", "openai", "grpc")
CODE_OF = {"sdk": sdk_code, "openai": openai_code, "grpc": grpc_code}


def check_safe(code: str, image_url: str = "") -> None:
    ast.parse(code)
    assert TEST_KEY not in code and 'os.environ["CLARIFAI_PAT"]' in code
    code = code.replace(image_url, "IMAGE") if image_url else code  # the picture's address is the page's own
    assert "127.0.0.1" not in code and "localhost" not in code, "the code targets Clarifai, not the test servers"


def lines(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.strip()]


@pytest.fixture
def square_url(fake_clarifai, openai_endpoint):
    """The square by an address every form can reach: Clarifai fetches it (the local server's table),
    the OpenAI code downloads it (the endpoint serves it)."""
    openai_endpoint.images["square.png"] = (SQUARE, "image/png")
    openai_endpoint.images["sign.png"] = (SIGN, "image/png")
    fake_clarifai.url_images[openai_endpoint.image_url("square.png")] = SQUARE
    fake_clarifai.url_images[openai_endpoint.image_url("sign.png")] = SIGN
    return openai_endpoint.image_url("square.png")


# --- old-style models: the SDK's predict_by_url / predict_by_bytes, and clarifai-grpc ----------------


@pytest.mark.parametrize("task", list(Task))
@pytest.mark.parametrize("by_url", [False, True])
def test_code_for_a_classic_model_gets_the_answer_the_page_showed(
    client, classic_clarifai, run_snippet, square_url, tmp_path, task, by_url
):
    model = classic_model_for(task.spec)
    settings = PredictSettings(max_concepts=3) if task == Task.CLASSIFICATION else PredictSettings()
    picture, url = SQUARE, square_url
    if task == Task.OCR:
        require_tesseract()
        picture, url = SIGN, square_url.replace("square", "sign")
    [shown] = client.predict(model, [url if by_url else picture], settings, CREDENTIALS)
    (tmp_path / "square.png").write_bytes(picture)
    request = CodeRequest(task.spec, model, image_url=url if by_url else "", image_file="square.png", settings=settings)
    forms, first = code_forms(request)
    assert [form.label for form in forms] == ["clarifai SDK", "clarifai-grpc"] and first == "clarifai-grpc"
    printed = {}
    for form in ("sdk", "grpc"):
        code = CODE_OF[form](request)
        check_safe(code, request.image_url)
        printed[form] = lines(run_snippet(code, form).out)
    assert printed["sdk"] == printed["grpc"]
    prediction = shown.prediction
    answer = printed["grpc"]
    if task == Task.CLASSIFICATION:
        assert answer[1:] == [f"{c.name} {c.value:.2f}" for c in sorted(prediction.concepts, key=lambda c: -c.value)]
        assert len(answer[1:]) == 3, "max_concepts reached the model"
    elif task == Task.DETECTION:
        assert [line.split()[0] for line in answer[1:]] == [r.top_concept.name for r in prediction.regions]
    elif task == Task.SEGMENTATION:
        assert answer[1:] == [f"{r.top_concept.name} {r.top_concept.value:.4f}" for r in prediction.regions]
    elif task == Task.OCR:
        assert answer[1:] == [r.text for r in prediction.regions] == list(PRINTED_LINES)
    else:
        assert answer == [prediction.caption]


def test_a_captioner_is_sent_no_concept_settings_even_when_the_page_had_them():
    """A captioning page (or a link to one) carries the sidebar's max_concepts: meaningless for a caption."""
    request = CodeRequest(Task.CAPTIONING.spec, classic_model_for(Task.CAPTIONING.spec), settings=PredictSettings(0.2, 20, ("x",)))
    for code in (grpc_code(request), sdk_code(request)):
        assert "max_concepts" not in code and "min_value" not in code and "select_concepts" not in code
    reader = replace(request, spec=Task.OCR.spec)
    assert "min_value=0.2" in grpc_code(reader) and "max_concepts" not in grpc_code(reader)
    classifier = replace(request, spec=Task.CLASSIFICATION.spec)
    assert "max_concepts=20" in grpc_code(classifier) and '"max_concepts": 20' in sdk_code(classifier)
    assert 'resources_pb2.Concept(name="x")' in grpc_code(classifier) and '"select_concepts": [{"name": "x"}]' in sdk_code(classifier)


# --- new-style models: every form --------------------------------------------------------------------


def _new_style_request(client, task, model, *, by_url="", file="square.png", params=None, routing=Routing()):
    info = client.get_model(model, CREDENTIALS, routing=routing)
    fit = fit_model(task.spec, info)
    prompt = task.spec.prompt_for(model, "What colour is the square?", ("red",), 400, 300)
    arguments = answers.call_arguments(fit.method, by_url or SQUARE, prompt, params or {})
    given = {name: value for name, value in arguments.items() if name != fit.method.image_argument.name}
    request = CodeRequest(
        task.spec, model, image_url=by_url, image_file=file, method=fit.method, arguments=given, routing=routing,
        openai_compatible=info.method("openai_transport") is not None,
    )
    return request, fit, arguments


@pytest.mark.parametrize("task", [Task.CAPTIONING, Task.DETECTION, Task.CLASSIFICATION, Task.OCR])
def test_every_form_gets_the_vlms_answer_the_page_showed(client, fake_clarifai, run_snippet, square_url, tmp_path, task):
    if task == Task.OCR:
        require_tesseract()
    model = QWEN_VL
    params = {"max_tokens": 200, "temperature": 0.2}
    by_url = square_url if task == Task.DETECTION else ""
    request, fit, arguments = _new_style_request(client, task, model, by_url=by_url, params=params)
    picture = SIGN if task == Task.OCR else SQUARE
    (tmp_path / "square.png").write_bytes(picture)
    arguments[fit.method.image_argument.name] = picture
    [shown] = client.call_method(model, fit.method, [arguments], CREDENTIALS)
    forms, first = code_forms(request)
    assert [form.label for form in forms] == ["clarifai SDK", "OpenAI client", "clarifai-grpc"] and first == "clarifai SDK"
    expected = (shown.prediction.caption or "").strip()
    assert expected
    for form in FORMS:
        fake_clarifai.reset()
        code = CODE_OF[form](request)
        check_safe(code, request.image_url)
        assert "\n".join(lines(run_snippet(code, form).out)) == expected, form
        [call] = fake_clarifai.prediction_calls()
        sent = call.request.inputs[0].data
        if form == "openai":
            assert sent.metadata["_method_name"] == ("openai_stream_transport" if fit.method.streaming else "openai_transport")
            assert '"max_tokens": 200' in sent.parts[0].data.string_value
        else:
            parts = {part.id: part.data for part in sent.parts}
            assert sent.metadata["_method_name"] == fit.method.name
            assert parts["max_tokens"].int_value == 200 and parts["temperature"].float_value == pytest.approx(0.2)
        assert call.method == ("GenerateModelOutputs" if fit.method.streaming else "PostModelOutputs")


def test_segment_anything_by_the_sdk_and_grpc_names_the_masks_the_page_showed(client, fake_clarifai, run_snippet, tmp_path):
    request, fit, arguments = _new_style_request(client, Task.SEGMENTATION, SEGMENT_ANYTHING)
    assert fit.method.name == "segment_anything" and not request.offers_openai
    assert [form.label for form in code_forms(request)[0]] == ["clarifai SDK", "clarifai-grpc"]
    [shown] = client.call_method(SEGMENT_ANYTHING, fit.method, [arguments], CREDENTIALS)
    (tmp_path / "square.png").write_bytes(SQUARE)
    printed = {form: lines(run_snippet(CODE_OF[form](request), form).out) for form in ("sdk", "grpc")}
    assert printed["sdk"] == printed["grpc"] and len(printed["sdk"]) == len(shown.prediction.regions) >= 2
    assert all(line.startswith("region: box (top, left, bottom, right) ") for line in printed["sdk"])


def test_segment_anything_given_the_detectors_boxes_gets_them_in_every_form(client, fake_clarifai, run_snippet, tmp_path):
    """Segment Anything's predict(image, regions), as All tasks calls it: the boxes and their labels go in."""
    info = client.get_model(SEGMENT_ANYTHING, CREDENTIALS)
    plan = RunPlan(Task.SEGMENTATION, Backend.CLARIFAI, SEGMENT_ANYTHING, credentials=CREDENTIALS)
    image = _prepared("photos/square.png", "upload")
    boxes = (RegionValue(0.1, 0.2, 0.5, 0.6, (("red", "red", 0.9),)), RegionValue(0.0, 0.0, 1.0, 1.0, (("", "scene", 0.5),)))
    request = request_for(plan, info, image, boxes)
    assert request.method.name == "predict" and request.image_file == "square.png"
    (tmp_path / "square.png").write_bytes(SQUARE)
    for form in ("sdk", "grpc"):
        fake_clarifai.reset()
        code = CODE_OF[form](request)
        assert "left to its default" not in code
        printed = lines(run_snippet(code, form).out)
        assert [line.split(":")[0] for line in printed] == ["red", "scene"], form
        assert printed[0].endswith("0.100, 0.200, 0.500, 0.600"), "the mask's box is the box given"
        [call] = fake_clarifai.prediction_calls()
        parts = {part.id: part.data for part in call.request.inputs[0].data.parts}
        assert [r.data.concepts[0].name for r in parts["regions"].regions] == ["red", "scene"]
        assert parts["regions"].regions[0].region_info.bounding_box.left_col == pytest.approx(0.2)


@pytest.mark.parametrize("form", FORMS)
def test_each_form_waits_for_a_cold_model_and_says_so(client, fake_clarifai, run_snippet, tmp_path, form):
    request, fit, _ = _new_style_request(client, Task.CAPTIONING, QWEN_VL)
    (tmp_path / "square.png").write_bytes(SQUARE)
    fake_clarifai.reset()
    fake_clarifai.fail_next(Fault.status(21351, times=2, method="GenerateModelOutputs"))
    ran = run_snippet(CODE_OF[form](request), form)
    calls = fake_clarifai.calls_to("GenerateModelOutputs")
    assert len(calls) == 3, "two answers of MODEL_DEPLOYING, then the stream"
    waited = ran.err if form == "sdk" else ran.out
    assert waited.count("Model is still deploying" if form == "sdk" else "The model is starting up") == 2
    assert lines(ran.out)[-1].startswith("a landscape picture (400x300)")


def test_the_deployment_the_page_used_is_named_and_the_openai_form_is_not_offered(client, fake_clarifai, run_snippet, square_url):
    model = ModelRef("acme", "vision", "acme-vlm")
    routing = Routing(deployment_id="acme-deploy", user_id="acme")
    request, _, _ = _new_style_request(client, Task.CAPTIONING, model, by_url=square_url, routing=routing)
    assert request.openai_compatible and not request.offers_openai
    assert [form.label for form in code_forms(request)[0]] == ["clarifai SDK", "clarifai-grpc"]
    for form in ("sdk", "grpc"):
        fake_clarifai.reset()
        assert lines(run_snippet(CODE_OF[form](request), form).out)[-1].startswith("a landscape picture (400x300)")
        selector = fake_clarifai.prediction_calls()[-1].runner_selector
        assert (selector.deployment.id, selector.deployment.user_id) == ("acme-deploy", "acme")


def test_a_version_is_in_the_code_only_when_one_was_named(client, fake_clarifai, run_snippet, tmp_path):
    request, _, _ = _new_style_request(client, Task.CAPTIONING, QWEN_VL)
    for code in (sdk_code(request), grpc_code(request), openai_code(request)):
        assert "version" not in code.lower()
    named = ModelRef(*QWEN_VL.path.split("/"), "6c5d0a9e1f2b4c3d8e7f6a5b4c3d2e1f")
    pinned = replace(request, model=named)
    assert 'MODEL_VERSION_ID = "6c5d0a9e1f2b4c3d8e7f6a5b4c3d2e1f"' in grpc_code(pinned)
    assert "/versions/6c5d0a9e1f2b4c3d8e7f6a5b4c3d2e1f" in sdk_code(pinned)
    (tmp_path / "square.png").write_bytes(SQUARE)
    run_snippet(grpc_code(pinned), "grpc")
    assert fake_clarifai.prediction_calls()[-1].request.version_id == named.version_id


def test_a_model_without_openai_transport_gets_no_openai_form(client, fake_clarifai):
    request, _, _ = _new_style_request(client, Task.CAPTIONING, ModelRef("test-user", "vision", "optional-prompt-captioner"))
    assert not request.openai_compatible
    assert [form.label for form in code_forms(request)[0]] == ["clarifai SDK", "clarifai-grpc"]
    with pytest.raises(ValueError):
        openai_code(request)


def test_request_for_takes_the_method_and_the_routing_from_what_the_page_ran(client, fake_clarifai):
    info = client.get_model(QWEN_VL, CREDENTIALS)
    plan = RunPlan(Task.CAPTIONING, Backend.CLARIFAI, QWEN_VL, PredictSettings(max_concepts=20), CREDENTIALS, prompt="Hi",
                   params=(("max_tokens", 64),))
    image = _prepared("https://x/a.png", "url", url="https://x/a.png")
    request = request_for(plan, info, image)
    assert (request.method.name, request.image_url) == ("generate", "https://x/a.png")
    assert dict(request.arguments) == {"prompt": "Hi", "max_tokens": 64}
    assert request.offers_openai and request.output_config == ()
    assert request_for(plan, None, image) is None, "no code when what the model is is not known"
    assert request_for(replace(plan, backend=Backend.LOCAL), info, image) is None
    classic = ModelInfo(ModelRef("salesforce", "blip", "caption"), "BLIP", "image-to-text")
    assert request_for(plan, classic, image).method is None


def _prepared(name: str, source: str, url: str = "") -> PreparedImage:
    return PreparedImage(
        name=name, source=source, digest="d", data=SQUARE, mime="image/png", width=400, height=300, preview=b"",
        original_size=len(SQUARE), url=url,
    )


def test_odd_text_in_the_request_stays_a_string_in_every_form(client, fake_clarifai):
    prompt = 'say "hi"\n\\ \u2028 and """ end'
    request, _, _ = _new_style_request(client, Task.CAPTIONING, QWEN_VL, by_url='https://x/"y')
    request = replace(request, model=ModelRef("u", "a", "m.x"), arguments={**request.arguments, "prompt": prompt})
    for form in FORMS:
        tree = ast.parse(CODE_OF[form](request))
        strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        assert prompt in strings and 'https://x/"y' in strings, form
