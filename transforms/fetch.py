"""FetchArticles: each unique entry's page, fetched safely, decoded by us and extracted."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam import coders, pvalue
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.windowed_value import WindowedValue

from transforms.common import (
    STATE,
    by_host,
    counter,
    entry_dead_letter,
    http_failure_reason,
)
from transforms.core.elements import FeedEntry, FetchedPage, utc_now
from transforms.core.feeds import format_utc
from transforms.core.http import (
    FetchError,
    HttpClient,
    HttpConfig,
    decode_body,
    ensure_not_compressed,
    origin,
)
from transforms.core.politeness import HOST_LOCKS, PacingPolicy
from transforms.core.polling import retry_after_seconds
from transforms.core.robots import RobotsCache
from transforms.core.state import StateUpdate, load_host_times, load_map
from transforms.extract import DEFAULT_TIMEOUT_S, PageExtractor

STAGE = "fetch"
ARTICLE_CONTENT_TYPES = ("text/html", "application/xhtml+xml")


HOST_NOT_BEFORE = ReadModifyWriteStateSpec("not_before", coders.FloatCoder())


class FetchArticleFn(beam.DoFn):
    """Keyed by host: one request at a time per host, ``PacingPolicy`` delays between them
    (raised by robots.txt ``Crawl-delay``, by ``Retry-After`` on 429/503). Each fetched
    page is extracted here, after the host's turn (``PageExtractor``): the raw HTML never
    becomes an element."""

    def __init__(
        self,
        http_config: HttpConfig,
        obey_robots: bool,
        pacing: PacingPolicy,
        state_dir: str | None,
        extraction_timeout_s: float,
    ) -> None:
        super().__init__()
        self._http_config = http_config
        self._obey_robots = obey_robots
        self._pacing = pacing
        self._state_dir = state_dir
        self._extractor = PageExtractor(extraction_timeout_s)
        self._client: HttpClient | None = None
        self._robots: RobotsCache | None = None
        self._saved_hosts: dict[str, float] = {}

    def setup(self) -> None:
        self._extractor.start()
        self._client = HttpClient(self._http_config)
        if self._obey_robots:
            self._robots = RobotsCache(self._client)
        if self._state_dir:
            directory = Path(self._state_dir)
            self._saved_hosts = load_host_times(directory)
            if self._robots is not None:
                self._robots.preload(load_map(directory, "robots"))

    def teardown(self) -> None:
        self._extractor.close()
        if self._client is not None:
            self._client.close()

    def start_bundle(self) -> None:
        self._extractor.discard()

    def finish_bundle(self) -> Iterator[Any]:
        yield from _windowed(self._extractor.drain())

    def process(
        self,
        keyed: tuple[str, FeedEntry],
        host_not_before: Any = beam.DoFn.StateParam(HOST_NOT_BEFORE),
        timestamp: Any = beam.DoFn.TimestampParam,
        window: Any = beam.DoFn.WindowParam,
    ) -> Iterator[Any]:
        assert self._client is not None
        host, entry = keyed
        not_before = max(host_not_before.read() or 0.0, self._saved_hosts.get(host, 0.0))
        if not_before - time.time() > self._pacing.max_wait_s:
            yield entry_dead_letter(
                STAGE,
                "host_throttled",
                f"{host} asked us to wait until "
                f"{format_utc(datetime.fromtimestamp(not_before, UTC))}; a later poll retries",
                entry,
            )
            return
        with HOST_LOCKS.turn(host, not_before) as turn:
            outputs, crawl_delay, host_wait = self._fetch(entry)
            wait = host_wait if host_wait is not None else self._pacing.delay(crawl_delay)
            turn.then_wait_s = wait
            done = time.time()
        host_not_before.write(done + wait)
        if host_wait is not None:
            counter("hosts.throttled").inc()
            outputs.append(
                pvalue.TaggedOutput(
                    STATE, StateUpdate("hosts", host, {"not_before": done + wait}, done)
                )
            )
        for output in outputs:
            if isinstance(output, FetchedPage):
                yield from _windowed(self._extractor.submit(output, (timestamp, window)))
            else:
                yield output

    def _fetch(self, entry: FeedEntry) -> tuple[list[Any], float | None, float | None]:
        """(outputs, robots Crawl-delay, host wait asked by a 429/503) for one entry,
        while holding the host's turn."""
        assert self._client is not None
        outputs: list[Any] = []
        crawl_delay: float | None = None
        if self._robots is not None:
            fresh = self._robots.detail(entry.entry_url) is None
            allowed, reason = self._robots.allowed_with_reason(entry.entry_url)
            crawl_delay = self._robots.crawl_delay(entry.entry_url)
            if fresh:
                outputs.extend(self._robots_update(entry.entry_url))
            if not allowed:
                outputs.append(
                    entry_dead_letter(STAGE, reason, "robots.txt does not allow it", entry)
                )
                return outputs, crawl_delay, None
            if fresh:
                time.sleep(self._pacing.delay(crawl_delay))  # robots.txt was a request too
        try:
            response = self._client.get(entry.entry_url)
            ensure_not_compressed(response.body)
        except FetchError as err:
            host_wait = None
            if err.reason == "http_error" and err.status in (429, 503):
                host_wait = retry_after_seconds(err.retry_after, time.time())
            outputs.append(entry_dead_letter(STAGE, http_failure_reason(err), err.message, entry))
            return outputs, crawl_delay, host_wait
        html, encoding = decode_body(response.body, response.headers.get("content-type"))
        counter("articles.fetched").inc()
        outputs.append(
            FetchedPage(
                entry=entry,
                final_url=response.final_url,
                html=html,
                encoding=encoding,
                fetched_at=utc_now(),
            )
        )
        return outputs, crawl_delay, None

    def _robots_update(self, url: str) -> Iterator[Any]:
        assert self._robots is not None
        key = origin(url)
        saved = self._robots.export(origins=[key]).get(key)
        if saved is not None and self._state_dir:
            yield pvalue.TaggedOutput(STATE, StateUpdate("robots", key, saved, time.time()))


def _windowed(results: Iterable[tuple[Any, Any]]) -> Iterator[Any]:
    # Extraction results come back later than their element: each keeps its own
    # element's timestamp and window.
    for (timestamp, window), output in results:
        if isinstance(output, pvalue.TaggedOutput):
            yield pvalue.TaggedOutput(output.tag, WindowedValue(output.value, timestamp, [window]))
        else:
            yield WindowedValue(output, timestamp, [window])


class FetchArticles(beam.PTransform):
    """FeedEntry -> Article (main), dead letters of the `fetch` and `extract` stages and
    state updates (robots.txt cache, host slow-downs)."""

    def __init__(
        self,
        http_config: HttpConfig,
        obey_robots: bool,
        pacing: PacingPolicy,
        state_dir: str | None = None,
        extraction_timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self._fn = FetchArticleFn(http_config, obey_robots, pacing, state_dir, extraction_timeout_s)

    def expand(self, entries: beam.PCollection) -> dict[str, beam.PCollection]:
        return by_host(entries, lambda e: e.entry_url, FeedEntry, self._fn, "Fetch", "SpreadPages")
