"""A hardened, Beam-free HTTP GET client for fetching untrusted URLs.

Everything the pipeline downloads (feeds, articles, robots.txt) goes through
:class:`HttpClient`. It exists because none of the stock fetchers meet the bar in
``docs``/research "hazards-and-guarantees" section (b) rows 1-21 (see that file for the
reasons). What it guarantees, per request:

* **SSRF guard on every hop** (rows 11-14). The host is resolved exactly once, every
  resolved address is vetted by an :class:`AddressPolicy`, and the TCP connection goes
  to the vetted IP itself (pinned; no second DNS lookup, so DNS rebinding cannot swap
  the target). The original name is still used for the ``Host`` header, SNI and
  certificate verification. Redirects are followed by hand, and each hop is re-parsed,
  scheme-checked, re-resolved and re-vetted.
* **Bounded time** (rows 1-2). ``HttpConfig.timeout_s`` is a wall-clock deadline for the
  whole request, redirects and body included. Three mechanisms enforce it: per-socket
  connect/read timeouts (never longer than the time left), a check of the clock after
  every body chunk, and a watchdog thread that shuts the socket down when the deadline
  passes, which also covers a server dripping the status line or headers byte by byte.
  The TLS handshake is bounded by the connect timeout as a whole (Python applies a
  socket timeout to the complete handshake, not per byte).
  DNS resolution itself is not interruptible (``getaddrinfo`` has no timeout); the
  deadline is checked right after it.
* **Bounded size** (rows 3-8). Only ``gzip``/``deflate`` are advertised and decoded, by
  our own incremental ``zlib`` decoder with a running cap on *decompressed* bytes; at
  most two stacked encodings; a ``Content-Length`` above the cap fails fast; a body
  shorter than its ``Content-Length`` is an error (``truncated``), never content.
* **TLS always verified** against the original hostname (row 17), with the certifi
  bundle. There is no fallback without verification.
* **No ambient credentials** (rows 15-16): userinfo is stripped from URLs, and
  ``Authorization``/``Cookie``/``Proxy-Authorization`` are never sent. urllib3 does not
  read proxy variables or ``.netrc`` from the environment, and this module never asks it
  to.
* **Content-type allow-list checked right after the headers** (row 18), before any body
  byte is read.

Errors are raised as :class:`FetchError` with a machine-readable ``reason``. Anything
logged or stored should go through :func:`redact_url` first.

Helpers for the bytes that come back: :func:`decode_body` turns a body into text with a
fixed charset precedence (row 19-20) and never raises; :func:`sniff_compressed` /
:func:`ensure_not_compressed` detect compressed payloads served as text (row 8), which
must never be handed to trafilatura or feedparser.
"""

from __future__ import annotations

import codecs
import contextlib
import heapq
import ipaddress
import itertools
import re
import socket
import ssl
import threading
import time
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util import Timeout

try:  # certifi is a dependency of the pipeline; fall back to the system store if absent.
    import certifi

    _DEFAULT_CA_CERTS: str | None = certifi.where()
except ImportError:  # pragma: no cover - certifi is installed with the pipeline
    _DEFAULT_CA_CERTS = None

__all__ = [
    "MAX_URL_LENGTH",
    "AddressPolicy",
    "FetchError",
    "FetchResponse",
    "HttpClient",
    "HttpConfig",
    "decode_body",
    "ensure_not_compressed",
    "origin",
    "redact_url",
    "resolve",
    "sniff_compressed",
]

#: URLs longer than this are refused with ``bad_url`` (the de-facto limit, as in Scrapy).
MAX_URL_LENGTH: Final = 2083

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_CHUNK: Final = 64 * 1024
_MAX_ENCODINGS: Final = 2
_MAX_ADDRESSES: Final = 4  # connection attempts per hop, across resolved addresses
_MAX_POOLS: Final = 256
_POOL_MAXSIZE: Final = 4
# Extra wire bytes tolerated beyond max_bytes (gzip/deflate framing of incompressible data).
_RAW_SLACK: Final = 64 * 1024
# Headers the caller may not set: credentials, framing, and what this module controls.
_FORBIDDEN_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "cookie2",
        "host",
        "accept-encoding",
        "user-agent",
        "connection",
        "content-length",
        "transfer-encoding",
        "te",
        "upgrade",
        "keep-alive",
        "proxy-connection",
    }
)

Resolver: TypeAlias = Callable[..., Sequence[tuple[Any, ...]]]
"""Anything shaped like :func:`socket.getaddrinfo`: called as
``resolver(host, port, 0, socket.SOCK_STREAM)``, returning 5-tuples whose last item is a
sockaddr with the IP string first."""


# --------------------------------------------------------------------------- errors


class FetchError(Exception):
    """A fetch that did not produce a usable response.

    ``reason`` is a stable machine code (use it for dead-letter reasons and metrics):
    ``blocked_address``, ``bad_url``, ``bad_scheme``, ``dns_error``, ``timeout``,
    ``connection_error``, ``tls_error``, ``too_large``, ``too_many_redirects``,
    ``bad_content_type``, ``http_error``, ``truncated``, ``decode_error``.

    ``status`` is set for ``http_error``; ``retry_after`` is the raw ``Retry-After``
    header of a 429/503 response (unparsed: the caller clamps it). Messages never contain
    URL userinfo or secret query values.
    """

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.message = message
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes survive pickling (Beam pickles elements and errors).
        return (_rebuild_fetch_error, (self.reason, self.message, self.status, self.retry_after))


def _rebuild_fetch_error(
    reason: str, message: str, status: int | None, retry_after: str | None
) -> FetchError:
    return FetchError(reason, message, status=status, retry_after=retry_after)


