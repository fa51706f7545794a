"""Tests for transforms/core/extract.py: golden pages, each cleanup step, the fallbacks."""

from __future__ import annotations

import dataclasses
import gzip
import json
import unicodedata
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import trafilatura

from transforms.core import extract as ex
from transforms.core.extract import (
    Extraction,
    ExtractionError,
    choose_authors,
    choose_title,
    clean_paragraph,
    clean_text,
    clean_title,
    drop_leading_byline,
    drop_leading_title,
    drop_residue,
    drop_trailing_residue,
    extract_article,
    is_ad_marker,
    is_byline,
    is_share_residue,
    is_trailing_residue,
    normalize_text,
    parse_timestamp,
    repair_mojibake,
    site_keys,
    split_authors,
    split_paragraphs,
    word_count,
)

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "extraction"
GOLDEN_PAGES = sorted(GOLDEN_DIR.glob("*.html"))
FIELDS = [f.name for f in dataclasses.fields(Extraction)]

ARTICLE_PARAGRAPHS = [
    "The water utility will replace 4,000 lead service lines over the next three years, "
    "starting with streets near the two primary schools on the north side of town.",
    "Work crews will dig one short trench per house instead of opening the whole street, "
    "which the utility says cuts the time each road is closed from a week to two days.",
    "Households will get a letter a month before the work starts, and bottled water will be "
    "handed out at the depot on Carver Street for anyone whose supply is interrupted.",
]


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def _article_page(*paragraphs: str, head: str = "") -> str:
    paras = "".join(f"<p>{p}</p>" for p in paragraphs)
    return _page(f"<article><h1>Lead pipes to go by 2029</h1>{paras}</article>", head)


# --------------------------------------------------------------------------------------
# Golden pages


def test_golden_pages_present() -> None:
    assert len(GOLDEN_PAGES) >= 3
    for page in GOLDEN_PAGES:
        assert page.with_suffix(".json").is_file(), f"{page.name} has no expected JSON"


@pytest.mark.parametrize("page", GOLDEN_PAGES, ids=lambda p: p.stem)
def test_golden_page(page: Path) -> None:
    golden = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    given: dict[str, Any] = dict(golden["input"])
    expected: dict[str, Any] = golden["expected"]
    assert sorted(expected) == sorted(FIELDS)

    result = extract_article(page.read_text(encoding="utf-8"), given.pop("url"), **given)

    for field in FIELDS:
        got = getattr(result, field)
        want = expected[field]
        if field in ("authors", "tags"):
            got = list(got)
        assert got == want, f"{page.stem}: field {field!r}"


@pytest.mark.parametrize("page", GOLDEN_PAGES, ids=lambda p: p.stem)
def test_golden_text_invariants(page: Path) -> None:
    golden = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    given: dict[str, Any] = dict(golden["input"])
    result = extract_article(page.read_text(encoding="utf-8"), given.pop("url"), **given)

    assert unicodedata.is_normalized("NFC", result.text)
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in result.text)
    assert "\n\n\n" not in result.text
    paragraphs = result.text.split("\n\n")
    assert all(p == clean_paragraph(p) and p for p in paragraphs)
    assert result.title is not None
    assert paragraphs[0] != result.title
    assert not is_trailing_residue(paragraphs[-1], site_keys(result.site_name))
    assert result.word_count == word_count(result.text)


# --------------------------------------------------------------------------------------
# Normalisation helpers


def test_word_count() -> None:
    assert word_count("") == 0
    assert word_count("  one\ttwo\n\nthree\u00a0four ") == 4


