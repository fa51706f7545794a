"""ExtractArticles: main text and metadata of each fetched page, as an Article record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from schemas.records import Article
from transforms.common import DEAD_LETTER, MAIN, counter, entry_dead_letter
from transforms.core.elements import FetchedPage
from transforms.core.extract import ExtractionError, extract_article
from transforms.core.http import redact_url
from transforms.core.language import UNDETERMINED

STAGE = "extract"


def build_article(page: FetchedPage) -> Article:
    """The record for one page; language, entities and fingerprints are filled in later."""
    entry = page.entry
    extraction = extract_article(
        page.html,
        page.final_url,
        feed_title=entry.title,
        feed_summary=entry.summary,
        feed_published=entry.published_at,
    )
    return Article(
        article_id=entry.article_id,
        url=entry.canonical_url,
        feed_url=redact_url(entry.feed.url),
        source=entry.feed.name or extraction.site_name or entry.feed_title or entry.feed.url,
        feed_meta=entry.feed.meta(),
        # A page that yielded no text (a JavaScript shell) usually has no real headline
        # either, just the site name: the feed's title is then the better one.
        title=(extraction.title or entry.title)
        if extraction.method == "trafilatura"
        else (entry.title or extraction.title),
        text=extraction.text,
        summary=entry.summary,
        authors=extraction.authors or entry.authors,
        published_at=extraction.published_at or entry.published_at,
        published_at_local=extraction.published_at_local,
        fetched_at=page.fetched_at,
        language=UNDETERMINED,
        language_score=0.0,
        language_detector="",
        entities=(),
        ner_model=None,
        fingerprint="",
        content_hash="",
        word_count=extraction.word_count,
        extraction=extraction.method,
        site_name=extraction.site_name,
        description=extraction.description,
        entry_url=redact_url(entry.entry_url),
        final_url=redact_url(page.final_url),
    )


class ExtractArticleFn(beam.DoFn):
    def process(self, page: FetchedPage) -> Iterator[Any]:
        try:
            article = build_article(page)
        except ExtractionError as err:
            yield entry_dead_letter(STAGE, err.reason, str(err), page.entry)
            return
        counter(f"articles.extracted.{article.extraction}").inc()
        yield article


class ExtractArticles(beam.PTransform):
    """FetchedPage -> Article (main) and dead letters."""

    def expand(self, pages: beam.PCollection) -> dict[str, beam.PCollection]:
        results = pages | "Extract" >> beam.ParDo(ExtractArticleFn()).with_outputs(
            DEAD_LETTER, main=MAIN
        )
        return {MAIN: results[MAIN], DEAD_LETTER: results[DEAD_LETTER]}
