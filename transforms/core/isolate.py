"""Run a function in a long-lived child process that can be killed when it takes too long.

Why a process: trafilatura (and its jusText fallback) can spend minutes on a pathological
page (hazards rows 31-32), and nothing in a worker thread can stop it. Signal-based
timeouts only work in the main thread (Beam runs DoFns in other threads), and
trafilatura removed its own. A child process can always be killed, and its memory
returns to the system with it.

One :class:`IsolatedWorker` owns one child, started by :meth:`IsolatedWorker.start`
(from ``DoFn.setup()``) and reused for every call. A call that exceeds the time limit
kills the child; the next call starts a fresh one and is served normally. The child
is spawned, never forked: forking a multi-threaded Beam worker can copy held locks.

Failures are :class:`IsolationError` with a final ``reason`` made from the worker's
``name``: ``{name}_timeout``, ``{name}_crashed`` (the child died, e.g. killed by the
kernel), or, for an exception raised by the function, that exception's own string
``reason`` attribute if it has one, else ``{name}_error``. Exceptions never cross the
process boundary as objects (many do not pickle); their type and message do.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Final, Generic, TypeVar

__all__ = ["IsolatedWorker", "IsolationError"]

R = TypeVar("R")

_START_TIMEOUT_S: Final = 60.0
_READY: Final = "ready"


class IsolationError(Exception):
    """A call in the child failed; ``reason`` is the machine code to dead-letter with."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def _serve(conn: Connection, fn: Callable[..., Any], memory_limit_bytes: int | None) -> None:
    """The child's loop: one request in, one ("ok", value) or ("error", ...) out."""
    # Ctrl-C belongs to the parent, which stops this child itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_limit_bytes is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    conn.send(_READY)
    while True:
        try:
            args, kwargs = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        try:
            reply: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none kills us
            reason = getattr(exc, "reason", None)
            reply = ("error", reason if isinstance(reason, str) else None, _describe(exc))
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that does not pickle
            conn.send(("error", None, f"result not transferable: {_describe(exc)}"))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class IsolatedWorker(Generic[R]):
    """Calls ``fn`` in a child process, at most ``timeout_s`` wall-clock seconds a call.

    ``fn`` must be a module-level function (it is pickled by reference) whose arguments
    and result pickle. ``memory_limit_bytes`` caps the child's address space, so a page
    that would exhaust memory fails inside the child (``MemoryError``) instead of taking
    the worker down. Calls are serialised: one child serves one caller at a time.
    """

    def __init__(
        self,
        fn: Callable[..., R],
        *,
        timeout_s: float,
        name: str,
        memory_limit_bytes: int | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        self._fn = fn
        self._timeout_s = timeout_s
        self._name = name
        self._memory_limit_bytes = memory_limit_bytes
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before start or after close)."""
        return None if self._process is None else int(self._process.pid)

    def start(self) -> None:
        """Start the child and wait until it is ready (its imports done). Idempotent."""
        with self._lock:
            self._ensure_started()

    def close(self) -> None:
        """Stop the child. Idempotent; a later call starts a new one."""
        with self._lock:
            self._stop()

    def __enter__(self) -> IsolatedWorker[R]:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` in the child; raises :class:`IsolationError`."""
        with self._lock:
            self._ensure_started()
            assert self._conn is not None
            try:
                self._conn.send((args, kwargs))
                ready = self._conn.poll(self._timeout_s)
            except (OSError, EOFError) as exc:
                self._restart_after_failure()
                raise IsolationError(f"{self._name}_crashed", f"worker process: {exc}") from exc
            if not ready:
                self._restart_after_failure()
                raise IsolationError(
                    f"{self._name}_timeout", f"no result within {self._timeout_s:g} s"
                )
            try:
                reply = self._conn.recv()
            except (OSError, EOFError) as exc:
                code = self._process.exitcode if self._process is not None else None
                self._restart_after_failure()
                raise IsolationError(
                    f"{self._name}_crashed", f"worker process died (exit code {code})"
                ) from exc
        if reply[0] == "ok":
            result: R = reply[1]
            return result
        _, reason, message = reply
        raise IsolationError(reason or f"{self._name}_error", message)

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._stop()
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self._fn, self._memory_limit_bytes),
            name=f"newsbeam-{self._name}",
            daemon=True,
        )
        process.start()
        child.close()  # the child holds its own copy; ours would hide its death from recv
        self._process, self._conn = process, parent
        try:
            ready = parent.poll(_START_TIMEOUT_S) and parent.recv() == _READY
        except (OSError, EOFError):
            ready = False
        if not ready:
            self._stop()
            raise IsolationError(f"{self._name}_crashed", "worker process did not start")

    def _restart_after_failure(self) -> None:
        # The child may be mid-computation or dead; either way it cannot be trusted with
        # the next call. The replacement is started lazily by the next call.
        self._stop()
        self.restarts += 1

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=5.0)
            with contextlib.suppress(ValueError):
                process.close()
