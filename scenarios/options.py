"""The scenarios' own command-line options: one table, registered on Locust's parser, read back typed.

`add_arguments` is what `events.init_command_line_parser` calls on the Locust side; `to_argv` is what the
orchestrator uses to build a Locust command line; `Settings` is the typed view every user reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from app_under_test.variants import PRESETS
from bench.errors import UsageError
from bench.mock.config import TIERS
from bench.run.backends import Backend, resolve_backend
from scenarios.registry import SCENARIOS
from scenarios.schedule import parse_steps

METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")
# The embedded app's default variant, listed first: the web UI's dropdown preselects its first entry.
DEFAULT_APP_VARIANT = "async"
APP_VARIANTS = (DEFAULT_APP_VARIANT, *(name for name in PRESETS if name != DEFAULT_APP_VARIANT))


@dataclass(frozen=True)
class Option:
    dest: str
    type: Callable[[Any], Any]
    default: Any
    help: str
    web_ui: bool = True
    choices: tuple[str, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.dest.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("scenario", str, "burst", "Scenario to run (see scenarios.registry)", choices=tuple(SCENARIOS)),
    # In the web UI the label follows the app_variant dropdown (scenarios/serving.py), so it is not shown there.
    Option("variant", str, "", "Label of the app variant under test, copied into every record; with no host, "
           "also the variant Locust starts unless --app-variant is given", web_ui=False),
    Option("repetition", int, 0, "Repetition number, copied into every record", web_ui=False),
    Option("records_dir", str, "", "Directory for per-request JSONL records (none written if empty)",
           web_ui=False),
    Option("records_format", str, "records", "Lines a local Locust writes to --records-dir: records (one JSON object "
           "a request) or events (an array of the request event's values, made a record when read by "
           "scenarios.records.read_jsonl: less work a request for Locust; what bench run asks for)", web_ui=False,
           choices=("records", "events")),
    Option("client_timeout", float, 120.0,
           "Client connect/read timeout in seconds; for a burst it must exceed users x latency"),
    Option("release_at", float, 0.0, "Epoch seconds at which burst users send and arrivals start "
           "(0: test start + release delay)", web_ui=False),
    Option("release_delay", float, -1.0,
           "Seconds from test start to the release (negative: once every user is spawned; with load "
           "workers, enough to spawn them all)"),
    Option("duration", float, 10.0, "Seconds of load for steady / concurrency / stream"),
    Option("rate", float, 10.0, "Arrivals per second for steady (open loop)"),
    Option("max_arrivals", int, 0, "Cap on steady's arrivals (0: rate x duration)"),
    Option("steps", str, "1,10,50,100,200,500", "Concurrency steps of a sweep, comma-separated"),
    Option("step_duration", float, 10.0, "Seconds per sweep step"),
    Option("hard_limit", float, 0.0, "Stop the run after this many seconds whatever happens (0: none)",
           web_ui=False),
    Option("message", str, "Hello! Please answer in one sentence.", "Chat message each request sends"),
    Option("think_time", float, 0.0, "Seconds a closed-loop user waits between requests"),
    Option("chat_path", str, "/api/chat", "Path of the JSON chat endpoint"),
    Option("stream_path", str, "/api/chat/stream", "Path of the SSE chat endpoint"),
    # Your own app's request (`bench run --app ... --request 'POST /chat {...}'`): method, JSON body, headers.
    Option("chat_method", str, "POST", "HTTP method of the chat request", choices=METHODS),
    Option("chat_body", str, "", "JSON body of the chat request, sent as it is and its answer not checked (empty: "
           "the reference app's {message, conversation_id}; null: no body)"),
    Option("chat_headers", str, "", "Extra headers of the chat request, as a JSON object"),
    Option("stream_method", str, "POST", "HTTP method of the SSE request", choices=METHODS, web_ui=False),
    Option("stream_body", str, "", "JSON body of the SSE request; when given, every `data:` event counts as a "
           "token and the stream's end as its end (empty: the reference app's events)", web_ui=False),
    Option("stream_headers", str, "", "Extra headers of the SSE request, as a JSON object", web_ui=False),
    Option("max_inflight", int, 10000, "Connections one steady driver may hold open at once", web_ui=False),
    # The embedded servers: used only when no host is given (scenarios/serving.py); `bench run` gives one.
    Option("app_variant", str, "", "Variant of the app Locust starts when no host is given",
           choices=APP_VARIANTS),
    # Or your own app, started the way `bench run --app` starts it (instrumented, its upstream the mock).
    Option("app", str, "", "Your own ASGI app as MODULE:ATTR (importable from Locust's directory): with no host, "
           "Locust starts it instead of the reference app; its request comes from the chat options, else from its "
           "OpenAPI schema"),
    Option("app_watch", str, "", "With --app: classes whose instances to count, MODULE:CLASS[,MODULE:CLASS]"),
    Option("backend", str, "mock", "Upstream of that app: 'mock' (start the mock backend), 'openai' (OpenAI's "
           "API; needs OPENAI_API_KEY in Locust's environment) or an OpenAI-compatible base URL"),
    Option("model", str, "", "Model that app asks its upstream for (empty: gpt-4o-mini for openai, else the "
           "app's OPENAI_MODEL default)"),
    Option("mock_latency_ms", float, 500.0, "Mock backend's latency per request (ms)"),
    Option("mock_rps", float, 0.0, "Mock backend's rate limit in requests/s, answered with 429 above it (0: none)"),
    Option("mock_tier", str, "none", "Mock backend's named rate-limit tier", choices=("none", *TIERS)),
)
OPTIONS_BY_DEST: dict[str, Option] = {o.dest: o for o in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """The options of one run, typed. Field names are the option dests."""

    scenario: str
    variant: str
    repetition: int
    records_dir: str
    records_format: str
    client_timeout: float
    release_at: float
    release_delay: float
    duration: float
    rate: float
    max_arrivals: int
    steps: tuple[int, ...]
    step_duration: float
    hard_limit: float
    message: str
    think_time: float
    chat_path: str
    stream_path: str
    chat_method: str
    chat_body: str
    chat_headers: str
    stream_method: str
    stream_body: str
    stream_headers: str
    max_inflight: int
    app_variant: str
    app: str
    app_watch: str
    backend: str
    model: str
    mock_latency_ms: float
    mock_rps: float
    mock_tier: str


def app_backend(settings: Settings) -> Backend:
    """The embedded app's upstream as `bench run --backend` resolves it: 'mock', 'openai' (its key from the
    environment; missing, a one-line UsageError) or a URL. The key stays in the Backend, never in an option."""
    backend = resolve_backend(settings.backend.strip() or "mock", model=settings.model.strip() or None)
    if backend.kind != "mock" and not backend.base_url:
        raise UsageError(f"with no host, Locust cannot start a {backend.kind} backend; start it and give its "
                         "base URL as the backend")
    return backend


def add_arguments(parser: Any, *, locust_parser: bool = True) -> None:
    """Register every option on `parser` (Locust's, which takes `include_in_web_ui`, or a plain argparse)."""
    # Straight on the parser: Locust's add_argument takes include_in_web_ui, an argument group's does not.
    for opt in OPTIONS:
        kwargs: dict[str, Any] = {"type": opt.type, "default": opt.default, "help": opt.help,
                                  "dest": opt.dest}
        if opt.choices:
            kwargs["choices"] = list(opt.choices)
        if locust_parser:
            kwargs["include_in_web_ui"] = opt.web_ui
        parser.add_argument(opt.flag, **kwargs)


def settings_from(namespace: Any) -> Settings:
    """Typed settings from Locust's parsed options (values from the web UI may arrive as strings)."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        opt = OPTIONS_BY_DEST[f.name]
        raw = getattr(namespace, f.name, opt.default) if namespace is not None else opt.default
        if raw is None:
            raw = opt.default
        values[f.name] = parse_steps(raw) if f.name == "steps" else opt.type(raw)
    if values["scenario"] not in SCENARIOS:
        raise ValueError(f"unknown scenario {values['scenario']!r}; valid: {', '.join(SCENARIOS)}")
    return Settings(**values)


def to_argv(values: Mapping[str, Any]) -> list[str]:
    """['--flag', 'value', ...] for the given dests; an unknown dest is an error naming the valid ones."""
    argv: list[str] = []
    for dest, value in values.items():
        opt = OPTIONS_BY_DEST.get(dest)
        if opt is None:
            raise ValueError(f"unknown scenario option {dest!r}; valid: {', '.join(OPTIONS_BY_DEST)}")
        if dest == "steps" and not isinstance(value, str):
            value = ",".join(str(int(s)) for s in value)
        argv += [opt.flag, str(value)]
    return argv
