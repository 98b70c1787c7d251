"""The tasks the app offers, in one table: one `TaskSpec` per task.

Everything that differs between tasks and is not drawing or page layout lives here: names, page,
which Clarifai models fit, the default model, the local stand-in. How a task's results are shown
lives in its view (`components/views/<task>.py`). README, "Adding a task", lists the files a new
task needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from components.local_models.catalogue import (
    CASCADE_DETECTOR,
    COLOUR_CLASSIFIER,
    COLOUR_HISTOGRAM,
    COLOUR_SEGMENTER,
    FINE_COLOUR_SEGMENTER,
    LOCAL_DETECTOR,
    LocalModel,
)
from components.models import ModelRef


class Task(StrEnum):
    CLASSIFICATION = "classification"
    DETECTION = "detection"
    SEGMENTATION = "segmentation"
    CAPTIONING = "captioning"

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
    TEXT = "text"  # a caption or other text


@dataclass(frozen=True)
class SuggestedModel:
    """A model the app offers for a task, with why a person would pick it."""

    ref: ModelRef
    label: str  # a short name for the model picker
    why: str  # one line: what it is good for
    classic: bool = False  # one of the seed page's single-task models (many were made private in 2026)


@dataclass(frozen=True)
class TaskSpec:
    task: Task
    title: str
    icon: str  # a Material icon, as Streamlit writes it
    blurb: str  # one line on the home page and under the page title
    page_path: str  # relative to the entry file, as st.page_link wants it
    model_types: tuple[str, ...]  # Clarifai `model_type_id`s of old-style models that serve this task
    models: tuple[SuggestedModel, ...]  # offered in the sidebar; the first is the default
    offline: LocalModel | None  # the local stand-in, or None when there is none
    result_kinds: tuple[ResultKind, ...]
    offline_unavailable: str = ""  # with no stand-in: what to do instead
    prompted: bool = False  # a vision-language model can serve it when asked by a prompt
    other_local_models: tuple[LocalModel, ...] = ()  # besides the stand-in, to compare local models

    @property
    def local_models(self) -> tuple[LocalModel, ...]:
        """Every local model for the task, the stand-in first."""
        return ((self.offline,) if self.offline else ()) + self.other_local_models

    @property
    def default_model(self) -> ModelRef:
        return self.models[0].ref

    @property
    def draws_on_picture(self) -> bool:
        return ResultKind.BOXES in self.result_kinds or ResultKind.MASKS in self.result_kinds


# Today's models (CLARIFAI.md, "Clarifai today"), and the seed page's classic ones.
QWEN_VL = ModelRef("qwen", "qwen-VL", "Qwen2_5-VL-7B-Instruct")
MM_POLY = ModelRef("clarifai", "main", "mm-poly-8b")
GEMMA = ModelRef("gcp", "generate", "gemma-3-4b-it")
SEGMENT_ANYTHING = ModelRef("meta", "segment-anything", "sam2_1-hiera-base-plus")
GENERAL_RECOGNITION = ModelRef("clarifai", "main", "general-image-recognition", "aa7f35c01e0642fda5cf400f543e7c40")
GENERAL_DETECTION = ModelRef("clarifai", "main", "general-image-detection", "1580bb1932594c93b7e2e04456af7c6f")
GENERAL_SEGMENTATION = ModelRef("clarifai", "main", "image-general-segmentation", "1581820110264581908ce024b12b4bfb")
BLIP_CAPTIONS = ModelRef("salesforce", "blip", "general-english-image-caption-blip", "cdb690f13e62470ea6723642044f95e4")

_QWEN_LABEL = "Qwen2.5-VL 7B (vision-language)"
_MM_POLY_LABEL = "MM-Poly-8B (vision-language)"

_SPECS = (
    TaskSpec(
        task=Task.CLASSIFICATION,
        prompted=True,
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
        offline=COLOUR_CLASSIFIER,
        other_local_models=(COLOUR_HISTOGRAM,),
        result_kinds=(ResultKind.CONCEPTS,),
    ),
    TaskSpec(
        task=Task.DETECTION,
        prompted=True,
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
        offline=LOCAL_DETECTOR,
        other_local_models=(CASCADE_DETECTOR,),
        result_kinds=(ResultKind.BOXES,),
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
        offline=COLOUR_SEGMENTER,
        other_local_models=(FINE_COLOUR_SEGMENTER,),
        result_kinds=(ResultKind.MASKS,),
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
            SuggestedModel(BLIP_CAPTIONS, "BLIP captions", "The seed page's captioner: one plain sentence.", classic=True),
        ),
        offline=None,
        result_kinds=(ResultKind.TEXT,),
        prompted=True,
        offline_unavailable=(
            "Captioning needs a Clarifai model: there is no local captioning model. Add a Clarifai key "
            "in the sidebar (or choose the Clarifai backend) to get captions."
        ),
    ),
)
TASKS: dict[Task, TaskSpec] = {spec.task: spec for spec in _SPECS}
