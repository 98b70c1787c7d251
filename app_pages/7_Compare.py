from components.ui.compare import compare_page

compare_page()
