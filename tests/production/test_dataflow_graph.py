"""The streaming job for Dataflow is built and serialised with every production option.

DataflowRunner's `--dry_run` translates the pipeline into the Dataflow job request
(pipeline proto, pickled DoFns, all options) and stops before submitting it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apache_beam import Pipeline
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2

from pipeline.options import Config
from pipeline.run import build_unbounded
from transforms.core.bigquery import EMULATOR_ENV
from transforms.core.feeds import load_feed_list

FEEDS = Path(__file__).parents[2] / "deploy/feeds/default.opml"


def dataflow_options(tmp_path: Path, *extra: str) -> PipelineOptions:
    return PipelineOptions(
        [
            "--runner=DataflowRunner",
            "--project=newsbeam-test",
            "--region=europe-west1",
            "--temp_location=gs://newsbeam-test-temp/tmp",
            "--sdk_location=container",
            "--no_auth",
            "--dry_run=True",
            "--streaming",
            f"--feeds={FEEDS}",
            f"--output={tmp_path}",
            *extra,
        ]
    )


def test_streaming_job_builds_for_dataflow_with_bigquery_and_pubsub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)  # the job must hold the real client
    options = dataflow_options(
        tmp_path,
        "--sink=bigquery",
        "--bq_table=newsbeam-test:news.articles",
        "--input_subscription=projects/newsbeam-test/subscriptions/newsbeam-urls",
        "--output_topic=projects/newsbeam-test/topics/newsbeam-articles",
    )
    config = Config.from_options(options)
    pipeline = build_unbounded(options, config, load_feed_list(config.feeds))
    result = pipeline.run()

    assert result.job.proto.type.name == "JOB_TYPE_STREAMING"
    names = {t.unique_name for t in pipeline.to_runner_api().components.transforms.values()}
    for step in (
        "ReadSubmissions/ReadFromPubSub",
        "PolledAndSubmittedFeeds",
        "PolledAndSubmittedEntries",
        "WriteBigQueryTables/WriteArticles",
        "WriteBigQueryTables/WriteRejectedRows",
        "PublishArticles/WriteToPubSub",
    ):
        assert step in names, step
    assert "WriteArticles" not in names  # the file sink is not in the job
    # What a worker does with the job: read the serialised graph back, unpickling
    # every DoFn and its configuration.
    proto = pipeline.to_runner_api()
    restored = Pipeline.from_runner_api(
        beam_runner_api_pb2.Pipeline.FromString(proto.SerializeToString()), None, options
    )
    assert {t.unique_name for t in restored.to_runner_api().components.transforms.values()} == names
