"""The offline sample news site (pipeline/demo_site): server behaviour and content facts."""

from __future__ import annotations

import email.utils
import gzip
import html
import http.client
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml

from pipeline.demo_site import (
    BASE_PLACEHOLDER,
    SITE_DIR,
    SiteServer,
    feed_list_paths,
    load_manifest,
    render_feed_list,
    serve_site,
)


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    site: SiteServer, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Response:
    """One request with http.client: no proxies, no redirects, no transparent gzip."""
    if target.startswith("http"):
        split = urlsplit(target)
        assert split.port == site.port, target
        target = split.path + (f"?{split.query}" if split.query else "")  # fragments stay home
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    try:
        conn.request(method, target, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with serve_site() as server:
        yield server


@pytest.fixture(scope="module")
def manifest(site: SiteServer) -> dict[str, Any]:
    return load_manifest(site.base_url)


def pages(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in manifest["pages"]}


# --- the server ------------------------------------------------------------------------


def test_server_binds_a_free_loopback_port(site: SiteServer) -> None:
    assert site.port > 0
    assert site.base_url == f"http://127.0.0.1:{site.port}"
    assert site.url("/robots.txt") == site.base_url + "/robots.txt"
    assert "serving" in repr(site)


def test_close_stops_the_server() -> None:
    with serve_site() as server:
        assert fetch(server, "/robots.txt").status == 200
        port = server.port
    assert "closed" in repr(server)
    server.close()  # idempotent
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()


def test_robots_txt_disallows_only_private(site: SiteServer) -> None:
    resp = fetch(site, "/robots.txt")
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("text/plain")
    rules = [line.strip() for line in resp.text.splitlines() if line.startswith("Disallow")]
    assert rules == ["Disallow: /private/"]


@pytest.mark.parametrize(
    "target",
    [
        "/no-such-page.html",
        "/caucasus-ledger/region/2025/02/11/no-such-story.html",
        "/harbor-daily/feeds/opinion.rss",  # the dead feed
        "/manifest.json",  # files outside the site root are not served
        "/../manifest.json",
        "/%2e%2e/manifest.json",
        "/private/",
    ],
)
def test_unknown_paths_are_404(site: SiteServer, target: str) -> None:
    assert fetch(site, target).status == 404


def test_directory_without_slash_redirects(site: SiteServer) -> None:
    resp = fetch(site, "/harbor-daily")
    assert resp.status == 301
    assert resp.headers["location"] == site.base_url + "/harbor-daily/"
    assert fetch(site, "/harbor-daily/").status == 200


def test_query_strings_are_ignored(site: SiteServer, manifest: dict[str, Any]) -> None:
    page = pages(manifest)["cl-border-talks-open"]
    plain = fetch(site, page["path"])
    tracked = fetch(site, page["path"] + "?utm_source=rss&utm_medium=feed")
    assert plain.status == tracked.status == 200
    assert plain.body == tracked.body


def test_head_sends_headers_only(site: SiteServer) -> None:
    get = fetch(site, "/caucasus-ledger/rss.xml")
    head = fetch(site, "/caucasus-ledger/rss.xml", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == str(len(get.body))
    assert head.headers["etag"] == get.headers["etag"]


def test_conditional_requests_answer_304(site: SiteServer, manifest: dict[str, Any]) -> None:
    first = fetch(site, "/caucasus-ledger/rss.xml")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"')
    assert last_modified == manifest["last_modified"]

    again = fetch(site, "/caucasus-ledger/rss.xml", {"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["etag"] == etag
    assert (
        fetch(site, "/caucasus-ledger/rss.xml", {"If-None-Match": f'"x", W/{etag}'}).status == 304
    )
    assert fetch(site, "/caucasus-ledger/rss.xml", {"If-None-Match": '"other"'}).status == 200
    # An ETag of another file does not match.
    other = fetch(site, "/harbor-daily/feeds/latest.rss").headers["etag"]
    assert fetch(site, "/caucasus-ledger/rss.xml", {"If-None-Match": other}).status == 200

    since = email.utils.parsedate_to_datetime(last_modified)
    earlier = email.utils.format_datetime(since - timedelta(hours=1), usegmt=True)
    ims = {"If-Modified-Since": last_modified}
    assert fetch(site, "/caucasus-ledger/rss.xml", ims).status == 304
    assert fetch(site, "/caucasus-ledger/rss.xml", {"If-Modified-Since": earlier}).status == 200
    # If-None-Match wins over If-Modified-Since.
    both = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert fetch(site, "/caucasus-ledger/rss.xml", both).status == 200


def test_gzip_when_asked(site: SiteServer) -> None:
    plain = fetch(site, "/anatolia-wire/rss/english.xml")
    zipped = fetch(site, "/anatolia-wire/rss/english.xml", {"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.headers["etag"] != plain.headers["etag"]
    # Either variant's ETag validates.
    revalidate = {"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]}
    assert fetch(site, "/anatolia-wire/rss/english.xml", revalidate).status == 304
    refused = fetch(site, "/anatolia-wire/rss/english.xml", {"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_requests_are_recorded(site: SiteServer) -> None:
    before = time.monotonic()
    fetch(site, "/robots.txt?probe=1", {"User-Agent": "newsbeam-test/1.0"})
    recorded = [r for r in site.requests if r.path == "/robots.txt?probe=1"]
    assert len(recorded) == 1
    method, path, headers, when = recorded[0]
    assert (method, path) == ("GET", "/robots.txt?probe=1")
    assert headers["User-Agent"] == "newsbeam-test/1.0"
    assert before <= when <= time.monotonic()
    assert "/robots.txt?probe=1" in site.requests.paths()


# --- pages -----------------------------------------------------------------------------


def test_every_manifest_page_is_served(site: SiteServer, manifest: dict[str, Any]) -> None:
    trimmed = manifest["special_cases"]["syndication"]["trimmed_paragraph"]
    for page in manifest["pages"]:
        assert (SITE_DIR / page["file"].removeprefix("site/")).is_file(), page["id"]
        resp = fetch(site, page["path"])
        assert resp.status == 200, page["path"]
        assert resp.headers["content-type"] == "text/html; charset=utf-8"
        body = resp.text
        assert BASE_PLACEHOLDER not in body
        if not page["extractable"]:
            assert '<div id="app"></div>' in body
            assert page["title"] not in body
            continue
        text = html.unescape(body)
        assert f'<link rel="canonical" href="{site.base_url}{page["path"]}">' in body
        assert page["title"] in text
        assert f'datetime="{page["published"]}"' in body
        for author in page["authors"]:
            assert author in text, (page["id"], author)
        for sentence in page["must_contain"]:
            assert sentence in text, (page["id"], sentence)
        for sentence in page["must_not_contain"]:
            if sentence in trimmed:  # the paragraph the republisher cut
                assert sentence not in text
            else:  # boilerplate around the article: a trap for the extractor
                assert sentence in text, (page["id"], sentence)
        for entity in page["entities"]:
            forms = (
                entity["also"] if page["language"] != "en" else [entity["text"], *entity["also"]]
            )
            for form in forms:
                assert form in text, (page["id"], form)


def test_index_pages(site: SiteServer, manifest: dict[str, Any]) -> None:
    root = fetch(site, "/")
    assert root.status == 200
    for outlet in manifest["outlets"]:
        assert outlet["home"] in root.text
        assert fetch(site, outlet["home"]).status == 200


# --- feeds -----------------------------------------------------------------------------


def live_feeds(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in manifest["feeds"] if f["status"] == 200]


def test_feeds_are_served_rendered_and_parse(site: SiteServer, manifest: dict[str, Any]) -> None:
    formats = set()
    for feed in live_feeds(manifest):
        resp = fetch(site, feed["url"])
        assert resp.status == 200, feed["path"]
        assert resp.headers["content-type"] == feed["content_type"]
        assert "etag" in resp.headers
        assert "last-modified" in resp.headers
        assert BASE_PLACEHOLDER not in resp.text
        assert site.base_url + "/" in resp.text
        expected_titles = [e["title"] for e in feed["entries"]]
        formats.add(feed["format"])
        if feed["format"] == "json":
            # feedparser 6.0.x cannot read JSON Feed; check it as JSON.
            data = json.loads(resp.body)
            assert data["version"] == "https://jsonfeed.org/version/1.1"
            assert [i["title"] for i in data["items"]] == expected_titles
            assert all(i["url"].startswith(site.base_url) for i in data["items"])
            for item in data["items"]:
                datetime.fromisoformat(item["date_published"])  # RFC 3339
            continue
        parsed = feedparser.parse(resp.body)
        assert not parsed.bozo, (feed["path"], parsed.get("bozo_exception"))
        assert parsed.version == {"rss": "rss20", "atom": "atom10"}[feed["format"]]
        assert [e.title for e in parsed.entries] == expected_titles
        for entry, expected in zip(parsed.entries, feed["entries"], strict=True):
            assert entry.get("link") == expected["link"], entry.title
            assert entry.get("published_parsed") is not None
            assert entry.get("summary") == expected["summary"]
            # RSS <author> holds one "email (Name, Name)" string; dc:creator/Atom one per author.
            names = ", ".join(a["name"] for a in entry.get("authors", []))
            assert names == ", ".join(expected["authors"]), entry.title
    assert formats == {"rss", "atom", "json"}


def test_feed_entry_links(site: SiteServer, manifest: dict[str, Any]) -> None:
    by_id = pages(manifest)
    seen_roles = set()
    for feed in live_feeds(manifest):
        for entry in feed["entries"]:
            seen_roles.add(entry["role"])
            link = entry["link"]
            if entry["role"] in {"missing_link", "javascript_link"}:
                assert link is None or link.startswith("javascript:")
                continue
            assert link.startswith(site.base_url)
            resp = fetch(site, link)
            if entry["role"] == "dead_link":
                assert resp.status == 404
                continue
            assert resp.status == 200, link
            page = by_id[entry["page"]]
            assert urlsplit(link).path == page["path"]
            assert feed["path"] in page["feeds"]
            assert entry["published"] == page["published"]
    assert seen_roles == {
        "article",
        "url_variant",
        "extraction_failure",
        "dead_link",
        "javascript_link",
        "missing_link",
    }


def test_dead_feed_is_listed_but_404(site: SiteServer, manifest: dict[str, Any]) -> None:
    dead = manifest["special_cases"]["dead_feed"]
    assert fetch(site, dead["url"]).status == 404
    assert [f["url"] for f in manifest["feeds"] if f["status"] == 404] == [dead["url"]]


# --- feed lists ------------------------------------------------------------------------


def test_feed_list_templates_exist() -> None:
    paths = feed_list_paths()
    assert set(paths) == {"txt", "opml", "yaml"}
    for path in paths.values():
        assert path.is_file()
        assert BASE_PLACEHOLDER in path.read_text(encoding="utf-8")


def test_rendered_feed_lists(site: SiteServer, manifest: dict[str, Any], tmp_path: Path) -> None:
    all_urls = [f["url"] for f in manifest["feeds"]]
    for kind in ("txt", "opml", "yaml"):
        path = render_feed_list(kind, site.base_url, tmp_path)
        assert path.parent == tmp_path
        text = path.read_text(encoding="utf-8")
        assert site.base_url in text
        assert BASE_PLACEHOLDER not in text

    lines = (tmp_path / "feeds.txt").read_text(encoding="utf-8").splitlines()
    assert [ln for ln in lines if ln.strip() and not ln.startswith("#")] == all_urls

    entries = yaml.safe_load((tmp_path / "feeds.yaml").read_text(encoding="utf-8"))
    assert [e["url"] for e in entries] == all_urls
    for entry, feed in zip(entries, manifest["feeds"], strict=True):
        meta = feed["list_meta"]
        assert entry["name"] == meta["name"]
        assert entry["country"] == meta["country"]
        assert entry.get("language") == meta["language"]
        assert entry["tags"] == meta["tags"]

    root = ET.parse(tmp_path / "feeds.opml").getroot()  # noqa: S314 (a file we wrote)
    outlines = root.findall(".//outline[@xmlUrl]")
    assert [o.get("xmlUrl") for o in outlines] == all_urls
    nested = root.findall("./body/outline/outline/outline[@xmlUrl]")
    assert nested, "expected a category nested inside a category"

    # dest may also name the file to write, in a directory that does not exist yet.
    target = render_feed_list("feeds.yaml", site.base_url, tmp_path / "sub" / "my.yaml")
    assert target == tmp_path / "sub" / "my.yaml"
    assert target.read_text(encoding="utf-8") == (tmp_path / "feeds.yaml").read_text("utf-8")
    with pytest.raises(ValueError, match="unknown feed list kind"):
        render_feed_list("csv", site.base_url, tmp_path)


# --- the manifest ----------------------------------------------------------------------


def test_manifest_special_cases_are_consistent(manifest: dict[str, Any]) -> None:
    by_id = pages(manifest)
    assert len(by_id) == len(manifest["pages"]) >= 14
    assert len({p["path"] for p in manifest["pages"]}) == len(by_id)
    special = manifest["special_cases"]

    syn = special["syndication"]
    original, copy = by_id[syn["original"]], by_id[syn["republished"]]
    assert original["outlet"] != copy["outlet"]
    assert original["title"] != copy["title"]
    assert original["title"].lower() == copy["title"].lower()
    assert datetime.fromisoformat(copy["published"]) > datetime.fromisoformat(original["published"])
    assert syn["credit_line"] in copy["must_contain"]

    exact = special["exact_copy"]
    assert by_id[exact["original"]]["path"] != by_id[exact["copy"]]["path"]
    assert by_id[exact["original"]]["outlet"] != by_id[exact["copy"]]["outlet"]

    variants = special["url_variants"]
    assert {
        urlsplit(v["link"])._replace(query="", fragment="").geturl() for v in variants["links"]
    } == {variants["canonical_url"]}
    assert len({v["feed"] for v in variants["links"]}) == 2

    assert not by_id[special["extraction_failure"]["page"]]["extractable"]
    follow = special["follow_up"]
    assert by_id[follow["original"]]["outlet"] == by_id[follow["follow_up"]]["outlet"]

    languages = {lang: len(ids) for lang, ids in special["languages"].items()}
    assert languages["ru"] == 2
    assert languages["tr"] == 1
    assert languages["ka"] == 1
    for page in manifest["pages"]:
        if page["extractable"]:
            assert 250 <= page["word_count"] <= 700, page["id"]
        assert page["published"][-6] in "+-", page["id"]  # offset as written

    expected = manifest["expected"]
    assert expected["feed_entries"] == sum(len(f["entries"]) for f in manifest["feeds"])
    assert expected["feed_entries"] == (
        expected["articles"] + sum(expected["duplicates"].values()) + expected["entry_dead_letters"]
    )
