"""WriteBigQueryTables: the production sink, articles, duplicates and dead letters in BigQuery.

Method: streaming inserts (`insertAll`) with Beam's insert IDs, at-least-once. Beam's
Python Storage Write API is a cross-language transform that starts a Java expansion
service (Java plus a jar fetched from Maven at construction time): nothing an offline
machine, the emulator tests or a Python-only Flex Template image can run, while
streaming inserts are native Python and work the same against Dataflow and the
emulator. A retried bundle can therefore insert a row twice (insert IDs deduplicate
only best-effort); readers use the `articles_latest` view (deploy/bigquery/), one row
per `article_id`.

Rows BigQuery rejects (invalid value, missing table, too large, or a transient error
still failing after `max_retries` backed-off retries) become dead letters in the dead
letters table with the row, the errors and the time; if even that insert fails, the
row is logged and counted (`bigquery.lost`), the only place left.
"""

from __future__ import annotations

import logging
from typing import Any

import apache_beam as beam
from apache_beam.io.gcp.bigquery import BigQueryDisposition, WriteToBigQuery
from apache_beam.io.gcp.bigquery_tools import RetryStrategy

from transforms.common import counter
from transforms.core.bigquery import (
    DEAD_LETTERS,
    KINDS,
    Tables,
    emulator_endpoint,
    make_client,
    rejected_row_dead_letter,
    to_bq_row,
)
from transforms.core.elements import utc_now

MAX_RETRIES = 5
log = logging.getLogger(__name__)


class EmulatorInsertClient:
    """The client Beam's streaming-insert writer calls, bound to a BigQuery emulator.

    Beam builds its insert client without an endpoint option (the `test_client` hook is
    its only way in) and would ask for Application Default Credentials. With
    CREATE_NEVER its writer calls nothing but `insert_rows_json`. The real client is
    made on first use on the worker and never pickled.
    """

    def __init__(self, endpoint: str, project: str) -> None:
        self.endpoint = endpoint
        self.project = project
        self._client: Any = None

    def __getstate__(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "project": self.project}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.endpoint = state["endpoint"]
        self.project = state["project"]
        self._client = None

    def insert_rows_json(self, *args: Any, **kwargs: Any) -> Any:
        if self._client is None:
            self._client = make_client(self.project, self.endpoint)
        return self._client.insert_rows_json(*args, **kwargs)


def _row(record: Any, kind: str) -> dict[str, Any]:
    row = record.to_row()
    # The same counters as the file sink: the run summary's conservation check adds them.
    counter(f"written.{kind}.{row['subject']}" if kind == DEAD_LETTERS else f"written.{kind}").inc()
    return to_bq_row(row, kind)


def _rejected(failed: tuple[str, dict[str, Any], Any]) -> dict[str, Any]:
    destination, row, errors = failed
    letter = rejected_row_dead_letter(destination, row, errors, utc_now())
    counter(f"bigquery.rejected.{letter.reason}").inc()
    return to_bq_row(letter.to_row(), DEAD_LETTERS)


class LogLostRowsFn(beam.DoFn):
    """A dead letter of a rejected row that BigQuery rejected too: logged, counted."""

    def process(self, failed: tuple[str, dict[str, Any], Any]) -> None:
        destination, row, errors = failed
        counter("bigquery.lost").inc()
        log.error(
            "BigQuery rejected the dead letter of a rejected row (table %s, url %s): %s",
            destination,
            row.get("url"),
            errors,
        )


class WriteBigQueryTables(beam.PTransform):
    """{articles, duplicates, dead_letters} -> their three tables (created beforehand)."""

    def __init__(self, tables: Tables, max_retries: int = MAX_RETRIES) -> None:
        super().__init__()
        self._tables = tables
        self._max_retries = max_retries
        # Read when the graph is built, as Google's libraries do; workers get the client.
        endpoint = emulator_endpoint()
        self._client = EmulatorInsertClient(endpoint, tables.project) if endpoint else None

    def _write(self, kind: str) -> WriteToBigQuery:
        return WriteToBigQuery(
            self._tables.spec(kind),
            method=WriteToBigQuery.Method.STREAMING_INSERTS,
            # Tables come from `newsbeam bq-create-tables` (which `run` calls) or
            # Terraform: workers never create or alter them.
            create_disposition=BigQueryDisposition.CREATE_NEVER,
            write_disposition=BigQueryDisposition.WRITE_APPEND,
            insert_retry_strategy=RetryStrategy.RETRY_ON_TRANSIENT_ERROR,
            max_retries=self._max_retries,
            test_client=self._client,
        )

    def expand(self, outputs: dict[str, beam.PCollection]) -> beam.PCollection:
        rejected = []
        for kind in KINDS:
            name = kind.title().replace("_", "")
            result = (
                outputs[kind]
                | f"{name}Rows" >> beam.Map(_row, kind)
                | f"Write{name}" >> self._write(kind)
            )
            rejected.append(result.failed_rows_with_errors)
        lost = (
            tuple(rejected)
            | "AllRejectedRows" >> beam.Flatten()
            | "RejectedRowDeadLetters" >> beam.Map(_rejected)
            | "WriteRejectedRows" >> self._write(DEAD_LETTERS)
        ).failed_rows_with_errors
        return lost | "LogLostRows" >> beam.ParDo(LogLostRowsFn())
