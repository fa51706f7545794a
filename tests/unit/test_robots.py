"""robots.txt semantics (RFC 9309; research catalogue row 40) against loopback servers."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.loopback import (
    LocalServer,
    StubResolver,
    body_route,
    config,
    redirect_route,
    send,
)
from transforms.core.http import HttpClient
from transforms.core.robots import (
    REASON_ALLOWED,
    REASON_BAD_URL,
    REASON_DISALLOWED,
    REASON_UNAVAILABLE,
    REASON_UNREACHABLE,
    RobotsCache,
)

ROBOTS = b"""\
User-agent: *
Disallow: /private

User-agent: newsbeam
Disallow: /nb-only
Allow: /nb-only/open
Crawl-delay: 2.5

User-agent: otherbot
Disallow: /
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client() -> Iterator[HttpClient]:
    c = HttpClient(config())
    yield c
    c.close()


def robots_hits(srv: LocalServer) -> int:
    return sum(1 for s in srv.seen if s.path == "/robots.txt")


def test_rules_for_our_token(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({"/robots.txt": body_route(ROBOTS, Content_Type="text/plain")})
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(srv.url("/news/1")) == (True, REASON_ALLOWED)
    assert robots.allowed_with_reason(srv.url("/nb-only/x")) == (False, REASON_DISALLOWED)
    assert robots.allowed(srv.url("/nb-only/open/y"))
    # Only the most specific group applies (RFC 9309 §2.2.1): "*" rules do not bind us.
    assert robots.allowed(srv.url("/private"))
    assert robots.crawl_delay(srv.url("/anything")) == 2.5
    assert robots.allowed(srv.url("/robots.txt"))
    assert srv.seen[0].headers["user-agent"] == client.config.user_agent
    detail = robots.detail(srv.url("/"))
    assert detail is not None and detail.startswith("parsed")


def test_star_group_when_no_group_names_us(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/robots.txt": body_route(b"User-agent: *\nDisallow: /private\n")})
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(srv.url("/private/a")) == (False, REASON_DISALLOWED)
    assert robots.allowed(srv.url("/public"))
    assert robots.crawl_delay(srv.url("/public")) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_4xx_allows_everything(
    server: Callable[..., LocalServer], client: HttpClient, status: int
) -> None:
    srv = server({"/robots.txt": lambda h: send(h, status, b"User-agent: *\nDisallow: /\n")})
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(srv.url("/a")) == (True, REASON_UNAVAILABLE)
    assert robots.crawl_delay(srv.url("/a")) is None


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_5xx_and_429_disallow_everything(
    server: Callable[..., LocalServer], client: HttpClient, status: int
) -> None:
    srv = server({"/robots.txt": lambda h: send(h, status, b"", {"Retry-After": "60"})})
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(srv.url("/a")) == (False, REASON_UNREACHABLE)
    assert not robots.allowed(srv.url("/"))


def test_timeout_disallows(server: Callable[..., LocalServer], client: HttpClient) -> None:
    def hang(h: BaseHTTPRequestHandler) -> None:
        time.sleep(2)
        send(h, 200, b"")

    srv = server({"/robots.txt": hang})
    robots = RobotsCache(client, fetch_timeout_s=0.4)
    start = time.monotonic()
    assert robots.allowed_with_reason(srv.url("/a")) == (False, REASON_UNREACHABLE)
    assert time.monotonic() - start < 1.5
    detail = robots.detail(srv.url("/"))
    assert detail is not None and detail.startswith("timeout")


def test_network_error_disallows(client: HttpClient) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(f"http://127.0.0.1:{port}/a") == (False, REASON_UNREACHABLE)


def test_blocked_address_disallows() -> None:
    stub = StubResolver({"intranet.test": ["10.0.0.8"]})
    with HttpClient(config(), resolver=stub) as c:
        robots = RobotsCache(c)
        # The fetcher's own refusal is the precise reason (the article would be refused too).
        assert robots.allowed_with_reason("http://intranet.test/a") == (False, "blocked_address")
        detail = robots.detail("http://intranet.test/")
    assert detail is not None and detail.startswith("blocked_address")


def test_large_file_is_parsed_only_up_to_the_cap(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    filler = b"".join(
        b"# padding line %08d ........................................\n" % i for i in range(12_000)
    )
    body = b"User-agent: *\nDisallow: /early\n" + filler + b"Disallow: /late\n"
    assert len(body) > 600 * 1024
    srv = server({"/robots.txt": body_route(body, Content_Type="text/plain")})
    robots = RobotsCache(client)
    assert not robots.allowed(srv.url("/early"))
    assert robots.allowed(srv.url("/late"))  # beyond 512 KiB: never seen
    detail = robots.detail(srv.url("/"))
    assert detail is not None and "truncated" in detail


def test_gzip_robots_capped_on_decompressed_size(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    import gzip

    body = b"User-agent: *\nDisallow: /early\n" + b"#" * (2 << 20) + b"\nDisallow: /late\n"
    srv = server({"/robots.txt": body_route(gzip.compress(body), Content_Encoding="gzip")})
    robots = RobotsCache(client)
    assert not robots.allowed(srv.url("/early"))
    assert robots.allowed(srv.url("/late"))


def test_non_utf8_bytes_are_decoded_leniently(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    body = b"\xef\xbb\xbfUser-agent: *\n# caf\xe9 \xff\xfe\nDisallow: /priv\xe9\nDisallow: /x\n"
    srv = server({"/robots.txt": body_route(body)})
    robots = RobotsCache(client)
    assert not robots.allowed(srv.url("/x/1"))
    assert robots.allowed(srv.url("/y"))


def test_one_fetch_per_origin_then_cache_hits(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/robots.txt": body_route(ROBOTS)})
    other = server({"/robots.txt": body_route(b"User-agent: *\nDisallow: /\n")})
    clock = FakeClock()
    robots = RobotsCache(client, clock=clock)
    for i in range(50):
        robots.allowed(srv.url(f"/news/{i}"))
        robots.crawl_delay(srv.url(f"/news/{i}?page=2"))
    assert robots_hits(srv) == 1
    assert not robots.allowed(other.url("/news/1"))  # a different origin (port): own fetch
    assert robots_hits(other) == 1
    clock.now += 86400 - 1
    robots.allowed(srv.url("/news/x"))
    assert robots_hits(srv) == 1
    clock.now += 2  # past 24 h: fetched again
    robots.allowed(srv.url("/news/x"))
    assert robots_hits(srv) == 2


def test_ttl_is_capped_at_24_hours(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({"/robots.txt": body_route(ROBOTS)})
    clock = FakeClock()
    robots = RobotsCache(client, ttl_s=7 * 86400, clock=clock)
    robots.allowed(srv.url("/a"))
    clock.now += 86400 + 1
    robots.allowed(srv.url("/a"))
    assert robots_hits(srv) == 2


def test_failures_are_cached_briefly(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    state = {"status": 503}
    srv = server({"/robots.txt": lambda h: send(h, state["status"], ROBOTS)})
    clock = FakeClock()
    robots = RobotsCache(client, clock=clock)
    assert robots.allowed_with_reason(srv.url("/news")) == (False, REASON_UNREACHABLE)
    clock.now += 599
    assert not robots.allowed(srv.url("/news"))
    assert robots_hits(srv) == 1
    state["status"] = 200
    clock.now += 2  # past the 10-minute failure TTL
    assert robots.allowed_with_reason(srv.url("/news")) == (True, REASON_ALLOWED)
    assert robots_hits(srv) == 2


def test_concurrent_callers_share_one_fetch(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(0.2)
        send(h, 200, ROBOTS)

    srv = server({"/robots.txt": slow})
    robots = RobotsCache(client)
    answers: list[bool] = []
    threads = [
        threading.Thread(target=lambda i=i: answers.append(robots.allowed(srv.url(f"/{i}"))))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [True] * 8
    assert robots_hits(srv) == 1


def test_redirects_are_followed_and_applied_to_the_original_origin(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    target = server({"/real-robots.txt": body_route(b"User-agent: *\nDisallow: /secret\n")})
    srv = server({"/robots.txt": redirect_route(target.url("/real-robots.txt"), 301)})
    robots = RobotsCache(client)
    assert not robots.allowed(srv.url("/secret/1"))
    assert robots.allowed(srv.url("/public"))
    assert robots_hits(target) == 0


def test_redirect_loop_disallows(server: Callable[..., LocalServer], client: HttpClient) -> None:
    srv = server({"/robots.txt": redirect_route("/r2"), "/r2": redirect_route("/robots.txt")})
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(srv.url("/a")) == (False, REASON_UNREACHABLE)


def test_robots_fetch_uses_its_own_limits(client: HttpClient) -> None:
    html_only = HttpClient(config(allowed_content_types=("text/html",), timeout_s=30))
    cfg = RobotsCache(html_only).fetch_config
    assert cfg.timeout_s == 10.0
    assert cfg.max_bytes == 512 * 1024
    assert cfg.max_redirects == 5
    assert cfg.allowed_content_types is None
    assert cfg.user_agent == html_only.config.user_agent
    assert cfg.policy == html_only.config.policy


@pytest.mark.parametrize("url", ["mailto:a@b.example", "ftp://example.com/", "http:///x", "junk"])
def test_unfetchable_urls(client: HttpClient, url: str) -> None:
    robots = RobotsCache(client)
    assert robots.allowed_with_reason(url) == (False, REASON_BAD_URL)
    assert robots.crawl_delay(url) is None


@pytest.mark.parametrize("token", ["", "news beam", "newsbeam/1.0", "bot*"])
def test_bad_product_token(client: HttpClient, token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        RobotsCache(client, user_agent_token=token)


def test_cache_pickles_without_its_entries(
    server: Callable[..., LocalServer], client: HttpClient
) -> None:
    srv = server({"/robots.txt": body_route(ROBOTS)})
    robots = RobotsCache(client)
    assert not robots.allowed(srv.url("/nb-only/1"))
    copy = pickle.loads(pickle.dumps(robots))  # noqa: S301 - our own bytes
    assert copy.detail(srv.url("/")) is None  # starts empty
    assert not copy.allowed(srv.url("/nb-only/1"))
    assert robots_hits(srv) == 2
