"""Where configuration comes from: the key, the endpoint, the demo budget.

Pure functions over explicit sources (sidebar value, secrets mapping, environment) so they can
be tested without Streamlit; `ui_state` feeds them from the running app.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

PAT_NAME = "CLARIFAI_PAT"
DEFAULT_BASE = "api.clarifai.com"

# Fingerprints are keyed with a secret made at process start: stable for cache keys within
# this process, useless to anyone who sees one outside it.
_FINGERPRINT_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Credentials:
    """A Clarifai personal access token and where it came from. Never printed."""

    pat: str = field(repr=False)
    source: str  # "sidebar" | "secrets" | "environment"

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.pat)

    @property
    def from_app_owner(self) -> bool:
        """True when the key is the app owner's (secrets or environment), not the visitor's."""
        return self.source != "sidebar"

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r}, fingerprint={self.fingerprint!r})"

    __str__ = __repr__


def key_fingerprint(pat: str) -> str:
    return hmac.new(_FINGERPRINT_KEY, pat.encode(), hashlib.sha256).hexdigest()[:16]


def resolve_credentials(
    sidebar_pat: str | None,
    secrets: Mapping[str, object] | None,
    env: Mapping[str, str] | None = None,
    *,
    allow_owner_key: bool = True,
) -> Credentials | None:
    """The key to use: the sidebar's, else the app's secrets, else the environment's."""
    env = os.environ if env is None else env
    if sidebar_pat and sidebar_pat.strip():
        return Credentials(sidebar_pat.strip(), "sidebar")
    if not allow_owner_key:
        return None
    secret_pat = str((secrets or {}).get(PAT_NAME) or "").strip()
    if secret_pat:
        return Credentials(secret_pat, "secrets")
    env_pat = (env.get(PAT_NAME) or "").strip()
    if env_pat:
        return Credentials(env_pat, "environment")
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
    """Limits for a public demo that runs on the owner's key."""

    call_budget: int | None = None  # Clarifai calls per session on the owner's key; None = no limit
    require_visitor_key: bool = False

    @classmethod
    def from_sources(cls, secrets: Mapping[str, object] | None, env: Mapping[str, str] | None = None) -> DemoPolicy:
        env = os.environ if env is None else env
        merged = {**{k: v for k, v in env.items() if k.startswith("CLARIFAI_DEMO_")}, **dict(secrets or {})}
        budget_text = str(merged.get("CLARIFAI_DEMO_CALL_BUDGET") or "").strip()
        budget = int(budget_text) if budget_text.isdigit() else None
        require = str(merged.get("CLARIFAI_DEMO_REQUIRE_VISITOR_KEY") or "").strip().lower() in ("1", "true", "yes", "on")
        return cls(call_budget=budget, require_visitor_key=require)
