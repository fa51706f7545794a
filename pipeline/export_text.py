"""`newsbeam export-text`: one plain UTF-8 text file per article, for other tools.

Each file is named `NNN_<fingerprint>.txt` (NNN the article's place in publication
order, zero-padded) and holds `date YYYY-MM-DD <title>`, a blank line, then the text.
The date is the one the publisher states, in its own time zone (`published_date` of the
query views); an article without one is dated by its fetch and counted as such.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.query import QueryError, connect

_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
_MIN_DIGITS = 3


@dataclass(frozen=True)
class TextExport:
    files: int
    dated_by_fetch: int


def file_name(index: int, total: int, fingerprint: str) -> str:
    """`NNN_<fingerprint>.txt`, wide enough that names sort in publication order."""
    if not _FINGERPRINT.match(fingerprint):
        raise ValueError(f"not a 16-hex-digit fingerprint: {fingerprint!r}")
    digits = max(_MIN_DIGITS, len(str(total)))
    return f"{index:0{digits}d}_{fingerprint}.txt"


def file_body(published: date, title: str | None, text: str) -> str:
    # A title is one line here, whatever line breaks the page had in it.
    heading = " ".join(f"date {published.isoformat()} {title or ''}".split())
    return f"{heading}\n\n{text.strip()}\n"


def export_text(output: Path, folder: Path) -> TextExport:
    """Writes every article of `output` into `folder`, which must be new or empty."""
    if folder.exists() and any(folder.iterdir()):
        raise QueryError(f"{folder} is not empty; export into a new or empty folder")
    rows = (
        connect(output)
        .sql(
            """
            SELECT fingerprint, published_date, CAST(fetched_at AS DATE), title, text
            FROM articles
            ORDER BY coalesce(published_at, fetched_at), article_id
            """
        )
        .fetchall()
    )
    folder.mkdir(parents=True, exist_ok=True)
    dated_by_fetch = 0
    for index, (fingerprint, published, fetched, title, text) in enumerate(rows, start=1):
        dated_by_fetch += published is None
        body = file_body(published or fetched, title, text)
        (folder / file_name(index, len(rows), fingerprint)).write_text(body, encoding="utf-8")
    return TextExport(files=len(rows), dated_by_fetch=dated_by_fetch)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam export-text", description="One text file per article."
    )
    parser.add_argument("--output", required=True, type=Path, help="The run's output directory.")
    parser.add_argument("--to", required=True, type=Path, help="A new or empty folder.")
    args = parser.parse_args(argv)
    try:
        result = export_text(args.output, args.to)
    except QueryError as exc:
        print(f"newsbeam export-text: {exc}", file=sys.stderr)
        return 2
    print(f"{result.files} articles written to {args.to}")
    if result.dated_by_fetch:
        print(f"{result.dated_by_fetch} had no publication date and are dated by their fetch")
    return 0
