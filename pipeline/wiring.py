"""The pipeline graph: stages in order, dead letters and duplicates gathered, one sink.

Step labels are stable names (Dataflow's update matches on them): rename one only with a
transform-name mapping.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import apache_beam as beam

from pipeline.options import Config
from schemas.records import FeedSource
from transforms.bigquery import WriteBigQueryTables
from transforms.common import DEAD_LETTER, DUPLICATE, MAIN, STATE
from transforms.core.bigquery import Tables
from transforms.core.http import AddressPolicy, HttpConfig
from transforms.core.state import SEEN_FILE, StateUpdate
from transforms.dedup import DeduplicateArticles, DeduplicateUrls
from transforms.entities import TagEntities
from transforms.fetch import ARTICLE_CONTENT_TYPES, FetchArticles
from transforms.language import DetectLanguage
from transforms.pubsub import FEEDS, PublishArticles, ReadSubmissions
from transforms.read_feeds import FEED_CONTENT_TYPES, ReadFeeds
from transforms.seen import DropSeenEntries
from transforms.sink import ARTICLES, DEAD_LETTERS, DUPLICATES, WriteArticles


def http_configs(config: Config) -> tuple[HttpConfig, HttpConfig]:
    """(feeds, articles): one policy and identity, each with its own caps."""
    base = HttpConfig(
        user_agent=config.user_agent,
        timeout_s=config.fetch_timeout_s,
        policy=AddressPolicy.from_string(config.allow_address),
    )
    feeds = dataclasses.replace(
        base, max_bytes=config.max_feed_bytes, allowed_content_types=FEED_CONTENT_TYPES
    )
    articles = dataclasses.replace(
        base, max_bytes=config.max_article_bytes, allowed_content_types=ARTICLE_CONTENT_TYPES
    )
    return feeds, articles


def build(
    feeds: beam.PCollection, config: Config, run_id: str, state_dir: str | None
) -> dict[str, beam.PCollection]:
    """Wires every stage after the feed source; returns what it hands to the sink.

    With ``state_dir`` (bounded runs) the stages start from the state saved by earlier
    runs and the run writes its state updates under ``state_dir/pending`` for the driver
    to merge once the run has succeeded; without it (a streaming job) the runner's
    state and timers are the only memory.
    """
    feed_http, article_http = http_configs(config)
    submitted = _read_submissions(feeds.pipeline, config)
    if submitted:
        feeds = (feeds, submitted[FEEDS]) | "PolledAndSubmittedFeeds" >> beam.Flatten()
    read = feeds | "ReadFeeds" >> ReadFeeds(feed_http, config.schedule, config.pacing, state_dir)
    entries = read[MAIN]
    if state_dir:
        entries = entries | "DropSeenEntries" >> DropSeenEntries(
            str(Path(state_dir) / SEEN_FILE), config.dedup_ttl_s
        )
    # A bounded run judges duplicates once its input has ended (settle None); only a
    # streaming run settles for a few seconds and keeps state for the time-to-live.
    if submitted:
        entries = (entries, submitted[MAIN]) | "PolledAndSubmittedEntries" >> beam.Flatten()
    settle_s = config.dedup_settle_s if config.streaming else None
    ttl_s = config.dedup_ttl_s
    unique = entries | "DeduplicateUrls" >> DeduplicateUrls(settle_s, ttl_s)
    # Fetching extracts each page in the same step: raw HTML never becomes an element.
    fetched = unique[MAIN] | "FetchArticles" >> FetchArticles(
        article_http, config.obey_robots, config.pacing, state_dir, config.extraction_timeout_s
    )
    distinct = fetched[MAIN] | "DeduplicateArticles" >> DeduplicateArticles(
        config.near_duplicate_distance, settle_s, ttl_s
    )
    languages = distinct[MAIN] | "DetectLanguage" >> DetectLanguage()
    tagged = languages[MAIN] | "TagEntities" >> TagEntities()

    outputs = {
        ARTICLES: tagged[MAIN],
        DUPLICATES: (unique[DUPLICATE], distinct[DUPLICATE]) | "AllDuplicates" >> beam.Flatten(),
        DEAD_LETTERS: (
            read[DEAD_LETTER],
            fetched[DEAD_LETTER],
            languages[DEAD_LETTER],
            tagged[DEAD_LETTER],
        )
        | "AllDeadLetters" >> beam.Flatten(),
    }
    if submitted:
        outputs[DEAD_LETTERS] = (
            outputs[DEAD_LETTERS],
            submitted[DEAD_LETTER],
        ) | "WithSubmissionDeadLetters" >> beam.Flatten()
    window_s = 10.0 if config.streaming else None
    if config.sink == "bigquery":
        tables = Tables.parse(config.bq_table or "")
        outputs | "WriteBigQueryTables" >> WriteBigQueryTables(tables)
    else:
        outputs | "WriteArticles" >> WriteArticles(str(config.output), run_id, window_s)
    if config.output_topic:
        outputs[ARTICLES] | "PublishArticles" >> PublishArticles(config.output_topic)
    if state_dir:
        prefix = pending_prefix(state_dir, run_id)
        _ = (
            (read[STATE], fetched[STATE])
            | "AllStateUpdates" >> beam.Flatten()
            | "StateLines" >> beam.Map(StateUpdate.to_line)
            | "WriteStateUpdates" >> beam.io.WriteToText(prefix + STATE_SUFFIX)
        )
        # Whatever the sink, the ids of what it was handed become seen keys.
        _ = (
            (outputs[ARTICLES], outputs[DUPLICATES])
            | "AllRecordsWritten" >> beam.Flatten()
            | "SeenKeys" >> beam.Map(lambda record: record.article_id)
            | "WriteSeenKeys" >> beam.io.WriteToText(prefix + SEEN_SUFFIX)
        )
    return outputs


def _read_submissions(pipeline: beam.Pipeline, config: Config) -> beam.pvalue.DoOutputsTuple | None:
    """Submitted URLs from Pub/Sub, or None without --input_topic/--input_subscription."""
    if not (config.input_topic or config.input_subscription):
        return None
    return pipeline | "ReadSubmissions" >> ReadSubmissions(
        config.input_topic, config.input_subscription
    )


STATE_SUFFIX = ".state"
SEEN_SUFFIX = ".seen"


def pending_prefix(state_dir: str, run_id: str) -> str:
    """Where a bounded run leaves its state updates and seen keys for the driver."""
    return str(Path(state_dir) / "pending" / run_id)


def create_feeds(pipeline: beam.Pipeline, sources: list[FeedSource]) -> beam.PCollection:
    return pipeline | "FeedList" >> beam.Create(sources)
