"""results.json's current shape as TypedDicts, `Results` first and then what it holds, top-down as in the file.
Which version added what is in schema.py's history; `upgrade` there brings older files to this shape."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

# NotRequired: a reader cannot count on the key. It came to version 1 after its first files (schema.py's history),
# or is written for some runs only, or is a detail readers use only when present (the tests' synthetic runs leave
# those out). Python 3.11 ignores it in `__required_keys__` under postponed annotations: read
# get_type_hints(..., include_extras=True) instead.


class Results(TypedDict):
    schema_version: int
    tool: Tool
    label: str
    created_utc: str  # ISO 8601, to the second
    partial: bool  # interrupted: only the runs that finished
    config: Config
    host: Host
    backend: Backend
    static: Static
    probes: Probes
    runs: list[Run]
    interrupted: NotRequired[str]  # what stopped it ("Ctrl-C", "SIGTERM", or the app's death in one line)
    target: NotRequired[Target]  # `--app`: a user's app instead of the reference app (its report shows concerns)
    cost: NotRequired[Cost]  # `bench run` only
    timings: NotRequired[Timings]  # where the run's time went (bench/run/stages.py)


class StageTime(TypedDict):
    s: float  # seconds of work in the stage, summed over units (which may run side by side)
    count: int


class Timings(TypedDict):
    schedule: str  # overlap | serial (bench/run/schedule.py)
    estimate_s: float  # the schedule's estimate of the pipeline's wall time, made before it started
    wall_s: NotRequired[float]  # the pipeline's wall time (the report's own stage is not in it)
    stages: NotRequired[dict[str, StageTime]]  # setup, probes, start, warm-up, measure, read, stop, report
    phases: NotRequired[dict[str, float]]  # wall seconds of each lane: alone, counts, paced, background start


class Tool(TypedDict):
    name: str
    version: str


class StepParams(TypedDict):
    """A plan step's set-up (bench/run/profiles.py `Step.params`)."""

    users: int
    latency_ms: float  # the mock's upstream latency
    duration_s: float
    rate: float  # arrivals per second (open-loop scenarios)
    workers: int
    upstream_limit_rps: float  # the mock's rate limit; 0: none
    steps: list[int]  # a sweep's user counts
    app_env: dict[str, str]
    repeat: NotRequired[int | None]  # the step's own repetitions
    upstream_tier: NotRequired[str]  # the mock's named rate-limit tier (bench.mock.config.TIERS)
    fault: NotRequired[str]  # a `faults` step's upstream fault kind (bench/run/faults.py)
    fault_rate: NotRequired[float]  # its share of upstream attempts


class PlanStep(StepParams):
    scenario: str
    variants: list[str]
    claims: list[str]


class Config(TypedDict):
    """The RunConfig as asked (bench/run/config.py), the steps it resolved to and the profile's repetitions."""

    profile: str
    variants: list[str]
    scenarios: list[str]
    users: int | None
    latency_ms: float | None
    repeat: int
    backend: str
    model: str | None
    processes: int
    seed: int
    out_dir: str
    label: str
    init_delay_ms: float
    plan: list[PlanStep]
    max_tokens: NotRequired[int | None]
    target: NotRequired[Target]  # as the top level's
    redis_url: NotRequired[str | None]  # --redis-url, credentials masked
    locust_workers: NotRequired[int]  # --locust-workers: load workers on other hosts (0: none)
    master_bind: NotRequired[str]  # HOST:PORT their Locust masters listened on ("" without workers)
    worker_wait_s: NotRequired[float]
    schedule: NotRequired[str]  # `--schedule`: overlap (default) or serial (round 1's)


class Host(TypedDict):
    hostname_hash: str  # identifies the box without naming it
    cpu_model: str
    logical_cores: int | None
    physical_cores: int | None
    memory_gib: float
    os: str
    python: str
    python_implementation: str
    packages: dict[str, str | None]
    git_commit: str | None  # "-dirty" appended when the tree had changes
    load_average_at_start: list[float | None]


