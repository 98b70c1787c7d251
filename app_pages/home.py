from components.ui_home import home_page

home_page()
