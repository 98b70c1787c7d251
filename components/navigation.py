"""The app's pages: where each lives, its name, icon and one-line description."""

from __future__ import annotations

from dataclasses import dataclass

from components.results import Task


@dataclass(frozen=True)
class Page:
    path: str  # relative to the entry file, as st.page_link wants it
    label: str
    icon: str
    blurb: str = ""


HOME = Page("streamlit_app.py", "Home", ":material/home:")
TASK_PAGES: dict[Task, Page] = {
    Task.CLASSIFICATION: Page(
        "pages/1_Classification.py",
        Task.CLASSIFICATION.title,
        ":material/label:",
        "What is in the picture: concepts with scores, as a sorted chart and a table.",
    ),
    Task.DETECTION: Page(
        "pages/2_Detection.py",
        Task.DETECTION.title,
        ":material/select_all:",
        "Where things are: boxes with labels drawn on the picture, and a table of regions.",
    ),
    Task.SEGMENTATION: Page(
        "pages/3_Segmentation.py",
        Task.SEGMENTATION.title,
        ":material/texture:",
        "Which pixels belong to what: coloured masks and the share of the picture each covers.",
    ),
    Task.CAPTIONING: Page(
        "pages/4_Captioning.py",
        Task.CAPTIONING.title,
        ":material/short_text:",
        "A sentence describing each picture, ready to copy.",
    ),
}
ALL_TASKS = Page(
    "pages/5_All_tasks.py",
    "All tasks",
    ":material/dashboard:",
    "All four at once on the same images, drawn together.",
)
PAGES: tuple[Page, ...] = (HOME, *TASK_PAGES.values(), ALL_TASKS)
