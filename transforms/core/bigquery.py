"""BigQuery for newsbeam, without Beam: table names, row encoding, clients, tables.

One articles table names the dataset; the other record types live beside it
(`TABLE_duplicates`, `TABLE_dead_letters`). Rows BigQuery rejects become dead letters
(stage `bigquery`) holding the row, the error and the time.

Like Google's client libraries, everything here honours `BIGQUERY_EMULATOR_HOST`
(`host:port` or a URL): the clients then talk to that endpoint with anonymous
credentials, so local runs and tests use the production code path against an emulator.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from schemas import table_schema
from schemas.records import DeadLetter
from transforms.core.sanitize import MAX_ERROR_CHARS, safe_message

EMULATOR_ENV: Final = "BIGQUERY_EMULATOR_HOST"
ARTICLES: Final = "articles"
DUPLICATES: Final = "duplicates"
DEAD_LETTERS: Final = "dead_letters"
KINDS: Final = (ARTICLES, DUPLICATES, DEAD_LETTERS)
SCHEMA_OF: Final = {ARTICLES: "article", DUPLICATES: "duplicate", DEAD_LETTERS: "dead_letter"}
STAGE: Final = "bigquery"
# A dead letter keeps at most this much of a rejected row (as JSON text), so that the
# dead letter of a row rejected for its size is not rejected in turn.
MAX_REJECTED_ROW_CHARS: Final = 100_000

# Partitioning (by day of a timestamp) and clustering of each table: queries filter on
# the publish date and group by source and language.
PARTITION_FIELD: Final = {ARTICLES: "published_at", DUPLICATES: "detected_at", DEAD_LETTERS: "at"}
CLUSTER_FIELDS: Final = {
    ARTICLES: ("source", "language"),
    DUPLICATES: ("source", "kind"),
    DEAD_LETTERS: ("stage", "reason"),
}

_TABLE_SPEC = re.compile(
    r"^(?P<project>(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9])"
    r":(?P<dataset>\w{1,1024})\.(?P<table>[\w-]{1,1024})$"
)


@dataclass(frozen=True)
class Tables:
    """The three tables of one deployment, from the articles table `PROJECT:DATASET.TABLE`."""

    project: str
    dataset: str
    articles_table: str

    @classmethod
    def parse(cls, spec: str) -> Tables:
        match = _TABLE_SPEC.match(spec.strip())
        if not match:
            raise ValueError(f"--bq_table must be PROJECT:DATASET.TABLE, got {spec!r}")
        return cls(match["project"], match["dataset"], match["table"])

    def table_id(self, kind: str) -> str:
        """The bare table name of one record kind."""
        if kind == ARTICLES:
            return self.articles_table
        if kind not in KINDS:
            raise KeyError(kind)
        return f"{self.articles_table}_{kind}"

    def spec(self, kind: str) -> str:
        """`PROJECT:DATASET.TABLE`, as Beam's WriteToBigQuery takes it."""
        return f"{self.project}:{self.dataset}.{self.table_id(kind)}"

    def qualified(self, kind: str) -> str:
        """`PROJECT.DATASET.TABLE`, as SQL and the client library take it."""
        return f"{self.project}.{self.dataset}.{self.table_id(kind)}"


