"""Feed-to-record latency of `newsbeam run --streaming` on the local runner.

A loopback server publishes a feed; while newsbeam runs as a separate process, new items
are added at random moments, and the time from each item's appearance in the feed to its
record appearing in the output is measured.

    .venv/bin/python -m bench.streaming_latency [--items 8] [--poll_interval 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = (
    "harbour",
    "council",
    "budget",
    "river",
    "station",
    "museum",
    "teacher",
    "farmer",
    "railway",
    "bridge",
    "winter",
    "election",
    "court",
    "hospital",
    "market",
    "festival",
    "factory",
    "village",
    "mayor",
    "strike",
    "energy",
    "school",
    "library",
    "coast",
    "island",
    "forest",
    "police",
    "border",
    "ministry",
    "union",
    "airport",
    "tunnel",
)


def article_page(title: str, seed: str | int) -> bytes:
    """An article page whose text shares no run of words with another seed's."""
    rng = random.Random(seed)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)) + ".</p>" for _ in range(6)
    )
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


class _Site:
    """A feed whose items can be added while it is being polled; one page per item."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, ctype, etag = site.respond(
                    self.path, self.headers.get("If-None-Match")
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def add(self, slug: str) -> None:
        with self._lock:
            self.items.insert(0, slug)

    def respond(self, path: str, if_none_match: str | None) -> tuple[int, bytes, str, str | None]:
        with self._lock:
            items = list(self.items)
        if path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n", "text/plain", None
        if path == "/feed.xml":
            etag = f'"{len(items)}"'
            if if_none_match == etag:
                return 304, b"", "application/rss+xml", etag
            body = "".join(
                f"<item><title>{s}</title><link>{self.base}/a/{s}</link><guid>{s}</guid></item>"
                for s in items
            )
            feed = (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>'
                f"{body}</channel></rss>"
            )
            return 200, feed.encode(), "application/rss+xml", etag
        if path.startswith("/a/"):
            return 200, article_page(path[3:], path), "text/html; charset=utf-8", None
        return 404, b"", "text/plain", None

    def close(self) -> None:
        self._httpd.shutdown()


def written_titles(output: Path) -> set[str]:
    """Titles of the article records written under `output`."""
    found: set[str] = set()
    for path in (output / "articles").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.add(json.loads(line)["title"])
    return found


def measure(items: int, poll_interval: float, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    site = _Site()
    site.add("item-0")
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "feeds.txt"
        listing.write_text(site.base + "/feed.xml\n")
        output = Path(tmp) / "out"
        budget = 60 + items * (poll_interval * 3 + 30)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", "--feeds", str(listing),
             "--output", str(output), "--streaming", "--poll_interval", str(poll_interval),
             "--duration", str(budget), "--allow_address", f"127.0.0.1:{site.port}"],
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait(lambda: "item-0" in written_titles(output), 120)
            for n in range(1, items + 1):
                time.sleep(rng.uniform(0, poll_interval))  # land anywhere in the cycle
                slug = f"item-{n}"
                site.add(slug)
                added = time.monotonic()
                if not _wait(lambda s=slug: s in written_titles(output), poll_interval * 3 + 60):
                    raise RuntimeError(f"{slug} never arrived")
                latencies.append(time.monotonic() - added)
        finally:
            proc.terminate()
            proc.wait(timeout=120)
            site.close()
    ordered = sorted(latencies)
    return {
        "poll_interval_s": poll_interval,
        "items": items,
        "latency_p50_s": round(statistics.median(ordered), 2),
        "latency_p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "latency_max_s": round(ordered[-1], 2),
        "target_s": poll_interval + 10,
    }


def _wait(check: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--poll_interval", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = measure(args.items, args.poll_interval)
    print(json.dumps(report, indent=None if not args.json else 2))


if __name__ == "__main__":
    main()
