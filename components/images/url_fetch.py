"""Fetch an image from a web address without letting the address reach inside the host.

The app runs on a public host, so a URL typed by anyone must not make it talk to the host
itself, its private network or a cloud metadata service. Every hop (the URL and each redirect)
is checked the same way: http/https only, no credentials, the name resolved once and refused
if ANY address it resolves to is not public, and the connection made to the address that was
checked (so a second DNS answer cannot swap it). The body is streamed with a size cap, per-read
timeouts and one overall deadline that covers the name lookup, the connection, the status line
and headers, and the body: lookups run on a few bounded threads the caller stops waiting for, and
a watchdog shuts the connection down when the deadline passes, whatever read is blocked.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable
from urllib.parse import quote, urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from components.errors import ImageError

MAX_FILE_BYTES = 20 * 1024 * 1024  # Clarifai: each image under 20 MB
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
OVERALL_DEADLINE = 30.0
MAX_REDIRECTS = 3
MAX_URL_LENGTH = 2048
MESSAGE_URL_LENGTH = 80
USER_AGENT = "clarifai-streamlit-demo/1.0 (image fetch)"

_CHUNK_BYTES = 64 * 1024
# Name lookups cannot be interrupted, so a slow one keeps its thread until the resolver gives up.
# At most this many run at once in the whole process; a fetch that finds none free waits for
# one until its deadline.
MAX_LOOKUPS_IN_FLIGHT = 8
_lookup_slots = threading.BoundedSemaphore(MAX_LOOKUPS_IN_FLIGHT)
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_URL_SAFE = "/%:@!$&'()*+,;=-._~"

Resolver = Callable[..., list]
AddressAllowance = Callable[[str, str], bool]  # (host name, ip) -> allowed anyway?

# Special-purpose ranges from IANA's registries, named here because what Python's `ipaddress`
# calls private or global differs between Python versions (3.11.7 calls 192.0.0.8 global).
def _networks(*cidrs: str) -> tuple:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


_CARRIER_GRADE_NAT = _networks("100.64.0.0/10")
_THIS_NETWORK = _networks("0.0.0.0/8")
_DOCUMENTATION = _networks("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
_BENCHMARKING = _networks("198.18.0.0/15", "2001:2::/48")
_OTHER_SPECIAL_PURPOSE = _networks(
    "192.0.0.0/24",  # IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
    "192.88.99.0/24",  # former 6to4 relay anycast
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, ...)
    "5f00::/16",  # SRv6 segment identifiers
)
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_METADATA_SERVICES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefusedError(ImageError):
    """A URL the app will not fetch, or a fetch that failed; `reason` is a short code."""

    title = "Image address refused"

    def __init__(self, message: str, reason: str = "refused"):
        super().__init__(message)
        self.reason = reason

    def __reduce__(self):  # so st.cache_data and friends can pickle it
        return type(self), (self.message, self.reason)


def shorten_url(url: str, limit: int = MESSAGE_URL_LENGTH) -> str:
    """The URL as shown in messages: no credentials, no query or fragment, at most `limit` chars."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        text = f"{parts.scheme}://{host}{parts.path}"
        if parts.query or parts.fragment:
            text += "?…"
    else:
        text = url.strip()
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


