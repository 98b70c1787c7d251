"""The tables behind the result views."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from components import colors
from components.colors import Color
from components.drawing import charts
from components.results import Box, Concept, Region


def test_color_hex_turns_bgr_into_rgb_hex():
    assert Color(255, 0, 0).hex == "#0000ff"
    assert Color(0, 128, 255).hex == "#ff8000"
    assert colors.color_for("person").hex in {h.lower() for h in colors.PALETTE_HEX}


def test_concepts_frame_is_sorted_best_first_and_filtered():
    concepts = [Concept("tree", 0.4), Concept("train", 0.95), Concept("sky", 0.7), Concept("odd", math.nan)]
    frame = charts.concepts_frame(concepts, min_value=0.5)
    assert list(frame.columns) == ["concept", "score", "color"]
    assert frame["concept"].tolist() == ["train", "sky"]
    assert frame["score"].tolist() == [0.95, 0.7]
    assert charts.concepts_frame(concepts, max_concepts=1)["concept"].tolist() == ["train"]
    assert charts.concepts_frame(concepts, max_concepts=0).empty


def test_empty_frames_keep_their_columns():
    assert list(charts.concepts_frame([]).columns) == ["concept", "score", "color"]
    assert list(charts.regions_frame([], 100, 100).columns) == charts.REGION_COLUMNS
    assert list(charts.coverage_frame([]).columns) == charts.COVERAGE_COLUMNS == ["concept", "share", "color", "region"]
    assert pd.api.types.is_float_dtype(charts.concepts_frame([])["score"])


def test_regions_frame_gives_boxes_in_pixels_of_the_picture():
    regions = [
        Region((Concept("dog", 0.6),), Box(0.25, 0.1, 0.75, 0.5)),
        Region((Concept("cat", 0.9), Concept("animal", 0.5)), Box(0.0, 0.5, 0.5, 1.0)),
        Region((Concept("ghost", 0.99),), Box(float("nan"), 0, 1, 1)),  # not drawable: left out
        Region((Concept("faint", 0.1),), Box(0.1, 0.1, 0.2, 0.2)),
        Region((Concept("sky", 0.5),), mask=np.ones((4, 4), bool)),  # a segment, no box
    ]
    frame = charts.regions_frame(regions, 400, 300, min_score=0.2)
    assert frame["concept"].tolist() == ["cat", "dog"]
    assert frame.iloc[1][["x0", "y0", "x1", "y1"]].tolist() == [40, 75, 200, 225]
    assert frame.iloc[0][["x0", "y0", "x1", "y1"]].tolist() == [200, 0, 399, 150]
    assert frame.iloc[0]["color"] == colors.color_for("cat").hex
    assert frame["region"].tolist() == [1, 0]  # each row says which region it is, for picking it out


def test_coverage_frame_uses_clarifai_shares_and_the_drawing_colors():
    regions = [
        Region((Concept("sky-other", 0.2198),), mask=np.ones((4, 4), bool)),
        Region((Concept("railroad", 0.1943),), mask=np.ones((4, 4), bool)),
        Region((Concept("train", 0.0939),), mask=np.ones((4, 4), bool)),
    ]
    frame = charts.coverage_frame(regions)
    assert frame["concept"].tolist() == ["sky-other", "railroad", "train"]
    assert frame["share"].tolist() == [0.2198, 0.1943, 0.0939]
    assert frame["color"].tolist() == [colors.color_for(n).hex for n in frame["concept"]]


def test_coverage_falls_back_to_the_mask_fraction_when_the_value_is_missing():
    quarter = np.zeros((10, 10), bool)
    quarter[:5, :5] = True
    regions = [
        Region((Concept("road", 0.0),), mask=quarter),
        Region((Concept("wall", math.nan),), mask=np.ones((2, 2), bool)),
        Region((), mask=np.zeros((3, 3), bool)),
    ]
    frame = charts.coverage_frame(regions)
    assert frame["concept"].tolist() == ["wall", "road", ""]
    assert frame["share"].tolist() == [1.0, 0.25, 0.0]
    assert frame["region"].tolist() == [1, 0, 2]


# --- colour concepts -------------------------------------------------------------------------

SKY_BLUE = next(c for c in colors.NAMED_COLORS if c.name == "sky blue")


def test_every_table_gives_a_color_concept_its_own_color():
    concept = Concept("sky blue", 0.4, SKY_BLUE.concept_id)
    assert charts.concepts_frame([concept])["color"].tolist() == [SKY_BLUE.color.hex]
    region = Region((concept,), box=Box(0.1, 0.1, 0.5, 0.5), mask=np.ones((4, 4), bool))
    assert charts.regions_frame([region], 100, 100)["color"].tolist() == [SKY_BLUE.color.hex]
    assert charts.coverage_frame([region])["color"].tolist() == [SKY_BLUE.color.hex]
    # the same name from a model that is not about colours is the same colour too
    plain = charts.concepts_frame([Concept("sky blue", 0.4, "ai_sky_blue")])["color"].tolist()
    assert plain == [SKY_BLUE.color.hex]


# --- bar chart specs -------------------------------------------------------------------------


def scored(count: int) -> list[Concept]:
    """`count` concepts with distinct names, in shuffled order, scores spread over 0–1."""
    concepts = [Concept(f"concept number {i}", round(0.98 - 0.9 * i / max(count, 1), 3)) for i in range(count)]
    return [concepts[i] for i in np.random.default_rng(count).permutation(count)]


def rows(spec: dict) -> list[dict]:
    return spec["data"]["values"]


def layer_marks(spec: dict) -> list[str]:
    return [layer["mark"]["type"] for layer in spec["layer"]]


@pytest.mark.parametrize("count", [1, 2, 4, 30, 50])
def test_every_bar_is_in_the_spec_with_its_label_largest_first(count):
    concepts = scored(count)
    spec = charts.bar_chart_spec(charts.concepts_frame(concepts), "score", "score")
    labels = [row["label"] for row in rows(spec)]
    assert sorted(labels) == sorted(c.name for c in concepts)  # every bar, each with its name
    values = [row["value"] for row in rows(spec)]
    assert values == sorted(values, reverse=True)
    y = spec["encoding"]["y"]
    assert y["sort"] == labels  # drawn in that order, top to bottom
    assert y["axis"]["labelOverlap"] is False  # no label is dropped to make room
    assert spec["height"] >= count * 20  # a row per bar tall enough for a 12 px label
    assert layer_marks(spec) == ["bar", "text", "text"]


def test_bars_take_the_drawing_color_of_their_concept():
    concepts = [Concept("sky blue", 0.6, SKY_BLUE.concept_id), Concept("person", 0.9, "ai_person"), Concept("dog", 0.3)]
    spec = charts.bar_chart_spec(charts.concepts_frame(concepts), "score", "score")
    expected = {c.name: colors.color_for(c.name, c.id).hex for c in concepts}
    assert {row["concept"]: row["color"] for row in rows(spec)} == expected
    assert expected["sky blue"] == SKY_BLUE.color.hex
    bar_color = spec["layer"][0]["encoding"]["color"]
    assert bar_color["field"] == "color" and bar_color["scale"] is None  # the value is the colour itself


def test_segment_bars_take_the_mask_colors():
    regions = [
        Region((Concept("sky blue", 0.42, SKY_BLUE.concept_id),), mask=np.ones((4, 4), bool)),
        Region((Concept("road", 0.3),), mask=np.ones((4, 4), bool)),
    ]
    spec = charts.bar_chart_spec(charts.coverage_frame(regions), "share", "share of the image", percent=True)
    assert [row["color"] for row in rows(spec)] == [SKY_BLUE.color.hex, colors.color_for("road").hex]


def test_values_are_printed_on_the_bars_as_scores_or_percentages():
    frame = charts.concepts_frame([Concept("a", 0.934), Concept("b", 0.05), Concept("c", 0.001)])
    assert [row["text"] for row in rows(charts.bar_chart_spec(frame, "score", "score"))] == ["0.93", "0.05", "0.00"]
    shares = charts.bar_chart_spec(frame, "score", "share", percent=True)
    assert [row["text"] for row in rows(shares)] == ["93 %", "5 %", "<1 %"]
    assert {layer["encoding"]["text"]["field"] for layer in shares["layer"][1:]} == {"text"}


def test_value_text_inside_a_bar_is_readable_on_it_and_outside_takes_the_page_color():
    concepts = [Concept(named.name, 0.9, named.concept_id) for named in colors.NAMED_COLORS]
    concepts.append(Concept("short", 0.2))
    spec = charts.bar_chart_spec(charts.concepts_frame(concepts), "score", "score", text_color="#123456")
    for row in rows(spec):
        if row["inside"]:
            ratio = colors.contrast_ratio(Color.from_hex(row["color"]), Color.from_hex(row["text_color"]))
            assert ratio >= 4.5, row
        else:
            assert row["text_color"] == "#123456"
    assert sum(row["inside"] for row in rows(spec)) == len(colors.NAMED_COLORS)


@pytest.mark.parametrize(("text", "background"), [("#18202b", "#ffffff"), ("#e6ebf2", "#0f141c")])
def test_the_names_and_the_axis_are_in_the_pages_text_color(text, background):
    spec = charts.bar_chart_spec(charts.concepts_frame(scored(3)), "score", "score", text_color=text, background=background)
    assert spec["config"]["axis"] == {"labelColor": text, "titleColor": text}


def test_every_chart_has_the_same_zero_to_one_axis():
    for concepts in ([Concept("a", 0.3)], [Concept("a", 0.6), Concept("b", 0.1)], scored(12)):
        spec = charts.bar_chart_spec(charts.concepts_frame(concepts), "score", "score")
        x = spec["encoding"]["x"]
        assert x["field"] == "value" and x["type"] == "quantitative"
        assert x["scale"]["domain"] == [0, 1] and x["scale"]["nice"] is False
        assert x["axis"]["values"][0] == 0 and x["axis"]["values"][-1] == 1
        y_axis = spec["encoding"]["y"]["axis"]
        assert y_axis["minExtent"] == y_axis["maxExtent"]  # one label column: axes line up card to card


def test_out_of_range_and_missing_values_are_kept_on_the_axis_or_left_out():
    frame = pd.DataFrame({"concept": ["a", "b", "c"], "score": [1.7, -0.2, math.nan], "color": ["#000000"] * 3})
    assert [(row["label"], row["value"]) for row in rows(charts.bar_chart_spec(frame, "score", "score"))] == [
        ("a", 1.0), ("b", 0.0)
    ]


def test_long_names_are_cut_on_the_axis_and_whole_in_the_tooltip():
    name = "a very long concept name that would push the bars off a phone screen"
    spec = charts.bar_chart_spec(charts.concepts_frame([Concept(name, 0.5)]), "score", "score")
    assert 60 <= spec["encoding"]["y"]["axis"]["labelLimit"] <= 160
    assert rows(spec)[0]["concept"] == name
    assert {"field": "concept", "type": "nominal", "title": "Concept"} in spec["encoding"]["tooltip"]


def test_repeated_and_blank_names_keep_a_bar_each():
    frame = pd.DataFrame({"concept": ["car", "car", ""], "share": [0.5, 0.2, 0.1], "color": ["#ff0000"] * 3})
    labels = [row["label"] for row in rows(charts.bar_chart_spec(frame, "share", "share"))]
    assert labels == ["car", "car (2)", "(no name)"]


def test_a_bar_the_color_of_the_page_gets_a_visible_outline():
    frame = charts.concepts_frame([
        Concept("white", 0.5, "colour-white"), Concept("black", 0.4, "colour-black"), Concept("dog", 0.3)
    ])
    light = {row["concept"]: row["outline"] for row in rows(charts.bar_chart_spec(frame, "score", "score"))}
    assert light["white"] != "#ffffff" and light["black"] == "#000000"
    dark = charts.bar_chart_spec(frame, "score", "score", text_color="#fafafa", background="#0e1117")
    outlines = {row["concept"]: row["outline"] for row in rows(dark)}
    assert outlines["white"] == "#ffffff" and outlines["black"] != "#000000"


def test_the_chart_is_svg_with_a_description_naming_every_bar():
    frame = charts.concepts_frame([Concept("sky", 0.42), Concept("tree", 0.2)])
    spec = charts.bar_chart_spec(frame, "score", "share of the image", percent=True)
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"  # bars and labels are page elements
    assert spec["description"] == "Bar chart of share of the image: sky 42 %, tree 20 %"
    assert spec["autosize"]["type"] == "fit-x"  # as wide as its column, as tall as its bars


def test_a_concept_named_as_a_color_is_that_color_whatever_model_said_it():
    red = colors.named_color("colour-red").color
    assert colors.color_for("red") == colors.color_for("Red ", "ai_red") == colors.color_for("red", "colour-red") == red
    assert colors.color_for("gray") == colors.color_for("grey") == colors.named_color("colour-grey").color
    assert colors.color_for("sky blue") == colors.named_color("colour-sky-blue").color
    assert colors.color_for("reddish dog") in colors.PALETTE
