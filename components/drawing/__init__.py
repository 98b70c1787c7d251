"""Drawing results: boxes, masks and labels on the picture with OpenCV, the concept charts, and
what a drawn picture shows in words.

- `regions`: the name and colour a region is drawn in, the names hidden, the boxes shown
- `masks`: masks as booleans, resized to the picture, painted and blended in their colours
- `labels`: stroke and text sizes, the label font and the text it can draw, where each label goes
- `render`: drawing boxes, labels and masks on a picture; `annotate` for a whole prediction
- `charts`: the tables and the bar chart behind the result views
- `picture_text`: a drawn picture's alt text and the line shown under it
- `thumbnails`: pictures scaled to fit a gallery's tiles, whole, on a plain background

Imports only the modules directly in `components`, and each other."""
