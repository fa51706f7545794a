"""Per-host pacing: one request in flight per host and a minimum delay between requests.

The Beam stages key their requests by :func:`host_key`, so every request to one host goes
through one stateful key (whose ``not_before`` time the runner keeps, so parallel workers
cannot multiply the rate); :data:`HOST_LOCKS` additionally serialises the feed and article
stages of one worker process when both talk to the same host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

__all__ = ["HOST_LOCKS", "HostLocks", "PacingPolicy", "Turn", "host_key"]


@dataclass(frozen=True)
class PacingPolicy:
    """``min_delay_s`` between two requests to a host (Scrapy's template and StormCrawler
    use 1 s); robots.txt ``Crawl-delay`` raises it up to ``max_crawl_delay_s`` (Nutch and
    StormCrawler cap at 30 s). A host that asks us to wait longer than ``max_wait_s`` is
    not waited for in a worker thread: its requests are deferred (feeds) or dead-lettered
    as ``host_throttled`` to be retried by a later poll (articles)."""

    min_delay_s: float = 1.0
    max_crawl_delay_s: float = 30.0
    max_wait_s: float = 60.0

    def __post_init__(self) -> None:
        if self.min_delay_s < 0 or self.max_crawl_delay_s < 0 or self.max_wait_s < 0:
            raise ValueError("pacing delays must be >= 0")

    def delay(self, crawl_delay: float | None = None) -> float:
        """Seconds to leave after a request before the next one to the same host."""
        if crawl_delay is None or crawl_delay <= 0:
            return self.min_delay_s
        return max(self.min_delay_s, min(crawl_delay, self.max_crawl_delay_s))


def host_key(url: str) -> str:
    """The politeness key of a URL: its lower-cased host (port kept, scheme not: http and
    https of one host are one server)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port not in (None, 80, 443) else host


class Turn:
    """Holding a host's turn; set ``then_wait_s`` to how long the host must rest after."""

    def __init__(self) -> None:
        self.then_wait_s = 0.0


class HostLocks:
    """A lock per host, shared by every stage in this process: a turn waits for the
    lock, then until both the caller's ``not_before`` (from Beam state) and the rest
    the previous turn asked for, so requests to one host are never concurrent here and
    always spaced. (A lock is a few dozen bytes; even a million hosts cost little, so
    they are never dropped.)"""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._rested_at: dict[str, float] = {}

    @contextmanager
    def turn(self, host: str, not_before: float = 0.0) -> Iterator[Turn]:
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            wait = max(not_before, self._rested_at.get(host, 0.0)) - self._clock()
            if wait > 0:
                self._sleep(wait)
            turn = Turn()
            try:
                yield turn
            finally:
                self._rested_at[host] = self._clock() + turn.then_wait_s


HOST_LOCKS: Final = HostLocks()
