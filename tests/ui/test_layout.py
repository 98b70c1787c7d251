"""Under AppTest: the home page's example, the key's status, adding images, problems where they
arose, preparation slots, and a visitor's images and results across a reload."""

from __future__ import annotations

import base64
import re
import threading

import pytest

from components.clarifai.budget import UNIDENTIFIED, VisitorSignals, identify_visitor
from components.images.preparation import prepare_upload
from components.images.samples import SAMPLES
from components.images.slots import PreparationSlots
from components.run import backend
from components.run.backend import Backend
from components.session_store import SESSION_STORE
from components.tasks import TASKS
from components.ui import inputs as ui_inputs
from components.ui import state as ui_state
from components.ui.home import example_predictions
from tests.apptest import VISITOR_STATE, as_read, no_traceback, open_page, page_text, photo, predict, upload, visitor_state
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square
from tests.ui.test_sessions import strings_in

BROWSER_A = b"alice's browser!"
BROWSER_B = b"bob's browser..!"


def main_sequence(at) -> list[str]:
    """The main area's text and pictures, top to bottom, as a reader meets them."""
    found = []
    for node in at.main:
        kind = getattr(node, "type", "")
        if kind in ("markdown", "subheader", "caption", "title"):
            found.append(str(node.value))
        elif kind == "image":
            found.append("<picture>")
    return found


def first_index(sequence: list[str], text: str) -> int:
    return next(i for i, item in enumerate(sequence) if text in item)


