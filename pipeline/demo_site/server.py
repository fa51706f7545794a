"""A small HTTP server for the sample news site, bound to loopback.

Every file under `files/site/` is served at the same relative path, with the placeholder
`{{BASE}}` replaced by the running server's base URL, so the feeds hold absolute links to
this very server. The server behaves like a tidy real-world web server: content types per
extension, query strings ignored when mapping a path to a file (tracking-parameter
variants serve the same page), 404 for anything unknown, optional gzip, and ETag /
Last-Modified validators with 304 answers to conditional requests.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, NamedTuple, Self, overload
from urllib.parse import unquote, urlsplit

FILES_DIR = Path(__file__).resolve().parent / "files"
SITE_DIR = FILES_DIR / "site"
BASE_PLACEHOLDER = "{{BASE}}"

# One fixed date for every file: the site is a snapshot, and a fixed validator keeps
# conditional-request tests deterministic. It is later than every item in the feeds.
LAST_MODIFIED = datetime(2025, 2, 13, 15, 0, 0, tzinfo=UTC)

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Types worth compressing when the client asks for gzip.
_COMPRESSIBLE = ("text/", "application/rss+xml", "application/atom+xml", "application/feed+json")


class RecordedRequest(NamedTuple):
    """One request the server received (recorded before it answered)."""

    method: str
    path: str  # as sent on the request line, query string included
    headers: dict[str, str]
    time: float  # time.monotonic() on arrival


class RequestLog(Sequence[RecordedRequest]):
    """A thread-safe, append-only (but clearable) list of recorded requests.

    Handler threads append; tests read. Indexing and iteration work on a snapshot taken
    under the lock, so a reader never sees a half-updated list.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def paths(self) -> list[str]:
        """The request paths (with query) in arrival order."""
        return [r.path for r in self.snapshot()]

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        with self._lock:
            return self._items[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"


def content_type_for(path: PurePosixPath | Path) -> str:
    """The Content-Type the server sends for a file name."""
    return CONTENT_TYPES.get(path.suffix.lower(), _DEFAULT_CONTENT_TYPE)


def resolve_site_path(url_path: str, root: Path = SITE_DIR) -> Path | None:
    """Map a request target (path, maybe with query/fragment) to a file under `root`.

    The query string and fragment are ignored; a path ending in `/` means its
    `index.html`. Returns None for anything that is not an existing file inside `root`
    (including attempts to climb out of it with `..`).
    """
    path = unquote(urlsplit(url_path).path)
    if not path.startswith("/") or "\x00" in path:
        return None
    parts = [p for p in path.split("/") if p]
    if any(p in {".", ".."} or "\\" in p for p in parts):
        return None
    if path.endswith("/"):
        parts.append("index.html")
    candidate = root.joinpath(*parts) if parts else root / "index.html"
    try:
        resolved = candidate.resolve()
    except OSError:
        return None
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return resolved


def render(text: str, base_url: str) -> str:
    """Replace the `{{BASE}}` placeholder with a base URL (no trailing slash)."""
    return text.replace(BASE_PLACEHOLDER, base_url.rstrip("/"))


def _accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in {"gzip", "x-gzip", "*"}:
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _etag_matches(header: str, etags: set[str]) -> bool:
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/")
        if tag in etags:
            return True
    return False


class _Resource(NamedTuple):
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str  # of the identity body; the gzip variant gets a suffix


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    site: SiteServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (timeouts in tests) are normal here, not errors."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "newsbeam-demo-site/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests and `newsbeam demo` read `.requests` instead."""

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        site = self.server.site
        site.requests.append(
            RecordedRequest(self.command, self.path, dict(self.headers.items()), time.monotonic())
        )
        resource = site.resource(self.path)
        if resource is None:
            if self._redirect_directory(site):
                return
            body = b"<!DOCTYPE html><title>404 Not Found</title><h1>Not Found</h1>\n"
            self._respond(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", body, send_body)
            return

        use_gzip = resource.gzipped is not None and _accepts_gzip(
            self.headers.get("Accept-Encoding")
        )
        etag = resource.etag[:-1] + '-gz"' if use_gzip else resource.etag
        validators = {
            "ETag": etag,
            "Last-Modified": email.utils.format_datetime(site.last_modified, usegmt=True),
            "Vary": "Accept-Encoding",
            "Cache-Control": "max-age=60",
        }
        if self._not_modified(resource, site.last_modified):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in validators.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        body = resource.gzipped if use_gzip and resource.gzipped is not None else resource.body
        extra = dict(validators)
        if use_gzip:
            extra["Content-Encoding"] = "gzip"
        self._respond(HTTPStatus.OK, resource.content_type, body, send_body, extra)

    def _not_modified(self, resource: _Resource, last_modified: datetime) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
            return _etag_matches(if_none_match, {resource.etag, resource.etag[:-1] + '-gz"'})
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return last_modified <= since
        return False

    def _redirect_directory(self, site: SiteServer) -> bool:
        """`/outlet` -> 301 `/outlet/` when that directory has an index page."""
        split = urlsplit(self.path)
        if split.path.endswith("/") or resolve_site_path(split.path + "/", site.root) is None:
            return False
        location = site.base_url + split.path + "/" + (f"?{split.query}" if split.query else "")
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _respond(
        self,
        status: HTTPStatus,
        content_type: str,
        body: bytes,
        send_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class SiteServer:
    """The sample news site served on loopback from a daemon thread.

    Use as a context manager, or call `close()`. `base_url` has no trailing slash.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, root: Path = SITE_DIR) -> None:
        self.root = root
        self.requests = RequestLog()
        self.last_modified = LAST_MODIFIED
        self._cache: dict[Path, _Resource] = {}
        self._cache_lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.site = self
        self.host = host
        self.port: int = self._httpd.server_address[1]
        url_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{url_host}:{self.port}"
        self._closed = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"demo-site:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def url(self, path: str) -> str:
        """The absolute URL of a site path such as `/robots.txt`."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def resource(self, request_path: str) -> _Resource | None:
        """The rendered file behind a request path, or None (-> 404)."""
        file = resolve_site_path(request_path, self.root)
        if file is None:
            return None
        with self._cache_lock:
            cached = self._cache.get(file)
        if cached is not None:
            return cached
        body = render(file.read_text(encoding="utf-8"), self.base_url).encode("utf-8")
        content_type = content_type_for(file)
        gzipped = gzip.compress(body, mtime=0) if content_type.startswith(_COMPRESSIBLE) else None
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        resource = _Resource(body, gzipped, content_type, etag)
        with self._cache_lock:
            self._cache[file] = resource
        return resource

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<SiteServer {self.base_url} {state}>"


def serve_site(host: str = "127.0.0.1", port: int = 0) -> SiteServer:
    """Start serving the sample site; port 0 picks a free port (see `.port`/`.base_url`)."""
    return SiteServer(host, port)
