"""Test models for the local Clarifai, written the way Clarifai's own models are: subclasses of
`clarifai.runners.models.model_class.ModelClass` whose `@ModelClass.method`s declare the method
signatures. The local server hands requests to their `predict_wrapper` / `generate_wrapper`, so
parts, old-style conversion, failures, signatures and token counts are the runner's own.

No `from __future__ import annotations` here: the runner reads the annotations as types.
The VLMs are what Clarifai hosts (Clarifai/runners-examples
`multimodal-models/qwen2_5-VL-3B-Instruct-vllm/1/model.py`): `OpenAIModelClass` runners whose
`predict` / `generate` ask an OpenAI-compatible server behind them, and whose `openai_transport` /
`openai_stream_transport` serve Clarifai's OpenAI-compatible endpoint (tests/openai_endpoint.py).
"""

import base64
import json
import threading
import time
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterator

import cv2
import httpx
import numpy as np
from clarifai.runners.models.model_class import ModelClass
from clarifai.runners.models.openai_class import OpenAIModelClass
from clarifai.runners.utils.data_types import JSON, Audio, Image, Region
from clarifai.runners.utils.data_utils import Param
from clarifai.runners.utils.openai_convertor import build_openai_messages
from openai import OpenAI

from tests import ocr_engine, vlm_answers
from tests.color_analysis import color_labels, color_shares, pixels_as_stored

IMAGE_TOKENS = 256  # prompt tokens counted per picture
CHUNK_TOKENS = 3  # words per streamed chunk
MIN_SEGMENT_SHARE = 0.01  # colour regions smaller than this are not segmented

MAX_TOKENS_HELP = "The maximum number of tokens to generate. Shorter answers are cut off."
TEMPERATURE_HELP = "Sampling temperature: higher values give more varied answers, lower values more focused ones."
TOP_P_HELP = "Nucleus sampling: only the tokens making up this share of the probability are considered."
CHAT_MODEL_NAME = "test-vlm"  # what the OpenAI-compatible server behind a VLM calls its model


class _Answering:
    """What the test VLMs share: scripted replies, a configurable thinking time, token counting."""

    def __init__(self, seconds_per_call: float = 0.0, chunk_delay_s: float = 0.005, fails_with: str = ""):
        super().__init__()
        self.seconds_per_call = seconds_per_call  # each answer takes this long (a VLM takes seconds)
        self.chunk_delay_s = chunk_delay_s  # pause between streamed chunks
        self.fails_with = fails_with  # when set, every answer raises RuntimeError(fails_with)
        self.calls: list[tuple[float, float]] = []  # (started, finished) monotonic times of each answer
        self._scripted: deque[str] = deque()
        self._lock = threading.Lock()

    def script_replies(self, *texts: str) -> None:
        """The next answers are these texts, one per answer, whatever the prompt and pictures."""
        with self._lock:
            self._scripted.extend(texts)

    def _answer(self, prompt: str, pictures: list[bytes], max_tokens) -> tuple[str, int]:
        """The (possibly cut-off) answer to `prompt` about the encoded `pictures`, and its prompt token count."""
        started = time.monotonic()
        time.sleep(self.seconds_per_call)
        self._fail_if_broken()
        given = [p for p in pictures if p]
        with self._lock:
            scripted = self._scripted.popleft() if self._scripted else None
        text = self._compute_reply(prompt, given) if scripted is None else scripted
        text = "".join(vlm_answers.tokens(text)[: max(0, int(max_tokens))]).strip()
        with self._lock:
            self.calls.append((started, time.monotonic()))
        return text, len(vlm_answers.tokens(prompt)) + IMAGE_TOKENS * len(given)

    def _fail_if_broken(self) -> None:
        if self.fails_with:
            raise RuntimeError(self.fails_with)

    def _compute_reply(self, prompt: str, given: list[bytes]) -> str:
        return vlm_answers.reply(prompt, [pixels_as_stored(p) for p in given], given)

    def _chunks(self, text: str) -> Iterator[str]:
        """A streamed answer: a few words at a time, `chunk_delay_s` apart."""
        words = vlm_answers.tokens(text)
        for start in range(0, len(words), CHUNK_TOKENS):
            time.sleep(self.chunk_delay_s)
            yield "".join(words[start : start + CHUNK_TOKENS])