# --------------------------------------------------------------------------- addresses

_IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges refused even where ``is_global``/``is_private`` of this Python version disagree.
_BLOCKED_V4: Final[tuple[ipaddress.IPv4Network, ...]] = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, includes the metadata server 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_BLOCKED_V6: Final[tuple[ipaddress.IPv6Network, ...]] = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (includes Teredo 2001::/32)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs
        "64:ff9b:1::/48",  # local-use NAT64
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64_WKP: Final = ipaddress.IPv6Network("64:ff9b::/96")
_V4_NUMERIC: Final = re.compile(
    r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}\.?$"
)


def _parse_ip(text: str) -> _IPAddress | None:
    """Parse an IP the way the C resolver would, or return None for a hostname.

    Besides canonical forms this accepts every notation ``inet_aton`` accepts (``127.1``,
    ``2130706433``, ``0x7f000001``, ``017700000001``, octal/hex octets), because
    ``getaddrinfo`` would connect to what those denote.
    """
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if _V4_NUMERIC.match(candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate.rstrip(".")))
        except OSError:
            return None
    return None


def _embedded_v4(addr: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]]:
    """IPv4 addresses an IPv6 address tunnels to (mapped, NAT64, 6to4, Teredo)."""
    if addr.ipv4_mapped is not None:
        return "IPv4-mapped", [addr.ipv4_mapped]
    if addr in _NAT64_WKP:
        return "NAT64", [ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)]
    if addr.sixtofour is not None:
        return "6to4", [addr.sixtofour]
    if addr.teredo is not None:
        server, client = addr.teredo
        return "Teredo", [server, client]
    return "", []


