"""Fetching image URLs safely: address checks, pinned connections, redirects, caps, timeouts.

A local HTTP server on 127.0.0.1 plays the public web. An injected resolver maps the made-up
public name "images.example" to it, and an `allow_address` hook lets exactly that name reach
exactly that loopback address; every other private address stays refused.
"""

from __future__ import annotations

import gzip
import inspect
import io
import pickle
import socket
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
from PIL import Image

from components.errors import ImageError
from components.images.preparation import PrepareOptions, prepare_url
from components.images.url_fetch import (
    MAX_FILE_BYTES,
    MAX_LOOKUPS_IN_FLIGHT,
    UrlRefusedError,
    check_address,
    check_url_for_clarifai,
    check_url_syntax,
    connection_pool,
    fetch_image_url,
    shorten_url,
)

TEST_HOST = "images.example"


def png_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


IMAGE = png_bytes()


# --- address checks -------------------------------------------------------------------------

REFUSED_ADDRESSES = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.0.0.5": "private network address (10.0.0.5)",
    "172.16.0.1": "private network",
    "172.31.255.254": "private network",
    "192.168.1.20": "private network",
    "169.254.169.254": "cloud metadata service",
    "169.254.10.1": "link-local",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "'this network'",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "224.0.0.251": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "192.0.2.10": "documentation-only",
    "198.51.100.7": "documentation-only",
    "203.0.113.9": "documentation-only",
    "198.18.0.1": "network-benchmarking",
    "192.0.0.8": "special-purpose",
    "192.0.0.170": "private network",
    "2001:2::1": "network-benchmarking",
    "100::1": "reserved",
    "fec0::1": "not publicly routable",
    "::1": "loopback",
    "::": "unspecified",
    "::ffff:127.0.0.1": "loopback address 127.0.0.1 inside the IPv6 address ::ffff:127.0.0.1",
    "::ffff:10.1.2.3": "private network",
    "::ffff:169.254.169.254": "cloud metadata service",
    "::127.0.0.1": "reserved",
    "64:ff9b::a00:1": "private network address (10.0.0.1",
    "2002:a9fe:a9fe::1": "cloud metadata service",
    "fc00::1": "private network",
    "fd12:3456:789a::1": "private network",
    "fd00:ec2::254": "cloud metadata service",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation-only",
    "not-an-address": "invalid",
}

PUBLIC_ADDRESSES = [
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8: a public IPv4 host reached from an IPv6-only server
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "151.101.1.69",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "11.0.0.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", sorted(REFUSED_ADDRESSES))
def test_non_public_address_is_refused_with_its_kind(address: str):
    reason = check_address(address)
    assert reason is not None and REFUSED_ADDRESSES[address] in reason


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_address_is_allowed(address: str):
    assert check_address(address) is None


# --- URL text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://files.example/a.jpg", "file:///etc/passwd", "javascript:alert(1)", "data:image/png;base64,AAAA",
     "gopher://old.example/", "images.example/a.jpg", "//images.example/a.jpg"],
)
def test_non_http_url_is_refused_before_any_lookup(url: str):
    looked_up = []
    with pytest.raises(UrlRefusedError) as caught:
        fetch_image_url(url, resolve=lambda *args: looked_up.append(args) or [])
    assert caught.value.reason == "scheme"
    assert "only http:// and https://" in caught.value.message
    assert looked_up == []


def test_url_with_credentials_is_refused_without_repeating_them():
    with pytest.raises(UrlRefusedError) as caught:
        check_url_syntax("https://alice:hunter2@images.example/a.jpg")
    assert caught.value.reason == "credentials"
    assert "hunter2" not in caught.value.message and "alice" not in caught.value.message


def test_messages_show_a_short_url_without_query_or_credentials():
    shown = shorten_url("https://bob:pw@cdn.example/" + "deep/" * 40 + "photo.jpg?signature=SECRET#frag")
    assert len(shown) <= 80
    assert "SECRET" not in shown and "pw" not in shown and "bob" not in shown
    assert shown.startswith("https://cdn.example/") and shown.endswith("photo.jpg?…")


