"""Seen-article keys kept between runs, so a repeated `--once` run writes nothing twice.

One JSON object per line (`article_id`, `seen_at` epoch seconds). Rewritten whole and
atomically (temporary file, fsync, rename): a crash mid-write leaves the previous file.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for key, at in sorted(seen.items()):
                handle.write(json.dumps({"article_id": key, "seen_at": at}) + "\n")
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
