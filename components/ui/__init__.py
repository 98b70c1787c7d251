"""The Streamlit pages and what they share: session state, the sidebar, the model picker, image
inputs, results, Home, All tasks, Compare and share links. Lays the task views out.

Imports any layer under it, `views` included."""
