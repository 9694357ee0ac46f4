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


def start(
    name: str, argv: list[str], health: str, log: Path, timeout: float = 120.0,
    env: dict[str, str] | None = None,
) -> Server:  # fmt: skip
    """Run ``argv`` (its ``{port}`` filled in) and wait until ``health`` answers 200."""
    port = free_port()
    out = log.open("wb")
    # No key of ours reaches a third-party process; nothing it does needs the internet.
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GROQ_", "OPENAI_"))}
    full |= {"HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    full |= env or {}
    process = subprocess.Popen(
        [a.format(port=port) for a in argv], stdout=out, stderr=subprocess.STDOUT, env=full
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


GATEWAY_KEY = "sk-voiceloop-test-master-key-0123456789abcdef"
GATEWAY_REPLY = "Hello from the gateway. This is the second sentence."


@pytest.fixture(scope="session")
def litellm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The LiteLLM proxy from PyPI, its one model answering with a fixed mock reply."""
    exe = venvs.python("litellm")
    home = tmp_path_factory.mktemp("litellm")
    config = home / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: mock-chat\n"
        "    litellm_params:\n"
        "      model: openai/mock-chat\n"
        "      api_key: not-used\n"
        f'      mock_response: "{GATEWAY_REPLY}"\n'
        "general_settings:\n"
        f"  master_key: {GATEWAY_KEY}\n"
    )
    argv = [str(exe.parent / "litellm"), "--config", str(config),
            "--host", "127.0.0.1", "--port", "{port}"]  # fmt: skip
    offline = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
    # Its start-up imports take ~50 s on a loaded 2-core machine.
    server = start("litellm", argv, "/health/liveliness", home / "server.log", 240.0, offline)
    yield server
    stop(server)


def use_server_config(monkeypatch, tmp_path, section: str, base_url: str, key: str, model: str):
    """Point ``[section]`` at a server of its own, with no Groq key or URL around."""
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    monkeypatch.delenv("GROQ_BASE_URL", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[{section}]\nbase_url = "{base_url}"\napi_key = "{key}"\nmodel = "{model}"\n'
    )
    monkeypatch.setenv("VOICELOOP_CONFIG", str(config))
    monkeypatch.setenv("VOICELOOP_LOG_DIR", str(tmp_path / "logs"))
