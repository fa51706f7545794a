"""Progress of a run: the counts shown, and the FnApiRunner reporting stage by stage."""

from __future__ import annotations

import io
import logging
from collections import Counter

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.progress import Progress, ProgressFnApiRunner, log_line, step_of, tally
from pipeline.summary import counters_of
from transforms.common import counter


def test_tally_sums_each_lines_counters() -> None:
    counts = dict(
        tally(
            Counter(
                {
                    "feeds.polled": 3,
                    "articles.extracted.trafilatura": 4,
                    "articles.extracted.feed_summary": 1,
                    "dead_letter.entry.fetch.http_404": 2,
                    "dead_letter.feed.read_feeds.timeout": 1,
                    "written.articles": 5,
                }
            )
        )
    )
    assert counts["feeds polled"] == 3
    assert counts["articles extracted"] == 5
    assert counts["dead letters"] == 3
    assert counts["articles fetched"] == 0


def test_step_of_a_fused_stage() -> None:
    name = (
        "((ReadFeeds/Read)+(ref_AppliedPTransform_ReadFeeds-Parse_12))"
        "+(ref_AppliedPTransform_FetchArticles-Fetch_20)+(ref_AppliedPTransform_ReadFeeds-X_13)"
    )
    assert step_of(name) == "ReadFeeds + FetchArticles"
    assert step_of("odd") == "odd"


def test_log_line() -> None:
    line = log_line("r1", [("feeds polled", 2), ("dead letters", 0)], "running ReadFeeds", 12.4)
    assert line == "run r1 12 s, running ReadFeeds: feeds polled 2, dead letters 0"


def _count(element: int) -> int:
    counter("feeds.polled").inc()
    return element


def test_runner_reports_stages_and_counters_as_they_end() -> None:
    steps: list[str] = []
    seen: list[Counter[str]] = []
    runner = ProgressFnApiRunner(steps.append, seen.append)
    with beam.Pipeline(runner=runner) as pipeline:
        (
            pipeline
            | "Numbers" >> beam.Create([1, 2, 3])
            | "Count" >> beam.Map(_count)
            | "Group" >> beam.GroupBy(lambda n: n % 2)
            | "Sizes" >> beam.Map(lambda kv: len(kv[1]))
        )
    result = pipeline.result
    assert any("Count" in step for step in steps)
    assert any("Sizes" in step for step in steps)
    # One update per bundle; counts arrive before the run ends, and the last ones
    # equal the final result's.
    assert len(seen) == len(steps)
    assert next(i for i, c in enumerate(seen) if c["feeds.polled"] == 3) < len(seen) - 1
    assert seen[-1] == counters_of(result)
    assert seen[-1]["feeds.polled"] == 3


def test_without_a_terminal_progress_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()  # not a TTY
    progress = Progress("r1", stream=stream)
    runner = progress.runner(PipelineOptions(["--runner=FnApiRunner"]))
    assert isinstance(runner, ProgressFnApiRunner)
    with (
        caplog.at_level(logging.INFO, logger="newsbeam.progress"),
        progress,
        beam.Pipeline(runner=runner) as pipeline,
    ):
        pipeline | beam.Create([1, 2]) | beam.Map(_count)
    assert caplog.messages[-1].startswith("run r1 ")
    assert caplog.messages[-1].endswith(
        "done: feeds polled 2, entries seen 0, articles fetched 0, articles extracted 0, "
        "articles written 0, duplicates 0, dead letters 0"
    )
    assert stream.getvalue() == ""


def test_on_a_terminal_a_live_table_is_drawn() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress("r1", stream=stream)
    runner = progress.runner(PipelineOptions(["--runner=FnApiRunner"]))
    with progress, beam.Pipeline(runner=runner) as pipeline:
        pipeline | beam.Create(range(7)) | beam.Map(_count)
    drawn = stream.getvalue()
    assert "feeds polled" in drawn
    assert "7" in drawn
    assert "done" in drawn


def test_other_runners_are_left_to_beam() -> None:
    options = PipelineOptions(["--runner=DataflowRunner"])
    assert Progress("r1").runner(options) is None