def _non_public_reason(addr: _IPAddress) -> str | None:
    """Why ``addr`` is not a globally routable unicast address, or None if it is."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            return "scoped IPv6 address"
        kind, inner = _embedded_v4(addr)
        for v4 in inner:
            why = _non_public_reason(v4)
            if why is not None:
                return f"{kind} form of a {why} address ({v4})"
        if addr.ipv4_mapped is not None or addr in _NAT64_WKP:
            return None  # judged entirely by the embedded IPv4 address
    checks: tuple[tuple[bool, str], ...] = (
        (addr.is_unspecified, "unspecified"),
        (addr.is_loopback, "loopback"),
        (addr.is_multicast, "multicast"),
        (addr.is_link_local, "link-local"),
        (addr.is_private, "private"),
        (addr.is_reserved, "reserved"),
    )
    for flagged, name in checks:
        if flagged:
            return name
    blocked: Sequence[_IPNetwork] = (
        _BLOCKED_V4 if isinstance(addr, ipaddress.IPv4Address) else _BLOCKED_V6
    )
    for net in blocked:
        if addr in net:
            return f"special-purpose ({net})"
    if not addr.is_global:
        return "non-global"
    return None


@dataclass(frozen=True)
class _AllowEntry:
    network: _IPNetwork
    port: int | None  # None: any port


@dataclass(frozen=True)
class AddressPolicy:
    """Which (IP, port) pairs a fetch may connect to.

    Default: globally routable unicast addresses only, on ports 80 and 443. Refused:
    loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 incl. the metadata
    server, fe80::/10), CGNAT 100.64/10, multicast, unspecified, reserved and
    documentation ranges, and IPv6 forms that tunnel to such an IPv4 address
    (IPv4-mapped, NAT64 64:ff9b::/96, 6to4, Teredo).

    ``allow`` entries punch holes, for tests and for on-premise sources: an IP entry
    without a port admits that IP on any port, with a port only that port; a CIDR entry
    admits the whole range on any port. IPv4-mapped IPv6 addresses match IPv4 entries.
    """

    allow: tuple[_AllowEntry, ...] = ()
    default_ports: frozenset[int] = frozenset({80, 443})

    @classmethod
    def from_string(cls, spec: str) -> AddressPolicy:
        """Build from ``"127.0.0.1:8080, 10.0.0.0/8, ::1, [::1]:8443"``.

        Entries: ``IP``, ``IPv4:PORT``, ``[IPv6]``, ``[IPv6]:PORT`` or a CIDR. Blank
        input means no exceptions. Raises ValueError on anything else.
        """
        entries: list[_AllowEntry] = []
        for raw in spec.split(","):
            item = raw.strip()
            if item:
                entries.append(_parse_allow_entry(item))
        return cls(allow=tuple(entries))

    def check(self, ip: str, port: int) -> None:
        """Raise ``FetchError('blocked_address')`` unless ``ip``:``port`` may be used."""
        addr = _parse_ip(ip)
        if addr is None:
            raise FetchError("blocked_address", f"not an IP address: {ip!r}")
        if self._allow_listed(addr, port):
            return
        why = _non_public_reason(addr)
        if why is not None:
            raise FetchError("blocked_address", f"{addr} is {why}")
        if port not in self.default_ports:
            raise FetchError("blocked_address", f"port {port} is not allowed for {addr}")

    def _allow_listed(self, addr: _IPAddress, port: int) -> bool:
        candidates: list[_IPAddress] = [addr]
        if isinstance(addr, ipaddress.IPv6Address):
            if addr.scope_id:
                return False
            if addr.ipv4_mapped is not None:
                candidates.append(addr.ipv4_mapped)
        for entry in self.allow:
            if entry.port is not None and entry.port != port:
                continue
            if any(c.version == entry.network.version and c in entry.network for c in candidates):
                return True
        return False


def _parse_port(text: str, item: str) -> int:
    if not text.isdigit():
        raise ValueError(f"bad port in address allow-list entry {item!r}")
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in address allow-list entry {item!r}")
    return port


def _parse_allow_entry(item: str) -> _AllowEntry:
    port: int | None = None
    host = item
    if item.startswith("["):
        close = item.find("]")
        if close < 0:
            raise ValueError(f"unbalanced brackets in address allow-list entry {item!r}")
        host, rest = item[1:close], item[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"garbage after ']' in address allow-list entry {item!r}")
            port = _parse_port(rest[1:], item)
        if "/" in host:
            raise ValueError(f"CIDR entries take no brackets: {item!r}")
    elif "/" not in item and item.count(":") == 1:
        host, port_text = item.split(":")
        port = _parse_port(port_text, item)
    if "/" in host:
        try:
            return _AllowEntry(ipaddress.ip_network(host, strict=True), None)
        except ValueError as exc:
            raise ValueError(f"bad CIDR in address allow-list entry {item!r}: {exc}") from exc
    try:
        addr = ipaddress.ip_address(host.strip())
    except ValueError as exc:
        raise ValueError(f"bad IP in address allow-list entry {item!r}") from exc
    return _AllowEntry(ipaddress.ip_network(addr), port)


def resolve(host: str, port: int, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """Resolve ``host`` once and return its distinct IPs in canonical text form.

    IP literals, including legacy ``inet_aton`` notations such as ``2130706433`` or
    ``127.1``, are normalised without calling the resolver; whatever the resolver returns
    is normalised too, so the policy always judges the address that will be dialled.
    Raises ``FetchError('dns_error')`` when nothing usable comes back.
    """
    literal = _parse_ip(host)
    if literal is not None:
        return [str(literal)]
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise FetchError("dns_error", f"cannot resolve {host!r}: {exc}") from exc
    found: list[str] = []
    for info in infos:
        try:
            sockaddr = info[4]
            addr = _parse_ip(str(sockaddr[0]))
        except (IndexError, TypeError):
            addr = None
        if addr is None:
            raise FetchError("dns_error", f"resolver returned a non-IP for {host!r}")
        text = str(addr)
        if text not in found:
            found.append(text)
    if not found:
        raise FetchError("dns_error", f"no addresses for {host!r}")
    return found


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class HttpConfig:
    """Per-request limits. Make one per use (feeds, articles, robots) with ``replace``."""

    user_agent: str
    timeout_s: float = 20.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allowed_content_types: tuple[str, ...] | None = None
    policy: AddressPolicy = field(default_factory=AddressPolicy)

    def __post_init__(self) -> None:
        if not self.user_agent or any(c in self.user_agent for c in "\r\n\0"):
            raise ValueError("user_agent must be a non-empty single-line string")
        for name in ("timeout_s", "connect_timeout_s", "read_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.max_bytes < 0 or self.max_redirects < 0:
            raise ValueError("max_bytes and max_redirects must not be negative")


@dataclass(frozen=True)
class FetchResponse:
    """A successful (2xx or 304) response.

    ``url`` is the URL as requested and ``final_url`` the one the body came from, both
    without userinfo and fragment (still possibly carrying secret query values: run them
    through :func:`redact_url` before logging or storing). ``redirects`` lists every
    redirect target in order, so ``redirects[-1] == final_url`` when there were any.
    ``headers`` has lower-cased names; repeated headers are joined with ``", "``.
    ``truncated`` is only ever True for ``get(..., truncate=True)``, when the body was cut
    at ``max_bytes``.
    """

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    redirects: tuple[str, ...]
    elapsed_s: float
    truncated: bool = False
    #: Where the URL has permanently moved: the last target of the redirect chain's
    #: unbroken run of 301/308 hops from the start (None if the first hop was not one).
    moved_to: str | None = None


# --------------------------------------------------------------------------- URLs


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII, lower case, no brackets
    port: int
    explicit_port: bool
    request_target: str  # path + query, percent-encoded

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.explicit_port else host

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.request_target}"


_CONTROL_CHARS: Final = re.compile(r"[\x00-\x1f\x7f]")
_HOST_CHARS: Final = re.compile(r"^[a-z0-9_.-]+$")
_PATH_SAFE: Final = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?[]"


def _parse_target(url: str) -> _Target:
    if len(url) > MAX_URL_LENGTH:
        raise FetchError("bad_url", f"URL longer than {MAX_URL_LENGTH} characters")
    url = url.strip()
    if _CONTROL_CHARS.search(url):
        raise FetchError("bad_url", "control characters in URL")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise FetchError("bad_url", f"unparseable URL {redact_url(url)!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise FetchError("bad_url", f"relative or scheme-less URL {redact_url(url)!r}")
    if scheme not in _DEFAULT_PORTS:
        raise FetchError("bad_scheme", f"scheme {scheme!r} is not http or https")
    if not hostname:
        raise FetchError("bad_url", f"no host in {redact_url(url)!r}")
    host = _normalise_host(hostname, url)
    if port == 0:
        raise FetchError("bad_url", "port 0")
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return _Target(
        scheme=scheme,
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        explicit_port=port is not None and port != _DEFAULT_PORTS[scheme],
        request_target=path,
    )


def origin(url: str) -> str:
    """Normalised ``scheme://host[:port]`` of an http(s) URL (userinfo dropped, host
    lower-cased and IDNA-encoded, default port omitted).

    The key for per-origin state such as robots.txt and politeness. Raises
    ``FetchError`` (``bad_url``/``bad_scheme``) like :meth:`HttpClient.get` would.
    """
    target = _parse_target(url)
    return f"{target.scheme}://{target.netloc}"


def _normalise_host(hostname: str, url: str) -> str:
    if ":" in hostname:  # urlsplit only lets this through from a bracketed IPv6 literal
        try:
            addr = ipaddress.IPv6Address(hostname)
        except ValueError as exc:
            raise FetchError("bad_url", f"bad IPv6 literal in {redact_url(url)!r}") from exc
        if addr.scope_id:
            raise FetchError("bad_url", "scoped IPv6 literals are not fetchable")
        return str(addr)
    host = hostname
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise FetchError("bad_url", f"bad internationalised host {host!r}") from exc
    host = host.lower()
    if len(host) > 253 or not _HOST_CHARS.match(host) or ".." in host:
        raise FetchError("bad_url", f"bad host {host!r}")
    return host


def _strip_userinfo(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return re.sub(r"//[^/?#]*@", "//", url)
    if "@" not in parts.netloc:
        return urlunsplit(parts._replace(fragment=""))
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], fragment=""))


_SECRET_PARAMS: Final = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "signature",
        "sig",
        "session",
        "sessionid",
        "session_id",
        "sid",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
    }
)
_SECRET_SUFFIXES: Final = ("_token", "-token", "_secret", "_password", "_apikey", "_api_key")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter name looks like it carries a credential."""
    key = unquote_plus(name).strip().lower()
    return key in _SECRET_PARAMS or key.endswith(_SECRET_SUFFIXES)


