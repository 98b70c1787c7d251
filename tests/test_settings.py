"""Where the key and the endpoint come from, and how the key stays hidden."""

from __future__ import annotations

from components.settings import Credentials, DemoPolicy, key_fingerprint, resolve_credentials


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
    policy = DemoPolicy.from_sources(
        {"CLARIFAI_DEMO_CALL_BUDGET": 5}, {"CLARIFAI_DEMO_CALL_BUDGET": "50", "CLARIFAI_DEMO_REQUIRE_VISITOR_KEY": "true"}
    )
    assert policy == DemoPolicy(5, True)
