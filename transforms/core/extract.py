"""Article extraction: HTML we decoded ourselves -> main text and metadata.

Beam-free on purpose: the DoFn that calls this lives elsewhere, and everything here is a
plain function that unit tests can call directly.

trafilatura 2.3.1 does the main-text and most metadata work (`bare_extraction` with
`favor_precision=True`: on the shared eval sets it scored a higher bag-of-words F1 than
the default on both the ScrapingHub and the fundus pages). On top of it:

- The publish time. trafilatura/htmldate return a date only, so the full timestamp comes
  from the page's own JSON-LD `datePublished`, its `article:published_time`-style meta
  tags or a `<time datetime>`; the feed's date is the fallback.
- Authors, title, modified time, tags and lead image from the page's structure (JSON-LD
  Article first, then meta tags and `<h1>`): `choose_authors`, `choose_title`.
- Cleanup of the text: no repeated headline at the start, no share buttons, "Read more",
  copyright or outlet-name lines at the end, whitespace collapsed, NFC, no control
  characters. Each step is a small function that keeps real sentences.
- A fallback chain for pages with next to no text: feed summary, then feed title.

Safety: `html` must be `str`. Given bytes, trafilatura sniffs compression magic bytes and
decompresses without any output limit (hazards row 8), so bytes are refused. Time limits
(hazards row 32) belong to the caller: run this in a process that can be killed.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import trafilatura

from transforms.core.body import (
    flight_html,
    looks_truncated,
    paragraph_words,
    prefer_second,
    readability_text,
)
from transforms.core.feeds import format_utc

__all__ = [
    "METHOD_FEED_SUMMARY",
    "METHOD_FEED_TITLE",
    "METHOD_TRAFILATURA",
    "MIN_ARTICLE_WORDS",
    "Extraction",
    "ExtractionError",
    "choose_authors",
    "choose_title",
    "clean_paragraph",
    "clean_text",
    "clean_title",
    "drop_leading_byline",
    "drop_leading_title",
    "drop_residue",
    "drop_trailing_residue",
    "extract_article",
    "is_ad_marker",
    "is_byline",
    "is_share_residue",
    "is_trailing_residue",
    "normalize_text",
    "parse_timestamp",
    "plain_paragraph",
    "repair_mojibake",
    "site_keys",
    "split_authors",
    "split_paragraphs",
    "word_count",
]

METHOD_TRAFILATURA: Final = "trafilatura"
METHOD_FEED_SUMMARY: Final = "feed_summary"
METHOD_FEED_TITLE: Final = "feed_title"

# Below this many words (see `_substance` for scripts written without spaces) the page
# text is taken to be a paywall, consent wall or teaser, and the feed's summary wins.
MIN_ARTICLE_WORDS: Final = 25

# Bounds on what we read from the page ourselves (trafilatura has its own).
_MAX_JSONLD_SCRIPTS: Final = 20
_MAX_JSONLD_CHARS: Final = 1_000_000
_MAX_JSONLD_DEPTH: Final = 12
_MAX_TIME_ELEMENTS: Final = 50
_MAX_H1_ELEMENTS: Final = 5
_MAX_TIMESTAMP_CHARS: Final = 64
_MIN_YEAR: Final = 1990
_MAX_YEAR: Final = 2100


class ExtractionError(Exception):
    """Extraction produced nothing usable; `reason` is a short machine-readable code.

    Reasons: "empty_extraction" (no text on the page and nothing in the feed either),
    "extraction_error" (trafilatura or the HTML parser raised).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Extraction:
    """The article as extracted from one page (or, failing that, from its feed entry)."""

    text: str
    title: str | None
    authors: tuple[str, ...]
    published_at: str | None
    published_at_local: str | None
    site_name: str | None
    description: str | None
    method: str
    word_count: int
    modified_at: str | None = None  # UTC, when the page states a last-modified time
    tags: tuple[str, ...] = ()  # the page's keywords/tags
    image_url: str | None = None  # absolute http(s) URL of the lead image


# --------------------------------------------------------------------------------------
# Text normalisation


def word_count(text: str) -> int:
    """Number of whitespace-separated tokens."""
    return len(text.split())


# C0/C1 controls except "\n" (tab becomes a space first), lone surrogates (they cannot be
# encoded as UTF-8, so BigQuery would refuse the row) and the two non-characters.
_CONTROL_RE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def normalize_text(text: str) -> str:
    """NFC, CR/CRLF and tabs normalised, control characters other than newline removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL_RE.sub("", text)
    return unicodedata.normalize("NFC", text)


def clean_paragraph(paragraph: str) -> str:
    """Collapse all runs of whitespace (incl. newlines and NBSP) into one space, trim."""
    return " ".join(paragraph.split())


def split_paragraphs(text: str) -> list[str]:
    """One paragraph per non-blank line, each with its whitespace collapsed."""
    out = []
    for line in normalize_text(text).split("\n"):
        para = clean_paragraph(line)
        if para:
            out.append(para)
    return out


def _key(text: str) -> str:
    """Comparison key: compatibility-normalised, case-folded, letters and digits only."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


# --------------------------------------------------------------------------------------
# Residue recognisers (paragraph -> bool)

