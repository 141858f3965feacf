"""The cost guard for paid backends: what a plan will call upstream, what that costs, and what it did cost.

Before a run `bench run` counts the upstream calls the plan makes (per step: bursts and sweeps one per user,
steady runs rate x duration, closed-loop runs at most users x duration / latency, a real backend's latency
assumed >= 100 ms; times the repetitions and variants, plus the warm-up requests and the backend probe's),
estimates their tokens (the prompt from the message the scenarios send, the output from the `max_tokens` cap or an
assumption when there is none) and prices them with the table in bench/run/prices.toml (overridable with
`--prices FILE`). It refuses to start above `--budget` unless `--yes`. The SDK's retries are not counted.
After the run, the usage the upstream itself reported (counted by the app, app_under_test/usage.py) is priced
the same way. Both go into results.json as `cost.estimate` and `cost.actual`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import SetupError, UsageError
from bench.run.profiles import WARM_UP_MESSAGE, WARM_UP_REQUESTS, Profile, Step
from bench.run.scenario_facts import facts

PRICES_PATH = Path(__file__).with_name("prices.toml")
DEFAULT_BUDGET_USD = 1.00
# With no max_tokens cap the output length is the model's choice; the scenarios ask for one sentence.
ASSUMED_OUTPUT_TOKENS = 256
# Closed-loop users send again as soon as an answer comes. A real backend answers at its own speed (the
# profile's latency configures the mock only), assumed never faster than this; the mock at its configured
# latency (each call takes at least that), floored so that 0 ms stays finite.
REAL_MIN_LATENCY_S = 0.1
MOCK_MIN_LATENCY_S = 0.001
# A dated snapshot of a priced model: gpt-4o-mini-2024-07-18, gpt-3.5-turbo-0125.
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


@dataclass(frozen=True)
class Price:
    """USD per 1 million tokens."""

    input_per_1m: float
    output_per_1m: float

    def usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / 1_000_000

    def to_dict(self) -> dict[str, float]:
        return {"input_per_1m": self.input_per_1m, "output_per_1m": self.output_per_1m}


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, Price]
    source: str

    def lookup(self, model: str | None) -> Price | None:
        """The model's price, or its undated name's for a dated snapshot; None when unknown."""
        if not model:
            return None
        if model in self.prices:
            return self.prices[model]
        base = _SNAPSHOT.sub("", model)
        return self.prices.get(base) if base != model else None


def _read_table(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the price file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"price file {path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: "
                         f"{exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"price file {path}: expected a table of models")
    return data


def _prices(data: Mapping[str, Any], path: Path) -> dict[str, Price]:
    """`{"prices": {model: {"input": usd, "output": usd}}}`, or the model table on its own."""
    table = data.get("prices", {k: v for k, v in data.items() if k != "source"})
    if not isinstance(table, dict):
        raise UsageError(f"price file {path}: 'prices' must be a table of models")
    out = {}
    for model, entry in table.items():
        values = [entry.get(k) if isinstance(entry, dict) else None for k in ("input", "output")]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values):
            raise UsageError(f"price file {path}: {model!r} needs input and output, USD per 1M tokens (>= 0)")
        out[str(model)] = Price(float(values[0]), float(values[1]))  # type: ignore[arg-type]
    return out


def load_prices(override: str | Path | None = None) -> PriceTable:
    """bench/run/prices.toml, with the entries of `override` (TOML, or JSON by its .json suffix) replacing or
    adding to it model by model."""
    if not PRICES_PATH.exists():
        raise SetupError(f"the price table {PRICES_PATH} is missing from this install")
    base = _read_table(PRICES_PATH)
    prices, source = _prices(base, PRICES_PATH), str(base.get("source", PRICES_PATH.name))
    if override:
        path = Path(override)
        extra = _prices(_read_table(path), path)
        prices.update(extra)
        source = f"{source}; {len(extra)} model(s) from {path}"
    return PriceTable(prices, source)


def prompt_tokens(message: str) -> int:
    """The mock's count, which is OpenAI's rule of thumb: ~4 characters a token, plus the chat format's few
    tokens per message (one user message; the app sends no system prompt)."""
    return 3 + 4 + (len(message) + 3) // 4


def calls_per_repetition(step: Step, users: int, *, real_backend: bool = True) -> int:
    """Upstream calls one repetition makes at `users` (for closed loops an upper bound), without retries."""
    scenario = facts(step.scenario)
    if (fixed := scenario.requests(step, users)) is not None:
        return fixed
    # concurrency, stream: each user in a closed loop, one request per answer, until the duration ends.
    latency = REAL_MIN_LATENCY_S if real_backend else max(step.latency_ms / 1000, MOCK_MIN_LATENCY_S)
    return scenario.closed_loop_bound(step, users, latency)


def warm_up_calls(step: Step) -> int:
    """bench/run/orchestrator.py's _warm_up before a warm step: a few requests to a one-worker app; none to a fresh
    app or to several workers (it only checks that each answers)."""
    if facts(step.scenario).fresh_app or step.workers > 1:
        return 0
    return WARM_UP_REQUESTS


@dataclass(frozen=True)
class Estimate:
    calls: int
    warm_up_calls: int
    input_tokens: int
    output_tokens: int
    output_per_call: int
    output_capped: bool  # output_per_call is the max_tokens cap, not an assumption
    model: str | None
    price: Price | None
    probe_calls: int = 0  # the backend probe's, before the runs (bench/run/backend_probe.py); in `calls`

    @property
    def usd(self) -> float | None:
        return None if self.price is None else self.price.usd(self.input_tokens, self.output_tokens)

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "warm_up_calls": self.warm_up_calls, "probe_calls": self.probe_calls,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "output_per_call": self.output_per_call,
                "output_capped": self.output_capped, "model": self.model,
                "price": self.price.to_dict() if self.price else None,
                "usd": None if self.usd is None else round(self.usd, 6)}

    def text(self) -> str:
        output = (f"max {self.output_per_call} a call" if self.output_capped
                  else f"uncapped, assumed {self.output_per_call} a call; --max-tokens caps it")
        tokens = f"~{self.input_tokens:,} input + {self.output_tokens:,} output tokens ({output})"
        if self.price is not None and self.usd is not None:
            cost = (f"~${self.usd:.4f} at {self.model} prices (${self.price.input_per_1m:.2f} / "
                    f"${self.price.output_per_1m:.2f} per 1M)")
        else:
            cost = f"no price known for model {self.model!r}" if self.model else "no model named, so no price"
        return (f"{self.calls:,} upstream calls ({self.warm_up_calls} warm-up, {self.probe_calls} backend probe), "
                f"{tokens}, {cost}")


def estimate(profile: Profile, *, model: str | None, prices: PriceTable, max_tokens: int | None = None,
             message: str | None = None, real_backend: bool = True, probe_calls: int = 0) -> Estimate:
    """The plan's upstream calls (warm-ups and `probe_calls`, the backend probe's, included), tokens and price;
    `real_backend` False for the mock."""
    if message is None:
        from scenarios.options import OPTIONS_BY_DEST

        message = str(OPTIONS_BY_DEST["message"].default)  # what every scenario sends unless told otherwise
    output = max_tokens or ASSUMED_OUTPUT_TOKENS
    measured = warm = 0
    for step in profile.steps:
        per_variant = sum(calls_per_repetition(step, users, real_backend=real_backend)
                          for users in (step.steps or (step.users,)))
        measured += len(step.variants) * per_variant * step.repetitions(profile.repeat)
        warm += len(step.variants) * warm_up_calls(step)
    calls = measured + warm + probe_calls
    return Estimate(calls=calls, warm_up_calls=warm,
                    input_tokens=((measured + probe_calls) * prompt_tokens(message)
                                  + warm * prompt_tokens(WARM_UP_MESSAGE)),
                    output_tokens=calls * output, output_per_call=output, output_capped=bool(max_tokens),
                    model=model, price=prices.lookup(model), probe_calls=probe_calls)


def is_guarded(kind: str, model: str | None, prices: PriceTable) -> bool:
    """OpenAI's API always; another non-mock backend only when it was given a model with a known price
    (a local server's model has none, and its calls cost nothing)."""
    if kind == "openai":
        return True
    return kind != "mock" and prices.lookup(model) is not None


def check_budget(est: Estimate, *, budget_usd: float, yes: bool) -> str | None:
    """None when the run may start without asking; raises UsageError (one line) when it may not; with --yes,
    the note saying what was waived."""
    if est.usd is None:
        if not yes:
            raise UsageError(f"no price known for model {est.model!r}, so no cost estimate for {est.calls:,} "
                             "upstream calls; add its price with --prices FILE, or pass --yes to run anyway")
        return f"no price known for model {est.model!r}; running anyway (--yes)"
    if est.usd > budget_usd:
        if not yes:
            raise UsageError(f"estimated cost ${est.usd:.4f} ({est.calls:,} upstream calls to {est.model}) is above "
                             f"the budget ${budget_usd:.2f}; raise --budget, cut the plan, or pass --yes")
        return f"estimated cost ${est.usd:.4f} is above the budget ${budget_usd:.2f}; running anyway (--yes)"
    return None


def actual(runs: Iterable[Mapping[str, Any]], price: Price | None) -> dict[str, Any]:
    """The usage the upstream reported over the measured runs (warm-up requests are not in any run)."""
    keys = ("input_tokens", "output_tokens", "calls", "unreported")
    totals = dict.fromkeys(keys, 0)
    counted = 0
    for run in runs:
        usage = run.get("usage")
        if isinstance(usage, Mapping):
            counted += 1
            for key in keys:
                totals[key] += int(usage.get(key) or 0)
    usd = price.usd(totals["input_tokens"], totals["output_tokens"]) if price else None
    return {**totals, "runs_counted": counted, "usd": None if usd is None else round(usd, 6),
            "scope": "measured runs; warm-up requests not included"}
