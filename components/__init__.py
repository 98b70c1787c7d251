"""The app's parts, in layers: each package imports only the layers under it.

Directly here, at the bottom: the plain types and tables every layer shares (errors, text,
colours, results, models, signatures, settings, memory, the session store). Above them, in order
(`tests/test_architecture.py` holds the same list):

1. `images`, `drawing`, `vlm`, `local_models`, `clarifai`: preparing pictures, drawing on them,
   reading vision-language answers, the local models, talking to Clarifai. None imports another.
2. `tasks`, `navigation` (modules here): the table of tasks, one `TaskSpec` each, and the pages.
3. `run`: running a task on a model (backend, model fit, answers, comparing, combining).
4. `outputs`: what leaves the app (downloads, the report, "Get the code", share links).
5. `views`: one view per task. 6. `ui`: the Streamlit pages. Only `views` and `ui` import streamlit.
"""
