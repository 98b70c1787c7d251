"""The local models that run with no key and no network (OpenCV and colour maths): a colour
classifier, a detector of people, faces and coloured objects, a colour segmenter, and their list.

- `catalogue`: the model type (`LocalModel`), the models, and `predict_local` over a list of images;
- `classifier`: dominant colours (k-means in CIE Lab) and the colour histogram;
- `detector`: faces, cat faces and licence plates, people (HOG) and coloured objects;
- `cascades`: OpenCV's Haar cascades the detector runs;
- `colour_objects`: the detector's colour pass, things that stand out by colour;
- `segmenter`: colour regions, smoothed or fine;
- `colour_maths`: CIE Lab, CIEDE2000, the nearest named colour, k-means colour clusters;
- `common`: what they share: their error, reading and downscaling a picture, honouring the settings.

Imports only the modules directly in `components`."""
