"""Home: what the app does, how it is set up, samples, and the way to each task."""

import streamlit as st

from components import backend, ui_state
from components.navigation import WORK_PAGES
from components.tasks import TASKS
from components.ui_inputs import chosen_images_panel, sample_buttons
from components.ui_page import configure_page
from components.ui_sidebar import APP_TITLE, render_sidebar

configure_page("Home")
choice = render_sidebar(None)

st.title(f":material/visibility: {APP_TITLE}")
st.markdown(
    "Try Clarifai's image models on your own pictures: upload photos or paste image URLs, pick a task "
    "and a model, and see concepts, boxes, masks and captions drawn right on the picture.  \n"
    "With no Clarifai key, small local OpenCV models stand in, so everything but captions works offline."
)

st.subheader("Setup")
backend_column, key_column, endpoint_column = st.columns(3)
backend_column.metric("Backend", "Clarifai API" if choice.backend == backend.CLARIFAI else "Offline (OpenCV)", border=True)
if choice.credentials is None:
    key_label, key_text = "Clarifai key", "None" if choice.backend == backend.CLARIFAI else "Not needed"
else:
    key_label = f"Clarifai key (from the {choice.credentials.source})"
    key_text = "Yours" if choice.credentials.source == "sidebar" else "The app's"
key_column.metric(key_label, key_text, border=True)
endpoint = ui_state.endpoint()
endpoint_column.metric(f"Endpoint ({'plaintext' if endpoint.insecure else 'TLS'})", endpoint.base, border=True)
if choice.demo_note:
    st.caption(f":material/savings: {choice.demo_note}")

lines = ["| Task | Clarifai default | Offline stand-in |", "|---|---|---|"]
for spec in TASKS.values():
    stand_in = spec.offline.name if spec.offline else "none: needs a Clarifai model"
    lines.append(f"| {spec.title} | {spec.default_model.link_markdown} | {stand_in} |")
st.markdown("\n".join(lines))

st.subheader("Tasks")
TASK_CARDS_PER_ROW = 3
for row_start in range(0, len(WORK_PAGES), TASK_CARDS_PER_ROW):
    for column, page in zip(st.columns(TASK_CARDS_PER_ROW), WORK_PAGES[row_start : row_start + TASK_CARDS_PER_ROW]):
        with column.container(border=True, height="stretch"):
            st.page_link(page.path, label=page.label, icon=page.icon)
            st.caption(page.blurb)

st.subheader("Samples")
sample_buttons(choice.prepare_options)
if chosen_images_panel():
    st.caption("These images are kept while you move between pages: open a task above and press Predict.")
