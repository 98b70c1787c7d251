"""The HTML report of a run: self-contained, escaped, with the pictures and the results."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import cv2
import numpy as np

from components.outputs.report import ReportImage, ReportRun, html_report
from components.results import Box, Concept, Prediction, Region, TokenUsage


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.images: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag == "img":
            self.images.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def picture() -> bytes:
    image = np.full((60, 80, 3), 200, np.uint8)
    image[10:30, 10:40] = (0, 0, 255)
    return cv2.imencode(".jpg", image)[1].tobytes()


def run() -> ReportRun:
    detection = Prediction(
        regions=(
            Region((Concept("person", 0.93),), Box(0.1, 0.1, 0.5, 0.5)),
            Region((Concept("<script>x</script>", 0.4),), Box(0, 0, 1, 1)),
        ),
        notes=("The model gave no scores.",),
        usage=TokenUsage(300, 40),
        raw_answer='```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "person"}]\n```',
    )
    return ReportRun(
        title="Detection",
        model="qwen/qwen-VL/Qwen2_5-VL-7B-Instruct",
        facts=(("Asked about", "people & <bags>"), ("Time", "2.1 s")),
        images=(
            ReportImage("street <1>.jpg", picture(), prediction=detection),
            ReportImage("https://example.com/a.jpg", None, url="https://example.com/a.jpg", error="Clarifai could not download it."),
            ReportImage("cat.png", picture(), prediction=Prediction(caption='a "cat" & a mat', concepts=(Concept("cat", 0.8),))),
        ),
        made_at="2026-11-30 17:00",
    )


def test_the_report_holds_everything_and_fetches_nothing():
    document = html_report(run())
    parsed = _Collector()
    parsed.feed(document)
    assert all(url.startswith("data:image/") for url in parsed.urls), "no request leaves the file"
    assert len(parsed.images) == 2
    for attrs in parsed.images:
        data = base64.b64decode(attrs["src"].split(",", 1)[1])
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (60, 80, 3)
    text = " ".join(parsed.text)
    for expected in ("Detection", "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct", "people & <bags>", "person", "0.93",
                     "street <1>.jpg", "Clarifai could not download it.", 'a "cat" & a mat', "300 tokens in"):
        assert expected in text
    assert "person 0.93" in parsed.images[0]["alt"]


def test_text_from_outside_is_escaped():
    document = html_report(run())
    assert "<script>" not in document and "&lt;script&gt;" in document
    assert "<bags>" not in document
    assert not re.search(r"\son\w+=", document), "no event handlers"
