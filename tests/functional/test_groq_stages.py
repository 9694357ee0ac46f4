"""The stage adapters and factories, built through the registry as the engine does."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakegroq import Fault
from tests.fakegroq.sounds import silence, tone, tone_track
from voiceloop.config import load_settings
from voiceloop.errors import ConfigError
from voiceloop.frames import Message, Utterance
from voiceloop.providers.http import ClientPool
from voiceloop.stages import (
    Responder,
    StageContext,
    StageReport,
    Synthesizer,
    Transcriber,
    call_hook,
    registry,
    reset_current_report,
    set_current_report,
)


@pytest.fixture
async def context(groq_env):
    settings = load_settings()
    ctx = StageContext(settings=settings)
    yield ctx
    pool = ctx.resources.get("http")
    if pool is not None:
        await pool.aclose()


@pytest.fixture
def report():
    r = StageReport()
    token = set_current_report(r)
    yield r
    reset_current_report(token)


def utterance(pcm_float: np.ndarray) -> Utterance:
    pcm = (pcm_float * 32767).astype(np.int16)
    return Utterance(pcm=pcm, start=0.0, end=len(pcm) / 16000, speech_fraction=1.0)


async def test_factories_are_registered_under_groq_openai_and_gateway(context):
    assert {"groq", "openai", "gateway"} <= set(registry.names())
    settings = context.settings
    assert isinstance(registry.create("transcriber", "groq", settings.stt, context), Transcriber)
    assert isinstance(registry.create("responder", "openai", settings.llm, context), Responder)
    assert isinstance(registry.create("synthesizer", "groq", settings.tts, context), Synthesizer)
    # One pool shared by every stage of the process.
    assert isinstance(context.resources["http"], ClientPool)


async def test_transcriber_uploads_flac_and_fills_the_report(context, groq_env, report):
    stt = registry.create("transcriber", "groq", context.settings.stt, context)
    transcript = await stt.transcribe(utterance(tone_track([(0.2, 0.6, 440)], 1.0)))
    assert transcript.text == "tone 440 hertz"
    assert transcript.segments[0].start == pytest.approx(0.2)
    assert transcript.provider == "groq" and transcript.model == "whisper-large-v3-turbo"
    sent = groq_env.requests_to("transcriptions")[0]
    assert sent.file[1][:4] == b"fLaC" and sent.form["response_format"] == ["verbose_json"]
    assert report.request_ids["transcriber"] == transcript.request_id
    assert report.providers["transcriber"] == "groq"


async def test_transcriber_uploads_the_utterances_own_flac_bytes(context, groq_env):
    from voiceloop.audio.formats import encode_flac

    u = utterance(tone(550, 0.5))
    flac = encode_flac(u.pcm, 16000)
    from dataclasses import replace

    stt = registry.create("transcriber", "groq", context.settings.stt, context)
    await stt.transcribe(replace(u, flac=flac))
    assert groq_env.requests_to("transcriptions")[0].file[1] == flac


async def test_transcriber_translates_with_the_translate_model(context, groq_env):
    stt = registry.create("transcriber", "groq", context.settings.stt, context)
    transcript = await stt.transcribe(utterance(tone(500, 0.5)), task="translate")
    assert transcript.text == "English: tone 500 hertz"
    sent = groq_env.requests_to("translations")[0]
    assert sent.form["model"] == ["whisper-large-v3"] and "language" not in sent.form
    assert "prompt" not in sent.form


async def test_live_translation_sends_the_translate_prompt_not_the_stt_one(context, groq_env):
    context.settings.stt.prompt = "Zoë, Saint-Étienne"
    context.settings.translate.prompt = "Zoë, in English."
    stt = registry.create("transcriber", "groq", context.settings.stt, context)
    await stt.transcribe(utterance(tone(500, 0.5)), task="translate")
    await stt.transcribe(utterance(tone(500, 0.5)))
    assert groq_env.requests_to("translations")[0].form["prompt"] == ["Zoë, in English."]
    assert groq_env.requests_to("transcriptions")[0].form["prompt"] == ["Zoë, Saint-Étienne"]


async def test_hallucination_filter_drops_phantom_text_on_silence(context, groq_env):
    stt = registry.create("transcriber", "groq", context.settings.stt, context)
    assert (await stt.transcribe(utterance(silence(1.5)))).text == ""
    context.settings.stt.hallucination_filter = False
    raw = registry.create("transcriber", "groq", context.settings.stt, context)
    assert (await raw.transcribe(utterance(silence(1.5)))).text == "Thank you."


async def test_responder_streams_deltas_with_system_prompt_and_usage(context, groq_env, report):
    llm = registry.create("responder", "groq", context.settings.llm, context)
    deltas = [d async for d in llm.respond([Message("user", "what time is it")])]
    assert len(deltas) > 3
    assert "".join(deltas) == "You said: what time is it. That is all I know."
    sent = groq_env.requests_to("chat")[0].json
    assert sent["messages"][0]["role"] == "system"
    assert sent["messages"][0]["content"] == context.settings.llm.system_prompt
    assert sent["reasoning_effort"] == "low" and sent["model"] == "openai/gpt-oss-20b"
    assert report.usage["responder"]["queue_time"] == 0.01
    assert report.request_ids["responder"]


async def test_responder_counts_retries_into_the_report(context, groq_env, report, monkeypatch):
    groq_env.set_fault("chat", Fault.http(503), Fault.http(429, retry_after=0))
    llm = registry.create("responder", "groq", context.settings.llm, context)
    text = "".join([d async for d in llm.respond([Message("user", "hi")])])
    assert text.startswith("You said: hi")
    assert report.retries == 2


async def test_synthesizer_splits_long_text_and_yields_chunks_in_order(context, groq_env):
    sentences = [f"This is sentence number {i}, which is long enough to matter." for i in range(8)]
    text = " ".join(sentences)
    assert len(text) > 400
    tts = registry.create("synthesizer", "groq", context.settings.tts, context)
    chunks = [c async for c in tts.synthesize(text)]
    inputs = [r.json["input"] for r in groq_env.requests_to("speech")]
    assert len(inputs) >= 3 and all(len(i) <= 200 for i in inputs)
    assert " ".join(inputs) == text
    assert [c.text for c in chunks if c.text] == inputs
    total = sum(c.duration for c in chunks)
    assert total == pytest.approx(sum(len(i) * 0.02 for i in inputs), abs=0.01)
    assert {c.sample_rate for c in chunks} == {48_000}


async def test_gateway_responder(context, groq_env, report):
    section = context.settings.llm.model_copy(
        update={"provider": "gateway", "base_url": groq_env.root_url}
    )
    llm = registry.create("responder", "gateway", section, context)
    text = "".join([d async for d in llm.respond([Message("user", "ping")])])
    assert text == "You said: ping. That is all I know."
    sent = groq_env.requests_to("gateway")[0]
    assert sent.headers["authorization"] == f"Bearer {groq_env.api_key}"
    assert set(sent.json) == {"messages", "model", "stream"}
    assert report.usage["responder"]["total_time"] == 0.783


async def test_gateway_flat_error_and_config_errors(context, groq_env):
    from voiceloop.errors import BadRequestError

    section = context.settings.llm.model_copy(
        update={"provider": "gateway", "base_url": groq_env.root_url, "model": "nope"}
    )
    llm = registry.create("responder", "gateway", section, context)
    with pytest.raises(BadRequestError, match="'nope' is not available"):
        _ = [d async for d in llm.respond([Message("user", "ping")])]
    with pytest.raises(ConfigError, match="chat only"):
        registry.create("transcriber", "gateway", section, context)
    no_url = context.settings.llm.model_copy(update={"provider": "gateway", "base_url": None})
    with pytest.raises(ConfigError, match="base_url"):
        registry.create("responder", "gateway", no_url, context)


async def test_synthesizer_stopped_early_releases_the_connection(context, groq_env):
    import asyncio

    groq_env.latency.speech_chunk = 0.05
    tts = registry.create("synthesizer", "groq", context.settings.tts, context)
    chunks = tts.synthesize("x" * 190)
    first = await anext(chunks)
    assert first.text == "x" * 190
    await chunks.aclose()
    for _ in range(100):
        if groq_env.abandoned_streams:
            break
        await asyncio.sleep(0.05)
    assert groq_env.abandoned_streams == 1


async def test_stages_warm_the_shared_pool_and_its_owner_closes_it(context, groq_env):
    settings = context.settings
    stages = [
        registry.create("transcriber", "groq", settings.stt, context),
        registry.create("responder", "groq", settings.llm, context),
        registry.create("synthesizer", "groq", settings.tts, context),
    ]
    for stage in stages:
        await stage.warm()
    pool = context.resources["http"]
    client = pool.client(groq_env.base_url)
    assert len(client._transport._pool.connections) == 1  # one warm connection, shared
    for stage in stages:
        await call_hook(stage, "aclose")
    assert not client.is_closed  # the pool is shared: a stage closing leaves it open
    text = "".join([d async for d in stages[1].respond([Message("user", "still")])])
    assert text.startswith("You said: still")
    await context.aclose()  # the context owns the pool
    assert client.is_closed
    # Closing is not the end: a later request opens a fresh client.
    text = "".join([d async for d in stages[1].respond([Message("user", "again")])])
    assert text.startswith("You said: again")
    await context.aclose()


async def test_a_session_closes_its_stages_then_the_pool_they_share(groq_env):
    from voiceloop.session.builder import Session

    settings = load_settings()
    async with Session(settings) as session:
        stages, errors = session.build("converse")
        assert errors == {} and stages.context is session.context
        await stages.responder.warm()
        client = session.pool.client(groq_env.base_url)
        closed: list[str] = []
        for name, stage in (("stt", stages.transcriber), ("tts", stages.synthesizer)):
            stage.aclose = lambda name=name: _note(closed, name, client)
    assert closed == [("tts", False), ("stt", False)]  # stages first, pool still open
    assert client.is_closed and session.context.resources == {}


async def _note(closed: list, name: str, client) -> None:
    closed.append((name, client.is_closed))


@pytest.mark.parametrize("kind", ["responder", "synthesizer"])
async def test_a_stalled_chat_or_speech_request_is_retried_at_the_stall_timeout(
    groq_env, monkeypatch, kind
):
    """No first byte within ``[http] stall_timeout``: the attempt is retried, not waited on
    for the read timeout (the server here would stay silent for 30 s)."""
    import time

    monkeypatch.setenv("VOICELOOP_HTTP__STALL_TIMEOUT", "1.5")
    settings = load_settings()
    ctx = StageContext(settings=settings)
    endpoint = "chat" if kind == "responder" else "speech"
    groq_env.set_fault(endpoint, Fault.slow(30.0))
    started = time.monotonic()
    try:
        if kind == "responder":
            stage = registry.create("responder", "groq", settings.llm, ctx)
            out = "".join([d async for d in stage.respond([Message("user", "hi")])])
            assert out.startswith("You said: hi")
        else:
            stage = registry.create("synthesizer", "groq", settings.tts, ctx)
            chunks = [c async for c in stage.synthesize("Hello there.")]
            assert chunks and len(chunks[0].pcm) > 0
    finally:
        await ctx.resources["http"].aclose()
    assert len(groq_env.requests_to(endpoint)) == 2
    assert time.monotonic() - started < 10


async def test_an_utterance_s_hint_goes_before_the_configured_prompt(context, groq_env):
    from dataclasses import replace

    context.settings.stt.prompt = "Zoë, Saint-Étienne"
    stt = registry.create("transcriber", "groq", context.settings.stt, context)
    await stt.transcribe(replace(utterance(tone(500, 0.5)), hint="Mm-hmm."))
    await stt.transcribe(utterance(tone(500, 0.5)))
    first, second = groq_env.requests_to("transcriptions")
    assert first.form["prompt"] == ["Mm-hmm. Zoë, Saint-Étienne"]
    assert second.form["prompt"] == ["Zoë, Saint-Étienne"]
