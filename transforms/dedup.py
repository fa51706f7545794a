"""DeduplicateUrls (before fetching) and DeduplicateArticles (after extraction).

Both rest on one mechanism, `judge_per_key`: per key, items are judged in publication
order against the originals the key kept before them. In a bounded run that is a
`GroupByKey` of the whole input, so the earliest-published copy is the original whatever
order elements arrived in, and no state is written (the FnApiRunner's state cache sizes
every value it caches, ~1 ms a write: it cost half of a run's CPU). In streaming,
`SettleThenJudgeFn` buffers what arrives for a short settle period in state, orders it
the same way, and keeps the originals for a time-to-live (state and timers, so memory
stays bounded however long the job runs); a copy arriving later than the settle period
is judged against what was already written (a record cannot be taken back).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)

from schemas.records import Article, Duplicate
from transforms.common import DUPLICATE, MAIN, counter
from transforms.core import dedup
from transforms.core.dedup import Probe, Verdict
from transforms.core.elements import FeedEntry, utc_now
from transforms.core.sanitize import MAX_NAME_CHARS, safe_url
from transforms.core.text import safe_line


def judge_in_order(
    items: Iterable[Any],
    kept: list[Any],
    judge: Callable[[Any, list[Any]], Verdict],
    order_key: Callable[[Any], Any],
) -> Iterator[tuple[Any, Verdict]]:
    """Each item's verdict, earliest first, against `kept`; originals are appended to it."""
    for item in sorted(items, key=order_key):
        verdict = judge(item, kept)
        if verdict.duplicate_of_id is None:
            kept.append(item)
        yield item, verdict


class SettleThenJudgeFn(beam.DoFn):
    """Streaming, per key: buffer, then judge in order against kept originals, which expire.

    Input `(key, item)`; output `(item, verdict)` for every item, exactly once.
    """

    PENDING = BagStateSpec("pending", PickleCoder())
    KEPT = BagStateSpec("kept", PickleCoder())  # (item, expires_at) of originals
    ARMED = ReadModifyWriteStateSpec("armed", PickleCoder())
    SETTLE = TimerSpec("settle", TimeDomain.REAL_TIME)
    EXPIRE = TimerSpec("expire", TimeDomain.REAL_TIME)

    def __init__(
        self,
        judge: Callable[[Any, list[Any]], Verdict],
        order_key: Callable[[Any], Any],
        settle_s: float,
        ttl_s: float,
    ) -> None:
        super().__init__()
        self._judge = judge
        self._order_key = order_key
        self._settle_s = settle_s
        self._ttl_s = ttl_s

    def process(
        self,
        element: tuple[str, Any],
        pending: Any = beam.DoFn.StateParam(PENDING),
        armed: Any = beam.DoFn.StateParam(ARMED),
        settle: Any = beam.DoFn.TimerParam(SETTLE),
    ) -> None:
        pending.add(element[1])
        if armed.read():
            return
        armed.write(True)
        settle.set(time.time() + self._settle_s)

    # In the timer callbacks "now" is the time the timer was due (processing time on
    # every runner; the TestStream's clock under test), not the wall clock.
    @on_timer(SETTLE)
    def _settled(
        self,
        pending: Any = beam.DoFn.StateParam(PENDING),
        kept_state: Any = beam.DoFn.StateParam(KEPT),
        armed: Any = beam.DoFn.StateParam(ARMED),
        expire: Any = beam.DoFn.TimerParam(EXPIRE),
        due: Any = beam.DoFn.TimestampParam,
    ) -> Iterator[tuple[Any, Verdict]]:
        now = float(due)
        items = list(pending.read())
        pending.clear()
        armed.clear()
        alive = [(item, until) for item, until in kept_state.read() if until > now]
        kept = [item for item, _ in alive]
        before = len(kept)
        yield from judge_in_order(items, kept, self._judge, self._order_key)
        alive += [(item, now + self._ttl_s) for item in kept[before:]]
        self._rewrite(kept_state, alive, expire)

    @on_timer(EXPIRE)
    def _expire(
        self,
        kept_state: Any = beam.DoFn.StateParam(KEPT),
        expire: Any = beam.DoFn.TimerParam(EXPIRE),
        due: Any = beam.DoFn.TimestampParam,
    ) -> None:
        now = float(due)
        self._rewrite(kept_state, [(i, u) for i, u in kept_state.read() if u > now], expire)

    @staticmethod
    def _rewrite(kept_state: Any, kept: list[tuple[Any, float]], expire: Any) -> None:
        kept_state.clear()
        for pair in kept:
            kept_state.add(pair)
        if kept:
            expire.set(min(until for _, until in kept))


