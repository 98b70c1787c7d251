"""What vision-language models are asked: the caption presets, the check of a typed prompt, and
the classification and detection prompts. These ask for JSON, with the user's labels inserted as a
JSON list so that quotes, newlines or markup in them cannot bend the instruction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from components.vlm.labels import tidy_labels

DEFAULT_MAX_PROMPT_CHARS = 4_000


@dataclass(frozen=True)
class PromptPreset:
    """A named prompt that fills the prompt box; the user may edit it before running."""

    name: str
    prompt: str
    help: str = ""


CAPTION_PRESETS: tuple[PromptPreset, ...] = (
    PromptPreset("One-line caption", "Write a one-sentence caption for this image."),
    PromptPreset(
        "Detailed description",
        "Describe this image in detail: the main subjects and what they are doing, the setting, "
        "the colours and any notable details.",
    ),
    PromptPreset(
        "Alt text",
        "Write alt text for this image for someone using a screen reader: one or two plain "
        "sentences on what matters in it. Do not start with 'Image of' or 'Picture of'.",
        help="Short, plain text that describes the picture for people who cannot see it.",
    ),
    PromptPreset(
        "Read the text",
        "Read all the text visible in this image and write it out exactly as it appears, line by "
        "line. If there is no text, say so.",
    ),
    PromptPreset(
        "Ask a question",
        "What is happening in this image?",
        help="Replace this question with your own.",
    ),
)


def check_prompt(text: str, max_chars: int = DEFAULT_MAX_PROMPT_CHARS) -> str:
    """A message for a prompt that cannot be sent as it is, "" when it is fine."""
    stripped = (text or "").strip()
    if not stripped:
        return "The prompt is empty: type what the model should do, or pick a preset."
    if len(stripped) > max_chars:
        excess = len(stripped) - max_chars
        return (
            f"The prompt is {len(stripped):,} characters long; this model takes at most {max_chars:,}. "
            f"Shorten it by {excess:,} characters."
        )
    return ""


def classification_prompt(labels: Sequence[str]) -> str:
    """Ask for [{"label", "confidence"}], choosing only from `labels` (cleaned), or open-ended when none."""
    chosen, _ = tidy_labels(labels)
    answer_form = '[{"label": "%s", "confidence": <your confidence from 0 to 1>}]'
    if chosen:
        return (
            "Classify this image using only the labels in this JSON list:\n"
            f"{_json_list(chosen)}\n"
            "Answer with a JSON list holding one object for each label that applies to the image, "
            "most likely first:\n"
            + answer_form % "<a label from the list, spelled exactly as given>"
            + "\nUse no other labels. If none applies, answer []. "
            "Answer with the JSON list only, no other text."
        )
    return (
        "List the main things this image shows (objects, animals, people, the scene, activities), "
        "at most 10.\n"
        "Answer with a JSON list, most likely first:\n"
        + answer_form % "<a short name of one to three words>"
        + "\nAnswer with the JSON list only, no other text."
    )


def detection_prompt(things: Sequence[str], image_size: tuple[int, int] | None = None) -> str:
    """Ask for [{"bbox_2d": [x1, y1, x2, y2], "label"}] for each instance of `things` (cleaned), in
    Qwen2.5-VL's grounding form; every object when `things` is empty. `image_size` (width, height)
    of the image as sent, when given, is stated so that models other than Qwen know the pixel scale."""
    chosen, _ = tidy_labels(things)
    size = ""
    if image_size and all(isinstance(v, int) and v > 0 for v in image_size):
        size = f", which is {image_size[0]}x{image_size[1]} pixels"
    if chosen:
        target = (
            "Find every instance of each thing named in this JSON list:\n"
            f"{_json_list(chosen)}\n"
            "Outline the position of each one and output all the coordinates in JSON format, "
        )
        label = "<the name from the list>"
    else:
        target = (
            "Find every distinct object in this image.\n"
            "Outline the position of each one and output all the coordinates in JSON format, "
        )
        label = "<a short name of the object>"
    return (
        target
        + "as a JSON list holding one object per instance:\n"
        + f'[{{"bbox_2d": [x1, y1, x2, y2], "label": "{label}"}}]\n'
        + "where (x1, y1) is the top-left corner and (x2, y2) the bottom-right corner of the box, "
        f"in pixels of the image{size}.\n"
        "If there is none, answer []. Answer with the JSON list only, no other text."
    )


def text_reading_prompt(image_size: tuple[int, int] | None = None) -> str:
    """Ask for every line of text with its box, in Qwen2.5-VL's grounding form with the text in
    place of a label; a model that answers in plain text is read line by line instead."""
    size = ""
    if image_size and all(isinstance(v, int) and v > 0 for v in image_size):
        size = f", which is {image_size[0]}x{image_size[1]} pixels"
    return (
        "Read all the text in this image, line by line, in reading order.\n"
        "Output it in JSON format, as a JSON list holding one object per line of text:\n"
        '[{"bbox_2d": [x1, y1, x2, y2], "text": "<the line, exactly as written>"}]\n'
        "where (x1, y1) is the top-left corner and (x2, y2) the bottom-right corner of the line, "
        f"in pixels of the image{size}.\n"
        "If there is no text, answer []. Answer with the JSON list only, no other text."
    )


def _json_list(labels: Sequence[str]) -> str:
    # JSON escapes quotes, backslashes and control characters: the labels stay data.
    return json.dumps(list(labels), ensure_ascii=False)
