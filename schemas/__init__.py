"""Record types (records.py) and their BigQuery table schemas (*.json beside them)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

TABLES = ("article", "duplicate", "dead_letter")


def table_schema(name: str) -> dict[str, Any]:
    """The BigQuery table schema `{"fields": [...]}` of one record type."""
    if name not in TABLES:
        raise KeyError(f"no schema {name!r}; known: {', '.join(TABLES)}")
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
