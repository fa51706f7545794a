"""The streaming graph (the one Dataflow runs) is built and serialised, not executed here."""

from __future__ import annotations

from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.options import Config
from pipeline.run import build_unbounded
from schemas.records import FeedSource


def test_unbounded_graph_serialises_with_stable_labels(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("https://feeds.example/rss\n")
    options = PipelineOptions(
        ["--feeds", str(feeds), "--output", str(tmp_path / "out"), "--streaming"]
    )
    config = Config.from_options(options)
    assert config.streaming
    pipeline = build_unbounded(options, config, [FeedSource(url="https://feeds.example/rss")])
    proto = pipeline.to_runner_api()
    labels = {t.unique_name for t in proto.components.transforms.values()}
    for stage in (
        "PollClock", "FeedList", "ReadFeeds", "DeduplicateUrls", "FetchArticles",
        "DeduplicateArticles", "DetectLanguage", "TagEntities", "WriteArticles",
    ):  # fmt: skip
        assert stage in labels
    # Streaming dedup settles on processing time and keeps state for its time-to-live.
    assert "DeduplicateUrls/KeepFirstPerUrl" in labels
    assert "DeduplicateArticles/JudgeInBucket" in labels
