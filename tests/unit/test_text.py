"""transforms.core.text (one cleaner for feed fields) and transforms.core.sanitize."""

from __future__ import annotations

import dataclasses

from tests.factories import article
from transforms.core.feeds import clean_line, clean_text
from transforms.core.sanitize import (
    MAX_LINE_CHARS,
    MAX_TAGS,
    safe_article,
    safe_message,
    safe_url,
)
from transforms.core.text import html_to_text, safe_line, safe_text, to_text


def test_html_to_text() -> None:
    fragment = (
        "<p>Three developers want the <b>Ostrander&nbsp;mill</b> &amp; its yard.</p>"
        "<script>alert(1)</script><p>Decision in October.<br/>Second line.</p>"
        "<p>The post <a href='x'>Mill</a> appeared first on <a href='y'>Ledger</a>.</p>"
    )
    assert html_to_text(fragment) == (
        "Three developers want the Ostrander mill & its yard.\n\nDecision in October.\n\n"
        "Second line."
    )
    assert html_to_text("Plain text, no tags.") == "Plain text, no tags."
    assert html_to_text("") == ""


def test_entities_are_decoded_exactly_once() -> None:
    # The feed wrote "&amp;lt;" (the text "&lt;") and "&lt;b&gt;" (the text "<b>").
    assert clean_text("Use &amp;lt; and &lt;b&gt; here") == "Use &lt; and <b> here"
    assert clean_line("AT&amp;amp;T") == "AT&amp;T"
    # Plain-text fields (JSON Feed, Atom type="text") are not HTML at all.
    assert clean_text("1 < 2 &amp; <b>", html=False) == "1 < 2 &amp; <b>"


def test_to_text_paragraphs_and_controls() -> None:
    assert to_text("a\x00b\r\n\r\n\tc  d\x85\ud800", html=False) == "ab\n\nc d"
    assert to_text("<div>one</div><div>two</div>", html=True) == "one\n\ntwo"


def test_safe_text_and_line() -> None:
    assert safe_text("e\u0301\x00\x1b", 10) == "é"
    assert safe_line(" a\n b\t", 10) == "a b"
    assert safe_line("\x00", 10) is None
    assert safe_line(None, 10) is None
    assert safe_line("x" * 50, 10) == "x" * 10


def test_safe_url_and_message_redact_credentials() -> None:
    assert safe_url("https://u:p@n.example/a?token=T&b=1\x00") == (
        "https://n.example/a?token=REDACTED&b=1"
    )
    message = safe_message('failed on "https://u:p@n.example/a?api_key=K" (HTTP 500)\x00')
    assert message == 'failed on "https://n.example/a?api_key=REDACTED" (HTTP 500)'


def test_safe_article_cleans_caps_and_recounts() -> None:
    record = article(
        "https://n.example/a",
        "word \x00" * 10,
        title="T\x00itle\n" * 1000,
        entry_url="https://u:p@n.example/a?sig=S",
        authors=("A\x00", "", *(f"Name {i}" for i in range(50))),
    )
    safe = safe_article(record)
    assert safe.text == "word " * 10
    assert safe.word_count == 10
    assert safe.title is not None and len(safe.title) == MAX_LINE_CHARS and "\n" not in safe.title
    assert safe.entry_url == "https://n.example/a?sig=REDACTED"
    assert safe.authors[0] == "A" and len(safe.authors) == 19
    assert safe_article(safe) == safe


def test_safe_article_caps_tags_and_redacts_the_image_url() -> None:
    record = article(
        "https://n.example/a",
        "text",
        tags=("Politik\x00", "", *(f"Tag {i}" for i in range(80))),
        image_url="https://u:p@img.example/lead.jpg?token=T",
    )
    safe = safe_article(record)
    assert safe.tags[0] == "Politik" and len(safe.tags) == MAX_TAGS - 1
    assert safe.image_url == "https://img.example/lead.jpg?token=REDACTED"
    assert safe_article(dataclasses.replace(record, image_url=None)).image_url is None