def _redact_pairs(text: str) -> str:
    out = []
    for pair in text.split("&"):
        name, eq, _value = pair.partition("=")
        out.append(f"{name}=REDACTED" if eq and is_secret_param(name) else pair)
    return "&".join(out)


def redact_url(url: str) -> str:
    """``url`` made safe for logs and stored records.

    Removes userinfo and replaces the values of secret-looking query (and fragment)
    parameters (``api_key``, ``token``, ``sig``, ``session``...) with ``REDACTED``.
    Everything else is kept byte for byte. Never raises.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit(
            (
                parts.scheme,
                netloc,
                parts.path,
                _redact_pairs(parts.query),
                _redact_pairs(parts.fragment),
            )
        )
    except (ValueError, TypeError, AttributeError):
        stripped = re.sub(r"//[^/?#]*@", "//", str(url))
        return re.split(r"[?#]", stripped, maxsplit=1)[0] + ("?REDACTED" if "?" in stripped else "")


# --------------------------------------------------------------------------- watchdog


def _shutdown_socket(sock: socket.socket) -> None:
    # The plain-socket method, also for SSLSocket: SSLSocket.shutdown would tear down the
    # TLS object under the feet of the thread blocked reading from it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Guard:
    """Deadline of one ``get`` call and the socket it is currently blocked on."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        """Make ``sock`` the one the watchdog shuts down when the deadline passes."""
        with self._lock:
            if self.done or sock is None:
                return
            self._sock = sock
            if self.expired:
                _shutdown_socket(sock)

    def detach(self, sock: socket.socket | None) -> None:
        with self._lock:
            if self._sock is sock:
                self._sock = None

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            if self._sock is not None:
                _shutdown_socket(self._sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sock = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class _Watchdog:
    """One daemon thread per client that fires guards whose deadline has passed."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Guard]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, guard: _Guard) -> None:
        with self._cond:
            if self._stopped:
                raise RuntimeError("HttpClient is closed")
            heapq.heappush(self._heap, (guard.deadline, next(self._seq), guard))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="newsbeam-http-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def stop(self, *, join: bool = True) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if join and thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    while self._heap and self._heap[0][2].done:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        guard = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(delay)
            guard.fire()


_local = threading.local()


def _current_guard() -> _Guard | None:
    guard: _Guard | None = getattr(_local, "guard", None)
    return guard


class _GuardedHTTPConnection(HTTPConnection):
    """Registers its socket with the calling thread's guard so the watchdog can cut it."""

    def connect(self) -> None:
        super().connect()
        guard = _current_guard()
        if guard is not None:
            guard.attach(self.sock)

    def getresponse(self) -> Any:
        guard = _current_guard()
        if guard is not None:
            guard.attach(self.sock)  # a reused keep-alive connection skips connect()
        return super().getresponse()


class _GuardedHTTPSConnection(_GuardedHTTPConnection, HTTPSConnection):
    """The same hooks around HTTPSConnection (the MRO puts its connect under them).

    No hook is needed for the TLS handshake: Python applies the socket timeout (the
    connect timeout, never more than the time left) to the handshake as a whole.
    """


def _detach_from_guard(conn: Any) -> None:
    guard = _current_guard()
    if guard is not None and conn is not None:
        guard.detach(getattr(conn, "sock", None))


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection

    def _put_conn(self, conn: Any) -> None:
        # A connection going back to the pool no longer belongs to this request's guard.
        _detach_from_guard(conn)
        super()._put_conn(conn)


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection

    def _put_conn(self, conn: Any) -> None:
        _detach_from_guard(conn)
        super()._put_conn(conn)


# --------------------------------------------------------------------------- decoding


class _TooLargeError(Exception):
    """An intermediate decoding stage exceeded its output cap."""


