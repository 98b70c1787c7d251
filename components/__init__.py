"""The app's parts. Only the ui-facing modules (ui_*) import streamlit."""
