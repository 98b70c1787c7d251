"""Downloads: annotated PNG, raw JSON, concepts CSV, captions CSV, the text read (TXT and JSON),
COCO detections, COCO segmentation zip.

Exports see results only (`ExportItem`s), never a request or its metadata, so no key can end up
in a download.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from components.drawing.masks import mask_as_bool, resize_mask
from components.drawing.regions import region_name
from components.errors import ImageError
from components.results import Box, Concept, Prediction, Region


@dataclass(frozen=True)
class ExportItem:
    """One picture's result, as exports need it: the size boxes and masks are measured in."""

    name: str
    width: int
    height: int
    prediction: Prediction | None
    error_message: str = ""


# --- file names ------------------------------------------------------------------------------

_IMAGE_SUFFIXES = {
    "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "avif", "heic", "heif", "mpo",
}
_IMAGE_SUFFIX_RE = re.compile(
    r"\.(?:" + "|".join(sorted(_IMAGE_SUFFIXES)) + r")(?=$|[^A-Za-z0-9])", re.IGNORECASE
)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def export_filename(base: str, ext: str) -> str:
    """A safe download name: "IMG 01.jpg", "png" -> "IMG_01.png";
    "IMG 01.jpg-annotated", "png" -> "IMG_01-annotated.png".

    Keeps only the last path part, drops image extensions, turns anything but ASCII letters,
    digits, "-", "_" and "." into "_", and caps the length.
    """
    name = re.split(r"[\\/]", str(base or ""))[-1]
    name = _IMAGE_SUFFIX_RE.sub("", name)  # "a.jpg" and "a.jpg-annotated" lose the ".jpg"
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:100].rstrip("._-")
    if not name:
        name = "export"
    if name.split(".")[0].lower() in _WINDOWS_RESERVED:
        name = f"{name}_"
    ext = re.sub(r"[^A-Za-z0-9]+", "", str(ext or "")).lower()
    return f"{name}.{ext}" if ext else name


# --- PNG -------------------------------------------------------------------------------------


def annotated_png(image_bgr: np.ndarray) -> bytes:
    """The (annotated) BGR picture as PNG bytes."""
    ok, encoded = cv2.imencode(".png", np.asarray(image_bgr))
    if not ok:
        raise ImageError("The annotated picture could not be saved as PNG. Try another image.")
    return encoded.tobytes()


# --- JSON and CSV ----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A JSON-safe float: NaN and infinities become null."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def mask_to_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO uncompressed RLE: {"size": [h, w], "counts": [...]}, column-major (Fortran) order,
    runs alternating 0s and 1s, starting with a (possibly empty) run of 0s."""
    mask = mask_as_bool(mask)
    if mask is None:
        return {"size": [0, 0], "counts": []}
    height, width = mask.shape
    flat = mask.ravel(order="F")
    if flat.size == 0:
        return {"size": [height, width], "counts": []}
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts.insert(0, 0)
    return {"size": [height, width], "counts": counts}


def _concept_dict(concept: Concept) -> dict[str, Any]:
    return {"id": concept.id, "name": concept.name, "value": _number(concept.value)}


def _box_dict(box: Box | None) -> dict[str, Any] | None:
    if box is None:
        return None
    return {side: _number(getattr(box, side)) for side in ("top", "left", "bottom", "right")}


def _region_dict(region: Region) -> dict[str, Any]:
    mask = mask_as_bool(region.mask)
    return {
        "concepts": [_concept_dict(c) for c in region.concepts],
        "box": _box_dict(region.box),
        "mask": mask_to_rle(mask) if mask is not None else None,
        **({"text": region.text} if region.text else {}),
    }


def prediction_dict(prediction: Prediction) -> dict[str, Any]:
    """The prediction's plain fields as JSON-ready data (masks as RLE at their own size)."""
    return {
        "model": prediction.model_label,
        "status": {"code": prediction.status.code, "description": prediction.status.description},
        "concepts": [_concept_dict(c) for c in prediction.concepts],
        "regions": [_region_dict(r) for r in prediction.regions],
        "caption": prediction.caption,
    }


