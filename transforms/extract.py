"""ExtractArticles: main text and metadata of each fetched page, as an Article record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from schemas.records import Article
from transforms.common import DEAD_LETTER, MAIN, counter, entry_dead_letter
from transforms.core.elements import FetchedPage
from transforms.core.extract import Extraction, extract_article
from transforms.core.http import redact_url
from transforms.core.isolate import IsolatedWorker, IsolationError
from transforms.core.language import UNDETERMINED
from transforms.core.sanitize import safe_article

STAGE = "extract"
DEFAULT_TIMEOUT_S = 30.0
# The extraction child's address space: a page that would need more fails there with
# MemoryError (extraction_error) instead of growing the worker.
MEMORY_LIMIT_BYTES = 2 * 1024**3


def build_article(page: FetchedPage, extraction: Extraction) -> Article:
    """The record for one page; language, entities and fingerprints are filled in later."""
    entry = page.entry
    return safe_article(
        Article(
            article_id=entry.article_id,
            url=entry.canonical_url,
            feed_url=entry.feed.url,
            source=entry.feed.name
            or extraction.site_name
            or entry.feed_title
            or redact_url(entry.feed.url),
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
            entry_url=entry.entry_url,
            final_url=page.final_url,
        )
    )


class ExtractArticleFn(beam.DoFn):
    """Extraction runs in a child process (transforms.core.isolate) that is killed when a
    page takes longer than `timeout_s`: `extraction_timeout`, and the next page gets a
    fresh child."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s
        self._worker: IsolatedWorker[Extraction] | None = None

    def setup(self) -> None:
        self._worker = IsolatedWorker(
            extract_article,
            timeout_s=self._timeout_s,
            name="extraction",
            memory_limit_bytes=MEMORY_LIMIT_BYTES,
        )
        self._worker.start()

    def teardown(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def process(self, page: FetchedPage) -> Iterator[Any]:
        assert self._worker is not None
        entry = page.entry
        try:
            extraction = self._worker.call(
                page.html,
                page.final_url,
                feed_title=entry.title,
                feed_summary=entry.summary,
                feed_published=entry.published_at,
            )
        except IsolationError as err:
            yield entry_dead_letter(STAGE, err.reason, err.message, entry)
            return
        article = build_article(page, extraction)
        counter(f"articles.extracted.{article.extraction}").inc()
        yield article


class ExtractArticles(beam.PTransform):
    """FetchedPage -> Article (main) and dead letters."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def expand(self, pages: beam.PCollection) -> dict[str, beam.PCollection]:
        results = pages | "Extract" >> beam.ParDo(ExtractArticleFn(self._timeout_s)).with_outputs(
            DEAD_LETTER, main=MAIN
        )
        return {MAIN: results[MAIN], DEAD_LETTER: results[DEAD_LETTER]}
