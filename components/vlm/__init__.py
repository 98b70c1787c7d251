"""Vision-language models' side of a task: the prompts they are asked and the readers that turn
their text answers into concepts, boxes and text lines.

- `prompts`: the caption presets, the check of a typed prompt, the classification and detection prompts;
- `labels`: label lists a user types, names from answers cleaned and matched to the user's spelling;
- `lenient_json`: the bounded, lenient reader of the JSON in an answer, and walks over what it read;
- `scores`: scores written as fractions, percentages or text, read as values in 0–1;
- `concepts`: concepts read from an answer to the classification prompt;
- `boxes`: boxes read from an answer to the detection prompt, in pixels, 0–1 or 0–1000.

Imports only the modules directly in `components`, and each other."""
