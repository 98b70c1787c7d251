"""More than a few results are a gallery: a thumbnail per image, drawn as its card draws it, with
its top answer under it and a button that opens its full card; paged 24 at a time."""

from __future__ import annotations

import re

import pytest

from components.ui.gallery import GALLERY_ABOVE, PAGE_SIZE
from tests.apptest import answer_blocks, as_read, no_traceback, open_page, page_text, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square, scene_with_text

CONCEPT_LINE = r"[a-z ]+ \d\.\d\d( · [a-z ]+ \d\.\d\d){0,2}"  # up to three concepts, best first


def scenes(count: int, prefix: str = "scene") -> list[tuple[str, bytes]]:
    return [(f"{prefix}-{i}.png", png_bytes(scene_with_square(160 + i, 120))) for i in range(count)]


def open_buttons(at, page: str) -> list[str]:
    return [button.key for button in at.button if str(button.key).startswith(f"{page}_open_")]


def tile_pictures(at) -> list:
    """The gallery's thumbnails: the pictures whose alt text starts with a scene's name."""
    return [image.proto.imgs[0] for image in at.image if image.proto.imgs[0].alt.startswith("scene-")]


def region_tables(at) -> list:
    return [table for table in at.dataframe if "_rows_" in str(table.key)]


def test_a_few_results_are_full_cards_and_more_are_a_gallery(offline_env):
    at = predict(upload(open_page("detection"), *scenes(GALLERY_ABOVE)))
    no_traceback(at)
    assert len(region_tables(at)) == GALLERY_ABOVE and not open_buttons(at, "detection")

    at = predict(upload(open_page("detection"), *scenes(7)))
    no_traceback(at)
    assert "7 with results" in page_text(at)
    assert not region_tables(at), "no full card until one is opened"
    assert open_buttons(at, "detection") == [f"detection_open_{i}" for i in range(7)]
    pictures = tile_pictures(at)
    assert len(pictures) == 7
    assert all("1 box drawn: red" in picture.alt for picture in pictures), "each thumbnail has its boxes drawn"
    answers = [as_read(c.value) for c in at.caption if "box" in c.value]
    assert answers.count("1 box: red round object") == 7, answers
    assert not at.segmented_control, "7 images are one page"


def test_a_tile_opens_its_full_card(offline_env):
    at = predict(upload(open_page("detection"), *scenes(5)))
    at = at.button(key="detection_open_3").click().run()
    no_traceback(at)
    [table] = region_tables(at)
    assert table.proto.alt == "Boxes found in scene-3.png"
    assert list(table.value["concept"]) == ["red round object"]
    drawn = [picture for picture in tile_pictures(at) if picture.alt.startswith("scene-3.png:")]
    assert len(drawn) == 2, "its thumbnail, and the card's picture"


def test_the_threshold_redraws_the_thumbnails_and_their_answers(offline_env):
    at = predict(upload(open_page("detection"), *scenes(5)))
    before = [picture.url for picture in tile_pictures(at)]
    at = at.slider(key="detection_min_score").set_value(0.95).run()
    no_traceback(at)
    pictures = tile_pictures(at)
    assert all("No boxes drawn" in picture.alt for picture in pictures)
    assert [picture.url for picture in pictures] != before, "the thumbnails are drawn again"
    assert sum("0 boxes shown, 1 below the threshold" in c.value for c in at.caption) == 5


def test_many_results_are_paged_twenty_four_at_a_time(offline_env):
    at = predict(upload(open_page("classification"), *scenes(PAGE_SIZE + 6)))
    no_traceback(at)
    pager = at.segmented_control(key="classification_page")
    assert list(map(str, pager.options)) == ["1", "2"]
    assert f"Images 1–{PAGE_SIZE} of {PAGE_SIZE + 6}" in page_text(at)
    assert len(open_buttons(at, "classification")) == PAGE_SIZE
    at = pager.set_value(2).run()
    assert f"Images {PAGE_SIZE + 1}–{PAGE_SIZE + 6} of {PAGE_SIZE + 6}" in page_text(at)
    assert open_buttons(at, "classification") == [f"classification_open_{i}" for i in range(PAGE_SIZE, PAGE_SIZE + 6)]
    concepts = [as_read(c.value) for c in at.caption if re.fullmatch(CONCEPT_LINE, as_read(c.value))]
    assert len(concepts) == 6 and all(line.startswith("grey ") for line in concepts), "the grey background first"


