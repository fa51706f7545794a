"""Runs the pipeline: once (batch), or continuously (streaming).

Runner choice: Beam 2.77's DirectRunner first tries to download its Prism runner, which
an offline machine cannot do, so local runs name the FnApiRunner explicitly. The
FnApiRunner runs bounded pipelines only; locally `--streaming` therefore repeats polling
cycles every `--poll_interval` (each a bounded run, new records written as each cycle
ends, already-seen entries skipped through the state directory). On a runner with
unbounded sources (Dataflow), `--streaming` builds a real streaming pipeline driven by
PeriodicImpulse whose dedup state carries a time-to-live.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.transforms.periodicsequence import PeriodicImpulse

from pipeline import wiring
from pipeline.options import Config
from pipeline.summary import RunSummary, counters_of, summarize
from schemas.records import FeedSource
from transforms.core.feeds import load_feed_list
from transforms.core.state import remember
from transforms.sink import ARTICLES, DUPLICATES

LOCAL_RUNNERS = {"FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner"}
DEFAULT_RUNNER = "FnApiRunner"
EXIT_NOTHING_FETCHED = 2
EXIT_NOT_CONSERVED = 3

log = logging.getLogger("newsbeam")


def new_run_id() -> str:
    return datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def run(argv: list[str]) -> int:
    """`newsbeam run ...`; returns the process exit code."""
    options = PipelineOptions(argv)
    standard = options.view_as(StandardOptions)
    if not standard.runner or standard.runner == "DirectRunner":
        standard.runner = DEFAULT_RUNNER
    config = Config.from_options(options)
    sources = load_feed_list(config.feeds)
    config.output.mkdir(parents=True, exist_ok=True)
    if config.streaming and standard.runner not in LOCAL_RUNNERS:
        return _run_unbounded(options, config, sources)
    if config.streaming:
        return _run_cycles(options, config, sources)
    summary = run_cycle(options, config, sources)
    return exit_code(summary)


def exit_code(summary: RunSummary) -> int:
    if not summary.conserved:
        log.error("entries are not all accounted for: a stage lost or duplicated some")
        return EXIT_NOT_CONSERVED
    if summary.feeds_polled and not summary.feeds_ok:
        log.error("no feed could be fetched (offline? see the dead letters for each reason)")
        return EXIT_NOTHING_FETCHED
    return 0


def seen_path(config: Config) -> Path:
    return config.state_dir / "seen.jsonl"


def run_cycle(options: PipelineOptions, config: Config, sources: list[FeedSource]) -> RunSummary:
    """One bounded run over every feed; prints and saves its summary."""
    run_id = new_run_id()
    started = time.monotonic()
    options.view_as(StandardOptions).streaming = False
    pipeline = beam.Pipeline(options=options)
    feeds = wiring.create_feeds(pipeline, sources)
    # Each local cycle is a bounded pipeline, also when the user asked for --streaming.
    bounded = dataclasses.replace(config, streaming=False)
    wiring.build(feeds, bounded, run_id, str(seen_path(config)))
    result = pipeline.run()
    result.wait_until_finish()
    summary = summarize(run_id, counters_of(result), time.monotonic() - started)
    remember(seen_path(config), _written_ids(config.output, run_id), config.dedup_ttl_s)
    summary.save(config.output)
    print(summary.render(), flush=True)
    return summary


def _written_ids(output: Path, run_id: str) -> list[str]:
    ids: list[str] = []
    for kind in (ARTICLES, DUPLICATES):
        for path in sorted((output / kind).glob(f"{run_id}*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                ids.extend(json.loads(line)["article_id"] for line in handle if line.strip())
    return ids


def _run_cycles(options: PipelineOptions, config: Config, sources: list[FeedSource]) -> int:
    deadline = time.monotonic() + config.duration_s if config.duration_s else None
    stop = _StopFlag()
    broken = False
    while not stop.requested:
        began = time.monotonic()
        broken |= not run_cycle(options, config, sources).conserved
        wake = began + config.poll_interval_s
        if deadline is not None:
            wake = min(wake, deadline)
        while not stop.requested and time.monotonic() < wake:
            time.sleep(0.2)
        if deadline is not None and time.monotonic() >= deadline:
            break
    return EXIT_NOT_CONSERVED if broken else 0


class _StopFlag:
    """Ctrl-C ends the wait between cycles cleanly (a cycle in progress finishes)."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, *_: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("stopping after the current cycle (Ctrl-C again to abort)")


def build_unbounded(
    options: PipelineOptions, config: Config, sources: list[FeedSource]
) -> beam.Pipeline:
    """The streaming graph: a clock polls every feed; dedup state lives in the runner."""
    pipeline = beam.Pipeline(options=options)
    feeds = (
        pipeline
        | "PollClock" >> PeriodicImpulse(fire_interval=config.poll_interval_s)
        | "FeedList" >> beam.FlatMap(lambda _tick, feeds: feeds, feeds=sources)
    )
    wiring.build(feeds, config, new_run_id(), seen_path=None)
    return pipeline


def _run_unbounded(options: PipelineOptions, config: Config, sources: list[FeedSource]) -> int:
    result = build_unbounded(options, config, sources).run()
    if config.duration_s:
        result.wait_until_finish(duration=int(config.duration_s * 1000))
        result.cancel()
    else:
        result.wait_until_finish()
    return 0
