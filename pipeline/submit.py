"""`newsbeam submit`: publish article (or feed) URLs for a running job to pick up.

Uses google-cloud-pubsub, which honours PUBSUB_EMULATOR_HOST like BigQuery's client
honours BIGQUERY_EMULATOR_HOST.
"""

from __future__ import annotations

import argparse
import sys

from transforms.core.pubsub import SubmissionError, SubmissionKind, submission_message

PUBLISH_TIMEOUT_S = 60.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam submit", description="Publish URLs to the job's input topic."
    )
    parser.add_argument("--topic", required=True, help="projects/PROJECT/topics/TOPIC")
    parser.add_argument(
        "--feed", action="store_true", help="The URLs are feeds (polled) rather than articles."
    )
    parser.add_argument("--source", default=None, help="Source name for the records.")
    parser.add_argument("urls", nargs="+", metavar="URL")
    args = parser.parse_args(argv)
    kind: SubmissionKind = "feed" if args.feed else "article"
    try:
        # Every URL is checked before anything is published.
        messages = [submission_message(url, kind, args.source) for url in args.urls]
    except SubmissionError as error:
        print(f"newsbeam submit: {error} ({error.reason})", file=sys.stderr)
        return 2

    from google.cloud.pubsub_v1 import PublisherClient

    publisher = PublisherClient()
    futures = [publisher.publish(args.topic, data, **attrs) for data, attrs in messages]
    for url, future in zip(args.urls, futures, strict=True):
        print(f"{future.result(timeout=PUBLISH_TIMEOUT_S)} {url.strip()}")
    return 0
