"""DeduplicateUrls (before fetching) and DeduplicateArticles (after extraction).

Both rest on one stateful mechanism, `SettleThenJudgeFn`: per key it buffers what
arrives for a short settle period, then judges the buffered items in publication order
against what the key already kept, and keeps the originals for a time-to-live (state and
timers, so memory stays bounded however long a streaming job runs). In a batch run the
settle timer fires only after the stage has seen all its input, so the earliest-published
copy is the original whatever order elements arrived in. In streaming, copies that arrive
within the settle period are ordered the same way; a copy arriving later than that is
judged against what was already written (a record cannot be taken back).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
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


class SettleThenJudgeFn(beam.DoFn):
    """Per key: buffer, then judge in order against kept originals; originals expire.

    Input `(key, item)`; output `(item, verdict)` for every item, exactly once.
    `settle_s=None` is for bounded runs: judging waits for the end of the input (an
    event-time timer at the window's end) and nothing needs to expire.
    """

    PENDING = BagStateSpec("pending", PickleCoder())
    KEPT = BagStateSpec("kept", PickleCoder())  # (item, expires_at) of originals
    ARMED = ReadModifyWriteStateSpec("armed", PickleCoder())
    SETTLE = TimerSpec("settle", TimeDomain.REAL_TIME)
    AT_END = TimerSpec("at_end", TimeDomain.WATERMARK)
    EXPIRE = TimerSpec("expire", TimeDomain.REAL_TIME)

    def __init__(
        self,
        judge: Callable[[Any, list[Any]], Verdict],
        order_key: Callable[[Any], Any],
        settle_s: float | None,
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
        window: Any = beam.DoFn.WindowParam,
        pending: Any = beam.DoFn.StateParam(PENDING),
        armed: Any = beam.DoFn.StateParam(ARMED),
        settle: Any = beam.DoFn.TimerParam(SETTLE),
        at_end: Any = beam.DoFn.TimerParam(AT_END),
    ) -> None:
        pending.add(element[1])
        if armed.read():
            return
        armed.write(True)
        if self._settle_s is None:
            at_end.set(window.max_timestamp())
        else:
            settle.set(time.time() + self._settle_s)

    @on_timer(SETTLE)
    def _settled(
        self,
        pending: Any = beam.DoFn.StateParam(PENDING),
        kept_state: Any = beam.DoFn.StateParam(KEPT),
        armed: Any = beam.DoFn.StateParam(ARMED),
        expire: Any = beam.DoFn.TimerParam(EXPIRE),
    ) -> Iterator[tuple[Any, Verdict]]:
        yield from self._judge_pending(pending, kept_state, armed, expire)

    @on_timer(AT_END)
    def _input_ended(
        self,
        pending: Any = beam.DoFn.StateParam(PENDING),
        kept_state: Any = beam.DoFn.StateParam(KEPT),
        armed: Any = beam.DoFn.StateParam(ARMED),
        expire: Any = beam.DoFn.TimerParam(EXPIRE),
    ) -> Iterator[tuple[Any, Verdict]]:
        yield from self._judge_pending(pending, kept_state, armed, expire)

    def _judge_pending(
        self, pending: Any, kept_state: Any, armed: Any, expire: Any
    ) -> Iterator[tuple[Any, Verdict]]:
        now = time.time()
        items = sorted(pending.read(), key=self._order_key)
        pending.clear()
        armed.clear()
        kept = [(item, until) for item, until in kept_state.read() if until > now]
        for item in items:
            verdict = self._judge(item, [k for k, _ in kept])
            if verdict.duplicate_of_id is None:
                kept.append((item, now + self._ttl_s))
            yield item, verdict
        if self._settle_s is not None:  # bounded runs keep nothing beyond their input
            self._rewrite(kept_state, kept, expire)

    @on_timer(EXPIRE)
    def _expire(
        self,
        kept_state: Any = beam.DoFn.StateParam(KEPT),
        expire: Any = beam.DoFn.TimerParam(EXPIRE),
    ) -> None:
        now = time.time()
        self._rewrite(kept_state, [(i, u) for i, u in kept_state.read() if u > now], expire)

    @staticmethod
    def _rewrite(kept_state: Any, kept: list[tuple[Any, float]], expire: Any) -> None:
        kept_state.clear()
        for pair in kept:
            kept_state.add(pair)
        if kept:
            expire.set(min(until for _, until in kept))


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
            >> beam.ParDo(
                SettleThenJudgeFn(_judge_url, FeedEntry.order_key, self._settle_s, self._ttl_s)
            )
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


class _ResolveArticleFn(beam.DoFn):
    """Joins an article with its buckets' verdicts; emits it as article or duplicate."""

    PARTS = BagStateSpec("parts", PickleCoder())
    GUARD = TimerSpec("guard", TimeDomain.REAL_TIME)
    GUARD_AT_END = TimerSpec("guard_at_end", TimeDomain.WATERMARK)

    def __init__(self, guard_s: float | None) -> None:
        super().__init__()
        self._guard_s = guard_s  # None: bounded run, the guard fires at the input's end

    def process(
        self,
        element: tuple[str, tuple[str, Any]],
        window: Any = beam.DoFn.WindowParam,
        parts: Any = beam.DoFn.StateParam(PARTS),
        guard: Any = beam.DoFn.TimerParam(GUARD),
        guard_at_end: Any = beam.DoFn.TimerParam(GUARD_AT_END),
    ) -> Iterator[Any]:
        parts.add(element[1])
        collected = list(parts.read())
        articles = [p for kind, p in collected if kind == _ARTICLE]
        verdicts = [p for kind, p in collected if kind == _VERDICT]
        if articles and len(verdicts) >= articles[0][1]:
            parts.clear()
            yield from _emit(articles[0][0], dedup.resolve(verdicts))
        elif self._guard_s is None:
            guard_at_end.set(window.max_timestamp())
        else:
            guard.set(time.time() + self._guard_s)

    @on_timer(GUARD_AT_END)
    def _input_ended(self, parts: Any = beam.DoFn.StateParam(PARTS)) -> Iterator[Any]:
        yield from self._give_up(parts)

    @on_timer(GUARD)
    def _guard_expired(self, parts: Any = beam.DoFn.StateParam(PARTS)) -> Iterator[Any]:
        yield from self._give_up(parts)

    @staticmethod
    def _give_up(parts: Any) -> Iterator[Any]:
        # A verdict never came (a lost bucket element): keep the article rather than lose it.
        collected = list(parts.read())
        parts.clear()
        for kind, payload in collected:
            if kind == _ARTICLE:
                counter("dedup.incomplete_kept").inc()
                yield from _emit(payload[0], Verdict(payload[0].article_id))


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
        guard_s = None if self._settle_s is None else self._settle_s + 600
        verdicts = (
            probed["probes"]
            | "JudgeInBucket"
            >> beam.ParDo(SettleThenJudgeFn(judge, Probe.order_key, self._settle_s, self._ttl_s))
            | "KeyVerdictById" >> beam.Map(lambda pv: (pv[1].article_id, (_VERDICT, pv[1])))
        )
        resolved = (
            (probed[_ARTICLE], verdicts)
            | "JoinVerdicts" >> beam.Flatten()
            | "ResolveDuplicates"
            >> beam.ParDo(_ResolveArticleFn(guard_s=guard_s)).with_outputs(DUPLICATE, main=MAIN)
        )
        return {MAIN: resolved[MAIN], DUPLICATE: resolved[DUPLICATE]}
