"""The demo budget: kept per visitor for the whole process, counting images and look-ups, with an hourly ceiling.

The ledger is tested alone (with a fake clock), then through the app: AppTest sessions have no
cookies and no address, so the `visitors` fixture lets a test say which browser and address a
session comes from (`as_visitor`), as Streamlit's `st.context` would.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from components import errors
from components.clarifai.budget import (
    DAY_S,
    DEMO_LEDGER,
    UNIDENTIFIED,
    BudgetLedger,
    BudgetLimits,
    CallBudget,
    Charge,
    Visitor,
    VisitorSignals,
    identify_visitor,
    xsrf_token,
)
from components.run.backend import Backend
from components.tasks import Task
from tests.apptest import (
    VISITOR_STATE,
    as_read,
    no_traceback,
    open_page,
    page_text,
    predict,
    upload,
    visitor_state,
    xsrf_cookie,
)
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.helpers import png_bytes, scene_with_square

BROWSER_A = bytes(range(16))
BROWSER_B = bytes(range(100, 116))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def visitor(browser: bytes | None = BROWSER_A, address: str | None = "203.0.113.7") -> Visitor:
    return identify_visitor(VisitorSignals(xsrf_cookie(browser) if browser else None, address))


def ledger(per_visitor=None, ceiling=None, **kwargs) -> BudgetLedger:
    return BudgetLedger(BudgetLimits(per_visitor, ceiling), **kwargs)


def refused(ledger: BudgetLedger, who: Visitor, **charge) -> str:
    with pytest.raises(errors.BudgetExceededError) as caught:
        ledger.charge(who, **charge)
    return caught.value.message


# --- who is visiting -------------------------------------------------------------------------


def test_a_browser_is_the_same_visitor_whatever_mask_its_cookie_has_this_time():
    assert xsrf_cookie(BROWSER_A) != xsrf_cookie(BROWSER_A), "Streamlit re-masks the token on each page load"
    assert xsrf_token(xsrf_cookie(BROWSER_A)) == BROWSER_A
    assert visitor(BROWSER_A) == visitor(BROWSER_A)
    assert visitor(BROWSER_A, None) != visitor(BROWSER_B, None)


def test_visitor_ids_are_keyed_hashes_never_the_cookie_or_the_address():
    cookie, address = xsrf_cookie(BROWSER_A), "198.51.100.23"
    who = identify_visitor(VisitorSignals(cookie, address))
    assert len(who.ids) == 2
    text = repr(who)
    for raw in (cookie, address, BROWSER_A.hex(), cookie.split("|")[2]):
        assert raw not in text
    assert identify_visitor(VisitorSignals(cookie, address), key=b"another process") != who


def test_an_ipv6_visitor_is_known_by_its_network_not_each_address():
    home = identify_visitor(VisitorSignals(None, "2001:db8:1:2::10"))
    assert home == identify_visitor(VisitorSignals(None, "2001:db8:1:2:ffff::99"))
    assert home != identify_visitor(VisitorSignals(None, "2001:db8:1:3::10"))
    mapped = identify_visitor(VisitorSignals(None, "::ffff:192.0.2.1"))
    assert mapped == identify_visitor(VisitorSignals(None, "192.0.2.1"))


@pytest.mark.parametrize("cookie", [None, "", "junk", "2|zz|00|1", "1|00000000|00|1", "2|0000|" + "00" * 16 + "|1", 42])
def test_connections_with_no_usable_cookie_or_address_share_one_visitor(cookie):
    assert identify_visitor(VisitorSignals(cookie, None)) == UNIDENTIFIED
    assert identify_visitor(VisitorSignals(cookie, "not an address")) == UNIDENTIFIED


# --- what a request costs ----------------------------------------------------------------------


def test_a_request_costs_one_operation_per_image_and_one_per_look_up():
    assert Charge(calls=1, images=128).operations == 128
    assert Charge(calls=2, images=5, lookups=1).operations == 6
    assert Charge(lookups=3).operations == 3
    assert Charge(calls=1).operations == 1, "a request costs at least one"
    assert Charge(images=5, lookups=1).description == "5 images and 1 model look-up"
    with pytest.raises(ValueError):
        Charge(images=-1)


def test_one_request_of_many_images_spends_as_many_operations():
    book, who = ledger(per_visitor=10), visitor()
    book.charge(who, calls=1, images=8)
    assert book.allowance(who).visitor_left == 2
    message = refused(book, who, calls=1, images=3)
    assert "You have 2 left" in message and "this needs 3 (3 images)" in message
    assert "Enter your own Clarifai key in the sidebar" in message and "offline models" in message
    assert book.allowance(who).visitor_left == 2, "a refused request records nothing"


def test_a_budget_of_zero_allows_nothing_and_says_so():
    book, who = ledger(per_visitor=0), visitor()
    assert "makes no Clarifai calls on its own key" in refused(book, who, lookups=1)
    book.charge(who)  # costing nothing is fine
    assert book.allowance(who).note == "This demo makes no Clarifai calls on its own key."


# --- per visitor, per day ----------------------------------------------------------------------------


def test_clearing_cookies_or_changing_network_does_not_start_a_fresh_budget():
    book = ledger(per_visitor=5)
    book.charge(visitor(BROWSER_A, "203.0.113.7"), images=5)
    assert "You have 0 left" in refused(book, visitor(BROWSER_B, "203.0.113.7"), images=1), "cookies cleared"
    assert "You have 0 left" in refused(book, visitor(BROWSER_A, "192.0.2.50"), images=1), "another network"
    assert "You have 0 left" in refused(book, visitor(None, "203.0.113.7"), images=1), "no cookie at all"
    book.charge(visitor(BROWSER_B, "192.0.2.50"), images=5)  # someone else entirely


def test_a_visitors_day_starts_again_a_day_after_their_first_operation():
    clock = Clock()
    book, who = ledger(per_visitor=3, timer=clock), visitor()
    book.charge(who, images=3)
    clock.now += DAY_S - 3600
    assert "starting again in about 1 hour" in refused(book, who, images=1)
    clock.now += 3600
    book.charge(who, images=3)
    assert book.allowance(who).visitor_left == 0


def test_changing_the_limits_keeps_what_was_spent():
    book, who = ledger(per_visitor=10), visitor()
    book.charge(who, images=4)
    book.limits = BudgetLimits(per_visitor=5)
    assert book.allowance(who).visitor_left == 1


# --- the hourly ceiling across visitors ----------------------------------------------------------------


def test_the_hourly_ceiling_stops_every_visitor_and_frees_up_as_the_hour_slides():
    clock = Clock()
    book = ledger(per_visitor=100, ceiling=5, timer=clock)
    book.charge(visitor(BROWSER_A, "192.0.2.1"), images=3)
    clock.now += 30 * 60
    book.charge(visitor(BROWSER_B, "192.0.2.2"), images=2)
    newcomer = visitor(b"another browser!", "192.0.2.3")
    message = refused(book, newcomer, lookups=1)
    assert "for all visitors together is used up" in message and "0 of 5 operations left this hour" in message
    assert "frees up within 30 minutes" in message and "Enter your own Clarifai key" in message
    assert book.allowance(newcomer).visitor_left == 100, "refused by the ceiling: nothing recorded"
    clock.now += 31 * 60  # the first visitor's 3 have left the hour, the second's 2 have not
    assert "3 of 5 operations left" in refused(book, newcomer, images=4)
    book.charge(newcomer, images=3)


def test_the_hourly_ceiling_alone_limits_the_owners_key():
    book, who = ledger(ceiling=2), visitor()
    book.charge(who, images=2)
    refused(book, visitor(BROWSER_B, "192.0.2.9"), images=1)
    allowance = book.allowance(who)
    assert (allowance.per_visitor, allowance.remaining) == (None, 0)
    assert "0 of 2 left this hour for all visitors together" in allowance.note


# --- bounded memory and threads -------------------------------------------------------------------------


def test_the_ledger_remembers_a_bounded_number_of_visitors_and_keeps_the_busy_ones():
    book = ledger(per_visitor=1000, max_visitors=100)
    address = "203.0.113.99"
    for number in range(999):  # a script sending a new cookie each time, from one address
        book.charge(visitor(number.to_bytes(16, "big"), address), images=1)
    assert book.visitors_remembered() <= 100
    assert "You have 1 left" in refused(book, visitor(b"yet another one!", address), images=2)
    for number in range(5000):  # many visitors, each once
        book.charge(visitor(None, f"10.{number // 65536}.{number // 256 % 256}.{number % 256}"), images=1)
    assert book.visitors_remembered() <= 100


@pytest.fixture
def frequent_thread_switches():
    """Threads switch every microsecond instead of every 5 ms, so a missing lock shows."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_concurrent_charges_never_spend_more_than_the_budget(frequent_thread_switches):
    book, who = ledger(per_visitor=1000), visitor()
    threads, attempts = 16, 200
    barrier = threading.Barrier(threads)

    def spend(_):
        barrier.wait()
        granted = 0
        for _ in range(attempts):
            try:
                book.charge(who, images=1)
                granted += 1
            except errors.BudgetExceededError:
                pass
        return granted

    with ThreadPoolExecutor(max_workers=threads) as pool:
        granted = sum(pool.map(spend, range(threads)))
    assert granted == 1000 and book.allowance(who).visitor_left == 0


