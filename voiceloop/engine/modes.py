"""What a turn does after the utterance is safe: converse, dictate, translate."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from voiceloop.engine import metrics as m
from voiceloop.engine.dictation import CLEANUP_PROMPT
from voiceloop.engine.presynth import primed_synthesizer
from voiceloop.engine.reply import ReplyStream, aclose_stream
from voiceloop.errors import ConfigError, StageFailed, VoiceloopError, describe
from voiceloop.events import (
    DictationAppended,
    Notice,
    ReplyDone,
    TranscriptReady,
    TranslationReady,
)
from voiceloop.frames import Message, Transcript

if TYPE_CHECKING:
    from voiceloop.engine.turn import Turn

log = logging.getLogger(__name__)


# -- converse ----------------------------------------------------------------------


async def converse(turn: Turn) -> None:
    """Transcribe, then stream the reply and speak it sentence by sentence."""
    services = turn.services
    transcript = await _transcript(turn)
    if transcript is None:
        return
    user_text = transcript.text.strip()
    await turn.wait_for_predecessor()
    responder = services.stages.responder
    if responder is None:
        raise StageFailed(
            "responder",
            ConfigError(
                "no chat backend is configured",
                hint="set GROQ_API_KEY, or point [llm] base_url at an OpenAI-compatible server",
            ),
        )
    turn.state("thinking")
    language = services.options.language or transcript.language
    spec, turn.speculative = turn.speculative, None
    if turn.speculator is not None:
        # What was asked during the pauses of this utterance, used or dropped, is this
        # turn's cost, whether or not a speculative reply survived.
        if spec is not None and not turn.speculator.matches(spec, user_text):
            spec = None
        turn.metrics_extra.update(turn.speculator.counts())
    primed = primed_synthesizer(turn, spec, language)
    reply = ReplyStream(turn, show=True, speak=True, language=language, synthesizer=primed)
    try:
        if spec is not None:
            deltas = spec.stream()
            turn.metrics_extra["speculative_reply"] = True
        else:
            deltas = responder.respond(services.conversation.messages(user_text))
    except Exception as exc:
        raise StageFailed("responder", exc) from exc
    if spec is not None:
        report = spec.report
        deltas = _merging(deltas, lambda: turn.report.merge(report))
    try:
        await reply.run(deltas, from_llm=True)
    except asyncio.CancelledError:
        _reply_done(turn, user_text, reply, interrupted=True)
        raise
    except Exception:
        if reply.text:
            turn.update(reply=reply.text, reply_heard=reply.heard(interrupted=True))
        raise
    finally:
        if primed is not None:
            primed.close()
    _reply_done(turn, user_text, reply, interrupted=False)
    if reply.speech is not None and reply.speech.pieces:
        services.cue("done")


def _reply_done(turn: Turn, user_text: str, reply: ReplyStream, *, interrupted: bool) -> None:
    heard = reply.heard(interrupted=interrupted)
    if reply.text or interrupted:
        turn.services.conversation.add(user_text, heard, interrupted=interrupted)
    turn.services.emit(
        ReplyDone(turn_id=turn.id, text=reply.text, heard=heard, interrupted=interrupted)
    )
    # Who answered and who spoke (``local`` after a fallback), for the history.
    served = {
        column: turn.report.providers[kind]
        for column, kind in (("llm", "responder"), ("tts", "synthesizer"))
        if turn.report.providers.get(kind)
    }
    extra = {"providers": served} if served else {}
    turn.settle(
        "interrupted" if interrupted else "answered", reply=reply.text, reply_heard=heard, **extra
    )


async def _one(text: str) -> AsyncIterator[str]:
    yield text


# -- dictate -----------------------------------------------------------------------


async def dictate(turn: Turn) -> None:
    """Transcribe and append to the dictation buffer and its outputs."""
    services = turn.services
    transcript = await _transcript(turn)
    if transcript is None:
        return
    text = transcript.text.strip()
    await turn.wait_for_predecessor()
    if services.options.dictate_cleanup:
        turn.state("thinking")
        text = await _cleanup(turn, text)
    buffer = services.dictation.append(text)
    try:
        services.outputs.deliver(text, buffer)
    except Exception as exc:
        _notice(turn, exc, "Dictation output")
    services.emit(DictationAppended(turn_id=turn.id, text=text, buffer=buffer))
    turn.settle("transcribed")


async def _cleanup(turn: Turn, text: str) -> str:
    """The LLM clean-up pass; on any failure the raw transcript is kept."""
    responder = turn.services.stages.responder
    if responder is None:
        return text
    messages = [Message("system", CLEANUP_PROMPT), Message("user", text)]
    stream = None
    try:
        stream = responder.respond(messages)
        cleaned = "".join([delta async for delta in stream]).strip()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        _notice(turn, exc, "Clean-up skipped")
        return text
    finally:
        await aclose_stream(stream)
    return cleaned or text


# -- translate ---------------------------------------------------------------------


async def translate(turn: Turn) -> None:
    """English text (and optionally the original, asked in parallel); optionally spoken."""
    services = turn.services
    options = services.options
    turn.state("transcribing")
    want_original = options.translate_show_original and services.stages.transcriber is not None
    english_task = asyncio.create_task(turn.transcribe("translate", stage="translator"))
    original_task = asyncio.create_task(turn.transcribe()) if want_original else None
    original: Transcript | None = None
    try:
        english = await english_task
        turn.timer.mark(m.TRANSCRIPT)
        if original_task is not None:
            try:
                original = await original_task
            except StageFailed as exc:
                _notice(turn, exc, "Original transcript unavailable")
    finally:
        for task in (english_task, original_task):
            if task is not None and not task.done():
                task.cancel()
    english_text = english.text.strip()
    original_text = original.text.strip() if original is not None else None
    turn.update(
        status="transcribed" if english_text else "dropped",
        translation=english_text,
        original=original_text,
        language=(original.language if original else None) or english.language,
        local=english.local,
        **_served_by(english),
    )
    if not english_text:
        turn.settle("dropped")
        return
    await turn.wait_for_predecessor()
    services.emit(
        TranslationReady(
            turn_id=turn.id,
            english=english_text,
            original=original_text,
            language=(original.language if original else None) or english.language,
            local=english.local,
        )
    )
    turn.settle("transcribed")
    if options.translate_speak and services.stages.synthesizer is not None:
        speech = ReplyStream(turn, show=False, speak=True, language="en")
        await speech.run(_one(english_text), from_llm=False)


# -- shared ------------------------------------------------------------------------


async def _transcript(turn: Turn) -> Transcript | None:
    """Transcribe, announce and store; ``None`` (turn dropped) when nothing was said."""
    turn.state("transcribing")
    transcript = await turn.transcribe()
    turn.timer.mark(m.TRANSCRIPT)
    text = transcript.text.strip()
    turn.update(
        status="transcribed" if text else "dropped",
        transcript=text,
        language=transcript.language,
        local=transcript.local,
        **_served_by(transcript),
    )
    if not text:
        turn.settle("dropped")
        return None
    turn.services.emit(
        TranscriptReady(
            turn_id=turn.id,
            text=text,
            provider=transcript.provider,
            model=transcript.model,
            language=transcript.language,
            local=transcript.local,
        )
    )
    return transcript


def _served_by(transcript: Transcript) -> dict[str, dict[str, str]]:
    """The store's ``providers``/``models`` fields for the speech-to-text stage."""
    out: dict[str, dict[str, str]] = {}
    if transcript.provider:
        out["providers"] = {"stt": transcript.provider}
    if transcript.model:
        out["models"] = {"stt": transcript.model}
    return out


def _notice(turn: Turn, exc: BaseException, title: str) -> None:
    info = describe(exc)
    if not isinstance(exc, VoiceloopError | StageFailed):
        log.warning("%s", title, exc_info=exc)
    turn.services.emit(Notice(level="warning", title=title, message=info.one_line()))


__all__ = ["ReplyStream", "converse", "dictate", "translate"]


async def _merging(deltas: AsyncIterator[str], done: Callable[[], None]) -> AsyncIterator[str]:
    """``deltas``, then ``done()`` however the stream ends (the request's usage and
    retries become the turn's)."""
    try:
        async for delta in deltas:
            yield delta
    finally:
        await aclose_stream(deltas)
        done()
