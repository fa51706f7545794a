"""The benchmark's generated site: distinct articles whose text the pipeline recovers."""

from __future__ import annotations

import itertools

from bench.pages import make_article, render_page, serve
from transforms.core import dedup
from transforms.core.extract import extract_article
from transforms.core.feeds import parse_feed
from transforms.core.http import AddressPolicy, HttpClient, HttpConfig
from transforms.core.politeness import host_key


def test_articles_are_deterministic_and_not_near_duplicates_of_each_other() -> None:
    assert make_article(7, 4, 2) == make_article(7, 4, 2)
    prints = [dedup.fingerprints("\n\n".join(make_article(i, 4, 2).paragraphs)) for i in range(40)]
    closest = min(dedup.hamming(a.simhash, b.simhash) for a, b in itertools.combinations(prints, 2))
    assert closest > dedup.NEAR_DUPLICATE_DISTANCE
    assert len({p.content_hash for p in prints}) == 40


def test_extraction_finds_the_article_body_and_not_the_boilerplate() -> None:
    article = make_article(3, 4, 2)
    page = render_page(article, "http://127.0.0.1:1", "Ledger 3")
    extraction = extract_article(page, "http://127.0.0.1:1/" + article.slug)
    assert extraction.title == article.title
    assert extraction.text.split("\n\n")[0] == article.paragraphs[0]
    assert "Advertisement" not in extraction.text
    assert len(page) > 20 * article.text_chars  # raw HTML dwarfs the text, as on real pages


def test_site_serves_feeds_and_pages_from_distinct_hosts() -> None:
    with serve(12, hosts=3, feeds=4) as site:
        assert len({host_key(url) for url in site.pages}) == 3
        client = HttpClient(
            HttpConfig(user_agent="newsbeam-test", policy=AddressPolicy.from_string("127.0.0.1"))
        )
        try:
            feed = client.get(site.feed_urls[0])
            url, page = next(iter(site.pages.items()))
            assert client.get(url).body == page.encode()
        finally:
            client.close()
    parsed = parse_feed(feed.body, url=site.feed_urls[0], content_type="application/rss+xml")
    # Feed 0 holds articles 0, 4 and 8, all on the feed's own host.
    assert [entry.link for entry in parsed.entries] == [
        url for url, article in zip(site.pages, site.articles, strict=True) if article.feed == 0
    ]
