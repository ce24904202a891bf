"""Runs ``engine.analyse`` in a separate process so that a hostile file cannot hang, exhaust or crash the
web server (no Django here).

Each file gets a fresh child process forked from a *fork server* (``multiprocessing`` "forkserver" start
method) that has already imported the engine, pyHanko, lxml and signxml and loaded their schemas
(``warmup``): forking costs ~15 ms instead of the ~1 s a new interpreter would spend importing them, and the
fork server is a clean single-threaded process, so the child never inherits locks held by the web server's
other threads. A fresh process per file (rather than a long-lived worker) means nothing one file did to the
libraries' state can reach the next file. In the child, before reading a byte of the file:

- ``RLIMIT_AS`` caps its address space at what it already uses plus ``Limits.memory_bytes`` (a decompression
  bomb or a huge stream ends in ``MemoryError``, reported as unreadable, or in the child's death);
- ``RLIMIT_CPU`` stops a CPU-bound loop even if the parent were gone; ``RLIMIT_CORE`` = 0.

The parent waits at most ``Limits.timeout`` seconds of wall-clock time for the answer, then kills the child.
A child that dies or answers nothing gives "Không đọc được tệp". ``Limits.concurrency`` bounds how many
children run at once in this process (a flood of uploads queues instead of forking without limit).

The next child is started before it is needed: once a child has answered, a *spare* is forked from the fork
server (in the background) and waits (idle, without limits, holding nothing) for the next file, which it
receives through a pipe with the trust configuration and limits. Starting a process (~10 ms) is thus off the
request's path; a spare still reads one file only, and one that has died or belongs to another process (a web
server that forked after starting it) is dropped for a fresh child.

A PDF or XML with several signatures is validated by up to ``Limits.workers`` processes: the child parses the
file, then forks workers that each validate a share of the signatures in full (``validate_pdf`` /
``validate_xml`` with ``workers``). They inherit the child's limits (memory and CPU time per process) and are
killed with it.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import threading
import time

from . import engine

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Limits:
    timeout: float = 30.0  # wall-clock seconds for one file
    memory_bytes: int = 1024 * 1024 * 1024  # address space the child may add to what it starts with
    concurrency: int = 4  # children at once (per web process)
    queue_timeout: float = 10.0  # how long a request waits for a free slot
    workers: int = 1  # processes that share the signatures of one PDF (see validate_pdf)


@dataclasses.dataclass(frozen=True)
class TrustSpec:
    """A ``TrustConfig`` as bytes (DER), to cross the process boundary."""

    anchors: tuple[bytes, ...]
    intermediates: tuple[bytes, ...] = ()
    allow_fetching: bool = True

    @classmethod
    def of(cls, trust) -> TrustSpec:
        return cls(tuple(c.dump() for c in trust.anchors), tuple(c.dump() for c in trust.intermediates),
                   bool(trust.allow_fetching))

    def config(self):
        from asn1crypto import x509

        from hocba.signing.trust import TrustConfig

        return TrustConfig(tuple(x509.Certificate.load(d) for d in self.anchors),
                           tuple(x509.Certificate.load(d) for d in self.intermediates), self.allow_fetching)

    @property
    def key(self) -> str:
        """Identifies the configuration (for caching reports): anchors, intermediates, fetching."""
        import hashlib

        h = hashlib.sha256()
        for der in (*self.anchors, b"|", *self.intermediates):
            h.update(hashlib.sha256(der).digest())
        h.update(b"fetch" if self.allow_fetching else b"offline")
        return h.hexdigest()[:32]


class Busy(Exception):
    """Every slot is taken and none freed within ``Limits.queue_timeout``."""


_context = None
_context_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _ctx():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            # pyHanko and the XML stack are imported once, in the fork server, not in every child.
            ctx.set_forkserver_preload(["hocba.verify.engine", "hocba.verify.sandbox", "pyhanko.sign.validation",
                                        "hocba.signing.validate", "hocba.signing.xades", "hocba.documents",
                                        "hocba.verify.warmup"])
            _context = ctx
        return _context


def _slot(concurrency: int) -> threading.BoundedSemaphore:
    with _context_lock:
        if concurrency not in _slots:
            _slots[concurrency] = threading.BoundedSemaphore(concurrency)
        return _slots[concurrency]


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(conn, data: bytes, trust: TrustSpec, memory_bytes: int, cpu_seconds: int, workers: int = 1) -> None:
    """The child process: limit itself, analyse, send one dict back."""
    import gc
    import resource

    # what the fork server loaded is never garbage: leave it out of collections (and its pages unwritten); the
    # child lives for one file, so collect young objects rarely (pyHanko allocates millions: collections cost
    # ~15% of CPU at the default threshold, ~5% at 50,000, nothing measurable at 500,000 — an 18-signature
    # record validated with two workers: 279 -> 267 ms); cycles are still collected, within the memory limit
    gc.freeze()
    gc.set_threshold(500_000, 20, 20)

    try:
        limit = _vm_size() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    try:
        result = engine.analyse(data, trust.config(), workers=workers)
    except BaseException as exc:  # noqa: BLE001 - even a SystemExit must come back as an answer
        result = engine.unreadable("cấu trúc tệp bị hỏng hoặc không được hỗ trợ.", detail=type(exc).__name__)
    try:
        conn.send(result)
    except Exception:  # noqa: BLE001, S110 - e.g. MemoryError while pickling: the parent sees no answer
        pass
    finally:
        conn.close()


def _spare_child(inbox, conn) -> None:
    """A spare: wait for one file (and its trust configuration and limits), then be ``_child`` for it."""
    try:
        data, trust, memory_bytes, cpu_seconds, workers = inbox.recv()
    except (EOFError, OSError):  # the web process is gone, or dropped this spare
        return
    finally:
        inbox.close()
    _child(conn, data, trust, memory_bytes, cpu_seconds, workers)


_spares: list = []  # [(owner pid, process, inbox: the pipe end that sends it a file, receiver)]
_spares_lock = threading.Lock()


def _start_spare(ctx, most: int) -> None:
    """Forks a spare from the fork server, unless this process already has ``most`` waiting."""
    import os

    with _spares_lock:
        if sum(1 for owner, *_ in _spares if owner == os.getpid()) >= most:
            return
    child_inbox, inbox = ctx.Pipe(duplex=False)
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_spare_child, args=(child_inbox, sender), daemon=True)
    process.start()
    child_inbox.close()
    sender.close()
    with _spares_lock:
        _spares.append((os.getpid(), process, inbox, receiver))


def _start_spare_quietly(ctx, most: int) -> None:
    """``_start_spare`` in a background thread: a spare that cannot be started (the fork server gone while the
    web process stops) only means the next file gets a fresh child."""
    try:
        _start_spare(ctx, most)
    except Exception:  # nothing waits on this thread
        log.debug("no spare child started", exc_info=True)


def _take_spare():
    """A waiting spare of this process, or None."""
    import os

    with _spares_lock:
        while _spares:
            owner, process, inbox, receiver = _spares.pop()
            if owner == os.getpid() and process.is_alive():
                return process, inbox, receiver
            if owner == os.getpid():
                process.join(timeout=0)
            for end in (inbox, receiver):
                end.close()
    return None


def run(data: bytes, trust: TrustSpec, limits: Limits = Limits()) -> dict:
    """``engine.analyse(data, trust)`` in a fresh, limited child process; never raises for a bad file.
    Raises ``Busy`` when no slot frees up in time."""
    slot = _slot(limits.concurrency)
    if not slot.acquire(timeout=limits.queue_timeout):
        raise Busy()
    try:
        return _run(data, trust, limits)
    finally:
        slot.release()


def _run(data: bytes, trust: TrustSpec, limits: Limits) -> dict:
    ctx = _ctx()
    start = time.perf_counter()
    args = (data, trust, limits.memory_bytes, int(limits.timeout) + 2, limits.workers)
    spare = _take_spare()
    try:
        if spare is not None:
            process, inbox, receiver = spare
            try:
                inbox.send(args)
            except OSError:  # it died just now: a fresh child instead
                process.kill()
                process.join(timeout=5)
                receiver.close()
                spare = None
            finally:
                inbox.close()
        if spare is None:
            receiver, sender = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_child, args=(sender, *args), daemon=True)
            process.start()
            sender.close()
        if receiver.poll(limits.timeout):
            result = receiver.recv()
        else:
            result = engine.unreadable(f"quá thời gian đọc cho phép ({limits.timeout:g} giây).",
                                       kind=engine.sniff(data), detail="timeout")
    except (EOFError, OSError):
        # the child died without answering: killed by the memory limit, a crash in a C library...
        result = engine.unreadable("chương trình đọc tệp bị dừng (tệp quá phức tạp hoặc hỏng).",
                                   kind=engine.sniff(data), detail="crash")
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
        # the next file's child, forked once this one has answered (not while it reads: it uses every core)
        threading.Thread(target=_start_spare_quietly, args=(ctx, limits.concurrency), daemon=True).start()
    result["wall_seconds"] = time.perf_counter() - start
    return result


def run_inline(data: bytes, trust: TrustSpec) -> dict:
    """The same analysis in this process (no isolation): for benchmarks and debugging only."""
    start = time.perf_counter()
    result = engine.analyse(data, trust.config())
    result["wall_seconds"] = time.perf_counter() - start
    return result
