from components.tasks import Task
from components.ui.page import task_page

task_page(Task.OCR)
