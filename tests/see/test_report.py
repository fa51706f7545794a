"""newsbeam report: the page's content, and the page rendered in a real headless browser."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.report import co_mention_network, main, render_report, republication_graph
from tests.see.conftest import sample_articles, write_records

# Screenshots land here (gitignored) for a human to look at.
ARTIFACTS = Path(
    os.environ.get("NEWSBEAM_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)
CHART_IDS = [
    "chart-over_time",
    "chart-languages",
    "chart-co_mentions",
    "chart-republication",
    "chart-dead_letters",
    "chart-entities-LOC",
    "chart-entities-ORG",
    "chart-entities-PER",
]


def test_page_has_every_chart_and_table(output: Path) -> None:
    page = render_report(output)
    for chart in CHART_IDS:
        assert f'id="{chart}"' in page
    assert "Second" in page
    assert "Без даты" in page
    assert "http_404" in page
    # Self-contained: plotly.js inline (the browser test checks nothing is fetched).
    assert "<script src" not in page


def test_text_from_records_is_escaped(output: Path) -> None:
    hostile = dataclasses.replace(sample_articles()[0], title="<script>alert(1)</script>")
    write_records(output, "articles", [hostile], run_id="20261121T000000Z-def456")
    page = render_report(output)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_empty_output_says_so(tmp_path: Path) -> None:
    page = render_report(tmp_path)
    assert "No articles." in page
    assert "No duplicates." in page
    assert "No dead letters." in page
    assert 'id="chart-' not in page


def test_graphs_need_edges() -> None:
    assert co_mention_network([("A", "PER", 1)], []) is None
    assert republication_graph([]) is None
    fig = republication_graph([("Ledger", "Wire", "near", 2), ("Wire", "Wire", "url", 1)])
    assert fig is not None
    hover = [t.hovertext for t in fig.data]
    assert "Ledger → Wire: 2 near" in hover
    assert ["Ledger: copies within the outlet: none", "Wire: copies within the outlet: 1 url"] in [
        list(h) for h in hover if isinstance(h, tuple | list)
    ]


def test_cli_writes_the_page(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--output", str(output)]) == 0
    assert (output / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "report written to" in capsys.readouterr().out


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed and `make test` could not install it")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # No sandbox: the tests may run as root (CI containers), where chromium refuses it.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_report_renders_in_a_browser(output: Path, tmp_path: Path, browser: Any) -> None:
    html = tmp_path / "report.html"
    assert main(["--output", str(output), "--html", str(html)]) == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "request",
        lambda r: None if r.url == html.as_uri() else problems.append(f"request {r.url}"),
    )
    page.goto(html.as_uri())
    page.wait_for_load_state("networkidle")
    assert problems == []
    # Plotly drew each chart: every chart div holds its SVG.
    for chart in CHART_IDS:
        assert page.locator(f"#{chart} svg.main-svg").count() > 0, chart
    assert page.locator("table").count() == 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()
