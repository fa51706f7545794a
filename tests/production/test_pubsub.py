"""Pub/Sub in and out, as far as an offline machine allows (no Pub/Sub emulator here).

Covered: message parsing and encoding, ParseSubmissionFn and the publish conversion
under the FnApiRunner, and Beam's ReadFromPubSub/WriteToPubSub in the job graph
(tests/production/test_dataflow_graph.py). Not covered: a real publish or pull.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.submit import main as submit
from tests.factories import article
from transforms.common import DEAD_LETTER, MAIN
from transforms.core import urls
from transforms.core.pubsub import (
    MAX_ATTRIBUTE_BYTES,
    Submission,
    SubmissionError,
    article_message,
    parse_submission,
    submission_message,
)
from transforms.pubsub import FEEDS, ParseSubmissionFn, ReadSubmissions, to_message

ORIGIN = "projects/p/subscriptions/urls"


def test_submission_round_trip() -> None:
    data, attributes = submission_message(" https://news.example/a?utm_source=x ", source="Wire")
    assert (data, attributes) == (
        b"https://news.example/a?utm_source=x",
        {"kind": "article", "source": "Wire"},
    )
    submission = parse_submission(data, attributes)
    assert submission == Submission("article", "https://news.example/a?utm_source=x", "Wire")
    entry = submission.entry(ORIGIN)
    assert entry.canonical_url == "https://news.example/a"
    assert entry.article_id == urls.article_id("https://news.example/a")
    assert (entry.feed.url, entry.source) == (ORIGIN, "Wire")
    feed = parse_submission(b"https://news.example/rss", {"kind": "feed"}).feed(ORIGIN)
    assert (feed.url, feed.name) == ("https://news.example/rss", None)


@pytest.mark.parametrize(
    ("data", "attributes", "reason"),
    [
        (b"\xff\xfe", None, "not_utf8"),
        (b"ftp://news.example/a", None, "invalid_url"),
        (b"not a url", None, "invalid_url"),
        (b"https://a.example/" + b"x" * 5000, None, "url_too_long"),
        (b"https://a.example/", {"kind": "podcast"}, "invalid_kind"),
    ],
)
def test_bad_submissions_have_precise_reasons(
    data: bytes, attributes: dict[str, str] | None, reason: str
) -> None:
    with pytest.raises(SubmissionError) as caught:
        parse_submission(data, attributes)
    assert caught.value.reason == reason


def test_article_message_body_and_attributes() -> None:
    record = article("https://news.example/a", "Text.", language="en", source="S" * 2000)
    data, attributes = article_message(record)
    assert json.loads(data) == record.to_row()
    assert attributes["article_id"] == record.article_id
    assert attributes["language"] == "en"
    assert attributes["schema_version"] == "1"
    assert len(attributes["source"].encode()) == MAX_ATTRIBUTE_BYTES


def test_parse_submissions_under_beam() -> None:
    messages = [
        PubsubMessage(b"https://news.example/a", {"kind": "article"}, message_id="1"),
        PubsubMessage(b"https://news.example/rss", {"kind": "feed"}, message_id="2"),
        PubsubMessage(b"javascript:alert(1)", {}, message_id="3"),
    ]
    with TestPipeline(runner="FnApiRunner") as p:
        out = (
            p
            | beam.Create(messages)
            | beam.ParDo(ParseSubmissionFn(ORIGIN)).with_outputs(FEEDS, DEAD_LETTER, main=MAIN)
        )
        assert_that(
            out[MAIN] | "Ids" >> beam.Map(lambda e: e.article_id),
            equal_to([urls.article_id("https://news.example/a")]),
            label="Articles",
        )
        assert_that(
            out[FEEDS] | "Urls" >> beam.Map(lambda f: f.url),
            equal_to(["https://news.example/rss"]),
            label="Feeds",
        )
        assert_that(
            out[DEAD_LETTER]
            | "Reasons" >> beam.Map(lambda d: (d.stage, d.reason, d.subject, d.detail)),
            equal_to([("pubsub_input", "invalid_url", "feed", {"message_id": "3"})]),
            label="DeadLetters",
        )


def test_publish_conversion_under_beam() -> None:
    record = article("https://news.example/a", "Text.", language="en")
    with TestPipeline(runner="FnApiRunner") as p:
        messages = p | beam.Create([record]) | beam.Map(to_message)
        assert_that(
            messages | beam.Map(lambda m: (json.loads(m.data)["url"], m.attributes["article_id"])),
            equal_to([(record.url, record.article_id)]),
        )


def test_read_submissions_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ReadSubmissions()
    with pytest.raises(ValueError, match="exactly one"):
        ReadSubmissions("projects/p/topics/t", "projects/p/subscriptions/s")


def test_submit_refuses_bad_urls_before_publishing(capsys: pytest.CaptureFixture[str]) -> None:
    assert submit(["--topic", "projects/p/topics/t", "https://ok.example/", "nope"]) == 2
    assert "invalid_url" in capsys.readouterr().err
