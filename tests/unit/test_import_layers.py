"""The layers point one way: commands -> run pipeline -> servers / scenarios / results -> app.

Read from the source (every import statement, function-level ones included), so an edge that only a lazy
import makes is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app_under_test", "bench", "scenarios")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _ours(names: set[str]) -> set[str]:
    # `from bench import __version__` also records the bare package, which is no edge to any layer.
    return {m for m in names if m.split(".")[0] in PACKAGES and m not in PACKAGES}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            graph[_module_name(path)] = _ours(_imports(path))
    graph["locustfile"] = _ours(_imports(ROOT / "locustfile.py"))
    return graph


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# (who, may not import, except these). Prefixes are module names.
RULES: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    # Only the CLI layer knows the CLI.
    (("app_under_test", "scenarios", "bench.run", "bench.servers", "bench.mock", "bench.results", "bench.report",
      "bench.gate", "bench.errors", "locustfile"), ("bench.cli", "bench.commands"), ()),
    # The app under test is the bottom layer: it knows nothing of the harness.
    (("app_under_test",), ("bench", "scenarios"), ()),
    # The mock backend stands alone: only the exception tree, the child-process helpers below it and the
    # harness's HTTP client (one TLS context, httpx only).
    (("bench.mock",), ("bench", "scenarios"), ("bench.mock", "bench.errors", "bench.servers.process",
                                                   "bench.servers.uvicorn_runner", "bench.servers.httpclient")),
    # Child processes know no pipeline, report or gate.
    (("bench.servers",), ("bench", "scenarios"), ("bench.servers", "bench.errors", "bench.mock")),
    # results.json's contract is read by report and gate; it imports neither, nor the pipeline.
    (("bench.results",), ("bench", "scenarios"), ("bench.results", "bench.errors", "bench.__version__")),
    # Report and gate read results; they do not run anything (the report's chart-drawing children excepted: they
    # die with it, by the servers' lifeline helper).
    (("bench.report",), ("bench.run", "bench.servers", "bench.gate", "bench.mock", "scenarios"),
     ("bench.servers.lifeline",)),
    (("bench.gate",), ("bench.report", "bench.servers", "bench.mock", "scenarios"), ()),
    # The run pipeline does not render or judge.
    (("bench.run",), ("bench.report", "bench.gate"), ()),
    # Locust's side may start servers (the web UI's embedded stack) but never the pipeline that runs Locust:
    # bench.run imports scenarios, so scenarios importing bench.run (backends aside) would be a cycle.
    (("scenarios", "locustfile"), ("bench.run",), ("bench.run.backends",)),
    # ...and what scenarios import must not import scenarios back.
    (("bench.errors", "bench.run.backends"), ("scenarios",), ()),
    # The child side of `--app` (loaded into the user's app process by name) knows only the app's instrumentation.
    (("bench.inject",), ("bench", "scenarios"), ("bench.inject",)),
    # ...and only the CLI (`bench serve --app` checks the target in its own process) imports it.
    (("app_under_test", "scenarios", "bench.run", "bench.servers", "bench.mock", "bench.results", "bench.report",
      "bench.gate", "bench.errors", "locustfile"), ("bench.inject",), ()),
]


@pytest.mark.parametrize(("who", "banned", "allowed"), RULES, ids=[",".join(r[0]) for r in RULES])
def test_no_import_runs_against_the_layers(who: tuple[str, ...], banned: tuple[str, ...],
                                           allowed: tuple[str, ...]) -> None:
    bad = sorted(f"{mod} imports {imp}" for mod, imps in _graph().items() if _under(mod, who)
                 for imp in imps if _under(imp, banned) and not _under(imp, allowed))
    assert not bad, "\n".join(bad)


def test_examples_are_apps_outside_the_harness() -> None:
    """The example apps stand for a user's own code: they import nothing of the harness or the reference app."""
    bad = sorted(f"{path.name} imports {imp}" for path in (ROOT / "examples").glob("*.py")
                 for imp in _imports(path) if imp.split(".")[0] in PACKAGES)
    assert not bad, "\n".join(bad)


def test_the_scan_sees_imports() -> None:
    graph = _graph()
    assert "bench.run.locust_job" in graph and any(m.startswith("scenarios") for m in graph["bench.run.locust_job"])
    assert "bench.errors" in graph["bench.cli"]
