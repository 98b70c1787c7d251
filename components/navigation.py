"""The app's pages: where each lives, its address, name, icon and one-line description."""

from __future__ import annotations

from dataclasses import dataclass

from components.tasks import TASKS, Task


@dataclass(frozen=True)
class Page:
    path: str  # the page's file, relative to the entry file, as st.Page and st.page_link take it
    label: str
    icon: str
    blurb: str = ""

    @property
    def url_path(self) -> str:
        """The page's address after the app's root ("" for home): its file name without the order number."""
        if self is HOME:
            return ""
        stem = self.path.rsplit("/", 1)[-1].removesuffix(".py")
        return stem.split("_", 1)[1] if stem[:1].isdigit() and "_" in stem else stem


HOME = Page("app_pages/0_Home.py", "Home", ":material/home:")
TASK_PAGES: dict[Task, Page] = {
    task: Page(spec.page_path, spec.title, spec.icon, spec.blurb) for task, spec in TASKS.items()
}
ALL_TASKS = Page(
    "app_pages/6_All_tasks.py",
    "All tasks",
    ":material/dashboard:",
    "Every task at once on the same images, drawn together.",
)
COMPARE = Page(
    "app_pages/7_Compare.py",
    "Compare models",
    ":material/compare:",
    "Two to four models on the same images, side by side: what only one found, and how much they agree.",
)
WORK_PAGES: tuple[Page, ...] = (*TASK_PAGES.values(), ALL_TASKS, COMPARE)  # the pages the home page leads to
PAGES: tuple[Page, ...] = (HOME, *WORK_PAGES)

# The sidebar's menu: Home on top with no heading, then the five tasks, then the pages that run
# several models at once.
NAVIGATION_SECTIONS: tuple[tuple[str, tuple[Page, ...]], ...] = (
    ("", (HOME,)),
    ("Tasks", tuple(TASK_PAGES.values())),
    ("Compare and tools", (ALL_TASKS, COMPARE)),
)
