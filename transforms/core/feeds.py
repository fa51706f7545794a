"""Feed lists (plain, OPML, YAML) and feed documents (RSS, Atom, JSON Feed).

feedparser only ever receives bytes we fetched ourselves, wrapped in a stream: given a
`str` or even raw `bytes`, feedparser 6 tries to open it as a local path or fetch it as a
URL. JSON Feed is not something feedparser 6 reads, so it is parsed here with `json`.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import yaml
from lxml import etree

from schemas.records import FeedSource
from transforms.core.polling import declared_interval
from transforms.core.text import drop_feed_tails, to_text

MAX_ENTRIES_PER_FEED = 1000
MAX_FIELD_CHARS = 20_000
MAX_LINE_CHARS = 1_000

_JSON_TYPES = ("application/feed+json", "application/json")


class FeedListError(ValueError):
    """The feed list itself is unusable (the run cannot start)."""


class FeedParseError(ValueError):
    """A fetched feed document could not be read."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class RawEntry:
    """One item of a feed as the feed states it (link not yet resolved or vetted)."""

    link: str | None
    guid: str | None
    title: str | None
    summary: str | None
    authors: tuple[str, ...]
    published_at: str | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: tuple[RawEntry, ...]
    bozo: bool
    bozo_reason: str | None
    format: str
    truncated: int = 0
    #: Shortest poll interval the feed asks for (``<ttl>``, ``sy:updatePeriod``), s.
    min_interval_s: float = 0.0


# --- feed lists -------------------------------------------------------------------------


