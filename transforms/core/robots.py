"""robots.txt handling per RFC 9309, on top of the hardened :class:`HttpClient`.

One :class:`RobotsCache` per worker answers "may we fetch this URL?" for every origin
(scheme + host + port). Each origin's ``/robots.txt`` is fetched once, through the
same SSRF-guarded client as everything else, and cached. The rules, and where they
deviate from the letter of the RFC:

* **2xx**: the body is parsed with Protego (Scrapy's RFC 9309 parser). Only the first
  ``max_bytes`` (512 KiB, RFC 9309 §2.5 asks for at least 500 KiB) are read; a partial
  last line is dropped. Bytes are decoded as UTF-8 with replacement, never strictly.
  Cached for ``ttl_s`` (at most 24 h, §2.4).
* **4xx** ("unavailable", §2.3.1.3): allow everything, cached for ``ttl_s``. This
  includes 401 and 403: the RFC says a crawler MAY access any resource then, and we
  follow it (the research notes call treating them as disallow "stricter and
  acceptable"; we chose the RFC). **429 is the exception**: it is an overload signal,
  so it is handled like a 5xx, as Google does.
* **5xx, 429, timeouts, network and TLS errors, blocked addresses, more than five
  redirects, or any other fetch failure** ("unreachable", §2.3.1.4): disallow
  everything. The failure is cached for only ``failure_ttl_s`` (10 minutes by default)
  so the origin is retried soon, and the cache never falls back to allow-all on error
  (unlike Scrapy's middleware). The RFC lets a crawler treat a robots.txt unreachable
  for 30 days as unavailable; we do not, a long-dead origin simply stays disallowed.
  More than five redirects is something the RFC lets us treat as unavailable; we treat
  it as unreachable, the conservative reading.
* Redirects (up to five, §2.3.1.2) are followed by the client, each hop re-vetted; the
  rules found are applied to the *original* origin.
* robots.txt fetches use their own limits: a 10 s wall-clock deadline, ``max_bytes``,
  five redirects, no content-type filter.

Thread-safe: concurrent callers for one origin wait for a single fetch.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Final

from protego import Protego

from transforms.core.http import FetchError, HttpClient, HttpConfig, origin, redact_url

__all__ = [
    "REASON_ALLOWED",
    "REASON_BAD_URL",
    "REASON_DISALLOWED",
    "REASON_UNAVAILABLE",
    "REASON_UNREACHABLE",
    "RobotsCache",
]

#: robots.txt was parsed and permits the URL.
REASON_ALLOWED: Final = "robots_allowed"
#: robots.txt was parsed and forbids the URL for our token.
REASON_DISALLOWED: Final = "robots_disallowed"
#: robots.txt answered 4xx (not 429): everything is allowed.
REASON_UNAVAILABLE: Final = "robots_unavailable"
#: robots.txt could not be fetched (5xx, 429, timeout, network, blocked...): disallowed.
REASON_UNREACHABLE: Final = "robots_unreachable"
#: the URL itself is not a fetchable http(s) URL: disallowed.
REASON_BAD_URL: Final = "robots_bad_url"

_MAX_TTL_S: Final = 24 * 3600.0
_TOKEN: Final = re.compile(r"^[A-Za-z_-]+$")


_POLICY_REFUSALS: Final = frozenset({"blocked_address", "bad_url", "bad_scheme"})


@dataclass(frozen=True)
class _Entry:
    rules: Protego | None  # None: no rules (unavailable or unreachable)
    allow_all: bool  # only meaningful when rules is None
    detail: str  # why, for logs (e.g. "http_error 503")
    expires: float
    # The fetcher's refusal when robots.txt was never asked for because its address is
    # refused: the article fetch would be refused the same way, and that is the reason.
    refusal: str | None = None
    text: str | None = None  # the parsed robots.txt, kept so the cache can be saved

    def to_json(self, remaining_s: float, now_wall: float) -> dict[str, object]:
        return {
            "text": self.text,
            "allow_all": self.allow_all,
            "detail": self.detail,
            "refusal": self.refusal,
            "expires_at": now_wall + remaining_s,
        }


class RobotsCache:
    """Per-origin robots.txt cache deciding whether URLs may be fetched.

    ``user_agent_token`` is the product token matched against ``User-agent`` lines
    (letters, ``_`` and ``-`` only, RFC 9309 §2.2.1); it should be the product token
    of the client's User-Agent header. ``clock`` is injectable for tests. Entries are
    kept for ``ttl_s`` (capped at 24 h), failures for ``failure_ttl_s``; at most
    ``max_origins`` origins are remembered (least recently used dropped first).
    """

    def __init__(
        self,
        client: HttpClient,
        user_agent_token: str = "newsbeam",  # noqa: S107 - a robots.txt product token
        ttl_s: float = 86400,
        max_bytes: int = 512 * 1024,
        clock: Callable[[], float] = time.monotonic,
        *,
        failure_ttl_s: float = 600.0,
        fetch_timeout_s: float = 10.0,
        max_origins: int = 10_000,
    ) -> None:
        if not _TOKEN.match(user_agent_token):
            raise ValueError("user_agent_token may contain only letters, '_' and '-'")
        if ttl_s <= 0 or failure_ttl_s <= 0 or fetch_timeout_s <= 0 or max_bytes <= 0:
            raise ValueError("ttl_s, failure_ttl_s, fetch_timeout_s and max_bytes must be > 0")
        self._client = client
        self._token = user_agent_token
        self._ttl = min(float(ttl_s), _MAX_TTL_S)
        self._failure_ttl = min(float(failure_ttl_s), self._ttl)
        self._clock = clock
        self._max_origins = max_origins
        base = client.config
        self._fetch_config: HttpConfig = replace(
            base,
            timeout_s=fetch_timeout_s,
            connect_timeout_s=min(base.connect_timeout_s, fetch_timeout_s),
            read_timeout_s=min(base.read_timeout_s, fetch_timeout_s),
            max_bytes=max_bytes,
            max_redirects=5,
            allowed_content_types=None,
        )
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._fetch_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        # Pickles (for Beam) without the cache or locks; a copy starts with an empty cache.
        state = self.__dict__.copy()
        for name in ("_cache", "_fetch_locks", "_lock"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    @property
    def fetch_config(self) -> HttpConfig:
        """The limits robots.txt fetches run under."""
        return self._fetch_config

    def allowed(self, url: str) -> bool:
        """True if ``url`` may be fetched."""
        return self.allowed_with_reason(url)[0]

    def allowed_with_reason(self, url: str) -> tuple[bool, str]:
        """``(may_fetch, reason)`` with reason one of the ``REASON_*`` codes, or, when the
        robots.txt fetch itself was refused by the client's policy, that refusal's
        ``FetchError`` reason (``blocked_address``, ``bad_url``, ``bad_scheme``)."""
        try:
            key = origin(url)
        except FetchError:
            return False, REASON_BAD_URL
        entry = self._entry(key)
        if entry.rules is None:
            if entry.allow_all:
                return True, REASON_UNAVAILABLE
            return False, entry.refusal or REASON_UNREACHABLE
        if entry.rules.can_fetch(url, self._token):
            return True, REASON_ALLOWED
        return False, REASON_DISALLOWED

    def crawl_delay(self, url: str) -> float | None:
        """The ``Crawl-delay`` for our token at ``url``'s origin, if robots.txt set one.

        Returned as written; the politeness layer applies its own floor and cap.
        """
        try:
            key = origin(url)
        except FetchError:
            return None
        rules = self._entry(key).rules
        if rules is None:
            return None
        delay = rules.crawl_delay(self._token)
        return None if delay is None else float(delay)

    def export(
        self, now_wall: float | None = None, *, origins: Iterable[str] | None = None
    ) -> dict[str, dict[str, object]]:
        """Unexpired entries (all, or those of ``origins``), by origin, with wall-clock
        expiry: saved between runs."""
        now_wall = time.time() if now_wall is None else now_wall
        now = self._clock()
        with self._lock:
            if origins is None:
                items = list(self._cache.items())
            else:
                items = [(k, self._cache[k]) for k in origins if k in self._cache]
        return {
            key: entry.to_json(entry.expires - now, now_wall)
            for key, entry in items
            if entry.expires > now
        }

    def preload(self, saved: dict[str, dict[str, object]], now_wall: float | None = None) -> int:
        """Restores entries from :meth:`export` that have not expired; returns how many.
        Expiry never exceeds what this cache's TTLs allow, whatever the file says."""
        now_wall = time.time() if now_wall is None else now_wall
        now = self._clock()
        restored = 0
        for key, row in saved.items():
            try:
                remaining = float(row["expires_at"]) - now_wall  # type: ignore[arg-type]
                text = row.get("text")
                rules = Protego.parse(text) if isinstance(text, str) else None
                allow_all = bool(row.get("allow_all")) and rules is None
            except Exception:  # noqa: BLE001, S112 - a damaged row is refetched, not trusted
                continue
            cap = self._ttl if (rules is not None or allow_all) else self._failure_ttl
            if remaining <= 0:
                continue
            refusal = row.get("refusal")
            entry = _Entry(
                rules,
                allow_all,
                str(row.get("detail", "")),
                now + min(remaining, cap),
                refusal if isinstance(refusal, str) else None,
                text if isinstance(text, str) and rules is not None else None,
            )
            with self._lock:
                self._cache[key] = entry
            restored += 1
        return restored

    def detail(self, url: str) -> str | None:
        """Human-readable outcome of the cached robots.txt fetch for ``url``'s origin
        (for logs), or None if nothing is cached. Never triggers a fetch."""
        try:
            key = origin(url)
        except FetchError:
            return None
        with self._lock:
            entry = self._cache.get(key)
        return None if entry is None else entry.detail

    def _entry(self, key: str) -> _Entry:
        with self._lock:
            entry = self._fresh(key)
            if entry is not None:
                return entry
            fetch_lock = self._fetch_locks.setdefault(key, threading.Lock())
        with fetch_lock:
            with self._lock:
                entry = self._fresh(key)
            if entry is not None:
                return entry  # another thread fetched it while we waited
            entry = self._fetch(key)
            with self._lock:
                self._cache[key] = entry
                self._cache.move_to_end(key)
                while len(self._cache) > self._max_origins:
                    self._cache.popitem(last=False)
                self._fetch_locks.pop(key, None)
            return entry

    def _fresh(self, key: str) -> _Entry | None:
        entry = self._cache.get(key)
        if entry is None or entry.expires <= self._clock():
            return None
        self._cache.move_to_end(key)
        return entry

    def _fetch(self, key: str) -> _Entry:
        robots_url = f"{key}/robots.txt"
        try:
            resp = self._client.get(robots_url, config=self._fetch_config, truncate=True)
        except FetchError as exc:
            status = exc.status if exc.reason == "http_error" else None
            if status is not None and 400 <= status < 500 and status != 429:
                return self._unavailable(f"HTTP {status}")
            entry = self._unreachable(f"{exc.reason}: {exc.message}")
            if exc.reason in _POLICY_REFUSALS:
                entry = replace(entry, refusal=exc.reason)
            return entry
        if not 200 <= resp.status < 300:
            return self._unreachable(f"unexpected HTTP {resp.status}")
        text = resp.body.decode("utf-8", errors="replace").lstrip("\ufeff")
        if resp.truncated:
            text = text[: text.rfind("\n") + 1]  # drop the line cut in half
        try:
            rules = Protego.parse(text)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not allow all
            return self._unreachable(f"unparseable robots.txt: {exc!r}")
        detail = f"parsed {len(resp.body)} bytes from {redact_url(resp.final_url)}"
        if resp.truncated:
            detail += " (truncated at cap)"
        return _Entry(rules, False, detail, self._clock() + self._ttl, text=text)

    def _unavailable(self, detail: str) -> _Entry:
        return _Entry(None, True, detail, self._clock() + self._ttl)

    def _unreachable(self, detail: str) -> _Entry:
        return _Entry(None, False, detail, self._clock() + self._failure_ttl)
