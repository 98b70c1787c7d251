"""Where configuration comes from: the key, the endpoint, the demo budget.

Pure functions over explicit sources (sidebar value, secrets mapping, environment) so they can
be tested without Streamlit; `ui_state` feeds them from the running app.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from components.errors import ConfigError, KeyFormatError, KeyMissingError

PAT_NAME = "CLARIFAI_PAT"
DEFAULT_BASE = "api.clarifai.com"
CALL_BUDGET_NAME = "CLARIFAI_DEMO_CALL_BUDGET"
HOURLY_CEILING_NAME = "CLARIFAI_DEMO_HOURLY_CEILING"
# With a per-visitor budget and no ceiling set, an hour may carry this many visitors' whole budgets.
DEFAULT_CEILING_VISITORS = 10
REQUIRE_VISITOR_KEY_NAME = "CLARIFAI_DEMO_REQUIRE_VISITOR_KEY"

# Fingerprints are keyed with a secret made at process start: stable for cache keys within
# this process, useless to anyone who sees one outside it.
_FINGERPRINT_KEY = secrets.token_bytes(32)


class Secret:
    """A key that never shows itself; its value is read only through `reveal()`.

    repr, str and f-strings show a placeholder; copying (and so `dataclasses.asdict`) hands back
    the same object. Pickling never carries the value: what comes back is an empty secret that
    keeps only the fingerprint, and its `reveal()` raises KeyMissingError. An empty secret rather
    than a refusal, because Streamlit and its caches may pickle whatever holds a key (a run
    result, session state in strict mode): that must not stop the page, and a secret that
    cannot be revealed can never be sent anywhere.
    """

    __slots__ = ("_fingerprint", "_value")

    def __init__(self, value: str):
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds text, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_fingerprint", key_fingerprint(value))

    def reveal(self) -> str:
        """The value itself: only where the key is sent, or scrubbed from Clarifai's replies."""
        if self._value is None:
            raise KeyMissingError(
                "This copy of the results does not keep the Clarifai key: enter the key again in the sidebar."
            )
        return self._value

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def kept(self) -> bool:
        """False for the empty secret that pickling leaves."""
        return self._value is not None

    def __setattr__(self, name, value):
        raise AttributeError("a Secret cannot be changed")

    def __repr__(self) -> str:
        return "Secret(<hidden>)" if self.kept else "Secret(<not kept>)"

    def __str__(self) -> str:
        return "<hidden>"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        if not (self.kept and other.kept):
            return self is other
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __reduce__(self):
        return _secret_not_kept, (self._fingerprint,)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo) -> Secret:
        return self


def _secret_not_kept(fingerprint: str) -> Secret:
    """What unpickling a Secret gives: its fingerprint, no value."""
    empty = Secret.__new__(Secret)
    object.__setattr__(empty, "_value", None)
    object.__setattr__(empty, "_fingerprint", fingerprint)
    return empty


@dataclass(frozen=True)
class Credentials:
    """A Clarifai personal access token and where it came from. Never printed.

    `pat` is a Secret (a plain string given here is wrapped in one); read it with `pat.reveal()`.
    """

    pat: Secret
    source: str  # "sidebar" | "secrets" | "environment"

    def __post_init__(self):
        if isinstance(self.pat, str):
            object.__setattr__(self, "pat", Secret(self.pat))
        elif not isinstance(self.pat, Secret):
            raise TypeError(f"Credentials.pat must be a Secret, not {type(self.pat).__name__}")

    @property
    def fingerprint(self) -> str:
        return self.pat.fingerprint

    @property
    def from_app_owner(self) -> bool:
        """True when the key is the app owner's (secrets or environment), not the visitor's."""
        return self.source != "sidebar"

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r}, fingerprint={self.fingerprint!r})"

    __str__ = __repr__


def key_fingerprint(pat: str) -> str:
    return hmac.new(_FINGERPRINT_KEY, pat.encode(), hashlib.sha256).hexdigest()[:16]


# Characters a key may contain: RFC 6750's token alphabet (Clarifai's keys are hex today).
# Anything else is a copy-and-paste accident that gRPC would refuse or Clarifai would not match.
KEY_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~+/=")
_QUOTES = frozenset("'\"`\u201a\u201e\u2032\u2033")

