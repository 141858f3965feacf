"""Records and clocks over Locust's own messages, so a worker on any host needs no shared disk or clock.

Worker: its records wait in a buffer; a sender greenlet sends them in batches (BATCH records, at least every
FLUSH_EVERY_S) with at most WINDOW batches unacknowledged. That is the back-pressure: when the master falls
behind, records wait in the worker (its peak is reported); a user never waits for the transport. When the test
stops, everything left goes out, then an end message with the count of records and batches sent. A pinger
exchanges pings with the master at connect and every PING_EVERY_S after (`scenarios/clock_sync.py`).
Master: writes each worker's records as they come to one file per worker (in the worker's clock; the offset is
applied when the orchestrator merges) and keeps a WorkerLedger per worker in `workers.json`. Before it quits it
asks every worker to flush and waits, bounded, for their end messages. A worker gone before its end message is
counted lost, its unfinished users are no longer waited for, and Locust exits with LOST_EXIT_CODE.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import logging
import os
import time
from pathlib import Path
from typing import IO, Any

import gevent
from gevent.event import Event
from gevent.lock import RLock
from locust.runners import STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, STATE_STOPPED, MasterRunner, WorkerRunner

from scenarios import clock, completion
from scenarios.clock_sync import ClockEstimate, Sample
from scenarios.record_ledger import WorkerLedger, record_file_name, write_workers_file
from scenarios.records import record_line
from scenarios.runstate import get_run

logger = logging.getLogger(__name__)

RECORDS, ACK, END, FLUSH = "bench_records", "bench_records_ack", "bench_records_end", "bench_flush"
PING, PONG, CLOCK = "bench_ping", "bench_pong", "bench_clock"
BATCH = 200  # records per message: ~100 KB, well under what one zmq message handles at once
WINDOW = 4  # batches in flight before the worker waits for an ack
FLUSH_EVERY_S = 0.2
PINGS_AT_CONNECT = 12
PING_GAP_S = 0.02
PING_EVERY_S = 1.0
REPORT_EVERY = 5  # exchanges between clock reports to the master
END_WAIT_S = 10.0  # beyond the stop timeout, how long the master waits for the workers' end messages
MONITOR_EVERY_S = 0.2
LOST_EXIT_CODE = 4  # a load worker was lost mid-run: its records are incomplete
ATTR = "bench_stream"


class WorkerStream:
    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.runner: WorkerRunner = environment.runner
        self.buffer: list[dict[str, Any]] = []
        self.buffer_peak = 0
        self.seq = 0  # batches sent
        self.sent_records = 0
        self.unacked: set[int] = set()
        self.estimate = ClockEstimate()
        self._wake = Event()
        self._send_lock = RLock()  # batch numbers go out in order, whichever greenlet sends
        self._pings: dict[int, float] = {}
        self._ping_seq = 0
        self._reported_at = 0
        self.runner.register_message(ACK, self._on_ack)
        self.runner.register_message(PONG, self._on_pong)
        self.runner.register_message(FLUSH, self._on_flush)
        environment.events.test_stop.add_listener(self._on_test_stop)
        # In the runner's group: they end when Locust kills its greenlets at quit.
        self.runner.greenlet.spawn(self._sender)
        self.runner.greenlet.spawn(self._pinger)

    def add(self, record: dict[str, Any]) -> None:
        self.buffer.append(record)
        self.buffer_peak = max(self.buffer_peak, len(self.buffer))
        if len(self.buffer) >= BATCH:
            self._wake.set()

    def _send_batch(self) -> None:
        with self._send_lock:
            batch, self.buffer = self.buffer[:BATCH], self.buffer[BATCH:]
            if not batch:
                return
            seq = self.seq
            self.seq += 1
            self.unacked.add(seq)
            self.sent_records += len(batch)
            self.runner.send_message(RECORDS, {"seq": seq, "pid": os.getpid(), "records": batch})

    def _sender(self) -> None:
        while True:
            self._wake.wait(timeout=FLUSH_EVERY_S)
            self._wake.clear()
            while self.buffer and len(self.unacked) < WINDOW:
                self._send_batch()

    def flush(self) -> None:
        """Send everything buffered (regardless of the window: the run is over), then the end message."""
        while self.buffer:
            self._send_batch()
        with self._send_lock:
            self.runner.send_message(END, {"pid": os.getpid(), "records": self.sent_records, "batches": self.seq,
                                           "buffer_peak": self.buffer_peak, "clock": self.estimate.report()})

    def _on_test_stop(self, **_: Any) -> None:
        # Fired after the users stopped (records of requests cut short included), on Locust's stop or ours.
        self.flush()

    def _on_flush(self, environment: Any, msg: Any, **_: Any) -> None:
        if self.runner.state != STATE_STOPPED:
            self.runner.stop()  # its test_stop flushes
        else:
            self.flush()

    def _on_ack(self, environment: Any, msg: Any, **_: Any) -> None:
        self.unacked.discard(int(msg.data["seq"]))
        self._wake.set()

    def _ping(self) -> None:
        self._ping_seq += 1
        t0 = clock.now()
        self._pings[self._ping_seq] = t0
        self.runner.send_message(PING, {"seq": self._ping_seq, "t0": t0})

    def _pinger(self) -> None:
        for _ in range(PINGS_AT_CONNECT):
            self._ping()
            gevent.sleep(PING_GAP_S)
        while True:
            gevent.sleep(PING_EVERY_S)
            for seq in [s for s in self._pings if s < self._ping_seq - 10]:
                del self._pings[seq]  # never answered: its master is gone or too slow to matter
            self._ping()

    def _on_pong(self, environment: Any, msg: Any, **_: Any) -> None:
        t3 = clock.now()
        data = msg.data
        t0 = self._pings.pop(int(data["seq"]), None)
        if t0 is None or not self.estimate.add(Sample(t0, float(data["t1"]), float(data["t2"]), t3)):
            return
        clock.set_master_offset(self.estimate.applied_s)
        if self.estimate.count - self._reported_at >= REPORT_EVERY or self.estimate.count == PINGS_AT_CONNECT:
            self._reported_at = self.estimate.count
            self.runner.send_message(CLOCK, {"pid": os.getpid(), "clock": self.estimate.report()})


class MasterStream:
    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.runner: MasterRunner = environment.runner
        self.ledgers: dict[str, WorkerLedger] = {}
        self._files: dict[str, IO[bytes]] = {}
        self.participants: set[str] = set()  # workers in the current test
        self._ends_at_start: dict[str, int] = {}
        for kind, handler in ((RECORDS, self._on_records), (END, self._on_end), (PING, self._on_ping),
                              (CLOCK, self._on_clock)):
            self.runner.register_message(kind, handler)
        environment.events.test_start.add_listener(self._on_test_start)
        environment.events.test_stop.add_listener(self._on_test_stop)
        self.runner.greenlet.spawn(self._monitor)

    def ledger(self, client_id: str) -> WorkerLedger:
        led = self.ledgers.get(client_id)
        if led is None:
            led = self.ledgers[client_id] = WorkerLedger(client_id, self.runner.get_worker_index(client_id))
        return led

    def _records_dir(self) -> str:
        return get_run(self.environment).settings.records_dir

    def _on_records(self, environment: Any, msg: Any, **_: Any) -> None:
        data, led = msg.data, self.ledger(msg.node_id)
        led.pid = int(data["pid"])
        records = data["records"]
        directory = self._records_dir()
        if directory and records:
            fh = self._files.get(msg.node_id)
            if fh is None:
                led.file = record_file_name(led.index, led.pid)
                Path(directory).mkdir(parents=True, exist_ok=True)
                fh = self._files[msg.node_id] = open(Path(directory) / led.file, "ab")  # noqa: SIM115
            fh.write(b"".join(record_line(r) for r in records))
            fh.flush()  # a master killed later keeps what arrived
        led.add_batch(int(data["seq"]), len(records))
        self.runner.send_message(ACK, {"seq": data["seq"]}, client_id=msg.node_id)

    def _on_end(self, environment: Any, msg: Any, **_: Any) -> None:
        data, led = msg.data, self.ledger(msg.node_id)
        led.pid = int(data["pid"])
        led.end(int(data["records"]), int(data["batches"]))
        led.buffer_peak = max(led.buffer_peak, int(data.get("buffer_peak") or 0))
        led.clock = data.get("clock") or led.clock
        self.write()

    def _on_clock(self, environment: Any, msg: Any, **_: Any) -> None:
        led = self.ledger(msg.node_id)
        led.pid = int(msg.data["pid"])
        led.clock = msg.data["clock"]

    def _on_ping(self, environment: Any, msg: Any, **_: Any) -> None:
        t1 = clock.now()
        data = msg.data
        self.runner.send_message(PONG, {"seq": data["seq"], "t0": data["t0"], "t1": t1, "t2": clock.now()},
                                 client_id=msg.node_id)

    def _on_test_start(self, **_: Any) -> None:
        self.participants = set(self.runner.clients.keys())
        self._ends_at_start = {cid: self.ledger(cid).ends for cid in self.participants}

    def _gone(self, client_id: str) -> bool:
        node = self.runner.clients.get(client_id)
        return node is None or node.state == STATE_MISSING

    def _ended_since_start(self, client_id: str) -> bool:
        return self.ledger(client_id).ends > self._ends_at_start.get(client_id, 0)

    def _monitor(self) -> None:
        while True:
            gevent.sleep(MONITOR_EVERY_S)
            in_test = self.runner.state in (STATE_SPAWNING, STATE_RUNNING)
            done_by = get_run(self.environment).extra.get("done_by") or {}
            for cid, node in list(self.runner.clients.items()):
                if node.state != STATE_MISSING:
                    led = self.ledger(cid)
                    led.users = max(led.users, sum(node.user_classes_count.values()))
                    if in_test:
                        self.participants.add(cid)
            for cid in self.participants:
                self.ledger(cid).users_done = int(done_by.get(cid, 0))
            if in_test:
                for cid in list(self.participants):
                    if self._gone(cid) and not self._ended_since_start(cid) and not self.ledger(cid).lost:
                        self._lose(cid, "it stopped answering heartbeats" if cid in self.runner.clients
                                   else "it disconnected")

    def _lose(self, client_id: str, why: str) -> None:
        led = self.ledger(client_id)
        led.lost = why
        unfinished = max(0, led.users - led.users_done)
        logger.error("load worker %d (%s) lost: %s; %d records arrived from it, %d of its users unfinished",
                     led.index, client_id, why, led.received_records, unfinished)
        if self.environment.process_exit_code is None:
            self.environment.process_exit_code = LOST_EXIT_CODE
        self.write()
        completion.users_lost(self.environment, unfinished)

    def _on_test_stop(self, **_: Any) -> None:
        """Ask every live worker to flush and wait for each one's end message (bounded)."""
        live = [cid for cid in list(self.runner.clients.keys()) if not self._gone(cid)]
        ends = {cid: self.ledger(cid).ends for cid in live}
        for cid in live:
            self.runner.send_message(FLUSH, None, client_id=cid)
        wait_s = END_WAIT_S + float(self.environment.stop_timeout or 0.0)
        deadline = time.monotonic() + wait_s
        pending = live
        while pending and time.monotonic() < deadline:
            gevent.sleep(0.02)
            pending = [cid for cid in pending if self.ledger(cid).ends <= ends[cid] and not self._gone(cid)]
        for cid in pending:
            self._lose(cid, f"no end-of-records message within {wait_s:.0f} s of the master's flush request")
        for cid in self.participants:
            led = self.ledger(cid)
            if not self._ended_since_start(cid) and not led.lost:
                self._lose(cid, "it left before announcing its records")
        self.write()

    def write(self) -> None:
        directory = self._records_dir()
        if directory and self.ledgers:
            write_workers_file(directory, self.ledgers.values())

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        self.write()


def install(environment: Any) -> None:
    """From the init event: a streamer on a worker, a collector on a master, nothing on a local runner."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        setattr(environment, ATTR, WorkerStream(environment))
    elif isinstance(runner, MasterRunner):
        setattr(environment, ATTR, MasterStream(environment))


def worker_stream(environment: Any) -> WorkerStream | None:
    stream = getattr(environment, ATTR, None)
    return stream if isinstance(stream, WorkerStream) else None


def on_quitting(environment: Any) -> None:
    stream = getattr(environment, ATTR, None)
    if isinstance(stream, MasterStream):
        stream.close()
