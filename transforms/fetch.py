"""FetchArticles: each unique entry's page, fetched safely and decoded by us."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from transforms.common import (
    DEAD_LETTER,
    MAIN,
    counter,
    entry_dead_letter,
    http_failure_reason,
)
from transforms.core.elements import FeedEntry, FetchedPage, utc_now
from transforms.core.http import (
    FetchError,
    HttpClient,
    HttpConfig,
    decode_body,
    ensure_not_compressed,
)
from transforms.core.robots import RobotsCache

STAGE = "fetch"
ARTICLE_CONTENT_TYPES = ("text/html", "application/xhtml+xml")


class FetchArticleFn(beam.DoFn):
    def __init__(self, http_config: HttpConfig, obey_robots: bool) -> None:
        super().__init__()
        self._http_config = http_config
        self._obey_robots = obey_robots
        self._client: HttpClient | None = None
        self._robots: RobotsCache | None = None

    def setup(self) -> None:
        self._client = HttpClient(self._http_config)
        if self._obey_robots:
            self._robots = RobotsCache(self._client)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    def process(self, entry: FeedEntry) -> Iterator[Any]:
        assert self._client is not None
        if self._robots is not None:
            allowed, reason = self._robots.allowed_with_reason(entry.entry_url)
            if not allowed:
                yield entry_dead_letter(STAGE, reason, "robots.txt does not allow it", entry)
                return
        try:
            response = self._client.get(entry.entry_url)
            ensure_not_compressed(response.body)
        except FetchError as err:
            yield entry_dead_letter(STAGE, http_failure_reason(err), err.message, entry)
            return
        html, encoding = decode_body(response.body, response.headers.get("content-type"))
        counter("articles.fetched").inc()
        yield FetchedPage(
            entry=entry,
            final_url=response.final_url,
            html=html,
            encoding=encoding,
            fetched_at=utc_now(),
        )


class FetchArticles(beam.PTransform):
    """FeedEntry -> FetchedPage (main) and dead letters."""

    def __init__(self, http_config: HttpConfig, obey_robots: bool) -> None:
        super().__init__()
        self._http_config = http_config
        self._obey_robots = obey_robots

    def expand(self, entries: beam.PCollection) -> dict[str, beam.PCollection]:
        results = (
            entries
            # Entries arrive grouped by URL key; spread them so fetches run in parallel.
            | "SpreadFetches" >> beam.Reshuffle()
            | "Fetch"
            >> beam.ParDo(FetchArticleFn(self._http_config, self._obey_robots)).with_outputs(
                DEAD_LETTER, main=MAIN
            )
        )
        return {MAIN: results[MAIN], DEAD_LETTER: results[DEAD_LETTER]}
