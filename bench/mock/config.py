"""The mock backend's configuration: one frozen `MockConfig`, the named rate-limit tiers, and the
mapping between both and the `bench mock` command line (so the child process gets the same config).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bench.errors import UsageError, choice_error

JITTERS = ("none", "normal", "lognormal")
FAULT_KINDS = ("5xx", "hang", "drop", "cut", "malformed")
KEY_ENV = "BENCH_MOCK_API_KEY"  # the key travels by environment, never on a command line
CONFIG_ENV = "BENCH_MOCK_CONFIG"  # JSON of MockConfig fields, read by the ASGI app factory


@dataclass(frozen=True)
class Tier:
    """Request and token budgets; None means no limit on that axis."""

    rps: float | None = None
    rpm: float | None = None
    rpd: float | None = None
    tpm: float | None = None
    tpd: float | None = None
    source: str = ""


# Named tiers. The seed's figures are the seed's; OpenAI's are its published limits for gpt-4o-mini as
# last seen (2024-2025) and cannot be checked offline: treat every OpenAI figure here as an assumption.
TIERS: dict[str, Tier] = {
    "tier-1": Tier(rpm=3, rpd=200, tpm=40_000, source=(
        "the seed's 'Tier 1' (3 RPM / 200 RPD: OpenAI's former free tier); TPM 40,000 is that free tier's "
        "published figure (assumption)")),
    "tier-2": Tier(rpm=60, rpd=10_000, source="the seed's 'Tier 2' (60 RPM / 10,000 RPD); no TPM given"),
    "seed-10rps": Tier(rps=10, source="the seed's InMemoryRateLimiter(requests_per_second=10) as a limit"),
    "openai-tier-1": Tier(rpm=500, rpd=10_000, tpm=200_000, source="OpenAI tier 1, gpt-4o-mini (assumption)"),
    "openai-tier-2": Tier(rpm=5_000, tpm=2_000_000, source="OpenAI tier 2, gpt-4o-mini (assumption)"),
    "openai-tier-3": Tier(rpm=5_000, tpm=4_000_000, source="OpenAI tier 3, gpt-4o-mini (assumption)"),
    "openai-tier-4": Tier(rpm=10_000, tpm=10_000_000, source="OpenAI tier 4, gpt-4o-mini (assumption)"),
    "openai-tier-5": Tier(rpm=30_000, tpm=150_000_000, source="OpenAI tier 5, gpt-4o-mini (assumption)"),
}


def _opt(help_: str, **extra: Any) -> dict[str, Any]:
    return {"help": help_, **extra}


@dataclass(frozen=True)
class MockConfig:
    """Everything the mock's behaviour depends on. Each field is also a `bench mock` flag."""

    model: str = field(default="gpt-4o-mini", metadata=_opt("model id listed by /v1/models"))
    latency_ms: float | None = field(default=None, metadata=_opt(
        "fixed total latency per request (ms); overrides --ttft-ms/--itl-ms"))
    ttft_ms: float = field(default=0.0, metadata=_opt("time to first token (ms)"))
    itl_ms: float = field(default=0.0, metadata=_opt("interval per output token (ms)"))
    output_tokens: int = field(default=16, metadata=_opt(
        "output tokens when the request gives no max_tokens / max_completion_tokens"))
    jitter: str = field(default="none", metadata=_opt("latency distribution", choices=JITTERS))
    jitter_ms: float = field(default=0.0, metadata=_opt(
        "standard deviation of the total latency (ms); the mean stays the configured latency"))
    seed: int = field(default=0, metadata=_opt("seed of the latency and fault draws"))
    tier: str | None = field(default=None, metadata=_opt(f"rate-limit tier: {', '.join(TIERS)}"))
    rps: float | None = field(default=None, metadata=_opt("requests per second (overrides the tier's)"))
    rpm: float | None = field(default=None, metadata=_opt("requests per minute"))
    rpd: float | None = field(default=None, metadata=_opt("requests per day"))
    tpm: float | None = field(default=None, metadata=_opt("tokens per minute (prompt + max output)"))
    tpd: float | None = field(default=None, metadata=_opt("tokens per day"))
    fault_5xx_rate: float = field(default=0.0, metadata=_opt("share of requests answered with a 5xx"))
    fault_5xx_status: int = field(default=500, metadata=_opt("status of a 5xx fault"))
    fault_hang_rate: float = field(default=0.0, metadata=_opt(
        "share of requests that hang for --hang-seconds (past the client's timeout)"))
    fault_drop_rate: float = field(default=0.0, metadata=_opt(
        "share of requests whose connection is closed without a response"))
    fault_cut_rate: float = field(default=0.0, metadata=_opt("share of responses cut mid-way"))
    fault_malformed_rate: float = field(default=0.0, metadata=_opt("share of 200s with a malformed body"))
    hang_seconds: float = field(default=600.0, metadata=_opt("how long a hang fault lasts"))
    recent_requests: int = field(default=1000, metadata=_opt("size of the /mock/requests ring buffer"))
    # repr=False and never on a command line: a key must not show in logs, `ps` or reports.
    require_key: str | None = field(default=None, repr=False, metadata=_opt(
        f"API key the mock requires (401 otherwise); prefer the {KEY_ENV} environment variable",
        cli=False))

    def __post_init__(self) -> None:
        validate(self)

    @property
    def limits(self) -> Tier:
        """The tier's budgets with any explicit flag taking precedence."""
        base = TIERS[self.tier] if self.tier else Tier()
        over = {k: getattr(self, k) for k in ("rps", "rpm", "rpd", "tpm", "tpd") if getattr(self, k) is not None}
        return dataclasses.replace(base, **over)

    @property
    def fault_rates(self) -> dict[str, float]:
        return {
            "5xx": self.fault_5xx_rate, "hang": self.fault_hang_rate, "drop": self.fault_drop_rate,
            "cut": self.fault_cut_rate, "malformed": self.fault_malformed_rate,
        }

    def public_dict(self) -> dict[str, Any]:
        """The config for reports and /mock/stats: every field but the key."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "require_key"}
        out["require_key"] = self.require_key is not None
        return out

    def to_argv(self) -> list[str]:
        """`bench mock` flags that rebuild this config (the key excluded: pass it via KEY_ENV)."""
        argv: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if not f.metadata.get("cli", True) or value == f.default:
                continue
            argv += [_flag(f.name), str(value)]
        return argv

    def to_json(self) -> str:
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)})


def validate(cfg: MockConfig) -> None:
    if cfg.tier is not None and cfg.tier not in TIERS:
        raise choice_error("tier", cfg.tier, list(TIERS))
    if cfg.jitter not in JITTERS:
        raise choice_error("jitter", cfg.jitter, JITTERS)
    # `not value >= 0` (rather than `value < 0`) refuses NaN too; an infinite time or budget is no setting either.
    for name in ("latency_ms", "ttft_ms", "itl_ms", "jitter_ms", "hang_seconds"):
        value = getattr(cfg, name)
        if value is not None and not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"{_flag(name)} must be a finite number >= 0, got {value}")
    for name in ("rps", "rpm", "rpd", "tpm", "tpd"):
        value = getattr(cfg, name)
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise UsageError(f"{_flag(name)} must be a finite number > 0, got {value}")
    if cfg.output_tokens < 1:
        raise UsageError(f"--output-tokens must be >= 1, got {cfg.output_tokens}")
    if cfg.recent_requests < 1:
        raise UsageError(f"--recent-requests must be >= 1, got {cfg.recent_requests}")
    rates = cfg.fault_rates
    for kind, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise UsageError(f"--fault-{kind}-rate must be within [0, 1], got {rate}")
    if sum(rates.values()) > 1.0 + 1e-9:
        raise UsageError(f"fault rates add up to {sum(rates.values()):g}; at most 1")
    if not 500 <= cfg.fault_5xx_status <= 599:
        raise UsageError(f"--fault-5xx-status must be a 5xx code, got {cfg.fault_5xx_status}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _field_type(f: dataclasses.Field[Any]) -> type:
    text = str(f.type)
    return int if text.startswith("int") else float if text.startswith("float") else str


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per MockConfig field, generated so the CLI and the dataclass cannot drift apart."""
    for f in fields(MockConfig):
        kwargs: dict[str, Any] = {"dest": f.name, "type": _field_type(f), "default": None,
                                  "help": f.metadata["help"]}
        if "choices" in f.metadata:
            kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(_flag(f.name), **kwargs)


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> MockConfig:
    """Flags given on the command line over the defaults; the key from the flag or KEY_ENV."""
    environ = os.environ if environ is None else environ
    given = {f.name: getattr(args, f.name) for f in fields(MockConfig) if getattr(args, f.name, None) is not None}
    if "require_key" not in given and environ.get(KEY_ENV):
        given["require_key"] = environ[KEY_ENV]
    return MockConfig(**given)


def config_from_json(text: str) -> MockConfig:
    data = json.loads(text)
    known = {f.name for f in fields(MockConfig)}
    unknown = set(data) - known
    if unknown:
        raise UsageError(f"unknown mock config field(s): {', '.join(sorted(unknown))}")
    return MockConfig(**data)
