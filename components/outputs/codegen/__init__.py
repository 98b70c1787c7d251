"""“Get the code”: the Python that makes the request a page made, in the three forms Clarifai's users
call models with: the `clarifai` SDK, the `openai` client against Clarifai's OpenAI-compatible
endpoint (models with `openai_transport` only), and `clarifai-grpc`.

Every form reads the key from `CLARIFAI_PAT` (the key typed in the sidebar never goes into it),
targets api.clarifai.com unless an environment variable names another host, waits for a model
starting up (bounded, with a message) and prints the answer as the page shows it. Pure: no network,
no streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.outputs.codegen.grpc_form import grpc_code
from components.outputs.codegen.openai_form import openai_code
from components.outputs.codegen.request import PAT_ENV, CodeRequest, request_for
from components.outputs.codegen.sdk_form import sdk_code

__all__ = ["PAT_ENV", "CodeForm", "CodeRequest", "code_forms", "grpc_code", "openai_code", "request_for", "sdk_code"]

SDK = "clarifai SDK"
OPENAI = "OpenAI client"
GRPC = "clarifai-grpc"


@dataclass(frozen=True)
class CodeForm:
    """One way of making the request: a tab's label, what to install, the code."""

    label: str
    install: str  # the pip command
    caption: str  # one line: what it is
    code: str


def code_forms(request: CodeRequest) -> tuple[list[CodeForm], str]:
    """The forms that can make this request, in tab order, and the label of the one to show first:
    the SDK for a new-style model, clarifai-grpc for an old-style one."""
    forms = [
        CodeForm(SDK, "pip install clarifai", "Clarifai's Python SDK.", sdk_code(request)),
    ]
    if request.offers_openai:
        caption = "The OpenAI client, against Clarifai's OpenAI-compatible endpoint."
        forms.append(CodeForm(OPENAI, "pip install openai", caption, openai_code(request)))
    forms.append(CodeForm(GRPC, "pip install clarifai-grpc", "Clarifai's gRPC client, one part per argument.", grpc_code(request)))
    return forms, SDK if request.method is not None else GRPC
