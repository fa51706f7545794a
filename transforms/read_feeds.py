"""ReadFeeds: fetch each feed with our own client, parse it, emit its entries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from schemas.records import FeedSource
from transforms.common import DEAD_LETTER, MAIN, counter, dead_letter, http_failure_reason
from transforms.core import urls
from transforms.core.elements import FeedEntry
from transforms.core.feeds import FeedParseError, RawEntry, parse_feed
from transforms.core.http import FetchError, HttpClient, HttpConfig

STAGE = "read_feeds"
FEED_CONTENT_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
    "application/json",
    "text/plain",  # misconfigured servers; the parser decides
    "text/html",  # ditto: feedparser copes with many such feeds
    "application/octet-stream",
)


class ReadFeedFn(beam.DoFn):
    def __init__(self, http_config: HttpConfig) -> None:
        super().__init__()
        self._http_config = http_config
        self._client: HttpClient | None = None

    def setup(self) -> None:
        self._client = HttpClient(self._http_config)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    def process(self, feed: FeedSource) -> Iterator[Any]:
        assert self._client is not None
        counter("feeds.polled").inc()
        try:
            response = self._client.get(feed.url)
            parsed = parse_feed(
                response.body,
                url=response.final_url,
                content_type=response.headers.get("content-type"),
            )
        except FetchError as err:
            counter("feeds.failed").inc()
            yield dead_letter(
                STAGE,
                http_failure_reason(err),
                err.message,
                url=feed.url,
                feed_url=feed.url,
                subject="feed",
            )
            return
        except FeedParseError as err:
            counter("feeds.failed").inc()
            yield dead_letter(
                STAGE, err.reason, err.message, url=feed.url, feed_url=feed.url, subject="feed"
            )
            return
        if parsed.bozo:
            counter("feeds.bozo").inc()
        if parsed.truncated:
            counter("feeds.entries_beyond_cap").inc(parsed.truncated)
        counter("feeds.ok").inc()
        for position, raw in enumerate(parsed.entries):
            counter("entries.seen").inc()
            yield from _entry(feed, parsed.title, response.final_url, position, raw)


def _entry(
    feed: FeedSource, feed_title: str | None, base: str, position: int, raw: RawEntry
) -> Iterator[Any]:
    try:
        link = urls.resolve_link(raw.link or _guid_link(raw.guid), base)
        canonical = urls.canonicalize(link)
    except urls.InvalidUrlError as err:
        yield dead_letter(
            STAGE,
            "invalid_link",
            str(err),
            url=raw.link or "",
            feed_url=feed.url,
            detail={"title": raw.title, "guid": raw.guid},
        )
        return
    yield FeedEntry(
        feed=feed,
        feed_title=feed_title,
        entry_url=link,
        canonical_url=canonical,
        article_id=urls.article_id(canonical),
        guid=raw.guid,
        title=raw.title,
        summary=raw.summary,
        authors=raw.authors,
        published_at=raw.published_at,
        position=position,
    )


def _guid_link(guid: str | None) -> str | None:
    """An RSS guid (or Atom id) that is itself a web address stands in for a missing link."""
    if guid and guid.startswith(("http://", "https://")):
        return guid
    return None


class ReadFeeds(beam.PTransform):
    """FeedSource -> FeedEntry (main) and dead letters (whole feeds or single entries)."""

    def __init__(self, http_config: HttpConfig) -> None:
        super().__init__()
        self._http_config = http_config

    def expand(self, feeds: beam.PCollection) -> dict[str, beam.PCollection]:
        # Reshuffle so feeds are fetched in parallel rather than in one fused bundle.
        results = (
            feeds
            | "SpreadFeeds" >> beam.Reshuffle()
            | "FetchAndParse"
            >> beam.ParDo(ReadFeedFn(self._http_config)).with_outputs(DEAD_LETTER, main=MAIN)
        )
        return {MAIN: results[MAIN], DEAD_LETTER: results[DEAD_LETTER]}
