"""How the test vision-language models answer a prompt about pictures: deterministic replies
computed from the pictures as received, in the shapes real VLMs use.

- a prompt mentioning "bbox_2d": a ```json fenced list of {"bbox_2d": [x1, y1, x2, y2], "label": …}
  in absolute pixels of the picture as received, one per blob of saturated colour (Qwen2.5-VL's
  grounding form: QwenLM/Qwen2.5-VL README);
- a prompt mentioning "confidence": a JSON list of {"label": …, "confidence": 0–1} from the
  picture's colour shares and orientation, limited to the known labels the prompt names, if any;
- a prompt asking for "bbox_2d" and "text": the picture's text lines (read by tests/ocr_engine.py
  from the picture as received) in that JSON form;
- anything else: a caption, which repeats the question when the prompt asks one.
"""

from __future__ import annotations

import json
import re

import numpy as np

from tests import ocr_engine
from tests.color_analysis import (
    COLOR_NAMES,
    ORIENTATIONS,
    color_blobs,
    color_labels,
    color_shares,
    describe,
    orientation,
)

Picture = tuple[np.ndarray, tuple[int, int]]  # (small RGB copy, full (width, height))
KNOWN_LABELS = (*ORIENTATIONS, *COLOR_NAMES)
MIN_UNPROMPTED_SHARE = 0.05  # colours below this share are left out when the prompt names none


def tokens(text: str) -> list[str]:
    """One token per word, each with the whitespace after it, so joining them gives the text back."""
    return re.findall(r"\s*\S+\s*", text) if text.strip() else []


def reply(prompt: str, pictures: list[Picture], encoded: list[bytes] = ()) -> str:
    if not pictures:
        return "There is no picture to look at." + _echo_question(prompt)
    if asks_for_text_lines(prompt) and encoded:
        return text_lines_reply(encoded[0])
    if "bbox_2d" in prompt:
        return grounding_reply(pictures[0])
    if "confidence" in prompt.lower():
        return confidence_reply(prompt, pictures[0])
    captions = [describe(*picture) for picture in pictures]
    if len(captions) > 1:
        captions = [f"picture {n}: {caption}" for n, caption in enumerate(captions, start=1)]
    return "; ".join(captions) + _echo_question(prompt)


def asks_for_text_lines(prompt: str) -> bool:
    """A request to read the text, line by line with boxes (the app's OCR prompt for VLMs)."""
    return "bbox_2d" in prompt and '"text"' in prompt


def text_lines_reply(encoded: bytes) -> str:
    """The picture's text lines as Qwen2.5-VL writes grounded text: a ```json fenced list of
    {"bbox_2d": [x1, y1, x2, y2], "text": …} in pixels of the picture as received."""
    items = [json.dumps({"bbox_2d": list(line.box), "text": line.text}) for line in ocr_engine.read_lines(encoded)]
    body = "[\n" + ",\n".join(f"  {item}" for item in items) + "\n]" if items else "[]"
    return f"```json\n{body}\n```"


def grounding_reply(picture: Picture) -> str:
    rgb, (width, height) = picture
    lines = []
    for name, _score, (top, left, bottom, right) in color_blobs(rgb):
        box = [round(left * width), round(top * height), round(right * width), round(bottom * height)]
        lines.append(json.dumps({"bbox_2d": box, "label": name}))
    body = "[\n" + ",\n".join(f"  {line}" for line in lines) + "\n]" if lines else "[]"
    return f"```json\n{body}\n```"


def confidence_reply(prompt: str, picture: Picture) -> str:
    rgb, size = picture
    shares = {COLOR_NAMES[i]: share for i, share in color_shares(color_labels(rgb))}
    shape = orientation(size)

    def confidence(label: str) -> float:
        if label in ORIENTATIONS:
            return 0.99 if label == shape else 0.01
        return round(shares.get(label, 0.0), 3)

    named = [label for label in KNOWN_LABELS if re.search(rf"\b{label}\b", prompt, re.IGNORECASE)]
    labels = named or [shape, *(name for name, share in shares.items() if share >= MIN_UNPROMPTED_SHARE)]
    answer = [{"label": label, "confidence": confidence(label)} for label in labels]
    answer.sort(key=lambda item: -item["confidence"])
    return json.dumps(answer)


def _echo_question(prompt: str) -> str:
    questions = re.findall(r"[^.?!\n]*\?", prompt)
    return f' (you asked: "{questions[0].strip()}")' if questions else ""
