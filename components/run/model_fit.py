"""Which models can serve which task page, and how: decided from the signature and the type.

An old-style model (no method signatures) serves a page when its `model_type_id` is one the page
lists. A new-style model serves it through a method that takes an image: one returning what the
page shows (regions, concepts) is called as it is (`METHOD`); a vision-language model returning text
is asked by a prompt (`PROMPTED`) where the page can turn text into its results. Anything else is
refused with a message saying why. Pure: no network, no streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from components.models import ModelInfo, ModelRef, Routing
from components.signatures import Method
from components.tasks import TaskSpec

# Arguments a page fills besides the image, the prompt and the tunable parameters.
FILLED_BY_PAGE: frozenset[str] = frozenset()


class Serving(StrEnum):
    CLASSIC = "classic"  # image in, outputs[].data out
    METHOD = "method"  # a method returning regions or concepts, called with the image
    PROMPTED = "prompted"  # a method returning text, asked by a prompt


@dataclass(frozen=True)
class ModelFit:
    serving: Serving | None = None
    method: Method | None = None
    problem: str = ""  # why the model cannot serve the page, in plain words ("" when it can)

    @property
    def fits(self) -> bool:
        return not self.problem


def fit_model(spec: TaskSpec, info: ModelInfo, filled: frozenset[str] = FILLED_BY_PAGE) -> ModelFit:
    """How `info`'s model can serve `spec`'s page, or why it cannot."""
    name = f"“{info.ref.short_path}”"
    if not info.methods:
        if info.model_type_id in spec.model_types:
            return ModelFit(Serving.CLASSIC)
        wanted = " or ".join(spec.model_types)
        return ModelFit(
            problem=f"{name} is a {info.model_type_id or 'model of unknown type'} model; the {spec.title} page "
            f"needs a {wanted} model, or a model that takes an image. Pick another model in the sidebar."
        )
    image_methods = [m for m in info.methods if m.image_argument is not None]
    if not image_methods:
        takes = sorted({a.kind_words for m in info.methods for a in m.arguments if not a.is_param and a.required})
        return ModelFit(
            problem=f"{name} takes {' and '.join(takes) or 'no image'}, not an image, so it cannot serve the "
            f"{spec.title} page. Pick an image model in the sidebar."
        )
    unfillable: dict[str, list[str]] = {}
    for method in _in_preference(image_methods, spec):
        missing = _unfillable(method, filled)
        serving = _serving(method, spec)
        if serving is None:
            continue
        if missing:
            unfillable[method.name] = missing
            continue
        return ModelFit(serving, method)
    if unfillable:
        listed = "; ".join(f"{method} needs {', '.join(args)}" for method, args in unfillable.items())
        return ModelFit(problem=f"{name} needs arguments this page cannot fill ({listed}). Pick another model in the sidebar.")
    return ModelFit(problem=_refusal(name, spec, image_methods))


def _serving(method: Method, spec: TaskSpec) -> Serving | None:
    if spec.direct_answer is not None and spec.direct_answer(method):
        return Serving.METHOD
    if method.returns_text and spec.prompted and (spec.answers_in_text or method.prompt_argument is not None):
        return Serving.PROMPTED
    return None


def _unfillable(method: Method, filled: frozenset[str]) -> list[str]:
    """Required arguments the page has no value for (the image, prompt and parameters it fills)."""
    image, prompt = method.image_argument, method.prompt_argument
    fillable = {a.name for a in (image, prompt) if a is not None} | {a.name for a in method.params} | filled
    return [a.name for a in method.arguments if a.required and a.name not in fillable]


def _in_preference(methods: list[Method], spec: TaskSpec) -> list[Method]:
    """Text pages stream (the answer appears as it is written); others take the whole answer at once.
    Within that, `predict` first, then the order the model declares."""
    wants_stream = spec.answers_in_text

    def rank(method: Method) -> tuple[int, int]:
        return (method.streaming != wants_stream, method.name != "predict")

    return sorted(methods, key=rank)


def _refusal(name: str, spec: TaskSpec, methods: list[Method]) -> str:
    returns = sorted({_return_words(m) for m in methods})
    reason = f"{name} answers with {' or '.join(returns)}"
    if spec.refusal_hint:
        return f"{reason}; {spec.refusal_hint}. Pick another model in the sidebar."
    return f"{reason}, which the {spec.title} page cannot show. Pick another model in the sidebar."


def _return_words(method: Method) -> str:
    if method.returns_text:
        return "text"
    if method.returns_regions:
        return "regions"
    if method.returns_concepts:
        return "concepts"
    return "data the app does not show"


@dataclass(frozen=True)
class ModelChoice:
    """The model a page will call, as chosen in the sidebar, and what is known of it."""

    ref: ModelRef | None
    problem: str = ""  # why there is no usable model ("" when there is)
    note: str = ""  # something to know, e.g. the default was replaced
    info: ModelInfo | None = None  # known once looked up (with a key)
    fit: ModelFit | None = None
    params: tuple[tuple[str, object], ...] = ()
    routing: Routing = Routing()

    @property
    def serving(self) -> Serving | None:
        return self.fit.serving if self.fit is not None and self.fit.fits else None