def sidebar_captions(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


# --- the home page opens on a ready example ---------------------------------------------------------


def test_home_opens_on_a_drawn_example_then_the_tasks_then_a_short_setup(offline_env):
    at = open_page("home")
    no_traceback(at)
    sequence = main_sequence(at)
    # the sample's choice and the way to use it, then the picture (with what is drawn on it, as
    # text, under it) leading what was found
    order = [
        first_index(sequence, text)
        for text in ("**Example**", "<picture>", "**Detection:**", "Tasks", "Setup", "Default models")
    ]
    assert order == sorted(order), sequence
    assert "round object" in page_text(at), "the local detector's objects, as text"
    assert at.get("vega_lite_chart"), "the colour classifier's chart"

    at.get("button_group")[0].set_value("balloons").run()
    balloons = page_text(at)
    assert "teal round object" in balloons and "yellow object 0.74" not in balloons

    at = at.button(key="use_example").click().run()
    no_traceback(at)
    # the button opens the task drawn on the example, the picture chosen there, and says so
    assert [title.value.split(" ", 1)[-1] for title in at.title] == ["Detection"]
    assert "1 image chosen" in page_text(at)
    assert [image.name for image in ui_state_images(at)] == ["sample-balloons.jpg"]
    assert [toast.value for toast in at.toast] == ["Hot-air balloons is chosen: press Predict to run Detection."]
    at.run()
    assert not at.toast, "said once"


def ui_state_images(at):
    return list(at.session_state["images"].values())


def test_the_example_is_computed_once_per_sample(offline_env, monkeypatch):
    example_predictions.clear()
    calls = []
    real = backend.run_predictions

    def counted(plan, images, **kwargs):
        calls.append(plan.task)
        return real(plan, images, **kwargs)

    monkeypatch.setattr(backend, "run_predictions", counted)
    first = open_page("home")
    second = open_page("home")
    for at in (first, second):
        no_traceback(at)
        assert "round object" in page_text(at)
    assert len(calls) == 2, "detection and classification, once, for both visitors"


def test_home_shows_the_visitors_latest_result_instead(offline_env, testdata):
    at = predict(upload(open_page("detection"), photo(testdata, "astronaut.png")))
    at.switch_page("app_pages/0_Home.py").run()
    no_traceback(at)
    text = page_text(at)
    assert "Your latest result" in text and "**Detection:** face" in text
    assert "**Example**" not in text
    assert [link.label for link in at.main.get("page_link")][0] == "Open Detection"


def test_with_a_key_home_checks_each_default_once_and_says_which_answer(clarifai_env):
    clarifai_env.retire("general-image-recognition")
    at = open_page("home", key=TEST_KEY)
    no_traceback(at)
    [defaults] = [m.value for m in at.markdown if m.value.startswith("**Default models**")]
    lines = defaults.splitlines()[1:]
    assert len(lines) == len(TASKS)
    assert "does not answer" in lines[0] and "Classification" in lines[0]
    assert all(":green[:material/check: answers]" in line for line in lines[1:])
    looked_up = len(clarifai_env.calls_to("GetModel"))
    assert looked_up >= len({spec.default_model for spec in TASKS.values()})
    at.run()
    at.run()
    assert len(clarifai_env.calls_to("GetModel")) == looked_up, "checked once, not on every rerun"
    assert f"endpoint {ui_state.endpoint().base}" in page_text(at), "a local endpoint is not the default: shown"


def test_with_a_demo_budget_home_spends_nothing_checking_defaults(clarifai_env):
    at = open_page("home", key=TEST_KEY, CLARIFAI_DEMO_CALL_BUDGET=3)
    no_traceback(at)
    assert not clarifai_env.calls, "not one operation of the visitor's allowance"
    assert "checked when you open a task" in page_text(at)


# --- the key's status -------------------------------------------------------------------------------


def test_a_typed_key_is_only_entered_until_a_call_with_it_succeeds(clarifai_env):
    at = open_page("classification")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at.radio(key="model_source_classification").set_value("typed").run()
    at.text_input(key="model_text_classification").input("not a model").run()
    at.text_input(key="pat").input(TEST_KEY).run()
    no_traceback(at)
    assert "Key entered" in sidebar_captions(at) and "Your key works" not in sidebar_captions(at)
    assert not clarifai_env.calls, "nothing was asked with the key yet"

    at.radio(key="model_source_classification").set_value("default").run()
    assert clarifai_env.calls_to("GetModel"), "the sidebar looked the model up with the key"
    assert "Your key works" in sidebar_captions(at) and "Key entered" not in sidebar_captions(at)


def test_a_refused_key_never_shows_as_working(clarifai_env):
    at = open_page("detection")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at.text_input(key="pat").input("not-a-key-clarifai-knows").run()
    no_traceback(at)
    assert any("Clarifai refused the key" in e.value for e in at.sidebar.error)
    assert "Key entered" in sidebar_captions(at) and "Your key works" not in sidebar_captions(at)
    at.switch_page("app_pages/0_Home.py").run()
    assert "Your key works" not in sidebar_captions(at) and "your key works" not in page_text(at)


def test_on_home_a_typed_key_works_once_the_defaults_answer(clarifai_env):
    at = open_page("home")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at = at.text_input(key="pat").input(TEST_KEY).run()
    no_traceback(at)
    assert "Your key works" in sidebar_captions(at)
    assert ":green[your key works]" in page_text(at)


# --- adding images ----------------------------------------------------------------------------------


def test_the_uploader_offers_only_formats_the_app_reads(offline_env, testdata):
    at = open_page("classification")
    offered = list(at.file_uploader[0].proto.type)
    assert offered == [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".avif", ".mpo"]
    assert at.file_uploader[0].label == "Images (JPEG, PNG, WebP, BMP, TIFF, GIF, AVIF, MPO; each under 20 MB)"
    at = upload(at, ("IMG_0001.jpg", (testdata / "formats" / "hopper.heif").read_bytes()))  # renamed on a phone
    no_traceback(at)
    assert any("HEIF" in as_read(e.value) for e in at.error)


def test_many_bad_files_give_one_message_with_each_files_reason(offline_env):
    empty = [(f"empty-{i:02d}.jpg", b"") for i in range(8)]
    text = [(f"notes-{i:02d}.png", b"just some text, not a picture " * 4) for i in range(8)]
    at = upload(open_page("detection"), *empty, *text)
    no_traceback(at)
    [message] = at.error
    assert message.value.startswith("**16 images could not be added:**")
    [all_of_them] = [m.value for m in at.main.get("markdown") if "notes-07.png" in m.value]  # in an expander
    reasons = dict(line.removeprefix("- “").split("” ", 1) for line in all_of_them.splitlines())
    assert set(reasons) == {name for name, _ in empty + text}
    assert all(reasons[name].startswith("is empty (0 bytes)") for name, _ in empty)
    assert all(reasons[name].startswith("is not in an image format the app can read") for name, _ in text)
    assert message.value.count("\n- ") == ui_inputs.PROBLEMS_LISTED - 1, "the first few in the message itself"


def test_a_problem_shows_on_its_page_only_and_goes_with_the_next_successful_add(offline_env):
    at = open_page("detection")
    at.text_area(key="url_text").input("ftp://example.com/a.jpg")
    at = at.button[0].click().run()
    assert any("ftp" in e.value.lower() for e in at.error)
    at.switch_page("app_pages/3_Segmentation.py").run()
    no_traceback(at)
    assert not at.error, "a URL problem does not follow the visitor to other pages"
    at.switch_page("app_pages/2_Detection.py").run()
    assert any("ftp" in e.value.lower() for e in at.error), "it stays where it arose"
    at = upload(at, ("square.png", png_bytes(scene_with_square())))
    no_traceback(at)
    assert not at.error and "1 image chosen" in page_text(at)


def test_thumbnails_keep_the_order_chosen(offline_env):
    files = [(f"{name}.png", png_bytes(scene_with_square(200 + i, 150))) for i, name in enumerate("dcbae")]
    at = upload(open_page("classification"), *files)
    grid = at.main.get_by_key("chosen_thumbnails")
    captions = [node.value for node in grid if getattr(node, "type", "") == "caption"]
    assert captions == [name for name, _ in files]


def sample_tile_pictures(at) -> list[str]:
    """The address of each sample tile's picture, in order (the tiles are the page's first pictures)."""
    pictures = [node.proto.imgs[0].url for node in at.main if getattr(node, "type", "") == "image"]
    return pictures[: len(SAMPLES) + 1]


def test_every_sample_has_a_picture_and_clarifais_says_what_it_is_until_it_is_fetched(offline_env, testdata, monkeypatch):
    at = open_page("classification")
    no_traceback(at)
    *painted, clarifais = sample_tile_pictures(at)
    assert len(painted) == len(SAMPLES) and not any(url.startswith("data:") for url in painted), "the painted samples"
    # offline the photo's address cannot be reached: a drawn tile names it and where it comes from
    assert clarifais.startswith("data:image/svg+xml;base64,")
    drawn = base64.b64decode(clarifais.split(",", 1)[1]).decode()
    assert "metro-north.jpg" in drawn and "Clarifai's photo, fetched" in drawn and "from its URL when added" in drawn
    assert "<image" not in drawn, "a drawing, not a picture passed off as the photo"

    _, data = photo(testdata, "metro-north.jpg")  # as its address would give it
    monkeypatch.setattr(ui_inputs, "prepare_url", lambda url, options: prepare_upload(url, data, options, source="url"))
    at = at.button(key="sample_clarifai_url").click().run()
    no_traceback(at)
    assert "1 image chosen" in page_text(at)
    *_, clarifais = sample_tile_pictures(at)
    assert not clarifais.startswith("data:"), "once fetched, the tile shows the photo itself"


# --- preparation slots ------------------------------------------------------------------------------


class RecordingSlots(PreparationSlots):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.visitors = []
        self.most_in_flight = 0

    def hold(self, visitor, timeout=None):
        self.visitors.append(visitor)
        held = super().hold(visitor, timeout)

        class Tracking:
            def __enter__(inner):
                held.__enter__()
                self.most_in_flight = max(self.most_in_flight, self.in_flight(visitor))

            def __exit__(inner, *exc):
                return held.__exit__(*exc)

        return Tracking()


def test_every_upload_is_prepared_in_one_of_the_visitors_slots(offline_env, visitors, monkeypatch):
    slots = RecordingSlots(per_visitor=2, total=3)
    monkeypatch.setattr(ui_state, "PREPARATION_SLOTS", slots)
    at = open_page("classification", state={VISITOR_STATE: visitor_state(BROWSER_A, "192.0.2.7")})
    files = [(f"scene-{i}.png", png_bytes(scene_with_square(160 + i, 120))) for i in range(6)]
    at = upload(at, *files)
    no_traceback(at)
    assert "6 images chosen" in page_text(at)
    expected = identify_visitor(VisitorSignals(*visitor_state(BROWSER_A, "192.0.2.7")))
    assert slots.visitors == [expected] * 6
    assert 1 <= slots.most_in_flight <= 2
    assert slots.in_flight() == 0 and slots.waiting() == 0


def test_when_no_slot_frees_in_time_the_visitor_is_told_to_try_again(offline_env, monkeypatch):
    slots = PreparationSlots(per_visitor=1, total=1)
    monkeypatch.setattr(ui_state, "PREPARATION_SLOTS", slots)
    monkeypatch.setattr(ui_inputs, "PREPARE_WAIT_S", 0.2)
    entered, release = threading.Event(), threading.Event()

    def busy():
        with slots.hold(UNIDENTIFIED):  # another preparation of the same (unidentified) visitor
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=busy, daemon=True)
    holder.start()
    assert entered.wait(10)
    try:
        at = upload(open_page("classification"), ("square.png", png_bytes(scene_with_square())))
    finally:
        release.set()
        holder.join(10)
    no_traceback(at)
    assert any("busy preparing other visitors' images" in as_read(e.value) for e in at.error)
    assert not re.search(r"\d+ images? chosen", page_text(at))


