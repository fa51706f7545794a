"""Each stage under TestPipeline, against a real local HTTP server: main and dead letters."""

from __future__ import annotations

import dataclasses

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline import USER_AGENT
from schemas.records import FeedSource
from tests.conftest import StubServer
from tests.factories import article, entry
from transforms.common import DEAD_LETTER, MAIN
from transforms.core.http import AddressPolicy, HttpConfig
from transforms.core.politeness import PacingPolicy
from transforms.core.polling import SchedulePolicy
from transforms.entities import TagEntities
from transforms.fetch import ARTICLE_CONTENT_TYPES, FetchArticles
from transforms.language import DetectLanguage
from transforms.read_feeds import ReadFeeds

RUNNER = "FnApiRunner"

PAGE = """<!doctype html><html><head><title>Rates held | Ledger</title>
<meta property="og:title" content="Central bank holds rates">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Central bank holds rates</h1><p class="byline">By Ana Kvaratskhelia</p>
<p>The National Bank of Georgia kept its refinancing rate unchanged on Wednesday, saying
inflation in Tbilisi had slowed for a third month in a row and the lari had steadied.</p>
<p>Governor Natia Turnava told reporters that the bank would stay cautious because
food prices remained volatile and credit growth was still faster than expected.</p>
<p>Economists polled before the meeting had mostly expected the decision, although a few
had argued for a cut to support exporters hurt by weaker demand from neighbours.</p>
</article><footer>Share on Facebook | Tweet | in Tumblr</footer></body></html>"""

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Ledger</title>
<link>{BASE}/</link>
<item><title>Central bank holds rates</title><link>{BASE}/a/rates?utm_source=rss</link>
<pubDate>Wed, 18 Nov 2026 10:00:00 +0400</pubDate></item>
<item><title>Missing</title><link>{BASE}/a/gone</link></item>
<item><title>Bad link</title><link>javascript:alert(1)</link></item>
</channel></rss>"""


NO_DELAY = PacingPolicy(min_delay_s=0.0)  # our own stub server: no pacing needed


def http_config(server: StubServer, **changes: object) -> HttpConfig:
    config = HttpConfig(
        user_agent=USER_AGENT,
        timeout_s=5.0,
        policy=AddressPolicy.from_string(f"127.0.0.1:{server.port}"),
    )
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def test_read_feeds_emits_entries_and_dead_letters(stub_server: StubServer) -> None:
    good = stub_server.add("/rss.xml", RSS, content_type="application/rss+xml")
    dead = stub_server.base_url + "/missing.xml"
    junk = stub_server.add("/junk.xml", b"\x89PNG....", content_type="application/rss+xml")
    feeds = [FeedSource(url=good, name="Ledger"), FeedSource(url=dead), FeedSource(url=junk)]
    with TestPipeline(runner=RUNNER) as p:
        out = (
            p | beam.Create(feeds) | ReadFeeds(http_config(stub_server), SchedulePolicy(), NO_DELAY)
        )
        assert_that(
            out[MAIN] | "Urls" >> beam.Map(lambda e: (e.canonical_url, e.feed.name)),
            equal_to(
                [
                    (f"{stub_server.base_url}/a/rates", "Ledger"),
                    (f"{stub_server.base_url}/a/gone", "Ledger"),
                ]
            ),
        )
        assert_that(
            out[DEAD_LETTER] | "Reasons" >> beam.Map(lambda d: (d.subject, d.reason)),
            equal_to(
                [("entry", "invalid_link"), ("feed", "http_404"), ("feed", "feed_parse_error")]
            ),
            label="dead letters",
        )


def test_fetch_and_extract(stub_server: StubServer) -> None:
    stub_server.add("/a/rates", PAGE)
    stub_server.add("/a/pdf", b"%PDF-1.7", content_type="application/pdf")
    stub_server.add("/a/shell", "<html><body><div id='app'></div></body></html>")
    base = stub_server.base_url
    entries = [
        entry(f"{base}/a/rates", published="2026-11-18T06:00:00Z"),
        entry(f"{base}/a/gone"),
        entry(f"{base}/a/pdf"),
        dataclasses.replace(entry(f"{base}/a/shell"), summary=None, title=None),
        entry("http://169.254.169.254/latest/meta-data/"),
    ]
    article_http = http_config(stub_server, allowed_content_types=ARTICLE_CONTENT_TYPES)
    with TestPipeline(runner=RUNNER) as p:
        fetched = p | beam.Create(entries) | FetchArticles(article_http, True, NO_DELAY)
        assert_that(
            fetched[MAIN]
            | "Fields"
            >> beam.Map(
                lambda a: (
                    a.title,
                    a.extraction,
                    a.text.startswith("The National Bank"),
                    "Tumblr" in a.text,
                )
            ),
            equal_to([("Central bank holds rates", "trafilatura", True, False)]),
        )
        # One output, each dead letter keeping the stage it failed in.
        assert_that(
            fetched[DEAD_LETTER] | "Reasons" >> beam.Map(lambda d: (d.stage, d.reason)),
            equal_to(
                [
                    ("fetch", "http_404"),
                    ("fetch", "bad_content_type"),
                    ("fetch", "blocked_address"),
                    ("extract", "empty_extraction"),
                ]
            ),
            label="dead letters",
        )
    # robots.txt was asked for once for the whole origin, before any article.
    paths = [path for path, _ in stub_server.requests]
    assert paths.count("/robots.txt") == 1
    assert all(h.get("User-Agent") == USER_AGENT for _, h in stub_server.requests)


ENGLISH = (
    "Foreign Minister Sergei Lavrov met Armenian Prime Minister Nikol Pashinyan in "
    "Moscow on Tuesday. Lavrov said the talks in Moscow were useful. Later, Sergey "
    "Lavrov told reporters that Pashinyan would visit again."
)
RUSSIAN = "Министр иностранных дел встретился с коллегой в Тбилиси во вторник и обсудил торговлю."


def test_language_then_entities() -> None:
    records = [
        article("https://n.example/en", ENGLISH),
        article("https://n.example/ru", RUSSIAN),
        article("https://n.example/empty", "12345 67890", title=None),
    ]
    with TestPipeline(runner=RUNNER) as p:
        languages = p | beam.Create(records) | DetectLanguage()
        tagged = languages[MAIN] | TagEntities(batch_size=4)
        assert_that(
            tagged[MAIN]
            | "Summary"
            >> beam.Map(
                lambda a: (
                    a.url,
                    a.language,
                    a.ner_model is not None,
                    sorted((e.canonical, e.label, e.count) for e in a.entities if e.label == "PER"),
                )
            ),
            equal_to(
                [
                    (
                        "https://n.example/en",
                        "en",
                        True,
                        # "Lavrov" and "Pashinyan" alone (tagged ORG by the model) and the
                        # "Sergey" spelling all count toward one person each.
                        [("Nikol Pashinyan", "PER", 2), ("Sergei Lavrov", "PER", 3)],
                    ),
                    ("https://n.example/ru", "ru", False, []),
                    ("https://n.example/empty", "und", False, []),
                ]
            ),
        )
        assert_that(languages[DEAD_LETTER], equal_to([]), label="no language failures")
        assert_that(tagged[DEAD_LETTER], equal_to([]), label="no entity failures")
