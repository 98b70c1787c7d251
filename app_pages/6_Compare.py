from components.ui_compare import compare_page

compare_page()
