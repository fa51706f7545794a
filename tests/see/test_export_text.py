"""newsbeam export-text: names, contents and order of the text files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.export_text import export_text, file_body, file_name, main


def test_file_name_is_index_and_fingerprint() -> None:
    assert file_name(7, 12, "1b84d1ed5e36d170") == "007_1b84d1ed5e36d170.txt"
    # More than 999 articles: wider numbers, so the names still sort in order.
    assert file_name(7, 1200, "1b84d1ed5e36d170") == "0007_1b84d1ed5e36d170.txt"
    with pytest.raises(ValueError, match="fingerprint"):
        file_name(1, 1, "not-hex")


def test_file_body() -> None:
    body = file_body(date(2025, 2, 11), "Talks\n  open", "First.\n\nSecond.\n\n")
    assert body == "date 2025-02-11 Talks open\n\nFirst.\n\nSecond.\n"
    assert file_body(date(2025, 2, 11), None, "x").startswith("date 2025-02-11\n\n")


def test_export_in_publication_order(output: Path, tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    result = export_text(output, folder)
    assert (result.files, result.dated_by_fetch) == (3, 1)
    names = sorted(p.name for p in folder.iterdir())
    # Wire (09:00 UTC) before Ledger (22:30 UTC); the undated one, fetched later, last.
    assert names == [
        "001_00000000000000bb.txt",
        "002_00000000000000aa.txt",
        "003_00000000000000cc.txt",
    ]
    ledger = (folder / names[1]).read_text(encoding="utf-8")
    # The publisher's own date (Tbilisi, +04:00), not the UTC one (2025-02-10).
    assert ledger == "date 2025-02-11 Talks open\n\nTalks in Tbilisi.\n"
    undated = (folder / names[2]).read_bytes().decode("utf-8")
    assert undated == "date 2026-11-20 Без даты\n\nНовости дня.\n"


def test_refuses_a_folder_with_files(
    output: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    assert main(["--output", str(output), "--to", str(folder)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]


def test_cli_reports_counts(
    output: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--output", str(output), "--to", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "3 articles written" in out
    assert "1 had no publication date" in out
