"""A synthetic news site for benchmarks: N distinct English articles on many hosts.

Why generated and not the shared evaluation pages: a throughput run needs thousands of
*distinct* articles (repeating 181 real pages would make most of them duplicates that
skip language and NER), and a benchmark must run on a clean clone. The pages are shaped
after the ScrapingHub AEB pages (`../shared/eval`): main text median ~3.2 kB with a long
tail (lognormal, mean ~4.5 kB), raw HTML ~60-250 kB with inline CSS/JS, a navigation
menu, related-article teasers, comments and a link-heavy footer. Sentences carry people,
organisations and places so that NER has real work. Everything is deterministic in the
seed, and every page is rendered before the clock starts.

Article ``i`` lives on host ``i % hosts`` (each host is its own loopback port, which
``transforms.core.politeness.host_key`` treats as a distinct host) and belongs to feed
``i % feeds``; a feed lives on the host of its first article (with the default
counts every item of a feed is on the feed's own host).
"""

from __future__ import annotations

import contextlib
import html
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _choices(spec: str) -> tuple[str, ...]:
    """A word list written compactly, one `;`-separated string."""
    return tuple(spec.split(";"))


FIRST = _choices(
    "Anna;Maria;James;Sofia;David;Elena;Thomas;Nino;Ahmed;Laura;Pavel;Ines;Kenji;Amara;"
    "Lucas;Fatima;Oscar;Leila;Mateo;Hana;Viktor;Chloe;Rustam;Priya;Jonas;Marta;Daniel;Aylin"
)
LAST = _choices(
    "Keller;Novak;Okafor;Brennan;Kapanadze;Lindqvist;Moreau;Haddad;Petrov;Castillo;Tanaka;"
    "Schultz;Mensah;Romano;Hughes;Yilmaz;Kowalski;Fischer;Silva;Andersen;Gelashvili;Duarte;"
    "Whitaker;Osei;Ferreira;Nakamura;Varga;Sorensen;Abbott;Ibrahim"
)
PLACES = _choices(
    "Lisbon;Tbilisi;Nairobi;Rotterdam;Krakow;Osaka;Valparaiso;Leeds;Montreal;Gdansk;"
    "Thessaloniki;Accra;Bergen;Seville;Brno;Tampere;Izmir;Porto;Bologna;Aarhus;Cork;"
    "Kaunas;Graz;Lyon;Malmo;Cluj;Ghent;Split;Tallinn;Yerevan;the Danube delta;Scotland;"
    "Brazil;Kenya;Norway;Georgia;Portugal;Canada;Poland;Japan"
)
ORGS = _choices(
    "the European Commission;the Ministry of Finance;Northwind Energy;the city council;"
    "the central bank;Harbor Logistics;the World Health Organization;the Port Authority;"
    "Meridian Rail;the national statistics office;Bluefield Pharmaceuticals;the teachers' "
    "union;the Supreme Court;Atlas Mining;the regional parliament;the Red Cross;"
    "Coastline Airways;the university hospital;the transport ministry;Greenleaf Foods"
)
ROLES = _choices(
    "spokesperson;chief executive;finance minister;mayor;director;chief economist;"
    "union leader;senior analyst;board chair;deputy minister;lead researcher;prosecutor"
)
SUBJECTS = _choices(
    "the new budget;the rail link;water prices;the harbour expansion;the wage agreement;"
    "the vaccination campaign;the wind farm;local elections;the housing plan;grain exports;"
    "the bridge repairs;interest rates;the fishing quota;the school reform;the tax cut;"
    "the airport runway;flood defences;the pension reform;the steel tariff;bus fares"
)
VERBS = _choices(
    "would delay;had approved;could not support;planned to review;was ready to fund;"
    "had rejected;expected to finish;warned against;proposed to expand;agreed to cut"
)
WHEN = _choices(
    "on Monday;on Tuesday;late on Wednesday;on Thursday;early on Friday;over the weekend;"
    "last month;this week;after a long meeting;in a statement"
)
COMMON = _choices(
    "The decision follows months of talks between officials and residents, who have "
    "complained about rising costs.;Critics said the figures did not add up and asked "
    "for an independent audit.;Officials did not say when a final decision would be "
    "made.;Analysts expect the measure to take effect before the end of the year.;"
    "Residents gathered outside the building to follow the debate on large screens.;"
    "The opposition called the plan rushed and demanded a public consultation.;Local "
    "businesses welcomed the news but warned that details were still missing."
)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _sentence(rng: random.Random) -> str:
    kind = rng.randrange(6)
    org, place, subject = rng.choice(ORGS), rng.choice(PLACES), rng.choice(SUBJECTS)
    if kind == 0:
        return (
            f"{_person(rng)}, {rng.choice(ROLES)} at {org}, said {rng.choice(WHEN)} that "
            f"{subject} in {place} {rng.choice(VERBS)} {rng.choice(SUBJECTS)}."
        )
    if kind == 1:
        return (
            f"In {place}, {org} {rng.choice(VERBS)} {subject}, according to "
            f"{rng.randint(2, 90)} pages of documents seen by reporters."
        )
    if kind == 2:
        return (
            f'"We {rng.choice(VERBS).split()[-1]} {subject} because {place} cannot wait," '
            f"{_person(rng)} told a crowd of about {rng.randint(2, 40) * 50} people."
        )
    if kind == 3:
        return (
            f"{org.capitalize()} said {subject} would cost {rng.randint(3, 900)} million "
            f"euros over {rng.randint(2, 12)} years, {rng.randint(5, 60)} percent more "
            f"than planned in {rng.randint(2015, 2024)}."
        )
    if kind == 4:
        return (
            f"{_person(rng)} and {_person(rng)} met in {place} {rng.choice(WHEN)} to "
            f"discuss {subject} with representatives of {org}."
        )
    return rng.choice(COMMON)


