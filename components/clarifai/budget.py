"""The demo budget: what visitors may spend on the app owner's Clarifai key, kept for the whole process.

Units: the budget counts *operations*, as Clarifai bills them: one per image sent for prediction
(a request costs at least one) and one per model look-up (GetModel, ListModels). So a run of 5
images on a model not looked up yet costs 6, and a 128-image request costs 128, not 1.

Two limits, both checked before anything is sent:
- per visitor, over a day: a visitor's spend counts for 24 hours from their first operation,
  then starts again. A visitor is known by several opaque ids (the browser's and the network
  address's, see `identify_visitor`); every id is charged and the most spent one counts, so
  clearing cookies or opening a private window from the same address does not start afresh.
- per hour, across every visitor: a sliding hour in one-minute buckets. This is the backstop
  for whatever the ids cannot tell apart (a script that sends a new cookie on every visit).

Memory is bounded: at most `max_visitors` ids are remembered (least recently charged go first;
forgetting one only ever gives that visitor a fresh day, and the hourly ceiling still holds),
and the hourly ceiling keeps at most 60 buckets.
"""

from __future__ import annotations

import binascii
import collections
import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cachetools

from components.errors import BudgetExceededError

DAY_S = 24 * 3600
HOUR_S = 3600
_BUCKET_S = 60
DEFAULT_MAX_VISITORS = 20_000  # ids remembered; about 200 bytes each
UNITS_EXPLAINED = "one per image predicted, one per model look-up"
WHAT_TO_DO = "Enter your own Clarifai key in the sidebar to keep going, or switch to the offline models."

# Visitor ids are keyed with a secret made at process start: the ledger never holds a cookie or
# an address, and an id means nothing outside this process.
_VISITOR_KEY = secrets.token_bytes(32)


# --- who is visiting ------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitorSignals:
    """What a connection says about who is visiting, as received (never stored)."""

    xsrf_cookie: str | None = field(default=None, repr=False)  # Streamlit's `_streamlit_xsrf` cookie: one per browser
    address: str | None = field(default=None, repr=False)  # the client's IP address as the server sees it


@dataclass(frozen=True)
class Visitor:
    """A visitor as the ledger knows them: one or more opaque ids, all charged together."""

    ids: tuple[str, ...]

    def __post_init__(self):
        if not self.ids:
            raise ValueError("a visitor needs at least one id")


UNIDENTIFIED = Visitor(("unidentified",))


def identify_visitor(signals: VisitorSignals, key: bytes = _VISITOR_KEY) -> Visitor:
    """The visitor behind a connection: an id for the browser and one for the address, keyed hashes.

    The browser id comes from the token inside Streamlit's XSRF cookie (the cookie's text
    changes on every page load, the token does not), so it survives reloads and new tabs. The
    address id uses the whole IPv4 address, or the /64 network of an IPv6 address (one home or
    phone holds a whole /64). Connections with neither share one id, so they share one budget.
    """
    ids = []
    token = xsrf_token(signals.xsrf_cookie)
    if token is not None:
        ids.append("browser:" + _keyed(key, b"browser", token))
    network = _address_network(signals.address)
    if network is not None:
        ids.append("address:" + _keyed(key, b"address", network.encode()))
    return Visitor(tuple(ids)) if ids else UNIDENTIFIED


def xsrf_token(cookie: object) -> bytes | None:
    """The token inside a Streamlit XSRF cookie (`2|mask|masked token|timestamp`), or None.

    Streamlit masks the same token with a new random mask each time it sets the cookie.
    """
    if not isinstance(cookie, str):
        return None
    parts = cookie.strip("\"' ").split("|")
    if len(parts) != 4 or parts[0] != "2":
        return None
    try:
        mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
    except (binascii.Error, ValueError):
        return None
    if len(mask) != 4 or not 8 <= len(masked) <= 64:
        return None
    return bytes(byte ^ mask[i % 4] for i, byte in enumerate(masked))


def _address_network(address: object) -> str | None:
    if not isinstance(address, str) or not address.strip():
        return None
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _keyed(key: bytes, kind: bytes, value: bytes) -> str:
    return hmac.new(key, kind + b"\0" + value, hashlib.sha256).hexdigest()[:32]