def test_normalize_text_nfc_and_controls() -> None:
    decomposed = "Ko\u0308ln"
    assert normalize_text(decomposed) == "K\u00f6ln"
    assert normalize_text("a\x00b\x07c\x1bd\x7fe\x85f") == "abcdef"
    assert normalize_text("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"
    assert normalize_text("tab\there") == "tab here"
    assert normalize_text("lone \ud800 surrogate") == "lone  surrogate"
    assert normalize_text("keep\u200djoiner") == "keep\u200djoiner"


def test_clean_paragraph_collapses_whitespace() -> None:
    assert clean_paragraph("  a \u00a0\u00a0 b\t\tc \n d  ") == "a b c d"


def test_split_paragraphs_drops_blank_lines() -> None:
    assert split_paragraphs("first  line\n\n \n second\x00 line\n") == [
        "first line",
        "second line",
    ]


# --------------------------------------------------------------------------------------
# Residue recognisers


@pytest.mark.parametrize(
    "line",
    [
        "Share",
        "Tweet",
        "in Tumblr",
        "Share on Facebook",
        "Email",
        "Print",
        "WhatsApp",
        "Copy link",
        "Facebook Twitter Email",
        "Facebook | Twitter | LinkedIn",
        "- Facebook",
        "Share this article",
        "Share 12",
        "Teilen",
    ],
)
def test_share_residue(line: str) -> None:
    assert is_share_residue(line)


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell 4 percent on Monday.",
        "She sent an email to the mayor on Friday.",
        "Print editions will end in May, the publisher said.",
        "Email: jdoe@example.com",
        "The link between the two cases is unclear.",
        "",
    ],
)
def test_not_share_residue(line: str) -> None:
    assert not is_share_residue(line)


@pytest.mark.parametrize(
    "line", ["Advertisement", "ADVERTISEMENT", "Story continues below advertisement", "Anzeige"]
)
def test_ad_marker(line: str) -> None:
    assert is_ad_marker(line)


def test_ad_marker_is_exact() -> None:
    assert not is_ad_marker("Advertisement revenue fell by a third last year.")


SITES = site_keys("The Harbour Gazette", url="https://www.harbourgazette.example/news/x")


@pytest.mark.parametrize(
    "line",
    [
        "The Harbour Gazette",
        "Harbour Gazette",
        "harbourgazette.example",
        "Related stories",
        "Related",
        "Read more",
        "Read more:",
        "Read more: Bridge toll to rise for lorries in spring",
        "You may also like...",
        "© 2026 Harbour Gazette Media AS",
        "Copyright 2026 Harbour Gazette Media AS. All rights reserved.",
        "<Copyright ⓒ Example Daily. All rights reserved.>",
        "Advertisement",
        "Comments",
        "12 comments",
        "Leave a comment",
        "SOURCE: News agencies",
        "(Quelle: APA/dpa)",
        "Share on Facebook",
    ],
)
def test_trailing_residue(line: str) -> None:
    assert is_trailing_residue(line, SITES)


@pytest.mark.parametrize(
    "line",
    [
        "The Harbour Gazette reported on Tuesday that the ferry will return.",
        "Read more about the plan on the council website, officials said.",
        "Related costs rose by 8 percent, the report found.",
        "Source code for the model was published in June.",
        "Comments from residents will be collected until December.",
        "Copyright lawyers for the museum declined to comment on the lawsuit, which was "
        "filed in March and names three galleries and a private collector as defendants "
        "who had allegedly sold reproductions of the disputed paintings abroad without "
        "permission from the estate or any of the heirs.",
    ],
)
def test_not_trailing_residue(line: str) -> None:
    assert not is_trailing_residue(line, SITES)


def test_site_keys_from_names_and_host() -> None:
    keys = site_keys("DER SPIEGEL, Hamburg, Germany", url="https://www1.wdr.de/nachrichten/x")
    assert {"derspiegel", "wdrde", "wdr"} <= keys
    assert "bbc" in site_keys(url="https://news.bbc.co.uk/story")
    assert "deutschewelle" in site_keys("Deutsche Welle (www.dw.com)")
    assert site_keys() == frozenset()


# --------------------------------------------------------------------------------------
# Paragraph-list steps


def test_drop_leading_title_exact_and_normalised() -> None:
    body = ["Body paragraph one.", "Body paragraph two."]
    title = "Night ferry to Saltholm returns after two-year pause"
    assert drop_leading_title([title, *body], title) == body
    assert (
        drop_leading_title(["NIGHT FERRY to Saltholm returns after two‑year pause!", *body], title)
        == body
    )
    assert (
        drop_leading_title(["‘Night ferry’ to Saltholm returns after two-year pause", *body], title)
        == body
    )


def test_drop_leading_title_with_site_affixes() -> None:
    body = ["Body."]
    assert (
        drop_leading_title(
            ["Mining blasts shatter homes", *body], "Mining blasts shatter homes - Lesotho Times"
        )
        == body
    )
    assert (
        drop_leading_title(
            ["Feuerwehrleute sollen später in Pension | wdr aktuell", *body],
            "Feuerwehrleute sollen später in Pension",
        )
        == body
    )


