"""Where local models live: loaded once per process, used from one worker thread each.

A :class:`ModelHost` owns one model (keyed by everything that changes how it loads) and a
single daemon worker thread. Loading and every inference run on that thread, so:

- the event loop never blocks on a model, and no asyncio object is bound to a loop (the
  same host serves any loop, which keeps test sessions and re-created engines cheap);
- calls on one model are serialised in arrival order, so two syntheses never fight for the
  two cores of a small machine and the first sentence is not slowed by the second;
- the model loads exactly once, however many stages (primary, fallback) share it.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from voiceloop.errors import LocalModelError

M = TypeVar("M")
R = TypeVar("R")

MAX_AUTO_THREADS = 4
"""Beyond four threads tiny models gain little and steal cores from audio and the UI."""


def first_line(exc: BaseException) -> str:
    """A foreign exception as one short line for an error message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def resolve_threads(threads: int) -> int:
    """``threads`` as configured, or (0) the usable cores, capped at :data:`MAX_AUTO_THREADS`."""
    if threads < 0:
        raise LocalModelError(
            f"[local] threads must be 0 (auto) or more, not {threads}",
            hint="set [local] threads = 0 to use the available cores",
        )
    if threads:
        return threads
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_THREADS))


class _Worker:
    """One daemon thread running submitted calls in order.

    A daemon (unlike a ``ThreadPoolExecutor`` worker) does not hold up the exit of the
    program while a long transcription finishes. Work cancelled before it starts (a
    prefetched sentence after barge-in) is skipped.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], R]) -> Future[R]:
        future: Future[R] = Future()
        self._queue.put((future, fn))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return future

    def stop(self, timeout: float) -> None:
        """Let queued work finish, end the thread and wait up to ``timeout`` for it."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        self._queue.put((Future(), _STOP))
        thread.join(timeout)

    def _run(self) -> None:
        while True:
            future, fn = self._queue.get()
            if fn is _STOP:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)


def _STOP() -> None:
    """Marker queued to end a worker."""


class ModelHost(Generic[M]):
    """One model, loaded on first need, used only from its own worker thread."""

    def __init__(self, name: str, loader: Callable[[], M]) -> None:
        self.name = name
        self._loader = loader
        self._model: M | None = None
        self.loads = 0
        """How many times the model has actually been loaded (1 once warm)."""
        self._worker = _Worker(f"voiceloop-local-{name}")

    def _ensure_loaded(self) -> M:
        # Runs on the worker thread only, so no lock is needed. A failed load is not
        # remembered: the next call tries again (a download may succeed once online).
        if self._model is None:
            self._model = self._loader()
            self.loads += 1
        return self._model

    async def load(self) -> M:
        """Load the model if needed (in the worker thread) and return it."""
        return await self.run(lambda model: model)

    async def run(self, fn: Callable[[M], R]) -> R:
        """Run ``fn(model)`` on the worker thread, loading the model first if needed."""
        return await asyncio.wrap_future(self._worker.submit(lambda: fn(self._ensure_loaded())))

    def submit(self, fn: Callable[[M], object]) -> None:
        """Queue ``fn(model)`` on the worker thread without waiting (clean-up work)."""
        model = self._model
        if model is not None:
            self._worker.submit(lambda: fn(model))

    def close(self, timeout: float = 5.0) -> None:
        """Free the model on its own thread and end that thread.

        Native runtimes (CTranslate2, ONNX Runtime) abort the process when their objects
        are torn down by interpreter finalisation while a daemon thread still holds them,
        so every host is closed at exit, before finalisation starts.
        """

        def release() -> None:
            self._model = None

        self._worker.submit(release)
        self._worker.stop(timeout)


_hosts: dict[Hashable, ModelHost[Any]] = {}
_hosts_lock = threading.Lock()


@atexit.register
def _close_hosts() -> None:
    with _hosts_lock:
        hosts = list(_hosts.values())
        _hosts.clear()
    for host in hosts:
        host.close()


def host_for(key: Hashable, name: str, loader: Callable[[], M]) -> ModelHost[M]:
    """The process-wide host for ``key``, created (not loaded) on first request."""
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            host = _hosts[key] = ModelHost(name, loader)
        return host
