"""Several tasks' results on one picture (the All tasks page): the legend of what is drawn, the
concepts a person can hide, and one summary line for the whole run. Pure: no streamlit.

Colours come from `regions.region_color`, the function the drawing uses, so a legend entry has
exactly the colour of its boxes and masks on the picture.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from components.colors import Color, normalise_name
from components.drawing.regions import region_color, region_name
from components.results import Prediction
from components.run import backend
from components.run.backend import Backend
from components.tasks import TaskSpec
from components.text import plain

Drawn = Iterable[tuple[TaskSpec, Prediction | None]]  # each task's prediction for one picture


@dataclass(frozen=True)
class LegendEntry:
    """One concept drawn on a picture: its colour, its boxes shown, the share its masks cover."""

    name: str
    color: Color
    boxes: int = 0
    share: float | None = None  # None when it has no mask

    @property
    def words(self) -> str:
        """"person: 2 boxes, mask 12 %"."""
        parts = []
        if self.boxes:
            parts.append(f"{self.boxes} box{'es' if self.boxes != 1 else ''}")
        if self.share is not None:
            parts.append(f"mask {_percent(self.share)}")
        return f"{self.name}: {', '.join(parts)}" if parts else self.name


def _percent(share: float) -> str:
    percent = share * 100
    return "<1 %" if 0 < percent < 1 else f"{percent:.0f} %"


def legend(drawn: Drawn, min_score: float = 0.0, hidden: Collection[str] = frozenset()) -> list[LegendEntry]:
    """The concepts drawn on one picture, as the views draw them: boxes scoring at least
    `min_score`, every mask; none of the `hidden` ones. Most boxes and largest masks first."""
    hidden_names = {normalise_name(name) for name in hidden}
    found: dict[str, dict] = {}
    for spec, prediction in drawn:
        if prediction is None:
            continue
        boxes, masks = spec.draws_boxes, spec.draws_masks
        for region in prediction.regions:
            name = region_name(region)
            key = normalise_name(name)
            if not name or key in hidden_names:
                continue
            top = region.top_concept
            shows_box = boxes and region.box is not None and top.value >= min_score and region.box.clipped() is not None
            shows_mask = masks and region.mask is not None
            if not (shows_box or shows_mask):
                continue
            entry = found.setdefault(key, {"name": name, "color": region_color(region), "boxes": 0, "share": None})
            if shows_box:
                entry["boxes"] += 1
            if shows_mask:
                entry["share"] = min(1.0, (entry["share"] or 0.0) + max(0.0, float(top.value)))
    entries = [LegendEntry(**entry) for entry in found.values()]
    return sorted(entries, key=lambda e: (-e.boxes, -(e.share or 0.0), normalise_name(e.name)))


def legend_html(entries: Sequence[LegendEntry]) -> str:
    """The legend as coloured chips (each in its concept's colour, black or white text), for
    `st.markdown(..., unsafe_allow_html=True)`. Markdown still reads the text between the tags, so
    names are made plain text for it (which escapes HTML too): a model's label cannot become a
    link, an image or math."""
    chips = []
    for entry in entries:
        style = (
            f"background-color:{entry.color.hex};color:{entry.color.text_color.hex};"
            "border-radius:0.75rem;padding:0.05rem 0.6rem;margin:0 0.3rem 0.3rem 0;display:inline-block;"
            "font-size:0.85rem;line-height:1.5;border:1px solid rgba(128,128,128,0.45)"
        )
        chips.append(f'<span style="{style}">{plain(entry.words)}</span>')
    return "".join(chips)


def toggle_names(drawn: Drawn) -> list[str]:
    """Every concept drawn on any of the pictures (one name per concept), most frequent first: the
    names a person can hide or show."""
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for spec, prediction in drawn:
        if prediction is None or not spec.draws_on_picture:
            continue
        for region in prediction.regions:
            name = region_name(region)
            if name and (region.box is not None or region.mask is not None):
                key = normalise_name(name)
                names.setdefault(key, name)
                counts[key] = counts.get(key, 0) + 1
    return [names[key] for key in sorted(counts, key=lambda key: (-counts[key], key))]


# --- the run in one line ---------------------------------------------------------------------------


def model_words(plan: backend.RunPlan) -> str:
    """The model's short name: its id on Clarifai, the local model's name offline."""
    if plan.backend == Backend.CLARIFAI and plan.model is not None:
        return plan.model.model_id
    return plan.model_label


def summary_line(task_runs: Sequence[backend.TaskRun], image_count: int) -> str:
    """One line for the whole run: the images and Clarifai calls, then per task its model, how many
    images have results, failures, time and calls (markdown)."""
    calls = sum(run.outcome.clarifai_calls for run in task_runs if run.outcome is not None)
    head = f"{image_count} image{'s' if image_count != 1 else ''}"
    if any(run.plan.backend == Backend.CLARIFAI for run in task_runs):
        head += f" · {calls} Clarifai call{'s' if calls != 1 else ''}"
    parts = [_task_words(run, image_count) for run in task_runs]
    return f"**{head}** — " + " · ".join(parts)


def _task_words(run: backend.TaskRun, image_count: int) -> str:
    plan = run.plan
    model = model_words(plan)
    if plan.regions_from is not None and plan.backend == Backend.CLARIFAI:
        model += f" on the {plan.regions_from.title.lower()} boxes"
    words = [f"**{plan.task.title}** ({model}):"]
    if run.outcome is None:
        return f"{words[0]} :red[failed]"
    outcome = run.outcome
    facts = [f"{outcome.succeeded}/{image_count} with results"]
    failed = image_count - outcome.succeeded
    if failed:
        facts.append(f":red[{failed} failed]")
    if outcome.from_cache >= image_count:
        facts.append("from the cache")  # no time spent, no call made
    else:
        facts.append(f"{outcome.seconds:.1f} s")
        if plan.backend == Backend.CLARIFAI:
            facts.append(f"{outcome.clarifai_calls} call{'s' if outcome.clarifai_calls != 1 else ''}")
        if outcome.from_cache:
            facts.append(f"{outcome.from_cache} from the cache")
    return f"{words[0]} {', '.join(facts)}"