# --- across a reload --------------------------------------------------------------------------------


def test_a_reload_keeps_the_browsers_images_and_results_and_no_one_elses(offline_env, visitors, testdata):
    alice = open_page("detection", state={VISITOR_STATE: visitor_state(BROWSER_A)})
    alice = predict(upload(alice, photo(testdata, "astronaut.png"), photo(testdata, "coffee.png")))
    assert "2 with results" in page_text(alice)

    home = open_page("home", state={VISITOR_STATE: visitor_state(BROWSER_A)})  # a new session, same browser
    assert [t.value for t in home.toast] == ["2 images and their results from this browser's earlier visit are back."]
    assert "Your latest result" in page_text(home)
    reloaded = open_page("detection", state={VISITOR_STATE: visitor_state(BROWSER_A)})  # the page by its address
    no_traceback(reloaded)
    text = page_text(reloaded)
    assert "2 images chosen" in text and "2 with results" in text
    assert "Images or settings changed" not in text

    bob = open_page("detection", state={VISITOR_STATE: visitor_state(BROWSER_B)})
    assert "No images yet" in page_text(bob) and "with results" not in page_text(bob)


def test_nothing_is_kept_by_address_alone_and_the_page_says_a_reload_starts_over(offline_env, visitors):
    at = open_page("classification", state={VISITOR_STATE: visitor_state(None, "192.0.2.9")})
    at = upload(at, ("square.png", png_bytes(scene_with_square())))
    assert "A reload of the page starts over" in page_text(at)
    assert len(SESSION_STORE) == 0
    again = open_page("classification", state={VISITOR_STATE: visitor_state(None, "192.0.2.9")})
    assert "No images yet" in page_text(again), "the same address is not the same browser"


