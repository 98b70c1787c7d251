"""The local models that run with no key and no network (OpenCV and colour maths): a colour
classifier, a detector of people, faces and coloured objects, a colour segmenter, and their list.

Imports only the modules directly in `components`."""
