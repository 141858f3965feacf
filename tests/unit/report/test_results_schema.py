"""results.json's documented shape (bench/results/shape.py) is what the builders write: the committed example and
a fresh `new_results` holding synthetic runs have every required key, no undeclared one, and the declared types;
`upgrade` fills in what a hand-made file lacks and leaves a written one as it is."""

from __future__ import annotations

import copy
import json
import types
from pathlib import Path
from typing import Any, NotRequired, Required, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from bench.errors import SetupError
from bench.results import shape
from bench.results.schema import SCHEMA_VERSION, load_results, new_results, upgrade, write_results
from tests.support.synthetic_results import synthetic_results

EXAMPLE = Path(__file__).resolve().parents[3] / "reports" / "example" / "results.json"


def required_keys(td: Any) -> set[str]:
    """Read from the hints: under postponed annotations Python 3.11's `__required_keys__` ignores NotRequired."""
    hints = get_type_hints(td, include_extras=True)
    if td.__total__:
        return {k for k, h in hints.items() if get_origin(h) is not NotRequired}
    return {k for k, h in hints.items() if get_origin(h) is Required}


def problems(value: Any, hint: Any, where: str = "results") -> list[str]:
    """Where `value` departs from `hint`: TypedDicts key by key, then lists, dicts, unions and scalars."""
    origin = get_origin(hint)
    if origin in (NotRequired, Required):
        return problems(value, get_args(hint)[0], where)
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not a {hint.__name__}"]
        hints = get_type_hints(hint, include_extras=True)
        out = [f"{where}.{k}: not declared in {hint.__name__}" for k in value if k not in hints]
        out += [f"{where}.{k}: required by {hint.__name__}, missing" for k in sorted(required_keys(hint) - set(value))]
        return out + [p for k, v in value.items() if k in hints for p in problems(v, hints[k], f"{where}.{k}")]
    if origin in (Union, types.UnionType):
        options = [o for o in get_args(hint) if value is None or o is not type(None)]
        fits = [problems(value, option, where) for option in options]
        return [] if [] in fits else min(fits, key=len)
    if origin is list:
        if not isinstance(value, list | tuple):  # a tuple in memory is a list once written
            return [f"{where}: {type(value).__name__}, not a list"]
        return [p for i, v in enumerate(value) for p in problems(v, get_args(hint)[0], f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not a dict"]
        return [p for k, v in value.items() for p in problems(v, get_args(hint)[1], f"{where}.{k}")]
    if hint is Any:
        return []
    if hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    ok = {float: (int, float), int: (int,), str: (str,), bool: (bool,)}.get(hint, (object,))
    if (isinstance(value, bool) and hint is not bool) or not isinstance(value, ok):
        return [f"{where}: {value!r} is not {getattr(hint, '__name__', hint)}"]
    return []


def test_the_committed_example_has_the_documented_shape() -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert problems(data, shape.Results) == []


def _fresh_results() -> dict[str, Any]:
    """What `bench run` starts from (bench/run/orchestrator.py `run_plan`), with the synthetic runs added."""
    from bench.run.backends import resolve_backend
    from bench.run.config import RunConfig, plan
    from bench.run.host import host_metadata

    config = RunConfig(profile="quick")
    profile = plan(config)
    results = new_results(label="quick", config=config.to_dict() | {
        "plan": [{"scenario": s.scenario, "variants": list(s.variants), "claims": list(s.claims), **s.params()}
                 for s in profile.steps], "repeat": profile.repeat}, host=host_metadata(),
        backend=resolve_backend("mock").describe())
    results["runs"] = synthetic_results()["runs"]
    return results


def test_new_results_with_synthetic_runs_has_the_documented_shape(tmp_path: Path) -> None:
    results = _fresh_results()
    assert results["schema_version"] == SCHEMA_VERSION
    assert problems(results, shape.Results) == []
    assert problems(load_results(write_results(results, tmp_path / "results.json")), shape.Results) == []


def test_the_checker_sees_an_undeclared_a_missing_and_a_mistyped_key() -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    run = data["runs"][0]
    run["surprise"] = 1
    del run["metrics"]["ok"]
    run["upstream"]["received"] = "many"
    assert sorted(problems(data, shape.Results)) == [
        "results.runs[0].metrics.ok: required by Metrics, missing",
        "results.runs[0].surprise: not declared in Run",
        "results.runs[0].upstream.received: 'many' is not int",
    ]


def test_upgrade_leaves_a_written_file_as_it_is() -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert upgrade(copy.deepcopy(data)) == data


def test_upgrade_fills_in_what_readers_used_to_patch() -> None:
    data: dict[str, Any] = {"schema_version": 1, "config": {}, "host": {"cpu_count": 4},
            "runs": [{"scenario": "burst", "variant": "async-limited"}, {"scenario": "burst", "variant": "nonsense"}]}
    upgrade(data)
    assert data["host"]["logical_cores"] == 4
    assert data["runs"][0]["axes"]["limiter"] == "memory" and "axes" not in data["runs"][1]


def test_an_unknown_version_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": 99, "config": {}, "host": {}, "runs": []}))
    with pytest.raises(SetupError, match="has schema_version 99; this bench reads 1"):
        load_results(path)
