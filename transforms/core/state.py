"""State kept between runs in ``--state_dir``, so a repeated ``--once`` run is polite
and writes nothing twice.

* ``seen.jsonl``: seen-article keys, one JSON object per line (``article_id``,
  ``seen_at`` epoch seconds), dropped after the horizon.
* ``feeds.json``, ``hosts.json``, ``robots.json``: one JSON object each, key -> state
  (feed validators and schedule; host ``not_before`` times; robots.txt cache).

Every file is rewritten whole and atomically (temporary file, fsync, rename): a crash
mid-write leaves the previous file. The pipeline never writes these files itself: its
stages emit :class:`StateUpdate` rows, a run writes them under ``pending/`` and the
driver merges them with :func:`commit_updates` only after the run succeeded.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from transforms.core.polling import FeedState


def load_seen(path: Path, horizon_s: float, now: float | None = None) -> dict[str, float]:
    """article_id -> first seen time, without keys older than the horizon."""
    now = time.time() if now is None else now
    seen: dict[str, float] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                    key, at = str(row["article_id"]), float(row["seen_at"])
                except (ValueError, KeyError, TypeError):
                    continue  # a damaged line loses one key, not the store
                if now - at <= horizon_s:
                    seen[key] = min(at, seen.get(key, at))
    except FileNotFoundError:
        pass
    return seen


def save_seen(path: Path, seen: dict[str, float]) -> None:
    _write_atomically(
        path,
        (json.dumps({"article_id": key, "seen_at": at}) + "\n" for key, at in sorted(seen.items())),
    )


def _write_atomically(path: Path, chunks: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remember(
    path: Path, article_ids: Iterable[str], horizon_s: float, now: float | None = None
) -> int:
    """Adds keys to the store (pruning expired ones); returns how many were new."""
    now = time.time() if now is None else now
    seen = load_seen(path, horizon_s, now)
    before = len(seen)
    for key in article_ids:
        seen.setdefault(key, now)
    save_seen(path, seen)
    return len(seen) - before


SEEN_FILE = "seen.jsonl"
StateKind = Literal["feeds", "hosts", "robots"]
STATE_KINDS: tuple[StateKind, ...] = ("feeds", "hosts", "robots")


@dataclass(frozen=True)
class StateUpdate:
    """One key's new state, emitted by a stage; the latest ``at`` wins when merged."""

    kind: StateKind
    key: str
    value: dict[str, Any]
    at: float

    def to_line(self) -> str:
        return json.dumps(
            {"kind": self.kind, "key": self.key, "value": self.value, "at": self.at},
            sort_keys=True,
        )


def load_map(state_dir: Path, kind: StateKind) -> dict[str, dict[str, Any]]:
    """The saved map of one kind; empty when absent or unreadable (state is an
    optimisation: losing it costs unconditional requests, never records)."""
    try:
        data = json.loads((state_dir / f"{kind}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def save_map(state_dir: Path, kind: StateKind, data: Mapping[str, Mapping[str, Any]]) -> None:
    _write_atomically(state_dir / f"{kind}.json", [json.dumps(data, indent=1, sort_keys=True)])


def commit_updates(state_dir: Path, lines: Iterable[str]) -> int:
    """Merges emitted :class:`StateUpdate` lines into the saved maps; returns how many
    updates were applied. Damaged lines are skipped."""
    latest: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
    for line in lines:
        try:
            row = json.loads(line)
            kind, key, value, at = row["kind"], str(row["key"]), row["value"], float(row["at"])
        except (ValueError, KeyError, TypeError):
            continue
        if kind not in STATE_KINDS or not isinstance(value, dict):
            continue
        if (kind, key) not in latest or at >= latest[(kind, key)][0]:
            latest[(kind, key)] = (at, value)
    for kind in STATE_KINDS:
        changes = {key: value for (k, key), (_, value) in latest.items() if k == kind}
        if changes:
            merged = load_map(state_dir, kind)
            merged.update(changes)
            save_map(state_dir, kind, merged)
    return len(latest)


def load_feed_states(state_dir: Path) -> dict[str, FeedState]:
    states: dict[str, FeedState] = {}
    for url, row in load_map(state_dir, "feeds").items():
        try:
            states[url] = FeedState.from_json(row)
        except TypeError:
            continue  # written by another version: start this feed afresh
    return states


def load_host_times(state_dir: Path) -> dict[str, float]:
    """host -> the time before which it asked not to be contacted (only future ones)."""
    now = time.time()
    times: dict[str, float] = {}
    for host, row in load_map(state_dir, "hosts").items():
        value = row.get("not_before")
        if isinstance(value, int | float) and value > now:
            times[host] = float(value)
    return times
