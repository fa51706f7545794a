"""Catalogue rows 22-30: hostile feed documents, fetched from the hostile server and
parsed the way ReadFeeds parses them."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import http_config
from tests.hostile.server import HostileServer, respond
from transforms.core import urls
from transforms.core.feeds import (
    MAX_ENTRIES_PER_FEED,
    MAX_LINE_CHARS,
    FeedListError,
    FeedParseError,
    ParsedFeed,
    load_feed_list,
    parse_feed,
)
from transforms.core.http import FetchError, HttpClient

MakeClient = Callable[..., HttpClient]
RSS = "application/rss+xml"


def fetch_and_parse(hostile: HostileServer, make_client: MakeClient, body: bytes) -> ParsedFeed:
    url = hostile.route("/feed.xml", respond(body=body, content_type=RSS))
    response = make_client(http_config(hostile)).get(url)
    return parse_feed(response.body, url=url, content_type=RSS)


def parse_error(hostile: HostileServer, make_client: MakeClient, body: bytes) -> str:
    with pytest.raises(FeedParseError) as info:
        fetch_and_parse(hostile, make_client, body)
    return info.value.reason


def rss(items: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{prolog}<rss version="2.0"><channel><title>T</title>'
        f"<link>https://news.example/</link>{items}</channel></rss>"
    ).encode()


def test_row22_huge_feed_is_capped_in_bytes_and_entries(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 22: a 100k-item feed: the byte cap refuses it whole, or, under the cap, only
    the first MAX_ENTRIES_PER_FEED entries are kept and the rest counted."""
    items = "".join(f"<item><link>https://news.example/{i}</link></item>" for i in range(100_000))
    body = rss(items)
    url = hostile.route("/big.xml", respond(body=body, content_type=RSS))
    with pytest.raises(FetchError) as info:
        make_client(http_config(hostile, max_bytes=1024 * 1024)).get(url)
    assert info.value.reason == "too_large"
    parsed = parse_feed(body[: 2 * 1024 * 1024] + b"</channel></rss>", url=url, content_type=RSS)
    assert len(parsed.entries) == MAX_ENTRIES_PER_FEED
    assert parsed.truncated > 0


