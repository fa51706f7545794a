"""`newsbeam bq-create-tables`: the dataset, the three tables and the day-one views.

`newsbeam run --sink bigquery` calls the same code before it starts the pipeline, so
tables are never created by workers. Honours BIGQUERY_EMULATOR_HOST.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from transforms.core.bigquery import (
    Tables,
    create_views,
    emulator_endpoint,
    ensure_tables,
    make_client,
)

VIEWS_SQL = Path(__file__).resolve().parents[1] / "deploy" / "bigquery" / "views.sql"


def create_tables(spec: str, location: str | None = None) -> list[str]:
    """Creates what is missing of dataset, tables and views; returns the tables created."""
    tables = Tables.parse(spec)
    client = make_client(tables.project, emulator_endpoint())
    created = ensure_tables(client, tables, location)
    create_views(client, tables, VIEWS_SQL.read_text(encoding="utf-8"))
    return created


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam bq-create-tables",
        description="Create the BigQuery dataset, tables and views newsbeam writes to.",
    )
    parser.add_argument("--bq_table", required=True, help="Articles table PROJECT:DATASET.TABLE")
    parser.add_argument("--location", default=None, help="Dataset location if it is created")
    args = parser.parse_args(argv)
    for table in create_tables(args.bq_table, args.location):
        print(f"created {table}")
    print(f"views of {args.bq_table}: _latest, _entity_mentions, _daily_counts")
    return 0