def raw_json(items: Iterable[ExportItem]) -> str:
    """{"images": [...]}, one entry per item with its name and size and either "output" (the
    Clarifai output exactly as received, protobuf's JSON form), "prediction" (the plain result,
    when there is no raw output, e.g. local models) or "error"."""
    images = []
    for item in items:
        entry: dict[str, Any] = {"name": item.name, "width": item.width, "height": item.height}
        if item.prediction is not None and item.prediction.raw is not None:
            entry["output"] = item.prediction.raw
        elif item.prediction is not None:
            entry["prediction"] = prediction_dict(item.prediction)
        if item.error_message:
            entry["error"] = item.error_message
        images.append(entry)
    return json.dumps({"images": images}, indent=2, ensure_ascii=False, default=_json_fallback)


def _json_fallback(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytes, bytearray)):
        return None  # raw image bytes have no place in a results file
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    # File and concept names come from outside: keep spreadsheets from running them as formulas.
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def concepts_csv(items: Iterable[ExportItem]) -> str:
    """CSV with columns image, concept, score, region: one row per image-level concept, then
    one per region concept (region = its 1-based number in the response; empty for
    image-level concepts). Items without a prediction have no rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a bare "\r" in a field gets quoted too
    writer.writerow(["image", "concept", "score", "region"])
    for item in items:
        if item.prediction is None:
            continue
        image = _csv_text(item.name)
        for concept in item.prediction.sorted_concepts:
            writer.writerow([image, _csv_text(concept.name), _csv_score(concept.value), ""])
        for number, region in enumerate(item.prediction.regions, start=1):
            for concept in sorted(region.concepts, key=lambda c: c.value, reverse=True):
                writer.writerow([image, _csv_text(concept.name), _csv_score(concept.value), number])
    return out.getvalue()


def captions_csv(items: Iterable[ExportItem]) -> str:
    """CSV with columns image, caption, error: one row per item."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a bare "\r" in a field gets quoted too
    writer.writerow(["image", "caption", "error"])
    for item in items:
        caption = item.prediction.caption if item.prediction is not None else ""
        writer.writerow([_csv_text(item.name), _csv_text(caption), _csv_text(item.error_message)])
    return out.getvalue()


def text_txt(items: Iterable[ExportItem]) -> str:
    """The text read in each picture, whole, under the picture's name; a picture that failed says why."""
    parts = []
    for item in items:
        if item.prediction is not None:
            body = item.prediction.text_read or "(no text read)"
        else:
            body = f"(not read: {item.error_message})" if item.error_message else "(not read)"
        parts.append(f"== {item.name} ==\n{body}\n")
    return "\n".join(parts)


def text_lines_json(items: Iterable[ExportItem]) -> str:
    """{"images": [{"name", "width", "height", "text", "lines": [{"text", "box"}]}]}: each line with
    its box as fractions of the picture (top, left, bottom, right) and in pixels, or null."""
    images = []
    for item in items:
        entry: dict[str, Any] = {"name": item.name, "width": item.width, "height": item.height}
        if item.prediction is None:
            entry["error"] = item.error_message
        else:
            entry["text"] = item.prediction.text_read
            entry["lines"] = [_line_dict(region, item.width, item.height) for region in item.prediction.regions if region.text]
        images.append(entry)
    return json.dumps({"images": images}, indent=2, ensure_ascii=False)


def _line_dict(region: Region, width: int, height: int) -> dict[str, Any]:
    pixels = region.box.pixels(width, height) if region.box is not None else None
    return {
        "text": region.text,
        "box": _box_dict(region.box),
        "box_px": list(pixels) if pixels is not None else None,
    }


def _csv_score(value: float) -> str:
    number = _number(value)
    return "" if number is None else f"{number:.6g}"


# --- COCO ------------------------------------------------------------------------------------


def _usable(items: Iterable[ExportItem]) -> list[ExportItem]:
    return [i for i in items if i.prediction is not None]


def _coco_image(image_id: int, item: ExportItem, width: int, height: int) -> dict[str, Any]:
    return {"id": image_id, "file_name": item.name, "width": width, "height": height}


