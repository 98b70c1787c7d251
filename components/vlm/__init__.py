"""Vision-language models' side of a task: the prompts they are asked and the readers that turn
their text answers into concepts, boxes and text lines.

Imports only the modules directly in `components`."""
