"""App settings from `.env` and the environment, with the seed's variable names (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

# The openai SDK refuses to build a client without a key; a local mock does not check it.
PLACEHOLDER_KEY = "sk-placeholder-for-local-backends"


class SettingsError(ValueError):
    """A bad environment value, as one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    openai_api_key: SecretStr = SecretStr(PLACEHOLDER_KEY)
    openai_base_url: str | None = None
    openai_model: str = "gpt-3.5-turbo"
    openai_temperature: float = Field(0.7, ge=0, le=2)
    # The seed's InMemoryRateLimiter(requests_per_second=10, check_every_n_seconds=0.1, max_bucket_size=10).
    openai_rate_limit_requests_per_second: float = Field(10.0, gt=0)
    openai_rate_limit_check_every_n_seconds: float = Field(0.1, gt=0)
    openai_rate_limit_max_bucket_size: float = Field(10.0, gt=0)
    openai_max_retries: int = Field(2, ge=0)
    openai_timeout: float = Field(60.0, gt=0)
    # Sent as `max_tokens` in the body too: llama.cpp's server ignores `max_completion_tokens`. OpenAI's newer
    # models refuse `max_tokens`, so `bench` turns the copy off for --backend openai.
    openai_max_tokens: int | None = Field(None, gt=0)
    openai_max_tokens_in_body: bool = True
    log_level: str = Field("INFO", pattern=r"(?i)^(critical|error|warning|info|debug)$")

    app_variant: str = "async"
    app_debug_endpoints: bool = False
    app_agent_init_delay_ms: float = Field(0.0, ge=0)
    app_max_message_bytes: int = Field(32 * 1024, gt=0)
    # The blocked-loop sampler (blockwatch.py): which call blocked the event loop, shown in /api/debug/stats. Off by
    # default: measured beside it off, it cost ~10 ms of CPU a second idle and ~24% more app CPU per request in a
    # `bench run` burst (README, "Measured here"); every app the harness starts turns it on (bench/servers/app.py).
    app_blockwatch: bool = False
    app_blockwatch_threshold_ms: float = Field(20.0, gt=0)
    app_blockwatch_sample_interval_ms: float = Field(5.0, gt=0)
    # Regression knobs for proving the gate works; all off by default.
    app_inject_blocking_ms: float = Field(0.0, ge=0)
    app_inject_latency_ms: float = Field(0.0, ge=0)
    app_inject_skip_lock: bool = False
    # The shared rate limiter (variant axis limiter=redis): every process with the same URL and key shares one
    # rate, OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND. redis://, rediss:// or redis+unix://; unset, limiter=redis fails.
    redis_url: str | None = None
    app_rate_limit_key: str = Field("llm-bench:openai", min_length=1)


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises SettingsError naming the variable and what was wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise SettingsError(f"{name}: {err['msg']} (got {err.get('input')!r})") from None
