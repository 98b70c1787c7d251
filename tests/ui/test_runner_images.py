"""An image a new-style model's runner could not download or open, seen from a page: the runner
fails the call as a whole (FAILURE, its exception text), the page names that image and says Clarifai
could not fetch or read it, and the other images keep their results."""

from __future__ import annotations

from tests.apptest import as_read, no_traceback, open_page, page_text, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square

RED = ("red.png", png_bytes(scene_with_square(box=(0.1, 0.2, 0.5, 0.6))))
BLUE = ("blue.png", png_bytes(scene_with_square(box=(0.4, 0.4, 0.9, 0.9), color_bgr=(230, 60, 20))))
GONE = "https://images.example/holiday/gone.jpg"
MOVED = "https://images.example/holiday/moved.jpg?token=abc"


def with_addresses_clarifai_fetches(at, *urls: str):
    at.toggle(key="clarifai_fetches_urls").set_value(True).run()
    at.text_area(key="url_text").input("\n".join(urls))
    [submit] = [b for b in at.button if b.label == "Add images from URLs"]
    return submit.click().run()


def test_segment_anything_names_the_images_it_could_not_read_and_keeps_the_others(clarifai_env, monkeypatch):
    monkeypatch.setitem(clarifai_env.url_images, MOVED, b"<html>This page has moved.</html>")
    # three images: full cards, each with its message (more would be a gallery)
    at = upload(open_page("segmentation", key=TEST_KEY), RED)  # today's default: Segment Anything
    at = predict(with_addresses_clarifai_fetches(at, GONE, MOVED))
    no_traceback(at)
    text = page_text(at)
    assert "1 with results" in text and "2 failed" in text
    shown = [as_read(e.value) for e in at.error]
    assert len(shown) == 2, shown
    assert any("Clarifai could not fetch or read “https://images.example/holiday/gone.jpg”" in m for m in shown)
    assert any("Clarifai could not fetch or read “https://images.example/holiday/moved.jpg?…”" in m for m in shown)
    assert not any("could not process the request" in m or "token=abc" in m for m in shown)
    assert all("Image not read by Clarifai" in m for m in shown)
    calls = clarifai_env.prediction_calls()
    assert len(calls) == 3 and all(c.request.inputs[0].data.metadata["_method_name"] == "segment_anything" for c in calls)
