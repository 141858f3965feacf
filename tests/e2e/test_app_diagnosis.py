"""`bench run --app` on the example apps (examples/): the diagnosis finds exactly the problems planted in each, with
the file and line of the blocking call and of the racing construction, and clears the correct app; `bench gate
--app` on an app outside the project passes unchanged and fails once a blocking call is added; an app that does not
import, or has no POST route, is one line and exit 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.report.concerns import evaluate_concerns
from bench.results import shape
from bench.results.schema import load_results
from tests.unit.report.test_results_schema import problems

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _bench(*argv: str, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    return subprocess.run([sys.executable, "-m", "bench", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# (module, --watch, the concerns planted to fail)
CASES = [
    ("blocking_openai", "openai:OpenAI", {"singleton", "event-loop", "burst-overlap"}),
    ("langgraph_agent", "examples.langgraph_agent:ChatAgent", {"singleton"}),
    ("async_openai", "openai:AsyncOpenAI", set()),
]


@pytest.mark.parametrize(("module", "watch", "planted"), CASES, ids=[c[0] for c in CASES])
def test_the_diagnosis_finds_exactly_the_planted_problems(tmp_path: Path, module: str, watch: str,
                                                          planted: set[str]) -> None:
    started = time.perf_counter()
    proc = _bench("run", "--app", f"examples.{module}:app", "--watch", watch, "--repeat", "1", "--out",
                  str(tmp_path))
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"\n{module}: {elapsed:.0f} s\n{proc.stdout}")  # the diagnosis as printed, for the record (-s)
    results = load_results(tmp_path / "results.json")
    assert problems(json.loads((tmp_path / "results.json").read_text()), shape.Results) == []
    verdicts = {v.id: v for v in evaluate_concerns(results)}
    assert all(v.status != "not measured" for v in verdicts.values()), {k: v.measured for k, v in verdicts.items()}
    assert {cid for cid, v in verdicts.items() if v.status == "fail"} == planted, \
        {k: (v.status, v.measured) for k, v in verdicts.items()}
    assert f"Diagnosis of examples.{module}:app" in proc.stdout
    assert (tmp_path / "report.html").exists() and "## Concerns" in (tmp_path / "report.md").read_text()
    source = EXAMPLES / f"{module}.py"
    if module == "blocking_openai":
        build = _line_of(source, "_client = OpenAI()")
        call = _line_of(source, "completion = client.chat.completions.create(")
        assert f"examples/blocking_openai.py:{build} get_client" in verdicts["singleton"].measured
        assert "worker threads" in verdicts["singleton"].measured
        assert f"examples/blocking_openai.py:{call} chat" in verdicts["event-loop"].measured
    if module == "langgraph_agent":
        build = _line_of(source, "_agent = ChatAgent()")
        assert f"examples/langgraph_agent.py:{build} get_agent" in verdicts["singleton"].measured


def test_the_gate_fails_once_a_blocking_call_is_added(tmp_path: Path) -> None:
    """An app outside the project's packages (its own directory as the working directory), gated on the concerns
    its two scenarios measure: the baseline passes as it is, and a `time.sleep` in its async route fails it."""
    app_dir = tmp_path / "service"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "async_openai.py", app_dir / "chatapp.py")
    gate = ["gate", "--app", "chatapp:app", "--watch", "openai:AsyncOpenAI", "--scenarios", "cold-burst,burst",
            "--repeat", "1", "--baseline", str(tmp_path / "bench-baseline.json")]
    made = _bench(*gate, "--update-baseline", "--out", str(tmp_path / "base"), cwd=app_dir)
    assert made.returncode == 0, made.stderr[-3000:]
    passed = _bench(*gate, "--out", str(tmp_path / "same"), cwd=app_dir)
    assert passed.returncode == 0, passed.stdout + passed.stderr[-3000:]
    assert "PASS: no concern regressed" in passed.stdout
    source = (app_dir / "chatapp.py").read_text(encoding="utf-8")
    blocking = source.replace("async def chat(body: ChatIn, request: Request) -> ChatOut:\n",
                              "async def chat(body: ChatIn, request: Request) -> ChatOut:\n"
                              "    time.sleep(0.1)  # a synchronous call added to the async route\n")
    assert blocking != source
    (app_dir / "chatapp.py").write_text("import time\n" + blocking, encoding="utf-8")
    failed = _bench(*gate, "--out", str(tmp_path / "blocking"), cwd=app_dir)
    assert failed.returncode == 1, failed.stdout + failed.stderr[-3000:]
    assert "event-loop pass -> fail" in failed.stdout and "chatapp.py chat" in failed.stdout


def test_an_app_that_does_not_import_or_has_no_post_route_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "noroute.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/hi')\n"
                                         "def hi() -> dict:\n    return {}\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("import not_an_installed_package\n", encoding="utf-8")
    for ref, message in (("noroute:app", "has no POST route with a JSON body"),
                         ("broken:app", "importing broken failed: ModuleNotFoundError"),
                         ("missing:app", "cannot import 'missing'")):
        proc = _bench("run", "--app", ref, "--out", str(tmp_path / "out"), cwd=tmp_path, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was written
