"""The tasks the app offers, in one table: one `TaskSpec` per task.

Everything that differs between tasks and is not drawing or page layout lives here: names, page,
which Clarifai models fit and how (the method whose answer the task shows as it is, what a
vision-language model is asked and how its answer is read), the default model, the local
stand-in, what "Get the code" prints. How a task's results are shown, compared and combined lives
in its view (`components/views/<task>.py`). README, "Adding a task", lists the files a new task
needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from operator import attrgetter

import numpy as np

from components.drawing.masks import mask_as_bool
from components.local_models.catalogue import (
    CASCADE_DETECTOR,
    COLOR_CLASSIFIER,
    COLOR_HISTOGRAM,
    COLOR_SEGMENTER,
    FINE_COLOR_SEGMENTER,
    LOCAL_DETECTOR,
    LocalModel,
)
from components.models import ModelRef
from components.results import Concept, Prediction, Region
from components.signatures import Method
from components.vlm.boxes import parse_boxes
from components.vlm.concepts import parse_concepts
from components.vlm.prompts import CAPTION_PRESETS, classification_prompt, detection_prompt, text_reading_prompt
from components.vlm.text_lines import in_reading_order, parse_text_lines


class Task(StrEnum):
    CLASSIFICATION = "classification"
    DETECTION = "detection"
    SEGMENTATION = "segmentation"
    CAPTIONING = "captioning"
    OCR = "ocr"

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self]

    @property
    def title(self) -> str:
        return TASKS[self].title


class ResultKind(StrEnum):
    """What a task's results hold, and so what its view shows."""

    CONCEPTS = "concepts"  # image-level concepts with scores
    BOXES = "boxes"  # regions with a bounding box and labels, drawn on the picture
    MASKS = "masks"  # regions with a mask, blended over the picture
    TEXT = "text"  # a caption, or the text read in the picture


@dataclass(frozen=True)
class SuggestedModel:
    """A model the app offers for a task, with why a person would pick it."""

    ref: ModelRef
    label: str  # a short name for the model picker
    why: str  # one line: what it is good for
    classic: bool = False  # one of the seed page's single-task models (many were made private in 2026)
    prompt: str = ""  # what this model is asked instead of the task's own prompt (its documented wording)


# (the page's prompt, the labels typed, the picture's width and height or 0) -> what the model is asked
Asking = Callable[[str, tuple[str, ...], int, int], str]
# (the model's answer, its text in `caption`; the labels; width; height) -> the task's results
TextReading = Callable[[Prediction, tuple[str, ...], int, int], Prediction]
# the regions a method returned -> the task's regions
RegionReading = Callable[[tuple[Region, ...]], tuple[Region, ...]]


