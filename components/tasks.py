"""The tasks the app offers, in one table: one `TaskSpec` per task.

Everything that differs between tasks and is not drawing or page layout lives here: names, page,
which Clarifai models fit, the default model, the local stand-in. How a task's results are shown
lives in its view (`components/views/<task>.py`). README, "Adding a task", lists the files a new
task needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from components import offline
from components.models import ModelRef
from components.offline import OfflineModel


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
class TaskSpec:
    task: Task
    title: str
    icon: str  # a Material icon, as Streamlit writes it
    blurb: str  # one line on the home page and under the page title
    page_path: str  # relative to the entry file, as st.page_link wants it
    model_types: tuple[str, ...]  # Clarifai `model_type_id`s that serve this task
    default_model: ModelRef
    offline: OfflineModel | None  # the local stand-in, or None when there is none
    result_kinds: tuple[ResultKind, ...]
    offline_unavailable: str = ""  # with no stand-in: what to do instead

    @property
    def draws_on_picture(self) -> bool:
        return ResultKind.BOXES in self.result_kinds or ResultKind.MASKS in self.result_kinds


_SPECS = (
    TaskSpec(
        task=Task.CLASSIFICATION,
        title="Classification",
        icon=":material/label:",
        blurb="What is in the picture: concepts with scores, as a sorted chart and a table.",
        page_path="pages/1_Classification.py",
        model_types=("visual-classifier",),
        default_model=ModelRef("clarifai", "main", "general-image-recognition", "aa7f35c01e0642fda5cf400f543e7c40"),
        offline=offline.COLOUR_CLASSIFIER,
        result_kinds=(ResultKind.CONCEPTS,),
    ),
    TaskSpec(
        task=Task.DETECTION,
        title="Detection",
        icon=":material/select_all:",
        blurb="Where things are: boxes with labels drawn on the picture, and a table of regions.",
        page_path="pages/2_Detection.py",
        model_types=("visual-detector",),
        default_model=ModelRef("clarifai", "main", "general-image-detection", "1580bb1932594c93b7e2e04456af7c6f"),
        offline=offline.LOCAL_DETECTOR,
        result_kinds=(ResultKind.BOXES,),
    ),
    TaskSpec(
        task=Task.SEGMENTATION,
        title="Segmentation",
        icon=":material/texture:",
        blurb="Which pixels belong to what: coloured masks and the share of the picture each covers.",
        page_path="pages/3_Segmentation.py",
        model_types=("visual-segmenter",),
        default_model=ModelRef("clarifai", "main", "image-general-segmentation", "1581820110264581908ce024b12b4bfb"),
        offline=offline.COLOUR_SEGMENTER,
        result_kinds=(ResultKind.MASKS,),
    ),
    TaskSpec(
        task=Task.CAPTIONING,
        title="Captioning",
        icon=":material/short_text:",
        blurb="A sentence describing each picture, ready to copy.",
        page_path="pages/4_Captioning.py",
        model_types=("image-to-text", "multimodal-to-text"),
        default_model=ModelRef(
            "salesforce", "blip", "general-english-image-caption-blip", "cdb690f13e62470ea6723642044f95e4"
        ),
        offline=None,
        result_kinds=(ResultKind.TEXT,),
        offline_unavailable=(
            "Captioning needs a Clarifai model: there is no local captioning model. Add a Clarifai key "
            "in the sidebar (or choose the Clarifai backend) to get captions."
        ),
    ),
)
TASKS: dict[Task, TaskSpec] = {spec.task: spec for spec in _SPECS}
