"""Test models for the local Clarifai, written the way Clarifai's own models are: subclasses of
`clarifai.runners.models.model_class.ModelClass` whose `@ModelClass.method`s declare the method
signatures. The local server hands requests to their `predict_wrapper` / `generate_wrapper`, so
parts, old-style conversion, failures, signatures and token counts are the runner's own.

No `from __future__ import annotations` here: the runner reads the annotations as types.
The VLM's signature is the one of Clarifai/runners-examples
`multimodal-models/qwen2_5-VL-3B-Instruct-vllm/1/model.py`.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

import cv2
import numpy as np
from clarifai.runners.models.model_class import ModelClass
from clarifai.runners.utils.data_types import Audio, Image, Region
from clarifai.runners.utils.data_utils import Param

from tests import ocr_engine, vlm_answers
from tests.color_analysis import color_labels, color_shares, pixels_as_stored

IMAGE_TOKENS = 256  # prompt tokens counted per picture
CHUNK_TOKENS = 3  # words per streamed chunk
MIN_SEGMENT_SHARE = 0.01  # colour regions smaller than this are not segmented

MAX_TOKENS_HELP = "The maximum number of tokens to generate. Shorter answers are cut off."
TEMPERATURE_HELP = "Sampling temperature: higher values give more varied answers, lower values more focused ones."
TOP_P_HELP = "Nucleus sampling: only the tokens making up this share of the probability are considered."


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

    def _answer(self, prompt: str, pictures: list[Image | None], max_tokens) -> tuple[str, int]:
        """The (possibly cut-off) answer and its prompt token count."""
        started = time.monotonic()
        time.sleep(self.seconds_per_call)
        if self.fails_with:
            raise RuntimeError(self.fails_with)
        given = [p for p in pictures if p is not None and p.bytes]
        with self._lock:
            scripted = self._scripted.popleft() if self._scripted else None
        if scripted is None:
            text = self._compute_reply(prompt, given)
        else:
            text = scripted
        text = "".join(vlm_answers.tokens(text)[: max(0, int(max_tokens))]).strip()
        with self._lock:
            self.calls.append((started, time.monotonic()))
        return text, len(vlm_answers.tokens(prompt)) + IMAGE_TOKENS * len(given)

    def _compute_reply(self, prompt: str, given: list[Image]) -> str:
        return vlm_answers.reply(prompt, [pixels_as_stored(p.bytes) for p in given], [p.bytes for p in given])

    def _reply(self, prompt, image, images, max_tokens) -> str:
        text, prompt_tokens = self._answer(prompt, [image, *(images or [])], max_tokens)
        self.set_output_context(prompt_tokens=prompt_tokens, completion_tokens=len(vlm_answers.tokens(text)))
        return text

    def _stream(self, prompt, image, images, max_tokens) -> Iterator[str]:
        text, prompt_tokens = self._answer(prompt, [image, *(images or [])], max_tokens)
        words = vlm_answers.tokens(text)
        for start in range(0, len(words), CHUNK_TOKENS):
            time.sleep(self.chunk_delay_s)
            if start + CHUNK_TOKENS >= len(words):  # usage comes with the last chunk, as in OpenAI streams
                self.set_output_context(prompt_tokens=prompt_tokens, completion_tokens=len(words))
            yield "".join(words[start : start + CHUNK_TOKENS])


class VisionLanguageModel(_Answering, ModelClass):
    """A VLM with the typical signature: a required prompt, optional pictures, tunable parameters."""

    @ModelClass.method
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
        return self._reply(prompt, image, images, max_tokens)

    @ModelClass.method
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
        yield from self._stream(prompt, image, images, max_tokens)


class DeepSeekOCR(VisionLanguageModel):
    """An OCR model with the standard VLM signature (deepseek-ai/deepseek-ocr/DeepSeek-OCR): asked
    with DeepSeek's grounding prompt ("<|grounding|>OCR this image.") it answers each line as
    `<|ref|>text<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>` on a 0–999 grid; asked anything else
    ("Free OCR.", or a request for JSON it does not follow) it answers the plain text."""

    def _compute_reply(self, prompt: str, given: list[Image]) -> str:
        if not given:
            return ""
        encoded = given[0].bytes
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


class CaptionerWithOptionalPrompt(_Answering, ModelClass):
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
    Methods as Clarifai's meta/segment-anything (Clarifai/docs docs/compute/inference/clarifai/api.md)."""

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
    def predict(self, image: Image, regions: list[Region]) -> list[Region]:
        """For each given region's box, the mask of the main colour region inside it."""
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

    def _stream(self, prompt, image, images, max_tokens) -> Iterator[str]:
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


def _full_size_labels(image: Image) -> tuple[np.ndarray, list[tuple[int, float]]]:
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
}


def new_runner(kind: str) -> ModelClass:
    model = RUNNERS[kind]()
    model.load_model()
    return model