# Words that make up share/social button rows. A paragraph is residue only if every word
# is in one of these sets and at least one is a "strong" (button-name) word.
_SHARE_STRONG: Final = frozenset(
    {
        "share", "shares", "tweet", "email", "e-mail", "mail", "print", "whatsapp",
        "facebook", "twitter", "linkedin", "reddit", "pinterest", "tumblr", "telegram",
        "messenger", "flipboard", "pocket", "bluesky", "threads", "mastodon", "xing",
        "copy", "sms", "teilen", "drucken", "partager", "imprimer", "compartir",
        "imprimir", "compartilhar", "condividi", "stampa", "delen", "dela", "del",
        "e-post",
    }
)  # fmt: skip
_SHARE_WEAK: Final = frozenset(
    {
        "on", "in", "via", "to", "with", "a", "the", "this", "article", "story", "post",
        "page", "link", "url", "x", "friend", "and", "or", "per", "auf", "par", "sur",
        "en", "em", "no", "su", "artikel", "diesen", "ce", "cet", "esta",
        "este", "nota", "|", "/", "·", "•",
    }
)  # fmt: skip
_MAX_SHARE_TOKENS: Final = 12
_TOKEN_RE: Final = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*|[|/·•]")

_AD_MARKERS: Final = frozenset(
    _key(s)
    for s in (
        "Advertisement",
        "Advertisements",
        "Advertising",
        "Ad",
        "Sponsored",
        "Story continues below advertisement",
        "Article continues below advertisement",
        "Article continues below",
        "Continue reading below",
        "Scroll to continue with content",
        "Anzeige",
        "Werbung",
        "Publicidad",
        "Publicité",
        "Pubblicità",
        "Publicidade",
        "Reklame",
        "Reklama",
    )
)

