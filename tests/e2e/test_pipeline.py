"""The whole pipeline on DirectRunner's FnApiRunner against the sample site on loopback.

Expectations come from the site's manifest (written with the pages), so each record
field is checked against what the page really says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.demo_site import load_manifest, render_feed_list, serve_site
from pipeline.run import EXIT_NOTHING_FETCHED, run

pytestmark = pytest.mark.e2e
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def read_jsonl(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def latest_summary(output: Path) -> dict[str, Any]:
    path = max((output / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    summary: dict[str, Any] = json.loads(path.read_text())
    return summary


@pytest.fixture(scope="module")
def site() -> Iterator[Any]:
    with serve_site() as server:
        yield server


@pytest.fixture(scope="module")
def first_run(site: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("e2e")
    feeds = render_feed_list("yaml", site.base_url, work)
    output = work / "out"
    argv = [
        "--feeds",
        str(feeds),
        "--output",
        str(output),
        "--once",
        "--allow_address",
        f"127.0.0.1:{site.port}",
        "--host_delay",
        "0.05",
    ]
    code = run(argv)
    return {"code": code, "output": output, "argv": argv, "base": site.base_url}


def url(template: str, base: str) -> str:
    return template.replace("{{BASE}}", base)


def test_counts_and_conservation(first_run: dict[str, Any]) -> None:
    expected = load_manifest()["expected"]
    output = first_run["output"]
    assert first_run["code"] == 0
    summary = latest_summary(output)
    articles = read_jsonl(output / "articles")
    duplicates = read_jsonl(output / "duplicates")
    dead = read_jsonl(output / "dead_letters")
    assert summary["entries_seen"] == expected["feed_entries"]
    assert len(articles) == summary["articles_written"] == expected["articles"]
    assert len(duplicates) == summary["duplicates_written"] == sum(expected["duplicates"].values())
    kinds = {k: sum(d["kind"] == k for d in duplicates) for k in ("url", "exact", "near")}
    assert kinds == expected["duplicates"]
    assert sum(d["subject"] == "entry" for d in dead) == expected["entry_dead_letters"]
    assert sum(d["subject"] == "feed" for d in dead) == expected["feed_dead_letters"]
    assert summary["conserved"] is True
    assert (
        summary["entries_seen"]
        == len(articles)
        + len(duplicates)
        + expected["entry_dead_letters"]
        + summary["already_seen"]
    )
    assert (summary["feeds_polled"], summary["feeds_failed"]) == (
        expected["feeds_listed"],
        expected["feeds_dead"],
    )


def test_every_article_record(first_run: dict[str, Any]) -> None:
    manifest = load_manifest()
    base = first_run["base"]
    articles = {a["url"]: a for a in read_jsonl(first_run["output"] / "articles")}
    feed_meta = {url(f["url"], base): f["list_meta"] for f in manifest["feeds"]}
    dup_pages = {
        manifest["special_cases"]["syndication"]["republished"],
        manifest["special_cases"]["exact_copy"]["copy"],
    }
    checked = 0
    for page in manifest["pages"]:
        if page["id"] in dup_pages or page.get("role") == "dead_link":
            continue
        record = articles.get(url(page["url"], base))
        if record is None:
            continue  # pages only reachable as duplicates or dead links are checked below
        checked += 1
        assert len(record["article_id"]) == 32
        assert record["title"] == page["title"]
        assert record["language"] == page["language"], page["id"]
        keys = ("name", "country", "language", "tags")
        meta = feed_meta[record["feed_url"]]
        assert {k: record["feed_meta"][k] for k in keys} == {k: meta.get(k) for k in keys}
        assert record["source"] == record["feed_meta"]["name"]
        assert RFC3339_UTC.match(record["fetched_at"])
        assert len(record["fingerprint"]) == 16 and int(record["fingerprint"], 16) >= 0
        assert record["word_count"] == len(record["text"].split())
        if not page.get("extractable", True):
            assert record["extraction"] == "feed_summary"
            assert record["text"] == page["summary"]
            continue
        assert record["extraction"] == "trafilatura"
        assert record["published_at"] == page["published_utc"]
        assert record["published_at_local"] == page["published"]
        assert record["authors"] == page["authors"]
        for sentence in page["must_contain"]:
            assert sentence in record["text"], (page["id"], sentence)
        for residue in page["must_not_contain"]:
            assert residue not in record["text"], (page["id"], residue)
        assert not record["text"].startswith(page["title"])
        for entity in record["entities"]:
            for start, end in entity["spans"]:
                assert record["text"][start:end], entity
            assert entity["count"] == len(entity["spans"])
        if record["language"] == "en":
            assert record["ner_model"] and record["ner_model"].startswith("en_core_web_sm")
            found = {(e["canonical"], e["label"]) for e in record["entities"]}
            for entity in page.get("entities", []):
                if entity.get("small_model_finds"):
                    assert (entity["text"], entity["label"]) in found, (page["id"], entity)
        else:
            assert record["ner_model"] is None and record["entities"] == []
    assert checked >= 12


def test_duplicates_point_to_the_original(first_run: dict[str, Any]) -> None:
    manifest = load_manifest()
    base = first_run["base"]
    pages = {p["id"]: p for p in manifest["pages"]}
    by_url = {d["url"]: d for d in read_jsonl(first_run["output"] / "duplicates")}
    syndication = manifest["special_cases"]["syndication"]
    near = by_url[url(pages[syndication["republished"]]["url"], base)]
    assert near["kind"] == "near"
    assert near["duplicate_of"] == url(pages[syndication["original"]]["url"], base)
    assert 0.8 <= near["similarity"] < 1.0
    exact_case = manifest["special_cases"]["exact_copy"]
    exact = by_url[url(pages[exact_case["copy"]]["url"], base)]
    assert exact["kind"] == "exact"
    assert exact["duplicate_of"] == url(pages[exact_case["original"]]["url"], base)
    variants = manifest["special_cases"]["url_variants"]
    canonical = url(variants["canonical_url"], base)
    url_dups = [d for d in by_url.values() if d["kind"] == "url"]
    assert canonical in {d["duplicate_of"] for d in url_dups}
    # A follow-up story on the same event is a different article (it may still be listed
    # in two feeds, which makes a URL duplicate, never a content one).
    follow_up = manifest["special_cases"]["follow_up"]
    content_dups = {u for u, d in by_url.items() if d["kind"] != "url"}
    for page_id in (follow_up.get("original"), follow_up.get("follow_up")):
        if page_id:
            assert url(pages[page_id]["url"], base) not in content_dups


def test_dead_letters_say_why(first_run: dict[str, Any]) -> None:
    dead = read_jsonl(first_run["output"] / "dead_letters")
    reasons = sorted((d["stage"], d["reason"], d["subject"]) for d in dead)
    assert reasons == [
        ("fetch", "http_404", "entry"),
        ("read_feeds", "http_404", "feed"),
        ("read_feeds", "invalid_link", "entry"),
        ("read_feeds", "invalid_link", "entry"),
    ]
    for letter in dead:
        assert RFC3339_UTC.match(letter["at"]) and letter["error"]


def test_second_run_writes_nothing_new(first_run: dict[str, Any]) -> None:
    """A cron-style second run: conditional requests, 304s, nothing written."""
    output = first_run["output"]
    before = len(read_jsonl(output / "articles"))
    assert run([*first_run["argv"], "--poll_interval", "0"]) == 0
    summary = latest_summary(output)
    assert summary["entries_seen"] == summary["articles_written"] == 0
    assert summary["duplicates_written"] == 0
    outcomes = summary["feed_outcomes"]
    # Six live feeds answer 304 to our validators; the dead one is backing off.
    assert outcomes["not_modified"] == 6
    assert outcomes["not_due"] == 1
    assert summary["conserved"] is True
    assert len(read_jsonl(output / "articles")) == before


def test_seen_keys_hold_when_validators_are_lost(first_run: dict[str, Any]) -> None:
    """Without saved validators every entry comes again; the seen keys drop them all."""
    output = first_run["output"]
    before = len(read_jsonl(output / "articles"))
    (output / "state" / "feeds.json").unlink()
    assert run(first_run["argv"]) == 0
    summary = latest_summary(output)
    assert summary["articles_written"] == summary["duplicates_written"] == 0
    assert summary["already_seen"] == before + sum(
        load_manifest()["expected"]["duplicates"].values()
    )
    assert summary["conserved"] is True


def test_nothing_reachable_exits_non_zero(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.txt"
    # Loopback without --allow_address: refused by the address policy, never contacted.
    feeds.write_text("http://127.0.0.1:9/rss.xml\nhttp://169.254.169.254/feed\n")
    code = run(["--feeds", str(feeds), "--output", str(tmp_path / "out"), "--once"])
    assert code == EXIT_NOTHING_FETCHED
    dead = read_jsonl(tmp_path / "out" / "dead_letters")
    assert sorted(d["reason"] for d in dead) == ["blocked_address", "blocked_address"]


def test_streaming_polls_repeatedly_and_stops_by_itself(site: Any, tmp_path: Path) -> None:
    feeds = render_feed_list("txt", site.base_url, tmp_path)
    output = tmp_path / "out"
    code = run(
        ["--feeds", str(feeds), "--output", str(output), "--streaming",
         "--poll_interval", "1", "--duration", "15", "--host_delay", "0.05",
         "--allow_address", f"127.0.0.1:{site.port}"]
    )  # fmt: skip
    assert code == 0
    summaries = sorted(
        (json.loads(p.read_text()) for p in (output / "runs").glob("*.json")),
        key=lambda s: s["run_id"],
    )
    assert len(summaries) >= 2
    assert all(s["conserved"] for s in summaries)
    first, *later = summaries
    assert first["articles_written"] == load_manifest()["expected"]["articles"]
    assert all(s["articles_written"] == 0 for s in later)
    assert all(s["feed_outcomes"].get("not_modified", 0) == 6 for s in later)
