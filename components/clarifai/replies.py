"""Clarifai's answers in the app's result types: predictions from old-style outputs and new-style
answers, regions with their decoded masks, concepts, statuses, and each input's output in a batch.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import cv2
import numpy as np
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from google.protobuf import json_format
from PIL import Image

from components.clarifai import parts
from components.clarifai.status import FAILURE, INPUT_CODES, INPUT_FAILED
from components.results import SUCCESS, TEXT_CONCEPT, Box, Concept, Prediction, Region, Status
from components.signatures import Method
from components.text import plural

MAX_MASK_PIXELS = 85_000_000  # a mask is never bigger than the largest image Clarifai takes
# An answer is bounded before its masks are decoded, whoever published the model: at most this many
# regions per image (the best by score, then by size), and at most this many mask pixels decoded in
# all (a boolean byte each: 24 MB, some 30 full masks of a 1024 px picture).
MAX_REGIONS = 300
MAX_MASK_PIXELS_PER_ANSWER = 24_000_000
MAX_TEXT_CHARS = 100_000  # of a text answer kept (a long document's text is some 50,000)


def mask_pixels(data: bytes) -> int | None:
    """The pixel count an encoded mask declares in its header (nothing is decoded); None when the
    bytes are no image Pillow can size."""
    try:
        with Image.open(io.BytesIO(data)) as header:
            return header.width * header.height
    except Image.DecompressionBombError:
        return MAX_MASK_PIXELS + 1  # more than any mask may be
    except Exception:  # not an image, or a header Pillow refuses
        return None


def decode_mask(data: bytes) -> np.ndarray | None:
    """A boolean mask from an encoded image: pixels > 0 belong to the region.

    Any size, 1–4 channels, 8 or 16 bits. None when the bytes are not an image.
    """
    if not data:
        return None
    declared = mask_pixels(data)  # the header only; None: not an image Pillow knows, OpenCV may still read it
    if declared is not None and declared > MAX_MASK_PIXELS:
        return None
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # e.g. a header declaring more pixels than OpenCV will allocate
        return None
    if image is None or image.size == 0:
        return None
    if image.ndim == 2:
        return image > 0
    color = image[..., :3].max(axis=2)
    if image.shape[2] == 4 and not color.any():
        return image[..., 3] > 0  # a mask drawn only in the alpha channel
    return color > 0


def prediction_from_output(output: resources_pb2.Output, model_label: str) -> Prediction:
    """The plain result of one old-style Clarifai output."""
    data = output.data
    regions, notes = regions_from_protos(data.regions)
    return Prediction(
        concepts=tuple(_concept(c) for c in data.concepts),
        regions=regions,
        caption=data.text.raw,
        status=_status(output),
        model_label=model_label,
        raw=_output_as_json(output),
        notes=notes,
    )


def prediction_from_answer(output: resources_pb2.Output, method: Method, model_label: str) -> Prediction:
    """The plain result of one new-style method's answer: text, regions or concepts, and token counts."""
    answer = parts.read_answer(output, method)
    regions, notes = regions_from_protos(answer.regions)
    text = answer.text
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        notes = (*notes, f"The answer passed {MAX_TEXT_CHARS:,} characters: the first {MAX_TEXT_CHARS:,} are kept.")
    return Prediction(
        concepts=tuple(_concept(c) for c in answer.concepts),
        regions=regions,
        caption=text,
        status=_status(output),
        model_label=model_label,
        raw=_output_as_json(output),
        notes=notes,
        usage=answer.usage,
    )


def best_regions(protos: Sequence[resources_pb2.Region], limit: int = MAX_REGIONS) -> list[resources_pb2.Region]:
    """At most `limit` regions, in the answer's order: the best by score, then by box size."""
    if len(protos) <= limit:
        return list(protos)

    def rank(index: int) -> tuple[float, float]:
        region = protos[index]
        score = max([c.value for c in region.data.concepts] + [region.value])
        b = region.region_info.bounding_box
        return (-score, -max(0.0, (b.bottom_row - b.top_row) * (b.right_col - b.left_col)))

    kept = sorted(sorted(range(len(protos)), key=rank)[:limit])
    return [protos[index] for index in kept]


