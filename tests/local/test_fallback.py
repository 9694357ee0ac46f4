"""Fallback wrappers: which cloud failures go local, and that nothing is lost or doubled."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from tests.engine.fakes import make_settings
from voiceloop.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectError,
    LocalModelError,
    ModelNotFoundError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    StreamError,
)
from voiceloop.frames import AudioChunk, Task, Transcript, Utterance
from voiceloop.providers.fallback import FallbackSynthesizer, FallbackTranscriber
from voiceloop.providers.local import LocalSynthesizer, LocalTranscriber
from voiceloop.session.builder import Session
from voiceloop.stages import (
    StageRegistry,
    StageReport,
    reset_current_report,
    set_current_report,
)

UTTERANCE = Utterance(pcm=np.zeros(1600, dtype=np.int16), start=0.0, end=0.1, speech_fraction=1)

FALLS_BACK = [
    ConnectError("could not reach the server"),
    ProviderTimeoutError("read timed out"),
    ServerError("service unavailable", status=503),
    ServerError("internal error", status=500),
    RateLimitError("rate limited", status=429, retry_after=3600.0),
    RateLimitError("flex capacity exceeded", status=498),
    StreamError("stream ended early"),
    AuthenticationError("invalid API key", status=401, hint="check GROQ_API_KEY"),
]
SURFACES = [
    BadRequestError("bad request", status=400),
    ModelNotFoundError("model decommissioned", status=404),
    RequestTooLargeError("too large", status=413),
]


class FakeTranscriber:
    def __init__(self, *, error: Exception | None = None, text: str = "hello") -> None:
        self.error = error
        self.text = text
        self.calls: list[tuple[Utterance, Task]] = []
        self.warmed = False

    async def transcribe(self, utterance: Utterance, *, task: Task = "transcribe") -> Transcript:
        self.calls.append((utterance, task))
        if self.error is not None:
            raise self.error
        return Transcript(text=self.text, provider="fake", model="m")

    async def warm(self) -> None:
        self.warmed = True


class FakeSynthesizer:
    def __init__(self, *, chunks: int = 2, fail_after: int | None = None, error=None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.error = error
        self.texts: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        self.texts.append(text)
        for i in range(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise self.error
            yield AudioChunk(pcm=np.full(10, i, dtype=np.float32), sample_rate=8000, text=text)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def report():
    report = StageReport()
    token = set_current_report(report)
    yield report
    reset_current_report(token)


@pytest.mark.parametrize("error", FALLS_BACK, ids=lambda e: f"{type(e).__name__}-{e.status}")
async def test_transcription_falls_back_on_cloud_failure(error, report) -> None:
    primary, local = FakeTranscriber(error=error), FakeTranscriber(text="local words")
    seen: list[tuple[str, str, str]] = []
    stage = FallbackTranscriber(primary, local, on_fallback=lambda *a: seen.append(a))
    transcript = await stage.transcribe(UTTERANCE)
    assert transcript.text == "local words"
    assert transcript.local is True
    assert local.calls == [(UTTERANCE, "transcribe")], "the same utterance goes local"
    assert report.providers["transcriber"] == "local"
    [(kind, reason, provider)] = seen
    assert (kind, provider) == ("transcriber", "local")
    assert error.message in reason and error.title in reason
    if error.hint:
        assert error.hint in reason, "what to fix must reach the user"


@pytest.mark.parametrize("error", SURFACES, ids=lambda e: type(e).__name__)
async def test_requests_the_server_refused_are_not_retried_locally(error, report) -> None:
    primary, local = FakeTranscriber(error=error), FakeTranscriber()
    seen: list[object] = []
    stage = FallbackTranscriber(primary, local, on_fallback=lambda *a: seen.append(a))
    with pytest.raises(type(error)):
        await stage.transcribe(UTTERANCE)
    assert local.calls == [] and seen == [] and report.providers == {}


async def test_the_set_of_errors_is_configurable() -> None:
    local = FakeTranscriber()
    only_connect = FallbackTranscriber(
        FakeTranscriber(error=ServerError("down", status=503)), local, fallback_on=(ConnectError,)
    )
    with pytest.raises(ServerError):
        await only_connect.transcribe(UTTERANCE)
    also_bad_request = FallbackTranscriber(
        FakeTranscriber(error=BadRequestError("no", status=400)),
        local,
        fallback_on=(BadRequestError,),
    )
    assert (await also_bad_request.transcribe(UTTERANCE)).local is True


async def test_success_passes_through_untouched(report) -> None:
    primary, local = FakeTranscriber(text="cloud words"), FakeTranscriber()
    transcript = await FallbackTranscriber(primary, local).transcribe(UTTERANCE, task="translate")
    assert transcript.text == "cloud words" and transcript.local is False
    assert primary.calls == [(UTTERANCE, "translate")] and local.calls == []
    assert "transcriber" not in report.providers


async def test_bugs_are_not_hidden_by_the_fallback() -> None:
    stage = FallbackTranscriber(FakeTranscriber(error=KeyError("bug")), FakeTranscriber())
    with pytest.raises(KeyError):
        await stage.transcribe(UTTERANCE)


async def test_after_a_failure_the_cloud_rests_then_is_tried_again() -> None:
    clock = Clock()
    primary, local = FakeTranscriber(error=ConnectError("offline")), FakeTranscriber()
    seen: list[tuple[str, str, str]] = []
    stage = FallbackTranscriber(
        primary, local, on_fallback=lambda *a: seen.append(a), cooldown=30.0, clock=clock
    )
    await stage.transcribe(UTTERANCE)
    clock.now += 10
    assert (await stage.transcribe(UTTERANCE)).local is True
    assert len(primary.calls) == 1, "resting: the cloud is not tried again yet"
    assert len(seen) == 2 and "offline" in seen[1][1], "every local turn is reported"
    clock.now += 21
    primary.error = None
    transcript = await stage.transcribe(UTTERANCE)
    assert transcript.local is False and len(primary.calls) == 2


async def test_no_cooldown_tries_the_cloud_every_time() -> None:
    primary, local = FakeTranscriber(error=ConnectError("offline")), FakeTranscriber()
    stage = FallbackTranscriber(primary, local, cooldown=0)
    await stage.transcribe(UTTERANCE)
    await stage.transcribe(UTTERANCE)
    assert len(primary.calls) == 2


async def test_when_both_fail_the_cloud_error_names_the_local_one() -> None:
    local_error = LocalModelError("tiny.en cannot translate", hint="set a multilingual model")
    stage = FallbackTranscriber(
        FakeTranscriber(error=ConnectError("could not reach the server", hint="check network")),
        FakeTranscriber(error=local_error),
    )
    with pytest.raises(ConnectError) as caught:
        await stage.transcribe(UTTERANCE, task="translate")
    hint = caught.value.hint or ""
    assert "check network" in hint and "tiny.en cannot translate" in hint
    assert caught.value.__cause__ is local_error


async def test_warm_readies_both_stages() -> None:
    primary, local = FakeTranscriber(), FakeTranscriber()
    await FallbackTranscriber(primary, local).warm()
    assert primary.warmed and local.warmed


@pytest.mark.parametrize("error", FALLS_BACK, ids=lambda e: f"{type(e).__name__}-{e.status}")
async def test_synthesis_falls_back_before_any_audio(error, report) -> None:
    primary = FakeSynthesizer(fail_after=0, error=error)
    local = FakeSynthesizer(chunks=3)
    seen: list[tuple[str, str, str]] = []
    stage = FallbackSynthesizer(primary, local, on_fallback=lambda *a: seen.append(a))
    chunks = [c async for c in stage.synthesize("Hello there.")]
    assert len(chunks) == 3 and local.texts == ["Hello there."]
    assert report.providers["synthesizer"] == "local"
    assert [(k, p) for k, _r, p in seen] == [("synthesizer", "local")]


async def test_synthesis_never_repeats_speech_after_audio_was_yielded() -> None:
    primary = FakeSynthesizer(chunks=3, fail_after=1, error=ServerError("died", status=502))
    local = FakeSynthesizer()
    seen: list[object] = []
    stage = FallbackSynthesizer(primary, local, on_fallback=lambda *a: seen.append(a))
    received: list[AudioChunk] = []
    with pytest.raises(ServerError):
        async for chunk in stage.synthesize("Hello there."):
            received.append(chunk)
    assert len(received) == 1
    assert local.texts == [] and seen == []


async def test_synthesis_success_and_refusals_pass_through() -> None:
    local = FakeSynthesizer()
    ok = FallbackSynthesizer(FakeSynthesizer(chunks=2), local)
    assert len([c async for c in ok.synthesize("Hi.")]) == 2
    refused = FallbackSynthesizer(
        FakeSynthesizer(fail_after=0, error=BadRequestError("voice unknown", status=400)), local
    )
    with pytest.raises(BadRequestError):
        [c async for c in refused.synthesize("Hi.")]
    assert local.texts == []


async def test_synthesis_rests_the_cloud_after_a_failure() -> None:
    clock = Clock()
    primary = FakeSynthesizer(fail_after=0, error=ConnectError("offline"))
    local = FakeSynthesizer()
    stage = FallbackSynthesizer(primary, local, clock=clock)
    [c async for c in stage.synthesize("One.")]
    [c async for c in stage.synthesize("Two.")]
    assert primary.texts == ["One."] and local.texts == ["One.", "Two."]


def test_every_default_fallback_error_is_a_provider_error() -> None:
    from voiceloop.providers.fallback import DEFAULT_FALLBACK_ON

    assert all(issubclass(e, ProviderError) for e in DEFAULT_FALLBACK_ON)
    assert AuthenticationError in DEFAULT_FALLBACK_ON
    assert BadRequestError not in DEFAULT_FALLBACK_ON


def _session(**sections: dict[str, object]) -> Session:
    """A session whose "cloud" provider serves fakes, and whose "local" is the real one."""
    from voiceloop.providers.local import make_stage as local_stage

    reg = StageRegistry()
    reg._loaded = True  # no entry points: only what is registered here
    reg.register("cloud", lambda kind, section, ctx: CLOUD[kind]())
    reg.register("local", local_stage)
    return Session(make_settings(**sections), stage_registry=reg)


CLOUD = {"transcriber": FakeTranscriber, "synthesizer": FakeSynthesizer, "responder": object}


def test_local_fallback_wraps_cloud_stages_when_asked() -> None:
    session = _session(
        stt={"provider": "cloud", "fallback": True}, tts={"provider": "cloud", "fallback": True}
    )
    wrapped, provider = session.stage("stt")
    assert provider == "cloud" and isinstance(wrapped, FallbackTranscriber)
    assert isinstance(wrapped.primary, FakeTranscriber)
    assert isinstance(wrapped.fallback, LocalTranscriber)
    voice, _ = session.stage("tts")
    assert isinstance(voice, FallbackSynthesizer) and isinstance(voice.fallback, LocalSynthesizer)


def test_local_fallback_leaves_alone_what_it_should() -> None:
    off, _ = _session(stt={"provider": "cloud", "fallback": False}).stage("stt")
    assert isinstance(off, FakeTranscriber)
    local, _ = _session(stt={"provider": "local", "fallback": True}).stage("stt")
    assert isinstance(local, LocalTranscriber)
    chat, _ = _session(llm={"provider": "cloud"}).stage("llm")
    assert type(chat) is object  # no local chat to fall back to