def test_refusal_survives_pickling_for_caches():
    copy = pickle.loads(pickle.dumps(UrlRefusedError("points to a private network address", "address")))
    assert isinstance(copy, ImageError)
    assert (copy.message, copy.reason) == ("points to a private network address", "address")


def test_allow_address_defaults_to_allowing_nothing_extra():
    assert inspect.signature(fetch_image_url).parameters["allow_address"].default is None


def test_https_pool_connects_to_the_checked_ip_but_verifies_the_host_name():
    pool = connection_pool("https", "93.184.216.34", 443, "images.example", urllib3.Timeout(1, 1))
    assert pool.host == "93.184.216.34"
    assert pool.assert_hostname == "images.example"
    assert pool.conn_kw["server_hostname"] == "images.example"
    assert pool.cert_reqs == "CERT_REQUIRED"


# --- a local server that plays the public web -----------------------------------------------


class FakeWeb(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: list[tuple[str, dict[str, str]]] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        FakeWeb.requests.append((self.path, dict(self.headers)))
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        route = getattr(self, "route_" + parts.path.strip("/").replace("-", "_") or "missing", None)
        try:
            (route or self.route_missing)(query)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_body(self, body: bytes, content_type="image/png", status=200, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def route_missing(self, query):
        self.send_body(b"not found", "text/plain", 404)

    def route_image(self, query):
        self.send_body(IMAGE)

    def route_page(self, query):
        self.send_body(b"<!doctype html><html><body>a gallery</body></html>", "text/html")

    def route_sized(self, query):
        self.send_body(b"\x89PNG" + bytes(int(query["n"]) - 4))

    def route_redirects(self, query):
        left = int(query["n"])
        location = "/image" if left == 0 else f"/redirects?n={left - 1}"
        self.send_body(b"", "text/plain", 302, [("Location", location)])

    def route_to(self, query):
        self.send_body(b"", "text/plain", 302, [("Location", query["target"])])

    def route_claims_huge(self, query):
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(MAX_FILE_BYTES + 1))
        self.end_headers()
        self.wfile.write(b"\xff\xd8\xff" + bytes(1000))
        time.sleep(2)  # the client must not wait for the rest

    def route_chunked_forever(self, query):
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = bytes(256 * 1024)
        for _ in range(200):  # 50 MB at most, unless the client hangs up first
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def route_gzip(self, query):
        body = gzip.compress(IMAGE if "bomb" not in query else bytes(30 * 1024 * 1024))
        self.send_body(body, "image/png", extra=[("Content-Encoding", "gzip")])

    def route_stall(self, query):
        time.sleep(3)
        self.send_body(IMAGE)

    def route_slow_headers(self, query):
        """The status line and headers one byte per `every` seconds (for `drip_for` seconds at most)."""
        every, drip_for = float(query.get("every", 1)), float(query.get("drip_for", 8))
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len(IMAGE)}\r\n\r\n"
        ).encode()
        dripped = int(drip_for / every)
        for index in range(min(dripped, len(head))):
            self.wfile.write(head[index:index + 1])
            time.sleep(every)
        self.wfile.write(head[dripped:] + IMAGE)
        self.close_connection = True

    def route_gzip_then_junk(self, query):
        """A gzip body followed by junk, without a length, until the client hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Connection", "close")
        self.end_headers()
        stream = gzip.compress(IMAGE) if "empty" not in query else _ENDLESS_GZIP_HEADER
        junk = (b"junk" if "empty" not in query else _EMPTY_DEFLATE_BLOCK) * (64 * 1024)
        sent = 0
        try:
            self.wfile.write(stream)
            while sent < JUNK_LIMIT:
                self.wfile.write(junk)
                sent += len(junk)
        finally:
            JUNK_SENT[query["id"]] = sent
            self.close_connection = True

    def route_drip(self, query):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(100):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.05)


JUNK_LIMIT = 512 * 1024 * 1024  # what the server would send if nobody hung up
JUNK_SENT: dict[str, int] = {}
_ENDLESS_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
_EMPTY_DEFLATE_BLOCK = b"\x00\x00\x00\xff\xff"  # a stored block of no bytes: the stream never ends


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture(scope="module")
def web():
    server = QuietServer(("127.0.0.1", 0), FakeWeb)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


FAKE_DNS = {
    TEST_HOST: ["127.0.0.1"],
    "intranet.example": ["10.0.0.7"],
    "half-private.example": ["93.184.216.34", "10.0.0.8"],
}


def fake_resolve(host, port, *args, **kwargs):
    if host in FAKE_DNS:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in FAKE_DNS[host]]
    if host.endswith(".example"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return socket.getaddrinfo(host, port, *args, **kwargs)


def allow_test_server(host: str, ip: str) -> bool:
    return host == TEST_HOST and ip == "127.0.0.1"


def fetch(url: str, **kwargs) -> bytes:
    kwargs.setdefault("resolve", fake_resolve)
    kwargs.setdefault("allow_address", allow_test_server)
    return fetch_image_url(url, **kwargs)


def refusal(url: str, **kwargs) -> UrlRefusedError:
    with pytest.raises(UrlRefusedError) as caught:
        fetch(url, **kwargs)
    return caught.value


def test_image_is_fetched_through_the_checked_address_with_the_right_host_header(web):
    FakeWeb.requests.clear()
    assert fetch(f"http://{TEST_HOST}:{web}/image") == IMAGE
    path, headers = FakeWeb.requests[-1]
    assert path == "/image"
    assert headers["Host"] == f"{TEST_HOST}:{web}"


def test_non_ascii_characters_in_the_address_are_percent_encoded(web):
    FakeWeb.requests.clear()
    assert fetch(f"http://{TEST_HOST}:{web}/image?name=café&x=%41") == IMAGE
    assert FakeWeb.requests[-1][0] == "/image?name=caf%C3%A9&x=%41"


def test_the_same_server_is_refused_without_the_test_allowance(web):
    error = refusal(f"http://{TEST_HOST}:{web}/image", allow_address=None)
    assert error.reason == "address"
    assert "loopback address 127.0.0.1" in error.message
    assert "only public addresses can be fetched" in error.message


def test_name_is_resolved_once_per_hop_and_the_checked_address_is_used(web):
    answers = iter([["127.0.0.1"], ["10.9.9.9"], ["10.9.9.9"]])
    calls = []

    def rebinding_resolver(host, port, *args):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in next(answers)]

    assert fetch(f"http://{TEST_HOST}:{web}/image", resolve=rebinding_resolver) == IMAGE
    assert calls == [TEST_HOST]


def test_prepare_url_decodes_a_fetched_image(web):
    prepared = prepare_url(f"http://{TEST_HOST}:{web}/image", fetch=fetch)
    assert (prepared.width, prepared.height) == (64, 48) and prepared.source == "url"


def test_web_page_instead_of_an_image_is_an_image_error(web):
    with pytest.raises(ImageError, match=r"web page \(HTML\)"):
        prepare_url(f"http://{TEST_HOST}:{web}/page", fetch=fetch)


def test_three_redirects_are_followed(web):
    assert fetch(f"http://{TEST_HOST}:{web}/redirects?n=2") == IMAGE  # n=2, 1, 0 each redirect


def test_four_redirects_are_refused(web):
    error = refusal(f"http://{TEST_HOST}:{web}/redirects?n=3")
    assert error.reason == "redirects" and "more than 3 times" in error.message


@pytest.mark.parametrize(
    "target, words",
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata service"),
        ("http://localhost/", "this server itself"),
        ("http://[::1]/", "loopback address ::1"),
        ("http://10.0.0.1/", "private network address (10.0.0.1)"),
        ("http://intranet.example/secret.png", "private network address (10.0.0.7)"),
        ("http://half-private.example/a.png", "private network address (10.0.0.8)"),
        ("http://127.0.0.1:{port}/image", "loopback address 127.0.0.1"),
        ("http://2130706433/", "loopback address 127.0.0.1"),
    ],
)
def test_redirect_into_a_private_address_is_refused(web, target: str, words: str):
    target = target.format(port=web)
    error = refusal(f"http://{TEST_HOST}:{web}/to?target={target}")
    assert error.reason == "address"
    assert words in error.message
    assert "redirected to" in error.message


def test_redirect_to_another_scheme_is_refused(web):
    error = refusal(f"http://{TEST_HOST}:{web}/to?target=file:///etc/passwd")
    assert error.reason == "scheme"
    assert "redirects elsewhere" in error.message and "only http:// and https://" in error.message


def test_unknown_host_name_is_explained(web):
    error = refusal("http://no-such-host.example/a.png")
    assert error.reason == "dns" and "could not be found" in error.message


def test_declared_size_over_the_cap_is_refused_without_reading_the_body(web):
    started = time.monotonic()
    error = refusal(f"http://{TEST_HOST}:{web}/claims-huge")
    assert error.reason == "too-large" and "under 20 MB" in error.message
    assert time.monotonic() - started < 1.5


def test_chunked_body_is_cut_off_at_the_cap_while_streaming(web):
    error = refusal(f"http://{TEST_HOST}:{web}/chunked-forever", max_bytes=1_000_000)
    assert error.reason == "too-large"


def test_chunked_body_is_cut_off_at_twenty_megabytes_by_default(web):
    started = time.monotonic()
    error = refusal(f"http://{TEST_HOST}:{web}/chunked-forever")
    assert error.reason == "too-large"
    assert time.monotonic() - started < 5


def test_body_of_exactly_the_cap_is_accepted(web):
    assert len(fetch(f"http://{TEST_HOST}:{web}/sized?n=5000", max_bytes=5000)) == 5000
    assert refusal(f"http://{TEST_HOST}:{web}/sized?n=5001", max_bytes=5000).reason == "too-large"


def test_gzip_body_is_decoded_and_a_gzip_bomb_is_capped(web):
    assert fetch(f"http://{TEST_HOST}:{web}/gzip") == IMAGE
    assert refusal(f"http://{TEST_HOST}:{web}/gzip?bomb=1", max_bytes=1_000_000).reason == "too-large"


def test_stalled_server_times_out(web):
    started = time.monotonic()
    error = refusal(f"http://{TEST_HOST}:{web}/stall", read_timeout=0.5)
    assert error.reason == "timeout" and "did not answer in time" in error.message
    assert time.monotonic() - started < 2


def test_slow_drip_is_stopped_by_the_overall_deadline(web):
    started = time.monotonic()
    error = refusal(f"http://{TEST_HOST}:{web}/drip", read_timeout=2, deadline=0.6)
    assert error.reason == "timeout"
    assert time.monotonic() - started < 2


def test_missing_image_reports_the_status_without_the_query(web):
    error = refusal(f"http://{TEST_HOST}:{web}/nothing-here?token=SECRET")
    assert error.reason == "http-status" and "HTTP 404" in error.message
    assert "SECRET" not in error.message


def test_closed_port_is_reported_as_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    error = refusal(f"http://{TEST_HOST}:{closed_port}/image")
    assert error.reason == "connection" and "could not be reached" in error.message


def test_prepare_url_with_the_real_fetcher_refuses_private_hosts():
    with pytest.raises(UrlRefusedError, match="only public addresses"):
        prepare_url("http://127.0.0.1/image.png", PrepareOptions(), fetch=partial(fetch_image_url))


def wait_for_junk_count(key: str) -> int:
    for _ in range(200):
        if key in JUNK_SENT:
            return JUNK_SENT[key]
        time.sleep(0.05)
    raise AssertionError("the server never stopped sending")


def test_gzip_body_followed_by_junk_gives_the_image_without_reading_the_junk(web):
    image = fetch(f"http://{TEST_HOST}:{web}/gzip-then-junk?id=trailer", deadline=20)
    assert image == IMAGE
    # The client hung up after the stream ended: the server got rid of little of its 512 MB.
    assert wait_for_junk_count("trailer") < 64 * 1024 * 1024


def test_compressed_bytes_count_against_the_cap_even_when_they_expand_to_nothing(web):
    error = refusal(f"http://{TEST_HOST}:{web}/gzip-then-junk?id=empty&empty=1", max_bytes=1_000_000, deadline=20)
    assert error.reason == "too-large"
    assert wait_for_junk_count("empty") < 64 * 1024 * 1024


def test_status_line_and_headers_sent_a_byte_a_second_are_cut_off_at_the_deadline(web):
    started = time.monotonic()
    error = refusal(f"http://{TEST_HOST}:{web}/slow-headers?every=1", deadline=1.5, read_timeout=5)
    elapsed = time.monotonic() - started
    assert error.reason == "timeout" and "took too long" in error.message
    assert elapsed < 1.5 + 3  # a bound with slack; the server would drip for 8 s


def test_slow_headers_within_the_deadline_still_give_the_image(web):
    assert fetch(f"http://{TEST_HOST}:{web}/slow-headers?every=0.05&drip_for=0.3", deadline=10) == IMAGE


def test_a_slow_name_lookup_is_given_up_at_the_deadline(web):
    answer = threading.Event()

    def slow_resolve(host, port, *args):
        answer.wait(12)  # a resolver that takes its time
        return fake_resolve(host, port, *args)

    started = time.monotonic()
    try:
        error = refusal(f"http://{TEST_HOST}:{web}/image", resolve=slow_resolve, deadline=0.5)
    finally:
        answer.set()
    assert error.reason == "timeout" and "took too long" in error.message
    assert time.monotonic() - started < 0.5 + 3  # a bound with slack; the lookup would take 12 s


def test_slow_lookups_hold_a_bounded_number_of_threads(web):
    answer = threading.Event()
    lock = threading.Lock()
    in_lookup = [0, 0]  # now, most at once

    def stuck_resolve(host, port, *args):
        with lock:
            in_lookup[0] += 1
            in_lookup[1] = max(in_lookup[1], in_lookup[0])
        answer.wait(20)
        with lock:
            in_lookup[0] -= 1
        return fake_resolve(host, port, *args)

    refusals = []

    def one_fetch():
        try:
            fetch(f"http://{TEST_HOST}:{web}/image", resolve=stuck_resolve, deadline=1.0)
        except UrlRefusedError as error:
            refusals.append(error)

    visitors = [threading.Thread(target=one_fetch) for _ in range(3 * MAX_LOOKUPS_IN_FLIGHT)]
    try:
        for visitor in visitors:
            visitor.start()
        for visitor in visitors:
            visitor.join(10)
        lookup_threads = sum(thread.name == "url-lookup" for thread in threading.enumerate())
    finally:
        answer.set()
    assert len(refusals) == len(visitors) and {error.reason for error in refusals} == {"timeout"}
    assert in_lookup[1] == MAX_LOOKUPS_IN_FLIGHT
    assert lookup_threads <= MAX_LOOKUPS_IN_FLIGHT
    # Once the resolver answers, the slots are free again.
    assert fetch(f"http://{TEST_HOST}:{web}/image", deadline=10) == IMAGE


def test_https_connections_hand_their_socket_to_the_deadline_watchdog():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    watched = []

    def accept_and_hang_up():
        connection, _ = listener.accept()
        connection.close()

    server = threading.Thread(target=accept_and_hang_up, daemon=True)
    server.start()
    pool = connection_pool("https", "127.0.0.1", port, TEST_HOST, urllib3.Timeout(2, 2), watched.append)
    try:
        with pytest.raises(urllib3.exceptions.HTTPError):
            pool.urlopen("GET", "/", retries=False)
    finally:
        pool.close()
        listener.close()
    server.join(5)
    assert len(watched) == 1 and isinstance(watched[0], socket.socket)


# --- addresses Clarifai is given to fetch -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/x.jpg",
        "http://2130706433/x.jpg",  # 127.0.0.1 as one number
        "http://0x7f.1/x.jpg",
        "http://[::1]/x.jpg",
        "http://[::ffff:169.254.169.254]/x.jpg",
        "http://10.0.0.7/x.jpg",
        "http://localhost/x.jpg",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://printer.local/x.jpg",
    ],
)
def test_an_address_clarifai_would_fetch_follows_the_same_rules(url):
    with pytest.raises(UrlRefusedError, match="only public addresses can be fetched"):
        check_url_for_clarifai(url)


def test_a_public_address_is_handed_to_clarifai_without_being_looked_up_here():
    assert check_url_for_clarifai(" https://samples.clarifai.com/metro-north.jpg ") == "https://samples.clarifai.com/metro-north.jpg"
    assert check_url_for_clarifai("https://93.184.215.14/a.png") == "https://93.184.215.14/a.png"
