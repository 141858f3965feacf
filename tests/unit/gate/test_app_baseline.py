"""The gate of a user's app (bench/gate/app_baseline.py): a concern failing now that did not fail in the baseline,
or a call site blocking the loop that the baseline lacked, is a regression; a known failure, a fix and a line number
that moved are not. A baseline that is missing, of another kind or of another app is one line (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.errors import SetupError
from bench.gate import app_baseline as AB


def _verdicts(**status: str) -> dict[str, dict[str, Any]]:
    base = dict.fromkeys(("singleton", "event-loop", "burst-overlap", "rate-limits", "memory", "workers"), "pass")
    return {cid: {"status": s, "verdict": s, "measured": f"{cid} figures"} for cid, s in (base | status).items()}


def _baseline(sites: list[str] | None = None, **status: str) -> dict[str, Any]:
    return AB.build_baseline(app="m:app", verdicts=_verdicts(**status), sites=sites or [], results={}, source="r")


def test_unchanged_passes() -> None:
    decisions = AB.compare(_baseline(), _verdicts(), [])
    assert not any(d.regressed for d in decisions) and AB.headline(decisions).startswith("PASS")


def test_a_concern_that_starts_failing_regresses() -> None:
    decisions = AB.compare(_baseline(), _verdicts(**{"event-loop": "fail"}), [])
    assert [d.id for d in decisions if d.regressed] == ["event-loop"]
    assert AB.headline(decisions) == "FAIL: event-loop pass -> fail"
    not_measured_then = AB.compare(_baseline(singleton="not measured"), _verdicts(singleton="fail"), [])
    assert [d.id for d in not_measured_then if d.regressed] == ["singleton"]


def test_a_known_failure_and_a_fix_do_not_regress() -> None:
    known = AB.compare(_baseline(singleton="fail"), _verdicts(singleton="fail"), [])
    fixed = AB.compare(_baseline(singleton="fail"), _verdicts(), [])
    assert not any(d.regressed for d in known + fixed)
    assert "known" in known[0].note and "update it" in fixed[0].note


def test_a_new_blocking_call_regresses_even_when_the_loop_already_failed() -> None:
    old = AB.site_key({"file": "app.py", "function": "chat", "line": 40})
    moved = AB.site_key({"file": "app.py", "function": "chat", "line": 52})  # an edit above it
    new = AB.site_key({"file": "app.py", "function": "summarize", "line": 80})
    base = _baseline([old], **{"event-loop": "fail"})
    assert not any(d.regressed for d in AB.compare(base, _verdicts(**{"event-loop": "fail"}), [moved]))
    decisions = AB.compare(base, _verdicts(**{"event-loop": "fail"}), [moved, new])
    assert [(d.id, d.measured) for d in decisions if d.regressed] == [
        ("blocking-call", "new call blocking the event loop: app.py summarize")]


def test_the_outputs_name_the_regression(tmp_path: Path) -> None:
    decisions = AB.compare(_baseline(), _verdicts(singleton="fail"), [])
    paths = AB.write_outputs(decisions, tmp_path, app="m:app", baseline_path="b.json", results_path="r.json",
                             markdown_path=None, junit_path=None, elapsed_s=1.0)
    md, junit = (p.read_text(encoding="utf-8") for p in paths[:2])
    assert "FAIL" in md and "| singleton | pass | **fail** |" in md
    assert 'failures="1"' in junit and 'message="singleton: pass -&gt; fail"' in junit
    assert "REGRESSED" in AB.text_table(decisions)


def test_a_bad_baseline_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"no baseline at .*--update-baseline"):
        AB.load_baseline(tmp_path / "none.json", "m:app")
    reference = tmp_path / "ref.json"
    reference.write_text(json.dumps({"kind": "bench-gate-baseline"}), encoding="utf-8")
    with pytest.raises(SetupError, match="not a baseline of a user's app"):
        AB.load_baseline(reference, "m:app")
    path = AB.write_baseline(_baseline(), tmp_path / "b.json")
    assert AB.load_baseline(path, "m:app")["concerns"]["singleton"]["status"] == "pass"
    with pytest.raises(SetupError, match="is for 'm:app', not 'other:app'"):
        AB.load_baseline(path, "other:app")
