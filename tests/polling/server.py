"""A loopback HTTP server that records every request it gets, with timing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    started: float
    ended: float


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # time spent before answering (to make overlaps visible)


Handler = Callable[[str, dict[str, str]], Reply]


class RecordingServer:
    """Serves ``routes[path]`` (a :class:`Reply`, or a function of the request headers
    returning one); 404 otherwise. Answers ``If-None-Match`` with 304 when a reply's
    ETag matches, as a well-behaved publisher does. Every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                started = time.time()
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                headers = dict(self.headers)
                try:
                    route = server.routes.get(self.path)
                    if route is None:
                        reply = Reply(404, b"not here")
                    elif callable(route):
                        reply = route(self.path, headers)
                    else:
                        reply = route
                    time.sleep(reply.delay_s)
                    etag = reply.headers.get("ETag")
                    status = reply.status
                    body = reply.body
                    if etag and headers.get("If-None-Match") == etag and status == 200:
                        status, body = 304, b""
                    self.send_response(status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                        server.hits.append(Hit(self.path, headers, started, time.time()))

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def paths(self) -> list[str]:
        with self._lock:
            return [hit.path for hit in self.hits]

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