def test_concurrent_visitors_never_spend_more_than_the_hourly_ceiling(frequent_thread_switches):
    book = ledger(per_visitor=10_000, ceiling=777)
    threads = 12
    barrier = threading.Barrier(threads)

    def spend(number):
        who = visitor(number.to_bytes(16, "big"), f"192.0.2.{number}")
        barrier.wait()
        granted = 0
        for size in [1, 2, 3] * 60:
            try:
                book.charge(who, images=size)
                granted += size
            except errors.BudgetExceededError:
                pass
        return granted

    with ThreadPoolExecutor(max_workers=threads) as pool:
        spent = sum(pool.map(spend, range(threads)))
    assert spent == 777 and book.allowance(visitor()).hourly_left == 0


# --- through the app ---------------------------------------------------------------------------------


def picture(name: str, width: int) -> tuple[str, bytes]:
    return name, png_bytes(scene_with_square(width=width))


def owner_session(page: str = "classification", browser: bytes | None = BROWSER_A, address=None, **settings):
    """A new browser session on the owner's key (a reload, or a new tab, when `browser` is the same)."""
    at = open_page(page, key=TEST_KEY, state={VISITOR_STATE: visitor_state(browser, address)}, **settings)
    no_traceback(at)
    return at


def sidebar_text(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption) + " ".join(w.value for w in at.sidebar.warning)