def test_drop_leading_title_with_kicker() -> None:
    title = "Trump plant Helikopterlandeplatz – während sein Ballsaal-Projekt stockt"
    first = "Umbau des Weissen Hauses " + title
    assert drop_leading_title([first, "Body."], title) == ["Body."]


def test_drop_leading_title_keeps_real_sentences() -> None:
    title = "Council approves bus trial"
    lead = "The city council on Tuesday said the council approves bus trial."
    assert drop_leading_title([lead, "More."], title) == [lead, "More."]
    # a lead sentence that ends with the headline words is not a kicker + headline
    long_title = "Ferry returns after two-year pause"
    sentence = "Residents cheered on Monday as the ferry returns after two-year pause."
    assert drop_leading_title([sentence], long_title) == [sentence]
    # only the first paragraph is considered
    assert drop_leading_title(["Intro.", title], title) == ["Intro.", title]
    assert drop_leading_title(["Anything"], None) == ["Anything"]
    assert drop_leading_title([], title) == []


def test_byline() -> None:
    assert is_byline("By Jonah Price")
    assert is_byline("By Jane Doe and John Roe")
    assert is_byline("Von Anna Berg, Köln")
    assert not is_byline("By the time firefighters arrived the barn was gone")
    assert not is_byline("By Tuesday.")
    assert drop_leading_byline(["By Jonah Price", "Body."]) == ["Body."]
    assert drop_leading_byline(["Intro.", "Body.", "By Jonah Price"]) == [
        "Intro.",
        "Body.",
        "By Jonah Price",
    ]


def test_drop_residue_anywhere() -> None:
    paras = ["One.", "Advertisement", "Two.", "Share", "|---|---|", "| a | b |", "Three."]
    assert drop_residue(paras) == ["One.", "Two.", "| a | b |", "Three."]


def test_drop_trailing_residue_stops_at_real_text() -> None:
    paras = [
        "First real paragraph.",
        "Read more",
        "Last real paragraph, which stays.",
        "Facebook Twitter Email",
        "Read more: Quay repairs finish ahead of schedule",
        "The Harbour Gazette",
        "© 2026 Harbour Gazette Media AS. All rights reserved.",
    ]
    assert drop_trailing_residue(paras, SITES) == paras[:3]
    assert drop_trailing_residue(["Share", "Email"], SITES) == []


def test_clean_text_all_steps() -> None:
    raw = (
        "Night ferry returns after two-year pause\n"
        "By Mara Lindqvist\n"
        "The  overnight\u00a0ferry will run again.\n"
        "Advertisement\n"
        "Tickets cost the same as by day.\n"
        "in Tumblr\n"
        "Related stories\n"
        "The Harbour Gazette\n"
    )
    assert clean_text(raw, title="Night ferry returns after two-year pause", sites=SITES) == (
        "The overnight ferry will run again.\n\nTickets cost the same as by day."
    )


def test_plain_paragraph_drops_list_markers_and_table_pipes() -> None:
    assert ex.plain_paragraph("- Tickets cost the same as by day.") == (
        "Tickets cost the same as by day."
    )
    assert ex.plain_paragraph("| 11:20 p.m. | Depot | | Mercy Hospital |") == (
        "11:20 p.m. Depot Mercy Hospital"
    )
    # a dash or a pipe inside the text is not Markdown
    assert ex.plain_paragraph("Fares - and times - stay.") == "Fares - and times - stay."
    assert ex.plain_paragraph("A | B") == "A | B"
    assert clean_text("- One.\n| a | b |\n|  |") == "One.\n\na b"


def test_clean_title() -> None:
    sites = site_keys("Lesotho Times", url="https://lestimes.com/x")
    assert clean_title("Mining blasts shatter homes - Lesotho Times", sites) == (
        "Mining blasts shatter homes"
    )
    dw = site_keys("Deutsche Welle", "DW", url="https://www.dw.com/x")
    assert clean_title("Russland-Wahl: Nadeschdin setzt auf ein Ende – DW – 30.01.2024", dw) == (
        "Russland-Wahl: Nadeschdin setzt auf ein Ende"
    )
    assert (
        clean_title(
            "A Story | The Gateway Pundit | by Paul Serran", site_keys("The Gateway Pundit")
        )
        == "A Story"
    )
    # a dash inside the headline itself stays
    assert clean_title("Trump plant Helikopterlandeplatz – während sein Projekt stockt", dw) == (
        "Trump plant Helikopterlandeplatz – während sein Projekt stockt"
    )
    assert clean_title("  Lesotho Times  ", sites) == "Lesotho Times"
    assert clean_title("Best phones - 2024", sites) == "Best phones - 2024"
    assert clean_title(None) is None
    assert clean_title("  ") is None


