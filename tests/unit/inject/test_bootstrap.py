"""The child's entry (bench/inject/bootstrap.py): a target that cannot be served is one line naming why (and where
in the user's code), and `check_target` loads it with the instrumentation installed first."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.inject.bootstrap import ERROR_MARK, TargetError, _import_target

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def appdir(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _write(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    importlib.invalidate_caches()


@pytest.mark.parametrize(("ref", "factory", "source", "message"), [
    ("nomod_here:app", False, None, "cannot import 'nomod_here'.*no module named 'nomod_here'"),
    ("broken:app", False, "x = 1\nraise RuntimeError('boom')\n",
     r"importing broken failed: RuntimeError: boom \(.*broken.py:2\)"),
    ("deps_missing:app", False, "import not_installed_pkg\n", "importing deps_missing failed: ModuleNotFoundError"),
    ("noattr:app", False, "other = 1\n", "module noattr has no attribute 'app'"),
    ("notasgi:app", False, "app = 42\n", "app is a int, not an ASGI app"),
    ("plainfunc:make", False, "def make():\n    return None\n",
     "plain function; if it returns the app, give --factory"),
    ("fact:make", True, "def make():\n    raise ValueError('bad config')\n",
     r"calling make\(\) failed: ValueError: bad config"),
    ("nocolon", False, None, "expected MODULE:ATTR"),
])
def test_a_target_that_cannot_be_served_is_one_line(appdir: Path, ref: str, factory: bool, source: str | None,
                                                    message: str) -> None:
    if source is not None:
        _write(appdir, ref.partition(":")[0], source)
    with pytest.raises(TargetError, match=message) as info:
        _import_target(ref, factory)
    assert "\n" not in str(info.value)


def test_a_factory_and_an_asgi_callable_load(appdir: Path) -> None:
    _write(appdir, "good", """
        async def app(scope, receive, send):
            pass

        def make():
            return app
    """)
    assert callable(_import_target("good:app", False))
    assert _import_target("good:make", True) is _import_target("good:app", False)


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "from bench.inject.bootstrap import check_target; print(check_target())"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_check_target_loads_with_the_watch_installed_first(tmp_path: Path) -> None:
    (tmp_path / "userapp.py").write_text(textwrap.dedent("""
        class Agent:
            pass

        AGENT = Agent()

        async def app(scope, receive, send):
            pass
    """), encoding="utf-8")
    ok = _check({"BENCH_TARGET_APP": "userapp:app", "BENCH_TARGET_APP_DIR": str(tmp_path),
                 "BENCH_TARGET_WATCH": "userapp:Agent"})
    assert ok.stdout.strip() == "None", ok.stderr
    bad = _check({"BENCH_TARGET_APP": "userapp:app", "BENCH_TARGET_APP_DIR": str(tmp_path),
                  "BENCH_TARGET_WATCH": "userapp:Nope"})
    assert bad.stdout.strip() == f"{ERROR_MARK}--watch userapp:Nope: userapp has no class Nope"