def _categories(names: Iterable[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """COCO categories sorted by name, ids from 1: the same names always get the same ids."""
    ordered = sorted(set(names))
    ids = {name: i for i, name in enumerate(ordered, start=1)}
    return [{"id": ids[n], "name": n, "supercategory": ""} for n in ordered], ids


def _info(description: str) -> dict[str, Any]:
    return {"description": description, "version": "1.0"}


def coco_detections(items: Sequence[ExportItem], min_score: float = 0.0) -> dict[str, Any]:
    """COCO object-detection JSON (as a dict; `json.dumps` it) of every item's boxes.

    One annotation per box `render.draw_detections` would draw at `min_score`, labelled with
    its top concept; bbox is [x, y, width, height] in pixels of the item's width x height;
    `score` is the concept's value. Items without a prediction are left out.
    """
    items = _usable(items)
    found: list[tuple[int, Region, Box]] = []
    images = []
    for image_id, item in enumerate(items, start=1):
        images.append(_coco_image(image_id, item, item.width, item.height))
        if item.width <= 0 or item.height <= 0:
            continue
        for region in item.prediction.regions:
            top = region.top_concept
            box = region.box.clipped() if region.box is not None else None
            if top is None or box is None or not top.value >= min_score:
                continue
            found.append((image_id, region, box))
    categories, category_ids = _categories(region_name(r) for _, r, _ in found)

    sizes = {image["id"]: (image["width"], image["height"]) for image in images}
    annotations = []
    for ann_id, (image_id, region, box) in enumerate(found, start=1):
        width, height = sizes[image_id]
        x, y = box.left * width, box.top * height
        w, h = (box.right - box.left) * width, (box.bottom - box.top) * height
        annotations.append({
            "id": ann_id,
            "image_id": image_id,
            "category_id": category_ids[region_name(region)],
            "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
            "area": round(w * h, 2),
            "score": _number(region.top_concept.value),
            "iscrowd": 0,
        })
    return {
        "info": _info("Object detections"),
        "images": images,
        "categories": categories,
        "annotations": annotations,
    }


def _mask_bbox(mask: np.ndarray) -> list[int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def coco_segmentation_zip(items: Sequence[ExportItem], mask_format: str = "rle") -> bytes:
    """A zip holding `annotations.json`: COCO with one annotation per non-empty mask.

    Masks are first resized (nearest-neighbour, as drawn) to the item's width x height (their
    own size if the item has none); `segmentation` is uncompressed RLE, `area` the mask's pixel
    count, `bbox` its extent. With mask_format="png" the zip also holds one 0/255 PNG per
    annotation under `masks/`, named in the annotation's "mask_file".
    """
    if mask_format not in ("rle", "png"):
        raise ValueError(f"mask_format must be 'rle' or 'png', not {mask_format!r}")
    items = _usable(items)
    images = []
    found: list[tuple[int, str, np.ndarray]] = []
    for image_id, item in enumerate(items, start=1):
        width, height = item.width, item.height
        for region in item.prediction.regions:
            mask = mask_as_bool(region.mask)
            if mask is None:
                continue
            if width <= 0 or height <= 0:
                height, width = mask.shape
            resized = resize_mask(mask, width, height)
            if resized.any():
                found.append((image_id, region_name(region), resized))
        images.append(_coco_image(image_id, item, max(width, 0), max(height, 0)))
    categories, category_ids = _categories(name for _, name, _ in found)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        annotations = []
        for ann_id, (image_id, name, mask) in enumerate(found, start=1):
            annotation = {
                "id": ann_id,
                "image_id": image_id,
                "category_id": category_ids[name],
                "segmentation": mask_to_rle(mask),
                "area": int(mask.sum()),
                "bbox": _mask_bbox(mask),
                "iscrowd": 0,
            }
            if mask_format == "png":
                path = f"masks/image{image_id:04d}_annotation{ann_id:06d}.png"
                archive.writestr(path, annotated_png(mask.astype(np.uint8) * 255))
                annotation["mask_file"] = path
            annotations.append(annotation)
        coco = {
            "info": _info("Segmentation masks"),
            "images": images,
            "categories": categories,
            "annotations": annotations,
        }
        archive.writestr("annotations.json", json.dumps(coco))
    return buffer.getvalue()