def _picture_bytes(picture: Image | None) -> bytes:
    return picture.bytes if picture is not None and picture.bytes else b""


class VisionLanguageModel(_Answering, OpenAIModelClass):
    """A VLM as Clarifai hosts them: an `OpenAIModelClass` in front of an OpenAI-compatible server
    (vLLM's part is played in-process by `chat_server`), with the typical signature: `predict` and
    `generate` (a required prompt, optional pictures, tunable parameters), and `openai_transport` /
    `openai_stream_transport` for Clarifai's OpenAI-compatible endpoint. As in runners-examples,
    `predict` reports token counts and `generate`'s stream carries none."""

    client = True  # set in load_model, as runners-examples do
    model = True

    def load_model(self):
        self.client = OpenAI(
            api_key="notset",
            base_url="http://vlm-server.invalid/v1",
            max_retries=0,
            http_client=httpx.Client(transport=httpx.MockTransport(self.chat_server)),
        )
        self.model = CHAT_MODEL_NAME

    @OpenAIModelClass.method
    def predict(
        self,
        prompt: str,
        image: Image = None,
        images: list[Image] = None,
        chat_history: list[dict] = None,
        max_tokens: int = Param(512, description=MAX_TOKENS_HELP, min_value=1, max_value=4096),
        temperature: float = Param(0.7, description=TEMPERATURE_HELP, min_value=0.0, max_value=2.0),
        top_p: float = Param(0.95, description=TOP_P_HELP, min_value=0.0, max_value=1.0),
    ) -> str:
        """Answers the prompt about the image(s)."""
        self._fail_if_broken()
        messages = build_openai_messages(prompt=prompt, image=image, images=images, messages=chat_history)
        response = self.client.chat.completions.create(
            model=self.model, messages=messages, max_completion_tokens=max_tokens, temperature=temperature, top_p=top_p
        )
        if response.usage and response.usage.prompt_tokens and response.usage.completion_tokens:
            self.set_output_context(prompt_tokens=response.usage.prompt_tokens, completion_tokens=response.usage.completion_tokens)
        return response.choices[0].message.content

    @OpenAIModelClass.method
    def generate(
        self,
        prompt: str,
        image: Image = None,
        images: list[Image] = None,
        chat_history: list[dict] = None,
        max_tokens: int = Param(512, description=MAX_TOKENS_HELP, min_value=1, max_value=4096),
        temperature: float = Param(0.7, description=TEMPERATURE_HELP, min_value=0.0, max_value=2.0),
        top_p: float = Param(0.95, description=TOP_P_HELP, min_value=0.0, max_value=1.0),
    ) -> Iterator[str]:
        """Streams the answer to the prompt about the image(s)."""
        self._fail_if_broken()
        messages = build_openai_messages(prompt=prompt, image=image, images=images, messages=chat_history)
        for chunk in self.client.chat.completions.create(
            model=self.model, messages=messages, max_completion_tokens=max_tokens, temperature=temperature, top_p=top_p,
            stream=True,
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    def chat_server(self, request: httpx.Request) -> httpx.Response:
        """The OpenAI-compatible server behind the model (vLLM's `/v1/chat/completions`): the answer
        to the last user message's text about its pictures; streamed as server-sent events when asked,
        with a usage chunk at the end only when `stream_options.include_usage` asks for one."""
        if not request.url.path.endswith("/chat/completions"):
            return httpx.Response(404, json={"error": {"message": f"no route {request.url.path}"}})
        body = json.loads(request.content)
        try:
            prompt, pictures = _last_user_message(body.get("messages") or [])
        except _ImageFetchFailed as failure:  # as vLLM answers a picture address it cannot open
            return httpx.Response(400, json={"object": "error", "message": str(failure), "type": "BadRequestError", "code": 400})
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or 4096
        text, prompt_tokens = self._answer(prompt, pictures, limit)
        completion_tokens = len(vlm_answers.tokens(text))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
        ids = {"id": "chatcmpl-" + uuid.uuid4().hex, "created": int(time.time()), "model": self.model}
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return httpx.Response(200, json={**ids, "object": "chat.completion", "choices": [choice], "usage": usage})
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def events() -> Iterator[bytes]:
            chunk = {**ids, "object": "chat.completion.chunk"}
            for piece in self._chunks(text):
                delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                yield f"data: {json.dumps({**chunk, 'choices': [delta]})}\n\n".encode()
            yield f"data: {json.dumps({**chunk, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n".encode()
            if with_usage:
                yield f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events())


