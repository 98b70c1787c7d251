"""One view per task, found by scanning this package: each module defines `VIEW`, a `TaskView`.

Imports the layers under it, up to `outputs`; only `ui` imports views."""

from __future__ import annotations

import importlib
import pkgutil

from components.tasks import Task
from components.views.base import DisplaySettings, Download, RequestInputs, TaskView

__all__ = ["VIEWS", "DisplaySettings", "Download", "RequestInputs", "TaskView", "view_for"]


def _discover() -> dict[Task, TaskView]:
    found: dict[Task, TaskView] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name == "base" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        view = getattr(module, "VIEW", None)
        if isinstance(view, TaskView):
            found[view.task] = view
    return found


VIEWS: dict[Task, TaskView] = _discover()


def view_for(task: Task) -> TaskView:
    return VIEWS[task]
