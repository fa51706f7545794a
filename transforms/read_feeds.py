"""ReadFeeds: poll each due feed politely and conditionally, parse it, emit its entries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam import coders, pvalue
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from schemas.records import FeedSource
from transforms.common import (
    STATE,
    by_host,
    counter,
    dead_letter,
    http_failure_reason,
)
from transforms.core import urls
from transforms.core.elements import FeedEntry
from transforms.core.feeds import RawEntry
from transforms.core.http import FetchError, HttpClient, HttpConfig
from transforms.core.politeness import HOST_LOCKS, PacingPolicy
from transforms.core.poller import PollResult, poll_feed
from transforms.core.polling import FeedState, SchedulePolicy, defer, is_due, next_state
from transforms.core.state import StateKind, StateUpdate, load_feed_states, load_host_times

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


FEED_STATES = ReadModifyWriteStateSpec("feeds", coders.PickleCoder())
HOST_NOT_BEFORE = ReadModifyWriteStateSpec("not_before", coders.FloatCoder())


class PollFeedFn(beam.DoFn):
    """Keyed by host: polls the host's due feeds one at a time, paced, conditionally.

    The runner keeps each feed's :class:`FeedState` and the host's ``not_before`` in
    state, which is what makes the schedule and the pacing hold across workers in a
    streaming job. A bounded run starts from the state saved by earlier runs (read in
    ``setup``) and emits every change as a ``state`` output for the driver to save.
    """

    def __init__(
        self,
        http_config: HttpConfig,
        schedule: SchedulePolicy,
        pacing: PacingPolicy,
        state_dir: str | None,
    ) -> None:
        super().__init__()
        self._http_config = http_config
        self._schedule = schedule
        self._pacing = pacing
        self._state_dir = state_dir
        self._client: HttpClient | None = None
        self._saved_feeds: dict[str, FeedState] = {}
        self._saved_hosts: dict[str, float] = {}

    def setup(self) -> None:
        self._client = HttpClient(self._http_config)
        if self._state_dir:
            directory = Path(self._state_dir)
            self._saved_feeds = load_feed_states(directory)
            self._saved_hosts = load_host_times(directory)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    def process(
        self,
        keyed: tuple[str, FeedSource],
        feeds: Any = beam.DoFn.StateParam(FEED_STATES),
        host_not_before: Any = beam.DoFn.StateParam(HOST_NOT_BEFORE),
    ) -> Iterator[Any]:
        assert self._client is not None
        host, feed = keyed
        known: dict[str, FeedState] = feeds.read() or {}
        state = known.get(feed.url) or self._saved_feeds.get(feed.url) or FeedState.new(feed.url)
        not_before = max(host_not_before.read() or 0.0, self._saved_hosts.get(host, 0.0))
        now = time.time()
        if state.status != "active":
            counter(f"feeds.skipped_{state.status}").inc()
            return
        if not is_due(state, now, self._schedule):
            counter("feeds.not_due").inc()
            return
        if not_before - now > self._pacing.max_wait_s:
            counter("feeds.deferred").inc()
            yield from self._save(feeds, known, defer(state, not_before), now)
            return
        counter("feeds.polled").inc()
        with HOST_LOCKS.turn(host, not_before) as turn:
            result = poll_feed(self._client, state)
            wait = result.host_wait_s if result.host_wait_s is not None else self._pacing.delay()
            turn.then_wait_s = wait
        done = time.time()
        after = next_state(state, result.outcome, done, self._schedule)
        host_not_before.write(done + wait)
        if result.host_wait_s is not None:
            counter("feeds.throttled").inc()
            yield _state_output("hosts", host, {"not_before": done + wait}, done)
        yield from self._save(feeds, known, after, done)
        yield from _outcome_outputs(feed, state, after, result)

    def _save(
        self, feeds: Any, known: dict[str, FeedState], state: FeedState, at: float
    ) -> Iterator[Any]:
        known[state.url] = state
        feeds.write(known)
        yield _state_output("feeds", state.url, state.to_json(), at)


def _outcome_outputs(
    feed: FeedSource, before: FeedState, after: FeedState, result: PollResult
) -> Iterator[Any]:
    """Counters, dead letters and entries for one poll."""
    if after.fetch_url != before.fetch_url:
        counter("feeds.moved").inc()
    if after.status != before.status:
        counter(f"feeds.{after.status}").inc()  # feeds.retired / feeds.disabled
    error = result.error
    if error is not None:
        counter("feeds.failed").inc()
        reason = http_failure_reason(error) if isinstance(error, FetchError) else error.reason
        yield dead_letter(
            STAGE,
            reason,
            error.message,
            url=before.fetch_url,
            feed_url=feed.url,
            subject="feed",
            detail={"next_poll_at": after.next_poll_at, "status": after.status},
        )
        return
    counter("feeds.ok").inc()
    counter(f"feeds.{result.outcome.kind}").inc()
    parsed = result.feed
    if parsed is None:
        return  # 304 or the same bytes: nothing downstream
    if parsed.bozo:
        counter("feeds.bozo").inc()
    if parsed.truncated:
        counter("feeds.entries_beyond_cap").inc(parsed.truncated)
    base = result.final_url or before.fetch_url
    for position, raw in enumerate(parsed.entries):
        counter("entries.seen").inc()
        yield from _entry(feed, parsed.title, base, position, raw)


def _state_output(kind: StateKind, key: str, value: dict[str, Any], at: float) -> Any:
    return pvalue.TaggedOutput(STATE, StateUpdate(kind, key, value, at))


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
    """FeedSource -> FeedEntry (main), dead letters (whole feeds or single entries) and
    state updates (feed schedules and validators, host slow-downs)."""

    def __init__(
        self,
        http_config: HttpConfig,
        schedule: SchedulePolicy,
        pacing: PacingPolicy,
        state_dir: str | None = None,
    ) -> None:
        super().__init__()
        self._fn = PollFeedFn(http_config, schedule, pacing, state_dir)

    def expand(self, feeds: beam.PCollection) -> dict[str, beam.PCollection]:
        return by_host(feeds, lambda f: f.url, FeedSource, self._fn, "PollFeeds", "SpreadEntries")
