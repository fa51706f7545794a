from __future__ import annotations

import json
from pathlib import Path

import pytest

from transforms.core.feeds import (
    FeedListError,
    FeedParseError,
    clean_text,
    load_feed_list,
    normalize_timestamp,
    parse_feed,
)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbor Daily</title><link>https://harbor.example/</link>
<item><title>Port &amp; trade</title><link>/news/port-trade</link><guid>p-1</guid>
<pubDate>Tue, 17 Nov 2026 09:30:00 -0500</pubDate><author>ann@harbor.example (Ann Lee)</author>
<description>&lt;p&gt;Ships &lt;b&gt;wait&lt;/b&gt; outside.&lt;/p&gt;</description></item>
<item><title>No link here</title><guid isPermaLink="false">x-2</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Ledger</title>
<entry><title>Vote</title><link rel="alternate" href="https://ledger.example/vote"/>
<id>urn:1</id><updated>2026-11-18T10:00:00+04:00</updated><author><name>Nino B.</name></author>
<summary>Parliament voted.</summary></entry></feed>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Wire",
        "authors": [{"name": "Desk"}],
        "items": [
            {
                "id": "1",
                "url": "https://wire.example/1",
                "title": "One",
                "content_text": "Body.",
                "date_published": "2026-11-19T08:00:00+03:00",
            },
        ],
    }
).encode()


def test_rss_entries_are_plain_text_with_utc_dates() -> None:
    feed = parse_feed(RSS, url="https://harbor.example/rss.xml", content_type="application/rss+xml")
    assert feed.format == "rss20" and feed.title == "Harbor Daily" and not feed.bozo
    first, second = feed.entries
    assert first.title == "Port & trade"
    assert first.summary == "Ships wait outside."
    assert first.published_at == "2026-11-17T14:30:00Z"
    assert first.link == "https://harbor.example/news/port-trade"
    assert second.link is None and second.guid == "x-2"


def test_atom_and_json_feed() -> None:
    atom = parse_feed(ATOM, url="https://ledger.example/atom", content_type="application/atom+xml")
    assert atom.entries[0].link == "https://ledger.example/vote"
    assert atom.entries[0].authors == ("Nino B.",)
    assert atom.entries[0].published_at == "2026-11-18T06:00:00Z"
    js = parse_feed(JSON_FEED, url="https://wire.example/feed.json", content_type=None)
    assert js.format == "json11"
    (item,) = js.entries
    assert (item.link, item.summary, item.authors) == ("https://wire.example/1", "Body.", ("Desk",))
    assert item.published_at == "2026-11-19T05:00:00Z"


def test_ill_formed_feed_is_read_with_bozo() -> None:
    broken = RSS.replace(b"</channel>", b"")
    feed = parse_feed(broken, url="https://harbor.example/rss.xml", content_type=None)
    assert feed.bozo and feed.entries


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>not a feed</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel>&a;</channel></rss>',
        b'{"version": "1"}',
        b"{not json",
    ],
)
def test_unreadable_feeds_raise(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, url="https://x.example/f", content_type=None)


def test_a_path_string_is_never_opened() -> None:
    # feedparser would open a str/bytes that names a local file; we only pass streams.
    with pytest.raises(FeedParseError):
        parse_feed(b"/etc/passwd", url="https://x.example/f", content_type=None)


def test_feed_lists_in_three_formats(tmp_path: Path) -> None:
    plain = tmp_path / "feeds.txt"
    plain.write_text("# comment\nhttps://a.example/rss\n\nhttps://a.example/rss  # again\n")
    assert [s.url for s in load_feed_list(plain)] == ["https://a.example/rss"]

    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="Caucasus"><outline text="Georgia">'
        '<outline text="Ledger" xmlUrl="https://l.example/rss" country="ge" language="en" '
        'tags="independent, english"/></outline></outline></body></opml>'
    )
    (source,) = load_feed_list(opml)
    assert source.name == "Ledger" and source.country == "ge"
    assert source.tags == ("independent", "english") and source.category == "Caucasus/Georgia"

    yml = tmp_path / "feeds.yaml"
    yml.write_text(
        "- url: https://w.example/feed.json\n  name: Wire\n  tags: [wire]\n"
        "- https://b.example/atom\n"
    )
    sources = load_feed_list(yml)
    assert sources[0].meta() == {
        "name": "Wire",
        "country": None,
        "language": None,
        "tags": ["wire"],
        "category": None,
    }
    assert sources[1].url == "https://b.example/atom"


@pytest.mark.parametrize(
    "content", ["", "ftp://x.example/feed\n", "<opml><body>", "- name: no url\n"]
)
def test_bad_feed_lists_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / ("list.yaml" if content.startswith("-") else "list.txt")
    path.write_text(content)
    with pytest.raises(FeedListError):
        load_feed_list(path)


def test_helpers() -> None:
    assert clean_text("<p>a\x00b &amp; c</p>") == "ab & c"
    assert clean_text(None) is None
    assert normalize_timestamp("2026-11-19T08:00:00+03:00") == "2026-11-19T05:00:00Z"
    assert normalize_timestamp("yesterday") is None