def test_row23_billion_laughs_is_refused_without_expansion(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 23: the nine-level lol payload: feed_parse_error, memory flat."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    body = rss("<item><title>&lol9;</title></item>", f"<!DOCTYPE rss [{''.join(levels)}]>")
    tracemalloc.start()
    try:
        reason = parse_error(hostile, make_client, body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reason == "feed_parse_error"
    assert peak < 16 * 1024 * 1024


def test_row24_quadratic_blowup_is_refused_before_parsing(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 24: a 100 KB "safe" entity used 1000 times never reaches feedparser's loose
    parser (which would re-expand it without a limit)."""
    big = "A" * 100_000
    body = rss(
        "<item><title>" + "&big;" * 1000 + "</title></item>",
        f'<!DOCTYPE rss [<!ENTITY big "{big}">]>',
    )
    started = time.monotonic()
    assert parse_error(hostile, make_client, body) == "feed_parse_error"
    assert time.monotonic() - started < 2.0


def test_row25_xxe_is_neither_expanded_nor_fetched(
    hostile: HostileServer, make_client: MakeClient, tmp_path: Path
) -> None:
    """Row 25: SYSTEM entities pointing at a file and at a canary URL: refused, the
    canary sees no request, the file's content appears nowhere. Same for OPML lists."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    canary = hostile.url("/canary")
    prolog = (
        f'<!DOCTYPE rss [<!ENTITY file SYSTEM "file://{secret}"><!ENTITY net SYSTEM "{canary}">]>'
    )
    body = rss("<item><title>&file;&net;</title><link>https://n.example/1</link></item>", prolog)
    assert parse_error(hostile, make_client, body) == "feed_parse_error"
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY file SYSTEM "file://{secret}">'
        f'<!ENTITY net SYSTEM "{canary}">]><opml version="2.0"><body>'
        '<outline text="&file;&net;" xmlUrl="https://n.example/rss"/></body></opml>'
    )
    try:
        sources = load_feed_list(opml)
    except FeedListError:
        sources = []
    assert all("TOP-SECRET" not in (s.name or "") for s in sources)
    assert hostile.hits["/canary"] == 0


def test_row26_external_dtd_is_not_fetched(hostile: HostileServer, make_client: MakeClient) -> None:
    """Row 26: <!DOCTYPE rss SYSTEM "http://127.0.0.1:PORT/x.dtd">: the feed is read,
    the DTD never requested."""
    hostile.route("/x.dtd", respond(body=b'<!ENTITY t "pwned">', content_type="text/plain"))
    body = rss(
        "<item><title>Real title</title><link>https://n.example/1</link></item>",
        f'<!DOCTYPE rss SYSTEM "{hostile.url("/x.dtd")}">',
    )
    parsed = fetch_and_parse(hostile, make_client, body)
    assert [e.title for e in parsed.entries] == ["Real title"]
    assert hostile.hits["/x.dtd"] == 0


def test_row27_malformed_xml_still_yields_entries_and_junk_is_a_parse_error(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 27: wrongly nested tags: bozo, entries still read by the loose parser; a
    document with no feed in it is feed_parse_error, never an exception."""
    broken = rss(
        "<item><title>One</title><link>https://n.example/1</link></item>"
        "<item><title>Two<b></title><link>https://n.example/2</link></item>"
    )
    parsed = fetch_and_parse(hostile, make_client, broken)
    assert parsed.bozo
    assert any(e.link == "https://n.example/2" for e in parsed.entries)
    assert parse_error(hostile, make_client, b"<html><body>not a feed</body></html>") == (
        "feed_parse_error"
    )


def test_row28_hostile_item_fields_are_refused_resolved_or_capped(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 28: javascript:/data: links refused, relative links resolved against the
    feed, over-long URLs refused, a 1 MB title capped, missing GUIDs tolerated."""
    long_url = "https://n.example/" + "a" * 3000
    body = rss(
        "<item><title>js</title><link>javascript:alert(1)</link></item>"
        "<item><title>data</title><link>data:text/html,x</link></item>"
        "<item><title>rel</title><link>/2026/story</link></item>"
        f"<item><title>long</title><link>{long_url}</link></item>"
        f"<item><title>{'T' * 1_000_000}</title><link>https://n.example/big</link></item>"
    )
    parsed = fetch_and_parse(hostile, make_client, body)
    by_title = {(e.title or "")[:4]: e for e in parsed.entries}
    for bad in ("js", "data"):
        with pytest.raises(urls.InvalidUrlError):
            urls.resolve_link(by_title[bad].link, "https://n.example/feed")
    # Resolved against the feed's own URL (feedparser sees it as Content-Location).
    assert urls.resolve_link(by_title["rel"].link, None) == hostile.url("/2026/story")
    with pytest.raises(urls.InvalidUrlError):
        urls.canonicalize(urls.resolve_link(by_title["long"].link, None))
    big = by_title["TTTT"]
    assert big.title is not None and len(big.title) == MAX_LINE_CHARS
    assert all(e.guid is None for e in parsed.entries)


def test_row29_script_in_summaries_becomes_text_only_and_is_decoded_once(
    hostile: HostileServer, make_client: MakeClient
) -> None:
    """Row 29: markup and scripts are dropped, entities decoded exactly once: a summary
    that says "&lt;script&gt;" in text keeps those characters as text."""
    summary = (
        "&lt;p&gt;Hello&lt;script&gt;alert(1)&lt;/script&gt;"
        '&lt;img src=x onerror="alert(2)"&gt;&lt;/p&gt;'
        "&lt;p&gt;AT&amp;amp;amp;T says &amp;amp;lt;b&amp;amp;gt; is bold&lt;/p&gt;"
    )
    body = rss(
        f"<item><title>x</title><link>https://n.example/1</link>"
        f"<description>{summary}</description></item>"
    )
    parsed = fetch_and_parse(hostile, make_client, body)
    assert parsed.entries[0].summary == "Hello\n\nAT&amp;T says &lt;b&gt; is bold"


@pytest.mark.parametrize("body", [b"/etc/passwd", b"file:///etc/passwd", b"http://127.0.0.1/"])
def test_row30_feedparser_never_receives_a_path_or_url(body: bytes) -> None:
    """Row 30: the feed wrapper hands feedparser a stream of our bytes, so a body that
    looks like a path or URL is just a document that is not a feed."""
    with pytest.raises(FeedParseError) as info:
        parse_feed(body, url="https://n.example/feed", content_type=RSS)
    assert info.value.reason == "feed_parse_error"
    assert "root:" not in info.value.message
