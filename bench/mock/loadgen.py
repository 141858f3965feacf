"""A lean HTTP/1.1 load generator for `bench mock-bench`: asyncio protocols (no client library) over
keep-alive connections, one request in flight per connection, each timed with perf_counter_ns.
It must never be what limits the figures, so it does nothing per response but parse and record.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from dataclasses import dataclass, field


def chat_request(host: str, port: int, *, stream: bool = False, max_tokens: int = 16) -> bytes:
    """A raw chat completions request much like the openai SDK's."""
    body = json.dumps({"messages": [{"role": "user", "content": "Say something."}], "model": "gpt-4o-mini",
                       "max_completion_tokens": max_tokens, "stream": stream}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer sk-bench\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


@dataclass
class LoadResult:
    sent: int = 0
    completed: int = 0  # responses completed inside the measured window
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)  # end - send, for those completed in the window
    window_s: float = 0.0
    cpu_s: float = 0.0  # this process's CPU time during the window

    @property
    def rps(self) -> float:
        return self.completed / self.window_s if self.window_s > 0 else 0.0


class _Conn(asyncio.Protocol):
    """One keep-alive connection: sends, parses the response (content-length or chunked), sends again."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.sent_ns = 0
        self.busy = False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self) -> None:
        assert self.transport is not None
        self.busy = True
        self.gen.result.sent += 1
        self.sent_ns = time.perf_counter_ns()
        self.transport.write(self.gen.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        self.buf += data
        status = _complete(self.buf)
        if status is None:
            return
        self.buf.clear()
        self.busy = False
        self.gen.done(self, status, self.sent_ns, now)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy and self.gen.running:  # not the ones cut short by the end of the run
            self.gen.result.errors += 1
            self.busy = False
        if not self.closed.done():
            self.closed.set_result(None)


def _complete(buf: bytearray) -> int | None:
    """The status once the whole response is in `buf`, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).lower()
    status = int(head[9:12])
    start = end + 4
    i = head.find(b"content-length:")
    if i >= 0:
        j = head.find(b"\r\n", i)
        length = int(head[i + 15: j if j >= 0 else len(head)])
        return status if len(buf) >= start + length else None
    pos = start  # chunked: walk the chunk sizes until the zero chunk
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(buf[pos:line_end], 16)
        if size == 0:
            return status if len(buf) >= line_end + 4 else None
        pos = line_end + 2 + size + 2
        if pos > len(buf):
            return None


class _Generator:
    def __init__(self, request: bytes) -> None:
        self.request = request
        self.result = LoadResult()
        self.running = True
        self.repeat = True
        self.window = (0, 0)  # perf_counter_ns bounds of the measured window

    def done(self, conn: _Conn, status: int, sent_ns: int, end_ns: int) -> None:
        lo, hi = self.window
        if lo <= sent_ns and end_ns <= hi:
            r = self.result
            r.completed += 1
            r.statuses[status] = r.statuses.get(status, 0) + 1
            r.latencies_ns.append(end_ns - sent_ns)
        if self.running and self.repeat:
            conn.send()


async def _connect(host: str, port: int, gen: _Generator, n: int) -> list[_Conn]:
    loop = asyncio.get_running_loop()
    conns: list[_Conn] = []
    for start in range(0, n, 100):  # in slices: a thousand SYNs at once overflow small accept queues
        batch = await asyncio.gather(*(loop.create_connection(lambda: _Conn(gen), host, port)
                                       for _ in range(start, min(n, start + 100))))
        conns += [proto for _, proto in batch]
    return conns


async def _close(conns: list[_Conn]) -> None:
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    await asyncio.gather(*(c.closed for c in conns))


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def closed_loop(host: str, port: int, request: bytes, *, connections: int, warmup_s: float,
                      duration_s: float, stagger_s: float = 0.0) -> LoadResult:
    """Each connection sends its next request as soon as the last one completes; the first requests are
    spread over `stagger_s` so arrivals are steady rather than in waves. Counts what completes within the
    `duration_s` window that follows `warmup_s`."""
    gen = _Generator(request)
    conns = await _connect(host, port, gen, connections)
    loop = asyncio.get_running_loop()
    for i, c in enumerate(conns):
        loop.call_later(stagger_s * i / connections, c.send)
    await asyncio.sleep(warmup_s)
    t0, cpu0 = time.perf_counter_ns(), _cpu_s()
    gen.window = (t0, t0 + int(duration_s * 1e9))
    await asyncio.sleep(duration_s)
    gen.result.window_s = (time.perf_counter_ns() - t0) / 1e9
    gen.result.cpu_s = _cpu_s() - cpu0
    gen.running = False
    await _close(conns)
    return gen.result


async def burst(host: str, port: int, request: bytes, *, n: int, timeout_s: float) -> LoadResult:
    """`n` requests sent at once over `n` connections opened beforehand; waits for all of them."""
    gen = _Generator(request)
    gen.repeat = False
    conns = await _connect(host, port, gen, n)
    t0, cpu0 = time.perf_counter_ns(), _cpu_s()
    gen.window = (t0, t0 + int(timeout_s * 1e9))
    for c in conns:
        c.send()
    end = time.monotonic() + timeout_s
    while any(c.busy for c in conns) and time.monotonic() < end:
        await asyncio.sleep(0.01)
    gen.result.window_s = (time.perf_counter_ns() - t0) / 1e9
    gen.result.cpu_s = _cpu_s() - cpu0
    await _close(conns)
    return gen.result
