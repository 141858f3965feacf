"""`--watch MODULE:CLASS` (bench/inject/watch.py): constructions, live instances and their peak, construction sites
in the user's code with the thread that built each, for classes defined before and after the watch is installed,
named by the module that defines them or by one that only imports them."""

from __future__ import annotations

import builtins
import gc
import importlib
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.inject.watch import WatchError, WatchSet, parse_spec


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path for throw-away modules (a user's code: not the stdlib, not site-packages)."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    build_class = builtins.__build_class__
    yield tmp_path
    builtins.__build_class__ = build_class  # a failing test must not leave the hook installed
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _write(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    importlib.invalidate_caches()


def _snap(watches: WatchSet, spec: str) -> dict:
    return watches.snapshot(lambda f: Path(f).name)[spec]


def test_counts_constructions_live_instances_and_the_peak(modules: Path) -> None:
    _write(modules, "agentmod", """
        class Agent:
            pass

        def build():
            return Agent()
    """)
    watches = WatchSet(["agentmod:Agent"])
    watches.install()
    mod = importlib.import_module("agentmod")
    watches.resolve()
    kept = [mod.build() for _ in range(3)]
    mod.build()  # dropped at once: constructed, not live
    gc.collect()
    snap = _snap(watches, "agentmod:Agent")
    assert (snap["constructions"], snap["live"], snap["live_peak"]) == (4, 3, 4)
    del kept
    gc.collect()
    watches.reset_peaks()
    snap = _snap(watches, "agentmod:Agent")
    assert (snap["constructions"], snap["live"], snap["live_peak"]) == (4, 0, 0)
    assert watches.totals() == {"constructions": 4, "live_instances": 0, "live_instances_peak": 0}


def test_names_the_users_frame_and_the_thread_that_built_it(modules: Path) -> None:
    _write(modules, "deps", """
        class Client:
            pass

        def get_client():
            return Client()
    """)
    watches = WatchSet(["deps:Client"])
    watches.install()
    mod = importlib.import_module("deps")
    watches.resolve()
    together = threading.Barrier(5)  # alive at once: distinct threads, not one ident reused

    def build() -> None:
        mod.get_client()
        together.wait()

    threads = [threading.Thread(target=build, name=f"worker-{i}") for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mod.get_client()  # the main thread, no event loop running: start-up
    (site,) = _snap(watches, "deps:Client")["sites"]
    assert site["site"] == "deps.py:6 get_client" and site["code"] == "return Client()"
    assert site["count"] == 6 and site["threads"] == 6 and site["user_code"]
    assert site["where"] == {"thread": 5, "startup": 1}


def test_racing_threads_are_all_counted(modules: Path) -> None:
    _write(modules, "racy", """
        import time

        class Slow:
            def __init__(self):
                time.sleep(0.01)
    """)
    watches = WatchSet(["racy:Slow"])
    watches.install()
    mod = importlib.import_module("racy")
    watches.resolve()
    start = threading.Barrier(20)

    def build() -> None:
        start.wait()
        mod.Slow()

    threads = [threading.Thread(target=build) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _snap(watches, "racy:Slow")["constructions"] == 20


def test_a_construction_while_the_module_is_imported_counts(modules: Path) -> None:
    _write(modules, "eager", """
        class Agent:
            pass

        AGENT = Agent()  # built at import, before the module is done
    """)
    watches = WatchSet(["eager:Agent"])
    watches.install()
    importlib.import_module("eager")
    watches.resolve()
    snap = _snap(watches, "eager:Agent")
    assert snap["constructions"] == 1 and snap["live"] == 1
    assert builtins.__build_class__ is not watches._build_class  # the hook is gone once every spec is resolved


def test_a_class_the_module_only_imports_is_the_one_counted(modules: Path) -> None:
    _write(modules, "sdk", """
        class Client:
            pass
    """)
    _write(modules, "decoy", """
        class Client:  # the same name elsewhere: not the class asked for
            pass
    """)
    _write(modules, "appmod", """
        import decoy
        from sdk import Client

        CLIENT = Client()
        OTHER = decoy.Client()
    """)
    watches = WatchSet(["appmod:Client"])
    watches.install()
    mod = importlib.import_module("appmod")
    watches.resolve()
    snap = _snap(watches, "appmod:Client")
    assert snap["constructions"] == 1 and snap["resolved"] == "sdk:Client"
    mod.decoy.Client()
    assert _snap(watches, "appmod:Client")["constructions"] == 1
    assert "__init__" not in vars(mod.decoy.Client)  # the decoy is unpatched


def test_an_instance_without_weak_references_is_counted_but_not_followed(modules: Path) -> None:
    _write(modules, "slotted", """
        class Point:
            __slots__ = ("x",)

            def __init__(self):
                self.x = 1
    """)
    watches = WatchSet(["slotted:Point"])
    watches.install()
    mod = importlib.import_module("slotted")
    watches.resolve()
    keep = mod.Point()
    snap = _snap(watches, "slotted:Point")
    assert (snap["constructions"], snap["untracked"], snap["live"]) == (1, 1, 0)
    assert keep.x == 1


def test_a_class_already_imported_is_patched_at_once(modules: Path) -> None:
    _write(modules, "early", """
        class Early:
            pass
    """)
    mod = importlib.import_module("early")
    watches = WatchSet(["early:Early"])
    watches.install()
    mod.Early()
    assert _snap(watches, "early:Early")["constructions"] == 1
    watches.resolve()


@pytest.mark.parametrize("spec", ["nocolon", "mod:", ":Cls", "mod:Cls:extra", "1mod:Cls"])
def test_a_malformed_spec_is_one_line(spec: str) -> None:
    with pytest.raises(WatchError, match="expected MODULE:CLASS"):
        parse_spec(spec)


def test_a_spec_naming_no_class_is_one_line(modules: Path) -> None:
    _write(modules, "nothing", "VALUE = 1\n")
    watches = WatchSet(["nothing:Missing"])
    watches.install()
    importlib.import_module("nothing")
    with pytest.raises(WatchError, match="nothing has no class Missing"):
        watches.resolve()
    with pytest.raises(WatchError, match="cannot import"):
        WatchSet(["no_such_module_here:X"]).resolve()
