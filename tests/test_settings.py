"""Where the key and the endpoint come from, and how the key stays hidden."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from components.errors import AppError, AuthError, ConfigError, KeyFormatError, KeyMissingError
from components.models import PredictSettings
from components.run.backend import Backend, RunOutcome, RunPlan
from components.settings import (
    Credentials,
    DemoPolicy,
    Secret,
    check_typed_key,
    key_character_problems,
    key_fingerprint,
    resolve_credentials,
)
from components.tasks import Task


def test_the_sidebar_key_wins_then_secrets_then_environment():
    secrets = {"CLARIFAI_PAT": "from-secrets"}
    env = {"CLARIFAI_PAT": "from-env"}
    assert resolve_credentials(" typed ", secrets, env) == Credentials("typed", "sidebar")
    assert resolve_credentials("", secrets, env) == Credentials("from-secrets", "secrets")
    assert resolve_credentials(None, {}, env) == Credentials("from-env", "environment")
    assert resolve_credentials(None, None, {}) is None


def test_visitors_can_be_required_to_bring_their_own_key():
    secrets = {"CLARIFAI_PAT": "owner"}
    assert resolve_credentials(None, secrets, {}, allow_owner_key=False) is None
    assert resolve_credentials("visitor", secrets, {}, allow_owner_key=False).source == "sidebar"


def test_credentials_never_show_the_key():
    credentials = Credentials("pat-very-secret-value", "sidebar")
    for text in (repr(credentials), str(credentials), f"{credentials}", repr([credentials])):
        assert "pat-very-secret-value" not in text
    assert credentials.fingerprint in repr(credentials)


def test_fingerprints_are_stable_and_tell_keys_apart():
    assert key_fingerprint("a") == key_fingerprint("a")
    assert key_fingerprint("a") != key_fingerprint("b")
    assert "a" * 10 not in key_fingerprint("a" * 10)


def test_owner_keys_are_flagged():
    assert Credentials("k", "secrets").from_app_owner
    assert Credentials("k", "environment").from_app_owner
    assert not Credentials("k", "sidebar").from_app_owner


def test_demo_policy_reads_secrets_over_environment():
    assert DemoPolicy.from_sources({}, {}) == DemoPolicy(None, False)
    env = {"CLARIFAI_DEMO_CALL_BUDGET": "50", "CLARIFAI_DEMO_REQUIRE_VISITOR_KEY": "true"}
    policy = DemoPolicy.from_sources({"CLARIFAI_DEMO_CALL_BUDGET": 5}, env)
    assert policy == DemoPolicy(5, True)


# --- keys with characters no key has ----------------------------------------------------

TYPED_KEY = "5c1e0a9d7b3f4e21a8d6c0b9e7f2a4d1"


@pytest.mark.parametrize(
    "typed, kind",
    [
        (TYPED_KEY[:10] + "\u200b" + TYPED_KEY[10:], "a zero-width space"),
        ("\u201c" + TYPED_KEY + "\u201d", "a quotation mark"),
        ('"' + TYPED_KEY + '"', "a quotation mark"),
        (TYPED_KEY[:16] + "\n" + TYPED_KEY[16:], "a line break"),
        (TYPED_KEY[:16] + "\x00" + TYPED_KEY[16:], "a NUL character"),
        (TYPED_KEY[:16] + "\t" + TYPED_KEY[16:], "a tab"),
        (TYPED_KEY[:16] + " " + TYPED_KEY[16:], "a space"),
        (TYPED_KEY[:16] + "\u00a0" + TYPED_KEY[16:], "a non-breaking or other special space"),
        ("\ufeff" + TYPED_KEY, "an invisible formatting character"),
        (TYPED_KEY[:16] + "\u2013" + TYPED_KEY[16:], "a dash that is not a plain hyphen"),
        (TYPED_KEY[:16] + "\u0430" + TYPED_KEY[16:], "a letter or symbol outside plain ASCII"),  # Cyrillic a
        (TYPED_KEY[:16] + "\x1b" + TYPED_KEY[16:], "a control character"),
        (TYPED_KEY[:16] + "<" + TYPED_KEY[16:], "punctuation that keys do not have"),
    ],
)
def test_a_typed_key_with_characters_no_key_has_is_refused_by_kind(typed: str, kind: str):
    assert key_character_problems(typed) == (kind,)
    with pytest.raises(KeyFormatError) as caught:
        resolve_credentials(typed, {"CLARIFAI_PAT": "owner"}, {})
    message = caught.value.message
    assert message.startswith("This key has characters a key cannot have (")
    assert f"({kind})" in message and "copy it again from clarifai.com → Settings → Secrets" in message
    for start in range(len(TYPED_KEY) - 3):  # no piece of the key, however short, is repeated
        assert TYPED_KEY[start:start + 4] not in message


def test_every_kind_found_is_named_once_in_a_fixed_order():
    typed = "\t" + TYPED_KEY + "\u200b\t\u200b"  # the leading tab is stripped, the inner ones are not
    assert key_character_problems(typed.strip()) == ("a tab", "a zero-width space")
    with pytest.raises(KeyFormatError, match=r"\(a tab and a zero-width space\)"):
        resolve_credentials(typed, None, {})


def test_surrounding_whitespace_is_stripped_and_key_alphabet_is_accepted():
    assert check_typed_key(f" \t{TYPED_KEY}\n ") == TYPED_KEY
    assert resolve_credentials(f"\u00a0{TYPED_KEY}\r\n", None, {}) == Credentials(TYPED_KEY, "sidebar")
    assert key_character_problems("pat-test_Ab09.~+/=") == ()


def test_key_format_error_is_a_key_error():
    assert issubclass(KeyFormatError, AuthError)


# --- the key is a Secret ----------------------------------------------------------------

SECRET_KEY = "pat-very-secret-value-4f2e"


def test_secret_never_shows_its_value_in_text():
    secret = Secret(SECRET_KEY)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret} {secret!r}", repr([secret])):
        assert SECRET_KEY not in text
    assert secret.reveal() == SECRET_KEY


def test_credentials_hold_the_key_as_a_secret():
    credentials = Credentials(SECRET_KEY, "sidebar")
    assert isinstance(credentials.pat, Secret) and credentials.pat.reveal() == SECRET_KEY
    assert Credentials(Secret(SECRET_KEY), "sidebar") == credentials
    assert credentials.fingerprint == key_fingerprint(SECRET_KEY)


def test_asdict_and_copies_of_credentials_never_contain_the_key():
    credentials = Credentials(SECRET_KEY, "sidebar")
    as_dict = dataclasses.asdict(credentials)
    assert SECRET_KEY not in repr(as_dict) and SECRET_KEY not in str(as_dict)
    assert all(value != SECRET_KEY for value in as_dict.values())
    for twin in (copy.copy(credentials), copy.deepcopy(credentials), copy.deepcopy([credentials])[0]):
        assert SECRET_KEY not in repr(twin)
        assert twin == credentials and twin.pat.reveal() == SECRET_KEY  # a copy in memory still works


def test_pickling_carries_no_key_and_gives_a_secret_that_cannot_be_used():
    credentials = Credentials(SECRET_KEY, "secrets")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(credentials, protocol=protocol)
        assert SECRET_KEY.encode() not in data and b"secret-value" not in data
        restored = pickle.loads(data)
        assert restored.source == "secrets" and restored.fingerprint == credentials.fingerprint
        assert not restored.pat.kept and restored != credentials
        with pytest.raises(KeyMissingError, match="enter the key again"):
            restored.pat.reveal()


def test_a_pickled_run_result_holds_no_key():
    plan = RunPlan(Task.CLASSIFICATION, Backend.CLARIFAI, Task.CLASSIFICATION.spec.default_model, PredictSettings(),
                   Credentials(SECRET_KEY, "sidebar"))
    outcome = RunOutcome(plan, [], 0.1)
    data = pickle.dumps(outcome)
    assert SECRET_KEY.encode() not in data
    assert pickle.loads(data).plan.credentials.fingerprint == plan.credentials.fingerprint


def test_secrets_cannot_be_changed():
    secret = Secret(SECRET_KEY)
    with pytest.raises(AttributeError):
        secret._value = "other"
    with pytest.raises(TypeError):
        Secret(b"bytes")


# --- demo settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, budget",
    [(0, 0), (30, 30), ("30", 30), (" 7 ", 7), ("0", 0), (30.0, 30), ("30.0", 30), (None, None), ("", None)],
)
def test_call_budget_takes_whole_numbers_and_zero_means_none(value, budget):
    assert DemoPolicy.from_sources({"CLARIFAI_DEMO_CALL_BUDGET": value}, {}).call_budget == budget


@pytest.mark.parametrize("value", [-1, "-1", 2.5, "2.5", True, "true", "unlimited", float("inf"), float("nan"), [3],
                                   "½", "٣"])
def test_a_call_budget_not_understood_stops_the_app_with_a_message(value):
    with pytest.raises(ConfigError) as caught:
        DemoPolicy.from_sources({"CLARIFAI_DEMO_CALL_BUDGET": value}, {})
    message = caught.value.message
    assert message.startswith("CLARIFAI_DEMO_CALL_BUDGET in the app's secrets is ")
    assert "a whole number of Clarifai operations per visitor per day, 0 or more" in message
    assert "one per image predicted, one per model look-up" in message and "left out for no limit" in message


def test_a_bad_setting_in_the_environment_says_where_it_is():
    with pytest.raises(ConfigError, match="CLARIFAI_DEMO_CALL_BUDGET in the environment is set to “-1”"):
        DemoPolicy.from_sources(None, {"CLARIFAI_DEMO_CALL_BUDGET": "-1"})


@pytest.mark.parametrize(
    "settings, ceiling",
    [({}, None), ({"CLARIFAI_DEMO_CALL_BUDGET": 30}, 300), ({"CLARIFAI_DEMO_CALL_BUDGET": 0}, 0),
     ({"CLARIFAI_DEMO_CALL_BUDGET": 30, "CLARIFAI_DEMO_HOURLY_CEILING": "50"}, 50),
     ({"CLARIFAI_DEMO_HOURLY_CEILING": 50.0}, 50), ({"CLARIFAI_DEMO_HOURLY_CEILING": " "}, None)],
)
def test_the_hourly_ceiling_is_as_set_else_ten_visitors_budgets(settings, ceiling):
    assert DemoPolicy.from_sources(settings, {}).hourly_ceiling == ceiling


@pytest.mark.parametrize("value", [-5, "-5", 2.5, True, "none", float("inf"), [3]])
def test_an_hourly_ceiling_not_understood_stops_the_app_with_a_message(value):
    with pytest.raises(ConfigError) as caught:
        DemoPolicy.from_sources({"CLARIFAI_DEMO_CALL_BUDGET": 30}, {"CLARIFAI_DEMO_HOURLY_CEILING": value})
    message = caught.value.message
    assert message.startswith("CLARIFAI_DEMO_HOURLY_CEILING in the environment is ")
    assert "operations per hour for all visitors together" in message
    assert "10 times CLARIFAI_DEMO_CALL_BUDGET" in message


@pytest.mark.parametrize(
    "settings, offered",
    [({}, True), ({"CLARIFAI_DEMO_CALL_BUDGET": 5}, True), ({"CLARIFAI_DEMO_CALL_BUDGET": 0}, False),
     ({"CLARIFAI_DEMO_HOURLY_CEILING": 0}, False), ({"CLARIFAI_DEMO_REQUIRE_VISITOR_KEY": True}, False)],
)
def test_the_owners_key_is_offered_unless_required_away_or_set_to_nothing(settings, offered):
    assert DemoPolicy.from_sources(settings, {}).owner_key_offered is offered


def test_a_key_pasted_into_a_setting_is_not_repeated():
    for name in ("CLARIFAI_DEMO_CALL_BUDGET", "CLARIFAI_DEMO_REQUIRE_VISITOR_KEY", "CLARIFAI_DEMO_HOURLY_CEILING"):
        with pytest.raises(ConfigError) as caught:
            DemoPolicy.from_sources({name: SECRET_KEY}, {})
        assert SECRET_KEY not in caught.value.message and "very-secret" not in caught.value.message


@pytest.mark.parametrize(
    "value, required",
    [(True, True), (False, False), ("true", True), ("False", False), (" yes ", True), ("off", False),
     (1, True), (0, False), ("1", True), ("", False), (None, False)],
)
def test_require_visitor_key_takes_true_or_false(value, required):
    policy = DemoPolicy.from_sources({"CLARIFAI_DEMO_REQUIRE_VISITOR_KEY": value}, {})
    assert policy.require_visitor_key is required


@pytest.mark.parametrize("value", ["ture", "maybe", 2, 1.0, "2", ["true"]])
def test_require_visitor_key_not_understood_stops_the_app_with_a_message(value):
    expected = "CLARIFAI_DEMO_REQUIRE_VISITOR_KEY in the app's secrets is .*must be true or false"
    with pytest.raises(ConfigError, match=expected):
        DemoPolicy.from_sources({"CLARIFAI_DEMO_REQUIRE_VISITOR_KEY": value}, {})


def test_config_error_is_an_app_error():
    assert issubclass(ConfigError, AppError)
