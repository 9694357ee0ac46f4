"""Dictation from the virtual microphone with no key and no server: the local model hears it.

espeak-ng speech is played into the ``mic`` null sink once the engine listens on
``mic.monitor``; the engine is built from settings exactly as ``voiceloop dictate
--headless --input-device mic.monitor --turns 1`` builds it.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.fakegroq.sounds import espeak
from tests.local.wer import corpus_wer
from voiceloop import events as ev
from voiceloop.config import load_settings
from voiceloop.session.engine import engine_from_settings
from voiceloop.store import DATA_DIR_ENV

pytestmark = [pytest.mark.audio, pytest.mark.slow]

SENTENCE = "Please send me the report before the meeting tomorrow."


@pytest.mark.timeout(120)
def test_dictation_from_the_microphone_with_no_key_and_no_server(
    pulse_bench, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as s:  # a port nobody listens on: the cloud is unreachable
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv("GROQ_BASE_URL", f"http://127.0.0.1:{s.getsockname()[1]}")
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    speech = espeak(tmp_path / "speech.wav", SENTENCE)
    played: list[subprocess.CompletedProcess[bytes]] = []

    def play() -> None:
        time.sleep(0.5)  # let the monitor stream settle before any speech
        played.append(subprocess.run(["paplay", "--device=mic", str(speech)], capture_output=True))

    seen: list[ev.Event] = []
    player = threading.Thread(target=play, daemon=True)

    def on_event(event: ev.Event) -> None:
        seen.append(event)
        listening = isinstance(event, ev.StateChanged) and event.state == "listening"
        if listening and not player.is_alive() and not played:
            player.start()

    engine = engine_from_settings(
        load_settings({"audio": {"input": "mic.monitor", "cues": False}}),
        mode="dictate",
        on_event=on_event,
        max_turns=1,
    )
    asyncio.run(engine.run())
    player.join(timeout=30)

    assert len(played) == 1 and played[0].returncode == 0, played
    notices = [e for e in seen if isinstance(e, ev.Notice)]
    assert any(n.title == "Working locally" for n in notices), notices
    (heard,) = [e for e in seen if isinstance(e, ev.TranscriptReady)]
    assert heard.local is True and heard.provider == "local"
    (dictated,) = [e for e in seen if isinstance(e, ev.DictationAppended)]
    assert corpus_wer([(SENTENCE, dictated.text)]) <= 0.2, dictated.text
