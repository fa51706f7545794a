"""Hostile-server tests for transforms.core.http (research catalogue rows 1-21).

Everything runs on 127.0.0.1: ``http.server`` for well-formed responses, raw sockets for
servers that misbehave below HTTP, and a stub resolver for the SSRF rows, so no test
depends on real DNS or the network.
"""

from __future__ import annotations

import datetime
import gzip
import pickle
import random
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loopback import (
    UA,
    LocalServer,
    RawServer,
    Route,
    StubResolver,
    body_route,
    config,
    redirect_route,
    send,
)
from transforms.core.http import (
    AddressPolicy,
    FetchError,
    FetchResponse,
    HttpClient,
    HttpConfig,
    decode_body,
    ensure_not_compressed,
    origin,
    redact_url,
    resolve,
    sniff_compressed,
)


@pytest.fixture
def client() -> Iterator[HttpClient]:
    c = HttpClient(config())
    yield c
    c.close()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address urllib3 opens a TCP connection to."""
    seen: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def spy(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    return seen


def fetch_error(fn: Callable[[], object]) -> FetchError:
    with pytest.raises(FetchError) as info:
        fn()
    return info.value


# --------------------------------------------------------------------------- happy path


def test_happy_get_with_gzip(server: Callable[..., LocalServer], client: HttpClient) -> None:
    page = b"<html><body>" + b"hello newsbeam " * 1000 + b"</body></html>"
    srv = server({"/a": body_route(gzip.compress(page), Content_Encoding="gzip")})
    resp = client.get(srv.url("/a?x=1"))
    assert isinstance(resp, FetchResponse)
    assert resp.status == 200
    assert resp.body == page
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.final_url == resp.url == srv.url("/a?x=1")
    assert resp.redirects == ()
    assert not resp.truncated
    assert 0 <= resp.elapsed_s < 5
    sent = srv.seen[0].headers
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["user-agent"] == UA
    assert sent["host"] == f"127.0.0.1:{srv.port}"
    assert srv.seen[0].path == "/a?x=1"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_both_framings(
    server: Callable[..., LocalServer], client: HttpClient, wbits: int
) -> None:
    page = b"deflated " * 500
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    srv = server({"/": body_route(comp.compress(page) + comp.flush(), Content_Encoding="deflate")})
    assert client.get(srv.url()).body == page


def test_two_stacked_gzip_layers_are_decoded(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    page = b"two layers " * 100
    srv = server(
        {"/": body_route(gzip.compress(gzip.compress(page)), Content_Encoding="gzip, gzip")}
    )
    assert client.get(srv.url()).body == page


def test_keep_alive_connection_is_reused(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/": body_route(b"ok")}, http11=True)
    for _ in range(3):
        assert client.get(srv.url()).body == b"ok"
    assert len({s.client_port for s in srv.seen}) == 1


def test_pooled_connection_survives_its_first_deadline(
    server: Callable[..., LocalServer],
) -> None:
    """The watchdog of a finished request must not cut a connection back in the pool."""
    srv = server({"/": body_route(b"ok")}, http11=True)
    with HttpClient(config(timeout_s=0.3, read_timeout_s=0.3)) as c:
        assert c.get(srv.url()).body == b"ok"
        time.sleep(0.45)
        assert c.get(srv.url()).body == b"ok"


def test_concurrent_gets_from_threads(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/": body_route(b"x" * 5000)}, http11=True)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(len(client.get(srv.url()).body))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [5000] * 40


def test_client_pickles_without_its_runtime_state(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/": body_route(b"ok")})
    assert client.get(srv.url()).body == b"ok"
    copy = pickle.loads(pickle.dumps(client))  # noqa: S301 - our own bytes
    assert copy.config == client.config
    assert copy.get(srv.url()).body == b"ok"
    copy.close()
    with pytest.raises(RuntimeError, match="closed"):
        copy.get(srv.url())


def test_ipv6_loopback_when_allow_listed() -> None:
    class V6Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            send(self, 200, self.headers["Host"].encode())

        def log_message(self, *args: object) -> None:
            pass

    try:
        httpd = V6Server(("::1", 0), Handler)
    except OSError:
        pytest.skip("no IPv6 loopback")
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    port = httpd.server_address[1]
    try:
        with HttpClient(config(policy=AddressPolicy.from_string("::1"))) as c:
            assert c.get(f"http://[::1]:{port}/").body == f"[::1]:{port}".encode()
        with HttpClient(config(policy=AddressPolicy.from_string("127.0.0.1"))) as c:
            assert fetch_error(lambda: c.get(f"http://[::1]:{port}/")).reason == "blocked_address"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_304_is_a_normal_response(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({"/feed": lambda h: send(h, 304, b"", {"ETag": '"v1"'}, content_length=False)})
    resp = client.get(srv.url("/feed"), extra_headers={"If-None-Match": '"v1"'})
    assert resp.status == 304
    assert resp.body == b""
    assert srv.seen[0].headers["if-none-match"] == '"v1"'


def test_truncate_mode_cuts_at_cap(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({"/": body_route(b"a" * 300_000)})
    resp = client.get(srv.url(), config=config(max_bytes=100_000), truncate=True)
    assert resp.truncated
    assert resp.body == b"a" * 100_000


# --------------------------------------------------------------------------- address policy

_DEFAULT = AddressPolicy()


@pytest.mark.parametrize(
    ("ip", "port", "allowed"),
    [
        ("93.184.216.34", 80, True),
        ("93.184.216.34", 443, True),
        ("2606:4700::6810:85e5", 443, True),
        ("::ffff:93.184.216.34", 443, True),
        ("64:ff9b::5db8:d822", 80, True),  # NAT64 of a public address
        ("2002:5db8:d822::1", 80, True),  # 6to4 of a public address
        ("93.184.216.34", 8080, False),
        ("93.184.216.34", 22, False),
        ("93.184.216.34", 6379, False),
        ("169.254.169.254", 80, False),
        ("10.1.2.3", 80, False),
        ("172.16.0.1", 80, False),
        ("192.168.1.1", 443, False),
        ("100.64.0.1", 80, False),
        ("100.127.255.254", 80, False),
        ("127.0.0.1", 80, False),
        ("127.1", 80, False),
        ("2130706433", 80, False),
        ("0x7f000001", 80, False),
        ("017700000001", 80, False),
        ("0177.0.0.1", 80, False),
        ("0.0.0.0", 80, False),
        ("0", 80, False),
        ("255.255.255.255", 80, False),
        ("224.0.0.1", 80, False),
        ("240.0.0.1", 80, False),
        ("192.0.2.10", 80, False),
        ("198.18.0.1", 80, False),
        ("::", 80, False),
        ("::1", 80, False),
        ("[::1]", 80, False),
        ("::ffff:127.0.0.1", 80, False),
        ("::ffff:169.254.169.254", 80, False),
        ("::ffff:10.0.0.1", 80, False),
        ("::127.0.0.1", 80, False),  # deprecated IPv4-compatible
        ("2002:7f00:1::", 80, False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", 80, False),  # 6to4 of 169.254.169.254
        ("64:ff9b::7f00:1", 80, False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", 80, False),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::1", 80, False),  # local-use NAT64
        ("2001:0:4136:e378:8000:63bf:3f57:fdf2", 80, False),  # Teredo
        ("fc00::1", 80, False),
        ("fd12:3456::1", 80, False),
        ("fe80::1", 80, False),
        ("fe80::1%eth0", 80, False),
        ("fec0::1", 80, False),
        ("ff02::1", 80, False),
        ("2001:db8::1", 80, False),
        ("not-an-ip", 80, False),
        ("", 80, False),
    ],
)
def test_default_policy_table(ip: str, port: int, allowed: bool) -> None:
    if allowed:
        _DEFAULT.check(ip, port)
    else:
        assert fetch_error(lambda: _DEFAULT.check(ip, port)).reason == "blocked_address"


def test_allow_list_entries() -> None:
    policy = AddressPolicy.from_string(" 127.0.0.1:8080 , 10.0.0.0/8,::1, [fd00::5]:8443,192.0.2.7")
    policy.check("127.0.0.1", 8080)
    policy.check("::ffff:127.0.0.1", 8080)  # the mapped form is the same endpoint
    assert fetch_error(lambda: policy.check("127.0.0.1", 8081)).reason == "blocked_address"
    policy.check("10.200.0.1", 22)  # CIDR: any port
    assert fetch_error(lambda: policy.check("11.0.0.1", 22)).reason == "blocked_address"
    policy.check("::1", 6379)  # IP without port: any port
    policy.check("fd00::5", 8443)
    assert fetch_error(lambda: policy.check("fd00::5", 443)).reason == "blocked_address"
    policy.check("192.0.2.7", 1234)
    # Public addresses keep the default port rule.
    assert fetch_error(lambda: policy.check("93.184.216.34", 8080)).reason == "blocked_address"
    assert AddressPolicy.from_string("") == AddressPolicy()


@pytest.mark.parametrize(
    "spec",
    [
        "localhost",
        "127.0.0.1:",
        "127.0.0.1:http",
        "127.0.0.1:70000",
        "10.0.0.0/33",
        "10.0.0.1/8",
        "[::1",
        "[::1]x",
        "[10.0.0.0/8]",
        "1.2.3",
        "::1:8080:zz",
    ],
)
def test_allow_list_garbage_raises(spec: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        AddressPolicy.from_string(spec)


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "127.1", "017700000001", "0177.0.0.1", "127.0.0.1."]
)
def test_resolve_normalises_odd_ip_notations_without_dns(host: str) -> None:
    def no_dns(*args: object) -> list[tuple[Any, ...]]:
        raise AssertionError("resolver must not be asked about an IP literal")

    assert resolve(host, 80, no_dns) == ["127.0.0.1"]


def test_resolve_normalises_what_the_resolver_returns() -> None:
    stub = StubResolver({"odd.test": ["2130706433", "::ffff:7f00:1", "2130706433"]})
    assert resolve("odd.test", 80, stub) == ["127.0.0.1", "::ffff:7f00:1"]


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://017700000001/",
        "http://[::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://169.254.169.254/computeMetadata/v1/",
        "http://0.0.0.0/",
        "http://metadata.test/",
    ],
)
def test_get_refuses_internal_targets_before_connecting(
    url: str, connects: list[tuple[str, int]]
) -> None:
    stub = StubResolver({"metadata.test": ["169.254.169.254"]})
    with HttpClient(config(policy=AddressPolicy()), resolver=stub) as c:
        assert fetch_error(lambda: c.get(url)).reason == "blocked_address"
    assert connects == []


def test_non_web_port_refused_by_default(connects: list[tuple[str, int]]) -> None:
    stub = StubResolver({"public.test": ["93.184.216.34"]})
    with HttpClient(config(policy=AddressPolicy()), resolver=stub) as c:
        err = fetch_error(lambda: c.get("http://public.test:6379/"))
    assert err.reason == "blocked_address"
    assert "6379" in err.message
    assert connects == []


def test_every_resolved_address_is_vetted(connects: list[tuple[str, int]]) -> None:
    stub = StubResolver({"mixed.test": ["93.184.216.34", "10.0.0.1"]})
    with HttpClient(config(policy=AddressPolicy()), resolver=stub) as c:
        assert fetch_error(lambda: c.get("http://mixed.test/")).reason == "blocked_address"
    assert connects == []


def test_dns_error() -> None:
    with HttpClient(config(), resolver=StubResolver({})) as c:
        assert fetch_error(lambda: c.get("http://nowhere.test/")).reason == "dns_error"


# --------------------------------------------------------------------------- redirects


def test_redirect_to_metadata_blocked_at_the_hop(
    server: Callable[..., LocalServer], connects: list[tuple[str, int]]
) -> None:
    srv = server({"/r": redirect_route("http://169.254.169.254/computeMetadata/v1/")})
    stub = StubResolver({"public.test": ["127.0.0.1"]})
    with HttpClient(config(), resolver=stub) as c:
        err = fetch_error(lambda: c.get(srv.url("/r", host="public.test")))
    assert err.reason == "blocked_address"
    assert "169.254.169.254" in err.message
    assert connects == [("127.0.0.1", srv.port)]
    assert srv.seen[0].headers["host"] == f"public.test:{srv.port}"


def test_redirect_to_name_resolving_internal_blocked(
    server: Callable[..., LocalServer], connects: list[tuple[str, int]]
) -> None:
    srv = server({"/r": redirect_route("http://intranet.test/admin")})
    stub = StubResolver({"intranet.test": ["10.0.0.5"]})
    with HttpClient(config(), resolver=stub) as c:
        assert fetch_error(lambda: c.get(srv.url("/r"))).reason == "blocked_address"
    assert stub.calls == ["intranet.test"]
    assert connects == [("127.0.0.1", srv.port)]


def test_relative_redirects_are_followed_and_recorded(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server(
        {
            "/a": redirect_route("/b", 301),
            "/b": redirect_route("c?x=1", 307),
            "/c": body_route(b"final"),
        }
    )
    resp = client.get(srv.url("/a"))
    assert resp.body == b"final"
    assert resp.url == srv.url("/a")
    assert resp.final_url == srv.url("/c?x=1")
    assert resp.redirects == (srv.url("/b"), srv.url("/c?x=1"))


def test_redirect_loop(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({"/a": redirect_route("/b"), "/b": redirect_route("/a")})
    assert fetch_error(lambda: client.get(srv.url("/a"))).reason == "too_many_redirects"
    assert len(srv.seen) == 6  # the first request plus max_redirects=5 hops


def test_redirect_chain_limit(server: Callable[..., LocalServer], client: HttpClient) -> None:
    routes: dict[str, Route] = {f"/{i}": redirect_route(f"/{i + 1}") for i in range(6)}
    routes["/5"] = body_route(b"five hops")
    routes["/6"] = body_route(b"six hops")
    srv = server(routes)
    assert client.get(srv.url("/0")).body == b"five hops"
    routes["/5"] = redirect_route("/6")
    assert fetch_error(lambda: client.get(srv.url("/0"))).reason == "too_many_redirects"


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://127.0.0.1:6379/_INFO",
        "data:text/html,hi",
        "javascript:alert(1)",
    ],
)
def test_redirect_to_non_http_scheme(
    server: Callable[..., LocalServer], client: HttpClient, location: str
) -> None:
    srv = server({"/r": redirect_route(location)})
    assert fetch_error(lambda: client.get(srv.url("/r"))).reason == "bad_scheme"


def test_dns_rebinding_connects_to_the_vetted_ip(
    server: Callable[..., LocalServer], connects: list[tuple[str, int]]
) -> None:
    srv = server({"/": body_route(b"ok")})
    stub = StubResolver({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    with HttpClient(config(), resolver=stub) as c:
        assert c.get(srv.url("/", host="rebind.test")).body == b"ok"
        assert stub.calls == ["rebind.test"]  # resolved once, never again for the connect
        assert connects == [("127.0.0.1", srv.port)]
        assert srv.seen[0].headers["host"] == f"rebind.test:{srv.port}"
        # The next fetch resolves afresh and gets the rebound answer: refused.
        err = fetch_error(lambda: c.get(srv.url("/", host="rebind.test")))
    assert err.reason == "blocked_address"
    assert connects == [("127.0.0.1", srv.port)]


# --------------------------------------------------------------------------- time limits


def test_slowloris_body_times_out_at_the_deadline(raw_server: Callable[..., RawServer]) -> None:
    def drip(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n")
        while not stop.wait(0.1):
            conn.sendall(b"a")

    srv = raw_server(drip)
    with HttpClient(config(timeout_s=1.0, read_timeout_s=0.8)) as c:
        start = time.monotonic()
        err = fetch_error(lambda: c.get(srv.url()))
        elapsed = time.monotonic() - start
    assert err.reason == "timeout"
    assert 0.9 <= elapsed < 1.8


def test_slowloris_headers_time_out_at_the_deadline(raw_server: Callable[..., RawServer]) -> None:
    def drip(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.1):
            conn.sendall(b"X-Slow: 1\r\n")

    srv = raw_server(drip)
    with HttpClient(config(timeout_s=1.0, read_timeout_s=0.8)) as c:
        start = time.monotonic()
        err = fetch_error(lambda: c.get(srv.url()))
        elapsed = time.monotonic() - start
    assert err.reason == "timeout"
    assert 0.9 <= elapsed < 1.8


def test_accept_and_hang_hits_the_read_timeout(raw_server: Callable[..., RawServer]) -> None:
    srv = raw_server(lambda conn, stop: stop.wait(10))
    with HttpClient(config(timeout_s=5.0, read_timeout_s=0.5)) as c:
        start = time.monotonic()
        err = fetch_error(lambda: c.get(srv.url()))
        elapsed = time.monotonic() - start
    assert err.reason == "timeout"
    assert elapsed < 1.5


def test_tls_handshake_hang_hits_the_deadline(raw_server: Callable[..., RawServer]) -> None:
    def drip(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)  # the ClientHello; then a TLS record header, one byte at a time
        for byte in b"\x16\x03\x03\x40\x00":
            if stop.wait(0.3):
                return
            conn.sendall(bytes([byte]))
        stop.wait(10)

    srv = raw_server(drip)
    with HttpClient(config(timeout_s=1.0, connect_timeout_s=3.0, read_timeout_s=3.0)) as c:
        start = time.monotonic()
        err = fetch_error(lambda: c.get(srv.url(scheme="https")))
        elapsed = time.monotonic() - start
    assert err.reason == "timeout"
    assert 0.9 <= elapsed < 1.8


def test_connection_refused(client: HttpClient) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    assert fetch_error(lambda: client.get(f"http://127.0.0.1:{port}/")).reason == (
        "connection_error"
    )


# --------------------------------------------------------------------------- size limits


def test_endless_body_is_cut_at_the_cap(server: Callable[..., LocalServer]) -> None:
    def endless(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, content_length=False)
        block = b"\0" * 65536
        for _ in range(100_000):
            h.wfile.write(block)

    srv = server({"/": endless})
    with HttpClient(config(max_bytes=256 * 1024)) as c:
        start = time.monotonic()
        assert fetch_error(lambda: c.get(srv.url())).reason == "too_large"
        assert time.monotonic() - start < 2


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    return b"".join([comp.compress(block) for _ in range(64)] + [comp.flush()])  # 64 MiB


def test_gzip_bomb_is_stopped_with_bounded_memory(
    server: Callable[..., LocalServer], gzip_bomb: bytes
) -> None:
    srv = server({"/": body_route(gzip_bomb, Content_Encoding="gzip")})
    assert len(gzip_bomb) < 200_000
    with HttpClient(config(max_bytes=1 << 20)) as c:
        tracemalloc.start()
        try:
            err = fetch_error(lambda: c.get(srv.url()))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert err.reason == "too_large"
    assert peak < 8 << 20


def test_gzip_bomb_in_a_second_layer(server: Callable[..., LocalServer], gzip_bomb: bytes) -> None:
    srv = server({"/": body_route(gzip.compress(gzip_bomb), Content_Encoding="gzip, gzip")})
    with HttpClient(config(max_bytes=1 << 20)) as c:
        assert fetch_error(lambda: c.get(srv.url())).reason == "too_large"


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(b"x")))),
        (", ".join(["gzip"] * 1000), b"x"),
        ("br", b"\x0b\x02\x80hello\x03"),
        ("zstd", b"\x28\xb5\x2f\xfd\x00\x00"),
        ("gzip", b"\x1f\x8b\x08\x00garbage that is not deflate"),
        ("gzip", gzip.compress(b"cut short " * 100)[:-20]),
    ],
    ids=["3-stacked", "1000-stacked", "br", "zstd", "corrupt", "truncated-stream"],
)
def test_bad_content_encodings(
    server: Callable[..., LocalServer], client: HttpClient, encoding: str, payload: bytes
) -> None:
    srv = server({"/": body_route(payload, Content_Encoding=encoding)})
    assert fetch_error(lambda: client.get(srv.url())).reason == "decode_error"


def test_content_length_shorter_than_body(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/": lambda h: send(h, 200, b"b" * 10_000, {"Content-Length": "100"})})
    assert client.get(srv.url()).body == b"b" * 100


def test_content_length_longer_than_body_is_truncated(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/": lambda h: send(h, 200, b"b" * 10, {"Content-Length": "1000"})})
    assert fetch_error(lambda: client.get(srv.url())).reason == "truncated"


def test_chunked_body_cut_mid_chunk_is_truncated(
    raw_server: Callable[..., RawServer], client: HttpClient
) -> None:
    def cut(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
            b"64\r\nonly a few bytes"
        )

    srv = raw_server(cut)
    assert fetch_error(lambda: client.get(srv.url())).reason == "truncated"


def test_content_length_over_cap_fails_fast(server: Callable[..., LocalServer]) -> None:
    def huge(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, b"", {"Content-Length": str(100 << 20)})
        time.sleep(3)

    srv = server({"/": huge})
    with HttpClient(config(max_bytes=1 << 20)) as c:
        start = time.monotonic()
        assert fetch_error(lambda: c.get(srv.url())).reason == "too_large"
        assert time.monotonic() - start < 1


# --------------------------------------------------------------------------- responses


def test_bad_content_type_stops_after_headers(server: Callable[..., LocalServer]) -> None:
    def pdf(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, b"", {"Content-Type": "application/pdf", "Content-Length": "1000000"})
        time.sleep(3)
        h.wfile.write(b"%PDF" * 250_000)

    srv = server({"/doc": pdf, "/page": body_route(b"<p>x</p>", Content_Type="TEXT/HTML; q=1")})
    html = config(allowed_content_types=("text/html", "application/xhtml+xml"))
    with HttpClient(html) as c:
        start = time.monotonic()
        assert fetch_error(lambda: c.get(srv.url("/doc"))).reason == "bad_content_type"
        assert time.monotonic() - start < 1
        assert c.get(srv.url("/page")).body == b"<p>x</p>"


def test_missing_content_type_is_refused_when_filtering(
    raw_server: Callable[..., RawServer],
) -> None:
    def bare(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")

    srv = raw_server(bare)
    with HttpClient(config(allowed_content_types=("text/html",))) as c:
        assert fetch_error(lambda: c.get(srv.url())).reason == "bad_content_type"
    with HttpClient(config()) as c:
        assert c.get(srv.url()).body == b"hi"


def test_404_is_an_http_error(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({})
    err = fetch_error(lambda: client.get(srv.url("/missing")))
    assert (err.reason, err.status, err.retry_after) == ("http_error", 404, None)


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(429, "120"), (503, "Wed, 21 Oct 2037 07:28:00 GMT"), (429, "garbage -1")],
)
def test_retry_after_is_captured(
    server: Callable[..., LocalServer], client: HttpClient, status: int, retry_after: str
) -> None:
    srv = server({"/": lambda h: send(h, status, b"slow down", {"Retry-After": retry_after})})
    err = fetch_error(lambda: client.get(srv.url()))
    assert (err.reason, err.status, err.retry_after) == ("http_error", status, retry_after)


def test_fetch_error_pickles() -> None:
    err = FetchError("http_error", "HTTP 429", status=429, retry_after="5")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert (back.reason, back.message, back.status, back.retry_after) == (
        "http_error",
        "HTTP 429",
        429,
        "5",
    )
    assert str(back) == "http_error: HTTP 429"


# --------------------------------------------------------------------------- TLS


@dataclass
class Pki:
    ca_file: Path
    contexts: dict[str, ssl.SSLContext]
    sni: list[str | None]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A private CA, a leaf for news.test signed by it, and a self-signed leaf."""
    tmp = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _cert("newsbeam test CA", ca_key, "newsbeam test CA", ca_key, ca=True)
    ca_file = tmp / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    sni: list[str | None] = []
    contexts: dict[str, ssl.SSLContext] = {}
    for label, issuer, issuer_key in (
        ("signed", "newsbeam test CA", ca_key),
        ("self-signed", "news.test", None),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert("news.test", key, issuer, issuer_key or key, ca=False)
        cert_file, key_file = tmp / f"{label}.crt", tmp / f"{label}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        ctx.sni_callback = lambda sock, name, ctx: sni.append(name)
        contexts[label] = ctx
    return Pki(ca_file, contexts, sni)


def test_https_pins_ip_but_verifies_the_hostname(
    server: Callable[..., LocalServer], pki: Pki, connects: list[tuple[str, int]]
) -> None:
    srv = server({"/": body_route(b"secure")}, tls=pki.contexts["signed"])
    stub = StubResolver({"news.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    pki.sni.clear()
    with HttpClient(config(), resolver=stub, ca_certs=str(pki.ca_file)) as c:
        assert c.get(srv.url("/", host="news.test")).body == b"secure"
        assert pki.sni == ["news.test"]
        assert connects == [("127.0.0.1", srv.port)]
        assert srv.seen[0].headers["host"] == f"news.test:{srv.port}"
        # Same IP, same certificate, but not the name we asked for: refused.
        err = fetch_error(lambda: c.get(srv.url("/", host="other.test")))
    assert err.reason == "tls_error"


def test_self_signed_certificate_is_a_tls_error(
    server: Callable[..., LocalServer], pki: Pki, connects: list[tuple[str, int]]
) -> None:
    srv = server({"/": body_route(b"should never be read")}, tls=pki.contexts["self-signed"])
    stub = StubResolver({"news.test": ["127.0.0.1"]})
    with HttpClient(config(), resolver=stub) as c:  # default (certifi) trust store
        err = fetch_error(lambda: c.get(srv.url("/", host="news.test")))
    assert err.reason == "tls_error"
    assert srv.seen == []
    assert len(connects) == 1  # no second attempt without verification


# --------------------------------------------------------------------------- credentials


def test_userinfo_stripped_and_credentials_never_sent(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/": body_route(b"ok")})
    url = f"http://alice:s3cret@127.0.0.1:{srv.port}/?api_key=k&id=7"
    resp = client.get(
        url,
        extra_headers={
            "Authorization": "Basic eA==",
            "Cookie": "session=1",
            "Proxy-Authorization": "x",
            "Host": "evil.test",
            "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
        },
    )
    sent = srv.seen[0].headers
    for name in ("authorization", "cookie", "proxy-authorization"):
        assert name not in sent
    assert sent["host"] == f"127.0.0.1:{srv.port}"
    assert sent["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert "alice" not in resp.url and "s3cret" not in resp.url
    assert redact_url(resp.url) == f"http://127.0.0.1:{srv.port}/?api_key=REDACTED&id=7"


def test_environment_proxies_and_netrc_are_ignored(
    server: Callable[..., LocalServer],
    client: HttpClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    connects: list[tuple[str, int]],
) -> None:
    srv = server({"/": body_route(b"direct")})
    with socket.create_server(("127.0.0.1", 0)) as s:
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password hunter2\n")
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("NETRC", str(netrc))
    assert client.get(srv.url()).body == b"direct"
    assert connects == [("127.0.0.1", srv.port)]
    assert "authorization" not in srv.seen[0].headers


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://u:p@example.com/a?x=1", "https://example.com/a?x=1"),
        (
            "https://example.com/a?api_key=1&ApiKey=2&key=3&token=4&id=5",
            "https://example.com/a?api_key=REDACTED&ApiKey=REDACTED&key=REDACTED"
            "&token=REDACTED&id=5",
        ),
        (
            "https://example.com/?access_token=a&auth=b&password=c&passwd=d&secret=e",
            "https://example.com/?access_token=REDACTED&auth=REDACTED&password=REDACTED"
            "&passwd=REDACTED&secret=REDACTED",
        ),
        (
            "https://example.com/?signature=a&sig=b&session=c&sessionid=d&sid=e&q=news",
            "https://example.com/?signature=REDACTED&sig=REDACTED&session=REDACTED"
            "&sessionid=REDACTED&sid=REDACTED&q=news",
        ),
        (
            "https://example.com/cb#access_token=x&s=1",
            "https://example.com/cb#access_token=REDACTED&s=1",
        ),
        ("https://example.com/?keyword=a&monkey=b", "https://example.com/?keyword=a&monkey=b"),
        ("http://[::1/?token=x", "http://[::1/?REDACTED"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


# --------------------------------------------------------------------------- bad URLs


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/" + "a" * 2100, "bad_url"),
        ("http:///path", "bad_url"),
        ("//example.com/x", "bad_url"),
        ("not a url", "bad_url"),
        ("http://[::1/", "bad_url"),
        ("http://example.com:99999/", "bad_url"),
        ("http://exa mple.com/", "bad_url"),
        ("http://example.com/\r\nX-Injected: 1", "bad_url"),
        ("file:///etc/passwd", "bad_scheme"),
        ("ftp://example.com/", "bad_scheme"),
        ("javascript:alert(1)", "bad_scheme"),
    ],
)
def test_bad_urls(client: HttpClient, url: str, reason: str) -> None:
    assert fetch_error(lambda: client.get(url)).reason == reason


def test_origin() -> None:
    assert origin("HTTP://User:pw@News.Example:80/a?b") == "http://news.example"
    assert origin("https://news.example:8443/x") == "https://news.example:8443"
    assert origin("https://bücher.example/") == "https://xn--bcher-kva.example"
    assert fetch_error(lambda: origin("mailto:x@y")).reason == "bad_scheme"


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="user_agent"):
        HttpConfig(user_agent="")
    with pytest.raises(ValueError, match="timeout_s"):
        HttpConfig(user_agent=UA, timeout_s=0)
    with pytest.raises(ValueError, match="invalid header"):
        HttpClient(config()).get("http://127.0.0.1/", extra_headers={"X": "a\r\nb"})


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    ("body", "content_type", "text", "codec"),
    [
        # BOM beats the HTTP header and the meta tag.
        (
            b'\xef\xbb\xbf<meta charset="koi8-r">caf\xc3\xa9',
            "text/html; charset=iso-8859-1",
            '<meta charset="koi8-r">café',
            "utf-8",
        ),
        ("\ufeffhé".encode("utf-16-le"), "text/html; charset=utf-8", "hé", "utf-16-le"),
        ("\ufeffhé".encode("utf-16-be"), None, "hé", "utf-16-be"),
        # HTTP charset beats meta.
        (b'<meta charset="utf-8">caf\xe9', 'text/html; charset="windows-1252"', None, "cp1252"),
        # Meta (both forms) and the XML declaration are used when the header has none.
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">'
            + "привет".encode("koi8-r"),
            "text/html",
            None,
            "koi8-r",
        ),
        (b"<meta charset=shift_jis>" + "日本".encode("cp932"), "text/html", None, "cp932"),
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>',
            "application/xml",
            None,
            "cp1252",
        ),
        (b'<meta charset="utf-16"><p>caf\xc3\xa9', None, '<meta charset="utf-16"><p>café', "utf-8"),
        # A stale in-document latin-1 label over bytes that are all valid UTF-8: the
        # bytes win; over real latin-1 bytes, or ASCII only, the label stands.
        (
            b'<meta charset="iso-8859-1"><p>f\xc3\xbcr',
            None,
            '<meta charset="iso-8859-1"><p>für',
            "utf-8",
        ),
        (b'<meta charset="iso-8859-1"><p>f\xfcr', None, None, "cp1252"),
        (b'<meta charset="iso-8859-1"><p>fuer', None, None, "cp1252"),
        (b"f\xc3\xbcr", "text/html; charset=iso-8859-1", "fÃ¼r", "cp1252"),
        # Unknown or unwanted labels fall through to detection.
        ("café".encode(), "text/html; charset=x-foo", "café", "utf-8"),
        (b"+ADw-script+AD4-", "text/html; charset=utf-7", "+ADw-script+AD4-", "utf-8"),
        (b"caf\xe9", "text/html; charset=rot13", "café", "cp1252"),
        (b"abc", "text/html; charset=zlib", "abc", "utf-8"),
        # No label: UTF-8 if valid, else cp1252 with replacement.
        ("naïve".encode(), None, "naïve", "utf-8"),
        (b"bad \x81\x8d utf8 \xc3", "", "bad \ufffd\ufffd utf8 Ã", "cp1252"),
        (b"nul\x00byte", None, "nul\x00byte", "utf-8"),
        (b"", None, "", "utf-8"),
    ],
)
def test_decode_body_precedence(
    body: bytes, content_type: str | None, text: str | None, codec: str
) -> None:
    got_text, got_codec = decode_body(body, content_type)
    assert got_codec == codec
    if text is not None:
        assert got_text == text
    else:
        assert got_text == body.decode(codec)