class Backend(TypedDict):
    kind: str  # mock | openai | url | local-llm
    base_url: str  # "(embedded mock)" for the mock
    model: str | None
    api_key_set: bool  # never the key itself
    serializes: NotRequired[bool]  # answers one request at a time
    mock_settings_apply: NotRequired[bool]  # False: --latency and upstream limits configure the mock only
    notes: NotRequired[list[str]]
    # local-llm: the model server the run started, and lone requests timed on it
    max_tokens: NotRequired[int]
    serving: NotRequired[str]
    server: NotRequired[str]
    server_version: NotRequired[str]
    model_file: NotRequired[str]
    model_alias: NotRequired[str]
    n_ctx: NotRequired[int]
    n_threads: NotRequired[int]
    request_s_median: NotRequired[float]
    request_s_max: NotRequired[float]
    request_s_samples: NotRequired[list[float]]
    request_max_tokens: NotRequired[int]


class Static(TypedDict, total=False):
    provider_lines: dict[str, int]  # code lines of each provider (C8)


class ProviderCall(TypedDict):
    median_ns: float
    min_ns: float
    max_ns: float
    rounds: int
    calls_per_round: int


class SettingsEcho(TypedDict):
    sent: dict[str, str]  # written to the app's .env
    seen: dict[str, Any]  # the settings the app reported
    ok: bool
    how: str


class TierApp(TypedDict):
    """The app's limiter configured from the tier (OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND = RPM / 60), in front of a
    mock on the tier: `fired` requests at once, what the mock received within `window_s` (bench/run/probes.py)."""

    variant: str
    agents: int  # ChatAgents built, so limiters in play
    limiter_rps: float
    limiter_rps_seen: Any  # the app's setting as it reported it
    window_s: float
    fired: int
    upstream_received: int
    upstream_429: int
    allowed_in_window: int  # ceil(RPM x window / 60)
    limiter_admits: int  # floor(rate x window): the bucket starts empty
    ok: bool


class TierLimit(TypedDict):
    limit_rpm: int
    sent: int
    ok_200: int
    rate_limited_429: int
    retry_after: list[str | None]
    ok: bool
    limit_rpd: NotRequired[int | None]
    app: NotRequired[TierApp]


class SelfCheck(TypedDict):  # the backend probe against the embedded mock
    configured_latency_s: float
    latency_ok: bool  # L within 10% (or 20 ms) of the configured latency
    overlap_ok: bool  # K >= N
    ok: bool


class BackendProbe(TypedDict):
    """Straight at the backend before the runs (bench/run/backend_probe.py): one request alone, then N at once."""

    target: str
    model: str
    n: int
    lone_s: list[float]
    latency_s: float  # L: the median of the lone requests
    burst_makespan_s: float  # T_N
    burst_latencies_s: list[float]
    burst_latency_p50_s: float
    burst_latency_max_s: float
    overlap: float | None  # K
    answered_within_slack: int | None  # within 1.5 x L
    latency_growth: float | None  # median latency at N / L
    ideal_ratio: float | None  # C4's ideal sync / async
    errors: dict[str, int]
    formula: str
    ok: bool  # no request failed
    self_check: NotRequired[SelfCheck]


class Probes(TypedDict, total=False):
    provider_call_ns: dict[str, ProviderCall]  # per provider, the singleton built
    settings_echo: SettingsEcho  # this probe and the next run against the embedded mock only
    tier_limits: dict[str, TierLimit]
    failed: dict[str, str]  # a mock probe that failed (settings_echo, tier_limits): its error in one line
    backend: BackendProbe  # every `bench run` and `bench gate`, whatever the backend


class Run(TypedDict):
    id: str  # scenario/variant/users/repetition
    scenario: str
    variant: str  # as named in the plan: a preset, PRESET:axis=value or a full spec
    axes: dict[str, str]  # what the variant is (provider, dependency, call, limiter, clients); claims select by it
    repetition: int
    params: Params
    started_utc: str
    wall_s: float
    metrics: Metrics
    requests: Requests
    app: App
    process: Process
    upstream: Upstream | None  # None against a real backend: only the mock counts what it receives
    accounting: Accounting
    files: Files
    warnings: list[str]
    usage: NotRequired[Usage | None]  # None: the app reported no usage
    blocked: NotRequired[Blocked | None]  # None: the app reported no blocked-loop figures
    locust: NotRequired[Locust]  # bookkeeping no report reads, as `claims`
    load_workers: NotRequired[list[LoadWorker]]  # with Locust workers: each one's clock and record counts
    claims: NotRequired[list[str]]  # the claims the run's step measures
    faults: NotRequired[FaultRun]  # the `faults` scenario: what each request ended as under its fault kind
    partial: NotRequired[bool]  # the run was cut short (the app died during it)
    app_died: NotRequired[AppDeath]


