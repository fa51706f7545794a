"""The production BigQuery sink against a real emulator, read back with the official client."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from schemas import table_schema
from schemas.records import DeadLetter, Duplicate, Entity
from tests.factories import article
from transforms.bigquery import WriteBigQueryTables
from transforms.core.bigquery import (
    ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    KINDS,
    SCHEMA_OF,
    Tables,
    ensure_tables,
)

RUNNER = "FnApiRunner"
GOOD = article(
    "https://news.example/a",
    "Lavrov met Mirzoyan in Tbilisi.",
    published="2025-02-11T06:30:00Z",
    language="en",
    entities=(Entity("Tbilisi", "LOC", "Tbilisi", 2, ((22, 29), (40, 47))),),
)
OTHER = article("https://news.example/b", "Another story.", published="2025-02-12T08:00:00Z")
# Valid for newsbeam, not for BigQuery: a TIMESTAMP column cannot hold this.
BAD = article("https://news.example/bad", "Text.", published="yesterday at noon")
DUPLICATE = Duplicate(
    url="https://copy.example/a",
    duplicate_of=GOOD.url,
    duplicate_of_id=GOOD.article_id,
    kind="near",
    similarity=0.93,
    article_id="0" * 32,
    feed_url="https://copy.example/rss",
    source="Copy",
    title=None,
    published_at=None,
    detected_at="2026-11-20T00:00:01Z",
)
LETTER = DeadLetter(
    stage="fetch",
    url="https://news.example/gone",
    feed_url="https://news.example/rss",
    reason="http_404",
    error="HTTP 404",
    at="2026-11-20T00:00:02Z",
    detail={"article_id": "1" * 32},
)


def rows(client: Any, table: str) -> list[dict[str, Any]]:
    query = f"SELECT * FROM `{table}`"  # noqa: S608 (a table name of the test's own)
    return [dict(r) for r in client.query(query).result()]


def write(tables: Tables, articles: list[Any], duplicates: list[Any], letters: list[Any]) -> None:
    with TestPipeline(runner=RUNNER) as p:
        outputs = {
            ARTICLES: p | "Articles" >> beam.Create(articles),
            DUPLICATES: p | "Duplicates" >> beam.Create(duplicates),
            DEAD_LETTERS: p | "DeadLetters" >> beam.Create(letters),
        }
        outputs | "WriteBigQueryTables" >> WriteBigQueryTables(tables, max_retries=1)


def test_tables_are_created_from_the_schemas_partitioned_and_clustered(
    bq_client: Any, tables: Tables
) -> None:
    created = ensure_tables(bq_client, tables)
    assert created == [tables.qualified(kind) for kind in KINDS]
    assert ensure_tables(bq_client, tables) == []  # idempotent

    articles = bq_client.get_table(tables.qualified(ARTICLES))
    assert articles.time_partitioning.field == "published_at"
    assert articles.clustering_fields == ["source", "language"]
    for kind in KINDS:
        table = bq_client.get_table(tables.qualified(kind))
        expected = [f["name"] for f in table_schema(SCHEMA_OF[kind])["fields"]]
        assert [f.name for f in table.schema] == expected


def test_sink_writes_every_kind_and_rejected_rows_become_dead_letters(
    bq_client: Any, tables: Tables
) -> None:
    ensure_tables(bq_client, tables)
    write(tables, [GOOD, OTHER, BAD], [DUPLICATE], [LETTER])

    written = {r["article_id"]: r for r in rows(bq_client, tables.qualified(ARTICLES))}
    assert set(written) == {GOOD.article_id, OTHER.article_id}
    good = written[GOOD.article_id]
    assert good["feed_meta"] == GOOD.feed_meta
    assert good["entities"][0]["canonical"] == "Tbilisi"
    spans = good["entities"][0]["spans"]
    # The emulator returns a JSON value nested in a record as its text.
    assert (json.loads(spans) if isinstance(spans, str) else spans) == [[22, 29], [40, 47]]
    assert good["published_at"].isoformat() == "2025-02-11T06:30:00+00:00"

    (duplicate,) = rows(bq_client, tables.qualified(DUPLICATES))
    assert (duplicate["duplicate_of_id"], duplicate["kind"]) == (GOOD.article_id, "near")

    letters = {r["stage"]: r for r in rows(bq_client, tables.qualified(DEAD_LETTERS))}
    assert set(letters) == {"fetch", "bigquery"}
    assert letters["fetch"]["detail"] == {"article_id": "1" * 32}
    rejected = letters["bigquery"]
    assert rejected["reason"] == "bigquery_invalid"
    assert rejected["url"] == BAD.url
    assert rejected["at"] is not None
    assert rejected["error"]
    assert rejected["detail"]["table"] == tables.spec(ARTICLES)
    assert json.loads(rejected["detail"]["row"])["published_at"] == "yesterday at noon"


def test_rows_for_a_missing_table_become_dead_letters_without_retrying(
    bq_client: Any, tables: Tables
) -> None:
    ensure_tables(bq_client, tables)
    bq_client.delete_table(tables.qualified(DUPLICATES))
    write(tables, [GOOD], [DUPLICATE, dataclasses.replace(DUPLICATE, url="https://c.example/")], [])

    assert [r["article_id"] for r in rows(bq_client, tables.qualified(ARTICLES))] == [
        GOOD.article_id
    ]
    letters = rows(bq_client, tables.qualified(DEAD_LETTERS))
    assert sorted(r["url"] for r in letters) == sorted([DUPLICATE.url, "https://c.example/"])
    assert {r["reason"] for r in letters} == {"bigquery_not_found"}
