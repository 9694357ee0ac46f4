"""Start real third-party servers on 127.0.0.1 for a test session and stop them after."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import venvs


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, argv: list[str], health: str, log: Path, timeout: float = 120.0) -> Server:
    """Run ``argv`` (its ``{port}`` filled in) and wait until ``health`` answers 200."""
    port = free_port()
    out = log.open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GROQ_", "OPENAI_"))}
    env |= {"HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    process = subprocess.Popen(
        [a.format(port=port) for a in argv], stdout=out, stderr=subprocess.STDOUT, env=env
    )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(server.root + health, timeout=2.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{log.read_text()[-2000:]}")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def whisper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """faster-whisper-server from PyPI serving the tiny.en model voiceloop ships offline."""
    from voiceloop.providers.local.stt import embedded_model_path

    exe = venvs.python("faster-whisper-server")
    log = tmp_path_factory.mktemp("whisper-server") / "server.log"
    argv = [str(exe), "-m", "faster_whisper_server", str(embedded_model_path()),
            "--host", "127.0.0.1", "--port", "{port}"]  # fmt: skip
    server = start("faster-whisper-server", argv, "/health", log)
    yield server
    stop(server)
