"""Drawing results: boxes, masks and labels on the picture with OpenCV, the concept charts, and
what a drawn picture shows in words.

Imports only the modules directly in `components`."""
