"""Flex Template entry point: build the streaming job from the template's parameters and submit it.

The launcher passes parameters as `--name=value`; the job is submitted and this process
ends (a Flex Template launcher must not wait for a streaming job to finish).
"""

from __future__ import annotations

import logging
import sys

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline.bigquery_setup import create_tables
from pipeline.options import Config
from pipeline.run import build_unbounded
from transforms.core.feeds import load_feed_list


def main(argv: list[str]) -> None:
    options = PipelineOptions(argv)
    options.view_as(StandardOptions).streaming = True
    config = Config.from_options(options)
    if config.sink == "bigquery":
        create_tables(config.bq_table or "")
    build_unbounded(options, config, load_feed_list(config.feeds)).run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main(sys.argv[1:])
