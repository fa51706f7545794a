"""Catalogue rows 31-34, 38 and 39, and the promise behind all rows: under the real
stages (TestPipeline, FnApiRunner) every hostile input ends as exactly one record or one
dead letter with a precise reason, and the pipeline keeps flowing."""

from __future__ import annotations

import dataclasses
import gzip

import apache_beam as beam
import pytest
from apache_beam.pvalue import TaggedOutput
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Article
from tests.factories import entry
from tests.hostile.conftest import http_config
from tests.hostile.server import HostileServer, drip, endless, gzip_bomb, redirect, respond
from transforms.common import DEAD_LETTER, MAIN
from transforms.core.elements import FetchedPage
from transforms.core.extract import Extraction, extract_article
from transforms.core.isolate import IsolatedWorker, IsolationError
from transforms.core.language import UNDETERMINED, LanguageDetector
from transforms.core.politeness import PacingPolicy
from transforms.core.sanitize import MAX_TEXT_CHARS
from transforms.extract import PageExtractor, build_article
from transforms.fetch import ARTICLE_CONTENT_TYPES, FetchArticles

RUNNER = "FnApiRunner"
WORDS = " ".join(f"word{i}" for i in range(60))
PAGE = f"<html><body><article><h1>Headline</h1><p>{WORDS}.</p></article></body></html>"
FIFTY_K_PARAGRAPHS = "<html><body>" + "<p>x</p>" * 50_000 + "</body></html>"
DEEP = "<html><body>" + "<div>" * 5000 + f"<p>{WORDS}</p>" + "</div>" * 5000 + "</body></html>"


def page(link: str, html: object) -> FetchedPage:
    return FetchedPage(
        entry=entry(link),
        final_url=link,
        html=html,  # type: ignore[arg-type]  # row 39 sends a poison value on purpose
        encoding="utf-8",
        fetched_at="2026-11-20T00:00:00Z",
    )


@pytest.fixture(scope="module")
def extractor() -> IsolatedWorker[Extraction]:
    with IsolatedWorker(extract_article, timeout_s=1.0, name="extraction") as worker:
        yield worker


def test_row31_deeply_nested_html_neither_crashes_nor_hangs(
    extractor: IsolatedWorker[Extraction],
) -> None:
    """Row 31: 5000 nested <div>s (libxml2 stops at depth 256; huge_tree stays off):
    extraction returns in time, falling back to the feed's title for the lost text."""
    result = extractor.call(DEEP, "https://n.example/deep", feed_title="Deep page")
    assert result.method == "feed_title"
    assert result.text == "Deep page"


def test_row32_pathological_page_is_killed_at_the_time_limit(
    extractor: IsolatedWorker[Extraction],
) -> None:
    """Row 32: 50,000 paragraphs take trafilatura seconds; the child is killed at the
    limit (extraction_timeout) and the next page is served by a fresh child."""
    with pytest.raises(IsolationError) as info:
        extractor.call(FIFTY_K_PARAGRAPHS, "https://n.example/slow")
    assert info.value.reason == "extraction_timeout"
    assert extractor.call(PAGE, "https://n.example/ok").method == "trafilatura"


def test_row33_huge_text_is_capped_before_storage_and_language_detection() -> None:
    """Row 33: a 2 MB one-line text is cut at MAX_TEXT_CHARS in the record, and the
    language detector only ever reads a bounded prefix."""
    text = "lorem ipsum dolor " * 120_000
    extraction = Extraction(text, "t", (), None, None, None, None, "trafilatura", 360_000)
    article = build_article(page("https://n.example/huge", PAGE), extraction)
    assert len(article.text) == MAX_TEXT_CHARS
    assert article.word_count == len(article.text.split())
    assert LanguageDetector().detect(text).language != UNDETERMINED


@pytest.mark.parametrize("text", ["", "12345", "a", "\x00\x00", "!!! ???"])
def test_row34_empty_numeric_or_short_text_is_undetermined(text: str) -> None:
    """Row 34: no exception, language "und"."""
    assert LanguageDetector().detect(text).language == UNDETERMINED


def test_row38_a_retried_extraction_yields_the_identical_record(
    extractor: IsolatedWorker[Extraction],
) -> None:
    """Row 38: the same page extracted again (here by a fresh child after a kill, as a
    retried bundle would) gives the same record, key included."""
    fetched = page("https://n.example/same", PAGE)
    first = build_article(fetched, extractor.call(PAGE, fetched.final_url))
    extractor.close()
    again = build_article(fetched, extractor.call(PAGE, fetched.final_url))
    assert first == again


