"""The entry file: Streamlit's navigation over the pages in app_pages/, and what every page shares.

Streamlit's own navigation (rather than links drawn by the app) closes the sidebar on a phone
once a page is chosen.
"""

from components.ui.page import run_app

run_app()
