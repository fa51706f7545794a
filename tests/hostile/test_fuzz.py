"""Fuzzing the parsers that read untrusted bytes: feeds, bodies, summaries, pages.

Brief and deterministic in CI (`derandomize=True`, a few dozen examples each); set
NEWSBEAM_FUZZ_EXAMPLES to run longer locally. The property is always the same: hostile
input gives a result or the parser's own typed error, never another exception, and
what comes out is clean text.
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.core.extract import ExtractionError, extract_article
from transforms.core.feeds import FeedParseError, parse_feed
from transforms.core.http import decode_body
from transforms.core.sanitize import safe_message
from transforms.core.text import html_to_text, safe_line, to_text

FUZZ = settings(
    max_examples=int(os.environ.get("NEWSBEAM_FUZZ_EXAMPLES", "40")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

FRAGMENTS = [
    '<?xml version="1.0"?>', '<rss version="2.0">', "<channel>", "<item>", "</item>",
    "<title>", "</title>", "<link>", "</link>", "<description>", "</description>",
    '<feed xmlns="http://www.w3.org/2005/Atom">', "<entry>", "</entry>", "<![CDATA[",
    "]]>", "&amp;", "&lt;", "&#0;", "&#xD800;", "&bogus;", "<!DOCTYPE rss>", "\x00",
    "<script>", "</script>", "<p>", "</p>", "<div>", "javascript:x", "https://n.example/a",
    "\ufeff", "é", "ü", "<", ">", '"', "'", "{", "}", '"version":', "[",
]  # fmt: skip
markup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=60).map("".join)


@FUZZ
@given(st.binary(max_size=4096) | markup.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_parse_feed_raises_only_feed_parse_error(body: bytes) -> None:
    try:
        parsed = parse_feed(body, url="https://n.example/feed", content_type=None)
    except FeedParseError as err:
        assert err.reason == "feed_parse_error"
        return
    for item in parsed.entries:
        for value in (item.title, item.summary, *item.authors):
            assert value is None or not UNSAFE.search(value)


@FUZZ
@given(st.binary(max_size=4096), st.none() | st.text(max_size=60))
def test_decode_body_never_raises(body: bytes, content_type: str | None) -> None:
    text, codec = decode_body(body, content_type)
    assert isinstance(text, str) and codec


@FUZZ
@given(markup, st.booleans())
def test_feed_text_cleaner_output_is_clean(value: str, html: bool) -> None:
    text = to_text(value, html=html)
    assert not UNSAFE.search(text)
    assert "\n\n\n" not in text and text == text.strip()
    assert not UNSAFE.search(html_to_text(value))
    line = safe_line(value, 100)
    assert line is None or ("\n" not in line and len(line) <= 100)


@FUZZ
@given(markup)
def test_extract_article_raises_only_extraction_error(page: str) -> None:
    try:
        result = extract_article(
            f"<html><body>{page}</body></html>", "https://n.example/a", feed_title=page
        )
    except ExtractionError:
        return
    assert not UNSAFE.search(result.text)


@FUZZ
@given(st.text(max_size=40), st.text(alphabet="abcdef0123456789", min_size=6).map("ZQ".__add__))
def test_safe_message_never_keeps_a_secret(prefix: str, secret: str) -> None:
    message = safe_message(f"{prefix} https://u:{secret}@n.example/p?token={secret}&x=1 failed")
    assert secret not in message.replace(prefix, "")
