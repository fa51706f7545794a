"""When to poll each feed, and how a poll's outcome changes that: plain, Beam-free.

A feed's :class:`FeedState` carries its validators (``ETag`` / ``Last-Modified``, kept
verbatim), a hash of its entry ids, the current adaptive interval and its failure
counters. :func:`next_state` turns one poll's :class:`PollOutcome` into the next state.

The schedule (defaults in :class:`SchedulePolicy`):

* **Adaptive interval** between a floor and a ceiling: halved when a poll finds new
  entries, grown by half when it finds none, so it settles near the feed's own rate of
  change (the idea behind Media Cloud's rss-fetcher and news-crawl's schedules). Floor
  10 min for feeds that answer conditional requests (a 304 costs the publisher next to
  nothing; busy news feeds change several times an hour), 1 h for feeds that give no
  validator (every poll re-sends the whole document); ceiling 24 h, so a dormant feed is
  still looked at daily. New feeds start at 1 h. ±10 % jitter keeps feeds of one host
  from being polled in lockstep.
* **Lower bounds the publisher declares**: RSS ``<ttl>`` (minutes), ``sy:updatePeriod``
  × ``sy:updateFrequency`` and ``Cache-Control: max-age`` are never undercut (capped at
  the ceiling, so a typo cannot silence a feed for a year).
* **Failures**: exponential backoff from 5 min doubling to at most 6 h; ``429``/``503``
  obey ``Retry-After`` (seconds or HTTP date, clamped to 1 s .. 6 h as urllib3 does) for
  the whole host; ``301``/``308`` chains replace the stored URL; ``410`` retires the
  feed; ``404`` backs off from 1 h and the third in a row (three hours at least)
  disables it.
* ``fixed_interval_s`` (``--poll_interval``) replaces all of the adaptive part with a
  fixed interval (for demos and tests); failures still back off.
"""

from __future__ import annotations

import email.utils
import hashlib
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal

__all__ = [
    "FeedState",
    "PollOutcome",
    "SchedulePolicy",
    "conditional_headers",
    "declared_interval",
    "defer",
    "entries_fingerprint",
    "is_due",
    "max_age",
    "next_state",
    "retry_after_seconds",
]

Status = Literal["active", "retired", "disabled"]
OutcomeKind = Literal["changed", "not_modified", "unchanged", "error", "gone", "not_found"]

MIN_RETRY_AFTER_S: Final = 1.0
MAX_RETRY_AFTER_S: Final = 6 * 3600.0
#: Retry-After absent or unreadable on a 429/503: slow the host this long.
DEFAULT_RETRY_AFTER_S: Final = 60.0

_SY_PERIODS: Final = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}
_MAX_AGE: Final = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d{1,10})\"?", re.IGNORECASE)


@dataclass(frozen=True)
class SchedulePolicy:
    floor_s: float = 600.0
    floor_unconditional_s: float = 3600.0
    ceiling_s: float = 86400.0
    initial_s: float = 3600.0
    fixed_interval_s: float | None = None
    jitter: float = 0.1
    error_base_s: float = 300.0
    error_cap_s: float = 6 * 3600.0
    not_found_base_s: float = 3600.0
    not_found_limit: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.floor_s <= self.floor_unconditional_s <= self.ceiling_s:
            raise ValueError("need 0 < floor_s <= floor_unconditional_s <= ceiling_s")
        if self.fixed_interval_s is not None and self.fixed_interval_s < 0:
            raise ValueError("fixed_interval_s must be >= 0")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be within [0, 1)")