@dataclass(frozen=True)
class GeneratedArticle:
    index: int
    host: int
    feed: int
    slug: str
    title: str
    author: str
    published: datetime
    paragraphs: tuple[str, ...]

    @property
    def text_chars(self) -> int:
        return sum(len(p) for p in self.paragraphs)


def make_article(index: int, hosts: int, feeds: int, seed: int = 0) -> GeneratedArticle:
    rng = random.Random(f"{seed}-{index}")
    target = min(max(rng.lognormvariate(8.07, 0.75), 700.0), 25_000.0)  # chars, median 3.2k
    paragraphs: list[str] = []
    while sum(len(p) for p in paragraphs) < target:
        paragraphs.append(" ".join(_sentence(rng) for _ in range(rng.randint(1, 4))))
    title = (
        f"{rng.choice(ORGS).replace('the ', '').title()} {rng.choice(VERBS)} "
        f"{rng.choice(SUBJECTS)} in {rng.choice(PLACES)}"
    )
    published = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index * 7)
    return GeneratedArticle(
        index=index,
        host=index % hosts,
        feed=index % feeds,
        slug=f"a/{index:06d}-{rng.getrandbits(32):08x}.html",
        title=title,
        author=_person(rng),
        published=published,
        paragraphs=tuple(paragraphs),
    )


