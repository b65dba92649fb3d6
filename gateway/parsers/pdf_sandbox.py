"""Run :func:`~gateway.parsers.pdf_attachments.extract_invoice_xml` in a worker with hard limits.

pypdf's own caps stop the decompression bombs we know of; this module is for
the ones we do not. A hostile, encrypted or broken PDF must cost *that file* a
rejection and nothing else, so it is read in a separate process where:

* ``RLIMIT_AS`` = the worker's size at start + ``memory_bytes``: an allocation
  past it fails (``MemoryError``) instead of waking the kernel's OOM killer;
* ``RLIMIT_CPU`` is re-armed before each file to the CPU used so far +
  ``cpu_seconds``: past it ``SIGXCPU`` kills the worker, even inside C code;
* the parent waits ``timeout_seconds`` at most (wall clock), then kills it;
* the parent accepts at most ``max_xml_bytes`` plus a small header and never
  unpickles what the worker sends (JSON + raw bytes): a worker subverted by a
  parser bug cannot reach the gateway through its reply.

A killed worker gives ``GW-PDF-TOO-COMPLEX`` for that file and is restarted for
the next. Workers are persistent (a process per file costs ~100 ms) and are
recycled after ``max_files_per_worker`` files to bound slow leaks. They come
from a ``forkserver`` that has already imported pypdf and lxml (a restart is a
cheap fork) — never from ``fork``, which would copy the gateway's threads,
sockets and database connections.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import multiprocessing
import os
import queue
import resource
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from gateway.limits import Limits
from gateway.model import Issue, Severity
from gateway.parsers.pdf_attachments import TOO_COMPLEX, PdfExtraction, extract_invoice_xml, too_complex

log = logging.getLogger(__name__)

_HEADER_BYTES = 256 * 1024  # names (at most 200 listed), levels, messages; the XML follows


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """What one PDF may cost the worker that reads it.

    512 MB of address space is ~25 times the largest XML a worker may return
    (``Limits.max_xml_bytes``, 20 MB) and far above the ~30 MB a real invoice
    PDF needs; 10 CPU seconds is ~1,000 times the median corpus file (2-3 ms).
    """

    memory_bytes: int = 512 * 1024 * 1024
    cpu_seconds: int = 10
    timeout_seconds: float = 30.0
    max_files_per_worker: int = 1_000

    @classmethod
    def from_limits(cls, limits: Limits) -> SandboxLimits:
        """The worker limits ``limits`` names (``pdf_worker_*``, ``pdf_timeout_seconds``)."""
        return cls(
            memory_bytes=limits.pdf_worker_memory_bytes,
            cpu_seconds=limits.pdf_worker_cpu_seconds,
            timeout_seconds=limits.pdf_timeout_seconds,
        )


class PdfSandbox:
    """A small pool of persistent, resource-limited PDF workers; thread-safe; a context manager.

    ``extract`` blocks while all ``workers`` are busy; each worker reads one
    PDF at a time. Workers start on first use.
    """

    def __init__(self, limits: SandboxLimits | None = None, workers: int = 1) -> None:
        self.limits = limits or SandboxLimits()
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self._context: Any = multiprocessing.get_context(method)
        if method == "forkserver":  # pre-import pypdf/lxml once; ignored if the server already runs
            self._context.set_forkserver_preload([__name__])
        self._slots = [_Worker(self._context, self.limits) for _ in range(max(1, workers))]
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        for slot in self._slots:
            self._idle.put(slot)
        self._closed = False

    def extract(self, pdf_bytes: bytes, limits: Limits) -> PdfExtraction:
        """Like :func:`extract_invoice_xml`, in a worker; never raises for bad content."""
        if self._closed:
            raise RuntimeError("the PDF sandbox is closed")
        slot = self._idle.get()
        try:
            return slot.extract(pdf_bytes, limits)
        finally:
            self._idle.put(slot)

    def worker_limits(self) -> dict[str, int]:
        """The limits as the worker sees them (``RLIMIT_AS``, ``RLIMIT_CPU`` soft values), for checks."""
        slot = self._idle.get()
        try:
            reply = slot.ask(("probe", None), _HEADER_BYTES, self.limits.timeout_seconds)
        except _WorkerLost as lost:
            raise RuntimeError(f"the PDF worker did not answer: it {lost}") from None
        finally:
            self._idle.put(slot)
        return {str(k): int(v) for k, v in json.loads(reply).items()}

    def close(self) -> None:
        self._closed = True
        for slot in self._slots:
            slot.stop()

    def __enter__(self) -> PdfSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _WorkerLost(Exception):
    """The worker died or was killed before it answered; the message completes 'The PDF …'."""


class _Worker:
    """One worker process and its pipe, restarted when it dies or has read enough files."""

    def __init__(self, context: Any, limits: SandboxLimits) -> None:
        self._context = context
        self._limits = limits
        self._process: Any = None
        self._conn: Connection | None = None
        self._files = 0

    def extract(self, pdf_bytes: bytes, limits: Limits) -> PdfExtraction:
        if self._files >= self._limits.max_files_per_worker:
            self.stop()
        self._files += 1
        request = ("extract", (limits, self._limits.cpu_seconds, pdf_bytes))
        try:
            reply = self.ask(request, limits.max_xml_bytes + _HEADER_BYTES, self._limits.timeout_seconds)
            result = decode_reply(reply)
        except _WorkerLost as lost:
            return too_complex(str(lost))
        except (ValueError, TypeError, KeyError) as error:  # our own bug, or a subverted worker
            log.error("unreadable reply from the PDF worker: %s", error)
            self.stop(kill=True)
            return too_complex("could not be read safely")
        if any(issue.code == TOO_COMPLEX for issue in result.issues):
            self.stop()  # a MemoryError or a cap hit may leave the worker in a poor state
        return result

    def ask(self, request: tuple[str, Any], max_reply: int, timeout: float) -> bytes:
        """Send one request and wait for its reply, or raise :class:`_WorkerLost` (worker then gone).

        A worker that cannot even be started raises ``OSError``: the environment's
        fault, not the file's (the envelope fails and is retried).
        """
        conn = self._ensure_started()
        try:
            conn.send(request)
        except (BrokenPipeError, ConnectionResetError):
            self.stop(kill=True)  # died while idle: not this file's fault; one fresh worker
            conn = self._ensure_started()
            conn.send(request)
        try:
            if conn.poll(timeout):
                return conn.recv_bytes(maxlength=max_reply)
        except EOFError:  # the worker died while reading this file
            if self.stop(kill=True) == -signal.SIGXCPU:
                raise _WorkerLost(
                    f"needed more than {self._limits.cpu_seconds} seconds of computing time"
                ) from None
            mb = self._limits.memory_bytes // (1024 * 1024)
            raise _WorkerLost(f"stopped the PDF reader (more than {mb} MB of memory, or a crash)") from None
        except OSError:  # a reply longer than max_reply
            self.stop(kill=True)
            raise _WorkerLost("holds more invoice data than the gateway accepts") from None
        self.stop(kill=True)
        raise _WorkerLost(f"took longer than {self._limits.timeout_seconds:g} seconds to read")

    def _ensure_started(self) -> Connection:
        if self._process is not None and self._conn is not None and self._process.is_alive():
            return self._conn
        self.stop(kill=True)
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(child_end, self._limits.memory_bytes), name="gateway-pdf", daemon=True
        )
        process.start()
        child_end.close()
        self._process, self._conn, self._files = process, parent_end, 1
        return self._conn

    def stop(self, kill: bool = False) -> int | None:
        """Stop the worker (politely unless ``kill``); its exit code, or None if none was running."""
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            if not kill:
                with contextlib.suppress(OSError):
                    conn.send(("stop", None))
            conn.close()
        if process is None:
            return None
        process.join(0 if kill else 2)
        if process.is_alive():
            process.kill()
            process.join()
        exitcode: int | None = process.exitcode
        process.close()
        return exitcode


_TEXT_FIELDS = ("attachment_name", "xml_kind", "xmp_level", "xmp_file_name")


def encode_reply(result: PdfExtraction) -> bytes:
    """Worker → parent: a length-prefixed JSON header, then the XML bytes as they are."""
    header: dict[str, Any] = {name: getattr(result, name) for name in _TEXT_FIELDS}
    header["names"] = list(result.attachment_names)
    header["issues"] = [[i.code, i.message, i.severity.value, i.location] for i in result.issues]
    header["xml"] = None if result.xml is None else len(result.xml)
    raw = json.dumps(header).encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw + (result.xml or b"")


def decode_reply(blob: bytes) -> PdfExtraction:
    """Parent side of :func:`encode_reply`; raises ValueError/TypeError/KeyError on anything odd."""
    size = int.from_bytes(blob[:4], "big")
    header, xml = json.loads(blob[4 : 4 + size]), blob[4 + size :]
    declared = header["xml"]
    if not ((declared is None and not xml) or declared == len(xml)):
        raise ValueError("the XML length does not match the header")
    texts = [header[name] for name in _TEXT_FIELDS] + header["names"]
    texts += [field for issue in header["issues"] for field in issue]
    if not all(value is None or isinstance(value, str) for value in texts):
        raise TypeError("a field of the reply is not text")
    return PdfExtraction(
        xml=None if declared is None else xml,
        attachment_names=tuple(header["names"]),
        issues=tuple(Issue(str(c), str(m), Severity(s), loc) for c, m, s, loc in header["issues"]),
        **{name: header[name] for name in _TEXT_FIELDS},
    )


def _address_space_now() -> int:
    """This process's virtual size (Linux ``/proc``); 0 where unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _worker_main(conn: Connection, memory_bytes: int) -> None:
    """The worker loop: limits first, then one request at a time until told to stop."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump core
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops the worker
    base = _address_space_now()
    if base:
        resource.setrlimit(resource.RLIMIT_AS, (base + memory_bytes, base + memory_bytes))
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its robustness warnings are not ours to show
    while True:
        try:
            kind, payload = conn.recv()
            reply = _answer(kind, payload)
        except (EOFError, OSError):
            return
        except MemoryError:  # receiving the request itself was too much
            kind, payload, reply = "stop", None, encode_reply(too_complex("needs too much memory to read"))
        if reply is None:
            return
        conn.send_bytes(reply)
        if kind == "stop":
            return


def _answer(kind: str, payload: Any) -> bytes | None:
    """The worker's reply to one request; None means: exit."""
    if kind == "probe":
        limits = {"RLIMIT_AS": resource.getrlimit(resource.RLIMIT_AS)[0]}
        limits["RLIMIT_CPU"] = resource.getrlimit(resource.RLIMIT_CPU)[0]
        return json.dumps(limits).encode()
    if kind != "extract":
        return None
    limits_, cpu_seconds, data = payload
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_seconds  # RLIMIT_CPU counts the whole life
    if cpu_hard != resource.RLIM_INFINITY:
        soft = min(soft, cpu_hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
    return encode_reply(extract_invoice_xml(data, limits_))


#: The process-wide sandboxes, one per set of worker limits (in practice one: the configured limits).
_sandboxes: dict[SandboxLimits, PdfSandbox] = {}
_sandboxes_lock = threading.Lock()
#: More distinct limits than this (tests, a reloaded configuration): the oldest sandbox is closed.
MAX_SANDBOXES = 4


def default_sandbox(limits: SandboxLimits | None = None) -> PdfSandbox:
    """The process-wide sandbox (one worker) for ``limits``, started on first use and closed at exit."""
    key = limits or SandboxLimits()
    with _sandboxes_lock:
        sandbox = _sandboxes.get(key)
        if sandbox is None:
            if not _sandboxes:
                atexit.register(_close_all)
            while len(_sandboxes) >= MAX_SANDBOXES:
                _sandboxes.pop(next(iter(_sandboxes))).close()
            sandbox = _sandboxes[key] = PdfSandbox(key)
        return sandbox


def extract_in_sandbox(pdf_bytes: bytes, limits: Limits) -> PdfExtraction:
    """:func:`extract_invoice_xml` in the sandbox for ``limits``' worker limits: what a parser calls."""
    return default_sandbox(SandboxLimits.from_limits(limits)).extract(pdf_bytes, limits)


def _close_all() -> None:
    with _sandboxes_lock:
        while _sandboxes:
            _sandboxes.pop(next(iter(_sandboxes))).close()


def _forget_sandboxes_after_fork() -> None:
    """A forked child must not share the parent's pipes: it starts its own sandbox if needed."""
    global _sandboxes, _sandboxes_lock
    _sandboxes, _sandboxes_lock = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_sandboxes_after_fork)