def test_all_tasks_shows_a_gallery_with_every_task_drawn_and_answered(offline_env):
    at = predict(upload(open_page("all"), *scenes(4)))
    no_traceback(at)
    assert open_buttons(at, "all") == [f"all_open_{i}" for i in range(4)]
    answers = [as_read(c.value) for c in at.caption if "box" in c.value]
    assert len(answers) == 4 and all("1 box: red round object" in line and "segment" in line for line in answers), answers
    at = at.button(key="all_open_1").click().run()
    no_traceback(at)
    assert any(m.value.startswith("<") and "red round object" in m.value for m in at.markdown), "its legend"


@pytest.mark.parametrize("page", ["captioning", "ocr"])
def test_a_caption_or_text_read_is_plain_text_in_the_card_and_its_first_line_under_the_tile(clarifai_env, page):
    pictures = [(f"sign-{i}.png", png_bytes(scene_with_text(width=400 + i))) for i in range(4)]
    at = predict(upload(open_page(page, key=TEST_KEY), *pictures))
    no_traceback(at)
    assert not answer_blocks(at), "no card is open"
    at = at.button(key=f"{page}_open_0").click().run()
    no_traceback(at)
    [block] = answer_blocks(at)
    first = block.value.strip().splitlines()[0].strip()
    assert first
    if page == "ocr":
        assert len(block.value.strip().splitlines()) == 2, "the card has every line read, the tile the first"
    under_tiles = [as_read(c.value) for c in at.main.caption]
    assert first in under_tiles, (first, under_tiles)
    in_expanders = [code.value for expander in at.expander for code in expander.code]  # "The model's own answer"
    boxed = [code.value for code in at.code if first in code.value and code.value not in in_expanders]
    assert not boxed, "the answer is not shown in a code box"


def test_a_failed_image_has_its_plain_thumbnail_and_says_it_failed():
    from components.errors import AppError
    from components.images.preparation import prepare_upload
    from components.results import ImageResult
    from components.tasks import Task
    from components.ui.results import result_tile
    from components.views import DisplaySettings, view_for

    image = prepare_upload("scene.png", png_bytes(scene_with_square(160, 120)))
    error = AppError("The model could not read this picture")
    tile = result_tile(view_for(Task.DETECTION), image, ImageResult(error=error), DisplaySettings())
    assert tile.picture and tile.alt == "scene.png"
    assert tile.answers == (f"Failed: {error.title}.",)


def test_thumbnails_are_drawn_once_for_the_same_results_and_settings_and_again_when_they_change(offline_env):
    from components.images.preparation import prepare_upload
    from components.local_models.catalogue import predict_local
    from components.models import PredictSettings
    from components.tasks import Task
    from components.ui.results import drawn_tile
    from components.views import DisplaySettings, view_for

    image = prepare_upload("scene.png", png_bytes(scene_with_square(640, 480)))
    [result] = predict_local(Task.DETECTION.spec.local_model, [image.pixels()], PredictSettings())
    drawn = ((view_for(Task.DETECTION), result.prediction),)
    first = drawn_tile(image, drawn, DisplaySettings(min_score=0.3))
    assert drawn_tile(image, drawn, DisplaySettings(min_score=0.3)) is first
    assert drawn_tile(image, drawn, DisplaySettings(min_score=0.95)) != first


def test_file_names_and_answers_on_tiles_are_plain_text(offline_env):
    names = ["**b**.png", "[x](y).png", ":red[z].png", "<i>.png"]
    files = [(name, data) for name, (_, data) in zip(names, scenes(4))]
    at = predict(upload(open_page("detection"), *files))
    no_traceback(at)
    labels = [at.button(key=f"detection_open_{i}").label for i in range(4)]
    assert [as_read(label) for label in labels] == names, "each name reads as it is"
    assert all(label != name for label, name in zip(labels, names)), "its markup characters are escaped"
