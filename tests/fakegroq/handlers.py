"""Route handlers of the fake Groq server."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from tests.fakegroq import audio as fake_audio
from tests.fakegroq.server import (
    CHAT_MODELS,
    STT_MODELS,
    TTS_MODELS,
    RecordedRequest,
    _err,
    sse,
)

if TYPE_CHECKING:
    from tests.fakegroq.faults import Fault
    from tests.fakegroq.server import FakeGroq


RAW_BODY = "fakegroq.raw_body"
"""Scope key of the list the server appends each received body chunk to."""


class InjectedReset(Exception):
    """Raised inside a streaming body: the server drops the connection."""


def _record(fake: FakeGroq, route: str, request: Request, **kw: Any) -> RecordedRequest:
    rec = RecordedRequest(
        route=route,
        method=request.method,
        path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=request.url.query,
        body=b"".join(request.scope.get(RAW_BODY, [])),
        time=time.monotonic(),
        **kw,
    )
    fake.requests.append(rec)
    return rec


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _broken_body(fault: Fault, payload: bytes, media_type: str) -> StreamingResponse:
    async def gen():
        yield payload[: max(1, len(payload) // 2)]
        raise InjectedReset("connection reset")

    return StreamingResponse(gen(), media_type=media_type)


def stt(fake: FakeGroq, route: str):
    async def handler(request: Request) -> Response:
        size = int(request.headers.get("content-length") or 0)
        if size > fake.upload_limit_bytes:
            _record(fake, route, request)
            return _err(413, "Request Entity Too Large", code="request_too_large")
        form = await request.form(max_part_size=50 * 1024 * 1024)
        fields: dict[str, list[str]] = {}
        upload = None
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                upload = (value.filename or "", await value.read(), value.content_type or "")
            else:
                fields.setdefault(key, []).append(str(value))
        _record(fake, route, request, form=fields, file=upload)
        early, fault = await fake.apply_pre_fault(route)
        if early is not None:
            return early
        if (denied := fake.check_auth(request)) is not None:
            return denied
        model = (fields.get("model") or [None])[0]
        if (bad := fake.check_model(model, STT_MODELS)) is not None:
            return bad
        if upload is None:
            return _err(400, "'file' : file must be provided")
        if route == "translations" and model and "turbo" in model:
            return _err(400, f"`{model}` does not support translations; use whisper-large-v3")
        if route == "translations" and "language" in fields:
            return _err(400, "'language' : translations do not accept a language")
        fmt = (fields.get("response_format") or ["json"])[0]
        if fmt not in ("json", "text", "verbose_json"):
            return _err(400, f"response_format `{fmt}` is not supported")
        try:
            pcm, rate = fake_audio.decode_upload(upload[1])
        except ValueError:
            return _err(400, "could not process file - is it a valid media file?")
        duration = len(pcm) / rate
        delay = fake.latency.transcription + fake.latency.transcription_per_audio_s * duration
        if delay > 0:
            await asyncio.sleep(delay)
        if fake.transcripts or fake.transcribe is not None:
            if fake.transcripts:
                text = fake.transcripts.popleft()
            else:
                assert fake.transcribe is not None
                text = fake.transcribe(pcm, rate)
            segments = [fake_audio._segment(0, 0.0, round(duration, 2), " " + text,
                                            no_speech=0.01, logprob=-0.2)]  # fmt: skip
        else:
            segments = fake_audio.segments_for(pcm, rate)
            if route == "translations":
                segments = [{**s, "text": " English:" + s["text"]} for s in segments]
        text = "".join(s["text"] for s in segments).strip()
        rid = f"req_{route}_{len(fake.requests)}"
        accept = request.headers.get("accept", "*/*")
        if fmt == "text" or (fake.text_unless_json_accepted and "application/json" not in accept):
            return PlainTextResponse(text + "\n")
        body: dict[str, Any] = {"text": " " + text, "x_groq": {"id": rid}}
        if fmt == "verbose_json":
            language = "english" if route == "translations" else (
                (fields.get("language") or ["english"])[0])  # fmt: skip
            body = {"task": "transcribe" if route == "transcriptions" else "translate",
                    "language": language, "duration": f"{duration:.2f}", "text": " " + text,
                    "segments": segments, "x_groq": {"id": rid}}  # fmt: skip
            if "word" in fields.get("timestamp_granularities[]", []):
                body["words"] = [
                    {"word": w, "start": s["start"], "end": s["end"]}
                    for s in segments for w in s["text"].split()
                ]  # fmt: skip
        if fault is not None and fault.mid == "reset":
            return _broken_body(fault, json.dumps(body).encode(), "application/json")
        return JSONResponse(body)

    return handler


def _reply_for(fake: FakeGroq, messages: Any) -> str:
    if fake.chat_replies:
        return fake.chat_replies.popleft()
    if fake.chat_reply is not None:
        return fake.chat_reply
    last = ""
    for m in messages if isinstance(messages, list) else []:
        if isinstance(m, dict) and m.get("role") == "user":
            last = str(m.get("content", ""))
    if fake.chat_reply_for is not None:
        return fake.chat_reply_for(last)
    return f"You said: {last}. That is all I know."


def _tokens(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def _validate_chat(fake: FakeGroq, request: Request, body: Any) -> Response | None:
    if (denied := fake.check_auth(request)) is not None:
        return denied
    if not isinstance(body, dict):
        return _err(400, "request body must be JSON")
    if (bad := fake.check_model(body.get("model"), CHAT_MODELS)) is not None:
        return bad
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _err(400, "'messages' : minimum number of items is 1")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            return _err(400, "'messages' : each message needs a role system/user/assistant")
        if "name" in m:
            return _err(400, "'messages.name' : property 'name' is unsupported")
    for unsupported in ("logprobs", "logit_bias"):
        if body.get(unsupported):
            return _err(400, f"'{unsupported}' : not supported")
    if not str(body.get("model")).startswith("openai/gpt-oss"):
        for field in ("reasoning_effort", "reasoning_format"):
            if field in body:
                return _err(400, f"`{field}` is not supported with this model")
    if body.get("n", 1) != 1:
        return _err(400, "'n' : number must be at most 1")
    return None


def chat(fake: FakeGroq):
    async def handler(request: Request) -> Response:
        body = await _json_body(request)
        rec = _record(fake, "chat", request, json=body)
        early, fault = await fake.apply_pre_fault("chat")
        if early is not None:
            return early
        if (bad := _validate_chat(fake, request, body)) is not None:
            return bad
        reply = _reply_for(fake, body["messages"])
        rid = f"req_chat_{len(fake.requests)}"
        usage = {"queue_time": 0.01, "prompt_tokens": 12, "prompt_time": 0.002,
                 "completion_tokens": len(_tokens(reply)), "completion_time": 0.05,
                 "total_tokens": 12 + len(_tokens(reply)), "total_time": 0.052}  # fmt: skip
        if not body.get("stream") or not fake.chat_streams:
            return JSONResponse(_completion(rid, body["model"], reply, usage))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        gen = _chat_events(fake, rid, body["model"], reply, usage, include_usage, fault, rec.sent)
        return StreamingResponse(_watch(fake, gen, rec), media_type="text/event-stream")

    return handler


async def _watch(fake: FakeGroq, gen, rec: RecordedRequest | None = None):
    """Count streamed bodies the client abandoned (the server saw the connection go)."""
    finished = False
    try:
        async for piece in gen:
            yield piece
        finished = True
    finally:
        if not finished:
            fake.abandoned_streams += 1
        if rec is not None:
            rec.abandoned = not finished


def _completion(rid: str, model: str, reply: str, usage: dict) -> dict:
    return {
        "id": rid, "object": "chat.completion", "created": 1708045122, "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {k: v for k, v in usage.items() if k != "queue_time"},
        "x_groq": {"id": rid, "usage": usage},
    }  # fmt: skip


async def _chat_events(fake, rid, model, reply, usage, include_usage, fault, sent):
    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> bytes:
        return sse({"id": rid, "object": "chat.completion.chunk", "created": 1708045122,
                    "model": model, "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                 "finish_reason": finish}], **extra})  # fmt: skip

    yield b": keep-alive\n\n"
    if fake.latency.first_token:
        await asyncio.sleep(fake.latency.first_token)
    yield chunk({"role": "assistant", "content": ""}, x_groq={"id": rid})
    for i, token in enumerate(_tokens(reply)):
        if fault is not None and fault.mid and i == fault.after:
            async for piece in _mid_fault(fault):
                yield piece
            return
        if i and fake.latency.per_token:
            await asyncio.sleep(fake.latency.per_token)
        sent.append(time.monotonic())
        yield chunk({"content": token})
    yield chunk({}, "stop", x_groq={"id": rid, "usage": usage})
    if include_usage:
        yield sse({"id": rid, "object": "chat.completion.chunk", "created": 1708045122,
                   "model": model, "choices": [], "usage": usage})  # fmt: skip
    yield sse("[DONE]")


async def _mid_fault(fault: Fault):
    error = {"error": {"message": "Service unavailable: injected mid-stream error",
                       "type": "internal_server_error"}}  # fmt: skip
    if fault.mid == "error_event":
        yield sse(error, event="error")
    elif fault.mid == "bare_error":
        yield sse(error)
    elif fault.mid == "reset":
        raise InjectedReset("connection reset")
    # "cut": just stop, without [DONE]


def speech(fake: FakeGroq):
    async def handler(request: Request) -> Response:
        body = await _json_body(request)
        _record(fake, "speech", request, json=body)
        early, fault = await fake.apply_pre_fault("speech")
        if early is not None:
            return early
        if (denied := fake.check_auth(request)) is not None:
            return denied
        if not isinstance(body, dict):
            return _err(400, "request body must be JSON")
        if (bad := fake.check_model(body.get("model"), TTS_MODELS)) is not None:
            return bad
        text = body.get("input")
        if not isinstance(text, str) or not text.strip():
            return _err(400, "'input' : property 'input' is missing")
        if len(text) > fake.tts_max_chars:
            return _err(400, f"'input' : must be at most {fake.tts_max_chars} characters")
        if body.get("voice") not in ("autumn", "diana", "hannah", "austin", "daniel", "troy"):
            return _err(400, f"'voice' : voice `{body.get('voice')}` is not available")
        fmt = body.get("response_format", "wav")
        if fmt not in fake.speech_formats:
            return _err(400, f"'response_format' : {fmt} is not supported for this model")
        if fmt != "wav" and "sample_rate" in body:
            return _err(400, "'sample_rate' : unknown property")
        default_rate = 24000 if fmt == "pcm" else 48000
        rate = fake.speech_rate or int(body.get("sample_rate") or default_rate)
        parts = fake_audio.speech_wav_parts(
            text, rate, seconds_per_char=fake.speech_seconds_per_char
        )
        if fmt != "wav":
            parts = _encoded(b"".join(parts), fmt)
        if (delay := fake.latency.speech_delay(text)) > 0:
            await asyncio.sleep(delay)

        async def gen():
            for i, part in enumerate(parts):
                if fault is not None and fault.mid and i == fault.after + 2:
                    if fault.mid == "reset":
                        raise InjectedReset("connection reset")
                    return
                if i and fake.latency.speech_chunk:
                    await asyncio.sleep(fake.latency.speech_chunk)
                yield part

        media = {"wav": "audio/wav", "pcm": "audio/pcm", "mp3": "audio/mpeg", "flac": "audio/flac"}
        return StreamingResponse(_watch(fake, gen()), media_type=media[fmt])

    return handler


def _encoded(wav: bytes, fmt: str) -> list[bytes]:
    """The same audio as raw 16-bit PCM (in pieces of odd sizes) or one MP3/FLAC file."""
    import io

    import soundfile

    pcm, rate = soundfile.read(io.BytesIO(wav), dtype="int16")
    if fmt == "pcm":
        raw = pcm.astype("<i2").tobytes()
        return [raw[i : i + 1001] for i in range(0, len(raw), 1001)]
    out = io.BytesIO()
    soundfile.write(out, pcm, rate, format=fmt.upper())
    return [out.getvalue()]


def models(fake: FakeGroq):
    async def handler(request: Request) -> Response:
        _record(fake, "models", request)
        early, _ = await fake.apply_pre_fault("models")
        if early is not None:
            return early
        if (denied := fake.check_auth(request)) is not None:
            return denied
        return JSONResponse({"object": "list", "data": fake.models})

    return handler


def gateway(fake: FakeGroq):
    async def handler(request: Request) -> Response:
        body = await _json_body(request)
        _record(fake, "gateway", request, json=body)
        early, _ = await fake.apply_pre_fault("gateway")
        if early is not None:
            return early
        if fake.api_key is not None and (
            request.headers.get("authorization") != f"Bearer {fake.api_key}"
        ):
            return JSONResponse({"error": "Unauthorized: invalid token"}, status_code=401)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return JSONResponse({"error": "messages is required"}, status_code=400)
        if body.get("model") not in CHAT_MODELS:
            return JSONResponse(
                {"error": f"model {body.get('model')!r} is not available"}, status_code=400
            )
        reply = _reply_for(fake, body["messages"])
        usage = {"prompt_tokens": 24, "completion_tokens": 5, "total_tokens": 29,
                 "prompt_time": 0.009, "completion_time": 0.774, "total_time": 0.783}  # fmt: skip
        result = _completion("34a9110d-c39d-423b-9ab9-9c748747b204", body["model"], reply, usage)
        result.pop("x_groq")
        result["usage"] = usage
        return JSONResponse(result)

    return handler