_RELATED_RE: Final = re.compile(
    r"""^(?:related(?:\s+(?:stories|articles|news|coverage|content|posts|links|topics|reading))?
    |more\s+(?:stories|news|articles|headlines)(?:\s+from\s+.{1,60})?
    |more\s+on\s+this\s+(?:story|topic)|read\s+(?:more|next|also)|see\s+also|also\s+read
    |recommended(?:\s+(?:stories|articles|reading|for\s+you))?
    |you\s+(?:may|might)\s+also\s+(?:like|be\s+interested\s+in)|most\s+(?:read|popular)
    |top\s+stories|trending(?:\s+now)?|continue\s+reading|keep\s+reading
    |weiterlesen|mehr\s+zum\s+thema|lesen\s+sie\s+auch|das\s+könnte\s+sie\s+auch\s+interessieren
    |(?:à\s+)?lire\s+aussi|leia\s+(?:também|mais)|veja\s+também|lee\s+también|ver\s+más
    |leggi\s+anche)\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
# "Read more: <headline>" (a link to another story, not a sentence of this one).
_READ_MORE_LINK_RE: Final = re.compile(
    r"^(?:read\s+(?:more|next|also)|see\s+also|also\s+read|related|more)\s*[:»›>|–—-]\s*\S",
    re.IGNORECASE,
)
_MAX_READ_MORE_WORDS: Final = 20
_COPYRIGHT_RE: Final = re.compile(
    r"^[\s<(\[]*(?:©|ⓒ|\(c\)|copyright\b|all\s+rights\s+reserved)", re.IGNORECASE
)
_ALL_RIGHTS_RE: Final = re.compile(r"all\s+rights\s+reserved", re.IGNORECASE)
_MAX_COPYRIGHT_WORDS: Final = 30
_COMMENTS_RE: Final = re.compile(
    r"""^\W*(?:\d+\s*)?(?:comments?|kommentare?|commentaires?|comentarios?|comentários?
    |commenti|reacties|(?:leave|add|post|show|view|load|read)\s+(?:a\s+|the\s+)?comments?
    |join\s+the\s+(?:conversation|discussion))\W*(?:\d+\W*)?$""",
    re.IGNORECASE | re.VERBOSE,
)
_SOURCE_RE: Final = re.compile(
    r"^[(\[]?\s*(?:source|sources|quelle|quellen|fuente|fonte|kilde|källa|bron|źródło|kaynak)"
    r"\s*:\s*([^.!?]{1,80})[)\]]?\.?$",
    re.IGNORECASE,
)
_MAX_SOURCE_WORDS: Final = 8
_LIST_MARKER_RE: Final = re.compile(r"^(?:[-•*·]\s+)+")


def _unlisted(paragraph: str) -> str:
    return _LIST_MARKER_RE.sub("", paragraph).strip()


def is_share_residue(paragraph: str) -> bool:
    """A row of share/social buttons: "Share", "in Tumblr", "Facebook Twitter Email"."""
    tokens = _TOKEN_RE.findall(unicodedata.normalize("NFKC", _unlisted(paragraph)).casefold())
    words = [t for t in tokens if not t.isdigit()]
    if not words or len(tokens) > _MAX_SHARE_TOKENS:
        return False
    if not all(w in _SHARE_STRONG or w in _SHARE_WEAK for w in words):
        return False
    return any(w in _SHARE_STRONG for w in words)


def is_ad_marker(paragraph: str) -> bool:
    """A line that only labels an ad slot ("Advertisement", "Anzeige")."""
    return _key(_unlisted(paragraph)) in _AD_MARKERS


_SECOND_LEVEL_LABELS: Final = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"})


def site_keys(*names: str | None, url: str | None = None) -> frozenset[str]:
    """Comparison keys under which a line or byline counts as the outlet's own name.

    From each given name: the whole name, the part before a comma ("DER SPIEGEL,
    Hamburg, Germany") or a parenthesis ("Deutsche Welle (www.dw.com)"), each also
    without a leading "The"; from the URL: the host without "www." and the label before
    the public suffix ("www1.wdr.de" -> "wdr.de", "wdr"; "news.bbc.co.uk" -> "bbc").
    """
    raw: list[str] = [n for n in names if n]
    if url:
        host = (urlsplit(url).hostname or "").lower()
        labels = [label for label in host.split(".") if label]
        if labels and re.fullmatch(r"www\d*", labels[0]):
            labels = labels[1:]
        if labels:
            raw.append(".".join(labels))
            labels = labels[:-1]  # the top-level domain
            if len(labels) > 1 and labels[-1] in _SECOND_LEVEL_LABELS:
                labels = labels[:-1]
            if labels:
                raw.append(labels[-1])
    keys: set[str] = set()
    for name in raw:
        for variant in (name, name.split(",")[0], name.split("(")[0]):
            stripped = variant.strip().lstrip("@")
            for candidate in (stripped, re.sub(r"^the\s+", "", stripped, flags=re.IGNORECASE)):
                key = _key(candidate)
                if len(key) >= 2:
                    keys.add(key)
    return frozenset(keys)


def is_trailing_residue(paragraph: str, sites: frozenset[str] = frozenset()) -> bool:
    """Whether a paragraph at the end of the text is page furniture, not article text.

    Share rows, ad labels, a lone outlet name, "Related stories"/"Read more" lines,
    copyright lines, bare "Comments" headers and "Source: X" credits.
    """
    para = _unlisted(paragraph)
    if not para:
        return True
    if is_share_residue(para) or is_ad_marker(para):
        return True
    key = _key(re.sub(r"^the\s+", "", para, flags=re.IGNORECASE))
    if key and key in sites:
        return True
    if _RELATED_RE.match(para) or _COMMENTS_RE.match(para):
        return True
    n_words = word_count(para)
    if _READ_MORE_LINK_RE.match(para) and n_words <= _MAX_READ_MORE_WORDS:
        return True
    if (_COPYRIGHT_RE.match(para) or _ALL_RIGHTS_RE.search(para)) and (
        n_words <= _MAX_COPYRIGHT_WORDS
    ):
        return True
    source = _SOURCE_RE.match(para)
    return bool(source and word_count(source.group(1)) <= _MAX_SOURCE_WORDS)


# --------------------------------------------------------------------------------------
# Paragraph-list cleanup steps

_TITLE_SEPARATORS_RE: Final = re.compile(r"\s+[|–—:·•»-]\s+|\s+-{2}\s+")
_MIN_TITLE_KEY_CHARS: Final = 8
_MAX_KICKER_WORDS: Final = 8
_MIN_KICKER_TITLE_WORDS: Final = 4
_MAX_SITE_AFFIX_WORDS: Final = 5


def _variants(text: str, max_affix_words: int | None = None) -> dict[str, int]:
    """Comparison key -> word count, for the text and the text without a " | Outlet"
    suffix or an "Outlet | " prefix (only affixes of at most `max_affix_words` words)."""
    variants = [text]
    parts = _TITLE_SEPARATORS_RE.split(text)
    if len(parts) > 1:
        if max_affix_words is None or word_count(parts[-1]) <= max_affix_words:
            variants.append(" ".join(parts[:-1]))
        if max_affix_words is None or word_count(parts[0]) <= max_affix_words:
            variants.append(" ".join(parts[1:]))
    out: dict[str, int] = {}
    for variant in variants:
        key = _key(variant)
        if len(key) >= _MIN_TITLE_KEY_CHARS:
            out.setdefault(key, word_count(variant))
    return out


def drop_leading_title(paragraphs: Sequence[str], title: str | None) -> list[str]:
    """Drop a first paragraph that repeats the headline.

    Matches when, compared case- and punctuation-insensitively, the paragraph equals the
    title (either of them may carry an outlet name after or before a "|"/"-" separator),
    or is the title with a short kicker glued in front ("Umbau des Weissen Hauses Trump
    plant ..."). Only the first paragraph is ever dropped.
    """
    paras = list(paragraphs)
    if not paras or not title:
        return paras
    titles = _variants(title)
    first = paras[0]
    firsts = _variants(first, max_affix_words=_MAX_SITE_AFFIX_WORDS)
    if titles.keys() & firsts.keys():
        return paras[1:]
    # A kicker glued in front of the full title: a few words, no sentence in it, and
    # no full stop at the end unless the title has one too.
    title_key, title_words = _key(title), word_count(title)
    first_key = _key(first)
    kicker_words = word_count(first) - title_words
    if (
        title_words >= _MIN_KICKER_TITLE_WORDS
        and first_key.endswith(title_key)
        and first_key != title_key
        and 0 <= kicker_words <= _MAX_KICKER_WORDS
        and not re.search(r"[.!?]\s", first)
        and (first[-1] not in ".!?…" or title[-1] in ".!?…")
    ):
        return paras[1:]
    return paras


_BYLINE_RE: Final = re.compile(r"^(?:by|von|par|por|door|av|af)\s+(.+)$", re.IGNORECASE)
_NAME_JOINERS: Final = frozenset({"and", "und", "et", "y", "e", "og", "och", "en", "&", ","})
_MAX_BYLINE_WORDS: Final = 10


def is_byline(paragraph: str) -> bool:
    """A "By Jane Doe and John Roe" line: after the "By", only capitalised names."""
    match = _BYLINE_RE.match(paragraph.strip())
    if not match or word_count(paragraph) > _MAX_BYLINE_WORDS or paragraph[-1] in ".!?":
        return False
    words = match.group(1).replace(",", " , ").split()
    return all(w.casefold() in _NAME_JOINERS or w[0].isupper() for w in words)


def drop_leading_byline(paragraphs: Sequence[str]) -> list[str]:
    """Drop a byline ("By Jane Doe") in the first two paragraphs."""
    paras = list(paragraphs)
    for i, para in enumerate(paras[:2]):
        if is_byline(para):
            return paras[:i] + paras[i + 1 :]
    return paras


# The "|---|---|" line trafilatura puts under a table's header row.
_TABLE_RULE_RE: Final = re.compile(r"^\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?)?\s*$")


def drop_residue(paragraphs: Iterable[str]) -> list[str]:
    """Drop share-button rows, ad labels and table rule lines wherever they are."""
    return [
        p
        for p in paragraphs
        if not (is_share_residue(p) or is_ad_marker(p) or _TABLE_RULE_RE.match(p))
    ]


def drop_trailing_residue(
    paragraphs: Sequence[str], sites: frozenset[str] = frozenset()
) -> list[str]:
    """Drop paragraphs from the end for as long as they are `is_trailing_residue`."""
    paras = list(paragraphs)
    while paras and is_trailing_residue(paras[-1], sites):
        paras.pop()
    return paras


_TABLE_ROW_RE: Final = re.compile(r"^\|.*\|$")


def plain_paragraph(paragraph: str) -> str:
    """A paragraph without trafilatura's Markdown: list markers ("- item") dropped and a
    table row ("| a | b |") as its cells separated by spaces."""
    para = _unlisted(paragraph)
    if _TABLE_ROW_RE.match(para):
        return " ".join(cell.strip() for cell in para[1:-1].split("|") if cell.strip())
    return para


def clean_text(text: str, *, title: str | None = None, sites: frozenset[str] = frozenset()) -> str:
    """All cleanup steps; paragraphs joined by a blank line."""
    paras = drop_residue(split_paragraphs(text))
    paras = [p for p in map(plain_paragraph, paras) if p]
    paras = drop_leading_title(paras, title)
    paras = drop_leading_byline(paras)
    paras = drop_trailing_residue(paras, sites)
    return "\n\n".join(paras)


# --------------------------------------------------------------------------------------
# Title

# " | Outlet", " - Outlet", " – DW – 13.06.2023", "：東京新聞デジタル", " | by Jane Doe"
_TITLE_TAIL_RE: Final = re.compile(r"(?:\s+[|–—·*•»-]\s+|\s*[｜：ㅣ|]\s*)([^|｜：ㅣ–—·*•»]+)$")
_TITLE_HEAD_RE: Final = re.compile(r"^([^|｜–—·*•»]+?)\s+[|–—·*•»-]\s+")
_DATE_SEGMENT_RE: Final = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_BYLINE_SEGMENT_RE: Final = re.compile(r"^by\s+\S+(?:\s+\S+){0,3}$", re.IGNORECASE)
_MIN_TITLE_WORDS_LEFT: Final = 2
_MAX_TITLE_CUTS: Final = 3


def _is_title_furniture(segment: str, sites: frozenset[str]) -> bool:
    segment = segment.strip()
    key = _key(re.sub(r"^the\s+", "", segment, flags=re.IGNORECASE))
    return (
        key in sites
        or bool(_DATE_SEGMENT_RE.match(segment))
        or bool(_BYLINE_SEGMENT_RE.match(segment))
    )


def clean_title(title: str | None, sites: frozenset[str] = frozenset()) -> str | None:
    """Title without the outlet name, a date or a byline appended or prepended to it.

    "Mining blasts shatter homes - Lesotho Times" -> "Mining blasts shatter homes".
    Only segments after/before a separator ("|", " - ", "–", "：") that are the outlet's
    name (`sites`), a bare date or "by <name>" are cut, and never down to one word.
    """
    text = _clean_field(title)
    if text is None:
        return None
    for _ in range(_MAX_TITLE_CUTS):
        tail = _TITLE_TAIL_RE.search(text)
        if tail and _is_title_furniture(tail.group(1), sites):
            rest = text[: tail.start()].rstrip()
            if word_count(rest) >= _MIN_TITLE_WORDS_LEFT or len(_key(rest)) >= 8:
                text = rest
                continue
        head = _TITLE_HEAD_RE.match(text)
        if head and _is_title_furniture(head.group(1), sites):
            rest = text[head.end() :].lstrip()
            if word_count(rest) >= _MIN_TITLE_WORDS_LEFT or len(_key(rest)) >= 8:
                text = rest
                continue
        break
    return text


# UTF-8 read as Windows-1252: "fÃ¼r" for "für", "â€™" for "’".
_MOJIBAKE_RE: Final = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u0192\u02c6-\u2122]")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Windows-1252 somewhere upstream of the page.

    Only when the whole text round-trips: real "Ã" or "â" in a text makes it invalid
    UTF-8, and any character outside Windows-1252 makes it unencodable, so such text
    stays as it is.
    """
    if not _MOJIBAKE_RE.search(text):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text


# A colon is no separator here: "Brexit: what happens next" is a headline of its own.
_HEADLINE_TAIL_RE: Final = re.compile(r"\s*[|｜ㅣ–—·•»-]\s*(\S.*)")


def choose_title(
    meta_title: str | None, headline: str | None, sites: frozenset[str] = frozenset()
) -> str | None:
    """The page's title: its metadata title (og:title first, as trafilatura reads it)
    without outlet affixes, cut back to the page's own headline when that is the title
    followed by a separator and a few words of section or outlet name ("... - National",
    "...-정치"), and with Windows-1252 mojibake undone.

    `headline` is the JSON-LD Article or microdata headline, else the first `<h1>`; it
    does not replace a metadata title that says something else, as og:title often is the
    deliberate one.
    """
    title = clean_title(meta_title, sites)
    if title is None:
        return clean_title(headline, sites)
    title = repair_mojibake(title)
    if headline and title != headline and title.startswith(headline):
        tail = _HEADLINE_TAIL_RE.fullmatch(title[len(headline) :])
        if tail and word_count(tail.group(1)) <= _MAX_SITE_AFFIX_WORDS:
            return headline
    return title


# --------------------------------------------------------------------------------------
# Authors

_BYLINE_PREFIX_RE: Final = re.compile(r"^(?:by|von|par|por|door|av|af)\s+(?=\S)", re.IGNORECASE)
# Korean, Japanese and Chinese bylines put the job title after the name: "신현주 기자".
_BYLINE_SUFFIX_RE: Final = re.compile(r"(?<=\S)\s+(?:기자|특파원|記者|特派員|记者)$")


def _strip_byline_prefix(name: str) -> str:
    """ "By Jane Doe" -> "Jane Doe"; "von der Leyen" stays (lower-case word follows);
    "신현주 기자" (reporter) -> "신현주"."""
    name = _BYLINE_SUFFIX_RE.sub("", name)
    match = _BYLINE_PREFIX_RE.match(name)
    if match and name[match.end()].isupper():
        return name[match.end() :]
    if match and name[: match.end()].strip().casefold() == "by":
        return name[match.end() :]
    return name


_NON_NAMES: Final = frozenset(
    _key(s)
    for s in (
        "By",
        "Staff",
        "Staff writer",
        "Staff writers",
        "Staff reporter",
        "Staff report",
        "Admin",
        "Administrator",
        "Editor",
        "Editors",
        "Editorial",
        "Editorial staff",
        "Editorial board",
        "Editorial team",
        "The editors",
        "Newsroom",
        "News desk",
        "Web desk",
        "Online desk",
        "Digital desk",
        "Desk",
        "Guest",
        "Guest author",
        "Anonymous",
        "Unknown",
        "Redaktion",
        "Online-Redaktion",
        "Rédaction",
        "Redacción",
        "Redação",
        "Redazione",
        "Journalist",
        "Reporter",
        "Correspondent",
        "Contributor",
        "Columnist",
        "Writer",
        "Author",
        "Photographer",
    )
)
_URLISH_TOKENS: Final = frozenset({"http", "https", "www", "com"})
_TIMESTAMP_WORDS_RE: Final = re.compile(
    r"\b(?:updated|published|posted|aktualisiert|veröffentlicht)\b", re.IGNORECASE
)
_MAX_AUTHOR_CHARS: Final = 80
_MAX_AUTHOR_WORDS: Final = 6


_MIN_LISTED_NAME_WORDS: Final = 2
_NAME_LIST_RE: Final = re.compile(r"\s*,\s*|\s+(?:and|und|et|y|e|og|och|en|&)\s+")


def _split_name_list(part: str) -> list[str]:
    """ "Ann Lee, Bo Park and Cy Diaz" -> three names; "Lee, Ann" and "AFP, Manila" stay
    whole (a split counts only if every piece has at least two words)."""
    pieces = _NAME_LIST_RE.split(part)
    if len(pieces) > 1 and all(word_count(p) >= _MIN_LISTED_NAME_WORDS for p in pieces):
        return pieces
    return [part]


def split_authors(raw: str | None, sites: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Split a "; "-joined author string into names, dropping non-names.

    A part that lists several full names ("A B, C D and E F") is split too. Dropped: the
    outlet's own name (`sites`), "Staff"/"By"/"Editor"-style labels, and anything that
    looks like a date, time, URL or e-mail address. Order is kept and case-insensitive
    duplicates are removed.
    """
    if not raw:
        return ()
    out: list[str] = []
    seen: set[str] = set()
    parts = normalize_text(raw).split(";")
    for part in (p for whole in parts for p in _split_name_list(clean_paragraph(whole))):
        name = _strip_byline_prefix(part).strip(" ,.;:|-–—")
        key = _key(name)
        if not key or key in seen or key in _NON_NAMES or key in sites:
            continue
        if any(ch.isdigit() for ch in name) or "@" in name or "://" in name:
            continue
        if any(token in _URLISH_TOKENS for token in _TOKEN_RE.findall(name.casefold())):
            continue
        if _TIMESTAMP_WORDS_RE.search(name):
            continue
        if len(name) > _MAX_AUTHOR_CHARS or word_count(name) > _MAX_AUTHOR_WORDS:
            continue
        seen.add(key)
        out.append(name)
    return tuple(out)


def choose_authors(
    declared: Sequence[str], found: str | None, sites: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """Authors from the page's JSON-LD Article `author` (`declared`), else from
    trafilatura's byline search (`found`, "; "-joined).

    Declared names are taken as the page states them, agencies ("dpa") and the outlet
    itself ("DER SPIEGEL") included: that is the article's stated authorship. Only when
    the outlet is all the JSON-LD names and trafilatura found a person is the person
    preferred, as such pages put a generic publisher entry in JSON-LD. The meta
    `author` tag is not read here for the same reason: publishers fill it with the
    group's name ("Condé Nast").
    """
    names = split_authors("; ".join(declared))
    if names and not all(_key(n) in sites for n in names):
        return names
    return split_authors(found, sites) or names


# --------------------------------------------------------------------------------------
# Timestamps


@dataclass(frozen=True)
class _Stamp:
    when: datetime  # aware; naive inputs are read as UTC
    offset_stated: bool  # the value carried an offset (Z counts)
    local_known: bool  # ... and that offset says the publisher's local time (Z does not)


_HAS_TIME_RE: Final = re.compile(r"\d{1,2}:\d{2}")
_SPACED_OFFSET_RE: Final = re.compile(r"(\d)\s+([+-]\d{2}:?\d{2})$")
# RFC 9557 (and RFC 3339 -00:00, RFC 5322 -0000): UTC is known, the local offset is not.
_UNKNOWN_LOCAL_RE: Final = re.compile(r"(?:[zZ]|-00:?00|\b(?:GMT|UTC?))$")


def parse_timestamp(value: str) -> tuple[datetime, bool] | None:
    """Parse an ISO 8601 / RFC 3339 or RFC 822 timestamp that includes a time of day.

    Returns (aware datetime, local_known) or None for date-only, unparseable or
    implausible (before 1990, after 2100) values. Values without an offset are read as
    UTC. `local_known` is false when no offset was given and for "Z", "-00:00", "GMT"
    and "UTC", which state UTC but not the publisher's local offset (RFC 9557).
    """
    stamp = _parse_stamp(value)
    if stamp is None:
        return None
    return stamp.when, stamp.local_known


def _parse_stamp(value: str) -> _Stamp | None:
    value = value.strip()
    if not value or len(value) > _MAX_TIMESTAMP_CHARS or not _HAS_TIME_RE.search(value):
        return None
    parsed: datetime | None = None
    iso = _SPACED_OFFSET_RE.sub(r"\1\2", value)
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    offset = parsed.utcoffset()
    if offset is None:
        return _Stamp(parsed.replace(tzinfo=UTC), offset_stated=False, local_known=False)
    unknown_local = bool(_UNKNOWN_LOCAL_RE.search(value)) or offset.total_seconds() % 60 != 0
    return _Stamp(parsed, offset_stated=True, local_known=not unknown_local)


def _format_local(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat()


def _choose_published(facts: _PageFacts, feed: _Stamp | None) -> tuple[str | None, str | None]:
    """(published_at, published_at_local) from the page's candidates and the feed's.

    The first page value with an offset wins, then the feed's value with an offset, then
    offset-less values read as UTC. Unmarked `<time>` elements are candidates only if the
    page has no other. The local form comes from the first value (any source) that states
    the publisher's offset for that same instant: a `<time>` in the byline often does
    when JSON-LD says "Z".
    """
    page = facts.stamps or facts.other_stamps
    ordered = [*page, *([feed] if feed else [])]
    if not ordered:
        return None, None
    chosen = next((s for s in ordered if s.offset_stated), ordered[0])
    instant = chosen.when.replace(microsecond=0)
    local = next(
        (
            s
            for s in (*ordered, *facts.other_stamps)
            if s.local_known and s.when.replace(microsecond=0) == instant
        ),
        None,
    )
    return format_utc(chosen.when), _format_local(local.when) if local else None


# --------------------------------------------------------------------------------------
# Facts we read from the parsed page ourselves

_ARTICLE_TYPES: Final = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
        "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "blogposting",
        "liveblogposting", "socialmediaposting", "scholarlyarticle", "techarticle",
        "report", "posting",
    }
)  # fmt: skip
# Meta tags (property/name/itemprop, lower-cased) that carry the publish time, best first.
_DATE_META: Final = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "published_time",
    "publish-date",
    "publish_date",
    "publishdate",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dcterms.created",
    "dcterms.issued",
    "dc.date.issued",
    "dc.date.created",
    "dc.date",
    "date",
)
_SITE_META: Final = (
    "og:site_name",
    "application-name",
    "publisher",
    "dc.publisher",
    "twitter:site",
)
_MODIFIED_META: Final = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "modified_time",
    "dcterms.modified",
)
_IMAGE_META: Final = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")
# Tag sources, best first; the first that has any is used (they often repeat each
# other, and the generic `keywords` is the most often stuffed with SEO terms).
_TAG_META: Final = ("article:tag", "news_keywords", "keywords")
_MAX_TAGS: Final = 50


@dataclass(frozen=True)
class _PageFacts:
    stamps: tuple[_Stamp, ...] = ()  # publish-time candidates, best first
    other_stamps: tuple[_Stamp, ...] = ()  # unmarked <time> elements
    site_names: tuple[str, ...] = ()
    headline: str | None = None  # JSON-LD Article or meta `headline`, else the first <h1>
    authors: tuple[str, ...] = ()  # JSON-LD Article `author` names (people or organisations)
    modified: tuple[_Stamp, ...] = ()  # last-modified candidates, best first
    tags: tuple[str, ...] = ()
    image: str | None = None  # as the page gives it, maybe relative


@dataclass(frozen=True)
class _JsonLdFacts:
    dates: list[str]  # datePublished values, Article types first
    site_names: list[str]  # publisher and WebSite/NewsMediaOrganization names
    headline: str | None  # of the first Article object that has one
    authors: list[str]  # of the first Article object that names any
    modified: list[str]  # Article `dateModified` values
    keywords: list[str]  # of the first Article object that has any
    image: str | None  # of the first Article object that has one


# Some sites wrap JSON-LD in "//<![CDATA[ ... //]]>" or "<!-- ... -->".
_JSONLD_WRAPPER_RE: Final = re.compile(
    r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$"
)


def _jsonld_objects(node: object, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > _MAX_JSONLD_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            yield from _jsonld_objects(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        graph = node.get("@graph")
        if graph is not None:
            yield from _jsonld_objects(graph, depth + 1)
        main = node.get("mainEntity")
        if isinstance(main, dict | list):
            yield from _jsonld_objects(main, depth + 1)


def _jsonld_types(obj: dict[str, Any]) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {v.rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _image_url(value: object) -> str | None:
    """The first URL in a JSON-LD `image`: a string, an ImageObject or a list of them."""
    for item in value if isinstance(value, list) else [value]:
        url = (item.get("url") or item.get("contentUrl")) if isinstance(item, dict) else item
        if isinstance(url, str) and url.strip():
            return url.strip()
    return None


def _author_names(value: object) -> list[str]:
    """Names in a JSON-LD `author`: strings, or Person/Organization objects' `name`."""
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        names.extend(_strings(item.get("name")) if isinstance(item, dict) else _strings(item))
    # Some sites HTML-escape their JSON-LD strings a second time ("Swift&#8217;s").
    return [unescape(n) for n in names if n.strip()]


def _read_jsonld(tree: Any) -> _JsonLdFacts:
    """Dates, site names, headline, authors, keywords and image from the page's JSON-LD."""
    article_dates: list[str] = []
    other_dates: list[str] = []
    names: list[str] = []
    headline: str | None = None
    authors: list[str] = []
    modified: list[str] = []
    keywords: list[str] = []
    image: str | None = None
    scripts = tree.xpath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]")
    for script in scripts[:_MAX_JSONLD_SCRIPTS]:
        body = script.text or ""
        if not body.strip() or len(body) > _MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(_JSONLD_WRAPPER_RE.sub("", body), strict=False)
        except (ValueError, RecursionError):
            continue
        for obj in _jsonld_objects(data):
            is_article = bool(_jsonld_types(obj) & _ARTICLE_TYPES)
            dates = _strings(obj.get("datePublished"))
            (article_dates if is_article else other_dates).extend(dates)
            if is_article and headline is None and isinstance(obj.get("headline"), str):
                headline = unescape(obj["headline"])
            if is_article and not authors:
                authors = _author_names(obj.get("author"))
            if is_article:
                modified.extend(_strings(obj.get("dateModified")))
                keywords = keywords or [unescape(k) for k in _strings(obj.get("keywords"))]
                image = image or _image_url(obj.get("image"))
            publisher = obj.get("publisher")
            for pub in publisher if isinstance(publisher, list) else [publisher]:
                if isinstance(pub, dict):
                    names.extend(_strings(pub.get("name")))
            if _jsonld_types(obj) & {"newsmediaorganization", "website"}:
                names.extend(_strings(obj.get("name")))
    return _JsonLdFacts(
        article_dates + other_dates, names, headline, authors, modified, keywords, image
    )


def _read_meta(tree: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content][@property or @name or @itemprop]"):
        content = meta.get("content") or ""
        for attr in ("property", "name", "itemprop"):
            key = (meta.get(attr) or "").strip().lower()
            if key and key not in found and content.strip():
                found[key] = content.strip()
    return found


def _read_times(tree: Any) -> tuple[list[str], list[str]]:
    """`<time datetime>` values: (marked as the publish time, all others)."""
    marked: list[str] = []
    other: list[str] = []
    for el in tree.xpath("//time[@datetime]")[:_MAX_TIME_ELEMENTS]:
        value = el.get("datetime") or ""
        signals = " ".join(
            (el.get("itemprop") or "", el.get("class") or "", el.get("pubdate") or "")
        ).lower()
        is_marked = "publish" in signals or "pubdate" in signals or el.get("pubdate") is not None
        (marked if is_marked else other).append(value)
    return marked, other


def _parse_all(values: Iterable[str]) -> tuple[_Stamp, ...]:
    return tuple(s for s in (_parse_stamp(v) for v in values) if s is not None)


def _meta_values(tree: Any, key: str) -> list[str]:
    """All `content` values of the meta tags named `key` (`article:tag` repeats)."""
    xpath = "//meta[@property=$k or @name=$k or @itemprop=$k]/@content"
    return [v for v in tree.xpath(xpath, k=key) if v.strip()]


def _split_tags(values: Iterable[str]) -> tuple[str, ...]:
    """Comma-separated values split, whitespace collapsed, case-insensitive duplicates
    and empty entries dropped, at most _MAX_TAGS."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            tag = clean_paragraph(normalize_text(part))
            if tag and len(out) < _MAX_TAGS:
                out.setdefault(tag.casefold(), tag)
    return tuple(out.values())


def _first_h1(tree: Any) -> str | None:
    for el in tree.xpath("(//h1)[position() <= $n]", n=_MAX_H1_ELEMENTS):
        text = _clean_field(el.text_content())
        if text:
            return text
    return None


def _page_facts(tree: Any) -> _PageFacts:
    """Publish-time candidates (best first), the outlet's names, the headline, the
    declared authors, last-modified candidates, tags and the lead image, read from the page.

    Order: JSON-LD `datePublished` (Article types first), meta tags, `<time>` elements
    marked as the publish time. Unmarked `<time>` elements (which may date a related
    story or a comment) count only when none of those gave a timestamp.
    """
    jsonld = _read_jsonld(tree)
    meta = _read_meta(tree)
    marked_times, other_times = _read_times(tree)
    stamps = _parse_all([*jsonld.dates, *(meta[k] for k in _DATE_META if k in meta), *marked_times])
    names = [*jsonld.site_names, *(meta[k] for k in _SITE_META if k in meta)]
    # A generator, so the meta tags are only searched when JSON-LD has no keywords.
    tag_sources = itertools.chain([jsonld.keywords], (_meta_values(tree, k) for k in _TAG_META))
    return _PageFacts(
        stamps=stamps,
        other_stamps=_parse_all(other_times),
        site_names=tuple(names),
        headline=_clean_field(jsonld.headline or meta.get("headline")) or _first_h1(tree),
        authors=tuple(jsonld.authors),
        modified=_parse_all([*jsonld.modified, *(meta[k] for k in _MODIFIED_META if k in meta)]),
        tags=next((tags for tags in map(_split_tags, tag_sources) if tags), ()),
        image=next((meta[k] for k in _IMAGE_META if k in meta), None) or jsonld.image,
    )


# --------------------------------------------------------------------------------------
# Scripts written without spaces count by characters for the "too short" test only.
_DENSE_SCRIPT_RE: Final = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
_DENSE_CHARS_PER_WORD: Final = 2


def _substance(text: str) -> int:
    """Word count where Chinese/Japanese/Thai-style text counts two characters a word."""
    total = 0
    for token in text.split():
        dense = len(_DENSE_SCRIPT_RE.findall(token))
        total += max(1, dense // _DENSE_CHARS_PER_WORD) if dense else 1
    return total


def _absolute_url(value: str | None, base: str) -> str | None:
    """`value` resolved against the page URL, if that gives an http(s) URL."""
    if not value:
        return None
    try:
        absolute = urljoin(base, value.strip())
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _clean_field(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = clean_paragraph(normalize_text(value))
    return cleaned or None


def _run_trafilatura(html: str, url: str) -> tuple[Any, _PageFacts]:
    """(trafilatura Document or None, our own page facts). Raises ExtractionError."""
    if not html.strip():
        return None, _PageFacts()
    try:
        tree = trafilatura.load_html(html)
        if tree is None:
            return None, _PageFacts()
        facts = _page_facts(tree)
        # bare_extraction works on a copy of the tree, so ours stays as parsed. Without
        # as_dict it returns a Document (typed as Document | dict).
        doc: Any = trafilatura.bare_extraction(
            tree,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
        )
        if doc is None:
            # Too little text for trafilatura; keep the page's title and site name.
            doc = trafilatura.extract_metadata(tree, url)
            doc.text = None
        doc.text = _second_opinion(html, tree, url, doc.text or "") or None
    except Exception as exc:  # trafilatura/lxml raise many types; all mean the same here
        raise ExtractionError(
            "extraction_error", f"extraction failed on {url}: {type(exc).__name__}: {exc}"
        ) from exc
    return doc, facts


def _second_opinion(html: str, tree: Any, url: str, text: str) -> str:
    """trafilatura's text, or another reading of the page where trafilatura's looks cut short.

    readability-lxml is asked only when trafilatura kept under half of the page's `<p>`
    text (most pages: not asked), and wins only by `body.prefer_second`'s rule. A page with
    next to no text in its HTML may carry the article in Next.js flight data.
    """
    if looks_truncated(word_count(text), paragraph_words(tree)):
        other = readability_text(tree, url)
        if prefer_second(text, other, 2 * MIN_ARTICLE_WORDS):
            text = other
    if _substance(text) < MIN_ARTICLE_WORDS:
        fragment = flight_html(html)
        if fragment:
            found: Any = trafilatura.bare_extraction(
                f"<html><body><article>{fragment}</article></body></html>",
                url=url,
                favor_precision=True,
                include_tables=True,
                with_metadata=False,
            )
            other = found.text if found is not None and found.text else ""
            if prefer_second(text, other, MIN_ARTICLE_WORDS):
                text = other
    return text


def extract_article(
    html: str,
    url: str,
    *,
    feed_title: str | None = None,
    feed_summary: str | None = None,
    feed_published: str | None = None,
) -> Extraction:
    """Main text and metadata of an article page, with the feed entry as fallback.

    `html` must be the page decoded to `str` by our fetcher; bytes raise TypeError.
    Text: trafilatura (precision mode, no comments, tables kept) plus `clean_text`. If
    that has fewer than MIN_ARTICLE_WORDS words, the feed summary (plain text, as
    `transforms.core.feeds` cleaned it) is used, else the feed title; if there is no text
    at all, ExtractionError("empty_extraction").
    """
    if not isinstance(html, str):
        raise TypeError(
            f"extract_article needs HTML decoded to str, not {type(html).__name__}: "
            "trafilatura would sniff and decompress bytes without a size limit"
        )
    doc, facts = _run_trafilatura(html, url)

    site_name = _clean_field(doc.sitename) if doc is not None else None
    description = _clean_field(doc.description) if doc is not None else None
    sites = site_keys(site_name, *facts.site_names, url=url)
    page_title = choose_title(doc.title if doc is not None else None, facts.headline, sites)
    authors = choose_authors(facts.authors, doc.author if doc is not None else None, sites)
    modified_at = format_utc(facts.modified[0].when) if facts.modified else None
    image_url = _absolute_url(facts.image, url)

    feed_stamp = _parse_stamp(feed_published) if feed_published else None
    published_at, published_at_local = _choose_published(facts, feed_stamp)

    title = page_title or clean_title(feed_title, sites)
    raw_text = doc.text if doc is not None and doc.text else ""
    text = clean_text(raw_text, title=title, sites=sites)
    method = METHOD_TRAFILATURA

    if _substance(text) < MIN_ARTICLE_WORDS:
        # Already plain text (transforms.core.text): parsing it as HTML again would
        # decode its entities twice and swallow a literal "<b>" as a tag.
        summary = "\n\n".join(split_paragraphs(feed_summary)) if feed_summary else ""
        short_title = _clean_field(feed_title)
        if summary:
            text, method = summary, METHOD_FEED_SUMMARY
        elif short_title:
            text, method = short_title, METHOD_FEED_TITLE
        elif not text:
            raise ExtractionError(
                "empty_extraction", f"no text on the page and none in the feed entry: {url}"
            )

    return Extraction(
        text=text,
        title=title,
        authors=authors,
        published_at=published_at,
        published_at_local=published_at_local,
        site_name=site_name,
        description=description,
        method=method,
        word_count=word_count(text),
        modified_at=modified_at,
        tags=facts.tags,
        image_url=image_url,
    )
