"""WriteArticles: the local sink, one JSON object per line under DIR/{articles,...}/.

Written with Beam's fileio, which works the same in batch and (windowed) streaming runs.
Every record is counted as it is written: the run summary's conservation check adds up
these counts, not what earlier stages meant to send.
"""

from __future__ import annotations

import json
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio

from transforms.common import counter

ARTICLES = "articles"
DUPLICATES = "duplicates"
DEAD_LETTERS = "dead_letters"
KINDS = (ARTICLES, DUPLICATES, DEAD_LETTERS)


def to_json_line(record: Any, kind: str) -> str:
    row = record.to_row()
    if kind == DEAD_LETTERS:
        counter(f"written.{kind}.{row['subject']}").inc()
    else:
        counter(f"written.{kind}").inc()
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


class WriteRecords(beam.PTransform):
    """Records of one kind -> DIR/<kind>/<run_id>-....jsonl"""

    def __init__(self, output_dir: str, kind: str, run_id: str, window_s: float | None) -> None:
        super().__init__()
        self._path = f"{output_dir.rstrip('/')}/{kind}"
        self._kind = kind
        self._run_id = run_id
        self._window_s = window_s

    def expand(self, records: beam.PCollection) -> beam.pvalue.PDone:
        lines = records | "ToJson" >> beam.Map(to_json_line, kind=self._kind)
        if self._window_s:
            # Streaming: close a file every window so records appear as they are produced.
            lines = lines | "Window" >> beam.WindowInto(beam.window.FixedWindows(self._window_s))
        return lines | "Write" >> fileio.WriteToFiles(
            path=self._path,
            file_naming=fileio.default_file_naming(prefix=self._run_id, suffix=".jsonl"),
            shards=1,
        )


class WriteArticles(beam.PTransform):
    """{articles, duplicates, dead_letters} -> JSONL files under the output directory."""

    def __init__(self, output_dir: str, run_id: str, window_s: float | None = None) -> None:
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._window_s = window_s

    def expand(self, outputs: dict[str, beam.PCollection]) -> dict[str, Any]:
        return {
            kind: outputs[kind]
            | f"Write{kind.title().replace('_', '')}"
            >> WriteRecords(self._output_dir, kind, self._run_id, self._window_s)
            for kind in KINDS
        }
