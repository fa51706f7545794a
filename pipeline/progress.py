"""Progress of a local run: a live table per stage on a terminal, log lines otherwise.

What works on the FnApiRunner: `pipeline.run()` blocks until the pipeline is done and
only then returns a result with metrics, so there is no running job to poll. The runner
does get every bundle's counters as the bundle ends (it sums them into the final
result), so `ProgressFnApiRunner` hands them on at that point, together with the name of
the stage about to run. A bounded run's stage usually is one bundle, so counts move
stage by stage (feeds read, then URLs deduplicated, then articles fetched, ...) while
the current stage and the elapsed time tick live.
"""

from __future__ import annotations

import itertools
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TextIO

from apache_beam.metrics.monitoring_infos import consolidate
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners import runner as beam_runner
from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner, RunnerResult
from rich.console import Console
from rich.live import Live
from rich.table import Table

from pipeline.summary import counters_of

LOG_INTERVAL_S = 10.0
# (line shown, counter-name prefix summed for it): in pipeline order.
LINES = (
    ("feeds polled", "feeds.polled"),
    ("entries seen", "entries.seen"),
    ("articles fetched", "articles.fetched"),
    ("articles extracted", "articles.extracted."),
    ("articles written", "written.articles"),
    ("duplicates", "duplicates."),
    ("dead letters", "dead_letter."),
)
_STEP = re.compile(r"AppliedPTransform_([A-Za-z0-9]+)")

log = logging.getLogger("newsbeam.progress")
# The CLI logs warnings only; progress lines are wanted whenever there is no terminal.
log.setLevel(logging.INFO)


def tally(counters: Counter[str]) -> list[tuple[str, int]]:
    """The progress lines' counts from newsbeam's counters."""
    return [
        (line, sum(v for name, v in counters.items() if name.startswith(prefix)))
        for line, prefix in LINES
    ]


def step_of(stage_name: str) -> str:
    """The pipeline steps (e.g. ReadFeeds + FetchArticles) fused into one stage."""
    steps = dict.fromkeys(_STEP.findall(stage_name))
    return " + ".join(steps) or stage_name


def log_line(run_id: str, counts: Iterable[tuple[str, int]], step: str, elapsed_s: float) -> str:
    shown = ", ".join(f"{line} {n}" for line, n in counts)
    return f"run {run_id} {elapsed_s:.0f} s, {step or 'starting'}: {shown}"


class ProgressFnApiRunner(FnApiRunner):
    """The FnApiRunner, telling a listener each stage it starts and its counters so far."""

    def __init__(
        self, on_stage: Callable[[str], None], on_counters: Callable[[Counter[str]], None]
    ) -> None:
        super().__init__()
        self._on_stage = on_stage
        self._on_counters = on_counters
        self._infos: dict[str, Any] = {}

    def _execute_bundle(
        self, runner_execution_context: Any, bundle_context_manager: Any, bundle_input: Any
    ) -> Any:
        stage = bundle_context_manager.stage.name
        self._on_stage("running " + step_of(stage))
        response = super()._execute_bundle(
            runner_execution_context, bundle_context_manager, bundle_input
        )
        # The same sum the runner makes for its final result, over the bundles so far.
        done = response.process_bundle.monitoring_infos
        self._infos[stage] = list(consolidate(itertools.chain(done, self._infos.get(stage, []))))
        self._on_counters(counters_of(RunnerResult(beam_runner.PipelineState.RUNNING, self._infos)))
        return response


class Progress:
    """Shows one run's progress while `with progress:` runs the pipeline."""

    def __init__(self, run_id: str, stream: TextIO | None = None) -> None:
        self.run_id = run_id
        self._stream = stream or sys.stderr
        self._live_display = self._stream.isatty()
        self._counters: Counter[str] = Counter()
        self._step = ""
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._live: Live | None = None
        self._ticker: threading.Thread | None = None

    def runner(self, options: PipelineOptions) -> FnApiRunner | None:
        """The runner to use: ours for the FnApiRunner, else None (Beam's choice)."""
        if options.view_as(StandardOptions).runner != "FnApiRunner":
            return None
        return ProgressFnApiRunner(self._set_step, self._set_counters)

    # Called from the runner's thread; the live display redraws on its own clock.
    def _set_step(self, step: str) -> None:
        self._step = step

    def _set_counters(self, counters: Counter[str]) -> None:
        self._counters = counters

    def table(self) -> Table:
        elapsed = time.monotonic() - self._started
        table = Table(
            title=f"newsbeam run  {elapsed:.0f} s",
            title_justify="left",
            caption_justify="left",
            min_width=64,  # room for the fused stage names in the caption
        )
        table.add_column("stage")
        table.add_column("count", justify="right")
        for line, n in tally(self._counters):
            table.add_row(line, str(n))
        table.caption = self._step or "starting"
        return table

    def line(self) -> str:
        return log_line(
            self.run_id, tally(self._counters), self._step, time.monotonic() - self._started
        )

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if self._live_display:
            self._live = Live(
                self.table(),
                console=Console(file=self._stream),
                refresh_per_second=4,
                get_renderable=self.table,
            )
            self._live.start()
        else:
            self._ticker = threading.Thread(target=self._log_periodically, daemon=True)
            self._ticker.start()
        return self

    def _log_periodically(self) -> None:
        while not self._stop.wait(LOG_INTERVAL_S):
            log.info(self.line())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._step = "done" if exc is None else "failed"
        if self._live is not None:
            self._live.stop()
        else:
            log.info(self.line())
