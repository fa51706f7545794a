"""What every stage shares: output tags, dead-letter construction, metric names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from schemas.records import Article, DeadLetter, DeadLetterSubject
from transforms.core.elements import FeedEntry, utc_now
from transforms.core.http import FetchError
from transforms.core.politeness import host_key
from transforms.core.sanitize import MAX_LINE_CHARS, safe_message, safe_url
from transforms.core.text import safe_line

MAIN = "main"
DEAD_LETTER = "dead_letter"
DUPLICATE = "duplicate"
STATE = "state"  # StateUpdate rows: what a bounded run hands back to be saved
METRICS_NAMESPACE = "newsbeam"


def counter(name: str):  # type: ignore[no-untyped-def]
    return Metrics.counter(METRICS_NAMESPACE, name)


def dead_letter(
    stage: str,
    reason: str,
    error: str,
    *,
    url: str,
    feed_url: str,
    subject: DeadLetterSubject = "entry",
    detail: dict[str, object] | None = None,
) -> pvalue.TaggedOutput:
    """A tagged dead-letter output, counted per stage and reason."""
    counter(f"dead_letter.{subject}.{stage}.{reason}").inc()
    record = DeadLetter(
        stage=stage,
        url=safe_url(url),
        feed_url=safe_url(feed_url),
        reason=reason,
        error=safe_message(error),
        at=utc_now(),
        subject=subject,
        detail=dict(detail or {}),
    )
    return pvalue.TaggedOutput(DEAD_LETTER, record)


def entry_dead_letter(stage: str, reason: str, error: str, entry: FeedEntry) -> pvalue.TaggedOutput:
    return dead_letter(
        stage,
        reason,
        error,
        url=entry.entry_url,
        feed_url=entry.feed.url,
        detail={"article_id": entry.article_id, "title": safe_line(entry.title, MAX_LINE_CHARS)},
    )


def article_dead_letter(
    stage: str, reason: str, err: Exception, article: Article
) -> pvalue.TaggedOutput:
    """A dead letter for an article that failed after extraction (language, entities)."""
    return dead_letter(
        stage,
        reason,
        f"{type(err).__name__}: {err}",
        url=article.url,
        feed_url=article.feed_url,
        detail={"article_id": article.article_id},
    )


def http_failure_reason(err: FetchError) -> str:
    """`http_404` for status failures (precise), the client's reason otherwise."""
    status = err.status
    return f"http_{status}" if err.reason == "http_error" and status else err.reason


def by_host(
    values: beam.PCollection,
    url_of: Callable[[Any], str],
    value_type: type,
    fn: beam.DoFn,
    step: str,
    spread: str,
) -> dict[str, beam.PCollection]:
    """Runs the stateful ``fn`` keyed by each value's host, so every request to one host
    goes through one key and parallel workers cannot multiply the rate it sees.

    The main output then leaves the host keys (``spread``): one busy host's results
    spread over workers, and Beam 2.77's FnApiRunner needs the break, since it otherwise
    loses later event-time timers when a stateful stage is fused with the steps after it.
    """
    results = (
        values
        | "KeyByHost"
        >> beam.Map(lambda value: (host_key(url_of(value)), value)).with_output_types(
            beam.typehints.KV[str, value_type]
        )
        | step >> beam.ParDo(fn).with_outputs(DEAD_LETTER, STATE, main=MAIN)
    )
    main = results[MAIN] | spread >> beam.Reshuffle()
    return {MAIN: main, DEAD_LETTER: results[DEAD_LETTER], STATE: results[STATE]}
