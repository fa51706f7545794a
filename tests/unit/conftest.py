"""Fixtures of the unit tests: loopback servers, closed after each test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.loopback import LocalServer, RawServer, Route


@pytest.fixture
def server() -> Iterator[Callable[..., LocalServer]]:
    made: list[LocalServer] = []

    def make(routes: dict[str, Route], **kwargs: Any) -> LocalServer:
        srv = LocalServer(routes, **kwargs)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    made: list[RawServer] = []

    def make(behaviour: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        srv = RawServer(behaviour)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.close()
