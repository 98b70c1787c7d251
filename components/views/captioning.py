"""Captioning: the caption beside each picture as plain text, ready to select; captions CSV."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components.images.preparation import PreparedImage
from components.outputs import exports
from components.outputs.exports import ExportItem
from components.results import Prediction
from components.run.compare import Difference, compare_captions
from components.run.model_fit import ModelChoice
from components.tasks import DEFAULT_CAPTION_PROMPT, Task
from components.text import first_line, plain
from components.views.base import (
    DisplaySettings,
    Download,
    RequestInputs,
    TaskView,
    answer_details,
    prompted,
    prompts_need_clarifai,
)
from components.vlm.prompts import CAPTION_PRESETS, DEFAULT_MAX_PROMPT_CHARS, check_prompt

NO_CAPTION = "The model returned no caption."


PRESETS = {preset.name: preset for preset in CAPTION_PRESETS}


class CaptioningView(TaskView):
    task = Task.CAPTIONING
    card_order = 0
    agreement_words = "(words the captions have in common)"

    def request_controls(self, model: ModelChoice, local: bool, key: str) -> RequestInputs:
        """A prompt with presets, for models that take one (old-style captioners take none)."""
        takes_prompt = prompted(model) and model.fit.method.prompt_argument is not None
        if not local and not takes_prompt:
            return RequestInputs()
        own = self.task.spec.own_prompt(model.ref) if not local else ""
        if own:  # a model that follows only its documented wording is asked that, not the page's prompt
            st.caption(f":material/chat: This model is asked its own prompt: “{plain(own)}”")
            return RequestInputs()
        prompt_key = f"{key}_prompt"
        if prompt_key not in st.session_state:
            st.session_state[prompt_key] = DEFAULT_CAPTION_PROMPT

        def use_preset() -> None:
            chosen = st.session_state.get(f"{key}_preset")
            if chosen in PRESETS:
                st.session_state[prompt_key] = PRESETS[chosen].prompt

        st.pills(
            "Ask for",
            list(PRESETS),
            key=f"{key}_preset",
            on_change=use_preset,
            disabled=local,
            help="Fills the prompt below; edit it as you like.",
        )
        prompt = st.text_area("Prompt", key=prompt_key, height=90, disabled=local)
        if local:
            prompts_need_clarifai("A caption")
            return RequestInputs()
        return RequestInputs(prompt=prompt, problem=check_prompt(prompt, DEFAULT_MAX_PROMPT_CHARS))

    def request_state(self, key: str, prompt: str, labels: str) -> dict[str, str]:
        return {f"{key}_prompt": prompt} if prompt else {}

    def stored_request(self, key: str) -> RequestInputs:
        prompt = st.session_state.get(f"{key}_prompt") or DEFAULT_CAPTION_PROMPT
        return RequestInputs(prompt=prompt, problem=check_prompt(prompt, DEFAULT_MAX_PROMPT_CHARS))

    def card(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> frozenset[int]:
        if not prediction.caption:
            st.caption(NO_CAPTION)
            return frozenset()
        st.text(prediction.caption)  # once, as the model wrote it: plain, selectable, its line breaks kept
        answer_details(prediction)
        return frozenset()

    def compact(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> None:
        if prediction.caption:
            st.markdown(f"#### “{plain(prediction.caption)}”")
        else:
            st.caption(NO_CAPTION)

    def headline(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        return first_line(prediction.caption) or NO_CAPTION

    def downloads(self, items: Sequence[ExportItem], settings: DisplaySettings) -> list[Download]:
        return [Download("Captions (CSV)", lambda: exports.captions_csv(items), "captions.csv", "text/csv")]

    def summary(self, image: PreparedImage, prediction: Prediction, settings: DisplaySettings) -> str:
        return f"“{prediction.caption}”" if prediction.caption else NO_CAPTION

    def compare(self, predictions: Sequence[Prediction | None], settings: DisplaySettings) -> Difference:
        return compare_captions(predictions)


VIEW = CaptioningView()
