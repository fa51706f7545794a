"""Requests newsbeam sends the demo site while nothing changes there.

The real poller (hardened client, conditional requests, the per-feed schedule) polls the
offline demo site on loopback; only the clock is virtual, so an idle day takes seconds.
Every feed gets its first, unconditional poll at t = 0; then every poll the schedule asks
for is made, and the requests the site receives are counted per hour.

    .venv/bin/python -m bench.idle_hour [--hours 24] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline import USER_AGENT
from pipeline.demo_site import render_feed_list, serve_site
from transforms.core.feeds import load_feed_list
from transforms.core.http import AddressPolicy, HttpClient, HttpConfig
from transforms.core.poller import poll_feed
from transforms.core.polling import FeedState, SchedulePolicy, is_due, next_state
from transforms.read_feeds import FEED_CONTENT_TYPES

TICK_S = 30.0


def simulate(hours: float, policy: SchedulePolicy, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    with serve_site() as site, tempfile.TemporaryDirectory() as tmp:
        sources = load_feed_list(render_feed_list("yaml", site.base_url, Path(tmp)))
        config = HttpConfig(
            user_agent=USER_AGENT,
            timeout_s=10.0,
            policy=AddressPolicy.from_string(f"127.0.0.1:{site.port}"),
            allowed_content_types=FEED_CONTENT_TYPES,
        )
        client = HttpClient(config)
        states = {s.url: FeedState.new(s.url) for s in sources}
        first_poll = 0
        per_hour: Counter[int] = Counter()
        outcomes: Counter[str] = Counter()
        conditional = 0
        now = 0.0
        try:
            while now <= hours * 3600:
                for url, state in states.items():
                    if not is_due(state, now, policy):
                        continue
                    before = len(site.requests)
                    result = poll_feed(client, state, now=now)
                    new_requests = site.requests[before:]
                    if now == 0:
                        first_poll += len(new_requests)
                    else:  # hour h covers (h, h + 1] hours after the first poll
                        per_hour[int((now - 1) // 3600)] += len(new_requests)
                    conditional += sum(
                        "if-none-match" in {k.lower() for k in r.headers}
                        or "if-modified-since" in {k.lower() for k in r.headers}
                        for r in new_requests
                    )
                    states[url] = next_state(state, result.outcome, now, policy, rng)
                    outcomes[result.outcome.kind] += 1
                now += TICK_S
        finally:
            client.close()
    return {
        "feeds": len(states),
        "first_poll_requests": first_poll,
        "requests_by_hour": [per_hour[h] for h in range(int(hours))],
        "idle_first_hour_requests": per_hour[0],
        "idle_requests": sum(per_hour.values()),
        "conditional_requests": conditional,
        "outcomes": dict(outcomes),
        "final_status": dict(Counter(s.status for s in states.values())),
        "final_interval_s": sorted({round(s.interval_s or 0) for s in states.values()}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = simulate(args.hours, SchedulePolicy())
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"demo site: {report['feeds']} feeds, first poll {report['first_poll_requests']} requests"
    )
    print(f"idle first hour after that: {report['idle_first_hour_requests']} requests")
    print(
        f"idle {args.hours:g} h: {report['idle_requests']} requests "
        f"({report['conditional_requests']} conditional)"
    )
    print(f"requests by hour: {report['requests_by_hour']}")
    print(f"outcomes: {report['outcomes']}; final status: {report['final_status']}")


if __name__ == "__main__":
    main()