# (what to call it, test) in the order they are named; each odd character gets the first match.
_ODD_CHARACTER_KINDS = (
    ("a tab", lambda ch: ch == "\t"),
    ("a line break", lambda ch: ch in "\n\r\v\f\x85\u2028\u2029"),
    ("a NUL character", lambda ch: ch == "\0"),
    ("a control character", lambda ch: unicodedata.category(ch) == "Cc"),
    ("a space", lambda ch: ch == " "),
    ("a zero-width space", lambda ch: ch == "\u200b"),
    ("an invisible formatting character", lambda ch: unicodedata.category(ch) == "Cf"),
    ("a non-breaking or other special space", lambda ch: unicodedata.category(ch) == "Zs"),
    ("a quotation mark", lambda ch: ch in _QUOTES or unicodedata.category(ch) in ("Pi", "Pf")),
    ("a dash that is not a plain hyphen", lambda ch: unicodedata.category(ch) == "Pd"),
    ("a letter or symbol outside plain ASCII", lambda ch: not ch.isascii()),
    ("punctuation that keys do not have", lambda ch: True),
)


def key_character_problems(key: str) -> tuple[str, ...]:
    """The kinds of characters in `key` that no key has ("a tab", "a zero-width space", ...).

    Empty when every character may be in a key. Names kinds only, never the characters.
    """
    found = {_kind_of(ch) for ch in key if ch not in KEY_CHARACTERS}
    return tuple(kind for kind, _ in _ODD_CHARACTER_KINDS if kind in found)


def _kind_of(ch: str) -> str:
    return next(kind for kind, matches in _ODD_CHARACTER_KINDS if matches(ch))


def check_typed_key(typed: str) -> str:
    """The typed key without surrounding whitespace; KeyFormatError if it has characters no key has."""
    key = typed.strip()
    problems = key_character_problems(key)
    if problems:
        named = problems[0] if len(problems) == 1 else ", ".join(problems[:-1]) + " and " + problems[-1]
        raise KeyFormatError(
            f"This key has characters a key cannot have ({named}): "
            "copy it again from clarifai.com → Settings → Secrets."
        )
    return key


def resolve_credentials(
    sidebar_pat: str | None,
    secrets: Mapping[str, object] | None,
    env: Mapping[str, str] | None = None,
    *,
    allow_owner_key: bool = True,
) -> Credentials | None:
    """The key to use: the sidebar's, else the app's secrets, else the environment's.

    A typed key with characters no key has raises KeyFormatError (see `check_typed_key`).
    """
    env = os.environ if env is None else env
    if sidebar_pat and sidebar_pat.strip():
        return Credentials(Secret(check_typed_key(sidebar_pat)), "sidebar")
    if not allow_owner_key:
        return None
    secret_pat = str((secrets or {}).get(PAT_NAME) or "").strip()
    if secret_pat:
        return Credentials(Secret(secret_pat), "secrets")
    env_pat = (env.get(PAT_NAME) or "").strip()
    if env_pat:
        return Credentials(Secret(env_pat), "environment")
    return None


@dataclass(frozen=True)
class Endpoint:
    """Where the gRPC API is: `host[:port]`, TLS unless told otherwise."""

    base: str = DEFAULT_BASE
    insecure: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Endpoint:
        env = os.environ if env is None else env
        base = (env.get("CLARIFAI_GRPC_BASE") or DEFAULT_BASE).strip()
        insecure = (env.get("CLARIFAI_GRPC_INSECURE") or "").strip().lower() in ("1", "true", "yes", "on")
        return cls(base=base, insecure=insecure)

    @property
    def host_and_port(self) -> tuple[str, int]:
        host, sep, port = self.base.rpartition(":")
        # "[::1]:50051" and "example.com:443" carry a port; a bare IPv6 address does not.
        if sep and port.isdigit() and (host.endswith("]") or ":" not in host):
            return host, int(port)
        return self.base, 443

    @property
    def label(self) -> str:
        return f"{self.base} ({'plaintext' if self.insecure else 'TLS'})"


