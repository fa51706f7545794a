"""Pub/Sub messages in and out, as plain functions (no Beam, no client).

In: other systems submit the URL of a feed or of an article, one per message: the UTF-8
URL as the body, attribute `kind` = `article` (default) or `feed`, optional `source`
(a name for the records). `newsbeam submit` publishes exactly these.

Out: each article record as its JSON row, with attributes `article_id`, `language`,
`source` and `schema_version`, so subscribers can filter without parsing the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from schemas.records import Article, FeedSource
from transforms.core import urls
from transforms.core.elements import FeedEntry
from transforms.core.http import MAX_URL_LENGTH
from transforms.core.text import safe_line

SubmissionKind = Literal["feed", "article"]
KINDS: Final = ("feed", "article")
# Pub/Sub's limit on an attribute value.
MAX_ATTRIBUTE_BYTES: Final = 1024
MAX_SOURCE_CHARS: Final = 200
_URL: Final = re.compile(r"^https?://[^/\s?#]+[^\s]*$", re.IGNORECASE)


class SubmissionError(ValueError):
    """A message that is no submission; `reason` is the dead letter's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Submission:
    kind: SubmissionKind
    url: str
    source: str | None = None

    def feed(self, origin: str) -> FeedSource:
        """The submitted feed, or the pseudo-feed an article submission came through."""
        if self.kind == "feed":
            return FeedSource(url=self.url, name=self.source)
        return FeedSource(url=origin, name=self.source or "Pub/Sub submission")

    def entry(self, origin: str) -> FeedEntry:
        """An article submission as the feed entry the rest of the pipeline expects."""
        canonical = urls.canonicalize(self.url)
        return FeedEntry(
            feed=self.feed(origin),
            feed_title=None,
            entry_url=self.url,
            canonical_url=canonical,
            article_id=urls.article_id(canonical),
            guid=None,
            title=None,
            summary=None,
            authors=(),
            published_at=None,
            position=0,
        )


def parse_submission(data: bytes, attributes: Mapping[str, str] | None) -> Submission:
    """A submission from a message, or SubmissionError with a precise reason."""
    attributes = attributes or {}
    given = attributes.get("kind", "article")
    if given not in KINDS:
        raise SubmissionError("invalid_kind", f"attribute kind must be feed or article: {given!r}")
    kind: SubmissionKind = "feed" if given == "feed" else "article"
    try:
        url = data.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise SubmissionError("not_utf8", f"message body is not UTF-8: {error}") from None
    if len(url) > MAX_URL_LENGTH:
        raise SubmissionError("url_too_long", f"URL longer than {MAX_URL_LENGTH} characters")
    if not _URL.match(url):
        raise SubmissionError("invalid_url", "message body is not an absolute http(s) URL")
    source = attributes.get("source")
    return Submission(kind, url, safe_line(source, MAX_SOURCE_CHARS))


def submission_message(
    url: str, kind: SubmissionKind = "article", source: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """(body, attributes) of a submission; checked by the same rules that read it."""
    attributes: dict[str, str] = {"kind": kind}
    if source:
        attributes["source"] = source
    data = url.strip().encode("utf-8")
    parse_submission(data, attributes)
    return data, attributes


def _attribute(value: str) -> str:
    encoded = value.encode("utf-8")[:MAX_ATTRIBUTE_BYTES]
    return encoded.decode("utf-8", errors="ignore")


def article_message(article: Article) -> tuple[bytes, dict[str, str]]:
    """(body, attributes) of one published article record."""
    body = json.dumps(article.to_row(), ensure_ascii=False, separators=(",", ":"))
    attributes = {
        "article_id": article.article_id,
        "language": article.language,
        "source": _attribute(article.source),
        "schema_version": str(article.schema_version),
    }
    return body.encode("utf-8"), attributes