class FaultUpstream(TypedDict):  # what the mock counted (bench/run/fault_accounting.py)
    attempts: int  # chat requests the upstream received
    first_tries: int  # attempts without the SDK's x-stainless-retry-count > 0
    retries: int
    fired: int  # the kind's faults injected (the 429 storm: requests the upstream's limit refused)
    still_in_flight: int
    outcomes: dict[str, int]  # attempts that ended without an answer: dropped, cut, client_disconnected


class FaultRun(TypedDict):
    """Every request of a `faults` run against its fault kind (bench/run/faults.py): statuses from the records,
    the app's own counts, the upstream's, and the longest request against the retry budget's bound."""

    kind: str  # 5xx, hang, drop, cut, malformed, 429-storm
    what: str
    rate: float  # share of upstream attempts faulted (0: the storm, whose upstream limit acts instead)
    sent: int
    answered: int  # requests with an HTTP answer from the app
    accounted: int  # answered with a status the kind allows
    accounted_pct: float | None
    statuses: dict[str, int]  # status -> requests, as users saw them
    no_answer: int
    allowed_statuses: list[int]
    app_statuses: dict[str, int] | None  # the app's own count of its answers (None: it reports none, or died)
    error_types: dict[str, int] | None  # the `error.type` of the app's error answers
    allowed_error_types: list[str]
    upstream: FaultUpstream | None  # None: not the mock
    timeout_s: float  # the app's upstream client timeout
    max_retries: int
    latency_max_ms: float | None
    bound_ms: float  # (retries + 1) x timeout + the SDK's waits + margin_s
    margin_s: float
    over_bound: int  # requests that took longer than bound_ms
    shortfall: list[str]  # each way the accounting fell short; empty: 100%
    notes: list[str]
    ok: bool


class AppDeath(TypedDict):  # the app exited during the run (bench/run/appwatch.py)
    cause: str  # "the app (async) was killed by signal 9 during the run"
    exit_code: int  # negative: the signal
    noticed_utc: float  # epoch seconds
    noticed_after_start_s: float  # since the watch began, just before Locust started
    poll_s: float  # the watcher's poll interval: the death came at most this long before it was noticed
    in_flight: int  # requests it cut off
    locust_stopped: int  # Locust processes stopped (SIGTERM)


class Params(StepParams):
    processes: NotRequired[int]  # Locust worker processes
    limiter_rps: NotRequired[float | None]  # the app's in-memory limiter, as it reported
    client_timeout_s: NotRequired[float]
    worker_start: NotRequired[str]  # workers > 1: "spawn" (uvicorn's way) or "fork" (the overlapping schedule's)


class Percentiles(TypedDict, total=False):  # empty when no request had the figure
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    mean: float


class Metrics(TypedDict):
    requests: int
    ok: int
    errors: dict[str, int]  # error kind -> requests
    makespan_s: float | None  # first send to last answer
    throughput_rps: float | None
    latency_ms: Percentiles
    ttft_ms: Percentiles | None  # streaming runs
    send_spread_s: NotRequired[float | None]
    ttfb_ms: NotRequired[Percentiles]
    max_gap_ms: NotRequired[Percentiles | None]
    distinct_agents: NotRequired[int]
    # With Locust workers (--processes, --locust-workers): how far their clock offsets may move makespan_s (the
    # first send's worker's uncertainty plus the last answer's; 0 when one worker holds both).
    makespan_uncertainty_s: NotRequired[float | None]


class Requests(TypedDict):
    """One column per field, one entry per request sorted by send time; times in s from the first send."""

    t_send: list[float | None]
    t_first_byte: list[float | None]
    t_end: list[float | None]
    status: list[int | None]
    error: list[str | None]
    worker: list[Any]
    ttft_ms: NotRequired[list[float | None]]


