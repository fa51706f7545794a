"""The records newsbeam writes, one dataclass each.

These are the only record types: every sink (JSONL files locally, BigQuery on Dataflow)
writes `to_row()` of them, and the BigQuery table schemas beside this module
(`article.json`, `duplicate.json`, `dead_letter.json`) must describe exactly these fields
(tests/unit/test_schemas.py keeps the two in sync).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

DuplicateKind = Literal["url", "exact", "near"]
DeadLetterSubject = Literal["feed", "entry"]


@dataclass(frozen=True)
class FeedSource:
    """One feed from the feed list, with the metadata users attached to it."""

    url: str
    name: str | None = None
    country: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    category: str | None = None

    def meta(self) -> dict[str, Any]:
        """The feed-list metadata copied into every record from this feed."""
        return {
            "name": self.name,
            "country": self.country,
            "language": self.language,
            "tags": list(self.tags),
            "category": self.category,
        }


@dataclass(frozen=True)
class Entity:
    """One entity of an article: all its mentions merged under one canonical name."""

    text: str
    label: str
    canonical: str
    count: int
    spans: tuple[tuple[int, int], ...]

    def to_row(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label,
            "canonical": self.canonical,
            "count": self.count,
            "spans": [list(s) for s in self.spans],
        }


@dataclass(frozen=True)
class Article:
    """One unique article: the main record newsbeam produces."""

    article_id: str
    url: str
    feed_url: str
    source: str
    feed_meta: dict[str, Any]
    title: str | None
    text: str
    summary: str | None
    authors: tuple[str, ...]
    published_at: str | None
    published_at_local: str | None
    fetched_at: str
    language: str
    language_score: float
    language_detector: str
    entities: tuple[Entity, ...]
    ner_model: str | None
    fingerprint: str
    content_hash: str
    word_count: int
    extraction: str
    site_name: str | None
    description: str | None
    entry_url: str
    final_url: str
    schema_version: int = SCHEMA_VERSION
    # Added after the first release, so with defaults: code that builds an Article
    # without them keeps working.
    modified_at: str | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None

    def to_row(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        row["authors"] = list(self.authors)
        row["tags"] = list(self.tags)
        row["entities"] = [e.to_row() for e in self.entities]
        return row


@dataclass(frozen=True)
class Duplicate:
    """A feed entry recognised as a copy of an article already kept."""

    url: str
    duplicate_of: str
    duplicate_of_id: str
    kind: DuplicateKind
    similarity: float
    article_id: str
    feed_url: str
    source: str
    title: str | None
    published_at: str | None
    detected_at: str

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DeadLetter:
    """Something that failed, with the stage and a precise reason.

    `subject` says whether a whole feed failed (it had no entries to lose) or one feed
    entry did (then it counts in the run's conservation sum).
    """

    stage: str
    url: str
    feed_url: str
    reason: str
    error: str
    at: str
    subject: DeadLetterSubject = "entry"
    detail: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
