"""A small output directory laid out as the sink writes it, from real record types."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from schemas.records import Article, DeadLetter, Duplicate, Entity
from tests.factories import article

RUN_ID = "20261120T000000Z-abc123"
Writer = Callable[[str, Sequence[Any], str], None]


def write_records(output: Path, kind: str, records: Sequence[Any], run_id: str = RUN_ID) -> None:
    folder = output / kind
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r.to_row(), ensure_ascii=False) for r in records]
    (folder / f"{run_id}-00000-of-00001.jsonl").write_text(
        "".join(f"{line}\n" for line in lines), encoding="utf-8"
    )


def entity(name: str, label: str, count: int = 1) -> Entity:
    return Entity(text=name, label=label, canonical=name, count=count, spans=((0, len(name)),))


def sample_articles() -> list[Article]:
    lavrov, tbilisi, eu = (
        entity("Sergei Lavrov", "PER", 2),
        entity("Tbilisi", "LOC"),
        entity("European Union", "ORG"),
    )
    return [
        # 22:30 UTC on the 10th is already the 11th in Tbilisi (+04:00).
        article(
            "https://ledger.example/a", "Talks in Tbilisi.", language="en",
            published="2025-02-10T22:30:00Z", published_at_local="2025-02-11T02:30:00+04:00",
            source="Ledger", fingerprint="00000000000000aa", entities=(lavrov, tbilisi),
            title="Talks\n open",
        ),
        article(
            "https://wire.example/b", "Lavrov and the EU.", language="en",
            published="2025-02-10T09:00:00Z", published_at_local="2025-02-10T12:00:00+03:00",
            source="Wire", fingerprint="00000000000000bb", entities=(lavrov, eu), title="Second",
        ),
        article(
            "https://vestnik.example/c", "Новости дня.", language="ru", published=None,
            source="Vestnik", fingerprint="00000000000000cc", title="Без даты",
        ),
    ]  # fmt: skip


def sample_duplicate(original: Article) -> Duplicate:
    return Duplicate(
        url="https://wire.example/copy", duplicate_of=original.url,
        duplicate_of_id=original.article_id, kind="near", similarity=0.91,
        article_id="ffffffffffffffffffffffffffffffff", feed_url="https://wire.example/rss",
        source="Wire", title="Copy", published_at="2025-02-11T10:00:00Z",
        detected_at="2026-11-20T00:00:01Z",
    )  # fmt: skip


def sample_dead_letter() -> DeadLetter:
    return DeadLetter(
        stage="fetch", url="https://wire.example/gone", feed_url="https://wire.example/rss",
        reason="http_404", error="HTTP 404", at="2026-11-20T00:00:02Z",
        detail={"title": "Gone"},
    )  # fmt: skip


@pytest.fixture
def output(tmp_path: Path) -> Path:
    """An output directory with three articles, one duplicate and one dead letter."""
    out = tmp_path / "out"
    articles = sample_articles()
    write_records(out, "articles", articles)
    write_records(out, "duplicates", [sample_duplicate(articles[0])])
    write_records(out, "dead_letters", [sample_dead_letter()])
    (out / "runs").mkdir()
    (out / "runs" / f"{RUN_ID}.json").write_text(
        json.dumps({"run_id": RUN_ID, "articles_written": 3, "conserved": True}), "utf-8"
    )
    return out