def errors_shown(at) -> str:
    return " ".join(as_read(e.value) for e in at.error)


def test_a_reload_or_a_new_tab_finds_what_the_visitor_spent(clarifai_env, visitors):
    first_tab = predict(upload(owner_session(CLARIFAI_DEMO_CALL_BUDGET=4), picture("one.png", 300)))
    assert "2 of 4 Clarifai operations left for you today" in sidebar_text(first_tab)  # a look-up and an image

    reloaded = owner_session(CLARIFAI_DEMO_CALL_BUDGET=4)  # the same browser, a new session
    assert "2 of 4 Clarifai operations left" in sidebar_text(reloaded)
    reloaded = predict(upload(reloaded, picture("two.png", 310), picture("three.png", 320), picture("four.png", 330)))
    no_traceback(reloaded)
    assert "You have 2 left" in errors_shown(reloaded) and "this needs 3 (3 images)" in errors_shown(reloaded)

    stranger = predict(upload(owner_session(browser=BROWSER_B, CLARIFAI_DEMO_CALL_BUDGET=4), picture("two.png", 310)))
    assert "3 of 4 Clarifai operations left" in sidebar_text(stranger), "another browser has its own budget"
    assert len(clarifai_env.calls_to("PostModelOutputs")) == 2


def test_sessions_the_app_cannot_tell_apart_share_one_budget(clarifai_env):
    # no `visitors` fixture: the app reads st.context, which AppTest leaves without cookie or address
    first = open_page("classification", key=TEST_KEY, CLARIFAI_DEMO_CALL_BUDGET=2)
    first = predict(upload(first, picture("a.png", 300)))
    assert "0 of 2 Clarifai operations left" in sidebar_text(first)
    second = open_page("classification", key=TEST_KEY, CLARIFAI_DEMO_CALL_BUDGET=2)
    assert "0 of 2 Clarifai operations left" in sidebar_text(second)
    second = predict(upload(second, picture("b.png", 310)))
    assert "You have 0 left" in errors_shown(second)
    assert len(clarifai_env.calls_to("PostModelOutputs")) == 1


