"""A run as one self-contained HTML file: the pictures with their boxes and masks, concepts, captions,
the model, what it was asked and how long it took. It opens offline in any browser: pictures are
embedded as data URIs, the style is inline, nothing is fetched. Pure: no network, no streamlit.

Every text from outside (file names, labels, captions, a model's answer) is escaped; nothing in a
report comes from the request's credentials.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from components.colors import color_for
from components.results import Prediction

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#18202b;margin:0;background:#f3f6fb}
main{max-width:1100px;margin:0 auto;padding:24px}
header{margin-bottom:20px}h1{font-size:28px;margin:0 0 6px}dl{display:grid;grid-template-columns:max-content 1fr;
gap:4px 12px;margin:8px 0;font-size:14px}dt{color:#5a6472}dd{margin:0}
article{background:#fff;border:1px solid #dbe2ec;border-radius:10px;padding:16px;margin:0 0 16px;display:grid;
grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
@media (max-width:700px){article{grid-template-columns:1fr}}
article img{width:100%;height:auto;border-radius:6px;display:block}h2{font-size:17px;margin:0 0 8px;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #eef1f6}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:middle;
border:1px solid rgba(0,0,0,.2)}.bar{height:8px;background:#e8edf5;border-radius:4px;min-width:60px}
.bar span{display:block;height:8px;border-radius:4px}.caption{font-size:18px;font-weight:600;margin:0 0 8px}
.note{color:#5a6472;font-size:13px;margin:6px 0}.error{color:#a4161a;font-size:14px}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fb;padding:8px;border-radius:6px;font-size:13px}
footer{color:#5a6472;font-size:12px;margin-top:24px}
"""
MAX_ANSWER_CHARS = 20_000


@dataclass(frozen=True)
class ReportImage:
    """One picture of the run: drawn as the page showed it (JPEG or PNG bytes), and its result."""

    name: str
    picture: bytes | None  # the drawn picture; None when Clarifai fetched the image itself
    picture_mime: str = "image/jpeg"
    prediction: Prediction | None = None
    error: str = ""
    url: str = ""


@dataclass(frozen=True)
class ReportRun:
    title: str  # e.g. "Detection"
    model: str  # e.g. "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct" or the local model's name
    facts: tuple[tuple[str, str], ...] = ()  # ("Asked", "people, bags"), ("Time", "2.1 s"), ...
    images: tuple[ReportImage, ...] = field(default_factory=tuple)
    made_at: str = ""  # when the report was made, as text


def html_report(run: ReportRun) -> str:
    """The whole report as one HTML document."""
    facts = [("Model", run.model), *run.facts]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(run.title)} · Clarifai Vision Playground</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        "<header>",
        f"<h1>{_e(run.title)}</h1>",
        "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>",
        "</header>",
    ]
    parts += [_image_section(image) for image in run.images]
    footer = "Made with Clarifai Vision Playground"
    parts.append(f"<footer>{_e(footer)}{' · ' + _e(run.made_at) if run.made_at else ''}</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _image_section(image: ReportImage) -> str:
    if image.picture:
        data = base64.b64encode(image.picture).decode("ascii")
        alt = _alt_text(image)
        picture = f'<img src="data:{_e(image.picture_mime)};base64,{data}" alt="{_e(alt)}">'
    else:
        picture = f'<p class="note">Clarifai fetched this image itself: {_e(image.url or image.name)}</p>'
    details = [f"<h2>{_e(image.name)}</h2>"]
    if image.error:
        details.append(f'<p class="error">{_e(image.error)}</p>')
    elif image.prediction is not None:
        details += _prediction_details(image.prediction)
    return f"<article><div>{picture}</div><div>{''.join(details)}</div></article>"


def _prediction_details(prediction: Prediction) -> list[str]:
    out = []
    if prediction.caption:
        out.append(f'<p class="caption">“{_e(prediction.caption)}”</p>')
    if prediction.concepts:
        rows = [(c.name, c.id, c.value) for c in prediction.sorted_concepts]
        out.append(_score_table("Concept", "Score", rows))
    regions = [r for r in prediction.regions if r.top_concept is not None]
    if regions:
        rows = [(r.top_concept.name, r.top_concept.id, r.top_concept.value) for r in regions]
        rows.sort(key=lambda row: -_finite(row[2]))
        heading = "Share" if all(r.mask is not None for r in regions) else "Score"  # a segment's value is its share
        out.append(_score_table("Found", heading, rows))
    for note in prediction.notes:
        out.append(f'<p class="note">{_e(note)}</p>')
    if prediction.token_words:
        out.append(f'<p class="note">{_e(prediction.token_words)}</p>')
    if prediction.raw_answer:
        out.append(f"<details><summary>The model's own answer</summary><pre>{_e(prediction.raw_answer[:MAX_ANSWER_CHARS])}</pre></details>")
    return out


def _score_table(name_heading: str, value_heading: str, rows: Sequence[tuple[str, str, float]]) -> str:
    body = []
    for name, concept_id, value in rows:
        color = color_for(name, concept_id).hex
        share = min(max(_finite(value), 0.0), 1.0)
        body.append(
            f'<tr><td><span class="swatch" style="background:{color}"></span>{_e(name)}</td>'
            f'<td>{share:.2f}</td><td><div class="bar"><span style="width:{share * 100:.0f}%;background:{color}"></span></div></td></tr>'
        )
    head = f"<tr><th>{_e(name_heading)}</th><th>{_e(value_heading)}</th><th></th></tr>"
    return f"<table>{head}{''.join(body)}</table>"


def _alt_text(image: ReportImage) -> str:
    prediction = image.prediction
    if prediction is None:
        return image.name
    named = [f"{r.top_concept.name} {r.top_concept.value:.2f}" for r in prediction.regions if r.top_concept is not None]
    return f"{image.name}" + (f", drawn: {', '.join(named[:30])}" if named else "")


def _finite(value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
