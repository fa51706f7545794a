"""Records safe to store and query: bounded, clean text and no credentials.

Applied where records are built (the Article in ExtractArticles, dead letters in
`transforms.common`, duplicates in the dedup stages), so every later stage, sink and log
sees only safe values. Whatever a page or feed contained:

* no NUL or other control characters besides newline and tab, no lone surrogates or
  non-characters (`transforms.core.text.safe_text`);
* every field capped (a 1 MB title, a 10 MB page of text or 10,000 author names cannot
  make a row BigQuery refuses or a downstream tool chokes on);
* every URL through `redact_url`: no userinfo, secret-looking query values replaced by
  `REDACTED`, also where a URL appears inside an error message.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from schemas.records import Article
from transforms.core.http import MAX_URL_LENGTH, redact_url
from transforms.core.text import safe_line, safe_text

__all__ = [
    "MAX_AUTHORS",
    "MAX_ERROR_CHARS",
    "MAX_LINE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_SUMMARY_CHARS",
    "MAX_TAGS",
    "MAX_TEXT_CHARS",
    "safe_article",
    "safe_message",
    "safe_url",
]

MAX_TEXT_CHARS: Final = 500_000
MAX_SUMMARY_CHARS: Final = 20_000
MAX_LINE_CHARS: Final = 1_000
MAX_NAME_CHARS: Final = 200
MAX_AUTHORS: Final = 20
MAX_TAGS: Final = 50
MAX_ERROR_CHARS: Final = 2_000

_URL_IN_TEXT: Final = re.compile(r"""(?i)\b(?:https?|ftp|wss?)://[^\s"'<>]+""")


def safe_url(url: str) -> str:
    """A URL as stored: redacted, control characters removed, capped."""
    return safe_text(redact_url(url), MAX_URL_LENGTH)


def safe_message(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """An error message as stored or logged: every URL in it redacted, clean, capped."""
    redacted = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), message[: limit * 2])
    return safe_text(redacted, limit)


def _optional(value: str | None, limit: int) -> str | None:
    return None if value is None else safe_text(value, limit) or None


def safe_article(article: Article) -> Article:
    """`article` with every text field cleaned and capped and every URL redacted (its
    `word_count` recounted if that changed the text)."""
    text = safe_text(article.text, MAX_TEXT_CHARS)
    authors = (safe_line(a, MAX_NAME_CHARS) for a in article.authors[:MAX_AUTHORS])
    tags = (safe_line(t, MAX_NAME_CHARS) for t in article.tags[:MAX_TAGS])
    return dataclasses.replace(
        article,
        url=safe_url(article.url),
        feed_url=safe_url(article.feed_url),
        entry_url=safe_url(article.entry_url),
        final_url=safe_url(article.final_url),
        source=safe_line(article.source, MAX_NAME_CHARS) or "",
        title=safe_line(article.title, MAX_LINE_CHARS),
        text=text,
        summary=_optional(article.summary, MAX_SUMMARY_CHARS),
        description=_optional(article.description, MAX_SUMMARY_CHARS),
        site_name=safe_line(article.site_name, MAX_NAME_CHARS),
        authors=tuple(a for a in authors if a),
        tags=tuple(t for t in tags if t),
        image_url=None if article.image_url is None else safe_url(article.image_url),
        word_count=article.word_count if text == article.text else len(text.split()),
    )