class _Inflater:
    """One ``gzip`` or ``deflate`` content-coding stage with bounded output per call."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if coding == "gzip" else None
        self._head = b""  # deflate: bytes held back until the wrapper can be sniffed
        self._ignore_rest = False
        self._saw_input = False

    def _start_deflate(self, data: bytes) -> None:
        # "deflate" should be zlib-wrapped (RFC 9110) but servers also send raw deflate.
        zlib_wrapped = (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data``; returns at most ``limit + 1`` bytes (more than ``limit`` means
        the cap is exceeded and the caller must stop)."""
        out = bytearray()
        if data:
            self._saw_input = True
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._start_deflate(data)
        while data and not self._ignore_rest:
            if self._obj.eof:
                # gzip allows several members back to back; anything else after the end
                # of the stream is ignored (as browsers do).
                if self._coding == "gzip" and data[:1] == b"\x1f":
                    self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    self._ignore_rest = True
                    break
            try:
                chunk = self._obj.decompress(data, limit + 1 - len(out))
            except zlib.error as exc:
                raise FetchError("decode_error", f"bad {self._coding} stream: {exc}") from exc
            out += chunk
            if len(out) > limit:
                return bytes(out)
            data = self._obj.unconsumed_tail or (self._obj.unused_data if self._obj.eof else b"")
        return bytes(out)

    def finish(self, limit: int) -> bytes:
        if self._obj is None:
            if self._head:
                raise FetchError("decode_error", f"truncated {self._coding} stream")
            return b""  # empty body
        if not self._saw_input:
            return b""
        out = b"" if self._ignore_rest else self._obj.flush()
        if not self._obj.eof:
            raise FetchError("decode_error", f"truncated {self._coding} stream")
        return out[: limit + 1]


