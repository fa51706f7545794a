"""The streaming dedup path (TTL'd state, processing-time timers) under TestStream.

Bounded runs judge per key with a GroupByKey; a streaming job buffers each key for a
settle period in state and keeps originals for a time-to-live. These tests drive that path
on Beam's BundleBasedDirectRunner, the Python runner that executes TestStream in process.
Its TestStream clock starts at 0 while the DoFns set timers from the wall clock, so each
test advances processing time past "now" first.
"""

from __future__ import annotations

import time
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import article, entry
from tests.transforms.test_dedup import FOLLOW_UP, STORY
from transforms.common import DUPLICATE, MAIN
from transforms.dedup import DeduplicateArticles, DeduplicateUrls

SETTLE_S = 5.0


def _pipeline() -> TestPipeline:
    return TestPipeline(runner="BundleBasedDirectRunner", options=PipelineOptions(streaming=True))


def _past_now() -> float:
    """A processing-time advance that takes the TestStream clock past every timer the
    DoFns set from the wall clock during the test (which runs well within a minute)."""
    return float(int(time.time()) + 60)


def test_copies_within_the_settle_period_keep_the_earliest_and_a_late_copy_is_a_duplicate() -> None:
    first = [
        entry("https://a.example/s/1?utm_source=rss", published="2026-11-02T00:00:00Z", position=1),
        entry("https://a.example/s/1#top", published="2026-11-01T00:00:00Z", position=0),
        entry("https://a.example/s/2"),
    ]
    # Published even earlier, but it arrives after the first copy was written: a record
    # cannot be taken back, so it is the duplicate.
    late = entry("https://a.example:443/s/1", published="2026-10-01T00:00:00Z", position=2)
    stream = (
        TestStream()
        .add_elements(first)
        .advance_processing_time(_past_now())
        .add_elements([late])
        .advance_processing_time(30)
        .advance_watermark_to_infinity()
    )
    with _pipeline() as p:
        out = p | stream | DeduplicateUrls(settle_s=SETTLE_S, ttl_s=3600)
        assert_that(
            out[MAIN] | "Urls" >> beam.Map(lambda e: e.entry_url),
            equal_to(["https://a.example/s/1#top", "https://a.example/s/2"]),
            label="main",
        )
        assert_that(
            out[DUPLICATE] | "Dups" >> beam.Map(lambda d: (d.url, d.duplicate_of)),
            equal_to(
                [
                    ("https://a.example/s/1?utm_source=rss", "https://a.example/s/1"),
                    ("https://a.example:443/s/1", "https://a.example/s/1"),
                ]
            ),
            label="duplicates",
        )


def test_an_original_expires_after_its_ttl() -> None:
    once = entry("https://a.example/s/1", published="2026-11-01T00:00:00Z")
    again = entry("https://a.example/s/1?ref=home", published="2026-11-01T00:00:00Z")
    stream = (
        TestStream()
        .add_elements([once])
        .advance_processing_time(_past_now())
        .advance_processing_time(600)  # past the 120 s TTL: the expiry timer drops it
        .add_elements([again])
        .advance_processing_time(30)
        .advance_watermark_to_infinity()
    )
    with _pipeline() as p:
        out = p | stream | DeduplicateUrls(settle_s=SETTLE_S, ttl_s=120)
        assert_that(
            out[MAIN] | "Urls" >> beam.Map(lambda e: e.entry_url),
            equal_to(["https://a.example/s/1", "https://a.example/s/1?ref=home"]),
            label="main",
        )
        assert_that(out[DUPLICATE], equal_to([]), label="duplicates")


def test_syndicated_copies_across_settle_periods() -> None:
    trimmed = STORY.rsplit("\n\n", 1)[0] + "\n\nThis article was originally published by Wire."
    wire = article("https://wire.example/rate", STORY, published="2026-11-01T08:00:00Z")
    harbor = article("https://harbor.example/rate", trimmed, published="2026-11-01T12:00:00Z")
    later_copy = article("https://copy.example/rate", STORY, published="2026-11-02T00:00:00Z")
    follow = article("https://wire.example/follow", FOLLOW_UP, published="2026-11-08T00:00:00Z")
    stream = (
        TestStream()
        .add_elements([harbor, wire])  # the copy arrives first; publication order decides
        .advance_processing_time(_past_now())
        .add_elements([later_copy, follow])
        .advance_processing_time(30)
        .advance_watermark_to_infinity()
    )

    def kind(d: Any) -> tuple[str, str, str]:
        return (d.url, d.kind, d.duplicate_of)

    with _pipeline() as p:
        out = p | stream | DeduplicateArticles(max_distance=12, settle_s=SETTLE_S, ttl_s=3600)
        assert_that(
            out[MAIN] | "Urls" >> beam.Map(lambda a: a.url),
            equal_to(["https://wire.example/rate", "https://wire.example/follow"]),
            label="main",
        )
        assert_that(
            out[DUPLICATE] | "Dups" >> beam.Map(kind),
            equal_to(
                [
                    ("https://harbor.example/rate", "near", "https://wire.example/rate"),
                    ("https://copy.example/rate", "exact", "https://wire.example/rate"),
                ]
            ),
            label="duplicates",
        )
