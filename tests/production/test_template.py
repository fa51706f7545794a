"""The Flex Template's parameter validation accepts what the job needs, refuses the rest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from transforms.core.bigquery import Tables

METADATA = Path(__file__).parents[2] / "deploy/dataflow/metadata.json"


def regex(name: str) -> re.Pattern[str]:
    (parameter,) = [p for p in json.loads(METADATA.read_text())["parameters"] if p["name"] == name]
    (pattern,) = parameter["regexes"]
    return re.compile(pattern)


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        ("bq_table", "my-project:news.articles", True),
        ("bq_table", "example.com:my-project:news.articles", True),
        ("bq_table", "my-project.news.articles", False),
        ("bq_table", "news.articles", False),
        ("input_subscription", "projects/p/subscriptions/newsbeam-urls", True),
        ("input_subscription", "projects/p/topics/newsbeam-urls", False),
        ("output_topic", "projects/p/topics/newsbeam-articles", True),
        ("sink", "bigquery", True),
        ("sink", "bq", False),
        ("feeds", "/template/deploy/feeds/default.opml", True),
        ("feeds", "https://example.com/feeds.opml", False),
    ],
)
def test_parameter_regexes(name: str, value: str, valid: bool) -> None:
    assert bool(regex(name).fullmatch(value)) is valid
    if name == "bq_table":  # the template and the pipeline agree
        try:
            Tables.parse(value)
            parsed = True
        except ValueError:
            parsed = False
        assert parsed is valid
