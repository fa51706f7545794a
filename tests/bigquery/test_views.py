"""deploy/bigquery/views.sql on the emulator, over rows written by the production sink."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from pipeline.bigquery_setup import create_tables
from schemas.records import Entity
from tests.bigquery.test_sink import GOOD, OTHER, rows, write
from transforms.core.bigquery import ARTICLES, Tables


def test_day_one_views(bq_client: Any, tables: Tables) -> None:
    created = create_tables(tables.spec(ARTICLES))  # the command's code path
    assert len(created) == 3
    newer = dataclasses.replace(
        GOOD,
        fetched_at="2026-11-21T00:00:00Z",
        title="Updated title",
        entities=(*GOOD.entities, Entity("Lavrov", "PER", "Sergei Lavrov", 1, ((0, 6),))),
    )
    write(tables, [GOOD, OTHER, newer], [], [])
    base = tables.qualified(ARTICLES)

    latest = {r["article_id"]: r for r in rows(bq_client, f"{base}_latest")}
    assert set(latest) == {GOOD.article_id, OTHER.article_id}
    assert latest[GOOD.article_id]["title"] == "Updated title"
    assert "version" not in latest[GOOD.article_id]

    mentions = rows(bq_client, f"{base}_entity_mentions")
    assert sorted((m["canonical"], m["label"], m["mentions"]) for m in mentions) == [
        ("Sergei Lavrov", "PER", 1),
        ("Tbilisi", "LOC", 2),
    ]
    assert {m["article_id"] for m in mentions} == {GOOD.article_id}

    counts = sorted(
        (r["day"], r["source"], r["language"], r["articles"])
        for r in rows(bq_client, f"{base}_daily_counts")
    )
    assert counts == [
        (datetime.date(2025, 2, 11), "Example Feed", "en", 1),
        (datetime.date(2025, 2, 12), "Example Feed", "und", 1),
    ]
