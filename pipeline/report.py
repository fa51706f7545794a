"""`newsbeam report`: one self-contained HTML page with charts and tables of a run's output.

Charts are Plotly figures; plotly.js comes from the pinned `plotly` package and is
inlined once, so the page works offline, from a file, with no CDN, and stays interactive
(hover shows counts and names, zoom, legend toggles). Graph layouts are networkx's. All
numbers come from SQL over the query views (`pipeline.query`), so the page shows exactly
what `newsbeam query` would.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import networkx as nx
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs

from pipeline.query import QueryError, connect

TOP_ENTITIES = 10
NETWORK_ENTITIES = 30
TABLE_ROWS = 500
_PALETTE = qualitative.Safe + qualitative.Vivid
_LABEL_COLOURS = {"PER": "#1f77b4", "ORG": "#d62728", "LOC": "#2ca02c", "NORP": "#9467bd"}
_OTHER_COLOUR = "#8c564b"
_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    total: int


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.sql(sql).fetchall()


def _figure_html(fig: go.Figure, div_id: str, height: int) -> str:
    fig.update_layout(
        template="plotly_white", height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}
    )
    html: str = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=_CONFIG,
        default_height=f"{height}px",
    )
    return html


def articles_over_time(data: Sequence[tuple[Any, str, int]]) -> go.Figure | None:
    """(date, source, articles) -> bars per day, stacked by source."""
    if not data:
        return None
    by_source: dict[str, dict[Any, int]] = defaultdict(dict)
    for day, source, count in data:
        by_source[source][day] = count
    fig = go.Figure(
        [
            go.Bar(x=list(days), y=list(days.values()), name=source, marker_color=_colour(i))
            for i, (source, days) in enumerate(sorted(by_source.items()))
        ]
    )
    fig.update_layout(
        barmode="stack", xaxis={"type": "date", "title": "published (publisher's date)"}
    )
    return fig


def counts_bar(data: Sequence[tuple[str, int]], colour: str, axis: str) -> go.Figure | None:
    """(name, count) -> horizontal bars, largest on top."""
    if not data:
        return None
    names = [name for name, _ in reversed(data)]
    fig = go.Figure(go.Bar(x=[n for _, n in reversed(data)], y=names, orientation="h"))
    fig.update_traces(marker_color=colour)
    fig.update_layout(xaxis=_count_axis(axis, max(n for _, n in data)), yaxis={"automargin": True})
    return fig


def dead_letters_bar(data: Sequence[tuple[str, str, int]]) -> go.Figure | None:
    """(stage/reason, subject, count) -> horizontal bars stacked by subject."""
    if not data:
        return None
    fig = go.Figure()
    for i, subject in enumerate(sorted({s for _, s, _ in data})):
        picked = [(r, n) for r, s, n in data if s == subject]
        fig.add_bar(
            x=[n for _, n in picked],
            y=[r for r, _ in picked],
            orientation="h",
            name=f"whole {subject}" if subject == "feed" else f"one {subject}",
            marker_color=_colour(i + 3),
        )
    largest = max(sum(n for r, _, n in data if r == reason) for reason, _, _ in data)
    fig.update_layout(
        barmode="stack", xaxis=_count_axis("dead letters", largest), yaxis={"automargin": True}
    )
    return fig


def co_mention_network(
    nodes: Sequence[tuple[str, str, int]], edges: Sequence[tuple[str, str, int]]
) -> go.Figure | None:
    """nodes (name, label, articles), edges (name, name, shared articles) -> a graph."""
    if not edges:
        return None
    graph = nx.Graph()
    for name, label, articles in nodes:
        graph.add_node(name, label=label, articles=articles)
    for a, b, shared in edges:
        graph.add_edge(a, b, weight=shared)
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    # ForceAtlas2 with strong gravity keeps unconnected clusters on screen; node sizes
    # keep dots from overlapping.
    pos = nx.forceatlas2_layout(
        graph, seed=0, max_iter=500, strong_gravity=True, weight="weight",
        node_size={n: 0.05 * graph.nodes[n]["articles"] for n in graph},
    )  # fmt: skip
    fig = go.Figure()
    for weight in sorted({w for _, _, w in graph.edges(data="weight")}):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for a, b, w in graph.edges(data="weight"):
            if w == weight:
                xs += [pos[a][0], pos[b][0], None]
                ys += [pos[a][1], pos[b][1], None]
        fig.add_scatter(
            x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
            line={"width": 0.5 + 1.5 * weight, "color": "rgba(120,120,120,0.45)"},
        )  # fmt: skip
    for label in sorted({graph.nodes[n]["label"] for n in graph}):
        names = [n for n in graph if graph.nodes[n]["label"] == label]
        fig.add_scatter(
            x=[pos[n][0] for n in names],
            y=[pos[n][1] for n in names],
            mode="markers+text",
            name=label,
            text=names,
            textposition="top center",
            hovertext=[
                f"{n} ({label}): {graph.nodes[n]['articles']} articles, "
                f"co-mentioned with {graph.degree(n)}"
                for n in names
            ],
            hoverinfo="text",
            marker={
                "size": [8 + 3 * graph.nodes[n]["articles"] for n in names],
                "color": _LABEL_COLOURS.get(label, _OTHER_COLOUR),
                "line": {"width": 1, "color": "white"},
            },
        )
    fig.update_layout(xaxis=_HIDDEN_AXIS, yaxis=_HIDDEN_AXIS)
    return fig


def republication_graph(data: Sequence[tuple[str, str, str, int]]) -> go.Figure | None:
    """(original outlet, copying outlet, kind, count) -> arrows original -> copy."""
    if not data:
        return None
    graph = nx.MultiDiGraph()
    for original, copy, kind, count in data:
        graph.add_edge(original, copy, kind=kind, count=count)
    pos = nx.circular_layout(sorted(graph))
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    within: dict[str, list[str]] = defaultdict(list)
    for original, copy, attrs in graph.edges(data=True):
        note = f"{attrs['count']} {attrs['kind']}"
        (within[original] if original == copy else pairs[(original, copy)]).append(note)
    fig = go.Figure()
    for (original, copy), notes in sorted(pairs.items()):
        (x0, y0), (x1, y1) = pos[original], pos[copy]
        fig.add_annotation(
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=2,
            arrowcolor="rgba(214,39,40,0.6)", standoff=14, startstandoff=14, text="",
        )  # fmt: skip
        fig.add_scatter(
            x=[(x0 + x1) / 2], y=[(y0 + y1) / 2], mode="markers+text", showlegend=False,
            marker={"size": 10, "color": "rgba(214,39,40,0.25)"}, text=", ".join(notes),
            textposition="top center", textfont={"color": "#b22222"},
            hovertext=f"{original} → {copy}: {', '.join(notes)}", hoverinfo="text",
        )  # fmt: skip
    names = sorted(graph)
    fig.add_scatter(
        x=[pos[n][0] for n in names],
        y=[pos[n][1] for n in names],
        mode="markers+text",
        text=names,
        textposition="bottom center",
        showlegend=False,
        hovertext=[
            f"{n}: copies within the outlet: {', '.join(within[n]) or 'none'}" for n in names
        ],
        hoverinfo="text",
        marker={"size": 22, "color": [_colour(i) for i in range(len(names))]},
    )
    # Room around the circle for the outlet names.
    fig.update_layout(
        xaxis={**_HIDDEN_AXIS, "range": [-1.35, 1.35]},
        yaxis={**_HIDDEN_AXIS, "range": [-1.3, 1.25]},
    )
    return fig


_HIDDEN_AXIS = {"visible": False, "zeroline": False, "showgrid": False}


def _count_axis(title: str, largest: int) -> dict[str, Any]:
    """An axis of whole numbers: no 0.5 articles."""
    return {"title": title, "tick0": 0, "dtick": max(1, -(-largest // 8)), "rangemode": "tozero"}


def _colour(index: int) -> str:
    colour: str = _PALETTE[index % len(_PALETTE)]
    return colour


def _table(con: duckdb.DuckDBPyConnection, sql: str, count_sql: str) -> Table:
    relation = con.sql(f"{sql} LIMIT {TABLE_ROWS}")
    columns = tuple(relation.columns)
    total = con.sql(count_sql).fetchone()
    return Table(columns, relation.fetchall(), int(total[0]) if total else 0)


def _runs(output: Path) -> Table:
    keys = ("run_id", "feeds_polled", "feeds_failed", "entries_seen", "articles_written",
            "duplicates_written", "entry_dead_letters", "feed_dead_letters", "conserved",
            "seconds")  # fmt: skip
    found = []
    for path in sorted((output / "runs").glob("*.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        found.append(tuple(summary.get(k) for k in keys))
    return Table(keys, found, len(found))


def render_report(output: Path) -> str:
    """The whole page for one output directory."""
    con = connect(output)
    totals = dict(
        zip(
            ("articles", "outlets", "languages", "duplicates", "dead letters", "entities"),
            rows(
                con,
                """SELECT (SELECT count(*) FROM articles), (SELECT count(DISTINCT source)
                FROM articles), (SELECT count(DISTINCT language) FROM articles),
                (SELECT count(*) FROM duplicates), (SELECT count(*) FROM dead_letters),
                (SELECT count(DISTINCT (canonical, label)) FROM entities)""",
            )[0],
            strict=True,
        )
    )
    charts = {
        "over_time": articles_over_time(
            rows(
                con,
                """SELECT published_date, source, count(*) FROM articles
                WHERE published_date IS NOT NULL GROUP BY ALL ORDER BY 1, 2""",
            )
        ),
        "languages": counts_bar(
            rows(con, "SELECT language, count(*) n FROM articles GROUP BY ALL ORDER BY n DESC"),
            _colour(1),
            "articles",
        ),
        "co_mentions": co_mention_network(*_co_mentions(con)),
        "republication": republication_graph(
            rows(
                con,
                """SELECT coalesce(a.source, '(not in this output)'), d.source, d.kind, count(*)
                FROM duplicates d LEFT JOIN articles a ON a.article_id = d.duplicate_of_id
                GROUP BY ALL ORDER BY ALL""",
            )
        ),
        "dead_letters": dead_letters_bar(
            rows(
                con,
                """SELECT stage || '/' || reason, subject, count(*) n FROM dead_letters
                GROUP BY ALL ORDER BY n, 1""",
            )
        ),
    }
    entity_charts = {}
    top = rows(
        con,
        f"""SELECT label, canonical, count(DISTINCT article_id) n FROM entities
        GROUP BY label, canonical
        QUALIFY row_number() OVER (PARTITION BY label ORDER BY n DESC, canonical)
                <= {TOP_ENTITIES}
        ORDER BY label, n DESC, canonical""",
    )
    for label in sorted({label for label, _, _ in top}):
        entity_charts[label] = counts_bar(
            [(name, n) for lab, name, n in top if lab == label],
            _LABEL_COLOURS.get(label, _OTHER_COLOUR),
            "articles",
        )
    heights = {"over_time": 380, "languages": 260, "co_mentions": 620, "republication": 460}
    figures = {
        key: _figure_html(fig, f"chart-{key}", heights.get(key, 320))
        for key, fig in charts.items()
        if fig is not None
    }
    entity_figures = {
        label: _figure_html(fig, f"chart-entities-{label}", 60 + 26 * TOP_ENTITIES)
        for label, fig in entity_charts.items()
        if fig is not None
    }
    tables = {
        "articles": _table(
            con,
            """SELECT published_date AS date, source, language, word_count AS words,
            len(entities) AS entities, title, url FROM articles
            ORDER BY published_at DESC NULLS LAST, article_id""",
            "SELECT count(*) FROM articles",
        ),
        "duplicates": _table(
            con,
            """SELECT d.source AS outlet, d.kind, round(d.similarity, 3) AS similarity,
            a.source AS original_outlet, d.title, d.url FROM duplicates d
            LEFT JOIN articles a ON a.article_id = d.duplicate_of_id
            ORDER BY d.kind, d.source, d.url""",
            "SELECT count(*) FROM duplicates",
        ),
        "dead_letters": _table(
            con,
            """SELECT stage, reason, subject, url, feed_url, left(error, 200) AS error
            FROM dead_letters ORDER BY stage, reason, url""",
            "SELECT count(*) FROM dead_letters",
        ),
        "runs": _runs(output),
    }
    template = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    ).from_string(
        resources.files("pipeline").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    return template.render(
        zip=zip,
        output=str(output),
        generated=datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        totals=totals,
        figures=figures,
        entity_figures=entity_figures,
        tables=tables,
        plotly_js=get_plotlyjs(),
        network_entities=NETWORK_ENTITIES,
        top_entities=TOP_ENTITIES,
    )


def _co_mentions(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The most-mentioned entities and how many articles each pair shares."""
    top = f"""WITH top AS (
        SELECT canonical, label, count(DISTINCT article_id) n FROM entities GROUP BY ALL
        ORDER BY n DESC, canonical LIMIT {NETWORK_ENTITIES}),
      m AS (SELECT DISTINCT article_id, canonical FROM entities
            JOIN top USING (canonical, label))"""
    nodes = rows(con, f"{top} SELECT canonical, label, n FROM top")
    edges = rows(
        con,
        f"""{top} SELECT a.canonical, b.canonical, count(*) FROM m a JOIN m b
        ON a.article_id = b.article_id AND a.canonical < b.canonical GROUP BY ALL""",
    )
    return nodes, edges


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam report", description="One self-contained HTML page with charts."
    )
    parser.add_argument("--output", required=True, type=Path, help="The run's output directory.")
    parser.add_argument("--html", type=Path, help="Where to write the page (OUTPUT/report.html).")
    args = parser.parse_args(argv)
    target = args.html or args.output / "report.html"
    try:
        page = render_report(args.output)
    except QueryError as exc:
        print(f"newsbeam report: {exc}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    print(f"report written to {target} ({len(page) // 1024} KiB)")
    return 0
