"""Model hosts: one load however many callers, work in order off the loop, retry a failed load."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from voiceloop.errors import LocalModelError
from voiceloop.providers.local.runtime import ModelHost, host_for, resolve_threads


async def test_concurrent_callers_share_one_load_on_a_worker_thread() -> None:
    loads: list[str] = []

    def loader() -> str:
        loads.append(threading.current_thread().name)
        time.sleep(0.05)
        return "model"

    host: ModelHost[str] = ModelHost("test", loader)
    results = await asyncio.gather(host.load(), host.run(str.upper), host.load())
    assert results == ["model", "MODEL", "model"]
    assert host.loads == 1 and len(loads) == 1
    assert loads[0] != threading.current_thread().name


async def test_work_runs_in_arrival_order() -> None:
    host: ModelHost[list[int]] = ModelHost("order", list)
    await asyncio.gather(*(host.run(lambda m, i=i: m.append(i)) for i in range(20)))
    assert await host.run(list) == list(range(20))


async def test_a_failed_load_is_tried_again() -> None:
    attempts = 0

    def loader() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise LocalModelError("offline")
        return "model"

    host: ModelHost[str] = ModelHost("retry", loader)
    with pytest.raises(LocalModelError):
        await host.load()
    assert await host.load() == "model"
    assert host.loads == 1 and attempts == 2


async def test_work_cancelled_before_it_starts_never_runs() -> None:
    gate = threading.Event()
    ran: list[str] = []
    host: ModelHost[str] = ModelHost("cancel", lambda: "model")
    blocker = asyncio.ensure_future(host.run(lambda m: gate.wait(5)))
    queued = asyncio.ensure_future(host.run(lambda m: ran.append("queued")))
    await asyncio.sleep(0.05)
    queued.cancel()
    await asyncio.sleep(0.01)  # the cancellation reaches the worker's queue on the loop
    gate.set()
    await blocker
    await host.run(lambda m: None)
    assert ran == []


def test_hosts_are_shared_by_key() -> None:
    a = host_for(("test-key", 1), "a", lambda: 1)
    assert host_for(("test-key", 1), "b", lambda: 2) is a
    assert host_for(("test-key", 2), "c", lambda: 3) is not a


def test_threads_auto_and_explicit() -> None:
    assert 1 <= resolve_threads(0) <= 4
    assert resolve_threads(3) == 3
    with pytest.raises(LocalModelError):
        resolve_threads(-1)
