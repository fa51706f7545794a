"""Serve the sample news site by hand: `python -m pipeline.demo_site [--port 8000]`."""

from __future__ import annotations

import argparse
import threading

from . import load_manifest, serve_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the newsbeam demo news site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with serve_site(args.host, args.port) as site:
        manifest = load_manifest(site.base_url)
        print(f"Serving the demo site at {site.base_url}/ (Ctrl-C stops it)")
        for feed in manifest["feeds"]:
            note = "" if feed["status"] == 200 else f"  (answers {feed['status']})"
            print(f"  {feed['format']:<4} {feed['url']}{note}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