@dataclass(frozen=True)
class DemoPolicy:
    """Limits for a public demo that runs on the owner's key, in Clarifai operations (see `budget`)."""

    call_budget: int | None = None  # operations per visitor per day on the owner's key; 0 = none; None = no limit
    require_visitor_key: bool = False
    hourly_ceiling_setting: int | None = None  # operations per hour across all visitors, as set

    @property
    def hourly_ceiling(self) -> int | None:
        """The ceiling as set, else `DEFAULT_CEILING_VISITORS` whole budgets an hour; None: no ceiling."""
        if self.hourly_ceiling_setting is not None:
            return self.hourly_ceiling_setting
        return None if self.call_budget is None else DEFAULT_CEILING_VISITORS * self.call_budget

    @property
    def owner_key_offered(self) -> bool:
        """False when visitors must bring their own key: required, or a budget or ceiling of 0."""
        return not self.require_visitor_key and self.call_budget != 0 and self.hourly_ceiling != 0

    @classmethod
    def from_sources(cls, secrets: Mapping[str, object] | None, env: Mapping[str, str] | None = None) -> DemoPolicy:
        """The policy from the app's secrets, else the environment; ConfigError for a value not understood."""
        env = os.environ if env is None else env
        budget = parse_call_budget(*_setting(CALL_BUDGET_NAME, secrets, env))
        require = parse_switch(REQUIRE_VISITOR_KEY_NAME, *_setting(REQUIRE_VISITOR_KEY_NAME, secrets, env))
        ceiling = parse_hourly_ceiling(*_setting(HOURLY_CEILING_NAME, secrets, env))
        return cls(call_budget=budget, require_visitor_key=require, hourly_ceiling_setting=ceiling)


def _setting(name: str, secrets: Mapping[str, object] | None, env: Mapping[str, str]) -> tuple[object, str]:
    """(value, where it was found): the secrets win over the environment."""
    if secrets and name in secrets:
        return secrets[name], "in the app's secrets"
    return env.get(name), "in the environment"


_FIX_SETTING = "Change it where the app's settings are kept (Community Cloud: app settings → Secrets)."


def parse_call_budget(value: object, where: str = "") -> int | None:
    """CLARIFAI_DEMO_CALL_BUDGET: None when not set (no limit), else a whole number 0 or more.

    Takes TOML integers, whole floats such as 30.0 and the same as text ("30", "30.0");
    anything else (negative, fractional, true/false, other text) raises ConfigError.
    """
    return _parse_whole_number(
        CALL_BUDGET_NAME,
        value,
        where,
        "a whole number of Clarifai operations per visitor per day, 0 or more (one per image predicted, one per "
        "model look-up; 0 means no calls on the app's key), or left out for no limit",
    )


def parse_hourly_ceiling(value: object, where: str = "") -> int | None:
    """CLARIFAI_DEMO_HOURLY_CEILING: None when not set (the default, from the budget), else a whole number 0 or more."""
    return _parse_whole_number(
        HOURLY_CEILING_NAME,
        value,
        where,
        "a whole number of Clarifai operations per hour for all visitors together, 0 or more (0 means no calls "
        f"on the app's key), or left out for {DEFAULT_CEILING_VISITORS} times {CALL_BUDGET_NAME}",
    )


def _parse_whole_number(name: str, value: object, where: str, meaning: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        whole = re.fullmatch(r"([0-9]+)(?:\.0*)?", value.strip())
        if whole:
            return int(whole.group(1))
    elif isinstance(value, int) and not isinstance(value, bool):
        if value >= 0:
            return value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer() and value >= 0:
        return int(value)
    raise ConfigError(f"{_subject(name, where)} is {_described(value)}; it must be {meaning}. {_FIX_SETTING}")


def parse_switch(name: str, value: object, where: str = "") -> bool:
    """An on/off setting: unset is off; true/false (TOML booleans, or text: true/false, yes/no, on/off, 1/0)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("", "false", "no", "off", "0"):
            return False
    raise ConfigError(f"{_subject(name, where)} is {_described(value)}; it must be true or false. {_FIX_SETTING}")


def _subject(name: str, where: str) -> str:
    return f"{name} {where}" if where else name


def _described(value: object) -> str:
    """A setting's value in a message: short numbers as they are, anything else only by its kind,
    so a key pasted into the wrong setting is never repeated."""
    if isinstance(value, bool):
        return f"set to {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"set to {value!r}"
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 20 and re.fullmatch(r"[-+]?\d*\.?\d+", text):
            return f"set to “{text}”"
        return "set to text that is not a whole number"
    return f"set to a {type(value).__name__}"
