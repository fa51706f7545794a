"""Pub/Sub in and out with Beam's own transforms (unbounded: Dataflow streaming only).

ReadSubmissions: URLs other systems publish (see transforms.core.pubsub) enter beside
the polled feeds: feed URLs go to ReadFeeds, article URLs join the feed entries before
URL dedup. PublishArticles: every article record is also published to a topic.

Dataflow acknowledges a message once the first stage has committed it, so a submission
is not lost when a worker fails; a message may arrive twice (Pub/Sub is at-least-once),
which URL dedup absorbs.
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.gcp.pubsub import PubsubMessage, ReadFromPubSub, WriteToPubSub

from schemas.records import Article
from transforms.common import DEAD_LETTER, MAIN, counter, dead_letter
from transforms.core.pubsub import SubmissionError, article_message, parse_submission

FEEDS = "feeds"
STAGE = "pubsub_input"


class ParseSubmissionFn(beam.DoFn):
    """PubsubMessage -> FeedEntry (main) | FeedSource (feeds) | dead letter."""

    def __init__(self, origin: str) -> None:
        self._origin = origin

    def process(self, message: PubsubMessage) -> Iterator[object]:
        try:
            submission = parse_submission(message.data, message.attributes)
        except SubmissionError as error:
            # subject "feed": a bad message was never a feed entry, so it stays out of
            # the entries' conservation sum.
            yield dead_letter(
                STAGE,
                error.reason,
                str(error),
                url="",
                feed_url=self._origin,
                subject="feed",
                detail={"message_id": message.message_id or ""},
            )
            return
        counter(f"submissions.{submission.kind}").inc()
        if submission.kind == "feed":
            yield pvalue.TaggedOutput(FEEDS, submission.feed(self._origin))
        else:
            counter("entries.seen").inc()  # as ReadFeeds counts the entries it emits
            yield submission.entry(self._origin)


class ReadSubmissions(beam.PTransform):
    """Pipeline -> {main: FeedEntry, feeds: FeedSource, dead_letter: DeadLetter}."""

    def __init__(self, topic: str | None = None, subscription: str | None = None) -> None:
        super().__init__()
        if bool(topic) == bool(subscription):
            raise ValueError("give exactly one of an input topic and an input subscription")
        self._topic = topic
        self._subscription = subscription

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.pvalue.DoOutputsTuple:
        origin = self._subscription or self._topic
        return (
            pbegin
            | "ReadFromPubSub"
            >> ReadFromPubSub(
                topic=self._topic, subscription=self._subscription, with_attributes=True
            )
            | "ParseSubmissions"
            >> beam.ParDo(ParseSubmissionFn(str(origin))).with_outputs(
                FEEDS, DEAD_LETTER, main=MAIN
            )
        )


def to_message(article: Article) -> PubsubMessage:
    data, attributes = article_message(article)
    counter("published.articles").inc()
    return PubsubMessage(data, attributes)


class PublishArticles(beam.PTransform):
    """Articles -> one JSON message each, with attributes, on the output topic."""

    def __init__(self, topic: str) -> None:
        super().__init__()
        self._topic = topic

    def expand(self, articles: beam.PCollection) -> beam.pvalue.PDone:
        return (
            articles
            | "ToMessages" >> beam.Map(to_message)
            | "WriteToPubSub" >> WriteToPubSub(self._topic, with_attributes=True)
        )
