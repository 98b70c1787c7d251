"""The app's pages: where each lives, its name, icon and one-line description."""

from __future__ import annotations

from dataclasses import dataclass

from components.tasks import TASKS, Task


@dataclass(frozen=True)
class Page:
    path: str  # relative to the entry file, as st.page_link wants it
    label: str
    icon: str
    blurb: str = ""


HOME = Page("streamlit_app.py", "Home", ":material/home:")
TASK_PAGES: dict[Task, Page] = {
    task: Page(spec.page_path, spec.title, spec.icon, spec.blurb) for task, spec in TASKS.items()
}
ALL_TASKS = Page(
    "pages/5_All_tasks.py",
    "All tasks",
    ":material/dashboard:",
    "Every task at once on the same images, drawn together.",
)
WORK_PAGES: tuple[Page, ...] = (*TASK_PAGES.values(), ALL_TASKS)  # the pages the home page leads to
PAGES: tuple[Page, ...] = (HOME, *WORK_PAGES)
