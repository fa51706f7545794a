"""The pipeline graph: stages in order, dead letters and duplicates gathered, one sink.

Step labels are stable names (Dataflow's update matches on them): rename one only with a
transform-name mapping.
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam

from pipeline.options import Config
from schemas.records import FeedSource
from transforms.common import DEAD_LETTER, DUPLICATE, MAIN
from transforms.core.http import AddressPolicy, HttpConfig
from transforms.dedup import DeduplicateArticles, DeduplicateUrls
from transforms.entities import TagEntities
from transforms.extract import ExtractArticles
from transforms.fetch import ARTICLE_CONTENT_TYPES, FetchArticles
from transforms.language import DetectLanguage
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
    feeds: beam.PCollection, config: Config, run_id: str, seen_path: str | None
) -> dict[str, beam.PCollection]:
    """Wires every stage after the feed source; returns what it hands to the sink."""
    feed_http, article_http = http_configs(config)
    read = feeds | "ReadFeeds" >> ReadFeeds(feed_http)
    entries = read[MAIN]
    if seen_path:
        entries = entries | "DropSeenEntries" >> DropSeenEntries(seen_path, config.dedup_ttl_s)
    # A bounded run judges duplicates once its input has ended (settle None); only a
    # streaming run settles for a few seconds and keeps state for the time-to-live.
    settle_s = config.dedup_settle_s if config.streaming else None
    ttl_s = config.dedup_ttl_s
    unique = entries | "DeduplicateUrls" >> DeduplicateUrls(settle_s, ttl_s)
    fetched = unique[MAIN] | "FetchArticles" >> FetchArticles(article_http, config.obey_robots)
    extracted = fetched[MAIN] | "ExtractArticles" >> ExtractArticles()
    distinct = extracted[MAIN] | "DeduplicateArticles" >> DeduplicateArticles(
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
            extracted[DEAD_LETTER],
            languages[DEAD_LETTER],
            tagged[DEAD_LETTER],
        )
        | "AllDeadLetters" >> beam.Flatten(),
    }
    window_s = 10.0 if config.streaming else None
    outputs | "WriteArticles" >> WriteArticles(str(config.output), run_id, window_s)
    return outputs


def create_feeds(pipeline: beam.Pipeline, sources: list[FeedSource]) -> beam.PCollection:
    return pipeline | "FeedList" >> beam.Create(sources)
