"""Small builders for elements and records used across transform tests."""

from __future__ import annotations

import dataclasses

from schemas.records import Article, FeedSource
from transforms.core import urls
from transforms.core.elements import FeedEntry
from transforms.core.extract import word_count

FEED = FeedSource(url="https://feeds.example/rss", name="Example Feed", country="ge", tags=("x",))


def entry(
    link: str, *, published: str | None = None, position: int = 0, feed: FeedSource = FEED
) -> FeedEntry:
    canonical = urls.canonicalize(link)
    return FeedEntry(
        feed=feed,
        feed_title="Example",
        entry_url=link,
        canonical_url=canonical,
        article_id=urls.article_id(canonical),
        guid=None,
        title=f"Title of {link}",
        summary="A summary.",
        authors=(),
        published_at=published,
        position=position,
    )


def article(
    link: str, text: str, *, published: str | None = None, language: str = "und", **changes: object
) -> Article:
    e = entry(link, published=published)
    record = Article(
        article_id=e.article_id,
        url=e.canonical_url,
        feed_url=e.feed.url,
        source="Example Feed",
        feed_meta=e.feed.meta(),
        title=e.title,
        text=text,
        summary=e.summary,
        authors=(),
        published_at=published,
        published_at_local=None,
        fetched_at="2026-11-20T00:00:00Z",
        language=language,
        language_score=0.0,
        language_detector="",
        entities=(),
        ner_model=None,
        fingerprint="",
        content_hash="",
        word_count=word_count(text),
        extraction="trafilatura",
        site_name=None,
        description=None,
        entry_url=link,
        final_url=link,
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]
