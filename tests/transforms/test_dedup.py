"""DeduplicateUrls and DeduplicateArticles under Beam's real runners."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import article, entry
from transforms.common import DUPLICATE, MAIN
from transforms.dedup import DeduplicateArticles, DeduplicateUrls

STORY = "\n\n".join(
    f"Paragraph {i}: the central bank in Yerevan kept its key rate unchanged on Thursday, "
    f"citing slowing inflation and a stronger dram, while exporters asked for relief {i}."
    for i in range(10)
)
FOLLOW_UP = "\n\n".join(
    f"Part {i}: a week after the rate decision, the finance ministry published new figures "
    f"showing remittances falling sharply and small firms borrowing less than planned {i}."
    for i in range(10)
)


def test_url_variants_fetch_once_and_earliest_wins() -> None:
    entries = [
        entry("https://a.example/s/1?utm_source=rss", published="2026-11-02T00:00:00Z", position=1),
        entry("https://a.example/s/1#comments", published="2026-11-01T00:00:00Z", position=0),
        entry("https://a.example:443/s/1", published=None, position=2),
        entry("https://a.example/s/2"),
    ]
    with TestPipeline(runner="FnApiRunner") as p:
        out = p | beam.Create(entries) | DeduplicateUrls(settle_s=None, ttl_s=60)
        assert_that(
            out[MAIN] | "Urls" >> beam.Map(lambda e: e.entry_url),
            equal_to(["https://a.example/s/1#comments", "https://a.example/s/2"]),
            label="main",
        )
        assert_that(
            out[DUPLICATE] | "Dups" >> beam.Map(lambda d: (d.url, d.kind, d.duplicate_of)),
            equal_to(
                [
                    ("https://a.example/s/1?utm_source=rss", "url", "https://a.example/s/1"),
                    ("https://a.example:443/s/1", "url", "https://a.example/s/1"),
                ]
            ),
            label="duplicates",
        )


def test_exact_and_near_copies_point_to_the_earliest() -> None:
    trimmed = STORY.rsplit("\n\n", 1)[0] + "\n\nThis article was originally published by Wire."
    records = [
        article("https://wire.example/rate", STORY, published="2026-11-01T08:00:00Z"),
        article("https://harbor.example/rate", trimmed, published="2026-11-01T12:00:00Z"),
        article("https://copy.example/rate", STORY, published="2026-11-02T00:00:00Z"),
        article("https://wire.example/follow-up", FOLLOW_UP, published="2026-11-08T00:00:00Z"),
        article("https://tiny.example/a", "Short.", published="2026-11-01T00:00:00Z"),
        article("https://tiny.example/b", "Short.", published="2026-11-01T00:00:00Z"),
    ]
    # Arrival order must not matter in a batch: feed them latest first.
    with TestPipeline(runner="FnApiRunner") as p:
        out = p | beam.Create(list(reversed(records))) | DeduplicateArticles(12, None, 60)
        assert_that(
            out[MAIN] | "Kept" >> beam.Map(lambda a: (a.url, len(a.fingerprint))),
            equal_to(
                [
                    ("https://wire.example/rate", 16),
                    ("https://wire.example/follow-up", 16),
                    ("https://tiny.example/a", 16),
                    ("https://tiny.example/b", 16),
                ]
            ),
            label="main",
        )
        assert_that(
            out[DUPLICATE] | "Dups" >> beam.Map(lambda d: (d.url, d.kind, d.duplicate_of)),
            equal_to(
                [
                    ("https://harbor.example/rate", "near", "https://wire.example/rate"),
                    ("https://copy.example/rate", "exact", "https://wire.example/rate"),
                ]
            ),
            label="duplicates",
        )
