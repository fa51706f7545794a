"""Pipeline options (what users type) and the frozen config the transforms receive."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline import USER_AGENT
from transforms.core.bigquery import Tables
from transforms.core.politeness import PacingPolicy
from transforms.core.polling import SchedulePolicy

SINKS = ("files", "bigquery")


class NewsbeamOptions(PipelineOptions):
    """newsbeam's own options; every other flag is a Beam pipeline option."""

    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--feeds", help="Feed list: plain URLs, OPML or YAML.")
        parser.add_argument("--output", help="Output directory (local sink).")
        parser.add_argument(
            "--once",
            action="store_true",
            default=False,
            help="Poll every feed once, process everything, finish (the default mode).",
        )
        parser.add_argument(
            "--allow_address",
            default="",
            help="Comma-separated IP, IP:PORT or CIDR entries the fetcher may reach although "
            "they are loopback/private (for local test servers).",
        )
        parser.add_argument(
            "--poll_interval",
            type=float,
            default=None,
            help="Poll every feed at this fixed interval (s) instead of the adaptive "
            "per-feed schedule (for demos and tests; 0 polls on every run).",
        )
        parser.add_argument(
            "--min_poll_interval",
            type=float,
            default=600.0,
            help="Adaptive schedule floor (s) for feeds that answer conditional requests "
            "(feeds without ETag/Last-Modified are polled at most hourly).",
        )
        parser.add_argument(
            "--max_poll_interval",
            type=float,
            default=86400.0,
            help="Adaptive schedule ceiling (s): even a dormant feed is polled this often.",
        )
        parser.add_argument(
            "--host_delay",
            type=float,
            default=1.0,
            help="Minimum seconds between two requests to one host (robots.txt "
            "Crawl-delay raises it, up to --max_crawl_delay).",
        )
        parser.add_argument(
            "--max_crawl_delay",
            type=float,
            default=30.0,
            help="Cap on the Crawl-delay honoured from robots.txt (s).",
        )
        parser.add_argument(
            "--duration",
            type=float,
            default=0.0,
            help="Streaming: stop cleanly after this many seconds (0: run until Ctrl-C).",
        )
        parser.add_argument(
            "--fetch_timeout", type=float, default=20.0, help="Wall-clock limit per request (s)."
        )
        parser.add_argument(
            "--extraction_timeout",
            type=float,
            default=30.0,
            help="Wall-clock limit on extracting one page (s); the extraction process is "
            "killed and the page dead-lettered as extraction_timeout.",
        )
        parser.add_argument(
            "--max_article_bytes",
            type=int,
            default=5 * 1024 * 1024,
            help="Cap on an article page's decompressed size.",
        )
        parser.add_argument(
            "--max_feed_bytes",
            type=int,
            default=10 * 1024 * 1024,
            help="Cap on a feed document's decompressed size.",
        )
        parser.add_argument(
            "--near_duplicate_distance",
            type=int,
            default=12,
            help="SimHash Hamming distance up to which two texts are near-duplicates.",
        )
        parser.add_argument(
            "--dedup_ttl_days",
            type=float,
            default=30.0,
            help="How long dedup state remembers an article (days).",
        )
        parser.add_argument(
            "--dedup_settle_seconds",
            type=float,
            default=5.0,
            help="Streaming: how long dedup waits for copies arriving together before it "
            "decides which is the original (batch always sees everything first).",
        )
        parser.add_argument(
            "--state_dir",
            default=None,
            help="Where state kept between runs lives (default: OUTPUT/state).",
        )
        parser.add_argument(
            "--ignore_robots",
            action="store_true",
            default=False,
            help="Do not consult robots.txt (only for sites you own).",
        )
        parser.add_argument(
            "--sink",
            choices=SINKS,
            default="files",
            help="files: JSONL under --output; bigquery: the tables of --bq_table.",
        )
        parser.add_argument(
            "--bq_table",
            default=None,
            help="BigQuery articles table PROJECT:DATASET.TABLE (duplicates and dead "
            "letters go to TABLE_duplicates and TABLE_dead_letters).",
        )
        parser.add_argument(
            "--input_topic",
            default=None,
            help="Pub/Sub topic projects/P/topics/T of submitted feed/article URLs.",
        )
        parser.add_argument(
            "--input_subscription",
            default=None,
            help="Pub/Sub subscription projects/P/subscriptions/S of submitted URLs "
            "(preferred to --input_topic: messages published while the job is down wait).",
        )
        parser.add_argument(
            "--output_topic",
            default=None,
            help="Pub/Sub topic projects/P/topics/T each article record is published to.",
        )