def test_choose_title_cuts_to_the_headline_before_a_section_suffix() -> None:
    sites = site_keys("Globalnews.ca", url="https://globalnews.ca/news/1")
    meta = "Russia hits Kyiv with missiles - National | Globalnews.ca"
    assert choose_title(meta, "Russia hits Kyiv with missiles", sites) == (
        "Russia hits Kyiv with missiles"
    )
    hankook = site_keys("한국일보")
    assert choose_title('"당규 개정" 불발-정치ㅣ한국일보', '"당규 개정" 불발', hankook) == (
        '"당규 개정" 불발'
    )
    # more than a few words after the headline: a longer title, not furniture
    longer = "Harbour closes - ferries to run from the north quay until the end of May"
    assert choose_title(longer, "Harbour closes") == longer
    assert choose_title("Brexit: what happens next", "Brexit") == "Brexit: what happens next"
    # a metadata title that says something else is kept
    assert choose_title("Ferry returns", "Night ferry back after two years") == "Ferry returns"
    assert choose_title(None, "Night ferry back") == "Night ferry back"
    assert choose_title(None, None) is None


def test_choose_title_repairs_mojibake() -> None:
    assert choose_title("Tarif jetzt fÃ¼r nur 5,99 Euro", None) == "Tarif jetzt für nur 5,99 Euro"


def test_repair_mojibake_only_when_the_whole_text_round_trips() -> None:
    assert repair_mojibake("Itâ€™s here") == "It’s here"
    assert repair_mojibake("SÃO PAULO") == "SÃO PAULO"  # not valid UTF-8 underneath
    assert repair_mojibake("Ã© 日本") == "Ã© 日本"  # not Windows-1252 text at all
    assert repair_mojibake("für") == "für"


def test_headline_and_authors_from_jsonld() -> None:
    head = (
        '<meta property="og:title" content="Lead pipes to go by 2029 - Local | Valley Courier">'
        '<meta property="og:site_name" content="Valley Courier">'
        '<meta name="author" content="Courier Media Group">'
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Lead pipes to go by 2029", "author": ['
        '{"@type": "Person", "name": "Jonah Price &amp; Rosa Delgado"}, '
        '{"@type": "Organization", "name": "dpa"}]}</script>'
    )
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS, head=head), "https://e.org/a")
    assert result.title == "Lead pipes to go by 2029"
    assert result.authors == ("Jonah Price", "Rosa Delgado", "dpa")


def test_headline_from_microdata_meta_without_h1() -> None:
    head = (
        '<meta property="og:title" content="Lead pipes to go by 2029-Politik">'
        '<meta itemprop="headline" content="Lead pipes to go by 2029">'
    )
    paras = "".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    result = extract_article(_page(f"<article>{paras}</article>", head), "https://e.org/a")
    assert result.title == "Lead pipes to go by 2029"


def test_modified_tags_and_image_from_the_page() -> None:
    head = (
        '<meta property="og:image" content="/img/lead.jpg">'
        '<meta property="article:modified_time" content="2026-04-08T10:00:00+02:00">'
        '<meta property="article:tag" content="Water, Schools">'
        '<meta property="article:tag" content="water">'
        '<meta name="keywords" content="cheap flights, best deals">'
    )
    page = _article_page(*ARTICLE_PARAGRAPHS, head=head)
    result = extract_article(page, "https://e.org/news/a")
    assert result.modified_at == "2026-04-08T08:00:00Z"
    assert result.tags == ("Water", "Schools")  # article:tag before the generic keywords
    assert result.image_url == "https://e.org/img/lead.jpg"


