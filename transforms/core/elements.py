"""Elements passed between stages (not records: those are in schemas/records.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.records import FeedSource
from transforms.core.feeds import format_utc
from transforms.core.http import redact_url


@dataclass(frozen=True)
class FeedEntry:
    """One feed item whose link has been resolved and canonicalised."""

    feed: FeedSource
    feed_title: str | None
    entry_url: str
    canonical_url: str
    article_id: str
    guid: str | None
    title: str | None
    summary: str | None
    authors: tuple[str, ...]
    published_at: str | None
    position: int

    @property
    def source(self) -> str:
        return self.feed.name or self.feed_title or redact_url(self.feed.url)

    def order_key(self) -> tuple[str, str, int]:
        """Earliest-published first, then feed and position: a stable choice in a batch."""
        return (self.published_at or "9999", self.feed.url, self.position)


@dataclass(frozen=True)
class FetchedPage:
    """An article page fetched and decoded by us (raw HTML never leaves this stage pair)."""

    entry: FeedEntry
    final_url: str
    html: str
    encoding: str
    fetched_at: str


def utc_now() -> str:
    return format_utc(datetime.now(tz=UTC))
