"""newsbeam query: the views over an output directory and the three output formats."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from pipeline.query import TABLES, columns_of, connect, duckdb_type, main
from tests.see.conftest import sample_articles, write_records


def test_types_follow_the_bigquery_schema() -> None:
    assert duckdb_type({"type": "TIMESTAMP", "mode": "NULLABLE"}) == "TIMESTAMPTZ"
    assert duckdb_type({"type": "STRING", "mode": "REPEATED"}) == "VARCHAR[]"
    nested = {"type": "RECORD", "mode": "REPEATED", "fields": [{"name": "n", "type": "INT64"}]}
    assert duckdb_type(nested) == 'STRUCT("n" BIGINT)[]'
    assert columns_of("articles")["entities"].startswith('STRUCT("text" VARCHAR')


def test_tables_hold_the_records(output: Path) -> None:
    con = connect(output)
    counts = {t: con.sql(f"SELECT count(*) FROM {t}").fetchone() for t in TABLES}
    assert counts == {"articles": (3,), "duplicates": (1,), "dead_letters": (1,), "entities": (4,)}
    assert con.sql("SELECT DISTINCT run_id FROM articles").fetchall() == [
        ("20261120T000000Z-abc123",)
    ]


def test_entities_one_row_per_entity_of_an_article(output: Path) -> None:
    rows = connect(output).sql(
        "SELECT canonical, count(DISTINCT source) FROM entities GROUP BY ALL ORDER BY ALL"
    )
    assert rows.fetchall() == [("European Union", 1), ("Sergei Lavrov", 2), ("Tbilisi", 1)]


def test_published_date_is_the_publishers_own(output: Path) -> None:
    rows = connect(output).sql("SELECT source, published_date FROM articles ORDER BY source")
    assert rows.fetchall() == [
        ("Ledger", date(2025, 2, 11)),  # 2025-02-10 in UTC
        ("Vestnik", None),
        ("Wire", date(2025, 2, 10)),
    ]


def test_an_article_written_by_two_runs_counts_once(output: Path) -> None:
    again = dataclasses.replace(sample_articles()[0], fetched_at="2026-11-21T00:00:00Z")
    write_records(output, "articles", [again], run_id="20261121T000000Z-def456")
    con = connect(output)
    assert con.sql("SELECT count(*) FROM articles").fetchone() == (3,)
    latest = con.sql("SELECT run_id FROM articles WHERE source = 'Ledger'").fetchone()
    assert latest == ("20261121T000000Z-def456",)


def test_an_output_without_files_has_empty_tables(tmp_path: Path) -> None:
    con = connect(tmp_path)
    for table in TABLES:
        assert con.sql(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    assert "published_date" in con.sql("SELECT * FROM articles").columns


def test_csv_output(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT source, published_at, authors FROM articles ORDER BY source"
    assert main(["--output", str(output), "--format", "csv", sql]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "source,published_at,authors",
        "Ledger,2025-02-10T22:30:00+00:00,[]",
        "Vestnik,,[]",
        "Wire,2025-02-10T09:00:00+00:00,[]",
    ]


def test_json_output_nests_json_columns(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--output", str(output), "--format", "json", "SELECT * FROM dead_letters"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["detail"] == {"title": "Gone"}
    assert row["at"] == "2026-11-20T00:00:02+00:00"


def test_table_output(output: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT language, count(*) AS n FROM articles GROUP BY ALL ORDER BY n DESC"
    assert main(["--output", str(output), sql]) == 0
    out = capfd.readouterr().out
    assert "│ language │" in out
    assert "│ en       │     2 │" in out


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT nope FROM articles", "nope"),
        ("SELEC 1", "syntax error"),
        ("CREATE TABLE t (a INT)", "returns no rows"),
    ],
)
def test_bad_sql_is_reported_not_raised(
    output: Path, sql: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--output", str(output), sql]) == 2
    assert message in capsys.readouterr().err


def test_missing_output_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--output", str(tmp_path / "nothing"), "SELECT 1"]) == 2
    assert "no output directory" in capsys.readouterr().err
