"""Fixtures of the hostile suite: the server, clients that may reach it, a stub resolver."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipeline import USER_AGENT
from tests.hostile.server import HostileServer
from transforms.core.http import AddressPolicy, HttpClient, HttpConfig


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


def http_config(server: HostileServer | None = None, **changes: Any) -> HttpConfig:
    """Short limits; only ``server``'s own port on loopback is allow-listed."""
    allow = f"127.0.0.1:{server.port}" if server is not None else ""
    values: dict[str, Any] = {
        "user_agent": USER_AGENT,
        "timeout_s": 1.5,
        "connect_timeout_s": 1.0,
        "read_timeout_s": 1.0,
        "max_bytes": 1024 * 1024,
        "policy": AddressPolicy.from_string(allow),
        **changes,
    }
    return HttpConfig(**values)


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
        family = socket.AF_INET6 if ":" in answer[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answer]


@pytest.fixture
def make_client() -> Iterator[Callable[..., HttpClient]]:
    made: list[HttpClient] = []

    def make(config: HttpConfig, resolver: StubResolver | None = None) -> HttpClient:
        client = HttpClient(config, resolver)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