def regions_from_protos(protos: Sequence[resources_pb2.Region]) -> tuple[tuple[Region, ...], tuple[str, ...]]:
    """Regions with their box (None when empty, as segments carry), decoded mask and the text an
    OCR model read there, and notes. Bounded before anything is decoded: MAX_REGIONS regions, and
    masks only while the answer's MAX_MASK_PIXELS_PER_ANSWER last (their headers say their size)."""
    regions = []
    undecodable_masks = over_budget = 0
    mask_budget = MAX_MASK_PIXELS_PER_ANSWER
    kept = best_regions(protos)
    for region in kept:
        info = region.region_info
        box = None
        if info.HasField("bounding_box"):
            b = info.bounding_box
            candidate = Box(b.top_row, b.left_col, b.bottom_row, b.right_col)
            box = None if candidate.is_empty else candidate
        mask = None
        if info.HasField("mask"):
            declared = mask_pixels(info.mask.image.base64)
            if declared is not None and mask_budget < declared <= MAX_MASK_PIXELS:
                over_budget += 1
            else:
                mask = decode_mask(info.mask.image.base64) if declared is not None else None
                undecodable_masks += mask is None
                mask_budget -= declared if mask is not None else 0
        concepts = tuple(_concept(c) for c in region.data.concepts)
        text = region.data.text.raw
        if text and not concepts:  # a line an OCR model read: named TEXT_CONCEPT, scored by its confidence
            concepts = (Concept(TEXT_CONCEPT, float(region.value)),)
        regions.append(Region(concepts, box, mask, text=text))
    notes = []
    if len(kept) < len(protos):
        notes.append(f"The answer held {len(protos):,} regions: kept the {len(kept):,} best (by score, then size).")
    if undecodable_masks:
        verb = "is" if undecodable_masks == 1 else "are"
        notes.append(f"{plural(undecodable_masks, 'mask')} in Clarifai's answer could not be decoded and {verb} not drawn.")
    if over_budget:
        notes.append(f"{plural(over_budget, 'more mask')} would pass the size one answer may take, so "
                     f"{'it is' if over_budget == 1 else 'they are'} not drawn.")
    return tuple(regions), tuple(notes)


def _status(output: resources_pb2.Output) -> Status:
    return Status(output.status.code or SUCCESS, output.status.description, output.status.details)


def _concept(concept: resources_pb2.Concept) -> Concept:
    return Concept(name=concept.name or concept.id, value=float(concept.value), id=concept.id)


def _output_as_json(output: resources_pb2.Output) -> dict:
    """The output as exported, kept once and compactly: no image bytes (the echoed input, the masks,
    which are kept decoded), at most MAX_REGIONS regions per list."""
    trimmed = resources_pb2.Output()
    trimmed.CopyFrom(output)
    trimmed.input.data.ClearField("parts")
    _strip_pixels(trimmed)
    return json_format.MessageToDict(trimmed, preserving_proto_field_name=True)


def _strip_pixels(message) -> None:
    """Clears every image's bytes in the message, cuts region lists to the regions kept and texts
    to the characters kept."""
    if isinstance(message, resources_pb2.Image):
        message.ClearField("base64")
        return
    if isinstance(message, resources_pb2.Data) and len(message.string_value) > MAX_TEXT_CHARS:
        message.string_value = message.string_value[:MAX_TEXT_CHARS]
    if isinstance(message, resources_pb2.Text) and len(message.raw) > MAX_TEXT_CHARS:
        message.raw = message.raw[:MAX_TEXT_CHARS]
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            if field.name == "regions" and len(value) > MAX_REGIONS:
                kept = best_regions(value)
                del value[:]
                value.extend(kept)
            for item in value:
                _strip_pixels(item)
        else:
            _strip_pixels(value)


def outputs_by_input(response: service_pb2.MultiOutputResponse, count: int) -> dict[int, resources_pb2.Output]:
    """Each input's output: by the input ids sent ("input-<n>") when every output names one, else by position."""
    by_position = list(response.outputs)
    ids = {f"input-{i}": i for i in range(count)}
    by_id = {ids[o.input.id]: o for o in by_position if o.input.id in ids}
    return by_id if len(by_id) == len(by_position) else dict(enumerate(by_position))


def failed_only_for_others(response: service_pb2.MultiOutputResponse, count: int) -> list[int]:
    """Inputs a fail-fast batch refused only because another input was bad: the request FAILED, some
    outputs carry their own input error, and the rest INPUT_FAILED with no prediction."""
    if response.status.code != FAILURE:
        return []
    outputs = outputs_by_input(response, count)
    own_errors = [i for i, o in outputs.items() if o.status.code in INPUT_CODES and o.status.code != INPUT_FAILED]
    collateral = [
        i for i, o in sorted(outputs.items()) if o.status.code == INPUT_FAILED and not o.data.ByteSize()
    ]
    return collateral if own_errors and collateral else []