@dataclass(frozen=True)
class TaskSpec:
    task: Task
    title: str
    icon: str  # a Material icon, as Streamlit writes it
    blurb: str  # one line on the home page and under the page title
    page_path: str  # relative to the entry file, as st.page_link wants it
    model_types: tuple[str, ...]  # Clarifai `model_type_id`s of old-style models that serve this task
    models: tuple[SuggestedModel, ...]  # offered in the sidebar; the first is the default
    local_model: LocalModel | None  # the local stand-in, or None when there is none
    result_kinds: tuple[ResultKind, ...]
    classic_printout: tuple[str, ...]  # "Get the code": printing an old-style model's `output`
    no_local_model: str = ""  # with no stand-in: what to do instead
    other_local_models: tuple[LocalModel, ...] = ()  # besides the stand-in, to compare local models
    # A new-style method whose answer the task shows as it is (regions, concepts), and how its
    # regions become the task's; None: only a model answering in text, asked by a prompt, serves.
    direct_answer: Callable[[Method], bool] | None = None
    read_regions: RegionReading = tuple
    # A vision-language model can serve the task when asked by a prompt: what it is asked, how its
    # text becomes the results. `answers_in_text`: the text is what the page shows (captions, text
    # read), so streaming methods come first and a method taking no prompt serves too.
    prompted: bool = False
    ask: Asking | None = None
    read_text: TextReading | None = None
    answers_in_text: bool = False
    refusal_hint: str = ""  # added when a model cannot serve the page: which kind of model can

    @property
    def local_models(self) -> tuple[LocalModel, ...]:
        """Every local model for the task, the stand-in first."""
        return ((self.local_model,) if self.local_model else ()) + self.other_local_models

    @property
    def default_model(self) -> ModelRef:
        return self.models[0].ref

    @property
    def output_settings_used(self) -> frozenset[str]:
        """The old-style output settings that mean something for this task: none for a captioner,
        only `min_value` for a reader of text (it answers no concepts), all three otherwise."""
        if ResultKind.TEXT in self.result_kinds:
            return frozenset() if not self.draws_boxes else frozenset({"min_value"})
        return frozenset({"min_value", "max_concepts", "select_concepts"})

    @property
    def draws_boxes(self) -> bool:
        return ResultKind.BOXES in self.result_kinds

    @property
    def draws_masks(self) -> bool:
        return ResultKind.MASKS in self.result_kinds

    @property
    def draws_on_picture(self) -> bool:
        return self.draws_boxes or self.draws_masks

    @property
    def prompted_pick(self) -> SuggestedModel | None:
        """The first suggestion asked by a prompt (labels to choose from, things to find), when the
        task has any: the one offered to a person who wants to list their own labels."""
        return next((m for m in self.models if not m.classic), None) if self.prompted else None

    def suggestion(self, model: ModelRef | None) -> SuggestedModel | None:
        """The suggested model at the address of `model` (any version), or None when it is not one."""
        return next((m for m in self.models if model is not None and m.ref.path == model.path), None)

    def own_prompt(self, model: ModelRef | None) -> str:
        """The suggested model's own documented wording for this task ("" when it has none)."""
        return next((m.prompt for m in self.models if model is not None and m.ref.path == model.path and m.prompt), "")

    def prompt_for(self, model: ModelRef | None, prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
        """What a prompted `model` is asked about one picture of `width` x `height` (0 when unknown):
        the suggested model's own wording where it has one, else the task's prompt."""
        own = self.own_prompt(model)
        if own:
            return own
        return self.ask(prompt, labels, width, height) if self.ask is not None else prompt


# --- how each task asks a vision-language model and reads its answer ------------------------------

MODEL_ESTIMATE_NOTE = "These scores are the model's own estimate, written in its answer, not calibrated probabilities."
DEFAULT_CAPTION_PROMPT = CAPTION_PRESETS[0].prompt


def _ask_for_concepts(prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
    return classification_prompt(labels)


def _ask_for_boxes(prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
    return detection_prompt(labels, image_size=(width, height) if width and height else None)


def _ask_for_caption(prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
    return prompt.strip() or DEFAULT_CAPTION_PROMPT


def _ask_for_text(prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
    return text_reading_prompt(image_size=(width, height) if width and height else None)


def _with_notes(prediction: Prediction, notes: tuple[str, ...], problem: str) -> tuple[str, ...]:
    return (*prediction.notes, *notes, *((problem,) if problem else ()))


def _concepts_from_text(prediction: Prediction, labels: tuple[str, ...], width: int, height: int) -> Prediction:
    text = prediction.caption
    parsed = parse_concepts(text, labels)
    notes = ((MODEL_ESTIMATE_NOTE,) if parsed.concepts else ()) + tuple(parsed.notes)
    return replace(prediction, concepts=parsed.concepts, caption="", raw_answer=text, notes=_with_notes(prediction, notes, parsed.problem))


def _boxes_from_text(prediction: Prediction, labels: tuple[str, ...], width: int, height: int) -> Prediction:
    text = prediction.caption
    parsed = parse_boxes(text, width, height, labels)
    return replace(
        prediction, regions=parsed.regions, caption="", raw_answer=text, notes=_with_notes(prediction, tuple(parsed.notes), parsed.problem)
    )


def _caption_as_written(prediction: Prediction, labels: tuple[str, ...], width: int, height: int) -> Prediction:
    return prediction


def _text_lines_from_text(prediction: Prediction, labels: tuple[str, ...], width: int, height: int) -> Prediction:
    text = prediction.caption
    parsed = parse_text_lines(text, width, height)
    return replace(
        prediction, regions=parsed.regions, caption="", raw_answer=text, notes=_with_notes(prediction, tuple(parsed.notes), parsed.problem)
    )


def _named_objects(regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """Regions without a label get one ("object 1", ...) so they can be listed and coloured."""
    return tuple(
        region if region.concepts else replace(region, concepts=(Concept(f"object {number}", 1.0),))
        for number, region in enumerate(regions, start=1)
    )


def as_segments(regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """Segments from a method's regions: each named (its label, else "segment n") with the share of
    the picture its mask covers as its value, as classic segmenters report it."""
    segments = []
    for number, region in enumerate(regions, start=1):
        mask = mask_as_bool(region.mask)
        if mask is None:
            continue
        top = region.top_concept
        name = top.name if top is not None and top.name else f"segment {number}"
        share = float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0
        segments.append(Region((Concept(name, share, top.id if top is not None else ""),), region.box, region.mask))
    return tuple(segments)


def _text_lines_in_reading_order(regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """A text reader's regions as lines: those with text, top to bottom, left to right."""
    return in_reading_order(tuple(r for r in regions if r.text))


# --- "Get the code": printing an old-style model's answer -----------------------------------------

_PRINT_CONCEPTS = (
    'print("Predicted concepts:")',
    "for concept in sorted(output.data.concepts, key=lambda concept: -concept.value):",
    '    print(f"{concept.name} {concept.value:.2f}")',
)
_PRINT_BOXES = (
    'print("Detected objects:")',
    "for region in output.data.regions:",
    "    box = region.region_info.bounding_box",
    "    for concept in region.data.concepts:",
    '        print(f"{concept.name} {concept.value:.2f} box (top, left, bottom, right): "',
    '              f"{box.top_row:.3f}, {box.left_col:.3f}, {box.bottom_row:.3f}, {box.right_col:.3f}")',
)
_PRINT_SEGMENTS = (
    'print("Segments and the share of the image each covers:")',
    "for region in output.data.regions:",
    "    for concept in region.data.concepts:",
    '        print(f"{concept.name} {concept.value:.4f}")',
)
_PRINT_CAPTION = ("print(output.data.text.raw)",)
_PRINT_TEXT_LINES = (
    'print("Text read, line by line:")',
    "for region in output.data.regions:",
    "    print(region.data.text.raw)",
)


# Today's models (CLARIFAI.md, "Clarifai today"), and the seed page's classic ones.
QWEN_VL = ModelRef("qwen", "qwen-VL", "Qwen2_5-VL-7B-Instruct")
MM_POLY = ModelRef("clarifai", "main", "mm-poly-8b")
GEMMA = ModelRef("gcp", "generate", "gemma-3-4b-it")
DEEPSEEK_OCR = ModelRef("deepseek-ai", "deepseek-ocr", "DeepSeek-OCR")
SEGMENT_ANYTHING = ModelRef("meta", "segment-anything", "sam2_1-hiera-base-plus")
# No version on any of them: as Clarifai's own clients do, the version is sent only when a person names
# one, and Clarifai answers with the model's current version (a pinned one may be retired).
GENERAL_RECOGNITION = ModelRef("clarifai", "main", "general-image-recognition")
GENERAL_DETECTION = ModelRef("clarifai", "main", "general-image-detection")
GENERAL_SEGMENTATION = ModelRef("clarifai", "main", "image-general-segmentation")
BLIP_CAPTIONS = ModelRef("salesforce", "blip", "general-english-image-caption-blip")

_QWEN_LABEL = "Qwen2.5-VL 7B (vision-language)"
_MM_POLY_LABEL = "MM-Poly-8B (vision-language)"
# DeepSeek-OCR's own prompts (its model card): text with boxes, and a general picture described.
DEEPSEEK_OCR_PROMPT = "<|grounding|>OCR this image."
DEEPSEEK_DESCRIBE_PROMPT = "Describe this image in detail."

_SPECS = (
    TaskSpec(
        task=Task.CLASSIFICATION,
        title="Classification",
        icon=":material/label:",
        blurb="What is in the picture: concepts with scores, as a sorted chart and a table.",
        page_path="app_pages/1_Classification.py",
        model_types=("visual-classifier",),
        models=(
            SuggestedModel(
                GENERAL_RECOGNITION,
                "General image recognition",
                "Clarifai's general classifier: thousands of concepts with calibrated scores, fast.",
                classic=True,
            ),
            SuggestedModel(MM_POLY, _MM_POLY_LABEL, "Choose from labels you list; Clarifai's pick for prompted classification."),
            SuggestedModel(QWEN_VL, _QWEN_LABEL, "Choose from labels you list, or name what it sees."),
        ),
        local_model=COLOR_CLASSIFIER,
        other_local_models=(COLOR_HISTOGRAM,),
        result_kinds=(ResultKind.CONCEPTS,),
        classic_printout=_PRINT_CONCEPTS,
        direct_answer=attrgetter("returns_concepts"),
        prompted=True,
        ask=_ask_for_concepts,
        read_text=_concepts_from_text,
    ),
    TaskSpec(
        task=Task.DETECTION,
        title="Detection",
        icon=":material/select_all:",
        blurb="Where things are: boxes with labels drawn on the picture, and a table of regions.",
        page_path="app_pages/2_Detection.py",
        model_types=("visual-detector",),
        models=(
            SuggestedModel(QWEN_VL, _QWEN_LABEL, "Finds what you name and draws boxes around it (grounded detection)."),
            SuggestedModel(MM_POLY, _MM_POLY_LABEL, "Finds what you name, boxes from the model's own answer."),
            SuggestedModel(
                GENERAL_DETECTION, "General image detection", "The seed page's detector: hundreds of everyday objects.", classic=True
            ),
        ),
        local_model=LOCAL_DETECTOR,
        other_local_models=(CASCADE_DETECTOR,),
        result_kinds=(ResultKind.BOXES,),
        classic_printout=_PRINT_BOXES,
        direct_answer=attrgetter("returns_regions"),
        read_regions=_named_objects,
        prompted=True,
        ask=_ask_for_boxes,
        read_text=_boxes_from_text,
    ),
    TaskSpec(
        task=Task.SEGMENTATION,
        title="Segmentation",
        icon=":material/texture:",
        blurb="Which pixels belong to what: coloured masks and the share of the picture each covers.",
        page_path="app_pages/3_Segmentation.py",
        model_types=("visual-segmenter",),
        models=(
            SuggestedModel(SEGMENT_ANYTHING, "Segment Anything 2.1", "Meta's SAM: a mask for every object, no labels."),
            SuggestedModel(
                GENERAL_SEGMENTATION, "General image segmentation", "The seed page's segmenter: named regions.", classic=True
            ),
        ),
        local_model=COLOR_SEGMENTER,
        other_local_models=(FINE_COLOR_SEGMENTER,),
        result_kinds=(ResultKind.MASKS,),
        classic_printout=_PRINT_SEGMENTS,
        direct_answer=attrgetter("returns_regions"),
        read_regions=as_segments,
        refusal_hint=f"masks need a segmentation model such as {SEGMENT_ANYTHING.path}",
    ),
    TaskSpec(
        task=Task.CAPTIONING,
        title="Captioning",
        icon=":material/short_text:",
        blurb="A sentence describing each picture, ready to copy.",
        page_path="app_pages/4_Captioning.py",
        model_types=("image-to-text", "multimodal-to-text"),
        models=(
            SuggestedModel(QWEN_VL, _QWEN_LABEL, "Captions, descriptions, alt text or answers, as you ask."),
            SuggestedModel(MM_POLY, _MM_POLY_LABEL, "Captions and answers to what you ask about the picture."),
            SuggestedModel(GEMMA, "Gemma 3 4B (vision-language)", "A small, quick model for short captions."),
            SuggestedModel(
                DEEPSEEK_OCR, "DeepSeek-OCR", "Describes pictures full of text (documents, signs, screenshots); "
                "asked its own prompt, not the one below.",
                prompt=DEEPSEEK_DESCRIBE_PROMPT,
            ),
            SuggestedModel(BLIP_CAPTIONS, "BLIP captions", "The seed page's captioner: one plain sentence.", classic=True),
        ),
        local_model=None,
        result_kinds=(ResultKind.TEXT,),
        classic_printout=_PRINT_CAPTION,
        prompted=True,
        ask=_ask_for_caption,
        read_text=_caption_as_written,
        answers_in_text=True,
        no_local_model=(
            "Captioning needs a Clarifai model: there is no local captioning model. Add a Clarifai key "
            "in the sidebar (or choose the Clarifai backend) to get captions."
        ),
    ),
    TaskSpec(
        task=Task.OCR,
        title="Text in the picture",
        icon=":material/document_scanner:",
        blurb="The text in each picture, read line by line: ready to copy, each line's box on the picture.",
        page_path="app_pages/5_Text.py",
        model_types=("optical-character-recognizer",),
        models=(
            SuggestedModel(
                DEEPSEEK_OCR, "DeepSeek-OCR", "Clarifai's pick for reading text: documents, signs, screenshots.",
                prompt=DEEPSEEK_OCR_PROMPT,
            ),
            SuggestedModel(QWEN_VL, _QWEN_LABEL, "Reads the text line by line, with a box around each line."),
        ),
        local_model=None,
        result_kinds=(ResultKind.TEXT, ResultKind.BOXES),
        classic_printout=_PRINT_TEXT_LINES,
        read_regions=_text_lines_in_reading_order,
        prompted=True,
        ask=_ask_for_text,
        read_text=_text_lines_from_text,
        answers_in_text=True,
        no_local_model=(
            "Reading text needs a Clarifai model: there is no local one. Add a Clarifai key in the "
            "sidebar (or choose the Clarifai backend) to read the text in your pictures."
        ),
    ),
)
TASKS: dict[Task, TaskSpec] = {spec.task: spec for spec in _SPECS}
