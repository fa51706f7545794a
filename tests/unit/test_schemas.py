"""The record types and the BigQuery schemas beside them must describe the same fields."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from schemas import TABLES, table_schema
from schemas.records import Article, DeadLetter, Duplicate, Entity

RECORDS = {"article": Article, "duplicate": Duplicate, "dead_letter": DeadLetter}
TIMESTAMP_FIELDS = {"published_at", "fetched_at", "detected_at", "at", "modified_at"}
JSON_FIELDS = {"feed_meta", "spans", "detail"}


def expected_bq(name: str, annotation: object) -> tuple[str, str]:
    """(type, mode) a Python annotation maps to."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    nullable = origin in (typing.Union, type(int | None)) and type(None) in args
    if nullable:
        (annotation,) = [a for a in args if a is not type(None)]
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if name in JSON_FIELDS:
        return "JSON", "NULLABLE" if nullable or name != "spans" else "REQUIRED"
    if origin is tuple:
        inner = expected_bq(name, args[0])[0]
        return inner, "REPEATED"
    if name in TIMESTAMP_FIELDS:
        bq = "TIMESTAMP"
    elif annotation is Entity:
        bq = "RECORD"
    else:
        bq = {str: "STRING", int: "INT64", float: "FLOAT64", bool: "BOOL"}.get(annotation, "?")  # type: ignore[call-overload]
        if origin is typing.Literal:
            bq = "STRING"
    return bq, "NULLABLE" if nullable else "REQUIRED"


def check_fields(record_type: type, fields: list[dict[str, typing.Any]]) -> None:
    hints = typing.get_type_hints(record_type)
    names = [f.name for f in dataclasses.fields(record_type)]
    assert [f["name"] for f in fields] == names, "schema field order/names differ"
    for field in fields:
        bq_type, mode = expected_bq(field["name"], hints[field["name"]])
        if field["name"] == "feed_meta" or field["name"] == "detail":
            mode = "NULLABLE"
        assert (field["type"], field["mode"]) == (bq_type, mode), field["name"]
        if bq_type == "RECORD":
            check_fields(Entity, field["fields"])


@pytest.mark.parametrize("table", TABLES)
def test_schema_matches_record_type(table: str) -> None:
    check_fields(RECORDS[table], table_schema(table)["fields"])


@pytest.mark.parametrize("table", TABLES)
def test_every_field_is_described(table: str) -> None:
    for field in table_schema(table)["fields"]:
        assert field["type"] and field["mode"] in ("NULLABLE", "REQUIRED", "REPEATED")


def test_unknown_table_is_refused() -> None:
    with pytest.raises(KeyError):
        table_schema("nope")