def test_tags_and_image_from_jsonld_and_bad_image_urls() -> None:
    head = (
        '<meta property="og:image" content="javascript:alert(1)">'
        '<meta name="keywords" content="cheap flights">'
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"keywords": ["Lead pipes", "Utilities"], "dateModified": "2026-04-08", '
        '"image": [{"@type": "ImageObject", "url": "https://cdn.e.org/a.jpg"}]}</script>'
    )
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS, head=head), "https://e.org/a")
    assert result.tags == ("Lead pipes", "Utilities")
    assert result.image_url is None  # og:image is taken first, and it is no http(s) URL
    assert result.modified_at is None  # a date without a time of day
    bare = extract_article(_article_page(*ARTICLE_PARAGRAPHS), "https://e.org/a")
    assert (bare.modified_at, bare.tags, bare.image_url) == (None, (), None)


def test_headline_from_h1_without_jsonld() -> None:
    head = '<meta property="og:title" content="Lead pipes to go by 2029 - Die Tageszeitung">'
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS, head=head), "https://e.org/a")
    assert result.title == "Lead pipes to go by 2029"


# --------------------------------------------------------------------------------------
# Authors


def test_split_authors() -> None:
    sites = site_keys("Valley Courier", url="https://valleycourier.example/a")
    raw = "By Jonah Price; Valley Courier; Staff; Rosa Delgado; jonah price; November 3, 2026"
    assert split_authors(raw, sites) == ("Jonah Price", "Rosa Delgado")
    assert split_authors("The Washington Times https; Www Washingtontimes Com; Tom Davies") == (
        "Tom Davies",
    )
    assert split_authors("Mathias Hagen; Journalist; editor@example.com") == ("Mathias Hagen",)
    assert split_authors("Associated Press") == ("Associated Press",)
    # names that look like prefixes or months are names
    assert split_authors("von der Leyen; May Lee; June Carter; Di Wang") == (
        "von der Leyen",
        "May Lee",
        "June Carter",
        "Di Wang",
    )
    assert split_authors("Von Anna Berg; Updated 3 hours ago") == ("Anna Berg",)
    assert split_authors(None) == ()
    assert split_authors("") == ()


def test_split_authors_splits_lists_of_full_names_only() -> None:
    assert split_authors("Ann Lee, Bo Park Kim and Cy Diaz") == (
        "Ann Lee",
        "Bo Park Kim",
        "Cy Diaz",
    )
    assert split_authors("Samya Kullab und Vasilisa Stepanenko") == (
        "Samya Kullab",
        "Vasilisa Stepanenko",
    )
    # "Surname, Given" and "Agency, Place" are one entry each
    assert split_authors("Brazil, Rachel") == ("Brazil, Rachel",)
    assert split_authors("AFP, MANILA") == ("AFP, MANILA",)
    assert split_authors("신현주 기자; 松岡大地 記者") == ("신현주", "松岡大地")


def test_choose_authors() -> None:
    sites = site_keys("Der Spiegel", url="https://www.spiegel.de/a")
    # JSON-LD names win over trafilatura's (which read the publisher's meta author tag)
    assert choose_authors(["Rachel Riederer"], "Condé Nast; Rachel Riederer", sites) == (
        "Rachel Riederer",
    )
    # agencies and the outlet itself count when the page declares them
    assert choose_authors(["Paula Steiger", "SDA"], "Paula Steiger", sites) == (
        "Paula Steiger",
        "SDA",
    )
    assert choose_authors(["DER SPIEGEL"], None, sites) == ("DER SPIEGEL",)
    # ... but a person trafilatura found beats a JSON-LD entry that is only the outlet
    assert choose_authors(["Spiegel"], "Anna Berg; DER SPIEGEL", sites) == ("Anna Berg",)
    assert choose_authors([], "Anna Berg; DER SPIEGEL", sites) == ("Anna Berg",)
    assert choose_authors([], None, sites) == ()


# --------------------------------------------------------------------------------------
# Timestamps


@pytest.mark.parametrize(
    ("value", "utc", "local_known"),
    [
        ("2026-11-20T12:15:00+04:00", "2026-11-20T08:15:00+00:00", True),
        ("2026-11-20T12:15:00+0400", "2026-11-20T08:15:00+00:00", True),
        ("2026-11-20 12:15:00 +04:00", "2026-11-20T08:15:00+00:00", True),
        ("2026-11-20T08:15:00.123Z", "2026-11-20T08:15:00.123000+00:00", False),
        ("2026-11-20T08:15:00+00:00", "2026-11-20T08:15:00+00:00", True),
        ("2026-11-20T08:15:00-00:00", "2026-11-20T08:15:00+00:00", False),
        ("2026-11-20T08:15:00", "2026-11-20T08:15:00+00:00", False),
        ("Fri, 20 Nov 2026 12:15:00 +0400", "2026-11-20T08:15:00+00:00", True),
        ("Fri, 20 Nov 2026 08:15:00 GMT", "2026-11-20T08:15:00+00:00", False),
    ],
)
def test_parse_timestamp(value: str, utc: str, local_known: bool) -> None:
    parsed = parse_timestamp(value)
    assert parsed is not None
    when, known = parsed
    assert when.astimezone(UTC).isoformat() == utc
    assert known is local_known