def test_a_budget_of_zero_never_offers_the_owners_key(clarifai_env):
    home = open_page("home", key=TEST_KEY, CLARIFAI_DEMO_CALL_BUDGET=0)
    assert home.radio(key="backend").value == Backend.LOCAL
    assert "makes no Clarifai calls on its own key" in page_text(home)
    at = open_page("classification", key=TEST_KEY, CLARIFAI_DEMO_CALL_BUDGET=0)
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    assert "makes no Clarifai calls on its own key" in sidebar_text(at)
    at = predict(upload(at, picture("a.png", 300)))
    no_traceback(at)
    assert "Clarifai needs a key" in errors_shown(at)
    at.radio(key="model_source_classification").set_value("browse").run()
    at = at.sidebar.button[0].click().run()
    assert not clarifai_env.calls, "not one call on the owner's key"


def test_model_look_ups_are_counted_and_stop_when_the_budget_is_spent(clarifai_env, visitors):
    at = owner_session(CLARIFAI_DEMO_CALL_BUDGET=3)
    at = predict(upload(at, picture("a.png", 300), picture("b.png", 310)))  # a look-up and two images
    assert "0 of 3 Clarifai operations left" in sidebar_text(at)
    at.radio(key="model_source_classification").set_value("typed").run()
    for number in range(12):
        at.text_input(key="model_text_classification").input(f"someone/app/model-{number}").run()
        at = predict(at)
        assert "this needs 1 (1 model look-up)" in errors_shown(at)
    at.radio(key="model_source_classification").set_value("browse").run()
    at = at.sidebar.button[0].click().run()
    no_traceback(at)
    assert "this needs 1 (1 model look-up)" in " ".join(e.value for e in at.sidebar.error)
    assert not at.get("selectbox")
    assert len(clarifai_env.calls_to("GetModel")) == 1
    assert not clarifai_env.calls_to("ListModels")
    assert len(clarifai_env.calls) == 2


def test_searching_the_community_is_charged_and_shown(clarifai_env, visitors):
    at = owner_session("detection", CLARIFAI_DEMO_CALL_BUDGET=5)
    at.radio(key="model_source_detection").set_value("browse").run()
    at = at.button(key="model_search_detection").click().run()
    no_traceback(at)
    assert at.radio(key="model_pick_detection").options
    looked_up = len(clarifai_env.calls_to("ListModels")) + len(clarifai_env.calls_to("GetModel"))
    assert len(clarifai_env.calls_to("ListModels")) == 1
    assert f"{5 - looked_up} of 5 Clarifai operations left" in sidebar_text(at)
    at = at.button(key="model_search_detection").click().run()  # the client remembers the page: no call, no charge
    assert len(clarifai_env.calls_to("ListModels")) == 1
    assert f"{5 - looked_up} of 5 Clarifai operations left" in sidebar_text(at)


def test_the_hourly_ceiling_holds_across_visitors(clarifai_env, visitors):
    settings = {"CLARIFAI_DEMO_CALL_BUDGET": 10, "CLARIFAI_DEMO_HOURLY_CEILING": 4}
    alice = predict(upload(owner_session(browser=BROWSER_A, address="192.0.2.1", **settings), picture("a.png", 300)))
    assert "8 of 10 Clarifai operations left" in sidebar_text(alice)
    bob = owner_session(browser=BROWSER_B, address="192.0.2.2", **settings)
    assert "2 of 4 left this hour for all visitors together" in sidebar_text(bob)
    bob = predict(upload(bob, picture("b.png", 310), picture("c.png", 320), picture("d.png", 330)))
    no_traceback(bob)
    assert "for all visitors together is used up for now" in errors_shown(bob)
    assert "2 of 4 operations left this hour, and this needs 3 (3 images)" in errors_shown(bob)
    assert len(clarifai_env.calls_to("PostModelOutputs")) == 1