class _JudgeGroups(beam.PTransform):
    """Bounded runs: one group per key once the input has ended, nothing kept beyond it."""

    def __init__(
        self, judge: Callable[[Any, list[Any]], Verdict], order_key: Callable[[Any], Any]
    ) -> None:
        super().__init__()
        self._judge = judge
        self._order_key = order_key

    def expand(self, keyed: beam.PCollection) -> beam.PCollection:
        judge, order_key = self._judge, self._order_key
        return (
            keyed
            | "GroupByKey" >> beam.GroupByKey()
            | "JudgeGroup"
            >> beam.FlatMap(lambda group: judge_in_order(group[1], [], judge, order_key))
        )


def judge_per_key(
    judge: Callable[[Any, list[Any]], Verdict],
    order_key: Callable[[Any], Any],
    settle_s: float | None,
    ttl_s: float,
) -> beam.PTransform:
    """`(key, item)` -> `(item, verdict)` for every item, exactly once: grouped in a
    bounded run (`settle_s=None`), `SettleThenJudgeFn` in streaming (whose step keeps
    its label, so a running job's state still matches on update)."""
    if settle_s is None:
        return _JudgeGroups(judge, order_key)
    return beam.ParDo(SettleThenJudgeFn(judge, order_key, settle_s, ttl_s))


def _judge_url(entry: FeedEntry, kept: list[FeedEntry]) -> Verdict:
    if not kept:
        return Verdict(entry.article_id)
    return Verdict(entry.article_id, kept[0].article_id, kept[0].canonical_url, "url", 1.0)


class _SplitUrlVerdictFn(beam.DoFn):
    def process(self, element: tuple[FeedEntry, Verdict]) -> Iterator[Any]:
        entry, verdict = element
        if verdict.duplicate_of_id is None:
            counter("entries.unique_url").inc()
            yield entry
            return
        counter("duplicates.url").inc()
        yield pvalue.TaggedOutput(
            DUPLICATE,
            Duplicate(
                url=safe_url(entry.entry_url),
                duplicate_of=verdict.duplicate_of_url or "",
                duplicate_of_id=verdict.duplicate_of_id,
                kind="url",
                similarity=1.0,
                article_id=entry.article_id,
                feed_url=safe_url(entry.feed.url),
                source=safe_line(entry.source, MAX_NAME_CHARS) or "",
                title=entry.title,
                published_at=entry.published_at,
                detected_at=utc_now(),
            ),
        )


class DeduplicateUrls(beam.PTransform):
    """Feed entries -> one entry per canonical URL (main) and `duplicate` records."""

    def __init__(self, settle_s: float | None, ttl_s: float) -> None:
        super().__init__()
        self._settle_s = settle_s
        self._ttl_s = ttl_s

    def expand(self, entries: beam.PCollection) -> dict[str, beam.PCollection]:
        judged = (
            entries
            | "KeyByArticleId" >> beam.Map(lambda e: (e.article_id, e))
            | "KeepFirstPerUrl"
            >> judge_per_key(_judge_url, FeedEntry.order_key, self._settle_s, self._ttl_s)
        )
        split = judged | "SplitUrlVerdicts" >> beam.ParDo(_SplitUrlVerdictFn()).with_outputs(
            DUPLICATE, main=MAIN
        )
        return {MAIN: split[MAIN], DUPLICATE: split[DUPLICATE]}


# --- content dedup ----------------------------------------------------------------------

_ARTICLE = "article"
_VERDICT = "verdict"


class _ProbeArticleFn(beam.DoFn):
    """Emits the article keyed by id, plus one small probe per bucket it belongs to."""

    def process(self, article: Article) -> Iterator[Any]:
        prints = dedup.fingerprints(article.text)
        article = dataclasses.replace(
            article,
            fingerprint=dedup.fingerprint_hex(prints.simhash),
            content_hash=prints.content_hash,
        )
        keys: list[str] = []
        if article.word_count >= dedup.MIN_WORDS_FOR_EXACT:
            keys.append(f"x:{prints.content_hash}")
            keys.extend(prints.band_keys)
        probe = Probe(
            article_id=article.article_id,
            url=article.url,
            published_at=article.published_at,
            simhash=prints.simhash,
            content_hash=prints.content_hash,
        )
        yield (article.article_id, (_ARTICLE, (article, len(keys))))
        for key in keys:
            yield pvalue.TaggedOutput("probes", (key, probe))


