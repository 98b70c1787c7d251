"""The browser-shrinking picker alone, writing what the app prepared from each file to PICKER_OUT.

Started by tests/browser/test_shrinking_upload.py: the files let the test compare pixels.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import streamlit as st

from components.errors import ImageError
from components.images.preparation import PrepareOptions
from components.ui import image_picker
from components.ui import state as ui_state
from components.ui.state import ImageProblem

OUT = Path(os.environ["PICKER_OUT"])


def record(names, jobs):
    problems = []
    for name, job in zip(names, jobs):
        try:
            prepared = job()
        except ImageError as error:
            problems.append(ImageProblem(name, error.message))
            (OUT / f"{name}.problem").write_text(error.message)
            continue
        (OUT / f"{name}.sent").write_bytes(prepared.data)
        facts = {"notes": list(prepared.notes), "original_size": prepared.original_size, "mime": prepared.mime}
        (OUT / f"{name}.json").write_text(json.dumps(facts))
    return problems


image_picker.shrinking_uploader(PrepareOptions(), "test hint", record)
for problem in ui_state.problems():
    st.text(problem.message)
