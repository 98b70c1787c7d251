from components.tasks import Task
from components.ui_page import task_page

task_page(Task.DETECTION)
