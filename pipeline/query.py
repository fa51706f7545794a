"""`newsbeam query`: SQL (DuckDB) over a run's output directory.

The JSONL files become views: `articles`, `duplicates`, `dead_letters`, and `entities`
(one row per entity of an article). Column types come from the BigQuery schemas in
`schemas/`, so a query means the same here as on BigQuery and an output directory with
no files yet still has (empty) tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import duckdb

from schemas import table_schema
from transforms.sink import ARTICLES, DEAD_LETTERS, DUPLICATES

ENTITIES = "entities"
TABLES = (ARTICLES, DUPLICATES, DEAD_LETTERS, ENTITIES)
FORMATS = ("table", "csv", "json")
_SCHEMA_OF = {ARTICLES: "article", DUPLICATES: "duplicate", DEAD_LETTERS: "dead_letter"}
_SCALAR_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "JSON": "JSON",
}
# Files are named RUN_ID-SHARD...jsonl by the sink; RUN_ID as made by pipeline.run.
_RUN_ID_PATTERN = r"(\d{8}T\d{6}Z-[0-9a-f]{6})"


class QueryError(Exception):
    """A query the user can fix: bad SQL, no such output directory."""


def duckdb_type(field: dict[str, Any]) -> str:
    """A BigQuery schema field as a DuckDB column type."""
    if field["type"] == "RECORD":
        members = ", ".join(f'"{f["name"]}" {duckdb_type(f)}' for f in field["fields"])
        base = f"STRUCT({members})"
    else:
        base = _SCALAR_TYPES[field["type"]]
    return f"{base}[]" if field.get("mode") == "REPEATED" else base


def columns_of(kind: str) -> dict[str, str]:
    return {f["name"]: duckdb_type(f) for f in table_schema(_SCHEMA_OF[kind])["fields"]}


def connect(output: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the output directory's records as views."""
    if not output.is_dir():
        raise QueryError(f"no output directory {output}")
    con = duckdb.connect()
    # Timestamps are UTC in the records; show them so, whatever the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    for kind in (ARTICLES, DUPLICATES, DEAD_LETTERS):
        con.execute(f"CREATE VIEW raw_{kind} AS {_read_sql(output / kind, columns_of(kind))}")
    # An article is keyed by article_id: two runs with fresh state (e.g. `newsbeam demo`
    # twice) may both have written it; the latest fetch stands.
    con.execute(
        f"""
        CREATE VIEW {ARTICLES} AS
        SELECT * EXCLUDE (filename),
               regexp_extract(filename, '{_RUN_ID_PATTERN}', 1) AS run_id,
               -- the date as the publisher states it, in its own zone when known
               coalesce(TRY_CAST(left(published_at_local, 10) AS DATE),
                        CAST(published_at AS DATE)) AS published_date
        FROM raw_{ARTICLES}
        QUALIFY row_number() OVER (
            PARTITION BY article_id ORDER BY fetched_at DESC, filename DESC) = 1
        """
    )
    for kind in (DUPLICATES, DEAD_LETTERS):
        con.execute(
            f"""
            CREATE VIEW {kind} AS
            SELECT * EXCLUDE (filename),
                   regexp_extract(filename, '{_RUN_ID_PATTERN}', 1) AS run_id
            FROM raw_{kind}
            """
        )
    con.execute(
        f"""
        CREATE VIEW {ENTITIES} AS
        SELECT article_id, source, language, published_at, published_date,
               e.canonical, e.label, e.text, e.count, e.spans
        FROM {ARTICLES}, unnest(entities) AS u(e)
        """
    )
    return con


def _read_sql(folder: Path, columns: dict[str, str]) -> str:
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        typed = ", ".join(f'NULL::{t} AS "{name}"' for name, t in columns.items())
        return f"SELECT {typed}, NULL::VARCHAR AS filename WHERE false"
    paths = ", ".join(_quote(str(p)) for p in files)
    spec = ", ".join(f"{_quote(name)}: {_quote(t)}" for name, t in columns.items())
    return (
        f"SELECT * FROM read_json([{paths}], format = 'newline_delimited', "
        f"columns = {{{spec}}}, filename = true)"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
    try:
        relation = con.sql(sql)
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from exc
    if relation is None:
        raise QueryError("the statement returns no rows (use SELECT)")
    return relation


def plain(value: Any) -> Any:
    """A value as JSON/CSV can hold it (timestamps in ISO 8601, nested data as JSON)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.loads(json.dumps(value, default=plain))
    return value


def write_csv(relation: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(relation.columns)
    for row in relation.fetchall():
        writer.writerow(_cell(plain(v)) for v in row)


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def write_json(relation: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    # DuckDB hands JSON columns over as text; nest them as JSON here.
    is_json = [str(t) == "JSON" for t in relation.types]
    rows = [
        {
            name: json.loads(v) if parse and v is not None else plain(v)
            for name, v, parse in zip(relation.columns, row, is_json, strict=True)
        }
        for row in relation.fetchall()
    ]
    json.dump(rows, out, ensure_ascii=False, indent=1)
    out.write("\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam query",
        description=f"SQL over a run's output; tables: {', '.join(TABLES)}.",
    )
    parser.add_argument("--output", required=True, type=Path, help="The run's output directory.")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--max_rows", type=int, default=100, help="Rows shown as a table.")
    parser.add_argument("sql")
    args = parser.parse_args(argv)
    try:
        relation = run_query(connect(args.output), args.sql)
        if args.format == "csv":
            write_csv(relation, sys.stdout)
        elif args.format == "json":
            write_json(relation, sys.stdout)
        else:
            relation.show(max_rows=args.max_rows, max_col_width=60)
    # Errors of the user's SQL may surface only as rows are fetched.
    except (QueryError, duckdb.Error) as exc:
        print(f"newsbeam query: {exc}", file=sys.stderr)
        return 2
    return 0