def check_address(ip: str) -> str | None:
    """Why this address may not be fetched from (plain words), or None if it is public."""
    text = ip.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return f"an invalid network address ({ip})"

    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = _address_category(embedded)
            if reason:
                return f"{reason[:-1]} inside the IPv6 address {text})"
            if address.ipv4_mapped is not None or address in _NAT64:
                return None  # ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach a.b.c.d, which is public
    return _address_category(address)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that an IPv4-mapped, 6to4, Teredo or NAT64 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _address_category(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    def within(networks) -> bool:
        return any(address.version == network.version and address in network for network in networks)

    if address.is_unspecified:
        return f"the unspecified address ({address})"
    if address.is_loopback:
        return f"this server itself (loopback address {address})"
    if address in _METADATA_SERVICES:
        return f"the cloud metadata service ({address})"
    if address.is_link_local:
        return f"a link-local address ({address})"
    if address.is_multicast:
        return f"a multicast address ({address})"
    if within(_CARRIER_GRADE_NAT):
        return f"a carrier-grade NAT address ({address})"
    if within(_DOCUMENTATION):
        return f"a documentation-only address ({address})"
    if within(_THIS_NETWORK):
        return f"a 'this network' address ({address})"
    if within(_BENCHMARKING):
        return f"a network-benchmarking address ({address})"
    if address.is_reserved:
        return f"a reserved address ({address})"
    if address.is_private:
        return f"a private network address ({address})"
    if within(_OTHER_SPECIAL_PURPOSE):
        return f"a special-purpose address ({address})"
    if address.version == 6 and address not in _GLOBAL_UNICAST_V6:
        return f"an address that is not publicly routable ({address})"
    if not address.is_global:
        return f"an address that is not publicly routable ({address})"
    return None


def check_url_syntax(url: str) -> str:
    """The URL, stripped, if it is an http(s) address the app could fetch; else UrlRefusedError."""
    text = url.strip()
    shown = f"“{shorten_url(text)}”"
    if not text:
        raise UrlRefusedError("The image address is empty: paste a link starting with https://.", "syntax")
    if len(text) > MAX_URL_LENGTH:
        raise UrlRefusedError(
            f"The image address {shown} is longer than {MAX_URL_LENGTH} characters: use a shorter link.",
            "syntax",
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise UrlRefusedError(
            f"The image address {shown} contains spaces or control characters: put one address per line.",
            "syntax",
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UrlRefusedError(f"{shown} is not a valid web address: check it for typos.", "syntax") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        what = f"a {scheme}: address" if scheme else "not a web address"
        raise UrlRefusedError(
            f"{shown} is {what}; only http:// and https:// links to images can be fetched.", "scheme"
        )
    if parts.username is not None or parts.password is not None:
        raise UrlRefusedError(
            f"{shown} contains a user name or password; remove them: only public images can be fetched.",
            "credentials",
        )
    if not parts.hostname:
        raise UrlRefusedError(f"{shown} has no host name: check the link.", "syntax")
    if port == 0:
        raise UrlRefusedError(f"{shown} names port 0, which cannot be connected to.", "syntax")
    return text


# Names that never lead to a public host, wherever they are looked up (RFC 6761, 6762, 8375; cloud
# metadata services). A name Clarifai fetches is looked up by Clarifai; these fail everywhere.
LOCAL_NAMES = ("localhost", "local", "internal", "home.arpa", "lan", "intranet", "corp")


def check_url_for_clarifai(url: str) -> str:
    """The URL, if Clarifai may be given it to fetch: the same rules as the app's own fetching for
    what the address itself says (a numeric address in any spelling must be public, a local name
    is refused); the name is looked up by Clarifai. Else UrlRefusedError."""
    text = check_url_syntax(url)
    host = (urlsplit(text).hostname or "").rstrip(".").lower()
    shown = f"“{shorten_url(text)}”"
    try:
        numeric = [info[4][0] for info in socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)]
    except (socket.gaierror, UnicodeError, ValueError):
        numeric = []
    for ip in numeric:
        reason = check_address(str(ip))
        if reason:
            raise UrlRefusedError(f"{shown} points to {reason}; only public addresses can be fetched.", "address")
    if not numeric and any(host == name or host.endswith("." + name) for name in LOCAL_NAMES):
        raise UrlRefusedError(
            f"{shown} names a local host ({host}); only public addresses can be fetched.", "address"
        )
    return text


def fetch_image_url(
    url: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    deadline: float = OVERALL_DEADLINE,
    max_redirects: int = MAX_REDIRECTS,
    resolve: Resolver = socket.getaddrinfo,
    allow_address: AddressAllowance | None = None,
) -> bytes:
    """Download the body at `url` (following at most `max_redirects` redirects), or refuse.

    `deadline` (seconds) bounds the whole fetch: every lookup, connection, header and body.
    `allow_address(host, ip)` may permit an address `check_address` refuses; it exists for
    tests against a local server and is None (nothing extra allowed) everywhere else.
    """
    original = check_url_syntax(url)
    watchdog = _Watchdog(time.monotonic() + deadline)
    try:
        current = original
        for hop in range(max_redirects + 1):
            response, pool = _request(
                original, current, connect_timeout, read_timeout, watchdog, resolve, allow_address
            )
            try:
                if response.status in _REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise UrlRefusedError(
                            f"{shorten_url(original)} answered with a redirect but no new address.",
                            "http-status",
                        )
                    if hop == max_redirects:
                        raise UrlRefusedError(
                            f"{shorten_url(original)} redirected more than {max_redirects} times; "
                            "use the image's final address.",
                            "redirects",
                        )
                    current = urljoin(current, location.strip())
                    continue
                _check_status(original, response.status)
                return _read_body(original, response, max_bytes, watchdog)
            finally:
                response.close()  # closes the socket now, even with the body unread
                pool.close()
        raise AssertionError("unreachable: the loop returns or raises")
    finally:
        watchdog.stop()


class _Watchdog:
    """One fetch's deadline: shuts the fetch's sockets down when it passes.

    Per-read timeouts restart with every byte, so a server sending one byte a second never
    trips them; shutting the socket down ends whatever read is blocked, in any phase.
    """

    def __init__(self, give_up_at: float):
        self.give_up_at = give_up_at
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(give_up_at - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def remaining(self) -> float:
        return self.give_up_at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.fired or self.remaining <= 0

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut_down(sock)

    def stop(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed or never connected
        pass


def _took_too_long(shown: str) -> UrlRefusedError:
    return UrlRefusedError(f"{shown} took too long to answer; try again later.", "timeout")


def _request(original, current, connect_timeout, read_timeout, watchdog, resolve, allow_address):
    shown = shorten_url(original)
    via = "" if current == original else f" (redirected to {shorten_url(current)})"
    if via:
        try:
            check_url_syntax(current)
        except UrlRefusedError as refusal:
            message = f"{shown} redirects elsewhere, and {refusal.message}"
            raise UrlRefusedError(message, refusal.reason) from None
    parts = urlsplit(current)
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except UnicodeError:
        message = f"{shown}{via} has an invalid host name: check the address."
        raise UrlRefusedError(message, "syntax") from None
    port = parts.port or (443 if scheme == "https" else 80)
    ip = _resolve_public_address(host, port, resolve, allow_address, f"{shown}{via}", watchdog)

    remaining = watchdog.remaining
    if remaining <= 0:
        raise _took_too_long(f"{shown}{via}")
    timeout = urllib3.Timeout(connect=min(connect_timeout, remaining), read=min(read_timeout, remaining))
    pool = connection_pool(scheme, ip, port, host, timeout, watchdog.watch)
    # Characters outside ASCII are percent-encoded; existing escapes are kept as they are.
    path = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_URL_SAFE + "?")
    host_header = host if ":" not in host else f"[{host}]"
    if parts.port:
        host_header += f":{parts.port}"
    headers = {
        "Host": host_header,
        "User-Agent": USER_AGENT,
        "Accept": "image/*, */*;q=0.5",
        "Accept-Encoding": "identity",
    }
    try:
        response = pool.urlopen(
            "GET", path, headers=headers, redirect=False, retries=False,
            preload_content=False, decode_content=False, assert_same_host=False,
        )
    except (Urllib3Error, OSError) as error:
        pool.close()
        raise _request_failure(error, f"{shown}{via}", watchdog.expired) from None
    return response, pool


def _request_failure(error: Exception, shown: str, expired: bool) -> UrlRefusedError:
    if expired:  # the watchdog cut the connection, whatever error that surfaced as
        return _took_too_long(shown)
    if isinstance(error, NewConnectionError):  # checked first: urllib3 makes it a kind of timeout
        return UrlRefusedError(f"{shown} could not be reached: check the address or try again later.", "connection")
    if isinstance(error, Urllib3Timeout):
        return UrlRefusedError(f"{shown} did not answer in time; try again later.", "timeout")
    if isinstance(error, SSLError):
        return UrlRefusedError(f"{shown}: the secure connection could not be verified (certificate problem).", "tls")
    return UrlRefusedError(f"{shown} could not be reached: check the address or try again later.", "connection")


SocketWatcher = Callable[[socket.socket], None]


class _WatchedConnection:
    """Hands each new socket to `watcher` (the fetch's watchdog) as soon as it is connected,
    before any TLS handshake or request is sent over it."""

    def __init__(self, *args, watcher: SocketWatcher | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._watcher = watcher

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if self._watcher is not None:
            self._watcher(sock)
        return sock


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def connection_pool(
    scheme: str, ip: str, port: int, host: str, timeout: urllib3.Timeout, watcher: SocketWatcher | None = None
):
    """A pool that connects to the checked `ip` but speaks to (and verifies TLS for) `host`.

    `watcher` receives every socket the pool connects (the fetch's deadline watchdog).
    """
    if scheme == "https":
        return _WatchedHTTPSPool(
            ip, port, timeout=timeout, maxsize=1, retries=False,
            cert_reqs="CERT_REQUIRED", ca_certs=_ca_bundle(),
            server_hostname=host, assert_hostname=host, watcher=watcher,
        )
    return _WatchedHTTPPool(ip, port, timeout=timeout, maxsize=1, retries=False, watcher=watcher)


def _ca_bundle() -> str | None:
    try:
        import certifi
    except ImportError:  # the system store is used instead
        return None
    return certifi.where()


def _resolve_public_address(host, port, resolve, allow_address, shown, watchdog) -> str:
    try:
        infos = _look_up(host, port, resolve, watchdog.give_up_at, shown)
    except (socket.gaierror, UnicodeError, OSError):
        infos = []
    addresses = list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))
    if not addresses:
        raise UrlRefusedError(
            f"{shown}: the host name {host} could not be found; check the address.", "dns"
        )
    for ip in addresses:
        reason = check_address(ip)
        if reason and not (allow_address is not None and allow_address(host, ip)):
            raise UrlRefusedError(
                f"{shown} points to {reason}; only public addresses can be fetched.", "address"
            )
    return addresses[0]


def _look_up(host: str, port: int, resolve: Resolver, give_up_at: float, shown: str) -> list:
    """`resolve(host, port, ...)` on one of the process's few lookup threads, given up at the deadline.

    A lookup that outlives its fetch keeps its thread (and slot) until the resolver returns, so
    slow names can hold at most MAX_LOOKUPS_IN_FLIGHT threads however many fetches ask.
    """
    if not _lookup_slots.acquire(timeout=max(give_up_at - time.monotonic(), 0.0)):
        raise UrlRefusedError(
            f"{shown}: too many image addresses are being looked up right now; try again in a moment.",
            "timeout",
        )
    outcome: dict[str, object] = {}
    finished = threading.Event()

    def look_up() -> None:
        try:
            outcome["infos"] = resolve(host, port, 0, socket.SOCK_STREAM)
        except Exception as error:  # noqa: BLE001 - handed to the waiting fetch
            outcome["error"] = error
        finally:
            _lookup_slots.release()
            finished.set()

    threading.Thread(target=look_up, name="url-lookup", daemon=True).start()
    if not finished.wait(max(give_up_at - time.monotonic(), 0.0)):
        raise UrlRefusedError(
            f"{shown}: looking up the host name {host} took too long; try again later.", "timeout"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["infos"]


def _check_status(original: str, status: int) -> None:
    shown = shorten_url(original)
    if 200 <= status < 300 and status != 204:
        return
    if status in (401, 403, 407):
        advice = "the image must be public (open it in a private browser window to check)"
    elif status in (404, 410):
        advice = "the image is not there: check the address"
    elif status == 429:
        advice = "the site is limiting requests: try again later"
    elif status >= 500:
        advice = "the site has a problem: try again later"
    else:
        advice = "use a direct link to the image"
    raise UrlRefusedError(f"{shown} answered HTTP {status}; {advice}.", "http-status")


def _read_body(original: str, response, max_bytes: int, watchdog: _Watchdog) -> bytes:
    shown = shorten_url(original)
    too_big = UrlRefusedError(
        f"{shown} is larger than {max_bytes / 1024 / 1024:.0f} MB; images must be under "
        f"{max_bytes / 1024 / 1024:.0f} MB. Use a smaller version of the image.",
        "too-large",
    )
    too_slow = UrlRefusedError(f"{shown} took too long to download; try again later.", "timeout")
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise too_big
    decoder = _content_decoder(shown, response.headers.get("Content-Encoding", ""))

    body = bytearray()
    received = 0  # bytes off the wire, compressed or not
    try:
        while True:
            if watchdog.expired:
                raise too_slow
            chunk = response.read1(_CHUNK_BYTES)  # whatever has arrived, so the deadline is seen
            if not chunk:
                if watchdog.fired:  # the watchdog's shutdown looks like the end of a body sent without a length
                    raise too_slow
                break
            received += len(chunk)
            if received > max_bytes:
                raise too_big
            if decoder is not None:
                # max_length bounds what one small compressed chunk may expand to.
                chunk = decoder.decompress(chunk, max_bytes + 1 - len(body))
                if decoder.unconsumed_tail:
                    raise too_big
            body += chunk
            if len(body) > max_bytes:
                raise too_big
            if decoder is not None and decoder.eof:
                break  # whatever follows the compressed stream is not part of the image: never read it
    except Urllib3Timeout:
        if watchdog.expired:
            raise too_slow from None
        raise UrlRefusedError(f"{shown} stopped sending data; try again later.", "timeout") from None
    except zlib.error:
        raise UrlRefusedError(f"{shown} sent damaged compressed data.", "encoding") from None
    except (Urllib3Error, OSError):
        if watchdog.expired:
            raise too_slow from None
        raise UrlRefusedError(
            f"{shown}: the download broke off; try again later.", "connection"
        ) from None
    if not body:
        raise UrlRefusedError(f"{shown} returned an empty response, not an image.", "empty")
    if decoder is not None and not decoder.eof:
        raise UrlRefusedError(f"{shown} sent compressed data that was cut short; try again later.", "encoding")
    return bytes(body)


def _content_decoder(shown: str, encoding: str):
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    message = f"{shown} sent data compressed as '{encoding[:20]}', which the app cannot read."
    raise UrlRefusedError(message, "encoding")
