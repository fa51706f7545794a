"""Runs the pipeline: once (batch), or continuously (streaming).

Runner choice: Beam 2.77's DirectRunner first tries to download its Prism runner, which
an offline machine cannot do, so local runs name the FnApiRunner explicitly. The
FnApiRunner runs bounded pipelines only; locally `--streaming` therefore runs a bounded
polling cycle whenever a feed falls due by its schedule (or every `--poll_interval`):
new records are written as each cycle ends, and the feed schedules, validators, robots
cache and seen keys carry over through the state directory. On a runner with
unbounded sources (Dataflow), `--streaming` builds a real streaming pipeline driven by
PeriodicImpulse whose dedup state carries a time-to-live.
"""

from __future__ import annotations

import dataclasses
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
from pipeline.bigquery_setup import create_tables
from pipeline.options import Config
from pipeline.progress import Progress
from pipeline.summary import RunSummary, counters_of, summarize
from schemas.records import FeedSource
from transforms.core.feeds import load_feed_list
from transforms.core.polling import FeedState
from transforms.core.state import SEEN_FILE, commit_updates, load_feed_states, remember

LOCAL_RUNNERS = {"FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner"}
DEFAULT_RUNNER = "FnApiRunner"
STREAMING_TICK_S = 60.0
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
    if config.sink == "bigquery":
        # Tables are made here, by the launcher, so workers never need to create any.
        create_tables(config.bq_table or "")
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
    return config.state_dir / SEEN_FILE


def run_cycle(options: PipelineOptions, config: Config, sources: list[FeedSource]) -> RunSummary:
    """One bounded run over every due feed; saves its state, prints and saves its summary."""
    run_id = new_run_id()
    started = time.monotonic()
    options.view_as(StandardOptions).streaming = False
    progress = Progress(run_id)
    pipeline = beam.Pipeline(runner=progress.runner(options), options=options)
    feeds = wiring.create_feeds(pipeline, sources)
    # Each local cycle is a bounded pipeline, also when the user asked for --streaming.
    bounded = dataclasses.replace(config, streaming=False)
    wiring.build(feeds, bounded, run_id, str(config.state_dir))
    _drop_pending(config.state_dir)  # left by a run that crashed: never trusted
    with progress:
        result = pipeline.run()
        result.wait_until_finish()
    summary = summarize(run_id, counters_of(result), time.monotonic() - started)
    # State is saved only now that the run has succeeded, so a crash re-polls and
    # re-fetches instead of forgetting work that was never written.
    _commit_pending(config, run_id)
    summary.save(config.output)
    print(summary.render(), flush=True)
    return summary


def _commit_pending(config: Config, run_id: str) -> None:
    """Merges the run's state updates and seen keys into the state files."""
    prefix = Path(wiring.pending_prefix(str(config.state_dir), run_id))
    state_paths = sorted(prefix.parent.glob(prefix.name + wiring.STATE_SUFFIX + "*"))
    seen_paths = sorted(prefix.parent.glob(prefix.name + wiring.SEEN_SUFFIX + "*"))
    commit_updates(config.state_dir, _lines(state_paths))
    remember(seen_path(config), _lines(seen_paths), config.dedup_ttl_s)
    for path in (*state_paths, *seen_paths):
        path.unlink()


def _lines(paths: list[Path]) -> list[str]:
    lines: list[str] = []
    for path in paths:
        lines.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line)
    return lines


def _drop_pending(state_dir: Path) -> None:
    for path in (state_dir / "pending").glob("*"):
        path.unlink(missing_ok=True)


def next_wake(config: Config, sources: list[FeedSource], now: float) -> float:
    """When the next feed falls due, from the saved schedule (new feeds: now)."""
    states = load_feed_states(config.state_dir)
    schedule = config.schedule
    times: list[float] = []
    for source in sources:
        state = states.get(source.url) or FeedState.new(source.url)
        if state.status != "active":
            continue
        if schedule.fixed_interval_s is not None and state.failures == 0:
            last = state.last_polled_at
            times.append(now if last is None else last + schedule.fixed_interval_s)
        else:
            times.append(state.next_poll_at)
    return max(min(times, default=now + schedule.ceiling_s), now)


def _run_cycles(options: PipelineOptions, config: Config, sources: list[FeedSource]) -> int:
    """Local streaming: a bounded cycle whenever a feed falls due, until stopped."""
    deadline = time.monotonic() + config.duration_s if config.duration_s else None
    stop = _StopFlag()
    broken = False
    while not stop.requested:
        broken |= not run_cycle(options, config, sources).conserved
        # Sleep until the next feed is due, waking often enough to notice Ctrl-C.
        wake = time.monotonic() + max(next_wake(config, sources, time.time()) - time.time(), 0.5)
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
    # The clock ticks at the fixed interval if one was given, else every minute; on
    # each tick every feed is offered and its stateful schedule decides whether it
    # is due.
    tick = config.poll_interval_s or STREAMING_TICK_S
    feeds = (
        pipeline
        | "PollClock" >> PeriodicImpulse(fire_interval=tick)
        | "FeedList" >> beam.FlatMap(lambda _tick, feeds: feeds, feeds=sources)
    )
    wiring.build(feeds, config, new_run_id(), state_dir=None)
    return pipeline


def _run_unbounded(options: PipelineOptions, config: Config, sources: list[FeedSource]) -> int:
    result = build_unbounded(options, config, sources).run()
    if config.duration_s:
        result.wait_until_finish(duration=int(config.duration_s * 1000))
        result.cancel()
    else:
        result.wait_until_finish()
    return 0