@dataclass(frozen=True)
class Config:
    """Everything the transforms need, validated once, picklable."""

    feeds: Path
    output: Path
    streaming: bool
    allow_address: str
    poll_interval_s: float | None
    min_poll_interval_s: float
    max_poll_interval_s: float
    host_delay_s: float
    max_crawl_delay_s: float
    duration_s: float
    fetch_timeout_s: float
    extraction_timeout_s: float
    max_article_bytes: int
    max_feed_bytes: int
    near_duplicate_distance: int
    dedup_ttl_s: float
    dedup_settle_s: float
    obey_robots: bool
    state_dir: Path
    user_agent: str = USER_AGENT
    sink: str = "files"
    bq_table: str | None = None
    input_topic: str | None = None
    input_subscription: str | None = None
    output_topic: str | None = None

    @classmethod
    def from_options(cls, options: PipelineOptions) -> Config:
        own = options.view_as(NewsbeamOptions)
        if not own.feeds:
            raise ValueError("--feeds is required")
        if not own.output:
            raise ValueError("--output is required")
        streaming = bool(options.view_as(StandardOptions).streaming)
        if streaming and own.once:
            raise ValueError("--once and --streaming exclude each other")
        config = cls(
            feeds=Path(own.feeds),
            output=Path(own.output),
            streaming=streaming,
            allow_address=own.allow_address or "",
            poll_interval_s=own.poll_interval,
            min_poll_interval_s=own.min_poll_interval,
            max_poll_interval_s=own.max_poll_interval,
            host_delay_s=own.host_delay,
            max_crawl_delay_s=own.max_crawl_delay,
            duration_s=own.duration,
            fetch_timeout_s=own.fetch_timeout,
            extraction_timeout_s=own.extraction_timeout,
            max_article_bytes=own.max_article_bytes,
            max_feed_bytes=own.max_feed_bytes,
            near_duplicate_distance=own.near_duplicate_distance,
            dedup_ttl_s=own.dedup_ttl_days * 86400,
            dedup_settle_s=own.dedup_settle_seconds,
            obey_robots=not own.ignore_robots,
            state_dir=Path(own.state_dir) if own.state_dir else Path(own.output) / "state",
            sink=own.sink,
            bq_table=own.bq_table,
            input_topic=own.input_topic,
            input_subscription=own.input_subscription,
            output_topic=own.output_topic,
        )
        config.validate()
        return config

    @property
    def schedule(self) -> SchedulePolicy:
        floor, ceiling = self.min_poll_interval_s, self.max_poll_interval_s
        hourly = min(max(3600.0, floor), ceiling)
        return SchedulePolicy(
            floor_s=floor,
            floor_unconditional_s=hourly,
            ceiling_s=ceiling,
            initial_s=hourly,
            fixed_interval_s=self.poll_interval_s,
        )

    @property
    def pacing(self) -> PacingPolicy:
        return PacingPolicy(min_delay_s=self.host_delay_s, max_crawl_delay_s=self.max_crawl_delay_s)

    def validate(self) -> None:
        if not 0 <= self.near_duplicate_distance <= 32:
            raise ValueError("--near_duplicate_distance must be within 0..32")
        if self.poll_interval_s is not None and self.poll_interval_s < 0:
            raise ValueError("--poll_interval must be >= 0")
        if not 0 < self.min_poll_interval_s <= self.max_poll_interval_s:
            raise ValueError("need 0 < --min_poll_interval <= --max_poll_interval")
        if self.host_delay_s < 0 or self.max_crawl_delay_s < 0:
            raise ValueError("--host_delay and --max_crawl_delay must be >= 0")
        for name in ("fetch_timeout_s", "extraction_timeout_s", "dedup_ttl_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_article_bytes < 1024 or self.max_feed_bytes < 1024:
            raise ValueError("byte caps must be at least 1 KiB")
        if self.sink == "bigquery":
            Tables.parse(self.bq_table or "")
        if self.input_topic and self.input_subscription:
            raise ValueError("--input_topic and --input_subscription exclude each other")