class AgentCache(TypedDict, total=False):  # the body of the app's GET /api/debug/agent-cache
    cache_info: str
    agent_id: int | None
    message: str
    provider: str


class App(TypedDict):
    before: dict[str, Any]  # the app's GET /api/debug/stats body (app_under_test/routes_debug.py)
    after: dict[str, Any]
    constructions: int  # ChatAgents built, summed over the workers
    live_peak: int
    bytes_per_instance: int | None
    loop_lag_max_ms: float | None
    loop_lag_p99_ms: float | None
    workers: list[dict[str, Any]] | None  # each worker's stats, with several workers
    constructions_in_run: NotRequired[int]
    in_flight_peak: NotRequired[int]
    requests_by_worker: NotRequired[list[int] | None]
    agent_cache: NotRequired[AgentCache]  # lru-cache runs with one worker
    limiter_refill_s: NotRequired[float]  # its limiter was left this long to refill first (bench/run/execute.py)
    watched: NotRequired[dict[str, WatchedClass]]  # a user's app: each `--watch MODULE:CLASS`, over the workers


class ConstructionSite(TypedDict):
    """Where instances of a watched class were built: the innermost frame in the user's code (bench/inject/watch.py)."""

    site: str  # "file:line function"
    file: str | None
    line: int | None
    function: str
    code: str | None  # the source line
    user_code: bool  # False: no frame of the user's code on the stack (a library built it)
    count: int
    threads: int  # distinct threads that built one, summed over the processes
    thread_names: dict[str, int]
    where: dict[str, int]  # "loop" (on the event loop), "thread" (a worker thread), "startup" (before the loop)


class WatchedClass(TypedDict):
    resolved: str | None  # where the class is defined, "module:Class"
    constructions: int  # since the process started, summed over the workers
    constructions_in_run: int
    per_process: list[int]  # constructions in each worker
    live_peak_per_process: list[int]  # during the run's window
    live_end: int
    untracked: int  # instances that cannot be weak-referenced: built, but their life not followed
    sites: list[ConstructionSite]  # the 10 that built the most


class Process(TypedDict):  # the app's process tree, sampled
    rss_baseline_mb: float
    rss_peak_mb: float
    cpu_mean_percent: float
    samples: list[list[float]]  # [t_s, rss_mb, cpu_percent]
    rss_end_mb: NotRequired[float]
    sample_hz: NotRequired[float]


class Upstream(TypedDict):  # what the mock counted during the run
    received: int
    by_status: dict[str, int]
    rate_limited: int  # 429s
    faults: dict[str, int]
    peak_in_flight: NotRequired[int | None]
    retries_or_failed: NotRequired[int]  # calls beyond one per successful reply
    rate_mean_rps: NotRequired[float | None]
    rate_peak_1s: NotRequired[int | None]
    retries: NotRequired[int]
    arrival_span_s: NotRequired[float]


class Usage(TypedDict):
    input_tokens: int
    output_tokens: int
    calls: int
    unreported: int  # calls whose answer carried no usage


class BlockedSite(TypedDict):
    """Where blocked time went: the innermost frame in the app's own code and the library call it was making
    (app_under_test/blocksites.py), summed over the workers."""

    site: str  # "file:line function -> library call", or "file:line function: code" for a C call
    file: str | None  # the app's files relative to its working directory, a library's to its site-packages
    line: int | None
    function: str
    code: str | None  # the source line
    calls: str | None  # the library frame it called; None where the site itself is innermost (time.sleep)
    own_code: bool  # False: no frame of the app's own code on the loop (a library callback, the loop idle)
    blocked_ms: float
    blocks: int
    samples: int
    share: float  # of the run's blocked time
    stack: list[str]  # the innermost frames of one sample, innermost last


class LoopBlock(TypedDict):
    start_s: float  # from the run's first send, as `requests.t_send`
    duration_ms: float
    site: str | None  # the site most of its samples named
    samples: int
    worker: int  # index of the app worker among those that reported


