"""Catalogue rows 1-21: the fetcher against a hostile server on loopback.

Each test is named after its row in ../shared/research/hazards-and-guarantees.md (b) and
asserts the safe behaviour that row asks for, through the same client and helpers the
pipeline's fetch stages use.
"""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import http_config
from tests.hostile.server import (
    HostileServer,
    drip,
    endless,
    gzip_bomb,
    hang,
    lying_length,
    redirect,
    respond,
    self_signed_context,
    timed,
)
from tests.loopback import StubResolver
from transforms.core.http import FetchError, HttpClient, decode_body, ensure_not_compressed
from transforms.core.sanitize import safe_message, safe_url

MakeClient = Callable[..., HttpClient]
PAGE = b"<html><body><p>fine</p></body></html>"


def failure(client: HttpClient, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        client.get(url)
    return info.value


def test_row01_slowloris_body_stops_at_the_deadline(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 1: a body dripped one byte per (read timeout - x) is cut at the deadline."""
    url = hostile.route("/drip", drip(0.2))
    client = make_client(http_config(hostile, timeout_s=1.0, read_timeout_s=0.5))
    with timed() as elapsed:
        err = failure(client, url)
    assert err.reason == "timeout"
    assert 0.9 <= elapsed[0] < 2.0


def test_row01_slowloris_headers_stop_at_the_deadline(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 1: the same, with the drip already in the status line and headers."""
    url = hostile.route("/drip", drip(0.2, in_headers=True))
    client = make_client(http_config(hostile, timeout_s=1.0, read_timeout_s=0.5))
    with timed() as elapsed:
        err = failure(client, url)
    assert err.reason == "timeout"
    assert elapsed[0] < 2.0


def test_row02_accept_and_hang_times_out(hostile: HostileServer, make_client: MakeClient) -> None:
    """Row 2: the connection is accepted but no status line ever comes."""
    url = hostile.route("/hang", hang())
    client = make_client(http_config(hostile, timeout_s=1.0, read_timeout_s=0.5))
    with timed() as elapsed:
        err = failure(client, url)
    assert err.reason == "timeout"
    assert elapsed[0] < 1.5


def test_row03_endless_body_is_cut_at_the_byte_cap(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 3: a chunked body that never ends stops at max_bytes with too_large."""
    url = hostile.route("/endless", endless())
    client = make_client(http_config(hostile, max_bytes=256 * 1024))
    assert failure(client, url).reason == "too_large"


def test_row04_content_length_longer_than_body_is_truncated(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 4: a body that ends before its declared length is a failure, not content."""
    url = hostile.route("/short", lying_length(50_000, b"<p>only this</p>"))
    assert failure(make_client(http_config(hostile)), url).reason == "truncated"


def test_row04_content_length_shorter_than_body_reads_only_what_was_declared(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 4: bytes beyond the declared length are never read into the body."""
    url = hostile.route("/long", lying_length(5, b"hello" + b"x" * 2_000_000))
    assert make_client(http_config(hostile)).get(url).body == b"hello"


def test_row04_declared_length_over_the_cap_fails_before_the_body(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 4: a Content-Length above the cap fails fast (nothing is downloaded)."""
    url = hostile.route("/huge", lying_length(10 * 1024**3, b""))
    assert failure(make_client(http_config(hostile)), url).reason == "too_large"


def test_row05_gzip_bomb_is_stopped_with_bounded_memory(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 5: 200 MiB of zeros in 200 KB of gzip stops at the cap; memory stays small."""
    bomb = gzip_bomb(200)
    url = hostile.route("/bomb", respond(body=bomb, headers={"Content-Encoding": "gzip"}))
    client = make_client(http_config(hostile))
    tracemalloc.start()
    try:
        err = failure(client, url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.reason == "too_large"
    assert peak < 16 * 1024 * 1024


def test_row06_brotli_and_zstd_are_neither_advertised_nor_decoded(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 6: we only ask for gzip/deflate; a br/zstd body sent anyway is refused."""
    client = make_client(http_config(hostile))
    for coding in ("br", "zstd"):
        url = hostile.route(
            f"/{coding}", respond(body=b"\x1b" * 4096, headers={"Content-Encoding": coding})
        )
        assert failure(client, url).reason == "decode_error"
    assert {r.headers["accept-encoding"] for r in hostile.requests} == {"gzip, deflate"}


def test_row07_stacked_encodings_are_refused(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 7: Content-Encoding "gzip, gzip, ..." x1000 is refused before decoding."""
    url = hostile.route(
        "/stacked",
        respond(body=gzip.compress(b"x"), headers={"Content-Encoding": ", ".join(["gzip"] * 1000)}),
    )
    assert failure(make_client(http_config(hostile)), url).reason == "decode_error"


def test_row08_compressed_bytes_served_as_html_never_reach_a_parser(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 8: gzip served as text/html without Content-Encoding is passed through raw
    by the client (never decompressed) and refused by the check every fetch stage runs."""
    payload = gzip.compress(b"\0" * 10_000_000)
    url = hostile.route("/raw-gzip", respond(body=payload))
    response = make_client(http_config(hostile)).get(url)
    assert response.body == payload
    with pytest.raises(FetchError) as info:
        ensure_not_compressed(response.body)
    assert info.value.reason == "bad_content_type"


def test_row09_redirect_loop_and_long_chain(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 9: A->B->A and a 10-hop chain both end with too_many_redirects after 5 hops."""
    hostile.route("/a", redirect("/b"))
    loop = hostile.route("/b", redirect("/a"))
    for i in range(10):
        hostile.route(f"/hop{i}", redirect(f"/hop{i + 1}"))
    client = make_client(http_config(hostile))
    assert failure(client, loop).reason == "too_many_redirects"
    assert failure(client, hostile.url("/hop0")).reason == "too_many_redirects"
    assert sum(hostile.hits[f"/hop{i}"] for i in range(10)) == 6  # the first + 5 redirects


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/", "javascript:alert(1)"],
)
def test_row10_redirect_to_a_non_http_scheme_is_refused(
    hostile: HostileServer, make_client: MakeClient, location: str
) -> None:
    """Row 10: only http and https, on every hop."""
    url = hostile.route("/r", redirect(location))
    assert failure(make_client(http_config(hostile)), url).reason in ("bad_scheme", "bad_url")


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/computeMetadata/v1/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://100.64.0.1/",
    ],
)
def test_row11_redirect_from_public_to_internal_is_blocked_at_the_hop(
    hostile: HostileServer, make_client: MakeClient, target: str
) -> None:
    """Row 11: the guard checks every hop against the resolved address."""
    stub = StubResolver(
        {"public.test": ["127.0.0.1"], "metadata.google.internal": ["169.254.169.254"]}
    )
    url = hostile.route("/r", redirect(target), host="public.test")
    err = failure(make_client(http_config(hostile), stub), url)
    assert err.reason == "blocked_address"


def test_row11_redirect_to_another_loopback_port_never_connects(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 11: the canary behind the blocked hop sees no connection at all."""
    canary = HostileServer()
    try:
        url = hostile.route("/r", redirect(canary.url("/secret")))
        err = failure(make_client(http_config(hostile)), url)
        assert err.reason == "blocked_address"
        assert canary.connections == 0
    finally:
        canary.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://metadata.google.internal/",
        "http://metadata/",
        "http://0.0.0.0/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://[::]/",
        "http://[::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:7f00:1]/",
        "http://[2002:a9fe:a9fe::]/",  # 6to4 around 169.254.169.254
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
        "http://localhost./",
        "http://foo.localhost/",
        "http://100.100.100.200/",  # CGNAT (Alibaba's metadata address)
        "http://[fe80::1]/",
        "http://192.168.1.1/",
    ],
)
def test_row12_internal_targets_in_odd_notations_are_blocked(
    make_client: MakeClient, url: str
) -> None:
    """Row 12: decided on the resolved IP, whatever the spelling; nothing is dialled."""
    internal = {
        "metadata.google.internal": ["169.254.169.254"],
        "metadata": ["169.254.169.254"],
        "localhost.": ["127.0.0.1"],
        "localhost": ["127.0.0.1"],
        "foo.localhost": ["::1"],
    }
    stub = StubResolver(internal)
    err = failure(make_client(http_config(), stub), url)
    assert err.reason == "blocked_address", err
    assert all(name in internal for name in stub.calls)  # IP literals never hit DNS


def test_row13_dns_rebinding_cannot_swap_the_target(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 13: one lookup per hop; the connection goes to the vetted address."""
    url = hostile.route("/page", respond(body=PAGE), host="rebind.test")
    stub = StubResolver({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    response = make_client(http_config(hostile), stub).get(url)
    assert response.body == PAGE
    assert stub.calls == ["rebind.test"]
    assert hostile.requests[0].headers["host"] == f"rebind.test:{hostile.port}"


@pytest.mark.parametrize("port", [22, 25, 6379, 9200, 10250])
def test_row14_non_web_ports_are_refused_before_connecting(
    make_client: MakeClient, port: int
) -> None:
    """Row 14: a public address on a non-web port is refused (80/443 only by default)."""
    stub = StubResolver({"public.test": ["93.184.215.14"]})
    err = failure(make_client(http_config(), stub), f"http://public.test:{port}/")
    assert err.reason == "blocked_address"
    assert f"port {port}" in err.message


def test_row14_a_listener_on_a_port_not_allow_listed_sees_nothing(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 14: allow-listing one loopback port does not open the others."""
    other = HostileServer()
    try:
        err = failure(make_client(http_config(hostile)), other.url("/"))
        assert err.reason == "blocked_address"
        assert other.connections == 0
    finally:
        other.close()


def test_row15_credentials_in_urls_are_never_sent_stored_or_logged(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 15: userinfo is stripped before sending; stored URLs and error texts redact
    userinfo and secret query values."""
    hostile.route("/page", respond(body=PAGE))
    url = f"http://alice:s3cret@127.0.0.1:{hostile.port}/page?api_key=K3Y&id=7"
    response = make_client(http_config(hostile)).get(url)
    sent = hostile.requests[0].headers
    assert "authorization" not in sent and "cookie" not in sent
    assert "s3cret" not in response.url
    stored = safe_url(url)
    assert stored == f"http://127.0.0.1:{hostile.port}/page?api_key=REDACTED&id=7"
    message = safe_message(f"extraction failed on {url}: boom")
    assert "s3cret" not in message and "K3Y" not in message and "alice" not in message


def test_row16_environment_proxies_and_netrc_are_ignored(
    hostile: HostileServer,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Row 16: HTTP_PROXY/.netrc on the worker change nothing: direct, no Authorization."""
    proxy = HostileServer()
    try:
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login bob password hunter2\n")
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url("/"))
        monkeypatch.setenv("NETRC", str(netrc))
        monkeypatch.setenv("NO_PROXY", "")
        url = hostile.route("/page", respond(body=PAGE))
        assert make_client(http_config(hostile)).get(url).body == PAGE
        assert proxy.connections == 0
        assert "authorization" not in hostile.requests[0].headers
    finally:
        proxy.close()


def test_row17_bad_tls_fails_closed_without_a_second_try(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """Row 17: a self-signed certificate is tls_error; no retry without verification."""
    server = HostileServer(tls=self_signed_context(tmp_path))
    try:
        url = server.route("/page", respond(body=PAGE), host="news.test")
        stub = StubResolver({"news.test": ["127.0.0.1"]})
        err = failure(make_client(http_config(server), stub), url)
        assert err.reason == "tls_error"
        assert server.connections == 1
        assert server.requests == []
    finally:
        server.close()


def test_row18_non_html_content_is_stopped_after_the_headers(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 18: an endless application/pdf body is refused on its headers, not its size."""
    url = hostile.route("/pdf", endless(b"%PDF-1.7" * 8192, **{"Content-Type": "application/pdf"}))
    client = make_client(http_config(hostile, allowed_content_types=("text/html",)))
    with timed() as elapsed:
        err = failure(client, url)
    assert err.reason == "bad_content_type"
    assert elapsed[0] < 1.0


@pytest.mark.parametrize(
    ("content_type", "body", "text", "codec"),
    [
        # HTTP says Latin-1, body is UTF-8: the header wins, deterministically.
        ("text/html; charset=iso-8859-1", "café".encode(), "cafÃ©", "cp1252"),
        # A BOM beats the header.
        ("text/html; charset=iso-8859-1", b"\xef\xbb\xbf" + "café".encode(), "café", "utf-8"),
        # The meta tag decides when the header says nothing.
        (
            "text/html",
            '<meta charset="koi8-r">мир'.encode("koi8-r"),
            '<meta charset="koi8-r">мир',
            "koi8-r",
        ),
    ],
)
def test_row19_charset_conflicts_resolve_deterministically(
    hostile: HostileServer,
    make_client: MakeClient,
    content_type: str,
    body: bytes,
    text: str,
    codec: str,
) -> None:
    """Row 19: BOM > HTTP charset > meta/prolog > UTF-8 > cp1252; never an exception."""
    url = hostile.route("/page", respond(body=body, content_type=content_type))
    response = make_client(http_config(hostile)).get(url)
    assert decode_body(response.body, response.headers["content-type"]) == (text, codec)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=x-foo",
        "text/html; charset=utf-7",
        "text/html; charset=rot13",
        "text/html",
    ],
)
def test_row20_unknown_charsets_and_invalid_bytes_never_crash(
    hostile: HostileServer, make_client: MakeClient, content_type: str
) -> None:
    """Row 20: bogus labels are skipped (UTF-7 included), invalid bytes become U+FFFD."""
    body = b"<p>ok \xff\xfe\xc3 +ADw-script+AD4- \x00 end</p>"
    url = hostile.route("/page", respond(body=body, content_type=content_type))
    response = make_client(http_config(hostile)).get(url)
    text, codec = decode_body(response.body, response.headers["content-type"])
    assert codec == "cp1252"
    assert "+ADw-script+AD4-" in text  # UTF-7 was not applied
    assert text.endswith("end</p>")


@pytest.mark.parametrize(
    "retry_after", ["120", "Wed, 21 Oct 2015 07:28:00 GMT", "315360000", "-5", "soon"]
)
def test_row21_429_with_retry_after_is_reported_not_retried(
    hostile: HostileServer, make_client: MakeClient, retry_after: str
) -> None:
    """Row 21: a 429 is an http_error with its status and raw Retry-After for the
    scheduler to clamp; the client itself never retries in a loop."""
    url = hostile.route("/busy", respond(429, headers={"Retry-After": retry_after}))
    err = failure(make_client(http_config(hostile)), url)
    assert (err.reason, err.status, err.retry_after) == ("http_error", 429, retry_after)
    assert hostile.hits["/busy"] == 1
