"""Reading the text in a picture for the local Clarifai's OCR models: Tesseract (Debian's
`tesseract-ocr`) run on the pixels exactly as received, EXIF orientation ignored as Clarifai
ignores it. A sideways photo therefore reads as nonsense here, as it would for a real model, so
the tests see whether the app sent the picture upright.

Lines come back in Tesseract's reading order, each with its words' confidence and its box in
pixels of the picture as received.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image

TESSERACT = "tesseract"
TIMEOUT_S = 30
MIN_WORD_CONFIDENCE = 30.0  # Tesseract's 0–100; words below this are noise on a photo


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float  # 0–1, the mean of its words'
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the picture as received


def available() -> bool:
    return shutil.which(TESSERACT) is not None


def read_lines(data: bytes) -> list[Line]:
    """The text lines Tesseract finds in the encoded picture `data`, in reading order."""
    with Image.open(io.BytesIO(data)) as opened:
        rgb = opened.convert("RGB")  # no exif_transpose: the pixels as stored
    png = io.BytesIO()
    rgb.save(png, "PNG")
    result = subprocess.run(
        [TESSERACT, "stdin", "stdout", "-l", "eng", "--psm", "3", "tsv"],
        input=png.getvalue(),
        capture_output=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    rows = csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    lines: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        if row.get("level") != "5" or not (row.get("text") or "").strip():
            continue
        if float(row["conf"]) < MIN_WORD_CONFIDENCE:
            continue
        lines.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    found = []
    for words in lines.values():
        x0 = min(int(w["left"]) for w in words)
        y0 = min(int(w["top"]) for w in words)
        x1 = max(int(w["left"]) + int(w["width"]) for w in words)
        y1 = max(int(w["top"]) + int(w["height"]) for w in words)
        confidence = sum(float(w["conf"]) for w in words) / len(words) / 100
        found.append(Line(" ".join(w["text"] for w in words), round(confidence, 3), (x0, y0, x1, y1)))
    return found


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as opened:
        return opened.size
