"""The per-feed schedule and the host pacing rules, as plain functions."""

from __future__ import annotations

import random
import threading
import time

import pytest

from transforms.core.politeness import HostLocks, PacingPolicy, host_key
from transforms.core.polling import (
    MAX_RETRY_AFTER_S,
    FeedState,
    PollOutcome,
    SchedulePolicy,
    conditional_headers,
    declared_interval,
    entries_fingerprint,
    is_due,
    max_age,
    next_state,
    retry_after_seconds,
)

POLICY = SchedulePolicy(jitter=0.0)
NOW = 1_800_000_000.0


def polled(state: FeedState, outcome: PollOutcome, now: float = NOW) -> FeedState:
    return next_state(state, outcome, now, POLICY, random.Random(0))


def changed(entries: str, **kw: object) -> PollOutcome:
    return PollOutcome("changed", entries_hash=entries, body_hash=entries, **kw)  # type: ignore[arg-type]


def test_validators_are_echoed_verbatim() -> None:
    state = polled(FeedState.new("u"), changed("a", etag='W/"x y"', last_modified="Mon, x"))
    assert conditional_headers(state) == {"If-None-Match": 'W/"x y"', "If-Modified-Since": "Mon, x"}
    assert conditional_headers(FeedState.new("u")) == {}


def test_a_304_keeps_validators_and_grows_the_interval() -> None:
    first = polled(FeedState.new("u"), changed("a", etag='"1"'))
    second = polled(first, PollOutcome("not_modified"), NOW + 3600)
    assert second.etag == '"1"' and second.entries_hash == "a"
    assert second.interval_s == pytest.approx(first.interval_s * 1.5)  # type: ignore[operator]
    assert second.last_changed_at == NOW


def test_interval_halves_on_news_and_stays_within_floor_and_ceiling() -> None:
    state = FeedState.new("u")
    for i in range(20):
        state = polled(state, changed(str(i), etag='"e"'))
    assert state.interval_s == POLICY.floor_s
    for _ in range(40):
        state = polled(state, PollOutcome("not_modified"))
    assert state.interval_s == POLICY.ceiling_s


def test_feeds_without_validators_are_polled_at_most_hourly() -> None:
    state = FeedState.new("u")
    for i in range(20):
        state = polled(state, changed(str(i)))
    assert state.interval_s == POLICY.floor_unconditional_s == 3600


def test_new_bytes_with_the_same_items_count_as_unchanged() -> None:
    first = polled(FeedState.new("u"), changed("same", etag='"1"'))
    again = polled(first, PollOutcome("changed", entries_hash="same", body_hash="other"))
    assert again.last_outcome == "unchanged"
    assert again.interval_s > first.interval_s  # type: ignore[operator]


def test_declared_lower_bounds_are_honoured_but_capped() -> None:
    state = polled(FeedState.new("u"), changed("a", etag='"1"', declared_min_s=7200.0))
    assert state.interval_s == 7200 and state.next_poll_at == NOW + 7200
    state = polled(state, changed("b", declared_min_s=10 * 365 * 86400.0))
    assert state.interval_s == POLICY.ceiling_s


def test_declared_interval_from_ttl_and_syndication() -> None:
    assert declared_interval("30", None, None) == 1800
    assert declared_interval(None, "hourly", "2") == 1800
    assert declared_interval("90", "daily", None) == 86400
    assert declared_interval("soon", "sometimes", "x") == 0
    assert max_age("public, max-age=600") == 600
    assert max_age('s-maxage=5, max-age="120"') == 120
    assert max_age("no-cache, max-age=600") == 0
    assert max_age(None) == 0


def test_errors_back_off_exponentially_with_a_cap() -> None:
    state = FeedState.new("u")
    delays = []
    for _ in range(10):
        state = polled(state, PollOutcome("error"))
        delays.append(state.next_poll_at - NOW)
    assert delays[:4] == [300, 600, 1200, 2400]
    assert max(delays) == POLICY.error_cap_s
    recovered = polled(state, changed("a", etag='"1"'))
    assert recovered.failures == 0