def test_a_visitors_own_key_is_never_charged(clarifai_env, visitors):
    at = predict(upload(owner_session(CLARIFAI_DEMO_CALL_BUDGET=2), picture("a.png", 300)))
    assert "0 of 2 Clarifai operations left" in sidebar_text(at)
    at.text_input(key="pat").input(OTHER_KEY).run()
    assert "Your key works" in sidebar_text(at)
    at = predict(upload(at, picture("b.png", 310), picture("c.png", 320)))
    no_traceback(at)
    assert not errors_shown(at) and "3 with results" in page_text(at)
    keys = [call.metadata["authorization"].removeprefix("Key ") for call in clarifai_env.calls_to("PostModelOutputs")]
    assert keys == [TEST_KEY, OTHER_KEY]
    own = CallBudget(DEMO_LEDGER, visitor(BROWSER_A, None))
    assert own.allowance.visitor_left == 0 and DEMO_LEDGER.visitors_remembered() == 1, "nothing more was charged"
    at.text_input(key="pat").input("").run()
    assert "0 of 2 Clarifai operations left" in sidebar_text(at)


def test_an_hourly_ceiling_not_understood_stops_the_app_at_start_up(offline_env):
    at = open_page("home", CLARIFAI_DEMO_CALL_BUDGET=5, CLARIFAI_DEMO_HOURLY_CEILING="lots")
    no_traceback(at)
    assert any("CLARIFAI_DEMO_HOURLY_CEILING in the app's secrets is set to text" in as_read(e.value) for e in at.error)
    assert not at.get("radio"), "the app stops before the sidebar"


# --- pages that spend a lot at once, counted at the server -------------------------------------------


def operations_at_the_server(env) -> int:
    """What the owner's key paid for, as the server saw it: each image predicted and each look-up."""
    images = sum(len(call.request.inputs) for call in env.prediction_calls())
    predictions = {id(call) for call in env.prediction_calls()}
    asked = [c for c in env.calls if c.method in ("GetModel", "GetModelVersion", "ListModels", "PostModelOutputs")]
    return images + sum(1 for c in asked if id(c) not in predictions)


def test_all_tasks_spends_no_more_than_the_budget(clarifai_env, visitors):
    at = owner_session("all", CLARIFAI_DEMO_CALL_BUDGET=6)
    at = predict(upload(at, picture("a.png", 300), picture("b.png", 310)))
    no_traceback(at)
    assert operations_at_the_server(clarifai_env) <= 6
    assert "Demo budget used up" in errors_shown(at) or "operations left" in sidebar_text(at)


def test_compare_with_four_models_spends_no_more_than_the_budget(clarifai_env, visitors):
    at = owner_session("home", CLARIFAI_DEMO_CALL_BUDGET=5).switch_page("app_pages/7_Compare.py").run()
    at.segmented_control(key="compare_task").set_value(Task.CLASSIFICATION).run()
    at.segmented_control(key="compare_count").set_value(4).run()
    at = predict(upload(at, picture("a.png", 300)))  # the look-ups leave less than four images' worth
    no_traceback(at)
    assert operations_at_the_server(clarifai_env) <= 5
    assert "Demo budget used up" in errors_shown(at)


def test_a_run_of_128_images_past_the_budget_is_refused_before_any_image_is_sent(clarifai_env, visitors):
    at = owner_session(CLARIFAI_DEMO_CALL_BUDGET=100)
    at = predict(upload(at, *[picture(f"{n:03d}.png", 64 + n) for n in range(128)]))
    no_traceback(at)
    assert "this needs 128 (128 images)" in errors_shown(at)
    assert not clarifai_env.prediction_calls()
    assert operations_at_the_server(clarifai_env) <= 100
