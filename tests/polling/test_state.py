"""State files: merged atomically from a run's updates; robots.txt cache saved and restored."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import USER_AGENT
from tests.polling.server import RecordingServer, Reply
from transforms.core.http import AddressPolicy, HttpClient, HttpConfig
from transforms.core.robots import RobotsCache
from transforms.core.state import StateUpdate, commit_updates, load_host_times, load_map


def test_latest_update_wins_and_other_keys_survive(tmp_path: Path) -> None:
    (tmp_path / "feeds.json").write_text(json.dumps({"old": {"x": 1}, "a": {"v": 0}}))
    lines = [
        StateUpdate("feeds", "a", {"v": 2}, at=20.0).to_line(),
        StateUpdate("feeds", "a", {"v": 1}, at=10.0).to_line(),
        StateUpdate("hosts", "h", {"not_before": 9e12}, at=5.0).to_line(),
        "{damaged",
        json.dumps({"kind": "passwords", "key": "k", "value": {}, "at": 1}),
    ]
    assert commit_updates(tmp_path, lines) == 2
    assert load_map(tmp_path, "feeds") == {"old": {"x": 1}, "a": {"v": 2}}
    assert load_host_times(tmp_path) == {"h": 9e12}
    assert not list(tmp_path.glob(".*.tmp"))  # nothing left behind by the atomic writes


def test_damaged_state_files_cost_nothing_but_a_fresh_start(tmp_path: Path) -> None:
    (tmp_path / "feeds.json").write_text("{not json")
    (tmp_path / "hosts.json").write_text("[1, 2]")
    assert load_map(tmp_path, "feeds") == {}
    assert load_host_times(tmp_path) == {}


def test_robots_cache_survives_a_restart() -> None:
    server = RecordingServer()
    server.routes["/robots.txt"] = Reply(200, b"User-agent: *\nDisallow: /private\n")
    try:
        config = HttpConfig(
            user_agent=USER_AGENT,
            timeout_s=5.0,
            policy=AddressPolicy.from_string(f"127.0.0.1:{server.port}"),
        )
        with HttpClient(config) as client:
            first = RobotsCache(client)
            assert not first.allowed(server.base_url + "/private/x")
            saved = json.loads(json.dumps(first.export()))  # as it is written to disk
            second = RobotsCache(client)
            assert second.preload(saved) == 1
            assert second.allowed(server.base_url + "/public")
            assert not second.allowed(server.base_url + "/private/y")
        assert server.paths() == ["/robots.txt"]
        expired = {k: {**v, "expires_at": 0} for k, v in saved.items()}
        assert RobotsCache(client).preload(expired) == 0
    finally:
        server.close()