def load_feed_list(path: Path) -> list[FeedSource]:
    """Feeds from a plain list, OPML or YAML file; the format is told by name, then content."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise FeedListError(f"cannot read feed list {path}: {err}") from err
    suffix = path.suffix.lower()
    stripped = content.lstrip()
    if suffix in (".opml", ".xml") or stripped.startswith("<"):
        sources = _parse_opml(content.encode("utf-8"))
    elif suffix in (".yaml", ".yml"):
        sources = _parse_yaml(content)
    else:
        sources = _parse_plain(content)
    unique = list(dict.fromkeys(sources))  # the same feed listed twice is polled once
    if not unique:
        raise FeedListError(f"feed list {path} names no feeds")
    return unique


def _parse_plain(content: str) -> list[FeedSource]:
    sources = []
    for raw in content.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            sources.append(FeedSource(url=_checked_feed_url(line)))
    return sources


def _parse_opml(data: bytes) -> list[FeedSource]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as err:
        raise FeedListError(f"OPML is not well-formed XML: {err}") from err
    body = root.find("body")
    if body is None:
        raise FeedListError("OPML has no <body>")
    sources: list[FeedSource] = []

    def walk(node: Any, categories: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = outline.get("xmlUrl") or outline.get("xmlurl")
            label = outline.get("title") or outline.get("text")
            if url:
                sources.append(
                    FeedSource(
                        url=_checked_feed_url(url),
                        name=label,
                        country=outline.get("country"),
                        language=outline.get("language"),
                        tags=_split_tags(outline.get("tags") or outline.get("category")),
                        category="/".join(categories) or None,
                    )
                )
            walk(outline, (*categories, label) if not url and label else categories)

    walk(body, ())
    return sources


def _parse_yaml(content: str) -> list[FeedSource]:
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as err:
        raise FeedListError(f"YAML feed list is invalid: {err}") from err
    if isinstance(data, Mapping):
        data = data.get("feeds")
    if not isinstance(data, list):
        raise FeedListError("YAML feed list must be a list of feeds (or a 'feeds:' list)")
    sources = []
    for item in data:
        if isinstance(item, str):
            sources.append(FeedSource(url=_checked_feed_url(item)))
            continue
        if not isinstance(item, Mapping) or not item.get("url"):
            raise FeedListError(f"YAML feed entry without a url: {item!r}")
        sources.append(
            FeedSource(
                url=_checked_feed_url(str(item["url"])),
                name=_opt_str(item.get("name")),
                country=_opt_str(item.get("country")),
                language=_opt_str(item.get("language")),
                tags=_split_tags(item.get("tags")),
                category=_opt_str(item.get("category")),
            )
        )
    return sources


def _checked_feed_url(url: str) -> str:
    url = url.strip()
    if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        raise FeedListError(f"feed URL must be absolute http(s): {url!r}")
    return url


def _split_tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items: Iterable[object] = value.split(",") if isinstance(value, str) else value  # type: ignore[assignment]
    return tuple(t for t in (str(i).strip() for i in items) if t)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


# --- feed documents ---------------------------------------------------------------------


def parse_feed(body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    """Entries of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document we fetched ourselves."""
    if not body.strip():
        raise FeedParseError("feed_parse_error", "empty feed document")
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _JSON_TYPES or body.lstrip()[:1] == b"{":
        return _parse_json_feed(body)
    # Entity declarations are how billion-laughs and quadratic-blowup feeds work, and
    # feedparser's loose parser re-expands "safe" entities without a limit. No real news
    # feed needs them.
    if b"<!ENTITY" in body[:65536].upper():
        raise FeedParseError("feed_parse_error", "feed declares XML entities (refused)")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    version = result.get("version") or ""
    entries = result.get("entries") or []
    if not version and not entries:
        reason = result.get("bozo_exception")
        raise FeedParseError(
            "feed_parse_error", f"not a feed: {reason or 'no RSS/Atom elements found'}"
        )
    feed = result.get("feed") or {}
    parsed = [_entry_from_feedparser(e) for e in entries[:MAX_ENTRIES_PER_FEED]]
    bozo_exc = result.get("bozo_exception")
    return ParsedFeed(
        title=clean_line(feed.get("title"), html=_is_html(feed, "title")),
        link=feed.get("link"),
        entries=tuple(parsed),
        bozo=bool(result.get("bozo")),
        bozo_reason=type(bozo_exc).__name__ if bozo_exc else None,
        format=version or "unknown",
        truncated=max(0, len(entries) - MAX_ENTRIES_PER_FEED),
        min_interval_s=declared_interval(
            feed.get("ttl"), feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")
        ),
    )


def _entry_from_feedparser(entry: Mapping[str, Any]) -> RawEntry:
    link = entry.get("link")
    if not link:
        # Atom entries may carry only rel="alternate" links, or an id that is a URL.
        for candidate in entry.get("links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    authors = [a.get("name") for a in entry.get("authors") or [] if a.get("name")]
    if not authors and entry.get("author"):
        authors = [entry["author"]]
    parsed_time = entry.get("published_parsed") or entry.get("updated_parsed")
    return RawEntry(
        link=link,
        guid=entry.get("id"),
        title=clean_line(entry.get("title"), html=_is_html(entry, "title")),
        summary=clean_text(entry.get("summary"), html=_is_html(entry, "summary")),
        authors=tuple(a for a in (clean_line(x, html=False) for x in authors) if a),
        published_at=_struct_time_to_rfc3339(parsed_time),
    )


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FeedParseError("feed_parse_error", f"invalid JSON Feed: {err}") from err
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedParseError("feed_parse_error", "JSON document is not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedParseError("feed_parse_error", "JSON Feed has no items list")
    feed_authors = _json_authors(data)
    entries = []
    for item in items[:MAX_ENTRIES_PER_FEED]:
        if not isinstance(item, dict):
            continue
        # JSON Feed says which fields are HTML: only content_html.
        summary = clean_text(_opt_str(item.get("summary") or item.get("content_text")), html=False)
        if summary is None:
            summary = clean_text(_opt_str(item.get("content_html")))
        entries.append(
            RawEntry(
                link=_opt_str(item.get("url") or item.get("external_url")),
                guid=_opt_str(item.get("id")),
                title=clean_line(_opt_str(item.get("title")), html=False),
                summary=summary,
                authors=_json_authors(item) or feed_authors,
                published_at=normalize_timestamp(
                    _opt_str(item.get("date_published") or item.get("date_modified"))
                ),
            )
        )
    return ParsedFeed(
        title=clean_line(_opt_str(data.get("title")), html=False),
        link=_opt_str(data.get("home_page_url")),
        entries=tuple(entries),
        bozo=False,
        bozo_reason=None,
        format="json" + str(data["version"]).rsplit("/", 1)[-1].replace(".", ""),
        truncated=max(0, len(items) - MAX_ENTRIES_PER_FEED),
    )


def _json_authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    raw = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    names = (clean_line(_opt_str(a.get("name")), html=False) for a in raw if isinstance(a, dict))
    return tuple(n for n in names if n)


# --- small shared helpers ---------------------------------------------------------------


def clean_text(value: str | None, *, html: bool = True) -> str | None:
    """A feed's summary as plain text (one decoding, see transforms.core.text), capped."""
    if not value:
        return None
    return drop_feed_tails(to_text(value, html=html))[:MAX_FIELD_CHARS] or None


def clean_line(value: str | None, *, html: bool = True) -> str | None:
    """A feed's title or author name as one line of plain text, capped."""
    if not value:
        return None
    return " ".join(to_text(value, html=html).split())[:MAX_LINE_CHARS] or None


def _is_html(entry: Mapping[str, Any], name: str) -> bool:
    """Whether feedparser says field `name` holds HTML (its default) or plain text."""
    detail = entry.get(f"{name}_detail") or {}
    return detail.get("type") != "text/plain"


def _struct_time_to_rfc3339(value: time.struct_time | None) -> str | None:
    if not value:
        return None
    try:
        stamp = calendar.timegm(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return format_utc(datetime.fromtimestamp(stamp, tz=UTC))


def normalize_timestamp(value: str | None) -> str | None:
    """An ISO 8601 / RFC 3339 timestamp as RFC 3339 UTC; None when unparseable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_utc(parsed)


def format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
