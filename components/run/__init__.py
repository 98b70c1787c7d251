"""Running a task on a model: which models fit a page, what a model is asked and how its answer
becomes the task's results, the backends behind the prediction cache, comparing models and
combining tasks.

Imports the layers under it: the base modules, `images`, `drawing`, `vlm`, `local_models`,
`clarifai`, `tasks`."""
