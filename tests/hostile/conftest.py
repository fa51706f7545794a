"""Fixtures of the hostile suite: the server, clients that may reach it, a stub resolver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipeline import USER_AGENT
from tests.hostile.server import HostileServer
from tests.loopback import StubResolver
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
