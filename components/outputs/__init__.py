"""What leaves the app: downloads (PNG, JSON, CSV, COCO, text), the HTML report, "Get the code"
and share links.

Imports the layers under it, up to `run`."""
