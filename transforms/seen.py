"""DropSeenEntries: entries already processed by an earlier run end here, counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apache_beam as beam

from transforms.common import counter
from transforms.core.elements import FeedEntry
from transforms.core.state import load_seen


class DropSeenEntryFn(beam.DoFn):
    def __init__(self, seen_path: str, horizon_s: float) -> None:
        super().__init__()
        self._seen_path = seen_path
        self._horizon_s = horizon_s
        self._seen: frozenset[str] = frozenset()

    def setup(self) -> None:
        self._seen = frozenset(load_seen(Path(self._seen_path), self._horizon_s))

    def process(self, entry: FeedEntry) -> Iterator[FeedEntry]:
        if entry.article_id in self._seen:
            counter("entries.already_seen").inc()
            return
        yield entry


class DropSeenEntries(beam.PTransform):
    """FeedEntry -> FeedEntry not seen by an earlier run (within the horizon)."""

    def __init__(self, seen_path: str, horizon_s: float) -> None:
        super().__init__()
        self._seen_path = seen_path
        self._horizon_s = horizon_s

    def expand(self, entries: beam.PCollection) -> beam.PCollection:
        return entries | "DropSeen" >> beam.ParDo(DropSeenEntryFn(self._seen_path, self._horizon_s))
