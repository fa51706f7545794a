"""Deduplication test cases built from real article texts, without Beam.

From each article of a set this builds what a news pipeline meets in practice:
- a syndicated copy: the same text on another outlet's page template, with a wire credit
  in front, the last paragraph trimmed or an editor's note appended (alternating), and
  the headline re-cased;
- an exact copy whose only changes are case, punctuation and spacing;
- URL variants (tracking parameters, fragment, default port, host case);
and the hard negatives:
- every other article of the same outlet, on the same template;
- a follow-up story: this article's lead paragraph (the background) followed by the body
  of another article from the same outlet.

Pages are rendered as HTML and go through the project's own extraction first, so the
template's furniture must be removed for the copy to be recognised.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

_TEMPLATES = (
    (
        "<header><nav><a href='/'>Home</a> <a href='/world'>World</a> "
        "<a href='/business'>Business</a> <a href='/sport'>Sport</a></nav></header>",
        "<footer><p>Share this article: Facebook Twitter Email</p>"
        "<p>© 2026 {outlet}. All rights reserved.</p></footer>",
    ),
    (
        "<div class='topbar'><ul><li><a href='/news'>News</a></li><li><a href='/opinion'>"
        "Opinion</a></li><li><a href='/subscribe'>Subscribe</a></li></ul></div>",
        "<aside><h3>Most read</h3><ul><li><a href='/a'>Another story headline here</a></li>"
        "<li><a href='/b'>Yet another headline for readers</a></li></ul></aside>",
    ),
)
_WIRE_CREDITS = ("(Reuters) -", "By Staff Writer, Associated Press", "AFP —")
_EDITOR_NOTE = (
    "This article was updated with additional reporting from our correspondents in the "
    "region and a statement from the ministry."
)


@dataclass(frozen=True)
class Article:
    """One source article: an id, its outlet, its headline and its paragraphs."""

    key: str
    outlet: str
    title: str
    paragraphs: tuple[str, ...]


def render(article_title: str, paragraphs: list[str], outlet: str, template: int) -> str:
    """An article page on one of the built-in outlet templates."""
    head, foot = _TEMPLATES[template % len(_TEMPLATES)]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(article_title)} | {html.escape(outlet)}</title></head><body>"
        f"{head}<main><article><h1>{html.escape(article_title)}</h1>{body}</article></main>"
        f"{foot.format(outlet=html.escape(outlet))}</body></html>"
    )


def syndicated(article: Article, variant: int) -> tuple[str, list[str]]:
    """(re-cased title, paragraphs) of a syndicated copy; `variant` picks the edits."""
    paras = list(article.paragraphs)
    credit = _WIRE_CREDITS[variant % len(_WIRE_CREDITS)]
    paras[0] = f"{credit} {paras[0]}"
    if variant % 2 == 0 and len(paras) > 2:
        paras = paras[:-1]
    else:
        paras.append(_EDITOR_NOTE)
    title = article.title.upper() if variant % 2 else article.title.title()
    return title, paras


def exact_copy(article: Article) -> list[str]:
    """The same words, only case, quote marks and spacing changed."""
    return ["  ".join(p.lower().replace("’", "'").split()) for p in article.paragraphs]


def follow_up(article: Article, other: Article) -> list[str]:
    """This article's lead paragraph, then another article's body."""
    return [article.paragraphs[0], *other.paragraphs[1:]]


def url_variants(url: str) -> list[str]:
    """Ways the same article's link differs between feeds."""
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    joiner = "&" if "?" in path else "?"
    port = ":443" if scheme == "https" else ":80"
    return [
        f"{url}{joiner}utm_source=rss&utm_medium=feed",
        f"{url}#comments",
        f"{scheme}://{host.upper()}{port}{slash}{path}",
        f"{url}{joiner}fbclid=IwAR0abc123",
    ]
