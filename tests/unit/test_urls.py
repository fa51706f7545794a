from __future__ import annotations

import pytest

from transforms.core import urls


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTP://Example.COM:80/a/b?utm_source=rss&utm_medium=feed", "http://example.com/a/b"),
        ("https://example.com:443/a#comments", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1&fbclid=xyz", "https://example.com/a?a=1&b=2"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        (
            "https://example.com/a?api_key=s3cret&id=7",
            "https://example.com/a?api_key=REDACTED&id=7",
        ),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://example.com/a%20b", "https://example.com/a%20b"),
    ],
)
def test_canonicalize(raw: str, canonical: str) -> None:
    assert urls.canonicalize(raw) == canonical


def test_variants_share_one_article_id() -> None:
    variants = [
        "https://news.example/story/1?utm_source=rss&utm_medium=feed",
        "https://news.example:443/story/1#comments",
        "HTTPS://NEWS.EXAMPLE/story/1",
    ]
    ids = {urls.article_id(urls.canonicalize(v)) for v in variants}
    assert len(ids) == 1
    assert len(ids.pop()) == 32


@pytest.mark.parametrize(
    "bad",
    ["javascript:alert(1)", "file:///etc/passwd", "ftp://x/y", "mailto:a@b", "http://", "x" * 3000],
)
def test_unfetchable_links_are_refused(bad: str) -> None:
    with pytest.raises(urls.InvalidUrlError):
        urls.canonicalize(urls.resolve_link(bad, "https://feed.example/rss"))


def test_relative_links_resolve_against_the_feed() -> None:
    assert urls.resolve_link("/a/b", "https://feed.example/rss.xml") == "https://feed.example/a/b"
    with pytest.raises(urls.InvalidUrlError):
        urls.resolve_link("  ", "https://feed.example/")