def _filler_code(rng: random.Random, kilobytes: int) -> str:
    """Minified-looking CSS/JS: bulk that real pages carry and extractors must skip."""
    chunk = "".join(
        f".c{rng.getrandbits(24):x}{{margin:{rng.randint(0, 40)}px;"
        f"color:#{rng.getrandbits(24):06x}}}"
        for _ in range(20)
    )
    return (chunk * (kilobytes * 1024 // len(chunk) + 1))[: kilobytes * 1024]


def _linked(text: str, rng: random.Random, base: str) -> str:
    """Real article paragraphs carry inline links and emphasis."""
    words = text.split(" ")
    for _ in range(min(2, len(words) // 12)):
        at = rng.randrange(len(words))
        words[at] = f'<a href="{base}/tag/{rng.getrandbits(16):x}"><em>{words[at]}</em></a>'
    return " ".join(words)


def _inline_ad(rng: random.Random) -> str:
    slot = rng.getrandbits(24)
    return (
        f'<div class="ad-slot" id="ad-{slot:x}"><div class="ad-inner"><span>Advertisement'
        f'</span><iframe src="about:blank" data-slot="{slot}"></iframe></div></div>'
    )


def _links(rng: random.Random, base: str, count: int, words: int) -> str:
    return "".join(
        f'<li class="menu-item"><div class="menu-wrap"><span class="icon"></span>'
        f'<a class="menu-link" href="{base}/section/{rng.getrandbits(20):x}" '
        f'data-track="{rng.getrandbits(32):x}">'
        f"{html.escape(' '.join(_sentence(rng).split()[:words]))}</a></div></li>"
        for _ in range(count)
    )


def render_page(article: GeneratedArticle, base: str, site_name: str) -> str:
    rng = random.Random(f"page-{article.index}")
    esc = html.escape
    body = "".join(
        f'<div class="para-wrap" data-n="{n}"><p>{_linked(esc(p), rng, base)}</p></div>'
        + (_inline_ad(rng) if n % 4 == 3 else "")
        for n, p in enumerate(article.paragraphs)
    )
    teasers = "".join(
        f'<div class="teaser"><figure><img src="{base}/img/{rng.getrandbits(30):x}.jpg" '
        f'alt=""></figure><a href="{base}/a/{rng.getrandbits(30):x}.html">'
        f"<h3>{esc(_sentence(rng)[:80])}</h3></a><p>{esc(_sentence(rng))}</p></div>"
        for _ in range(rng.randint(4, 12))
    )
    comments = "".join(
        f'<li class="comment"><b>{esc(_person(rng))}</b><p>{esc(_sentence(rng))}</p></li>'
        for _ in range(rng.randint(0, 15))
    )
    iso = article.published.isoformat()
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(article.title)} | {esc(site_name)}</title>"
        f'<meta property="og:title" content="{esc(article.title)}">'
        f'<meta property="og:site_name" content="{esc(site_name)}">'
        f'<meta name="author" content="{esc(article.author)}">'
        f'<meta property="article:published_time" content="{iso}">'
        f'<script type="application/ld+json">{{"@type":"NewsArticle","headline":'
        f'"{esc(article.title)}","datePublished":"{iso}","author":{{"name":'
        f'"{esc(article.author)}"}}}}</script>'
        f"<style>{_filler_code(rng, rng.randint(10, 40))}</style>"
        f"<script>var cfg={{}};/*{_filler_code(rng, rng.randint(20, 100))}*/</script>"
        f'</head><body><header><a href="{base}/">{esc(site_name)}</a><nav><ul>'
        f"{_links(rng, base, rng.randint(30, 80), 2)}</ul></nav></header>"
        f'<main><article><h1>{esc(article.title)}</h1><p class="byline">By '
        f'{esc(article.author)}</p><time datetime="{iso}">{iso[:10]}</time>'
        f'<div class="article-body">{body}</div>'
        f'<div class="share"><a href="#">Share</a><a href="#">Tweet</a></div></article>'
        f'<aside class="related"><h2>Related</h2>{teasers}</aside>'
        f'<section class="comments"><h2>Comments</h2><ul>{comments}</ul></section></main>'
        f"<footer><ul>{_links(rng, base, rng.randint(40, 120), 3)}</ul>"
        f"<p>&copy; {esc(site_name)}</p></footer></body></html>"
    )


def render_feed(items: list[tuple[GeneratedArticle, str]], base: str, site_name: str) -> str:
    """An RSS feed of `(article, page URL)` items; pages may live on other hosts."""
    xml_items = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>{url}</link>"
        f"<guid>{url}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{html.escape(a.paragraphs[0][:300])}</description></item>"
        for a, url in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{html.escape(site_name)}</title><link>{base}/</link>{xml_items}</channel></rss>"
    )


@dataclass(frozen=True)
class Site:
    """The rendered site: feed URLs, and every article's page with its URL."""

    feed_urls: tuple[str, ...]
    articles: tuple[GeneratedArticle, ...]
    pages: dict[str, str]  # article URL -> HTML

    @property
    def html_bytes(self) -> int:
        return sum(len(p.encode()) for p in self.pages.values())


class _Host:
    def __init__(self, routes: dict[str, tuple[bytes, str]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body, ctype = routes.get(self.path, (b"not found", "text/plain"))
                self.send_response(200 if self.path in routes else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.routes = routes
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@contextlib.contextmanager
def serve(n_articles: int, hosts: int, feeds: int, seed: int = 0) -> Iterator[Site]:
    """Renders the site, serves it on `hosts` loopback ports, yields it; stops them."""
    servers = [_Host({"/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain")})]
    servers += [_Host(dict(servers[0].routes)) for _ in range(hosts - 1)]
    bases = [f"http://127.0.0.1:{s.port}" for s in servers]
    articles = [make_article(i, hosts, feeds, seed) for i in range(n_articles)]
    pages: dict[str, str] = {}
    for article in articles:
        base = bases[article.host]
        page = render_page(article, base, f"Ledger {article.host}")
        servers[article.host].routes["/" + article.slug] = (
            page.encode(),
            "text/html; charset=utf-8",
        )
        pages[f"{base}/{article.slug}"] = page
    feed_urls: list[str] = []
    for feed in range(min(feeds, n_articles)):
        members = [(a, url) for a, url in zip(articles, pages, strict=True) if a.feed == feed]
        host = members[0][0].host
        servers[host].routes[f"/feed-{feed}.xml"] = (
            render_feed(members, bases[host], f"Ledger {host}").encode(),
            "application/rss+xml",
        )
        feed_urls.append(f"{bases[host]}/feed-{feed}.xml")
    try:
        yield Site(tuple(feed_urls), tuple(articles), pages)
    finally:
        for host_server in servers:
            host_server.server.shutdown()
            host_server.server.server_close()
