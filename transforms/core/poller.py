"""One conditional poll of one feed: request, classify, parse. Beam-free."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from transforms.core.feeds import FeedParseError, ParsedFeed, parse_feed
from transforms.core.http import FetchError, HttpClient
from transforms.core.polling import (
    FeedState,
    PollOutcome,
    conditional_headers,
    entries_fingerprint,
    max_age,
    retry_after_seconds,
)

__all__ = ["PollResult", "poll_feed"]

_OVERLOAD_STATUSES = (429, 503)


@dataclass(frozen=True)
class PollResult:
    """A poll's outcome; ``feed`` only when the document changed and parsed.

    ``error`` is the failure to dead-letter (its ``reason`` and message);
    ``host_wait_s`` is how long the whole host asked us to wait (429/503), if it did.
    """

    outcome: PollOutcome
    feed: ParsedFeed | None = None
    final_url: str | None = None
    error: FetchError | FeedParseError | None = None
    host_wait_s: float | None = None


def poll_feed(client: HttpClient, state: FeedState, now: float | None = None) -> PollResult:
    now = time.time() if now is None else now
    try:
        response = client.get(state.fetch_url, extra_headers=conditional_headers(state))
    except FetchError as err:
        status = err.status if err.reason == "http_error" else None
        if status == 410:
            return PollResult(PollOutcome("gone"), error=err)
        if status == 404:
            return PollResult(PollOutcome("not_found"), error=err)
        wait = retry_after_seconds(err.retry_after, now) if status in _OVERLOAD_STATUSES else None
        return PollResult(PollOutcome("error"), error=err, host_wait_s=wait)
    headers = response.headers
    validators = {
        "etag": headers.get("etag"),
        "last_modified": headers.get("last-modified"),
        "moved_to": response.moved_to,
    }
    if response.status == 304:
        return PollResult(
            PollOutcome(
                "not_modified",
                **validators,
                declared_min_s=_declared(headers, state.declared_min_s),
            ),
            final_url=response.final_url,
        )
    body_hash = hashlib.sha256(response.body).hexdigest()[:32]
    if body_hash == state.body_hash:
        return PollResult(
            PollOutcome(
                "unchanged",
                **validators,
                body_hash=body_hash,
                declared_min_s=_declared(headers, state.declared_min_s),
            ),
            final_url=response.final_url,
        )
    try:
        feed = parse_feed(
            response.body, url=response.final_url, content_type=headers.get("content-type")
        )
    except FeedParseError as err:
        return PollResult(PollOutcome("error"), final_url=response.final_url, error=err)
    ids = (e.guid or e.link or e.title or "" for e in feed.entries)
    return PollResult(
        PollOutcome(
            "changed",
            **validators,
            body_hash=body_hash,
            entries_hash=entries_fingerprint(ids),
            declared_min_s=_declared(headers, feed.min_interval_s),
        ),
        feed=feed,
        final_url=response.final_url,
    )


def _declared(headers: dict[str, str], from_document: float) -> float:
    return max(max_age(headers.get("cache-control")), from_document)