class _ImageFetchFailed(Exception):
    """A picture given by address that the OpenAI-compatible server could not fetch."""


def _fetch_picture(url: str) -> bytes:
    """What vLLM does with an `image_url` that is an address (the runner leaves one there when its
    own download failed): fetches it, and refuses the request when it cannot."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read(20 * 1024 * 1024)
    except (OSError, ValueError) as error:
        raise _ImageFetchFailed(f"Failed to fetch image from {url}: {error}") from None


def _last_user_message(messages: list[dict]) -> tuple[str, list[bytes]]:
    """The text and the pictures (base64 data URLs, or addresses fetched) of the last user message."""
    content = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "") or ""
    if isinstance(content, str):
        return content, []
    texts, pictures = [], []
    for part in content:
        if part.get("type") == "text":
            texts.append(part.get("text", ""))
        elif part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            if url.startswith("data:"):
                pictures.append(base64.b64decode(url.split(",", 1)[1]))
            elif url.startswith(("http://", "https://")):
                pictures.append(_fetch_picture(url))
            else:
                pictures.append(b"")
    return "\n".join(texts), pictures


class _DirectAnswering(_Answering):
    """A test model answering in its own methods (no OpenAI-compatible server behind it), counting tokens."""

    def _reply(self, prompt, image, images, max_tokens) -> str:
        pictures = [_picture_bytes(p) for p in [image, *(images or [])]]
        text, prompt_tokens = self._answer(prompt, pictures, max_tokens)
        self.set_output_context(prompt_tokens=prompt_tokens, completion_tokens=len(vlm_answers.tokens(text)))
        return text

    def _stream(self, prompt, image, images, max_tokens) -> Iterator[str]:
        pictures = [_picture_bytes(p) for p in [image, *(images or [])]]
        text, _ = self._answer(prompt, pictures, max_tokens)
        yield from self._chunks(text)


class DeepSeekOCR(VisionLanguageModel):
    """An OCR model with the standard VLM signature (deepseek-ai/deepseek-ocr/DeepSeek-OCR): asked
    with DeepSeek's grounding prompt ("<|grounding|>OCR this image.") it answers each line as
    `<|ref|>text<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>` on a 0–999 grid; asked anything else
    ("Free OCR.", or a request for JSON it does not follow) it answers the plain text."""

    def _compute_reply(self, prompt: str, given: list[bytes]) -> str:
        if not given:
            return ""
        encoded = given[0]
        lines = ocr_engine.read_lines(encoded)
        if "<|grounding|>" not in prompt:
            return "\n".join(line.text for line in lines)
        width, height = ocr_engine.image_size(encoded)

        def grid(value: int, size: int) -> int:
            return min(999, round(value / size * 999))

        return "\n".join(
            f"<|ref|>{line.text}<|/ref|><|det|>[[{grid(line.box[0], width)}, {grid(line.box[1], height)}, "
            f"{grid(line.box[2], width)}, {grid(line.box[3], height)}]]<|/det|>"
            for line in lines
        )


class CaptionerWithOptionalPrompt(_DirectAnswering, ModelClass):
    """Like the VLM, but the prompt may be left out: it then captions the picture."""

    @ModelClass.method
    def predict(
        self,
        prompt: str = "",
        image: Image = None,
        images: list[Image] = None,
        max_tokens: int = Param(256, description=MAX_TOKENS_HELP, min_value=1, max_value=2048),
        temperature: float = Param(0.7, description=TEMPERATURE_HELP, min_value=0.0, max_value=2.0),
    ) -> str:
        """Captions the image, or answers the prompt about it."""
        return self._reply(prompt, image, images, max_tokens)

    @ModelClass.method
    def generate(
        self,
        prompt: str = "",
        image: Image = None,
        images: list[Image] = None,
        max_tokens: int = Param(256, description=MAX_TOKENS_HELP, min_value=1, max_value=2048),
        temperature: float = Param(0.7, description=TEMPERATURE_HELP, min_value=0.0, max_value=2.0),
    ) -> Iterator[str]:
        """Streams the caption, or the answer to the prompt."""
        yield from self._stream(prompt, image, images, max_tokens)


class SegmentAnything(ModelClass):
    """Class-agnostic masks, one per colour region of the picture (as the classic fake segmenter
    finds them), with their boxes; or, given regions, the main colour region inside each box.
    Methods as Clarifai's meta/segment-anything (Clarifai/docs docs/compute/inference/clarifai/api.md:
