"""Main text and metadata of each fetched page, as an Article record (run by FetchArticles)."""

from __future__ import annotations

import collections
import queue
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from apache_beam.pvalue import TaggedOutput

from schemas.records import Article
from transforms.common import counter, entry_dead_letter
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
            modified_at=extraction.modified_at,
            tags=extraction.tags,
            image_url=extraction.image_url,
        )
    )


class PageExtractor:
    """Extracts pages in `processes` child processes (transforms.core.isolate), in order.

    A child is killed when a page takes longer than `timeout_s` (`extraction_timeout`) and
    the next page gets a fresh one. The fetch DoFn owns it (`start()` in its `setup()`) and
    hands each page over as soon as it is fetched, so raw HTML (~120 KiB a page) never
    becomes an element: a bounded run would otherwise hold every page in memory between
    two steps, and pickle each one between processes. With two children, extraction
    overlaps the next fetches and itself, so it uses both cores of a small machine even
    in the step the runner keeps on one worker (it is stateful: keyed by host).

    `submit` returns the results of earlier pages once every child is busy, `drain` the
    rest; each comes back once, in order, with the `tag` it was submitted with.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, processes: int = 2) -> None:
        self._timeout_s = timeout_s
        self._processes = processes
        self._idle: queue.SimpleQueue[IsolatedWorker[Extraction]] | None = None
        self._workers: list[IsolatedWorker[Extraction]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pending: collections.deque[tuple[FetchedPage, Any, Future[Extraction]]] = (
            collections.deque()
        )

    def start(self) -> None:
        self._workers = [
            IsolatedWorker(
                extract_article,
                timeout_s=self._timeout_s,
                name="extraction",
                memory_limit_bytes=MEMORY_LIMIT_BYTES,
            )
            for _ in range(self._processes)
        ]
        self._pool = ThreadPoolExecutor(self._processes, thread_name_prefix="extraction")
        # Started side by side: each child spends a second or two on its imports.
        list(self._pool.map(IsolatedWorker.start, self._workers))
        self._idle = queue.SimpleQueue()
        for worker in self._workers:
            self._idle.put(worker)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for worker in self._workers:
            worker.close()
        self._pending.clear()

    def submit(self, page: FetchedPage, tag: Any) -> list[tuple[Any, Article | TaggedOutput]]:
        assert self._pool is not None
        self._pending.append((page, tag, self._pool.submit(self._call, page)))
        done = []
        while len(self._pending) > self._processes:
            done.append(self._result(*self._pending.popleft()))
        return done

    def drain(self) -> Iterator[tuple[Any, Article | TaggedOutput]]:
        while self._pending:
            yield self._result(*self._pending.popleft())

    def discard(self) -> None:
        """Forgets pages of an abandoned bundle (their children finish, then serve again)."""
        self._pending.clear()

    def _call(self, page: FetchedPage) -> Extraction:
        # In a pool thread: only the child call, so metrics and records stay on the
        # DoFn's thread (Beam's metrics container is per thread).
        assert self._idle is not None
        worker = self._idle.get()
        try:
            entry = page.entry
            return worker.call(
                page.html,
                page.final_url,
                feed_title=entry.title,
                feed_summary=entry.summary,
                feed_published=entry.published_at,
            )
        finally:
            self._idle.put(worker)

    @staticmethod
    def _result(
        page: FetchedPage, tag: Any, future: Future[Extraction]
    ) -> tuple[Any, Article | TaggedOutput]:
        """The page's Article, or an `extract` dead letter."""
        try:
            extraction = future.result()
        except IsolationError as err:
            return tag, entry_dead_letter(STAGE, err.reason, err.message, page.entry)
        article = build_article(page, extraction)
        counter(f"articles.extracted.{article.extraction}").inc()
        return tag, article
