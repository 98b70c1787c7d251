"""The request as `openai` client code against Clarifai's OpenAI-compatible endpoint, as Clarifai's
inference docs call vision-language models: `model` is the model's address, the picture a base64
`image_url` data URL, the prompt a text part, the method's OpenAI parameters as they are. Only for
models with `openai_transport` (`CodeRequest.offers_openai`). Pure."""

from __future__ import annotations

import mimetypes

from components.outputs.codegen.request import COLD_MODEL_WAIT_S, PAT_ENV, CodeRequest, cold_model_note, literal, py

OPENAI_BASE_PATH = "/v2/ext/openai/v1"
# A method's parameters the OpenAI API has under the same name; the others cannot be sent this way.
OPENAI_PARAMETERS = ("max_tokens", "temperature", "top_p")


def openai_code(request: CodeRequest) -> str:
    """A complete script: the client, the picture as a data URL, the call (waiting for a cold model),
    the answer printed (streamed as it comes for a streaming method)."""
    method = request.method
    if not request.offers_openai or method is None:
        raise ValueError("Clarifai's OpenAI-compatible endpoint cannot make this request")
    prompt_argument = method.prompt_argument
    prompt = str(request.arguments.get(prompt_argument.name, "")) if prompt_argument is not None else ""
    lines = [
        "import base64",
        "import os",
        "import time",
        *(["import urllib.request"] if request.image_url else []),
        "",
        "import openai",
        "from openai import OpenAI",
        "",
        "# Clarifai's OpenAI-compatible endpoint (the CLARIFAI_API_BASE environment variable, as the",
        "# clarifai SDK reads it, names another API host).",
        'API_BASE = os.environ.get("CLARIFAI_API_BASE", "https://api.clarifai.com")',
        f'client = OpenAI(base_url=API_BASE + "{OPENAI_BASE_PATH}", api_key=os.environ["{PAT_ENV}"], max_retries=0)',
        f"MODEL_URL = {py(request.model.url)}",
        f"PROMPT = {py(prompt)}",
        "",
        *_picture(request),
        "",
    ]
    content = ['{"type": "text", "text": PROMPT}'] if prompt else []
    if method.image_argument is not None:
        content.append('{"type": "image_url", "image_url": {"url": image_url}}')
    parameters = [(name, request.arguments[name]) for name in OPENAI_PARAMETERS if name in request.arguments]
    left_out = [a.name for a in method.params if a.name in request.arguments and a.name not in OPENAI_PARAMETERS]
    if left_out:
        lines.append(f"# Not OpenAI parameters, so not sent this way: {', '.join(left_out)}.")
    lines += [
        cold_model_note(),
        f"WAIT_FOR_COLD_MODEL_S = {COLD_MODEL_WAIT_S}",
        "deadline = time.monotonic() + WAIT_FOR_COLD_MODEL_S",
        "wait = 1.0",
        "while True:",
        "    try:",
        "        response = client.chat.completions.create(",
        "            model=MODEL_URL,",
        f'            messages=[{{"role": "user", "content": [{", ".join(content)}]}}],',
        *(f"            {name}={literal(value)}," for name, value in parameters),
        f"            stream={method.streaming!r},",
        "        )",
        "        break",
        "    except openai.APIStatusError as error:  # 429 and 503: busy, or still starting up",
        "        if error.status_code not in (429, 503) or time.monotonic() + wait > deadline:",
        "            raise",
        '        print(f"The model is starting up ({error.status_code}); trying again in {wait:.0f} s", flush=True)',
        "        time.sleep(wait)",
        "        wait = min(wait * 2, 30)",
        "",
    ]
    if method.streaming:
        lines += [
            "for chunk in response:  # the answer arrives in pieces, printed as they come",
            "    if chunk.choices and chunk.choices[0].delta.content:",
            '        print(chunk.choices[0].delta.content, end="", flush=True)',
            "print()",
        ]
    else:
        lines.append("print(response.choices[0].message.content)")
    return "\n".join(lines).rstrip() + "\n"


def _picture(request: CodeRequest) -> list[str]:
    """The picture as a base64 data URL: downloaded from its address, or read from the file."""
    if request.image_url:
        return [
            f"IMAGE_URL = {py(request.image_url)}",
            "with urllib.request.urlopen(IMAGE_URL, timeout=30) as reply:",
            "    picture = reply.read()",
            '    kind = reply.headers.get_content_type() if reply.headers.get_content_maintype() == "image" else "image/jpeg"',
            'image_url = f"data:{kind};base64," + base64.b64encode(picture).decode()',
        ]
    kind = mimetypes.guess_type(request.image_file)[0] or ""
    kind = kind if kind.startswith("image/") else "image/jpeg"
    return [
        "# The picture, as a file. (The app sent it upright, without EXIF data, at most 1024 px on a side.)",
        f'with open({py(request.image_file)}, "rb") as f:',
        f'    image_url = "data:{kind};base64," + base64.b64encode(f.read()).decode()',
    ]
