"""CPU per article of each pipeline stage, measured in isolation with the project's own
stage functions (no Beam), and the peers' extraction cost measured the same way.

Each stage runs over the same pages, in pipeline order, and its CPU time is summed
separately: fetch (our HTTP client over loopback, decoding included; the calling thread's
CPU only, since the server answers from other threads of this process), extract
(trafilatura and our cleaning, as `PageExtractor` runs it in its children), dedup
(fingerprints and the bucket decision), language, entities (spaCy in its child process
as `TagEntities` runs it, in batches of 32 as RunInference batches; the child's CPU is
counted) and sink (the JSON line, written to a file). The other stages use
`time.process_time`, all threads of the process, because BLAS may use more than one.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.pages import GeneratedArticle
from pipeline import USER_AGENT
from schemas.records import Article, FeedSource
from transforms.core import dedup
from transforms.core.elements import FeedEntry, FetchedPage, utc_now
from transforms.core.extract import extract_article
from transforms.core.http import (
    AddressPolicy,
    HttpClient,
    HttpConfig,
    decode_body,
    ensure_not_compressed,
)
from transforms.core.language import LanguageDetector
from transforms.core.urls import article_id
from transforms.entities import SpacyNerModelHandler
from transforms.extract import build_article
from transforms.fetch import ARTICLE_CONTENT_TYPES
from transforms.sink import ARTICLES, to_json_line

STAGES = ("fetch", "extract", "dedup", "language", "entities", "sink")
ENRICHMENT = ("extract", "language", "entities")
NER_BATCH = 32


def _entry(article: GeneratedArticle, url: str, feed_url: str) -> FeedEntry:
    return FeedEntry(
        feed=FeedSource(url=feed_url, name=f"Ledger {article.host}"),
        feed_title=f"Ledger {article.host}",
        entry_url=url,
        canonical_url=url,
        article_id=article_id(url),
        guid=url,
        title=article.title,
        summary=article.paragraphs[0][:300],
        authors=(),
        published_at=article.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        position=0,
    )


def measure_stages(
    articles: Sequence[tuple[GeneratedArticle, str, str]], allow_address: str
) -> dict[str, float]:
    """CPU ms per article of each stage over `(article, page URL, feed URL)` triples."""
    client = HttpClient(
        HttpConfig(
            user_agent=USER_AGENT,
            timeout_s=20.0,
            policy=AddressPolicy.from_string(allow_address),
            allowed_content_types=ARTICLE_CONTENT_TYPES,
        )
    )
    detector = LanguageDetector()
    ner = SpacyNerModelHandler(NER_BATCH).load_model()
    spent = dict.fromkeys(STAGES, 0.0)
    # Warm-up outside the clock: first calls load lazily built tables.
    detector.detect("warm up the detector with a sentence of plain English words")
    ner.call(["Anna Keller met the mayor of Lisbon."], 1)
    records: list[Article] = []
    try:
        for article, url, feed_url in articles:
            entry = _entry(article, url, feed_url)
            started = time.thread_time()
            response = client.get(url)
            ensure_not_compressed(response.body)
            html, encoding = decode_body(response.body, response.headers.get("content-type"))
            spent["fetch"] += time.thread_time() - started
            page = FetchedPage(entry, response.final_url, html, encoding, utc_now())

            started = time.process_time()
            extraction = extract_article(
                html,
                url,
                feed_title=entry.title,
                feed_summary=entry.summary,
                feed_published=entry.published_at,
            )
            record = build_article(page, extraction)
            spent["extract"] += time.process_time() - started

            started = time.process_time()
            prints = dedup.fingerprints(record.text)
            probe = dedup.Probe(
                record.article_id, record.url, record.published_at, prints.simhash, ""
            )
            dedup.resolve([dedup.judge(probe, [], dedup.NEAR_DUPLICATE_DISTANCE)])
            record = dataclasses.replace(
                record,
                fingerprint=dedup.fingerprint_hex(prints.simhash),
                content_hash=prints.content_hash,
            )
            spent["dedup"] += time.process_time() - started

            started = time.process_time()
            guess = detector.detect(f"{record.title or ''}\n{record.text}")
            record = dataclasses.replace(
                record,
                language=guess.language,
                language_score=guess.score,
                language_detector=guess.detector,
            )
            spent["language"] += time.process_time() - started
            records.append(record)
    finally:
        client.close()

    tagged: list[Article] = []
    for start in range(0, len(records), NER_BATCH):
        batch = records[start : start + NER_BATCH]
        started, child_started = time.process_time(), _cpu_s(ner.pid)
        model_name, found = ner.call([r.text for r in batch], NER_BATCH)
        tagged.extend(
            dataclasses.replace(r, entities=tuple(f), ner_model=model_name)
            for r, f in zip(batch, found, strict=True)
        )
        spent["entities"] += time.process_time() - started + _cpu_s(ner.pid) - child_started
    ner.close()

    with tempfile.TemporaryFile("w", encoding="utf-8") as sink:
        started = time.process_time()
        for record in tagged:
            sink.write(to_json_line(record, ARTICLES) + "\n")
        sink.flush()
        spent["sink"] += time.process_time() - started

    return {stage: round(1000 * spent[stage] / len(articles), 2) for stage in STAGES}


def _cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- peers: extraction alone -------------------------------------------------------------


def _trafilatura() -> Callable[[str, str], object]:
    import trafilatura

    return lambda html, url: trafilatura.extract(html, url=url)


def _newspaper4k() -> Callable[[str, str], object]:
    import newspaper  # type: ignore[import-untyped]

    def run(html: str, url: str) -> object:
        article = newspaper.Article(url, fetch_images=False)
        article.download(input_html=html)
        article.parse()
        return article.text

    return run


def _news_please() -> Callable[[str, str], object]:
    from newsplease import NewsPlease  # type: ignore[import-untyped]

    return lambda html, url: NewsPlease.from_html(html, url=url, fetch_images=False)


PEERS: dict[str, Callable[[], Callable[[str, str], object]]] = {
    "trafilatura 2.3.1 default": _trafilatura,
    "newspaper4k 0.9.6": _newspaper4k,
    "news-please 1.6.16": _news_please,
}
OURS = "newsbeam extract_article"


def measure_extractors(pages: Sequence[tuple[str, str]]) -> dict[str, float | str]:
    """CPU ms per page of our extraction and each peer's over `(html, url)` pairs; a peer
    that cannot be imported is reported as such, not measured."""
    extractors: dict[str, Callable[[], Callable[[str, str], object]]] = {
        OURS: lambda: lambda html, url: extract_article(html, url),
        **PEERS,
    }
    results: dict[str, float | str] = {}
    for name, make in extractors.items():
        try:
            run = make()
        except ImportError as err:
            results[name] = f"not installed ({err.name})"
            continue
        run(pages[0][0], pages[0][1])  # imports and lazy tables, off the clock
        started = time.process_time()
        for html, url in pages:
            try:
                run(html, url)
            except Exception:  # noqa: BLE001, S112 - a peer's failure costs what it cost
                continue
        results[name] = round(1000 * (time.process_time() - started) / len(pages), 2)
    return results


def shared_pages(eval_dir: Path, limit: int) -> list[tuple[str, str]]:
    """The ScrapingHub AEB pages of `../shared/eval`, decoded as our fetcher decodes them;
    empty when the set is absent."""
    folder = eval_dir / "extraction" / "scrapinghub_aeb"
    index = folder / "index.jsonl"
    if not index.is_file():
        return []
    pages: list[tuple[str, str]] = []
    for row in _rows(index.read_text(encoding="utf-8").splitlines()):
        raw = gzip.decompress((folder / row["html"]).read_bytes())
        html, _ = decode_body(raw, "text/html")
        pages.append((html, row["url"]))
    return pages[:limit]


def _rows(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    return (json.loads(line) for line in lines if line.strip())
