"""`--app MODULE:ATTR` on the pipeline's side (bench/run/target.py, bench/commands/target_args.py): the flags make one
UserTarget or one line of error, its profile is the quick profile's scenarios with the app as the only variant, and
each run's `--watch` figures are merged over the workers."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.commands.target_args import add_target_arguments, target_from_args
from bench.errors import UsageError
from bench.run.config import RunConfig, plan, validate
from bench.run.profiles import PROFILES
from bench.run.target import DEFAULT_TIER, UserTarget, merge_watched, target_profile
from bench.servers.target import TargetSpec, read_env_file
from scenarios.request_spec import parse_request


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_target_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_flags_make_a_target(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# settings\nexport A=1\nB='two words'\nC=3 # a comment\n", encoding="utf-8")
    t = target_from_args(_args("--app", "myapp.main:make", "--factory", "--app-dir", str(tmp_path), "--watch",
                               "openai:OpenAI", "--watch", "myapp.agent:Agent", "--workers", "2", "--env-file",
                               str(env_file), "--env", "C=flag", "--request", 'POST /chat {"m": 1}', "--header",
                               "Authorization: Bearer x", "--tier", "tier-2"))
    assert t is not None
    assert t.spec == TargetSpec("myapp.main:make", factory=True, app_dir=str(tmp_path.resolve()),
                                watch=("openai:OpenAI", "myapp.agent:Agent"),
                                env=(("A", "1"), ("B", "two words"), ("C", "3"), ("C", "flag")), workers=2)
    assert t.request is not None and t.request.headers == (("Authorization", "Bearer x"),) and t.tier == "tier-2"
    assert t.spec.child_env("http://m/v1")["C"] == "flag"  # the flag wins over the file
    assert "Bearer" not in str(t.describe()) and t.describe()["env_keys"] == ["A", "B", "C", "C"]


def test_no_app_no_target_and_app_flags_alone_are_one_line() -> None:
    assert target_from_args(_args()) is None
    for argv in (["--watch", "openai:OpenAI"], ["--factory"], ["--env", "A=1"], ["--request", "POST /x"]):
        with pytest.raises(UsageError, match="give --app MODULE:ATTR"):
            target_from_args(_args(*argv))


@pytest.mark.parametrize(("argv", "message"), [
    (["--app", "myapp"], "expected MODULE:ATTR"),
    (["--app", "m:a", "--watch", "OpenAI"], "expected MODULE:CLASS"),
    (["--app", "m:a", "--env", "NOEQUALS"], "expected KEY=VALUE"),
    (["--app", "m:a", "--env-file", "/no/such/file"], "--env-file /no/such/file"),
    (["--app", "m:a", "--app-dir", "/no/such/dir"], "no such directory"),
    (["--app", "m:a", "--tier", "gold"], "unknown tier 'gold'"),
    (["--app", "m:a", "--workers", "0"], "--workers must be at least 1"),
])
def test_bad_flags_are_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        target_from_args(_args(*argv))


def test_an_env_file_line_without_a_key_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("GOOD=1\nnot a setting\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad\.env:2: expected KEY=VALUE"):
        read_env_file(str(bad))


def test_the_profile_is_the_quick_profiles_scenarios_on_the_app() -> None:
    target = UserTarget(TargetSpec("myapp.main:app", workers=2))
    profile = target_profile(target)
    quick = {s.scenario for s in PROFILES["quick"].steps}
    assert [s.scenario for s in profile.steps] == list(dict.fromkeys(s.scenario for s in PROFILES["quick"].steps))
    assert {s.scenario for s in profile.steps} == quick
    assert all(s.variants == ("myapp.main:app",) and s.claims == () for s in profile.steps)
    steady = next(s for s in profile.steps if s.scenario == "steady")
    assert steady.upstream_tier == DEFAULT_TIER and steady.upstream_limit_rps == 0.0
    workers = next(s for s in profile.steps if s.scenario == "workers")
    assert workers.workers >= 2 and all(s.workers >= 2 for s in profile.steps)  # the user's workers everywhere


def test_filters_and_the_stream_step() -> None:
    stream = parse_request("POST /chat/stream {}", flag="--stream-request")
    target = UserTarget(TargetSpec("m:a"), stream_request=stream)
    profile = target_profile(target, scenarios=("burst", "stream"), users=20, repeat=1)
    assert [(s.scenario, s.users) for s in profile.steps] == [("burst", 20), ("stream", 10)]
    assert profile.repeat == 1 and all(s.repeat is None for s in profile.steps)
    with pytest.raises(UsageError, match=r"'stream' is not run on a user's app.*give --stream-request"):
        target_profile(UserTarget(TargetSpec("m:a")), scenarios=("stream",))


def test_the_run_config_records_the_target_without_env_values() -> None:
    target = UserTarget(TargetSpec("m:a", env=(("SECRET", "s3cr3t"),)), request=parse_request("POST /c {}"))
    config = validate(RunConfig(profile="app", target=target))
    assert plan(config).name == "app"
    recorded = config.to_dict()
    assert recorded["target"]["app"] == "m:a" and "s3cr3t" not in str(recorded)
    assert "target" not in RunConfig().to_dict()  # the reference app's results are as before


def test_watched_figures_are_merged_over_the_workers() -> None:
    def stats(pid: int, constructions: int, live_peak: int, site_count: int) -> dict:
        site = {"site": "app.py:3 get", "file": "app.py", "line": 3, "function": "get", "code": "x = C()",
                "user_code": True, "count": site_count, "threads": site_count, "thread_names": {"w": site_count},
                "where": {"thread": site_count}}
        return {"pid": pid, "watched": {"m:C": {"constructions": constructions, "live": 1, "live_peak": live_peak,
                                                "untracked": 0, "resolved": "m:C", "sites": [site]}}}

    before = [stats(1, 1, 1, 1), stats(2, 0, 0, 0)]
    after = [stats(1, 3, 2, 3), stats(2, 2, 1, 2)]
    merged = merge_watched(before, after)
    assert merged is not None
    m = merged["m:C"]
    assert (m["constructions"], m["constructions_in_run"], m["per_process"]) == (5, 4, [3, 2])
    assert m["live_peak_per_process"] == [2, 1] and m["sites"][0]["count"] == 5 and m["sites"][0]["threads"] == 5
    assert merge_watched([], [{"pid": 1}]) is None