`segment_anything(image)` and `predict(image, regions, dict_inputs, round_mask, multimask_output,
denormalize_coord)`)."""

    @ModelClass.method
    def segment_anything(self, image: Image) -> list[Region]:
        """Masks every region of the image."""
        labels, shares = _full_size_labels(image)
        regions = []
        for index, share in shares:
            if share < MIN_SEGMENT_SHARE:
                continue
            mask = labels == index
            rows, cols = np.nonzero(mask)
            height, width = mask.shape
            box = [cols.min() / width, rows.min() / height, (cols.max() + 1) / width, (rows.max() + 1) / height]
            region = Region(box=[float(v) for v in box])
            region.mask = mask.astype(np.uint8) * 255  # the runner stores it as a PNG (Image.from_numpy)
            region.proto.value = share  # the share of the picture the mask covers
            regions.append(region)
        return regions

    @ModelClass.method
    def predict(
        self,
        image: Image,
        regions: list[Region],
        dict_inputs: JSON = None,
        round_mask: bool = False,
        multimask_output: bool = False,
        denormalize_coord: bool = True,
    ) -> list[Region]:
        """For each given region's box, the mask of the main colour region inside it. `regions` is
        required, as in Clarifai's model: a call without it is refused by the runner ("Missing
        required field: regions"). The other arguments are accepted as the real model's are; boxes
        are always read as 0–1 fractions here."""
        labels, _ = _full_size_labels(image)
        height, width = labels.shape
        answered = []
        for given in regions:
            left, top, right, bottom = given.box
            if right <= left or bottom <= top:  # no box: the whole picture
                left, top, right, bottom = 0.0, 0.0, 1.0, 1.0
            x0, y0 = int(left * width), int(top * height)
            x1, y1 = max(x0 + 1, round(right * width)), max(y0 + 1, round(bottom * height))
            window = labels[y0:y1, x0:x1]
            main = np.bincount(window.ravel()).argmax()
            mask = np.zeros((height, width), np.uint8)
            mask[y0:y1, x0:x1] = (window == main).astype(np.uint8) * 255
            region = Region(proto_region=type(given.proto)())
            region.proto.CopyFrom(given.proto)  # keeps the given id, box and concepts
            region.mask = mask
            answered.append(region)
        return answered


class HostileSegmenter(ModelClass):
    """A published model whose answer is built to exhaust the app: `regions_per_answer` regions,
    each a full-size mask of the picture (the same PNG, so the test server spends no time on it)."""

    regions_per_answer = 10_000

    @ModelClass.method
    def segment_anything(self, image: Image) -> list[Region]:
        """Masks every region of the image, many times over."""
        _, (width, height) = pixels_as_stored(image.bytes)
        plane = np.zeros((height, width), np.uint8)
        plane[: height // 2, : width // 2] = 255
        ok, png = cv2.imencode(".png", plane)
        regions = []
        for number in range(self.regions_per_answer):
            region = Region(box=[0.0, 0.0, 0.5, 0.5])
            region.proto.region_info.mask.image.base64 = png.tobytes()
            region.proto.value = number / self.regions_per_answer
            regions.append(region)
        return regions


class EndlessWriter(VisionLanguageModel):
    """A published VLM that streams far more than any answer needs: `chunk` repeated `chunks` times."""

    chunk = "all work and no play makes a long answer " * 25  # 1 KB a chunk
    chunks = 50_000  # 50 MB in all

    def __init__(self):
        super().__init__(chunk_delay_s=0.0)

    def _chunks(self, text: str) -> Iterator[str]:
        for _ in range(self.chunks):
            if self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
            yield self.chunk


class SpeechRecognizer(ModelClass):
    """An audio-to-text model (openai/whisper's shape): audio in, text out."""

    @ModelClass.method
    def predict(self, audio: Audio) -> str:
        """Transcribes the audio."""
        if audio.bytes:
            return f"a transcript of {len(audio.bytes)} bytes of audio"
        return f"a transcript of the audio at {audio.url}"


class CountingCaptioner(ModelClass):
    """A captioner that reports its tokens, cached ones too (`Output.cached_tokens`)."""

    prompt_tokens, completion_tokens, cached_tokens = 300, 12, 256

    @ModelClass.method
    def predict(self, image: Image) -> str:
        """Captions the image."""
        self.set_output_context(
            prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens, cached_tokens=self.cached_tokens
        )
        return f"a picture of {len(image.bytes)} bytes"


class UncountedCaptioner(ModelClass):
    """A captioner that reports no tokens, as most VLM streams on Clarifai do."""

    @ModelClass.method
    def predict(self, image: Image) -> str:
        """Captions the image."""
        return f"a picture of {len(image.bytes)} bytes"

    @ModelClass.method
    def generate(self, image: Image) -> Iterator[str]:
        """Streams the caption."""
        yield "a picture of "
        yield f"{len(image.bytes)} bytes"


def _full_size_labels(image: Image) -> tuple[np.ndarray, list[tuple[int, float]]]:
    # Opened as Clarifai's models open their images: "Image has no bytes" when the runner's download
    # failed, PIL's "cannot identify image file" when the bytes are no picture.
    image.to_pil().close()
    rgb, (width, height) = pixels_as_stored(image.bytes)
    small = color_labels(rgb).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST), color_shares(small)


# Runner kinds the catalogue names (FakeModel.runner) → a new model instance.
RUNNERS: dict[str, Callable[[], ModelClass]] = {
    "vlm": VisionLanguageModel,
    "optional-prompt-captioner": CaptionerWithOptionalPrompt,
    "broken-vlm": lambda: VisionLanguageModel(fails_with="CUDA out of memory"),
    "slow-vlm": lambda: VisionLanguageModel(seconds_per_call=1.0),
    "deepseek-ocr": DeepSeekOCR,
    "segment-anything": SegmentAnything,
    "speech-to-text": SpeechRecognizer,
    "hostile-segmenter": HostileSegmenter,
    "endless-writer": EndlessWriter,
    "counting-captioner": CountingCaptioner,
    "uncounted-captioner": UncountedCaptioner,
}


def new_runner(kind: str) -> ModelClass:
    model = RUNNERS[kind]()
    model.load_model()
    return model
