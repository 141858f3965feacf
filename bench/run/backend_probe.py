"""The backend probe: straight at the upstream, without the app, before any run. One request alone (its latency L,
the median of a few), then N at once: how many of them the backend serves together (K) and how its latency grows.

C4's ideal ratio is derived from these figures instead of being inferred from the ratio it explains: a client that
serializes (the blocking call) waits N x L; the best a concurrent client can do is what the backend allows, the
N-at-once makespan T_N. So

    K     = max(1, requests answered within 1.5 x L of being sent, N x L / T_N), at most N
    ideal = max(N / ceil(N / K), N x L / T_N), at most N       (waves of K requests, or the time measured)

Against the embedded mock this is a self-check: L must read back the configured latency and K must reach N.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

from bench.errors import SetupError
from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.run.backends import Backend, redact_url
from bench.run.profiles import Profile

LONE_REQUESTS = 3  # the median of a few lone requests is L
OVERLAP_SLACK = 1.5  # answered within 1.5 x L of its own send: served alongside the others, not queued behind them
SELF_CHECK_TOLERANCE = 0.10  # the mock's L within 10% (and 20 ms) of its configured latency
MOCK_PROBE_MAX_MS = 500.0  # the mock's self-check needs a wait to overlap, not the seed's 3 s (4 x 3 s of probing)


def _body(model: str, message: str, max_tokens: int | None, token_param: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": message}]}
    if max_tokens:
        body[token_param] = max_tokens
    return body


Timed = tuple[float, float, int | None, str | None]  # (sent, answered, status, error): perf_counter seconds


class _Conn:
    """One HTTP/1.1 request on its own connection, opened before the clock starts (as the app's pool would be).

    Deliberately bare (asyncio streams, no HTTP library): with N requests in flight a full client spends enough CPU
    per request to delay reading answers that already arrived, and that delay would be measured as the backend's
    latency and limit K. Here sending is one write and an answer costs a header parse and one read."""

    def __init__(self, url: str, payload: bytes, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.tls = parts.hostname or "127.0.0.1", parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc.rsplit('@', 1)[-1]}",
                "Content-Type: application/json", f"Content-Length: {len(payload)}", "Connection: close",
                *(f"{k}: {v}" for k, v in headers.items())]
        self.request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, ssl=ssl.create_default_context() if self.tls else None)

    async def send(self) -> float:
        assert self.writer is not None
        self.writer.write(self.request)
        sent = time.perf_counter()
        await self.writer.drain()
        return sent

    async def answer(self) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in fields:
                body = await self.reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                body = await _chunked(self.reader)
            else:
                body = await self.reader.read()
            return status, body
        finally:
            self.writer.close()


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    out = b""
    while size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16):
        out += await reader.readexactly(size)
        await reader.readline()
    await reader.readline()
    return out


async def _timed(conn: _Conn, sent: float) -> Timed:
    try:
        status, _ = await conn.answer()
        return sent, time.perf_counter(), status, None if status == 200 else f"http_{status}"
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        return sent, time.perf_counter(), None, type(exc).__name__


async def _opened(url: str, payload: bytes, headers: dict[str, str], n: int) -> list[_Conn]:
    conns = [_Conn(url, payload, headers) for _ in range(n)]
    await asyncio.gather(*(c.open() for c in conns))
    return conns


async def _measure(url: str, body: dict[str, Any], headers: dict[str, str], n: int, timeout_s: float
                   ) -> dict[str, Any]:
    payload = json.dumps(body).encode()
    lone: list[Timed] = []
    for _ in range(LONE_REQUESTS):
        (conn,) = await _opened(url, payload, headers, 1)
        lone.append(await asyncio.wait_for(_timed(conn, await conn.send()), timeout_s))
    latency = statistics.median(end - start for start, end, _, _ in lone)
    conns = await _opened(url, payload, headers, n)
    sends = [await c.send() for c in conns]  # every request out before any answer is read
    # A serializing backend answers the last of N after N x L: the wait must outlast the queue.
    burst = await asyncio.wait_for(asyncio.gather(*(_timed(c, t) for c, t in zip(conns, sends, strict=True))),
                                   max(timeout_s, n * latency * 3 + 30))
    makespan = max(end for _, end, _, _ in burst) - min(start for start, _, _, _ in burst)
    return {"lone": lone, "latency": latency, "burst": burst, "makespan": makespan}


def derive(n: int, latency_s: float, makespan_s: float, burst_latencies_s: list[float]) -> dict[str, Any]:
    """K, the latency growth and the ideal ratio from L, T_N and the N latencies (the module docstring's formulas)."""
    if n < 1 or makespan_s <= 0 or latency_s <= 0:
        return {"overlap": None, "answered_within_slack": None, "latency_growth": None, "ideal_ratio": None}
    within = sum(1 for t in burst_latencies_s if t <= OVERLAP_SLACK * latency_s)
    by_time = n * latency_s / makespan_s
    k = min(float(n), max(1.0, float(within), by_time))  # a backend that answers at all serves one at a time
    ideal = min(float(n), max(n / math.ceil(n / k), by_time))
    return {"overlap": round(k, 3), "answered_within_slack": within,
            "latency_growth": round(statistics.median(burst_latencies_s) / latency_s, 3),
            "ideal_ratio": round(ideal, 3)}


def probe_backend(base_url: str, *, model: str, n: int, message: str, api_key: str | None = None,
                  max_tokens: int | None = None, token_param: str = "max_tokens", timeout_s: float = 120.0,
                  target: str = "", configured_latency_ms: float | None = None) -> dict[str, Any]:
    """Probe `base_url` (an OpenAI-compatible `/v1` base): L, then N at once. `configured_latency_ms`: the mock's
    latency, for the self-check. Returns results.json's `probes.backend`."""
    url = base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {api_key or 'probe'}"}
    try:
        m = asyncio.run(_measure(url, _body(model, message, max_tokens, token_param), headers, n, timeout_s))
    except (OSError, TimeoutError) as exc:  # the runs could not reach it either: one line, before they start
        raise SetupError(f"backend probe: {target or redact_url(base_url)} did not answer "
                         f"({type(exc).__name__}: {exc})") from None
    lone_s = [round(end - start, 6) for start, end, _, _ in m["lone"]]
    burst_s = [round(end - start, 6) for start, end, _, _ in m["burst"]]
    errors: dict[str, int] = {}
    for _, _, _, err in [*m["lone"], *m["burst"]]:
        if err:
            errors[err] = errors.get(err, 0) + 1
    out: dict[str, Any] = {
        "target": target, "model": model, "n": n, "lone_s": lone_s, "latency_s": round(m["latency"], 6),
        "burst_makespan_s": round(m["makespan"], 6), "burst_latencies_s": burst_s,
        "burst_latency_p50_s": round(statistics.median(burst_s), 6), "burst_latency_max_s": round(max(burst_s), 6),
        **derive(n, m["latency"], m["makespan"], burst_s), "errors": errors,
        "formula": "K = max(1, answered within 1.5 x L, N x L / T_N); ideal = max(N / ceil(N / K), N x L / T_N), "
                   "both at most N", "ok": not errors,
    }
    if configured_latency_ms is not None:
        expected = configured_latency_ms / 1000
        close = abs(m["latency"] - expected) <= max(SELF_CHECK_TOLERANCE * expected, 0.02)
        # Under about 20 ms there is no wait to overlap: K is the client's CPU, not the mock's, and is not checked.
        overlaps = (out["overlap"] or 0) >= n or expected < 0.02
        out["self_check"] = {"configured_latency_s": expected, "latency_ok": close, "overlap_ok": overlaps,
                             "ok": close and overlaps}
    return out


def summary(p: dict[str, Any]) -> str:
    """One line for the console and the report: L, K of N, the latency growth and the ideal."""
    if not p.get("latency_s"):
        return "backend probe: no answer"
    k, ideal = p.get("overlap"), p.get("ideal_ratio")
    return (f"one request alone {p['latency_s'] * 1000:.1f} ms (median of {len(p.get('lone_s') or [])}); "
            f"{p['n']} at once: {p['burst_makespan_s']:.3g} s, median latency x{p.get('latency_growth')}, "
            f"K = {k:g} overlapped, ideal sync / async {ideal:.3g}x" if k is not None and ideal is not None
            else f"one request alone {p['latency_s'] * 1000:.1f} ms")


def _c4_step(profile: Profile) -> tuple[int, float]:
    """N and the mock latency of the burst step that feeds C4 (the first burst), else the first step's."""
    steps = [s for s in profile.steps if s.scenario == "burst"] or list(profile.steps)
    return (steps[0].users, steps[0].latency_ms) if steps else (50, 1000.0)


def probe_calls(profile: Profile) -> int:
    """Upstream calls `probe_for_run` makes: the lone requests and N at once (for the cost guard)."""
    return LONE_REQUESTS + _c4_step(profile)[0]


def probe_for_run(backend: Backend, profile: Profile, *, seed: int, log_dir: str, message: str) -> dict[str, Any]:
    """The probe before a run: against the backend as the app will call it, or, as a self-check, against an embedded
    mock at the C4 burst step's latency (at most MOCK_PROBE_MAX_MS). N is that step's users."""
    from app_under_test.settings import Settings

    n, latency_ms = _c4_step(profile)
    app_env = {**(profile.steps[0].app_env if profile.steps else {}), **backend.app_env()}
    max_tokens = int(app_env["OPENAI_MAX_TOKENS"]) if str(app_env.get("OPENAI_MAX_TOKENS", "")).isdigit() else None
    model = backend.model or str(Settings.model_fields["openai_model"].default)
    token_param = "max_completion_tokens" if backend.kind == "openai" else "max_tokens"
    if backend.kind == "mock":
        latency_ms = min(latency_ms, MOCK_PROBE_MAX_MS)
        with running_mock(MockConfig(latency_ms=latency_ms, seed=seed), log_dir=log_dir) as mock:
            return probe_backend(mock.url + "/v1", model=model, n=n, message=message, max_tokens=max_tokens,
                                 target=f"the embedded mock at {latency_ms:g} ms", configured_latency_ms=latency_ms)
    return probe_backend(backend.base_url, model=model, n=n, message=message, api_key=backend.api_key,
                         max_tokens=max_tokens, token_param=token_param,
                         target=f"{backend.kind} at {redact_url(backend.base_url)}")
