from components.ui.all_tasks import all_tasks_page

all_tasks_page()
