"""Loopback test servers and helpers shared by the HTTP and robots.txt tests."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from transforms.core.http import AddressPolicy, HttpConfig

UA = "newsbeam-test/1.0 (+https://newsbeam.example/bot)"
LOOPBACK = AddressPolicy.from_string("127.0.0.1")


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    client_port: int


Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class LocalServer:
    """ThreadingHTTPServer on 127.0.0.1:0 dispatching on path (query ignored)."""

    routes: dict[str, Route]
    tls: ssl.SSLContext | None = None
    http11: bool = False
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if self.http11 else "HTTP/1.0"

            def do_GET(self) -> None:
                outer.seen.append(
                    Seen(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        self.client_address[1],
                    )
                )
                route = outer.routes.get(self.path.split("?", 1)[0])
                try:
                    if route is None:
                        send(self, 404, b"not found")
                    else:
                        route(self)
                except OSError:  # the client hung up on us: that is the point of most tests
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RawServer:
    """Accepts TCP connections on 127.0.0.1 and hands each to ``behaviour(conn, stop)``."""

    scheme = "http"

    def __init__(self, behaviour: Callable[[socket.socket, threading.Event], None]) -> None:
        self.stop = threading.Event()
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self._behaviour = behaviour
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self._behaviour(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str | None = None) -> str:
        return f"{scheme or self.scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self._sock.close()


def send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    content_length: bool = True,
) -> None:
    h.send_response(status)
    merged = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    for name, value in merged.items():
        h.send_header(name, value)
    if content_length and "Content-Length" not in merged:
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if body:
        h.wfile.write(body)
        h.wfile.flush()


def body_route(body: bytes, **headers: str) -> Route:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda h: send(h, 200, body, hdrs)


def redirect_route(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, b"", {"Location": location})


def config(**overrides: Any) -> HttpConfig:
    base = HttpConfig(
        user_agent=UA, timeout_s=5.0, connect_timeout_s=2.0, read_timeout_s=2.0, policy=LOOPBACK
    )
    return replace(base, **overrides)


class StubResolver:
    """getaddrinfo stand-in: ``answers[host]`` is a list of IPs, or a list of such lists
    handed out one per call (DNS rebinding). Records every name it is asked for."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        answer = self.answers.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if answer and isinstance(answer[0], list):
            answer = answer[min(self.calls.count(host), len(answer)) - 1]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in answer
        ]