class _DecoderChain:
    """Content-Encoding stages in decoding order, with a cap on every stage's output."""

    def __init__(self, header: str | None, max_bytes: int) -> None:
        codings = [c.strip().lower() for c in (header or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > _MAX_ENCODINGS:
            raise FetchError("decode_error", f"{len(codings)} stacked content encodings")
        stages: list[_Inflater] = []
        for coding in reversed(codings):
            name = {"x-gzip": "gzip"}.get(coding, coding)
            if name not in ("gzip", "deflate"):
                raise FetchError("decode_error", f"unsupported content encoding {coding!r}")
            stages.append(_Inflater(name))
        self._stages = stages
        self._max_bytes = max_bytes
        self._inner_limit = max_bytes + _RAW_SLACK
        self._inner_produced = [0] * len(stages)

    def feed(self, data: bytes, remaining: int) -> bytes:
        """Decoded bytes for ``data``; at most ``remaining + 1`` of them.

        Raises ``_TooLargeError`` if an intermediate stage (of stacked encodings) exceeds its
        own cap.
        """
        if not self._stages:
            return data[: remaining + 1]
        for i, stage in enumerate(self._stages):
            last = i == len(self._stages) - 1
            limit = remaining if last else self._inner_limit - self._inner_produced[i]
            data = stage.feed(data, limit)
            if not last:
                self._inner_produced[i] += len(data)
                if len(data) > limit:
                    raise _TooLargeError
        return data

    def finish(self, remaining: int) -> bytes:
        """Flush every stage at end of body; raises decode_error on a cut-off stream."""
        data = b""
        for i, stage in enumerate(self._stages):
            last = i == len(self._stages) - 1
            limit = remaining if last else self._inner_limit - self._inner_produced[i]
            out = stage.feed(data, limit) if data else b""
            if len(out) <= limit:
                out += stage.finish(limit - len(out))
            if len(out) > limit:
                if not last:
                    raise _TooLargeError
                return out
            if not last:
                self._inner_produced[i] += len(out)
            data = out
        return data


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _content_length(headers: Mapping[str, str]) -> int | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    try:
        values = {int(v.strip()) for v in raw.split(",")}
    except ValueError:
        return None
    return values.pop() if len(values) == 1 else None


# --------------------------------------------------------------------------- client


def _map_transport_error(exc: BaseException, guard: _Guard, *, in_body: bool) -> FetchError:
    """Translate a urllib3/socket exception into a FetchError."""
    if guard.expired or guard.remaining() <= 0:
        return FetchError("timeout", "wall-clock deadline exceeded")
    chain: list[BaseException] = [exc]
    chain.extend(a for a in getattr(exc, "args", ()) if isinstance(a, BaseException))
    if exc.__cause__ is not None:
        chain.append(exc.__cause__)
    if any(isinstance(e, SSLError | ssl.SSLError | ssl.CertificateError) for e in chain):
        return FetchError("tls_error", f"TLS failure: {exc}")
    if isinstance(exc, NewConnectionError):  # subclasses ConnectTimeoutError: test first
        return FetchError("connection_error", f"connection failed: {exc}")
    if any(isinstance(e, ConnectTimeoutError | ReadTimeoutError | TimeoutError) for e in chain):
        return FetchError("timeout", f"socket timeout: {exc}")
    if in_body and isinstance(exc, ProtocolError | OSError):
        return FetchError("truncated", f"body cut short: {exc}")
    return FetchError("connection_error", f"connection error: {exc}")


class HttpClient:
    """Safe GET client; cheap to construct, thread-safe, pools created lazily.

    ``resolver`` replaces :func:`socket.getaddrinfo` (tests use a stub). ``ca_certs``
    replaces the certifi bundle with another PEM file (tests use a private CA); there is
    no way to turn verification off.

    Pickling keeps only the configuration (pools and the watchdog are rebuilt on first
    use), so a client can sit on a DoFn; still prefer creating it in ``setup()`` and
    calling :meth:`close` in ``teardown()``. ``get`` after ``close`` raises RuntimeError.
    """

    def __init__(
        self,
        config: HttpConfig,
        resolver: Resolver | None = None,
        *,
        ca_certs: str | None = None,
    ) -> None:
        self._config = config
        self._resolver: Resolver = resolver if resolver is not None else socket.getaddrinfo
        self._ca_certs = ca_certs if ca_certs is not None else _DEFAULT_CA_CERTS
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._pools: OrderedDict[tuple[str, str, int, str], HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()
        self._watchdog = _Watchdog()
        self._closed = False
        # Stop the watchdog thread if the client is dropped without close().
        weakref.finalize(self, self._watchdog.stop, join=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self._config, "resolver": self._resolver, "ca_certs": self._ca_certs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._config = state["config"]
        self._resolver = state["resolver"]
        self._ca_certs = state["ca_certs"]
        self._init_runtime()

    @property
    def config(self) -> HttpConfig:
        return self._config

    def close(self) -> None:
        """Close pooled connections and stop the watchdog thread. Idempotent."""
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()
        self._watchdog.stop()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        config: HttpConfig | None = None,
        truncate: bool = False,
    ) -> FetchResponse:
        """GET ``url`` under ``config`` (default: the client's), following redirects.

        Returns 2xx and 304 responses; raises :class:`FetchError` for everything else.
        ``extra_headers`` (e.g. ``If-None-Match``) are sent on every hop; credentials,
        ``Host``, ``User-Agent``, ``Accept-Encoding`` and framing headers in it are
        ignored. With ``truncate=True`` a body over ``max_bytes`` is cut at the cap
        (``FetchResponse.truncated``) instead of failing with ``too_large``; robots.txt
        uses this, since RFC 9309 says to parse only the first 500 KiB or more.
        """
        cfg = config if config is not None else self._config
        headers = _request_headers(cfg, extra_headers)
        started = time.monotonic()
        guard = _Guard(started + cfg.timeout_s)
        self._watchdog.arm(guard)
        previous = _current_guard()
        _local.guard = guard
        try:
            return self._get(url, cfg, headers, guard, started, truncate)
        finally:
            guard.finish()
            _local.guard = previous

    def _get(
        self,
        url: str,
        cfg: HttpConfig,
        headers: dict[str, str],
        guard: _Guard,
        started: float,
        truncate: bool,
    ) -> FetchResponse:
        target = _parse_target(url)
        requested = _strip_userinfo(url)
        redirects: list[str] = []
        moved_to: str | None = None
        permanent = True
        while True:
            resp = self._send(target, cfg, headers, guard)
            status = resp.status
            location = resp.headers.get("location")
            if status in _REDIRECT_STATUSES and location:
                _discard(resp)
                if len(redirects) >= cfg.max_redirects:
                    raise FetchError(
                        "too_many_redirects", f"more than {cfg.max_redirects} redirects"
                    )
                target = _parse_target(urljoin(target.url, _header_text(location).strip()))
                redirects.append(target.url)
                permanent = permanent and status in (301, 308)
                if permanent:
                    moved_to = target.url
                continue
            if 200 <= status < 300 or status == 304:
                break
            retry_after = resp.headers.get("retry-after") if status in (429, 503) else None
            _discard(resp)
            raise FetchError(
                "http_error",
                f"HTTP {status} from {redact_url(target.url)}",
                status=status,
                retry_after=retry_after,
            )
        try:
            body, cut = self._read_body(resp, cfg, guard, truncate)
        finally:
            _discard(resp)
        return FetchResponse(
            url=requested,
            final_url=target.url,
            status=status,
            headers={k.lower(): v for k, v in _header_items(resp)},
            body=body,
            redirects=tuple(redirects),
            elapsed_s=time.monotonic() - started,
            truncated=cut,
            moved_to=moved_to,
        )

    def _pool(self, scheme: str, ip: str, port: int, hostname: str) -> HTTPConnectionPool:
        key = (scheme, ip, port, hostname)
        with self._lock:
            if self._closed:
                raise RuntimeError("HttpClient is closed")
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            if scheme == "https":
                tls_name = hostname.rstrip(".")
                pool = _HTTPSPool(
                    ip,
                    port,
                    maxsize=_POOL_MAXSIZE,
                    block=False,
                    retries=False,
                    cert_reqs="CERT_REQUIRED",
                    ca_certs=self._ca_certs,
                    assert_hostname=tls_name,
                    server_hostname=tls_name,
                )
            else:
                pool = _HTTPPool(ip, port, maxsize=_POOL_MAXSIZE, block=False, retries=False)
            self._pools[key] = pool
            evicted = None
            if len(self._pools) > _MAX_POOLS:
                evicted = self._pools.popitem(last=False)[1]
        if evicted is not None:
            evicted.close()
        return pool

    def _send(
        self, target: _Target, cfg: HttpConfig, headers: dict[str, str], guard: _Guard
    ) -> BaseHTTPResponse:
        addresses = resolve(target.host, target.port, self._resolver)
        for ip in addresses:  # every address is vetted, not just the one we dial
            cfg.policy.check(ip, target.port)
        if guard.remaining() <= 0:
            raise FetchError("timeout", "wall-clock deadline exceeded")
        request_headers = dict(headers)
        request_headers["Host"] = target.netloc
        last: BaseException | None = None
        for ip in addresses[:_MAX_ADDRESSES]:
            remaining = guard.remaining()
            if remaining <= 0 or guard.expired:
                raise FetchError("timeout", "wall-clock deadline exceeded")
            timeout = Timeout(
                connect=min(cfg.connect_timeout_s, remaining),
                read=min(cfg.read_timeout_s, remaining),
            )
            pool = self._pool(target.scheme, ip, target.port, target.host)
            try:
                return pool.urlopen(
                    "GET",
                    target.request_target,
                    headers=request_headers,
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    timeout=timeout,
                    release_conn=False,
                    preload_content=False,
                    decode_content=False,
                    enforce_content_length=True,
                )
            except (NewConnectionError, ConnectTimeoutError) as exc:
                last = exc  # never connected: try the next vetted address
            except (HTTPError, OSError, ValueError) as exc:
                raise _map_transport_error(exc, guard, in_body=False) from exc
        assert last is not None
        raise _map_transport_error(last, guard, in_body=False) from last

    def _read_body(
        self, resp: BaseHTTPResponse, cfg: HttpConfig, guard: _Guard, truncate: bool
    ) -> tuple[bytes, bool]:
        resp_headers = {k.lower(): v for k, v in _header_items(resp)}
        if resp.status not in (204, 304):
            if cfg.allowed_content_types is not None:
                media = _media_type(resp_headers.get("content-type"))
                allowed = {_media_type(t) for t in cfg.allowed_content_types}
                if media not in allowed:
                    raise FetchError(
                        "bad_content_type", f"content type {media or '(none)'!r} not allowed"
                    )
            declared = _content_length(resp_headers)
            if declared is not None and declared > cfg.max_bytes and not truncate:
                raise FetchError(
                    "too_large", f"Content-Length {declared} exceeds cap {cfg.max_bytes}"
                )
        decoder = _DecoderChain(resp_headers.get("content-encoding"), cfg.max_bytes)
        parts: list[bytes] = []
        total = 0
        raw_total = 0
        raw_cap = cfg.max_bytes + _RAW_SLACK
        conn = resp.connection
        while True:
            remaining = guard.remaining()
            if remaining <= 0 or guard.expired:
                raise FetchError("timeout", "wall-clock deadline exceeded while reading body")
            sock = getattr(conn, "sock", None)
            if sock is not None:
                sock.settimeout(min(cfg.read_timeout_s, remaining))
            try:
                chunk = resp.read1(_CHUNK, decode_content=False)
            except (HTTPError, OSError, ValueError) as exc:
                raise _map_transport_error(exc, guard, in_body=True) from exc
            if guard.expired:
                raise FetchError("timeout", "wall-clock deadline exceeded while reading body")
            if not chunk:
                break
            raw_total += len(chunk)
            try:
                out = decoder.feed(chunk, cfg.max_bytes - total)
            except _TooLargeError:
                if truncate:
                    return b"".join(parts), True
                raise FetchError("too_large", f"body exceeds {cfg.max_bytes} bytes") from None
            if total + len(out) > cfg.max_bytes or raw_total > raw_cap:
                if truncate:
                    parts.append(out[: cfg.max_bytes - total])
                    return b"".join(parts), True
                raise FetchError("too_large", f"body exceeds {cfg.max_bytes} bytes")
            parts.append(out)
            total += len(out)
        try:
            tail = decoder.finish(cfg.max_bytes - total)
        except _TooLargeError:
            if truncate:
                return b"".join(parts), True
            raise FetchError("too_large", f"body exceeds {cfg.max_bytes} bytes") from None
        if total + len(tail) > cfg.max_bytes:
            if truncate:
                parts.append(tail[: cfg.max_bytes - total])
                return b"".join(parts), True
            raise FetchError("too_large", f"body exceeds {cfg.max_bytes} bytes")
        parts.append(tail)
        return b"".join(parts), False


def _request_headers(cfg: HttpConfig, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {
        "User-Agent": cfg.user_agent,
        "Accept-Encoding": "gzip, deflate",
        "Accept": "*/*",
    }
    for name, value in (extra or {}).items():
        if any(c in name or c in value for c in "\r\n\0") or not name.strip():
            raise ValueError(f"invalid header {name!r}")
        if name.strip().lower() in _FORBIDDEN_HEADERS:
            continue
        for existing in list(headers):
            if existing.lower() == name.strip().lower():
                del headers[existing]
        headers[name.strip()] = value
    return headers


def _header_items(resp: BaseHTTPResponse) -> list[tuple[str, str]]:
    merged: dict[str, list[str]] = {}
    for name, value in resp.headers.items():
        merged.setdefault(name.lower(), []).append(value)
    return [(name, ", ".join(values)) for name, values in merged.items()]


def _header_text(value: str) -> str:
    """http.client decodes header bytes as latin-1; recover UTF-8 where that is what it was."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _discard(resp: BaseHTTPResponse) -> None:
    """Give the connection back: to the pool if the body was fully read, else closed."""
    try:
        if not resp.closed and resp.connection is not None:
            resp.close()  # unread body: the connection cannot be reused
        resp.release_conn()
    except (HTTPError, OSError):
        pass


# --------------------------------------------------------------------------- bodies

_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: same first two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels Python does not know, mapped to the codec WHATWG uses for them.
_LABEL_ALIASES: Final = {
    "windows-874": "cp874",
    "x-sjis": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "x-gbk": "gbk",
    "ks_c_5601-1987": "cp949",
    "x-euc-jp": "euc_jp",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
}
# Python codec names WHATWG replaces with a superset; decoding with the superset is
# what browsers do and turns fewer bytes into U+FFFD.
_SUPERSETS: Final = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "utf-16": "utf-16-le",
    "utf-32": "utf-32-le",
}
# Every text codec a web page may legitimately declare (after the mappings above).
# Anything else (utf-7, rot13, idna, unicode_escape, zlib...) is ignored as unknown.
_WEB_CODECS: Final = frozenset(
    {
        "utf-8",
        "utf-16-le",
        "utf-16-be",
        "utf-32-le",
        "utf-32-be",
        "cp1250",
        "cp1251",
        "cp1252",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "cp866",
        "cp874",
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "gbk",
        "gb18030",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "cp932",
        "cp949",
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    }
)
_HTTP_CHARSET: Final = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]{1,40})""", re.I)
_XML_DECL: Final = re.compile(
    rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']\s*([A-Za-z0-9._:+-]{1,40})""", re.I
)
_META_CHARSET: Final = re.compile(
    rb"""<meta[^>]{0,500}?charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]{1,40})""", re.I
)
_SNIFF_WINDOW: Final = 2048


def _codec_for(label: str | bytes | None) -> str | None:
    """Python codec for a declared charset label, or None if unknown / not allowed."""
    if not label:
        return None
    text = label.decode("ascii", "replace") if isinstance(label, bytes) else label
    text = text.strip().strip("\"'").lower()
    text = _LABEL_ALIASES.get(text, text)
    try:
        name = codecs.lookup(text).name
    except (LookupError, ValueError):
        return None
    name = _SUPERSETS.get(name, name)
    return name if name in _WEB_CODECS else None


def decode_body(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTTP body to text; returns ``(text, codec_used)``. Never raises.

    Precedence (first that applies wins; the codec name returned says which):

    1. a byte-order mark (UTF-8/16/32); the BOM is stripped from the text;
    2. ``charset`` in the HTTP ``Content-Type`` header;
    3. an XML declaration's ``encoding`` or an HTML ``<meta charset>`` /
       ``<meta http-equiv="Content-Type" content="...charset=...">`` in the first 2 KiB
       (a UTF-16/32 label there is read as UTF-8, as browsers do, since the bytes were
       evidently ASCII-compatible), and an in-document latin-1/windows-1252 label is
       overruled by UTF-8 when the body has non-ASCII bytes and is all valid UTF-8;
    4. UTF-8, if the whole body is valid UTF-8;
    5. cp1252 (windows-1252).

    Unknown or non-web labels (``x-foo``, ``utf-7``, ``rot13``) are skipped, falling
    through to the next rule. Legacy labels are widened the way browsers do
    (``iso-8859-1``/``ascii`` -> cp1252, ``shift_jis`` -> cp932, ``gb2312`` -> gbk).
    Undecodable bytes become U+FFFD.

    This does not detect compressed payloads: call :func:`sniff_compressed` (or
    :func:`ensure_not_compressed`) on the body first and dead-letter it as
    ``bad_content_type`` if it matches.
    """
    try:
        for bom, codec in _BOMS:
            if body.startswith(bom):
                return body[len(bom) :].decode(codec, errors="replace"), codec
        match = _HTTP_CHARSET.search(content_type or "")
        codec_or_none = _codec_for(match.group(1) if match else None)
        if codec_or_none is None:
            head = body[:_SNIFF_WINDOW]
            found = _XML_DECL.search(head) or _META_CHARSET.search(head)
            codec_or_none = _codec_for(found.group(1) if found else None)
            if codec_or_none is not None and codec_or_none.startswith(("utf-16", "utf-32")):
                codec_or_none = "utf-8"
            elif codec_or_none == "cp1252" and not body.isascii() and _is_utf8(body):
                # A page saved as UTF-8 under a template's stale latin-1 label: non-ASCII
                # cp1252 text is almost never also valid UTF-8, so the bytes win.
                codec_or_none = "utf-8"
        if codec_or_none is not None:
            return body.decode(codec_or_none, errors="replace"), codec_or_none
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return body.decode("cp1252", errors="replace"), "cp1252"
    except Exception:  # noqa: BLE001 - contract: never raise on hostile bytes
        return bytes(body).decode("utf-8", errors="replace"), "utf-8"


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_COMPRESSED_MAGIC: Final = (
    b"\x1f\x8b",  # gzip
    b"\x28\xb5\x2f\xfd",  # zstd frame
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"\x5d\x00\x00",  # lzma-alone
    b"\x04\x22\x4d\x18",  # lz4 frame
    b"PK\x03\x04",  # zip
    b"7z\xbc\xaf\x27\x1c",  # 7z
)
# C0 controls that never occur in text (NUL, TAB, LF, FF, CR and ESC are left out:
# NUL for UTF-16, ESC for ISO-2022-JP).
_BINARY_BYTES: Final = frozenset(
    set(range(0x01, 0x09)) | {0x0B} | set(range(0x0E, 0x1B)) | {0x1C, 0x1D, 0x1E, 0x1F}
)


def sniff_compressed(body: bytes) -> bool:
    """True if ``body`` (already content-decoded) looks like a compressed payload.

    Matches gzip, zlib, zstd (incl. skippable frames), bzip2, xz, lzma, lz4, zip and 7z
    magic numbers. Brotli has no magic number, so brotli-like data is recognised by a
    share of binary control bytes in the first 512 bytes that text never has (4 % or
    more; random or compressed data has about 10 %). Callers fetching text (feeds,
    articles) must reject a matching body (``bad_content_type``) rather than hand it to
    a parser that might decompress it without limits.
    """
    head = body[:512]
    if not head:
        return False
    if head.startswith(_COMPRESSED_MAGIC):
        return True
    if head[:1] == b"\x78" and head[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
        return True  # zlib header (the four compression levels zlib writes)
    if len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18":
        return True  # zstd / lz4 skippable frame
    binary = sum(1 for b in head if b in _BINARY_BYTES)
    return binary * 100 >= 4 * len(head) and binary >= 2


def ensure_not_compressed(body: bytes) -> None:
    """Raise ``FetchError('bad_content_type')`` if :func:`sniff_compressed` matches."""
    if sniff_compressed(body):
        raise FetchError("bad_content_type", "compressed or binary payload served as text")
