"""Pipeline options (what users type) and the frozen config the transforms receive."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline import USER_AGENT


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
            default=300.0,
            help="Streaming: seconds between polls of each feed.",
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


@dataclass(frozen=True)
class Config:
    """Everything the transforms need, validated once, picklable."""

    feeds: Path
    output: Path
    streaming: bool
    allow_address: str
    poll_interval_s: float
    duration_s: float
    fetch_timeout_s: float
    max_article_bytes: int
    max_feed_bytes: int
    near_duplicate_distance: int
    dedup_ttl_s: float
    dedup_settle_s: float
    obey_robots: bool
    state_dir: Path
    user_agent: str = USER_AGENT

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
            duration_s=own.duration,
            fetch_timeout_s=own.fetch_timeout,
            max_article_bytes=own.max_article_bytes,
            max_feed_bytes=own.max_feed_bytes,
            near_duplicate_distance=own.near_duplicate_distance,
            dedup_ttl_s=own.dedup_ttl_days * 86400,
            dedup_settle_s=own.dedup_settle_seconds,
            obey_robots=not own.ignore_robots,
            state_dir=Path(own.state_dir) if own.state_dir else Path(own.output) / "state",
        )
        config.validate()
        return config

    def validate(self) -> None:
        if not 0 <= self.near_duplicate_distance <= 32:
            raise ValueError("--near_duplicate_distance must be within 0..32")
        for name in ("poll_interval_s", "fetch_timeout_s", "dedup_ttl_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_article_bytes < 1024 or self.max_feed_bytes < 1024:
            raise ValueError("byte caps must be at least 1 KiB")
