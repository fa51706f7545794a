"""Second opinions on an article's body text, for pages where trafilatura's looks wrong.

Beam-free; `transforms.core.extract` calls these after trafilatura.

- `readability_text`: readability-lxml's main block as plain paragraphs. On the shared
  eval sets readability finds the whole article on some pages where trafilatura stops
  after the first part (a sidebar or an ad slot in the middle of the text). It costs about
  as much as trafilatura itself, so `looks_truncated` decides when to ask it, and
  `prefer_second` whether to take its answer.
- `flight_html`: the article HTML a Next.js (App Router) page carries only inside its
  `self.__next_f.push(...)` scripts, for pages whose HTML body has no text at all.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections import Counter
from typing import Any, Final

from lxml import etree, html
from readability import Document

# readability logs a full traceback for a page it cannot read; that page keeps
# trafilatura's text, so it is not an error worth a log line.
logging.getLogger("readability").setLevel(logging.CRITICAL)

__all__ = ["flight_html", "looks_truncated", "paragraph_words", "prefer_second", "readability_text"]

# trafilatura's text has less than this share of the words in the page's <p> elements.
_TRUNCATED_SHARE: Final = 0.5
# The second text must be this much longer than trafilatura's ...
_MIN_GAIN: Final = 1.9
# ... and repeat this share of trafilatura's words (it continues trafilatura's text
# rather than being some other block), unless trafilatura's text is too short to count.
_MIN_COVERED: Final = 0.8

# Elements whose text readability's summary keeps as paragraphs of their own.
_BLOCKS: Final = frozenset(
    {
        "p", "div", "section", "article", "blockquote", "pre", "li", "ul", "ol", "dl", "dd",
        "dt", "table", "tr", "td", "th", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6",
        "br",
    }
)  # fmt: skip


# Paragraphs outside page furniture: teasers in an <aside>, comments in list items.
_BODY_PARAGRAPHS_XPATH: Final = (
    "//p[not(ancestor::aside or ancestor::footer or ancestor::nav or ancestor::header"
    " or ancestor::li or ancestor::form)]"
)


def paragraph_words(tree: Any) -> int:
    """Whitespace-separated words in a parsed page's `<p>` elements outside `<aside>`,
    `<footer>`, `<nav>`, `<header>`, `<li>` and `<form>`."""
    return sum(len(p.text_content().split()) for p in tree.xpath(_BODY_PARAGRAPHS_XPATH))


def looks_truncated(text_words: int, page_paragraph_words: int) -> bool:
    """Whether an extracted text has less than half of the words of `paragraph_words`."""
    return text_words < _TRUNCATED_SHARE * page_paragraph_words


def _covered(part: str, whole: str) -> float:
    """Share of `part`'s words (as a multiset) that `whole` has too."""
    mine = Counter(part.split())
    total = sum(mine.values())
    return sum((mine & Counter(whole.split())).values()) / total if total else 0.0


def prefer_second(first: str, second: str, min_words: int) -> bool:
    """Whether `second` should replace `first`: much longer, and either a continuation of
    `first` or `first` has fewer than `min_words` words (a teaser or a notice)."""
    first_words, second_words = len(first.split()), len(second.split())
    if second_words < _MIN_GAIN * first_words or not second_words:
        return False
    return first_words < min_words or _covered(first, second) >= _MIN_COVERED


def _block_text(root: Any) -> str:
    """Text of an lxml tree with one line per block element, whitespace collapsed.

    Iterative (`iterwalk`), so a deeply nested page cannot exhaust the recursion limit.
    """
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        line = " ".join("".join(buffer).split())
        if line:
            lines.append(line)
        buffer.clear()

    for event, element in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event == "start":
            if element.tag in _BLOCKS:
                flush()
            if element.tag not in {"script", "style"} and element.text:
                buffer.append(element.text)
            continue
        if event == "end" and element.tag in _BLOCKS:
            flush()
        if element.tail and element is not root:
            buffer.append(element.tail)
    flush()
    return "\n".join(lines)


def readability_text(tree: Any, url: str) -> str:
    """readability-lxml's article text of a parsed page (left unchanged), one paragraph a
    line; "" when readability cannot read the page."""
    try:
        # readability edits the tree it is given.
        summary = Document(copy.deepcopy(tree), url=url).summary(html_partial=True)
        return _block_text(html.fromstring(summary)) if summary.strip() else ""
    except Exception:  # noqa: BLE001 - a second opinion must never cost the first one
        return ""


_FLIGHT_PUSH_RE: Final = re.compile(r'self\.__next_f\.push\(\[1,("(?:[^"\\]|\\.)*")\]\)')
# A React Server Components text row: "<id>:T<length in UTF-8 bytes, hex>,<text>".
_FLIGHT_TEXT_ROW_RE: Final = re.compile(rb"(?:^|\n)[0-9a-f]+:T([0-9a-f]{1,8}),")


def flight_html(page: str) -> str:
    """The HTML text rows (with a `<p>` in them) of a Next.js page's flight data, joined."""
    if "self.__next_f" not in page:
        return ""
    try:
        payload = "".join(json.loads(s) for s in _FLIGHT_PUSH_RE.findall(page))
    except ValueError:
        return ""
    data = payload.encode("utf-8", "surrogatepass")
    fragments = []
    for row in _FLIGHT_TEXT_ROW_RE.finditer(data):
        size = int(row.group(1), 16)
        fragment = data[row.end() : row.end() + size].decode("utf-8", "replace")
        if "<p" in fragment:
            fragments.append(fragment)
    return "\n".join(fragments)