def test_decode_body_never_raises() -> None:
    rng = random.Random(7)
    labels = [None, "", "text/html; charset=", "text/html; charset=utf-16", "charset=big5"]
    labels += ["text/html; charset=iso-2022-jp", "charset=\x00\xff", "charset=" + "x" * 500]
    for _ in range(300):
        body = rng.randbytes(rng.randrange(0, 300))
        if rng.random() < 0.3:
            body = b'<meta charset="' + rng.choice([b"utf-8", b"gb18030", b"bogus"]) + b'">' + body
        text, codec = decode_body(body, rng.choice(labels))
        assert isinstance(text, str)
        assert codec


@pytest.mark.parametrize(
    ("body", "compressed"),
    [
        (gzip.compress(b"<html></html>"), True),
        (zlib.compress(b"<html></html>"), True),
        (b"\x28\xb5\x2f\xfd\x04\x00", True),  # zstd
        (b"BZh91AY&SY", True),
        (b"\xfd7zXZ\x00\x00", True),
        (random.Random(1).randbytes(512), True),  # brotli-like: no magic, binary noise
        (b"<!doctype html><html><body>news</body></html>", False),
        ("<p>Новости дня — 日本語のニュース</p>".encode(), False),
        (b"x marks the spot", False),
        (b"", False),
    ],
)
def test_sniff_compressed(body: bytes, compressed: bool) -> None:
    assert sniff_compressed(body) is compressed
    if compressed:
        assert fetch_error(lambda: ensure_not_compressed(body)).reason == "bad_content_type"
    else:
        ensure_not_compressed(body)


def test_compressed_payload_served_as_html_passes_through_raw(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    """Row 8: the client does not second-guess; the caller sniffs and rejects."""
    payload = gzip.compress(b"\0" * 1_000_000)
    srv = server({"/": body_route(payload)})
    body = client.get(srv.url()).body
    assert body == payload
    assert sniff_compressed(body)
