"""Home: what the app does, how it is set up, samples, and the way to each task."""

import streamlit as st

from components import backend, ui_state
from components.models import DEFAULT_MODELS
from components.navigation import ALL_TASKS, TASK_PAGES
from components.offline import OFFLINE_MODELS
from components.results import Task
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
if choice.budget is not None:
    st.caption(f":material/savings: This demo allows {choice.budget.limit} Clarifai calls per visit; {choice.budget.remaining} left.")

lines = ["| Task | Clarifai default | Offline stand-in |", "|---|---|---|"]
for task in Task:
    model = DEFAULT_MODELS[task]
    stand_in = OFFLINE_MODELS[task].name if task in OFFLINE_MODELS else "none: captions need Clarifai"
    lines.append(f"| {task.title} | [{model.user_id}/{model.app_id}/{model.model_id}]({model.url}) | {stand_in} |")
st.markdown("\n".join(lines))

st.subheader("Tasks")
for column, page in zip(st.columns(5), [*TASK_PAGES.values(), ALL_TASKS]):
    with column.container(border=True, height="stretch"):
        st.page_link(page.path, label=page.label, icon=page.icon)
        st.caption(page.blurb)

st.subheader("Samples")
sample_buttons(choice.prepare_options)
if chosen_images_panel():
    st.caption("These images are kept while you move between pages: open a task above and press Predict.")