def test_gone_retires_and_repeated_not_found_disables() -> None:
    assert polled(FeedState.new("u"), PollOutcome("gone")).status == "retired"
    state = FeedState.new("u")
    waits = []
    for expected in ("active", "active", "disabled"):
        state = polled(state, PollOutcome("not_found"))
        assert state.status == expected
        waits.append(state.next_poll_at - NOW)
    assert waits[:2] == [3600, 7200]
    assert not is_due(state, NOW + 10 * 86400, POLICY)
    # A success in between resets the count: only *repeated* 404s disable.
    state = polled(polled(FeedState.new("u"), PollOutcome("not_found")), changed("a"))
    assert polled(polled(state, PollOutcome("not_found")), PollOutcome("not_found")).status == (
        "active"
    )


def test_permanent_redirect_updates_the_stored_url() -> None:
    state = polled(FeedState.new("http://old/feed"), changed("a", moved_to="https://new/feed"))
    assert state.url == "http://old/feed" and state.fetch_url == "https://new/feed"


def test_fixed_interval_replaces_the_adaptive_schedule() -> None:
    fixed = SchedulePolicy(fixed_interval_s=5.0, jitter=0.0)
    state = next_state(FeedState.new("u"), changed("a"), NOW, fixed)
    assert not is_due(state, NOW + 4.9, fixed) and is_due(state, NOW + 5, fixed)
    failing = next_state(state, PollOutcome("error"), NOW, fixed)
    assert not is_due(failing, NOW + 5, fixed)  # failures still back off


def test_jitter_stays_within_bounds() -> None:
    policy = SchedulePolicy()
    rng = random.Random(1)
    waits = {
        next_state(FeedState.new("u"), changed("a", etag="e"), NOW, policy, rng).next_poll_at - NOW
        for _ in range(200)
    }
    assert min(waits) >= 3600 * 0.9 and max(waits) <= 3600 * 1.1 and len(waits) > 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 1.0),
        ("315360000", MAX_RETRY_AFTER_S),  # ten years
        ("-5", 60.0),
        ("soon", 60.0),
        (None, 60.0),
        ("Thu, 01 Jan 2027 00:00:30 GMT", 30.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 1.0),  # in the past
    ],
)
def test_retry_after_is_read_and_clamped(value: str | None, expected: float) -> None:
    now = 1798761600.0  # 2027-01-01T00:00:00Z
    assert retry_after_seconds(value, now) == pytest.approx(expected)


def test_entries_fingerprint_ignores_order() -> None:
    assert entries_fingerprint(["a", "b"]) == entries_fingerprint(["b", "a", "a"])
    assert entries_fingerprint(["a"]) != entries_fingerprint(["a", "c"])


def test_state_round_trips_through_json() -> None:
    state = polled(FeedState.new("u"), changed("a", etag='"1"'))
    assert FeedState.from_json(state.to_json()) == state
    assert FeedState.from_json({**state.to_json(), "from_the_future": 1}) == state


def test_host_key_and_pacing_delay() -> None:
    assert host_key("https://News.Example.COM./a?b") == "news.example.com"
    assert host_key("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
    assert host_key("http://example.com:80/x") == host_key("https://example.com/y")
    pacing = PacingPolicy(min_delay_s=1.0, max_crawl_delay_s=30.0)
    assert pacing.delay(None) == 1.0 and pacing.delay(0.2) == 1.0
    assert pacing.delay(5) == 5.0 and pacing.delay(3600) == 30.0


def test_host_locks_allow_one_holder_per_host_and_wait_for_not_before() -> None:
    locks = HostLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    guard = threading.Lock()

    def work(host: str) -> None:
        with locks.turn(host):
            with guard:
                inside[host] += 1
                most[host] = max(most[host], inside[host])
            time.sleep(0.01)
            with guard:
                inside[host] -= 1

    threads = [threading.Thread(target=work, args=(h,)) for h in "abababab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == {"a": 1, "b": 1}
    slept: list[float] = []
    clocked = HostLocks(clock=lambda: 100.0, sleep=slept.append)
    with clocked.turn("a", not_before=102.5):
        pass
    with clocked.turn("a", not_before=99.0):
        pass
    assert slept == [2.5]


def test_a_first_poll_keeps_the_initial_interval() -> None:
    """Finding entries on the first poll says nothing about how often a feed changes."""
    first = polled(FeedState.new("u"), changed("a", etag='"1"'))
    assert first.interval_s == POLICY.initial_s == 3600
    assert polled(first, changed("b")).interval_s == 1800
