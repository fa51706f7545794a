"""Canonical article URLs and the ids derived from them.

Two feed entries that point at one page must fetch it once and yield one record, so the
dedup key is the canonical URL: lower-cased scheme and host, default port, fragment,
userinfo and tracking parameters removed, remaining query parameters sorted. We keep
`www.` and `m.`: stripping them is wrong for a minority of sites that serve different
content there, and a syndicated copy is caught later by text similarity anyway.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

from transforms.core.http import MAX_URL_LENGTH, is_secret_param

# Query parameters that only say how a reader arrived at a page (analytics, campaign
# and click ids); they never select content.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "ref", "ref_src", "ref_url", "referrer",
        "cmpid", "cmp", "ito", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname",
        "ns_fee", "ocid", "sr_share", "smid", "spm", "soc_src", "soc_trk", "mkt_tok",
        "at_medium", "at_campaign", "rss", "feed", "xtor", "wt_mc", "wt.mc_id",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "ga_", "pk_", "mtm_", "hsa_", "oly_", "vero_", "__hs")

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidUrlError(ValueError):
    """A link that cannot be fetched: not http(s), no host, or absurdly long."""


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def resolve_link(link: str | None, base: str | None) -> str:
    """An entry's link made absolute against the feed's base URL; refuses non-web schemes."""
    if not link or not link.strip():
        raise InvalidUrlError("entry has no link")
    absolute = urljoin(base or "", link.strip())
    scheme = urlsplit(absolute).scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidUrlError(f"unsupported scheme {scheme or '(none)'!r}")
    return absolute


def canonicalize(url: str) -> str:
    """The canonical form of an http(s) URL (see module docstring)."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise InvalidUrlError(f"unparseable URL: {err}") from err
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidUrlError(f"unsupported scheme {scheme or '(none)'!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidUrlError("URL has no host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError as err:
        raise InvalidUrlError(f"invalid host name: {err}") from err
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=-._~") or "/"
    # Secret values are redacted even here: the canonical URL is stored in every record.
    query = [
        (k, "REDACTED" if is_secret_param(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def article_id(canonical_url: str) -> str:
    """Stable id of an article: the first 16 bytes of SHA-256 of its canonical URL, in hex."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]
