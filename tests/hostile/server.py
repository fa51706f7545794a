"""A hostile HTTP server on loopback: each path misbehaves in its own way.

It works on raw sockets rather than ``http.server`` because the interesting failures sit
below HTTP: a status line that never comes, a body dripped a byte at a time, a
``Content-Length`` that lies, a stream that never ends. Every request is recorded
(path and headers) and counted per path, so a test can assert that something was *not*
fetched (canaries for XXE, external DTDs and blocked redirects).
"""

from __future__ import annotations

import datetime
import gzip
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loopback import RawServer


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]  # names lower-cased


Behaviour = Callable[[socket.socket, Request, threading.Event], None]


class HostileServer(RawServer):
    """Listens on 127.0.0.1:0; ``routes[path]`` (query ignored) decides what happens."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[Request] = []
        self.hits: Counter[str] = Counter()
        self._tls = tls
        self.scheme = "https" if tls else "http"
        super().__init__(self._handle)

    def route(self, path: str, behaviour: Behaviour, host: str = "127.0.0.1") -> str:
        self.routes[path] = behaviour
        return self.url(path, host)

    def _handle(self, conn: socket.socket, stop: threading.Event) -> None:
        # RawServer ignores OSError (ssl.SSLError is one): the client hanging up on us is
        # the point of most tests.
        if self._tls is not None:
            conn.settimeout(5)
            conn = self._tls.wrap_socket(conn, server_side=True)
        with conn:  # the TLS socket, when there is one: RawServer closes the plain one
            request = _read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            self.hits[request.path] += 1
            behaviour = self.routes.get(request.path, respond(404, b"not found"))
            behaviour(conn, request, stop)


def _read_request(conn: socket.socket) -> Request | None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    target = head[0].split(" ")[1]
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(target.split("?", 1)[0], headers)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --------------------------------------------------------------------------- behaviours


def respond(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    content_type: str = "text/html; charset=utf-8",
) -> Behaviour:
    """A well-formed response with an honest Content-Length."""
    merged = {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})}

    def run(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(_head(status, merged) + body)

    return run


def redirect(location: str, status: int = 302) -> Behaviour:
    return respond(status, headers={"Location": location})


def hang() -> Behaviour:
    """Reads the request, then never answers (accept-and-hang)."""

    def run(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        stop.wait(30)

    return run


def drip(interval_s: float, *, in_headers: bool = False) -> Behaviour:
    """Slowloris: one byte every ``interval_s``, in the body or already in the headers."""

    def run(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        if in_headers:
            payload = _head(200, {"Content-Type": "text/html", "X-Slow": "a" * 1000})
        else:
            conn.sendall(_head(200, {"Content-Type": "text/html", "Content-Length": "100000"}))
            payload = b"x" * 100_000
        for i in range(len(payload)):
            if stop.wait(interval_s):
                return
            conn.sendall(payload[i : i + 1])

    return run


def endless(chunk: bytes = b"<p>" + b"a" * 65536 + b"</p>", **headers: str) -> Behaviour:
    """A chunked body that never ends."""

    def run(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        hdrs = {"Content-Type": "text/html", "Transfer-Encoding": "chunked", **headers}
        conn.sendall(_head(200, hdrs))
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while not stop.is_set():
            conn.sendall(frame)

    return run


def lying_length(declared: int, actual: bytes) -> Behaviour:
    """Declares ``declared`` bytes, sends ``actual``, then closes the connection."""

    def run(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        hdrs = {"Content-Type": "text/html", "Content-Length": str(declared)}
        conn.sendall(_head(200, hdrs) + actual)

    return run


def gzip_bomb(decompressed_mib: int) -> bytes:
    """Zeros, gzip-compressed about 1000:1 (built by streaming, in bounded memory)."""
    import io

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        block = b"\0" * (1024 * 1024)
        for _ in range(decompressed_mib):
            gz.write(block)
    return out.getvalue()


# --------------------------------------------------------------------------- TLS


def self_signed_context(tmp: Path, host: str = "news.test") -> ssl.SSLContext:
    """A server context whose certificate nobody trusts (self-signed, for ``host``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` is the elapsed wall-clock seconds."""
    box: list[float] = []
    start = time.monotonic()
    yield box
    box.append(time.monotonic() - start)
