"""voiceloop's chat stage against the LiteLLM proxy, a real OpenAI-compatible gateway."""

from __future__ import annotations

import pytest

from tests.servers.conftest import GATEWAY_KEY, GATEWAY_REPLY, use_server_config
from voiceloop.cli import main


@pytest.fixture
def llm_env(litellm_server, monkeypatch, tmp_path):
    use_server_config(
        monkeypatch, tmp_path, "llm", f"{litellm_server.root}/v1", GATEWAY_KEY, "mock-chat"
    )
    return litellm_server


def test_ask_prints_the_gateway_reply(capsys, llm_env):
    code = main(["ask", "Say hello."])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == GATEWAY_REPLY


def test_ask_with_a_wrong_key_is_one_clear_line(capsys, llm_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace(GATEWAY_KEY, "sk-wrong"))
    code = main(["ask", "Say hello."])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "sk-wrong" not in err, err
