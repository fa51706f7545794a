"""Untrusted strings made into safe plain text: the one cleaner for feed fields.

Feed titles and summaries arrive as HTML fragments (feedparser hands RSS/Atom fields over
with their HTML entities intact, JSON Feed's ``content_html`` is HTML) or as plain text
(JSON Feed's ``summary``/``content_text``, Atom ``type="text"``). :func:`to_text` turns
either into plain text exactly once: entities are decoded a single time, so a feed that
wrote ``&amp;lt;`` shows ``&lt;`` and one that wrote ``&lt;script&gt;`` shows
``<script>`` as text instead of losing it as a tag. The result is never parsed as HTML
again (extraction's feed-summary fallback uses it as it is).

The same character rules serve records (:func:`safe_text`, :func:`safe_line`): no NUL or
other C0/C1 control characters except newline and tab, no lone surrogates (they cannot
be encoded as UTF-8, so BigQuery would refuse the row), no U+FFFE/U+FFFF, NFC.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from typing import Final

__all__ = ["drop_feed_tails", "html_to_text", "safe_line", "safe_text", "strip_controls", "to_text"]

_CONTROL_RE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FEED_TAIL_RE: Final = re.compile(
    r"^(?:the\s+post\s+.+\s+appeared\s+first\s+on\s+.+|continue\s+reading.*|read\s+more.*"
    r"|\[(?:…|\.\.\.)\]|…|\.\.\.)$",
    re.IGNORECASE,
)


def strip_controls(text: str) -> str:
    """CR/CRLF as newline, tab kept, every other control/surrogate/non-character removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text)


class _TextCollector(HTMLParser):
    _BLOCK: Final = frozenset(
        {
            "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
            "blockquote", "tr", "table", "section", "article", "header", "footer",
            "figure", "figcaption", "pre", "hr", "dd", "dt",
        }
    )  # fmt: skip
    _SKIP: Final = frozenset({"script", "style", "noscript", "template", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def to_text(value: str, *, html: bool) -> str:
    """Plain text of a feed field: paragraphs separated by one blank line, each with its
    whitespace collapsed; controls removed; NFC. With ``html`` the value is parsed as an
    HTML fragment (block elements end paragraphs, script/style dropped, entities decoded
    once); without, it is taken literally."""
    if html:
        collector = _TextCollector()
        collector.feed(value)
        collector.close()
        value = "".join(collector.parts)
    text = unicodedata.normalize("NFC", strip_controls(value))
    paragraphs = (" ".join(line.split()) for line in text.split("\n"))
    return "\n\n".join(p for p in paragraphs if p)


def drop_feed_tails(text: str) -> str:
    """Without feed-only trailing paragraphs ("The post X appeared first on Y.",
    "Continue reading", "[…]")."""
    paragraphs = text.split("\n\n")
    while paragraphs and _FEED_TAIL_RE.match(paragraphs[-1]):
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def html_to_text(fragment: str) -> str:
    """A feed summary's HTML as text, without feed-only tails."""
    return drop_feed_tails(to_text(fragment, html=True))


def safe_text(value: str, limit: int) -> str:
    """Multi-line text fit for a record: controls removed, NFC, at most ``limit`` chars."""
    return unicodedata.normalize("NFC", strip_controls(value))[:limit]


def safe_line(value: str | None, limit: int) -> str | None:
    """A one-line record field (title, name): as :func:`safe_text` with all whitespace
    collapsed to single spaces; None when nothing is left."""
    if value is None:
        return None
    line = " ".join(safe_text(value, limit * 2).split())[:limit]
    return line or None