@pytest.mark.parametrize(
    "value", ["2026-11-20", "20.11.2026", "yesterday", "", "1970-01-01T00:00:00Z", "x" * 200]
)
def test_parse_timestamp_rejects(value: str) -> None:
    assert parse_timestamp(value) is None


def test_published_page_offset_wins_over_feed() -> None:
    head = '<meta property="article:published_time" content="2026-04-07T18:40:00-05:00">'
    result = extract_article(
        _article_page(*ARTICLE_PARAGRAPHS, head=head),
        "https://example.org/a",
        feed_published="Wed, 08 Apr 2026 09:00:00 GMT",
    )
    assert result.published_at == "2026-04-07T23:40:00Z"
    assert result.published_at_local == "2026-04-07T18:40:00-05:00"


def test_published_z_in_jsonld_takes_local_from_time_element() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "2026-11-20T08:15:00Z"}</script>'
    )
    body = ARTICLE_PARAGRAPHS[0] + '<time datetime="2026-11-20T12:15:00+04:00">today</time>'
    result = extract_article(
        _article_page(body, *ARTICLE_PARAGRAPHS[1:], head=head), "https://example.org/a"
    )
    assert result.published_at == "2026-11-20T08:15:00Z"
    assert result.published_at_local == "2026-11-20T12:15:00+04:00"


def test_published_falls_back_to_feed() -> None:
    # the page has a date only (no time): the feed's timestamp is used
    head = '<script type="application/ld+json">{"datePublished": "2026-09-14"}</script>'
    result = extract_article(
        _article_page(*ARTICLE_PARAGRAPHS, head=head),
        "https://example.org/a",
        feed_published="2026-09-14T09:05:00-04:00",
    )
    assert result.published_at == "2026-09-14T13:05:00Z"
    assert result.published_at_local == "2026-09-14T09:05:00-04:00"


def test_published_naive_page_time_yields_to_feed_with_offset() -> None:
    head = '<meta property="article:published_time" content="2026-09-14T09:05:00">'
    page = _article_page(*ARTICLE_PARAGRAPHS, head=head)
    with_feed = extract_article(page, "https://e.org/a", feed_published="2026-09-14T09:05:00+02:00")
    assert with_feed.published_at == "2026-09-14T07:05:00Z"
    alone = extract_article(page, "https://e.org/a")
    assert alone.published_at == "2026-09-14T09:05:00Z"
    assert alone.published_at_local is None


def test_unmarked_time_elements_only_when_nothing_else() -> None:
    related = '<aside><time datetime="2025-01-01T10:00:00+02:00">old story</time></aside>'
    head = '<meta property="article:published_time" content="2026-05-05T06:00:00">'
    page = _article_page(*ARTICLE_PARAGRAPHS, head=head) + related
    result = extract_article(page, "https://example.org/a")
    assert result.published_at == "2026-05-05T06:00:00Z"
    bare = extract_article(_article_page(*ARTICLE_PARAGRAPHS) + related, "https://e.org/a")
    assert bare.published_at == "2025-01-01T08:00:00Z"
    assert bare.published_at_local == "2025-01-01T10:00:00+02:00"


def test_published_none_when_nothing_known() -> None:
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS), "https://example.org/a")
    assert result.published_at is None
    assert result.published_at_local is None


def test_broken_jsonld_is_ignored() -> None:
    head = (
        '<script type="application/ld+json">{"datePublished": </script>'
        '<script type="application/ld+json">' + "[" * 5000 + "]" * 5000 + "</script>"
    )
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS, head=head), "https://e.org/a")
    assert result.method == "trafilatura"
    assert result.published_at is None


# --------------------------------------------------------------------------------------
# Fallback chain and errors