def _resolve(parts: list[tuple[str, Any]]) -> tuple[Article, Verdict] | None:
    """The article and its verdict once every bucket it was probed in has answered."""
    articles = [p for kind, p in parts if kind == _ARTICLE]
    verdicts = [p for kind, p in parts if kind == _VERDICT]
    if articles and len(verdicts) >= articles[0][1]:
        return articles[0][0], dedup.resolve(verdicts)
    return None


def _give_up(parts: list[tuple[str, Any]]) -> Iterator[Any]:
    # A verdict never came (a lost bucket element): keep the article rather than lose it.
    for kind, payload in parts:
        if kind == _ARTICLE:
            counter("dedup.incomplete_kept").inc()
            yield from _emit(payload[0], Verdict(payload[0].article_id))


class _ResolveGroupFn(beam.DoFn):
    """Bounded runs: an article grouped with its buckets' verdicts -> article or duplicate."""

    def process(self, group: tuple[str, Iterable[tuple[str, Any]]]) -> Iterator[Any]:
        parts = list(group[1])
        resolved = _resolve(parts)
        yield from _emit(*resolved) if resolved else _give_up(parts)


class _ResolveArticleFn(beam.DoFn):
    """Streaming: joins an article with its buckets' verdicts as they come; emits it as
    article or duplicate, or keeps it when the guard expires first."""

    PARTS = BagStateSpec("parts", PickleCoder())
    GUARD = TimerSpec("guard", TimeDomain.REAL_TIME)

    def __init__(self, guard_s: float) -> None:
        super().__init__()
        self._guard_s = guard_s

    def process(
        self,
        element: tuple[str, tuple[str, Any]],
        parts: Any = beam.DoFn.StateParam(PARTS),
        guard: Any = beam.DoFn.TimerParam(GUARD),
    ) -> Iterator[Any]:
        parts.add(element[1])
        resolved = _resolve(list(parts.read()))
        if resolved:
            parts.clear()
            yield from _emit(*resolved)
        else:
            guard.set(time.time() + self._guard_s)

    @on_timer(GUARD)
    def _guard_expired(self, parts: Any = beam.DoFn.StateParam(PARTS)) -> Iterator[Any]:
        collected = list(parts.read())
        parts.clear()
        yield from _give_up(collected)


def _emit(article: Article, verdict: Verdict) -> Iterator[Any]:
    if verdict.duplicate_of_id is None:
        yield article
        return
    counter(f"duplicates.{verdict.kind}").inc()
    yield pvalue.TaggedOutput(
        DUPLICATE,
        Duplicate(
            url=article.url,
            duplicate_of=verdict.duplicate_of_url or "",
            duplicate_of_id=verdict.duplicate_of_id,
            kind="exact" if verdict.kind == "exact" else "near",
            similarity=verdict.similarity,
            article_id=article.article_id,
            feed_url=article.feed_url,
            source=article.source,
            title=article.title,
            published_at=article.published_at,
            detected_at=utc_now(),
        ),
    )


class DeduplicateArticles(beam.PTransform):
    """Articles -> unique articles (main) and exact/near `duplicate` records."""

    def __init__(self, max_distance: int, settle_s: float | None, ttl_s: float) -> None:
        super().__init__()
        self._max_distance = max_distance
        self._settle_s = settle_s
        self._ttl_s = ttl_s

    def expand(self, articles: beam.PCollection) -> dict[str, beam.PCollection]:
        probed = articles | "ProbeBuckets" >> beam.ParDo(_ProbeArticleFn()).with_outputs(
            "probes", main=_ARTICLE
        )
        judge = functools.partial(dedup.judge, max_distance=self._max_distance)
        verdicts = (
            probed["probes"]
            | "JudgeInBucket" >> judge_per_key(judge, Probe.order_key, self._settle_s, self._ttl_s)
            | "KeyVerdictById" >> beam.Map(lambda pv: (pv[1].article_id, (_VERDICT, pv[1])))
        )
        joined = (probed[_ARTICLE], verdicts) | "JoinVerdicts" >> beam.Flatten()
        resolver: beam.DoFn
        if self._settle_s is None:
            joined = joined | "GroupParts" >> beam.GroupByKey()
            resolver = _ResolveGroupFn()
        else:
            resolver = _ResolveArticleFn(guard_s=self._settle_s + 600)
        resolved = joined | "ResolveDuplicates" >> beam.ParDo(resolver).with_outputs(
            DUPLICATE, main=MAIN
        )
        return {MAIN: resolved[MAIN], DUPLICATE: resolved[DUPLICATE]}
