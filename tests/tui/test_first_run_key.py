"""The welcome page: a pasted key is checked with the service and used at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.widgets import Input, Static

from tests.tui.fakes import Harness
from voiceloop.config import load_settings
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.screens.first_run import FirstRunScreen
from voiceloop.tui.screens.help import HelpScreen
from voiceloop.tui.wiring import key_user


def _app(harness: Harness, config: Path, monkeypatch) -> tuple[VoiceloopApp, object]:
    monkeypatch.delenv("GROQ_API_KEY")  # a fresh machine: no key anywhere
    settings = load_settings(path=config)
    deps = harness.deps(config, has_key=False, local_dictation=True, use_key=key_user(settings))
    return VoiceloopApp(deps=deps), settings


async def _paste(pilot, app: VoiceloopApp, key: str) -> None:
    await pilot.pause()
    app.screen.query_one("#api-key", Input).value = key
    await pilot.press("enter")
    for _ in range(100):  # the check is a real request to the loopback server
        await pilot.pause(0.05)
        if not isinstance(app.screen, FirstRunScreen):
            return
        status = str(app.screen.query_one("#key-status", Static).render())
        if "not saved" in status.lower():
            return


async def test_an_accepted_key_is_checked_saved_and_used_without_restart(
    harness: Harness, tmp_path: Path, groq_env, monkeypatch
) -> None:
    config = tmp_path / "config.toml"
    app, settings = _app(harness, config, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await _paste(pilot, app, groq_env.api_key)
        assert not isinstance(app.screen, FirstRunScreen)
        [check] = groq_env.requests_to("models")
        assert check.headers["authorization"] == f"Bearer {groq_env.api_key}"
        assert tomllib.loads(config.read_text())["groq_api_key"] == groq_env.api_key
        # The running app has it now: the engine it starts is built with the key.
        assert settings.groq_api_key.get_secret_value() == groq_env.api_key
        assert settings.has_chat_backend()
        assert app.deps.has_key
        assert harness.engine.called("run") and harness.engine.mode == "converse"


async def test_a_refused_key_says_so_and_is_not_saved(
    harness: Harness, tmp_path: Path, groq_env, monkeypatch
) -> None:
    config = tmp_path / "config.toml"
    app, settings = _app(harness, config, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await _paste(pilot, app, "gsk_not_a_real_key")
        assert isinstance(app.screen, FirstRunScreen)
        status = str(app.screen.query_one("#key-status", Static).render())
        assert "Key not saved" in status and "Key refused" in status
        assert "Invalid API Key" in status
        assert "gsk_not_a_real_key" not in status
        assert len(groq_env.requests_to("models")) == 1
        assert not config.exists()
        assert settings.groq_api_key is None
        assert harness.engines == []


async def test_f1_and_f2_work_on_the_welcome_page(
    harness: Harness, tmp_path: Path, groq_env, monkeypatch
) -> None:
    app, _ = _app(harness, tmp_path / "config.toml", monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        status = str(app.screen.query_one("#key-status", Static).render())
        assert "Conversation needs an API key" in status
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
