"""Tests for transforms/core/body.py and the second opinion `extract_article` asks for."""

from __future__ import annotations

import json
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from transforms.core import body
from transforms.core import extract as ex

URL = "https://example.org/news/lines"

PARAGRAPHS = [
    f"Paragraph {n}: the water utility will replace {n} thousand lead service lines over the "
    "next three years, starting with the streets near the two primary schools in town."
    for n in range(1, 7)
]


def _tree(html: str) -> Any:
    return trafilatura.load_html(html)


def _page(*paragraphs: str, extra: str = "") -> str:
    paras = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><body><div class='story'>{paras}</div>{extra}</body></html>"


def test_paragraph_words_skips_page_furniture() -> None:
    html = _page(
        "One two three.",
        "Four five six.",
        extra=(
            "<aside><p>teaser words here</p></aside><ul><li><p>a comment</p></li></ul>"
            "<footer><p>copyright line</p></footer><nav><p>menu</p></nav>"
        ),
    )
    assert body.paragraph_words(_tree(html)) == 6


def test_looks_truncated() -> None:
    assert body.looks_truncated(40, 100)
    assert not body.looks_truncated(50, 100)
    assert not body.looks_truncated(0, 0)


def test_prefer_second() -> None:
    first = " ".join(PARAGRAPHS[:2])
    longer = " ".join(PARAGRAPHS)
    assert body.prefer_second(first, longer, min_words=50)
    # not much longer
    assert not body.prefer_second(first, " ".join(PARAGRAPHS[:3]), min_words=50)
    # longer, but another block of the page, and the first text is long enough to stand
    other = " ".join(p.replace("lead", "copper").replace("water", "gas") for p in PARAGRAPHS)
    other = " ".join(f"x{w}" for w in other.split())
    assert not body.prefer_second(first, other, min_words=50)
    # a notice of a few words loses to any much longer text
    assert body.prefer_second("Copy for personal use only.", other, min_words=50)
    assert not body.prefer_second("Some text here.", "", min_words=50)


def test_readability_text_leaves_the_tree_alone() -> None:
    tree = _tree(_page(*PARAGRAPHS, extra="<footer><p>© Example</p></footer>"))
    before = etree.tostring(tree)
    assert body.readability_text(tree, URL).split("\n") == PARAGRAPHS
    assert etree.tostring(tree) == before


def test_readability_text_of_an_empty_page() -> None:
    assert body.readability_text(_tree("<html><body><p></p></body></html>"), URL) == ""


def _flight_page(fragment: str) -> str:
    """A Next.js page whose HTML body is empty and whose article is a flight text row,
    split over two pushes as Next.js does with long payloads."""
    payload = f'0:["$","div",null,{{}}]\n5:T{len(fragment.encode()):x},{fragment}1:["$","p"]\n'
    half = len(payload) // 2
    scripts = "".join(
        f"<script>self.__next_f.push([1,{json.dumps(part)}])</script>"
        for part in (payload[:half], payload[half:])
    )
    return f'<html><head><title>Lines</title></head><body><div id="r"></div>{scripts}</body></html>'


def test_flight_html_reads_text_rows_with_paragraphs() -> None:
    fragment = "".join(f"<p>{p}</p>" for p in ["Süß – ein Absatz.", *PARAGRAPHS[:2]])
    assert body.flight_html(_flight_page(fragment)) == fragment
    assert body.flight_html(_page(*PARAGRAPHS)) == ""
    # a text row without paragraphs (a script, a JSON blob) is not article text
    assert body.flight_html(_flight_page("var x = 1;")) == ""
    assert body.flight_html('<script>self.__next_f.push([1,"\\x"])</script>') == ""


def test_article_only_in_flight_data_is_extracted() -> None:
    fragment = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    result = ex.extract_article(_flight_page(fragment), URL)
    assert result.method == ex.METHOD_TRAFILATURA
    assert result.text == "\n\n".join(PARAGRAPHS)


def test_second_opinion_replaces_a_cut_short_text() -> None:
    html = _page(*PARAGRAPHS)
    tree = _tree(html)
    assert ex._second_opinion(html, tree, URL, PARAGRAPHS[0]) == "\n".join(PARAGRAPHS)
    # trafilatura's text has most of the page: readability is not asked
    whole = "\n".join(PARAGRAPHS[:4])
    assert ex._second_opinion(html, tree, URL, whole) == whole


def test_block_text_one_line_per_block() -> None:
    root = lxml.html.fromstring(
        "<div><p>a <b>b</b> c</p>tail<!-- note --> more<ul><li>one</li><li>two <i>2</i>"
        "</li></ul><script>var x;</script>end</div>"
    )
    assert body._block_text(root) == "a b c\ntail more\none\ntwo 2\nend"
