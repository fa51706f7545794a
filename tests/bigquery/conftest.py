"""A real BigQuery emulator (bqemulator, DuckDB-backed) on a free loopback port.

Started once per session as a subprocess and stopped at the end. DuckDB's spatial
extension, which bqemulator loads at start-up, is installed from the pinned
`duckdb-extension-spatial` package's file, never downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from transforms.core.bigquery import EMULATOR_ENV, Tables, make_client

PROJECT = "newsbeam-test"
STARTUP_TIMEOUT_S = 60.0


def install_spatial_extension() -> None:
    import duckdb
    import duckdb_extension_spatial

    package = Path(duckdb_extension_spatial.__file__).parent
    (extension,) = package.glob(f"extensions/v{duckdb.__version__}/spatial.duckdb_extension")
    duckdb.connect().execute(f"INSTALL '{extension}'")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator's base URL; BIGQUERY_EMULATOR_HOST points at it for the session."""
    install_spatial_extension()
    port = free_port()
    log_path = tmp_path_factory.mktemp("bqemulator") / "emulator.log"
    command = [
        str(Path(sys.executable).with_name("bqemulator")),
        "start",
        "--rest-port", str(port),
        "--grpc-port", "0",
        "--project", PROJECT,
        "--log-level", "warning",
    ]  # fmt: skip
    # The avro extension is optional and would be downloaded: not wanted offline.
    env = {**os.environ, "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    previous = os.environ.get(EMULATOR_ENV)
    try:
        _wait_ready(url, process, log_path)
        os.environ[EMULATOR_ENV] = f"127.0.0.1:{port}"
        yield url
    finally:
        if previous is None:
            os.environ.pop(EMULATOR_ENV, None)
        else:
            os.environ[EMULATOR_ENV] = previous
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bqemulator exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"bqemulator not ready after {STARTUP_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def bq_client(emulator: str) -> Any:
    """The official google-cloud-bigquery client, pointed at the emulator."""
    return make_client(PROJECT, emulator)


_datasets = iter(range(1, 1_000_000))


@pytest.fixture
def tables(bq_client: Any) -> Tables:
    """A fresh dataset name per test (created by the code under test)."""
    return Tables(PROJECT, f"news_{next(_datasets)}", "articles")