def test_row39_poison_pages_become_dead_letters_and_the_stage_keeps_flowing() -> None:
    """Row 39 (+ 20, 32): through the fetch step's PageExtractor a non-text page, a
    pathological page and a page full of NULs and secrets each end in exactly one place;
    the good page after them is still extracted."""
    secret = "https://alice:pw@n.example/nul?api_key=K3Y"
    pages = [
        page("https://n.example/poison", b"<html>bytes, not text</html>"),
        page("https://n.example/slow", FIFTY_K_PARAGRAPHS),
        page(secret, PAGE.replace("word1 ", "word1\x00\x01\ufffe ")),
        page("https://n.example/empty", ""),
        page("https://n.example/good", PAGE),
    ]
    pages[3] = dataclasses.replace(
        pages[3], entry=dataclasses.replace(pages[3].entry, title=None, summary=None)
    )
    extractor = PageExtractor(timeout_s=1.5)
    extractor.start()
    try:
        results = [r for p in pages for r in extractor.submit(p, p.final_url)]
        results += extractor.drain()
    finally:
        extractor.close()
    # Two children work at once, yet each page comes back once, in order.
    assert [tag for tag, _ in results] == [p.final_url for p in pages]
    outputs = [output for _, output in results]
    articles = [o for o in outputs if isinstance(o, Article)]
    dead = [o for o in outputs if isinstance(o, TaggedOutput) and o.tag == DEAD_LETTER]
    assert len(articles) + len(dead) == len(pages)
    assert [
        (a.entry_url, "\x00" in a.text or "\x01" in a.text or "\ufffe" in a.text) for a in articles
    ] == [("https://n.example/nul?api_key=REDACTED", False), ("https://n.example/good", False)]
    assert [(d.value.url, d.value.stage, d.value.reason) for d in dead] == [
        ("https://n.example/poison", "extract", "extraction_error"),
        ("https://n.example/slow", "extract", "extraction_timeout"),
        ("https://n.example/empty", "extract", "empty_extraction"),
    ]


def test_every_hostile_fetch_ends_in_exactly_one_place(hostile: HostileServer) -> None:
    """Rows 1, 3, 5, 8, 9, 11, 18 and 32 through FetchArticles (which extracts each
    page it fetched): one record for the good page, one dead letter with the precise reason for
    each hostile one, nothing lost, nothing crashed."""
    routes = {
        "/good": respond(body=PAGE.encode()),
        "/slow": drip(0.2),
        "/endless": endless(),
        "/bomb": respond(body=gzip_bomb(50), headers={"Content-Encoding": "gzip"}),
        "/raw-gzip": respond(body=gzip.compress(b"\0" * 1_000_000)),
        "/pdf": respond(body=b"%PDF-1.7", content_type="application/pdf"),
        "/loop": redirect("/loop"),
        "/metadata": redirect("http://169.254.169.254/computeMetadata/v1/"),
        "/fifty-k": respond(body=FIFTY_K_PARAGRAPHS.encode()),
    }
    for path, behaviour in routes.items():
        hostile.route(path, behaviour)
    entries = [entry(hostile.url(path)) for path in routes]
    config = http_config(hostile, timeout_s=1.0, allowed_content_types=ARTICLE_CONTENT_TYPES)
    with TestPipeline(runner=RUNNER) as p:
        fetched = (
            p
            | beam.Create(entries)
            | FetchArticles(config, False, PacingPolicy(min_delay_s=0), extraction_timeout_s=1.5)
        )
        assert_that(fetched[MAIN] | beam.Map(lambda a: a.url), equal_to([hostile.url("/good")]))
        assert_that(
            fetched[DEAD_LETTER]
            | "Reasons" >> beam.Map(lambda d: (d.url.rsplit("/", 1)[1], d.stage, d.reason)),
            equal_to(
                [
                    ("slow", "fetch", "timeout"),
                    ("endless", "fetch", "too_large"),
                    ("bomb", "fetch", "too_large"),
                    ("raw-gzip", "fetch", "bad_content_type"),
                    ("pdf", "fetch", "bad_content_type"),
                    ("loop", "fetch", "too_many_redirects"),
                    ("metadata", "fetch", "blocked_address"),
                    ("fifty-k", "extract", "extraction_timeout"),
                ]
            ),
            label="dead letters",
        )