def test_clearing_the_images_is_what_a_reload_finds(offline_env, visitors):
    at = open_page("classification", state={VISITOR_STATE: visitor_state(BROWSER_A)})
    at = upload(at, ("square.png", png_bytes(scene_with_square())))
    assert len(SESSION_STORE) == 1
    at = at.button(key="clear_images").click().run()
    assert len(SESSION_STORE) == 0
    again = open_page("classification", state={VISITOR_STATE: visitor_state(BROWSER_A)})
    assert "No images yet" in page_text(again)


def test_a_typed_key_is_not_kept_for_a_reload(clarifai_env, visitors):
    at = open_page("detection", state={VISITOR_STATE: visitor_state(BROWSER_A)})
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    at.text_input(key="pat").input(TEST_KEY).run()
    at = predict(upload(at, ("square.png", png_bytes(scene_with_square()))))
    assert "1 with results" in page_text(at)
    kept = SESSION_STORE.get(ui_state_browser_id(BROWSER_A))
    assert kept is not None and kept.runs
    assert TEST_KEY not in "".join(strings_in(kept)), "only the key's fingerprint is kept"
    reloaded = open_page("detection", state={VISITOR_STATE: visitor_state(BROWSER_A)})
    no_traceback(reloaded)
    assert "1 with results" in page_text(reloaded)
    assert "Images or settings changed" in page_text(reloaded), "the key must be entered again to predict anew"


def ui_state_browser_id(browser: bytes) -> str:
    cookie, _ = visitor_state(browser)
    return next(i for i in identify_visitor(VisitorSignals(xsrf_cookie=cookie)).ids if i.startswith("browser:"))


@pytest.mark.parametrize("page", ["home", "classification", "all"])
def test_every_page_keeps_what_it_changed(offline_env, visitors, testdata, page):
    at = open_page(page, state={VISITOR_STATE: visitor_state(BROWSER_A)})
    if page == "home":
        at = at.button(key="use_example").click().run()
    else:
        at = predict(upload(at, photo(testdata, "coffee.png")))
    no_traceback(at)
    kept = SESSION_STORE.get(ui_state_browser_id(BROWSER_A))
    assert kept is not None and len(kept.images) == 1
    assert bool(kept.runs) == (page != "home")
