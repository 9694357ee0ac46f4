"""The cloud fails in the middle of a session: the next utterance is not lost.

A converse session on the loopback server, fed in real time from a file: the first turn
is served by the cloud; then the cloud breaks (server stopped, 503s, 429 with a long
``retry-after``) and the second utterance is transcribed by the local model and its reply
spoken by the local voice. The transcript is marked local in the event, the history row
and the metrics line; the reply audio in the output file is intelligible local speech.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.fakegroq import FakeGroq, Fault
from tests.local.speech import espeak_audio, utterance_from
from tests.local.wer import corpus_wer
from voiceloop import events as ev
from voiceloop.config import load_settings
from voiceloop.providers.local import LocalTranscriber
from voiceloop.session.engine import engine_from_settings
from voiceloop.store import DATA_DIR_ENV, Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FIRST = "Please send me the report before the meeting tomorrow."
SECOND = "The weather is nice today and the sun is shining."
REPLY = "The cloud is gone but the voice goes on."
RETRIES = 2  # [http] max_retries: every attempt of a request meets the fault


@pytest.fixture
def stt_tts_server() -> Iterator[FakeGroq]:
    """A loopback server of its own for speech to text and speech (it may be stopped)."""
    server = FakeGroq().start()
    yield server
    server.stop()


def session_audio(path: Path) -> Path:
    """Half a second of silence, FIRST, six seconds of silence, SECOND, 1.5 s of silence."""
    first, rate = espeak_audio(FIRST, path.with_name("first.wav"))
    second, _ = espeak_audio(SECOND, path.with_name("second.wav"))

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * rate), np.float32)

    audio = np.concatenate([gap(0.5), first, gap(6.0), second, gap(1.5)]).astype(np.float32)
    soundfile.write(path, audio, rate, subtype="PCM_16")
    return path


def break_cloud(server: FakeGroq, how: str) -> None:
    if how == "stopped":
        # Off the event loop: stopping joins the server's thread.
        threading.Thread(target=server.stop, daemon=True).start()
        return
    fault = Fault.http(503) if how == "503" else Fault.http(429, retry_after=600)
    # Enough for every attempt of every request of the next turn: the reply is spoken in
    # two pieces synthesized in parallel, and a request dropped at a pause is asked again.
    for route in ("transcriptions", "speech"):
        server.set_fault(route, *[fault] * (RETRIES + 1) * 2)


@pytest.mark.parametrize("how", ["stopped", "503", "429"])
def test_cloud_failure_mid_session_falls_back_locally(
    how: str,
    stt_tts_server: FakeGroq,
    fake_groq: FakeGroq,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Speech to text and speech on one server, chat on another that stays up.
    monkeypatch.setenv("GROQ_API_KEY", stt_tts_server.api_key)
    monkeypatch.setenv("GROQ_BASE_URL", stt_tts_server.root_url)
    monkeypatch.setenv("VOICELOOP_LLM__BASE_URL", fake_groq.base_url)
    # Another origin: the Groq key does not travel there, so the stage has its own.
    monkeypatch.setenv("VOICELOOP_LLM__API_KEY", fake_groq.api_key)
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", str(RETRIES))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    fake_groq.chat_reply = REPLY
    settings = load_settings()
    assert settings.stt.fallback and settings.tts.fallback  # on by default

    seen: list[ev.Event] = []

    def on_event(event: ev.Event) -> None:
        seen.append(event)
        if isinstance(event, ev.TurnFinished) and len(of(seen, ev.TurnFinished)) == 1:
            break_cloud(stt_tts_server, how)

    reply_wav = tmp_path / "reply.wav"
    metrics = tmp_path / "metrics.jsonl"
    engine = engine_from_settings(
        settings,
        mode="converse",
        on_event=on_event,
        input=str(session_audio(tmp_path / "session.wav")),
        output=str(reply_wav),
        metrics_path=metrics,
        realtime_file=True,
    )
    asyncio.run(engine.run())

    failed = of(seen, ev.TurnFailed)
    assert not failed, failed
    first, second = of(seen, ev.TranscriptReady)
    assert first.local is False and first.provider == "groq"
    # The second utterance was not lost: the local model heard it.
    assert second.local is True and second.provider == "local"
    assert corpus_wer([(SECOND, second.text)]) <= 0.2, second.text
    fell_back = {(f.turn_id, f.stage, f.provider) for f in of(seen, ev.FallbackUsed)}
    assert fell_back == {
        (second.turn_id, "transcriber", "local"), (second.turn_id, "synthesizer", "local")
    }  # fmt: skip
    assert [d.text for d in of(seen, ev.ReplyDone)] == [REPLY, REPLY]

    with Store(tmp_path / "data") as store:
        row1, row2 = store.turn(first.turn_id), store.turn(second.turn_id)
    assert row1.local is False and row1.providers["stt"] == "groq"
    assert row2.local is True and row2.transcript == second.text
    assert row2.providers == {"stt": "local", "llm": "groq", "tts": "local"}

    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    by_turn = {line["turn_id"]: line for line in lines}
    assert by_turn[first.turn_id]["providers"]["transcriber"] == "groq"
    assert by_turn[second.turn_id]["providers"] == {
        "transcriber": "local", "responder": "groq", "synthesizer": "local"
    }  # fmt: skip

    # The reply of the second turn is real speech from the local voice (the cloud's
    # "speech" of the first is a tone sweep): the local model hears the words in it.
    audio, rate = soundfile.read(reply_wav, dtype="float32")
    heard = asyncio.run(LocalTranscriber().transcribe(utterance_from(audio, rate)))
    assert corpus_wer([(REPLY, heard.text)]) <= 0.2, heard.text


def of(events: list[ev.Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]
