"""One prediction as the page made it, in the terms every form of "Get the code" writes, and the
pieces of Python the forms share. Pure: no network, no streamlit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.images.preparation import PreparedImage
from components.models import ModelInfo, ModelRef, PredictSettings, Routing
from components.run import answers
from components.run.backend import Backend, RunPlan
from components.run.model_fit import fit_model
from components.signatures import Method, RegionValue
from components.tasks import TaskSpec
from components.text import last_path_part

PAT_ENV = "CLARIFAI_PAT"  # where every form reads the key from
OPENAI_TRANSPORT = "openai_transport"  # the method behind Clarifai's OpenAI-compatible endpoint
# Clarifai's SDK waits this long for a model scaling up from zero (clarifai/client/model_client.py).
COLD_MODEL_WAIT_S = 600


@dataclass(frozen=True)
class CodeRequest:
    """One prediction as the page made it."""

    spec: TaskSpec
    model: ModelRef  # its version_id only when the person named one
    image_url: str = ""  # the image by its address, when it has one
    image_file: str = "image.jpg"  # else the file the code reads (the person's own copy)
    settings: PredictSettings = PredictSettings()  # old-style models' output settings
    method: Method | None = None  # a new-style model's method; None for an old-style model
    arguments: Mapping[str, Any] = field(default_factory=dict)  # its values (regions included), the image left out
    routing: Routing = Routing()
    openai_compatible: bool = False  # the model has `openai_transport`: Clarifai's OpenAI endpoint serves it

    @property
    def output_config(self) -> tuple[tuple[str, Any], ...]:
        """The output settings that mean something for an old-style model of this task, as
        (OutputConfig field, value): none for a captioner; only `min_value` for a text reader."""
        used = self.spec.output_settings_used if self.method is None else frozenset()
        settings, found = self.settings, []
        if "min_value" in used and settings.min_value is not None:
            found.append(("min_value", settings.min_value))
        if "max_concepts" in used and settings.max_concepts is not None:
            found.append(("max_concepts", settings.max_concepts))
        if "select_concepts" in used and settings.select_concepts:
            found.append(("select_concepts", tuple(settings.select_concepts)))
        return tuple(found)

    @property
    def offers_openai(self) -> bool:
        """Clarifai's OpenAI-compatible endpoint can make this request: a model with `openai_transport`,
        a method answering in text, and Clarifai's default routing (the endpoint takes no runner_selector)."""
        return self.openai_compatible and self.method is not None and self.method.returns_text and not self.routing.is_set


def request_for(
    plan: RunPlan, info: ModelInfo | None, image: PreparedImage, regions: Sequence[RegionValue] = ()
) -> CodeRequest | None:
    """What the page asked Clarifai for one image (given `regions` to work on, when it gave some), as a
    CodeRequest; None for a local model, or when what the model is is not known."""
    if plan.backend != Backend.CLARIFAI or plan.model is None or info is None:
        return None
    method = _method_called(plan.task.spec, info, bool(regions))
    arguments: dict[str, Any] = {}
    if method is not None:
        prompt = plan.task.spec.prompt_for(plan.model, plan.prompt, plan.labels, image.width, image.height)
        arguments = answers.call_arguments(method, b"", prompt, dict(plan.params), list(regions) if regions else None)
        if method.image_argument is not None:
            arguments.pop(method.image_argument.name, None)
    file_name = last_path_part(image.name) if image.source != "url" else ""
    return CodeRequest(
        plan.task.spec,
        plan.model,
        image_url=image.url if image.source == "url" else "",
        image_file=file_name or "image.jpg",
        settings=plan.settings,
        method=method,
        arguments=arguments,
        routing=plan.routing,
        openai_compatible=info.method(OPENAI_TRANSPORT) is not None,
    )


def _method_called(spec: TaskSpec, info: ModelInfo, given_regions: bool) -> Method | None:
    """The method the run called for an image: the one taking regions when it was given some."""
    if not info.is_new_style:
        return None
    fit = answers.fit_with_regions(spec, info) if given_regions else None
    return (fit or fit_model(spec, info)).method


# --- pieces of Python the forms share ----------------------------------------------------------


def py(text: str) -> str:
    """A Python string literal (JSON's double-quoted form, valid Python, with escapes for anything odd)."""
    return json.dumps(str(text), ensure_ascii=False)


def literal(value: Any) -> str:
    """A Python literal for an argument's value (numbers, booleans, text, lists and dicts of them)."""
    if isinstance(value, str):
        return py(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "None"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{py(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bytes):
        return repr(value)
    return py(str(value))


def cold_model_note() -> str:
    minutes = COLD_MODEL_WAIT_S // 60
    return f"# Clarifai scales idle models to zero: a model starting up is waited for, up to {minutes} minutes."


# What every form prints for a method's answer, so the forms and the page can be compared line by line.
REGION_LINE = (
    'print(f"{names}: box (top, left, bottom, right) "',
    '      f"{top:.3f}, {left:.3f}, {bottom:.3f}, {right:.3f}")',
)
CONCEPT_LINE = 'print(f"{concept.name} {concept.value:.2f}")'
