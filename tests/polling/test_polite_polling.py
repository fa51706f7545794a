"""Polling as a good citizen, proven against a loopback server that records every request.

Each test runs the real `newsbeam run` code path (FnApiRunner, real HTTP on loopback).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.streaming_latency import article_page, written_titles
from pipeline.run import run
from tests.polling.server import RecordingServer, Reply

RSS_TYPE = {"Content-Type": "application/rss+xml"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}


def rss(base: str, slugs: list[str], extra: str = "") -> bytes:
    items = "".join(
        f"<item><title>Story {s}</title><link>{base}/a/{s}</link><guid>{s}</guid>"
        f"<pubDate>Mon, 16 Nov 2026 0{i % 10}:00:00 GMT</pubDate></item>"
        for i, s in enumerate(slugs)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{extra}'
        f"{items}</channel></rss>"
    ).encode()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    srv = RecordingServer()
    srv.routes["/robots.txt"] = Reply(200, b"User-agent: *\nAllow: /\n")
    yield srv
    srv.close()


@pytest.fixture
def other_host() -> Iterator[RecordingServer]:
    """A second host (another port on loopback is another host to the pacing rules)."""
    srv = RecordingServer()
    srv.routes["/robots.txt"] = Reply(200, b"User-agent: *\nAllow: /\n")
    yield srv
    srv.close()


def serve_articles(server: RecordingServer, slugs: list[str], delay_s: float = 0.0) -> None:
    for i, slug in enumerate(slugs):
        server.routes[f"/a/{slug}"] = Reply(
            200, article_page(f"Story {slug}", i), HTML_TYPE, delay_s
        )


def newsbeam(
    tmp: Path, feeds: list[str], *servers: RecordingServer, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One `newsbeam run --once`; returns its saved summary."""
    listing = tmp / "feeds.txt"
    listing.write_text("\n".join(feeds) + "\n")
    allow = ",".join(f"127.0.0.1:{s.port}" for s in servers)
    output = tmp / "out"
    run(
        ["--feeds", str(listing), "--output", str(output), "--once",
         "--allow_address", allow, "--host_delay", "0.05", *extra]
    )  # fmt: skip
    latest = max((output / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    summary: dict[str, Any] = json.loads(latest.read_text())
    return summary


def feed_states(tmp: Path) -> dict[str, Any]:
    states: dict[str, Any] = json.loads((tmp / "out" / "state" / "feeds.json").read_text())
    return states


def test_validators_are_sent_back_verbatim_and_304_costs_nothing(
    server: RecordingServer, tmp_path: Path
) -> None:
    etag = 'W/"v1; odd, but opaque"'
    modified = "Mon, 16 Nov 2026 09:00:00 GMT"
    feed = server.base_url + "/feed.xml"
    serve_articles(server, ["one", "two"])
    server.routes["/feed.xml"] = Reply(
        200,
        rss(server.base_url, ["one", "two"]),
        {**RSS_TYPE, "ETag": etag, "Last-Modified": modified},
    )
    first = newsbeam(tmp_path, [feed], server)
    assert first["articles_written"] == 2
    second = newsbeam(tmp_path, [feed], server, extra=("--poll_interval", "0"))
    polls = server.hits_for("/feed.xml")
    assert len(polls) == 2
    assert "If-None-Match" not in polls[0].headers  # the first request is unconditional
    assert polls[1].headers["If-None-Match"] == etag
    assert polls[1].headers["If-Modified-Since"] == modified
    assert second["feed_outcomes"]["not_modified"] == 1
    assert second["entries_seen"] == second["articles_written"] == 0
    assert server.paths().count("/a/one") == 1  # nothing fetched again


def test_an_unchanged_body_without_validators_is_skipped(
    server: RecordingServer, tmp_path: Path
) -> None:
    feed = server.base_url + "/plain.xml"
    serve_articles(server, ["one"])
    server.routes["/plain.xml"] = Reply(200, rss(server.base_url, ["one"]), RSS_TYPE)
    newsbeam(tmp_path, [feed], server)
    second = newsbeam(tmp_path, [feed], server, extra=("--poll_interval", "0"))
    assert second["feed_outcomes"]["unchanged"] == 1
    assert second["entries_seen"] == 0


def test_the_schedule_is_respected_between_runs(server: RecordingServer, tmp_path: Path) -> None:
    """A feed polled a moment ago is not polled again; its <ttl> sets a lower bound."""
    feed = server.base_url + "/ttl.xml"
    serve_articles(server, ["one"])
    server.routes["/ttl.xml"] = Reply(
        200, rss(server.base_url, ["one"], extra="<ttl>180</ttl>"), {**RSS_TYPE, "ETag": '"t"'}
    )
    before = time.time()
    newsbeam(tmp_path, [feed], server)
    second = newsbeam(tmp_path, [feed], server)
    assert len(server.hits_for("/ttl.xml")) == 1
    assert second["feed_outcomes"]["not_due"] == 1 and second["feeds_polled"] == 0
    state = feed_states(tmp_path)[feed]
    assert state["declared_min_s"] == 180 * 60
    assert state["next_poll_at"] >= before + 180 * 60 * 0.9  # jitter is at most 10 %


def test_retry_after_slows_the_whole_host_and_only_it(
    server: RecordingServer, other_host: RecordingServer, tmp_path: Path
) -> None:
    busy = Reply(429, b"slow down", {"Retry-After": "120"})
    server.routes["/a.xml"] = busy
    server.routes["/b.xml"] = busy
    serve_articles(other_host, ["calm"])
    other_host.routes["/c.xml"] = Reply(200, rss(other_host.base_url, ["calm"]), RSS_TYPE)
    feeds = [server.base_url + "/a.xml", server.base_url + "/b.xml", other_host.base_url + "/c.xml"]
    first = newsbeam(tmp_path, feeds, server, other_host)
    # One 429 and the host's other feed waits: only one request reached the busy host.
    assert len([p for p in server.paths() if p.endswith(".xml")]) == 1
    assert first["feed_outcomes"]["throttled"] == 1
    assert first["feed_outcomes"]["deferred"] == 1
    assert first["articles_written"] == 1  # the other host went on as usual
    second = newsbeam(tmp_path, feeds, server, other_host, extra=("--poll_interval", "0"))
    assert len([p for p in server.paths() if p.endswith(".xml")]) == 1  # still waiting
    assert second["feed_outcomes"]["deferred"] == 1
    assert len(other_host.hits_for("/c.xml")) == 2
    hosts = json.loads((tmp_path / "out" / "state" / "hosts.json").read_text())
    assert hosts[f"127.0.0.1:{server.port}"]["not_before"] == pytest.approx(
        time.time() + 120, abs=30
    )


def test_one_request_in_flight_per_host_with_the_delay(
    server: RecordingServer, tmp_path: Path
) -> None:
    slugs = [f"s{i}" for i in range(6)]
    serve_articles(server, slugs, delay_s=0.1)
    server.routes["/feed.xml"] = Reply(200, rss(server.base_url, slugs), RSS_TYPE)
    summary = newsbeam(
        tmp_path, [server.base_url + "/feed.xml"], server, extra=("--host_delay", "0.4")
    )
    assert summary["articles_written"] == 6
    assert server.max_in_flight == 1
    hits = sorted(server.hits, key=lambda h: h.started)
    gaps = [b.started - a.ended for a, b in itertools.pairwise(hits)]
    assert min(gaps) >= 0.38, gaps  # robots.txt, the feed and every page, 0.4 s apart


def test_robots_txt_5xx_blocks_article_fetches(server: RecordingServer, tmp_path: Path) -> None:
    server.routes["/robots.txt"] = Reply(503, b"down")
    serve_articles(server, ["one", "two"])
    server.routes["/feed.xml"] = Reply(200, rss(server.base_url, ["one", "two"]), RSS_TYPE)
    summary = newsbeam(tmp_path, [server.base_url + "/feed.xml"], server)
    assert summary["articles_written"] == 0
    assert summary["dead_letters_by_reason"] == {"fetch/robots_unreachable": 2}
    assert not any(p.startswith("/a/") for p in server.paths())
    assert summary["conserved"]


def test_410_retires_a_feed_and_301_moves_it(server: RecordingServer, tmp_path: Path) -> None:
    serve_articles(server, ["one"])
    server.routes["/gone.xml"] = Reply(410, b"gone")
    server.routes["/old.xml"] = Reply(301, b"", {"Location": "/new.xml"})
    server.routes["/new.xml"] = Reply(
        200, rss(server.base_url, ["one"]), {**RSS_TYPE, "ETag": '"n"'}
    )
    feeds = [server.base_url + "/gone.xml", server.base_url + "/old.xml"]
    first = newsbeam(tmp_path, feeds, server)
    assert first["feed_outcomes"]["retired"] == 1 and first["feed_outcomes"]["moved"] == 1
    assert first["dead_letters_by_reason"] == {"read_feeds/http_410 (feed)": 1}
    second = newsbeam(tmp_path, feeds, server, extra=("--poll_interval", "0"))
    assert second["feed_outcomes"]["skipped_retired"] == 1
    assert server.paths().count("/gone.xml") == 1  # never asked again
    assert server.paths().count("/old.xml") == 1  # the new address is used directly
    assert server.hits_for("/new.xml")[-1].headers["If-None-Match"] == '"n"'
    states = feed_states(tmp_path)
    assert states[server.base_url + "/gone.xml"]["status"] == "retired"
    assert states[server.base_url + "/old.xml"]["fetch_url"] == server.base_url + "/new.xml"


def test_repeated_404_disables_a_feed(server: RecordingServer, tmp_path: Path) -> None:
    feed = server.base_url + "/missing.xml"
    state_file = tmp_path / "out" / "state" / "feeds.json"
    for _ in range(3):
        newsbeam(tmp_path, [feed], server)
        states = json.loads(state_file.read_text())
        states[feed]["next_poll_at"] = 0  # skip the backoff wait: the test has no hours
        state_file.write_text(json.dumps(states))
    last = newsbeam(tmp_path, [feed], server)
    assert server.paths().count("/missing.xml") == 3
    assert last["feed_outcomes"]["skipped_disabled"] == 1
    assert feed_states(tmp_path)[feed]["status"] == "disabled"


def test_streaming_writes_a_new_item_while_running(server: RecordingServer, tmp_path: Path) -> None:
    slugs = ["first"]
    serve_articles(server, ["first", "fresh"])
    version = {"n": 1}

    def feed(_path: str, _headers: dict[str, str]) -> Reply:
        return Reply(200, rss(server.base_url, slugs), {**RSS_TYPE, "ETag": f'"v{version["n"]}"'})

    server.routes["/live.xml"] = feed
    listing = tmp_path / "feeds.txt"
    listing.write_text(server.base_url + "/live.xml\n")
    output = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--feeds", str(listing),
         "--output", str(output), "--streaming", "--poll_interval", "1",
         "--duration", "40", "--host_delay", "0.05",
         "--allow_address", f"127.0.0.1:{server.port}"],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for(lambda: written_titles(output) == {"Story first"}, 30)
        slugs.insert(0, "fresh")
        version["n"] = 2
        added = time.time()
        assert wait_for(lambda: "Story fresh" in written_titles(output), 30)
        latency = time.time() - added
        assert proc.poll() is None, "the record must come while the pipeline runs"
        assert latency < 1 + 10 + 5  # one poll interval + 10 s, with slack for a slow CI
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert server.paths().count("/a/first") == 1


def wait_for(check: Any, timeout_s: float) -> bool:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_crawl_delay_spaces_article_requests(server: RecordingServer, tmp_path: Path) -> None:
    server.routes["/robots.txt"] = Reply(200, b"User-agent: *\nCrawl-delay: 0.8\n")
    slugs = ["a", "b", "c"]
    serve_articles(server, slugs)
    server.routes["/feed.xml"] = Reply(200, rss(server.base_url, slugs), RSS_TYPE)
    summary = newsbeam(tmp_path, [server.base_url + "/feed.xml"], server)
    assert summary["articles_written"] == 3
    pages = sorted(
        (h for h in server.hits if h.path.startswith(("/a/", "/robots"))), key=lambda h: h.started
    )
    gaps = [b.started - a.ended for a, b in itertools.pairwise(pages)]
    assert min(gaps) >= 0.75, gaps


def test_robots_txt_is_cached_across_runs(server: RecordingServer, tmp_path: Path) -> None:
    slugs = ["one"]
    serve_articles(server, ["one", "two"])
    version = {"n": 1}

    def feed(_path: str, _headers: dict[str, str]) -> Reply:
        return Reply(200, rss(server.base_url, slugs), {**RSS_TYPE, "ETag": f'"{version["n"]}"'})

    server.routes["/feed.xml"] = feed
    newsbeam(tmp_path, [server.base_url + "/feed.xml"], server)
    slugs.append("two")
    version["n"] = 2
    second = newsbeam(
        tmp_path, [server.base_url + "/feed.xml"], server, extra=("--poll_interval", "0")
    )
    assert second["articles_written"] == 1
    assert server.paths().count("/robots.txt") == 1
    assert server.paths().count("/a/two") == 1