@dataclass(frozen=True)
class FeedState:
    """What newsbeam remembers about one feed of the feed list (keyed by ``url``)."""

    url: str
    fetch_url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    entries_hash: str | None = None
    interval_s: float | None = None
    declared_min_s: float = 0.0
    next_poll_at: float = 0.0
    last_polled_at: float | None = None
    last_changed_at: float | None = None
    last_outcome: str | None = None
    failures: int = 0
    not_found: int = 0
    status: Status = "active"

    @classmethod
    def new(cls, url: str) -> FeedState:
        return cls(url=url, fetch_url=url)

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, row: Mapping[str, object]) -> FeedState:
        known = {k: v for k, v in row.items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PollOutcome:
    """What one poll found. ``moved_to`` is set when every redirect hop was permanent."""

    kind: OutcomeKind
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    entries_hash: str | None = None
    declared_min_s: float = 0.0
    moved_to: str | None = None


def conditional_headers(state: FeedState) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` echoing the stored validators verbatim."""
    headers: dict[str, str] = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def is_due(state: FeedState, now: float, policy: SchedulePolicy) -> bool:
    if state.status != "active":
        return False
    if policy.fixed_interval_s is not None and state.failures == 0:
        last = state.last_polled_at
        return last is None or now >= last + policy.fixed_interval_s
    return now >= state.next_poll_at


def entries_fingerprint(entry_ids: Iterable[str]) -> str:
    """Order-free hash of a feed's entry ids: a feed whose items are unchanged but whose
    ``lastBuildDate`` ticks is not "changed"."""
    digest = hashlib.sha256()
    for key in sorted(set(entry_ids)):
        digest.update(key.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()[:32]


def next_state(
    state: FeedState,
    outcome: PollOutcome,
    now: float,
    policy: SchedulePolicy,
    rng: random.Random | None = None,
) -> FeedState:
    """The state after a poll at ``now`` that ended in ``outcome``."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
    polled = replace(state, last_polled_at=now, last_outcome=outcome.kind)
    if outcome.kind == "gone":
        return replace(polled, status="retired", failures=state.failures + 1)
    if outcome.kind in ("error", "not_found"):
        failures = state.failures + 1
        not_found = state.not_found + 1 if outcome.kind == "not_found" else 0
        if not_found >= policy.not_found_limit:
            return replace(polled, status="disabled", failures=failures, not_found=not_found)
        if outcome.kind == "not_found":
            # Slow, so a site misconfigured for an afternoon does not lose its feed.
            delay = min(policy.error_cap_s, policy.not_found_base_s * 2 ** (not_found - 1))
        else:
            delay = min(policy.error_cap_s, policy.error_base_s * 2 ** (failures - 1))
        return replace(
            polled,
            failures=failures,
            not_found=not_found,
            next_poll_at=now + _jittered(delay, policy.jitter, rng),
        )

    etag = outcome.etag if outcome.etag is not None else state.etag
    last_modified = (
        outcome.last_modified if outcome.last_modified is not None else state.last_modified
    )
    if outcome.kind == "changed" and outcome.entries_hash == state.entries_hash:
        kind: OutcomeKind = "unchanged"  # new bytes, same items (e.g. a build date)
    else:
        kind = outcome.kind
    floor = policy.floor_s if (etag or last_modified) else policy.floor_unconditional_s
    declared = min(max(outcome.declared_min_s, 0.0), policy.ceiling_s)
    current = state.interval_s if state.interval_s is not None else policy.initial_s
    if state.last_changed_at is None and state.last_outcome is None:
        interval = current  # a first poll says nothing yet about how often it changes
    else:
        interval = current / 2 if kind == "changed" else current * 1.5
    interval = min(max(interval, floor, declared), policy.ceiling_s)
    if policy.fixed_interval_s is not None:
        wait = policy.fixed_interval_s
    else:
        wait = _jittered(interval, policy.jitter, rng)
    return replace(
        polled,
        fetch_url=outcome.moved_to or state.fetch_url,
        etag=etag,
        last_modified=last_modified,
        body_hash=outcome.body_hash or state.body_hash,
        entries_hash=outcome.entries_hash or state.entries_hash,
        interval_s=interval,
        declared_min_s=declared,
        next_poll_at=now + wait,
        last_changed_at=now if kind == "changed" else state.last_changed_at,
        last_outcome=kind,
        failures=0,
        not_found=0,
    )


def defer(state: FeedState, until: float) -> FeedState:
    """Not polled now because its host asked us to wait: try again at ``until``."""
    return replace(state, next_poll_at=max(state.next_poll_at, until))


def retry_after_seconds(value: str | None, now: float) -> float:
    """``Retry-After`` (delta-seconds or HTTP date) in seconds, clamped to a sane range;
    absent or unreadable values give :data:`DEFAULT_RETRY_AFTER_S`."""
    seconds: float | None = None
    if value:
        text = value.strip()
        if text.isdigit():
            seconds = float(text)
        else:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None and when.tzinfo is not None:
                seconds = when.timestamp() - now
    if seconds is None or not math.isfinite(seconds):
        seconds = DEFAULT_RETRY_AFTER_S
    return min(max(seconds, MIN_RETRY_AFTER_S), MAX_RETRY_AFTER_S)


def max_age(cache_control: str | None) -> float:
    """``Cache-Control: max-age`` in seconds (0 when absent or ``no-cache``/``no-store``)."""
    if not cache_control:
        return 0.0
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0.0
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else 0.0


def declared_interval(
    ttl_minutes: str | None, update_period: str | None, update_frequency: str | None
) -> float:
    """The shortest interval a feed asks for through ``<ttl>`` or the syndication module,
    in seconds (0 when it declares nothing usable). Both present: the larger wins."""
    candidates = [0.0]
    if ttl_minutes and ttl_minutes.strip().isdigit():
        candidates.append(float(ttl_minutes.strip()) * 60)
    if update_period:
        period = _SY_PERIODS.get(update_period.strip().lower())
        frequency = 1
        if update_frequency and update_frequency.strip().isdigit():
            frequency = max(int(update_frequency.strip()), 1)
        if period is not None:
            candidates.append(period / frequency)
    return max(candidates)


def _jittered(seconds: float, jitter: float, rng: random.Random) -> float:
    return seconds * (1 + rng.uniform(-jitter, jitter))