# --- what a request costs and what is left --------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """What one request to Clarifai costs, in operations."""

    calls: int = 0
    images: int = 0
    lookups: int = 0

    def __post_init__(self):
        for name in ("calls", "images", "lookups"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a whole number, 0 or more, not {value!r}")

    @property
    def operations(self) -> int:
        return max(self.calls, self.images) + self.lookups

    @property
    def description(self) -> str:
        """In words, such as "3 images and 1 model look-up"."""
        parts = []
        if self.images:
            parts.append(_count(self.images, "image"))
        elif self.calls:
            parts.append(_count(self.calls, "request"))
        if self.lookups:
            parts.append(_count(self.lookups, "model look-up"))
        return " and ".join(parts) or "nothing"


@dataclass(frozen=True)
class BudgetLimits:
    """How much the owner's key may do: per visitor per day, and per hour across all visitors."""

    per_visitor: int | None = None  # operations per visitor per day; None: no per-visitor limit
    hourly_ceiling: int | None = None  # operations per hour across all visitors; None: no ceiling

    @property
    def limited(self) -> bool:
        return self.per_visitor is not None or self.hourly_ceiling is not None


@dataclass(frozen=True)
class Allowance:
    """What one visitor may still spend, for display."""

    per_visitor: int | None  # the daily limit (None: none)
    visitor_left: int | None  # of that limit
    hourly_ceiling: int | None
    hourly_left: int | None  # across all visitors, this hour

    @property
    def remaining(self) -> int | None:
        """What the next request may cost at most; None when nothing limits it."""
        known = [left for left in (self.visitor_left, self.hourly_left) if left is not None]
        return min(known) if known else None

    @property
    def note(self) -> str:
        """One sentence for the sidebar and the home page."""
        if self.per_visitor == 0 or self.hourly_ceiling == 0:
            return "This demo makes no Clarifai calls on its own key."
        parts = []
        if self.per_visitor is not None:
            parts.append(f"{self.visitor_left} of {self.per_visitor} Clarifai operations left for you today")
        if self.hourly_left is not None and (self.visitor_left is None or self.hourly_left < self.visitor_left):
            parts.append(f"{self.hourly_left} of {self.hourly_ceiling} left this hour for all visitors together")
        return "; ".join(parts) + f" ({UNITS_EXPLAINED})."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- the ledger -----------------------------------------------------------------------------


class _Spend:
    """What one id spent since `started` (mutated in place so its expiry stays at first use)."""

    __slots__ = ("started", "units")

    def __init__(self, started: float):
        self.started = started
        self.units = 0


class _HourlyPool:
    """Operations spent by everyone in the last hour, in one-minute buckets."""

    def __init__(self):
        self._buckets: collections.deque[list[int]] = collections.deque()  # [minute, units]
        self.total = 0

    def expire(self, now: float) -> None:
        oldest_kept = math.floor(now / _BUCKET_S) - HOUR_S // _BUCKET_S + 1
        while self._buckets and self._buckets[0][0] < oldest_kept:
            self.total -= self._buckets.popleft()[1]

    def add(self, now: float, units: int) -> None:
        minute = math.floor(now / _BUCKET_S)
        if self._buckets and self._buckets[-1][0] == minute:
            self._buckets[-1][1] += units
        else:
            self._buckets.append([minute, units])
        self.total += units

    def seconds_until_some_frees(self, now: float) -> float:
        if not self._buckets:
            return 0.0
        return max((self._buckets[0][0] + HOUR_S // _BUCKET_S) * _BUCKET_S - now, 0.0)

    def clear(self) -> None:
        self._buckets.clear()
        self.total = 0


class BudgetLedger:
    """Thread-safe, process-wide record of what visitors spent on the owner's key.

    `limits` may be replaced at any time (the owner changed a setting): what was spent stays.
    """

    def __init__(
        self,
        limits: BudgetLimits = BudgetLimits(),
        *,
        max_visitors: int = DEFAULT_MAX_VISITORS,
        timer: Callable[[], float] = time.monotonic,
    ):
        self._lock = threading.Lock()
        self._timer = timer
        self._limits = limits
        self._spent: cachetools.TTLCache[str, _Spend] = cachetools.TTLCache(
            maxsize=max_visitors, ttl=DAY_S, timer=timer
        )
        self._hour = _HourlyPool()

    @property
    def limits(self) -> BudgetLimits:
        return self._limits

    @limits.setter
    def limits(self, limits: BudgetLimits) -> None:
        with self._lock:
            self._limits = limits

    def charge(self, visitor: Visitor, calls: int = 0, images: int = 0, lookups: int = 0) -> None:
        """Records a request before it is made; BudgetExceededError (and nothing recorded) if it does not fit."""
        charge = Charge(calls, images, lookups)
        units = charge.operations
        if units == 0:
            return
        with self._lock:
            now = self._timer()
            limits = self._limits
            if limits.per_visitor is not None:
                spent = self._most_spent(visitor)
                left = max(limits.per_visitor - spent, 0)
                if units > left:
                    raise BudgetExceededError(self._visitor_message(visitor, limits.per_visitor, left, charge, now))
            if limits.hourly_ceiling is not None:
                self._hour.expire(now)
                left = max(limits.hourly_ceiling - self._hour.total, 0)
                if units > left:
                    raise BudgetExceededError(self._ceiling_message(limits.hourly_ceiling, left, charge, now))
            for visitor_id in visitor.ids:
                record = self._spent.get(visitor_id)
                if record is None:
                    record = self._spent[visitor_id] = _Spend(now)
                record.units += units
            self._hour.add(now, units)

    def allowance(self, visitor: Visitor) -> Allowance:
        with self._lock:
            limits = self._limits
            visitor_left = hourly_left = None
            if limits.per_visitor is not None:
                visitor_left = max(limits.per_visitor - self._most_spent(visitor), 0)
            if limits.hourly_ceiling is not None:
                self._hour.expire(self._timer())
                hourly_left = max(limits.hourly_ceiling - self._hour.total, 0)
        return Allowance(limits.per_visitor, visitor_left, limits.hourly_ceiling, hourly_left)

    def visitors_remembered(self) -> int:
        with self._lock:
            self._spent.expire()
            return len(self._spent)

    def clear(self) -> None:
        with self._lock:
            self._spent.clear()
            self._hour.clear()

    def _most_spent(self, visitor: Visitor) -> int:
        return max((record.units for record in map(self._spent.get, visitor.ids) if record is not None), default=0)

    def _visitor_message(self, visitor: Visitor, limit: int, left: int, charge: Charge, now: float) -> str:
        if limit == 0:
            return f"This demo makes no Clarifai calls on its own key. {WHAT_TO_DO}"
        started = min((r.started for r in map(self._spent.get, visitor.ids) if r is not None), default=now)
        hours = max(math.ceil((started + DAY_S - now) / HOUR_S), 1)
        return (
            f"This demo lets each visitor spend {limit} Clarifai operations a day on its key ({UNITS_EXPLAINED}). "
            f"You have {left} left, starting again in about {_count(hours, 'hour')}; this needs "
            f"{charge.operations} ({charge.description}). {WHAT_TO_DO}"
        )

    def _ceiling_message(self, ceiling: int, left: int, charge: Charge, now: float) -> str:
        if ceiling == 0:
            return f"This demo makes no Clarifai calls on its own key. {WHAT_TO_DO}"
        minutes = max(math.ceil(self._hour.seconds_until_some_frees(now) / 60), 1)
        return (
            f"This demo's Clarifai allowance for all visitors together is used up for now: {left} of {ceiling} "
            f"operations left this hour, and this needs {charge.operations} ({charge.description}). More frees up "
            f"within {_count(minutes, 'minute')}. {WHAT_TO_DO}"
        )


DEMO_LEDGER = BudgetLedger()  # the one every session of this process charges


@dataclass(frozen=True)
class CallBudget:
    """One visitor's view of a ledger: what the backend and the sidebar spend through."""

    ledger: BudgetLedger
    visitor: Visitor

    def spend(self, calls: int = 0, images: int = 0, lookups: int = 0) -> None:
        """Charges a request before it is made; raises BudgetExceededError if it does not fit."""
        self.ledger.charge(self.visitor, calls=calls, images=images, lookups=lookups)

    def spend_lookup(self) -> None:
        """Charges one model look-up (GetModel or ListModels) about to be sent."""
        self.spend(lookups=1)

    @property
    def allowance(self) -> Allowance:
        return self.ledger.allowance(self.visitor)

    @property
    def remaining(self) -> int | None:
        return self.allowance.remaining

    @property
    def limit(self) -> int | None:
        return self.ledger.limits.per_visitor