class Blocked(TypedDict):
    """The blocked-loop sampler over the run (the app's reset before it to the poll after it), all workers."""

    running: bool  # False: the sampler was off (APP_BLOCKWATCH=0) and the figures are zeros
    workers: int
    threshold_ms: float  # a block is a heartbeat later than this
    sample_interval_ms: float
    window_ms: float  # the sampler's windows, summed over the workers
    window_start_s: float | None  # from the first send: negative, the reset came before it
    window_end_s: float | None
    blocked_ms: float
    blocked_share: float  # blocked_ms / window_ms
    own_code_ms: float  # at sites in the app's own code
    block_count: int
    blocks_dropped: int  # beyond what the sampler keeps: in the totals, not in `blocks`
    max_block_ms: float
    sites: list[BlockedSite]  # the 10 with the most blocked time
    blocks: list[LoopBlock]  # the 100 longest, by start


class Accounting(TypedDict):  # every request accounted for, or why not
    sent: int
    recorded: int
    answered: int
    upstream_received: int | None
    ok: bool
    problems: list[str]
    locust_counted: NotRequired[int | None]
    upstream_ok: NotRequired[int | None]


class WorkerClock(TypedDict):
    """A worker's clock against its master's (scenarios/clock_sync.py), all in seconds."""

    offset_s: float  # master's clock - worker's, from the ping exchange with the least round trip
    applied_s: float  # the correction applied to its times: offset_s, or 0 where 0 lies within the uncertainty
    bound_s: float  # that round trip / 2: the true offset lies within offset_s +- bound_s
    round_trip_min_s: float
    drift_s: float  # best offset of the latest exchanges - of the first ones
    uncertainty_s: float  # bound_s + |drift_s| + |offset_s - applied_s|
    samples: int


class LoadWorker(TypedDict):  # the master's ledger of one Locust worker (scenarios/record_ledger.py)
    index: int
    client_id: str  # Locust's: the worker's hostname, '_', a random hex
    host: str
    pid: int | None
    clock: WorkerClock | None  # None: no ping exchange completed
    received_records: int
    received_batches: int
    sent_records: int | None  # as its end message announced; None: it never sent one
    sent_batches: int | None
    missing_records: int | None
    missing_batches: list[int]
    ends: int
    lost: str | None  # why it counts as lost mid-run (None: it was not)
    users: int
    users_done: int
    buffer_peak: int  # most records it held unsent (back-pressure)
    file: str | None  # its record file, in its own clock (the merged requests.jsonl is in the master's)


class Locust(TypedDict):
    exit_code: int | None
    timed_out: bool
    wall_s: float


class Files(TypedDict, total=False):  # paths relative to the results directory
    requests: str
    locust_csv: str
    locust_html: str
    locust_json: str
    locust_log: str


class Price(TypedDict):  # USD per million tokens
    input_per_1m: float
    output_per_1m: float


class CostEstimate(TypedDict):  # made before the run (bench/run/cost.py)
    calls: int
    warm_up_calls: int
    probe_calls: NotRequired[int]  # the backend probe's, included in `calls`
    input_tokens: int
    output_tokens: int
    output_per_call: int
    output_capped: bool
    model: str | None
    price: Price | None
    usd: float | None
    guarded: bool
    budget_usd: float | None
    waived: str | None
    prices_source: str


class CostActual(TypedDict):  # the usage the upstream reported, priced
    input_tokens: int
    output_tokens: int
    calls: int
    unreported: int
    runs_counted: int
    usd: float | None
    scope: str


class Cost(TypedDict):
    estimate: CostEstimate
    actual: CostActual


class TargetRequest(TypedDict):
    method: str
    path: str
    body: Any  # the JSON body sent
    headers: list[str]  # names only: a header may carry a token
    source: str  # "--request", "--stream-request" or "openapi"


class Target(TypedDict):
    """A user's app (`bench run --app MODULE:ATTR`, bench/run/target.py): how it was started and called."""

    kind: str  # "app"
    app: str  # MODULE:ATTR, also every run's `variant`
    factory: bool
    app_dir: str
    watch: list[str]
    env_keys: list[str]  # the names of --env / --env-file settings; never their values
    workers: int
    request: TargetRequest | None
    stream_request: TargetRequest | None
    tier: str  # the steady scenario's mock tier
    routes: list[str]  # POST routes with a JSON body in the app's OpenAPI schema