def _json_paths(fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """{name: True} for JSON columns, {name: {...}} for records containing some."""
    paths: dict[str, Any] = {}
    for field in fields:
        if field["type"] == "JSON":
            paths[field["name"]] = True
        elif field["type"] == "RECORD":
            inner = _json_paths(field["fields"])
            if inner:
                paths[field["name"]] = inner
    return paths


JSON_COLUMNS: Final = {kind: _json_paths(table_schema(SCHEMA_OF[kind])["fields"]) for kind in KINDS}


def _encode(row: Mapping[str, Any], paths: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name, inner in paths.items():
        value = out.get(name)
        if value is None:
            continue
        if inner is True:
            out[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(value, list):
            out[name] = [_encode(item, inner) for item in value]
        else:
            out[name] = _encode(value, inner)
    return out


def to_bq_row(row: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """A record's `to_row()` as the streaming insert API takes it.

    BigQuery's insertAll takes a JSON column's value as a string of JSON text, not as
    a nested object, so every JSON column (also inside repeated records) is serialised.
    """
    return _encode(row, JSON_COLUMNS[kind])


def rejection_reason(errors: Sequence[Mapping[str, Any]] | str) -> str:
    """`bigquery_<reason>` from BigQuery's per-row errors (a string: Beam's own limit)."""
    if isinstance(errors, str):
        return "bigquery_row_too_large"
    reasons = [str(e.get("reason") or "") for e in errors]
    first = next((r for r in reasons if r and r != "stopped"), reasons[0] if reasons else "")
    return "bigquery_" + (re.sub(r"\W+", "_", first.lower()).strip("_") or "unknown")


def rejected_row_dead_letter(
    destination: str, row: Mapping[str, Any], errors: Sequence[Mapping[str, Any]] | str, at: str
) -> DeadLetter:
    """A row BigQuery rejected (after bounded retries of transient errors), as a dead letter.

    `detail` keeps the destination table, the errors and the row as JSON text (capped,
    `row_truncated` says so), enough to repair and re-insert it.
    """
    if isinstance(errors, str):
        messages = errors
        error_list: list[Any] = [{"reason": "row_too_large", "message": errors}]
    else:
        error_list = [dict(e) for e in errors]
        messages = "; ".join(
            f"{e.get('location') or '-'}: {e.get('message') or e.get('reason')}" for e in errors
        )
    row_json = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)
    return DeadLetter(
        stage=STAGE,
        url=str(row.get("url") or ""),
        feed_url=str(row.get("feed_url") or ""),
        reason=rejection_reason(errors),
        error=safe_message(messages, MAX_ERROR_CHARS),
        at=at,
        subject="feed" if row.get("subject") == "feed" else "entry",
        detail={
            "table": destination,
            "errors": error_list,
            "row": row_json[:MAX_REJECTED_ROW_CHARS],
            "row_truncated": len(row_json) > MAX_REJECTED_ROW_CHARS,
        },
    )


def emulator_endpoint(environ: Mapping[str, str] | None = None) -> str | None:
    """The emulator's base URL from `BIGQUERY_EMULATOR_HOST`, or None for real BigQuery."""
    host = (os.environ if environ is None else environ).get(EMULATOR_ENV, "").strip()
    if not host:
        return None
    return host if "://" in host else f"http://{host}"


def make_client(project: str, endpoint: str | None = None) -> Any:
    """A google-cloud-bigquery Client: the emulator's (anonymous) or Application Default."""
    from google.cloud import bigquery

    if endpoint is None:
        return bigquery.Client(project=project)
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return bigquery.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )


def table_definition(tables: Tables, kind: str) -> Any:
    """The `bigquery.Table` of one kind: schema from `schemas/`, partitioned, clustered."""
    from google.cloud import bigquery

    schema = table_schema(SCHEMA_OF[kind])["fields"]
    table = bigquery.Table(
        tables.qualified(kind), schema=[bigquery.SchemaField.from_api_repr(f) for f in schema]
    )
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field=PARTITION_FIELD[kind]
    )
    table.clustering_fields = list(CLUSTER_FIELDS[kind])
    return table


def ensure_tables(client: Any, tables: Tables, location: str | None = None) -> list[str]:
    """Creates the dataset and whichever of the three tables are missing; returns those."""
    from google.api_core.exceptions import Conflict
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{tables.project}.{tables.dataset}")
    if location:
        dataset.location = location
    client.create_dataset(dataset, exists_ok=True)
    created: list[str] = []
    for kind in KINDS:
        try:
            client.create_table(table_definition(tables, kind))
        except Conflict:
            continue
        created.append(tables.qualified(kind))
    return created


def view_statements(sql: str, tables: Tables) -> list[str]:
    """The `CREATE VIEW` statements of deploy/bigquery/views.sql for these tables."""
    text = string.Template(sql).substitute(
        project=tables.project, dataset=tables.dataset, articles=tables.articles_table
    )
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def create_views(client: Any, tables: Tables, sql: str) -> list[str]:
    """Creates (or replaces) the day-one views; returns the statements run."""
    statements = view_statements(sql, tables)
    for statement in statements:
        client.query(statement).result()
    return statements
