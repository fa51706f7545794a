"""`newsbeam demo`: the offline sample site on loopback, and a real run against it."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from pipeline.demo_site import render_feed_list, serve_site
from pipeline.run import run


def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="newsbeam demo")
    parser.add_argument("--output", default="demo-output", help="Where records are written.")
    args, beam_args = parser.parse_known_args(argv)
    output = Path(args.output)
    with serve_site() as site, tempfile.TemporaryDirectory() as tmp:
        feeds = render_feed_list("yaml", site.base_url, Path(tmp))
        print(f"Serving the sample site at {site.base_url}; feeds: {feeds}")
        code = run(
            [
                "--feeds", str(feeds),
                "--output", str(output),
                "--once",
                # The sample site is on loopback, which the fetcher refuses by default.
                "--allow_address", f"127.0.0.1:{site.port}",
                # A fresh state each time, so the demo always shows records.
                "--state_dir", tmp,
                # Our own server: a short pause between requests is polite enough.
                "--host_delay", "0.05",
                *beam_args,
            ]
        )  # fmt: skip
    _show_sample(output)
    return code


def _show_sample(output: Path) -> None:
    files = sorted((output / "articles").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    if not files:
        return
    with files[-1].open(encoding="utf-8") as handle:
        record = json.loads(handle.readline())
    record["text"] = record["text"][:300] + ("…" if len(record["text"]) > 300 else "")
    record["entities"] = record["entities"][:3]
    print(f"\nOne record from {files[-1]}:")
    print(json.dumps(record, ensure_ascii=False, indent=2))