def test_full_article_uses_trafilatura() -> None:
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS), "https://example.org/a")
    assert result.method == "trafilatura"
    assert result.text == "\n\n".join(ARTICLE_PARAGRAPHS)
    assert result.title == "Lead pipes to go by 2029"


def test_short_page_falls_back_to_feed_summary() -> None:
    page = _article_page("Subscribe to read the full story.")
    result = extract_article(
        page,
        "https://example.org/a",
        feed_title="Lead pipes to go by 2029",
        feed_summary="The utility will replace 4,000 lead lines.",
    )
    assert result.method == "feed_summary"
    assert result.text == "The utility will replace 4,000 lead lines."
    assert result.word_count == 7
    assert result.title == "Lead pipes to go by 2029"


def test_short_page_without_summary_falls_back_to_feed_title() -> None:
    result = extract_article(
        _article_page("Please enable JavaScript."),
        "https://example.org/a",
        feed_title="  Lead pipes\tto go by 2029 ",
        feed_summary=" ",
    )
    assert result.method == "feed_title"
    assert result.text == "Lead pipes to go by 2029"
    assert result.word_count == 6


def test_short_page_without_feed_keeps_short_text() -> None:
    result = extract_article(
        _article_page("Ten new buses arrive on Monday, the depot said."), "https://e.org/a"
    )
    assert result.method == "trafilatura"
    assert result.text == "Ten new buses arrive on Monday, the depot said."


def test_empty_html_uses_feed() -> None:
    result = extract_article("", "https://example.org/a", feed_summary="Summary words here.")
    assert result.method == "feed_summary"
    assert result.text == "Summary words here."
    assert result.title is None
    assert result.site_name is None


@pytest.mark.parametrize(
    "html",
    ["", "   \n\t", "\x00\x01garbage\x02", "<<<>>>&&&", _page("<div><nav>Home</nav></div>")],
)
def test_nothing_at_all_raises_empty_extraction(html: str) -> None:
    with pytest.raises(ExtractionError) as info:
        extract_article(html, "https://example.org/a")
    assert info.value.reason == "empty_extraction"


def test_trafilatura_exception_becomes_extraction_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("lxml exploded")

    monkeypatch.setattr(trafilatura, "bare_extraction", boom)
    with pytest.raises(ExtractionError) as info:
        extract_article(_article_page(*ARTICLE_PARAGRAPHS), "https://example.org/a")
    assert info.value.reason == "extraction_error"
    assert "RuntimeError" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize("html", [b"<html><body><p>x</p></body></html>", bytearray(b"<p>x</p>")])
def test_bytes_are_refused(html: bytes) -> None:
    with pytest.raises(TypeError, match="str"):
        extract_article(html, "https://example.org/a")  # type: ignore[arg-type]


def test_gzip_magic_in_str_is_not_decompressed() -> None:
    # hazards row 8: only bytes get sniffed and decompressed; our str never is
    bomb = gzip.compress(_article_page(*ARTICLE_PARAGRAPHS).encode())
    with pytest.raises(ExtractionError) as info:
        extract_article(bomb.decode("latin-1"), "https://example.org/a")
    assert info.value.reason == "empty_extraction"


def test_deeply_nested_page_does_not_crash() -> None:
    # hazards row 31: libxml2 drops content below depth 256 without huge_tree; no crash
    nested = "<div>" * 300 + "<p>" + ARTICLE_PARAGRAPHS[0] + "</p>" + "</div>" * 300
    try:
        result = extract_article(_page(nested), "https://example.org/a", feed_title="T")
    except ExtractionError as err:
        assert err.reason == "empty_extraction"
    else:
        assert result.text


def test_unspaced_script_is_not_mistaken_for_a_short_page() -> None:
    # Japanese has no spaces: 200 characters are one whitespace token, but a real article
    sentence = "市は来年度から北側の小学校周辺で鉛製の給水管の交換を始めると発表した。"
    page = _article_page(sentence * 3, sentence * 3)
    result = extract_article(page, "https://example.jp/a", feed_summary="要約")
    assert result.method == "trafilatura"
    assert result.word_count < ex.MIN_ARTICLE_WORDS


def test_extraction_is_frozen() -> None:
    result = extract_article(_article_page(*ARTICLE_PARAGRAPHS), "https://example.org/a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "changed"  # type: ignore[misc]
