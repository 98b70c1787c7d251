"""“Get the code”: the generated Python, run against the local Clarifai server, gets the answer the
page showed; the key is never in it."""

from __future__ import annotations

import ast

import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel

from components.models import ModelRef, PredictSettings, Routing
from components.outputs.codegen import PAT_PLACEHOLDER, CodeRequest, python_code
from components.run import answers
from components.run.model_fit import fit_model
from components.settings import Credentials
from components.tasks import Task
from tests.conftest import TEST_KEY, require_tesseract
from tests.fake_clarifai import classic_model_for
from tests.helpers import PRINTED_LINES, png_bytes, scene_with_square, scene_with_text

SQUARE = png_bytes(scene_with_square())  # 400x300, a red square at x 80–240, y 30–150
SIGN = png_bytes(scene_with_text())  # the same with PRINTED_LINES on a white sign under the square
SQUARE_URL = "https://images.example/square.png"
SIGN_URL = "https://images.example/sign.png"


@pytest.fixture
def run_code(monkeypatch, clarifai_server, capsys):
    """Runs generated code as a person would, its channel pointed at the local server, the key in the
    environment; returns what it printed."""
    host, port = clarifai_server.address.rsplit(":", 1)
    monkeypatch.setattr(
        ClarifaiChannel, "get_grpc_channel", staticmethod(lambda *a, **k: ClarifaiChannel.get_insecure_grpc_channel(host, int(port)))
    )
    monkeypatch.setenv("CLARIFAI_PAT", TEST_KEY)
    clarifai_server.servicer.url_images[SQUARE_URL] = SQUARE

    def run(code: str, cwd) -> str:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        exec(compile(code, "generated.py", "exec"), {"__name__": "__main__"})
        return capsys.readouterr().out

    return run


def credentials() -> Credentials:
    return Credentials(TEST_KEY, "sidebar")


def check_safe(code: str) -> None:
    ast.parse(code)
    assert TEST_KEY not in code and PAT_PLACEHOLDER in code and 'os.environ.get("CLARIFAI_PAT"' in code


@pytest.mark.parametrize("task", list(Task))
@pytest.mark.parametrize("by_url", [False, True])
def test_code_for_a_classic_model_gets_the_answer_the_page_showed(client, classic_clarifai, run_code, tmp_path, task, by_url):
    model = classic_model_for(task.spec)
    settings = PredictSettings(max_concepts=5) if task == Task.CLASSIFICATION else PredictSettings()
    picture, url = SQUARE, SQUARE_URL
    if task == Task.OCR:
        require_tesseract()
        picture, url = SIGN, SIGN_URL
        classic_clarifai.url_images[SIGN_URL] = SIGN
    [shown] = client.predict(model, [url if by_url else picture], settings, credentials())
    (tmp_path / "square.png").write_bytes(picture)
    code = python_code(
        CodeRequest(task.spec, model, image_url=url if by_url else "", image_file="square.png", settings=settings)
    )
    check_safe(code)
    printed = run_code(code, tmp_path)
    prediction = shown.prediction
    if task == Task.CLASSIFICATION:
        assert printed.splitlines()[1:] == [f"{c.name} {c.value:.2f}" for c in prediction.concepts]
    elif task == Task.DETECTION:
        assert [line.split()[0] for line in printed.splitlines()[1:]] == [r.top_concept.name for r in prediction.regions]
    elif task == Task.SEGMENTATION:
        assert printed.splitlines()[1:] == [f"{r.top_concept.name} {r.top_concept.value:.4f}" for r in prediction.regions]
    elif task == Task.OCR:
        assert printed.splitlines()[1:] == [r.text for r in prediction.regions] == list(PRINTED_LINES)
    else:
        assert printed.strip() == prediction.caption


@pytest.mark.parametrize("task", [Task.CAPTIONING, Task.DETECTION, Task.CLASSIFICATION, Task.SEGMENTATION])
def test_code_for_a_new_style_model_gets_the_answer_the_page_showed(client, fake_clarifai, run_code, tmp_path, task):
    model = task.spec.models[1 if task == Task.CLASSIFICATION else 0].ref
    fit = fit_model(task.spec, client.get_model(model, credentials()))
    prompt = task.spec.prompt_for(None, "What colour is the square?", ("red",), 400, 300)
    params = {"max_tokens": 200, "temperature": 0.2}
    arguments = answers.call_arguments(fit.method, SQUARE, prompt, params)
    [shown] = client.call_method(model, fit.method, [arguments], credentials())
    (tmp_path / "square.png").write_bytes(SQUARE)
    given = {name: value for name, value in arguments.items() if name != fit.method.image_argument.name}
    code = python_code(CodeRequest(task.spec, model, image_file="square.png", method=fit.method, arguments=given))
    check_safe(code)
    printed = run_code(code, tmp_path)
    if fit.method.returns_text:
        assert printed.strip() == shown.prediction.caption.strip()
    else:
        names = [line.split(":")[0] for line in printed.strip().splitlines()]
        assert len(names) == len(shown.prediction.regions)
    sent = fake_clarifai.prediction_calls()[-1].request.inputs[0].data
    parts = {part.id: part.data for part in sent.parts}
    assert sent.metadata["_method_name"] == fit.method.name
    if "max_tokens" in parts:
        assert parts["max_tokens"].int_value == 200 and parts["temperature"].float_value == pytest.approx(0.2)


def test_code_names_the_deployment_the_page_used(client, fake_clarifai, run_code, tmp_path):
    task = Task.CAPTIONING
    model = ModelRef("acme", "vision", "acme-vlm")
    fit = fit_model(task.spec, client.get_model(model, credentials()))
    routing = Routing(deployment_id="acme-deploy", user_id="acme")
    code = python_code(
        CodeRequest(task.spec, model, image_url=SQUARE_URL, method=fit.method, arguments={"prompt": "Hi"}, routing=routing)
    )
    check_safe(code)
    printed = run_code(code, tmp_path)
    assert printed.startswith("a landscape picture (400x300)")
    selector = fake_clarifai.prediction_calls()[-1].runner_selector
    assert (selector.deployment.id, selector.deployment.user_id) == ("acme-deploy", "acme")


def test_odd_text_in_the_request_stays_a_string_in_the_code():
    prompt = 'say "hi"\n\\ \u2028 and """ end'
    [method] = [m for m in _vlm_methods() if m.name == "predict"]
    code = python_code(
        CodeRequest(Task.CAPTIONING.spec, ModelRef("u", "a", 'm"x'), image_url='https://x/"y', method=method, arguments={"prompt": prompt})
    )
    tree = ast.parse(code)
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert prompt in strings and 'm"x' in strings and 'https://x/"y' in strings


def _vlm_methods():
    from clarifai_grpc.grpc.api import resources_pb2

    from components.clarifai.parts import methods_from_protos

    T = resources_pb2.ModelTypeField.DataType
    fields = [
        resources_pb2.ModelTypeField(name="prompt", type=T.STR, required=True),
        resources_pb2.ModelTypeField(name="image", type=T.IMAGE),
    ]
    out = [resources_pb2.ModelTypeField(name="return", type=T.STR)]
    return methods_from_protos([resources_pb2.MethodSignature(name="predict", input_fields=fields, output_fields=out)])
