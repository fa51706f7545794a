"""`make bench`: end-to-end throughput against the machine's limit, stage costs, peers.

1. Renders N generated articles (`bench.pages`) on many loopback hosts, with their feeds.
2. Runs `newsbeam run --once` on them as a separate process (the runner `newsbeam run`
   picks by default, unless `--runner_args` says otherwise) and takes the wall-clock
   time, the CPU of the whole process tree and its peak resident memory (sum over the
   tree, sampled every 0.1 s).
3. Measures each stage's CPU per article in isolation (`bench.stages`) on a sample of
   the same pages; the limit is cores / (sum of those), the ratio is rate / limit.
4. Measures extraction alone for newsbeam and the peers on the same sample and, when
   `../shared/eval` (or `NEWSBEAM_EVAL_DIR`) is there, on the real AEB pages.
5. Optionally the streaming latency (`bench.streaming_latency`).

Writes `bench/results/latest.json` and prints a markdown table (kept in
docs/PERFORMANCE.md). Every measurement records `os.getloadavg()` before and after it:
other work on the machine makes the figures worse, never better.

    .venv/bin/python -m bench.run [--articles 2000] [--runner_args "..."] [--no_streaming]

`--host_delay 0` is passed to the run: the benchmark measures the machine, not the
politeness pause between two requests to one host.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench import stages
from bench.pages import Site, serve
from bench.streaming_latency import measure as measure_latency

RESULTS = Path(__file__).parent / "results" / "latest.json"
T = TypeVar("T")


def loaded(fn: Callable[[], T]) -> tuple[T, dict[str, list[float]]]:
    """fn()'s result and the load averages (1, 5, 15 min) before and after it."""
    before = [round(x, 2) for x in os.getloadavg()]
    result = fn()
    return result, {
        "loadavg_before": before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue  # the process ended meanwhile
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        rss[int(entry.name)] = int(statm[1]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_pipeline(site: Site, hosts_allowed: str, runner_args: list[str]) -> dict[str, Any]:
    """One `newsbeam run --once` over the site: wall time, CPU, peak RSS, its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        feeds = Path(tmp) / "feeds.txt"
        feeds.write_text("\n".join(site.feed_urls) + "\n", encoding="utf-8")
        output = Path(tmp) / "out"
        command = [
            sys.executable, "-m", "pipeline", "run", "--feeds", str(feeds),
            "--output", str(output), "--once", "--host_delay", "0",
            "--allow_address", hosts_allowed, *runner_args,
        ]  # fmt: skip
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, _tree_rss_bytes(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        log, _ = proc.communicate()
        wall = time.monotonic() - started
        done.set()
        sampler.join()
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        if proc.returncode != 0:
            tail = log.decode(errors="replace")[-3000:]
            raise RuntimeError(f"newsbeam run exited {proc.returncode}:\n{tail}")
        summary = json.loads(next((output / "runs").glob("*.json")).read_text(encoding="utf-8"))
        seen = output / "state" / "seen.jsonl"
        seen_lines = seen.read_text(encoding="utf-8").count("\n") if seen.exists() else 0
        return {
            "command": shlex.join(["newsbeam", *command[3:]]),
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "peak_rss_mb": round(peak / 2**20, 1),
            "summary": summary,
            "seen_bytes_per_key": round(seen.stat().st_size / seen_lines, 1)
            if seen_lines
            else None,
        }


def counts(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("entries_seen", "articles_written", "duplicates_written", "entry_dead_letters")
    return {k: summary[k] for k in (*keys, "conserved", "dead_letters_by_reason")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=40, help="distinct loopback hosts")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--sample", type=int, default=300, help="pages for the stage costs")
    parser.add_argument("--peer_sample", type=int, default=100, help="pages per peer")
    parser.add_argument("--runner_args", default="", help="extra Beam options for the run")
    parser.add_argument("--no_streaming", action="store_true", help="skip the latency run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    eval_dir = Path(os.environ.get("NEWSBEAM_EVAL_DIR", Path.cwd().parent / "shared" / "eval"))
    cores = os.cpu_count() or 1

    with serve(args.articles, args.hosts, args.feeds) as site:
        print(f"site: {args.articles} articles, {len(site.feed_urls)} feeds, {args.hosts} "
              f"hosts, {site.html_bytes / len(site.pages) / 1024:.0f} KiB HTML per page",
              file=sys.stderr)  # fmt: skip
        e2e, e2e_load = loaded(
            lambda: run_pipeline(site, "127.0.0.1", shlex.split(args.runner_args))
        )
        urls = list(site.pages)
        step = max(1, len(urls) // args.sample)
        sample = [
            (article, url, site.feed_urls[article.feed])
            for article, url in list(zip(site.articles, urls, strict=True))[::step][: args.sample]
        ]
        cpu, stage_load = loaded(lambda: stages.measure_stages(sample, "127.0.0.1"))
        peer_pages = [(site.pages[url], url) for _, url, _ in sample[: args.peer_sample]]
        peers, peer_load = loaded(lambda: stages.measure_extractors(peer_pages))
    real = stages.shared_pages(eval_dir, args.peer_sample)
    peers_real, real_load = loaded(lambda: stages.measure_extractors(real) if real else {})
    latency: dict[str, Any] | None = None
    if not args.no_streaming:
        measured, latency_load = loaded(lambda: measure_latency(8, 5.0))
        latency = {**measured, **latency_load}

    written = e2e["summary"].get("articles_written", 0)
    per_article_ms = sum(cpu.values())
    limit = cores * 1000 / per_article_ms
    rate = args.articles / e2e["wall_s"]
    result: dict[str, Any] = {
        "rate_articles_per_s": round(rate, 2),
        "limit_articles_per_s": round(limit, 2),
        "ratio": round(rate / limit, 3),
        "cpu_ms_per_article": cpu,
        "enrichment_cpu_ms_per_article": round(sum(cpu[s] for s in stages.ENRICHMENT), 2),
        "peak_rss_mb": e2e["peak_rss_mb"],
        "articles": args.articles,
        "articles_written": written,
        "e2e": {**{k: v for k, v in e2e.items() if k != "summary"}, **counts(e2e["summary"])},
        "e2e_cpu_ms_per_article": round(1000 * e2e["cpu_s"] / args.articles, 1),
        "stage_sample_pages": len(sample),
        "extraction_cpu_ms_per_page": {"generated": peers, "shared_aeb": peers_real},
        "streaming_latency": latency,
        "load": {"e2e": e2e_load, "stages": stage_load, "peers": peer_load, "peers_aeb": real_load},
        "machine": {"cores": cores, "python": platform.python_version()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))


def table(result: dict[str, Any]) -> str:
    """The markdown tables of docs/PERFORMANCE.md."""
    cpu = result["cpu_ms_per_article"]
    e2e = result["e2e"]
    lines = [
        f"End to end: {result['articles']} articles in {e2e['wall_s']} s = "
        f"**{result['rate_articles_per_s']} articles/s**; limit "
        f"{result['limit_articles_per_s']}/s ({result['machine']['cores']} cores / "
        f"{sum(cpu.values()):.1f} ms); **ratio {result['ratio']}**; peak RSS "
        f"{result['peak_rss_mb']} MB; whole-run CPU {result['e2e_cpu_ms_per_article']} ms "
        f"per article; load {result['load']['e2e']['loadavg_before'][0]} -> "
        f"{result['load']['e2e']['loadavg_after'][0]}.",
        "",
        "| stage | CPU ms per article |",
        "|---|---|",
        *(f"| {stage} | {ms} |" for stage, ms in cpu.items()),
        f"| **enrichment** (extract + language + entities) | "
        f"**{result['enrichment_cpu_ms_per_article']}** |",
        "",
        "| extraction alone | CPU ms per page, generated pages | CPU ms per page, AEB real pages |",
        "|---|---|---|",
    ]
    generated = result["extraction_cpu_ms_per_page"]["generated"]
    real = result["extraction_cpu_ms_per_page"]["shared_aeb"]
    lines += [f"| {name} | {ms} | {real.get(name, 'n/a')} |" for name, ms in generated.items()]
    latency = result["streaming_latency"]
    if latency:
        lines += [
            "",
            f"Streaming (`--poll_interval {latency['poll_interval_s']}`, {latency['items']} "
            f"items): feed-to-record p50 {latency['latency_p50_s']} s, p95 "
            f"{latency['latency_p95_s']} s (target {latency['target_s']} s).",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
