"""A loopback server that speaks Groq's OpenAI-compatible contract over real HTTP.

Start it with :class:`FakeGroq` (``start()`` / ``stop()``; the ``fake_groq`` fixture does
both). It validates like Groq (auth, models, multipart fields, size limits), answers from
the audio it receives (see :mod:`tests.fakegroq.audio`), streams chat as paced SSE and
speech as a chunked WAV, sends rate-limit headers on every response, records every request,
and injects faults per route.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakegroq.faults import Fault

API_KEY = "gsk_test_fake_key"
STT_MODELS = {"whisper-large-v3", "whisper-large-v3-turbo"}
CHAT_MODELS = {"openai/gpt-oss-20b", "llama-3.3-70b-versatile"}
TTS_MODELS = {"canopylabs/orpheus-v1-english"}
DECOMMISSIONED = {"distil-whisper-large-v3-en", "playai-tts", "mixtral-8x7b-32768"}
ROUTES = ("transcriptions", "translations", "chat", "speech", "models", "gateway")


@dataclass
class Latency:
    """Pacing of responses (seconds)."""

    response: float = 0.0
    """Before any response starts."""
    transcription: float = 0.0
    """Before a transcription or translation answers (after ``response``)."""
    transcription_per_audio_s: float = 0.0
    """Added to ``transcription`` per second of the uploaded audio."""
    first_token: float = 0.0
    per_token: float = 0.0
    speech_chunk: float = 0.0
    """Between pieces of a speech body."""
    speech_base: float = 0.0
    speech_per_char: float = 0.0
    """A speech reply starts ``speech_base + speech_per_char * len(input)`` after the
    request, as a synthesizer's time grows with the text it has to speak."""

    def speech_delay(self, text: str) -> float:
        return self.speech_base + self.speech_per_char * len(text)

    @classmethod
    def realistic(cls) -> Latency:
        """A cloud backend on a good connection: transcription in 250 ms + 20 ms per
        second of audio, 200 ms to the first token then 250 tokens (words here) a second,
        and speech synthesized in 150 ms + 10 ms per character."""
        return cls(
            transcription=0.25, transcription_per_audio_s=0.02, first_token=0.2,
            per_token=0.004, speech_base=0.15, speech_per_char=0.010,
        )  # fmt: skip


@dataclass
class RecordedRequest:
    route: str
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    file: tuple[str, bytes, str] | None = None
    """(filename, bytes, content type) of the multipart ``file`` part."""
    query: str = ""
    body: bytes = b""
    """The request body as sent, as far as the handler had read it when recording."""
    time: float = 0.0
    sent: list[float] = field(default_factory=list)
    """``time.monotonic()`` as each reply token of a chat stream was handed to the server."""
    abandoned: bool | None = None
    """For a streamed chat reply: whether the client went away before its end (None while
    it streams, or when it was not streamed)."""


def _err(status: int, message: str, etype: str = "invalid_request_error", code: str | None = None):
    body: dict[str, Any] = {"message": message, "type": etype}
    if code:
        body["code"] = code
    return JSONResponse({"error": body}, status_code=status)


class FakeGroq:
    """The server and its knobs. ``base_url`` is the API root (``.../openai/v1``)."""

    def __init__(self, host: str = "127.0.0.1", api_key: str | None = API_KEY) -> None:
        self.host = host
        self.api_key = api_key
        """The key it accepts; ``None``: a server that takes no key and ignores any sent."""
        self.latency = Latency()
        self.requests: list[RecordedRequest] = []
        self.upload_limit_bytes = 25 * 1024 * 1024
        self.tts_max_chars = 200
        self.speech_rate: int | None = None
        """WAV rate of speech replies; None honours the request's sample_rate (default 48000)."""
        self.speech_seconds_per_char = 0.02
        """Length of the speech audio per character of its text."""
        self.abandoned_streams = 0
        """Chat/speech streams that stopped before their end (the client went away, or a
        ``reset`` fault)."""
        self.chat_reply: str | None = None
        """Fixed chat reply; None echoes "You said: <last user message>"."""
        self.chat_replies: deque[str] = deque()
        """Replies for the next chat requests, in order, before ``chat_reply`` applies."""
        self.transcripts: deque[str] = deque()
        """Texts to answer transcriptions/translations with, in order, instead of the audio's."""
        self.transcribe: Callable[[Any, int], str] | None = None
        """With no queued transcript: the text for an upload's (mono float32 pcm, rate)."""
        self.chat_reply_for: Callable[[str], str] | None = None
        """With no queued reply: the reply to the last user message."""
        self.models = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": owner,
             "active": True, "context_window": ctx, "max_completion_tokens": 8192,
             "public_apps": None}
            for m, owner, ctx in [
                ("whisper-large-v3", "OpenAI", 448),
                ("whisper-large-v3-turbo", "OpenAI", 448),
                ("openai/gpt-oss-20b", "OpenAI", 131072),
                ("llama-3.3-70b-versatile", "Meta", 131072),
                ("canopylabs/orpheus-v1-english", "Canopy Labs", 4000),
            ]
        ]  # fmt: skip
        self.speech_formats = {"wav"}
        """``response_format`` values speech accepts (Groq: wav only)."""
        self.chat_streams = True
        """False: a server that answers ``stream: true`` with one whole JSON completion."""
        self.text_unless_json_accepted = False
        """True: transcriptions answer text/plain unless ``Accept`` names application/json
        (as servers that pick the reply type by content negotiation do)."""
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- control -------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/openai/v1"

    def set_fault(self, route: str, *faults: Fault) -> None:
        """Queue faults for the next requests of ``route`` (one request each, in order)."""
        assert route in ROUTES, route
        with self._lock:
            self._faults[route].extend(faults)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
        self.requests.clear()
        self.transcripts.clear()
        self.transcribe = self.chat_reply_for = None
        self.latency = Latency()
        self.upload_limit_bytes = 25 * 1024 * 1024
        self.tts_max_chars = 200
        self.speech_rate = None
        self.chat_reply = None
        self.chat_replies.clear()
        self.abandoned_streams = 0
        self.chat_streams = True
        self.text_unless_json_accepted = False
        self.speech_formats = {"wav"}

    def start(self) -> FakeGroq:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="critical", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Groq server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- plumbing ------------------------------------------------------------------

    def _next_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route)
            return queue.popleft() if queue else None

    def _headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{next(self._ids):04d}",
            "x-ratelimit-limit-requests": "14400",
            "x-ratelimit-remaining-requests": "14370",
            "x-ratelimit-reset-requests": "2m59.56s",
            "x-ratelimit-limit-tokens": "18000",
            "x-ratelimit-remaining-tokens": "17997",
            "x-ratelimit-reset-tokens": "7.66s",
        }

    def app(self) -> Starlette:
        from tests.fakegroq import handlers

        routes = [
            Route("/openai/v1/audio/transcriptions", handlers.stt(self, "transcriptions"),
                  methods=["POST"]),
            Route("/openai/v1/audio/translations", handlers.stt(self, "translations"),
                  methods=["POST"]),
            Route("/openai/v1/chat/completions", handlers.chat(self), methods=["POST"]),
            Route("/openai/v1/audio/speech", handlers.speech(self), methods=["POST"]),
            Route("/openai/v1/models", handlers.models(self), methods=["GET"]),
            Route("/api/v1/groq/chatcompletion", handlers.gateway(self), methods=["POST"]),
            Route("/openai/v1", _root, methods=["GET", "HEAD"]),
            Route("/openai/v1/", _root, methods=["GET", "HEAD"]),
        ]  # fmt: skip
        app = Starlette(routes=routes)

        async def with_headers(scope, receive, send):  # rate-limit headers on every response
            if scope["type"] != "http":
                return await app(scope, receive, send)
            extra = [(k.encode(), v.encode()) for k, v in self._headers().items()]
            chunks: list[bytes] = []
            scope = {**scope, handlers.RAW_BODY: chunks}

            async def receive_keeping():
                message = await receive()
                if message["type"] == "http.request":
                    chunks.append(message.get("body", b""))
                return message

            async def send_with(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": list(message.get("headers", [])) + extra}
                await send(message)

            await app(scope, receive_keeping, send_with)

        return with_headers  # type: ignore[return-value]

    async def apply_pre_fault(self, route: str) -> tuple[Response | None, Fault | None]:
        """Run faults that act before the body: status codes and slowness."""
        if self.latency.response:
            await asyncio.sleep(self.latency.response)
        fault = self._next_fault(route)
        if fault is None:
            return None, None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["retry-after"] = str(fault.retry_after)
            if isinstance(fault.body, str):
                return PlainTextResponse(fault.body, fault.status, headers=headers), fault
            body = fault.body or {
                "error": {"message": f"injected {fault.status}", "type": "server_error"}
            }
            return JSONResponse(body, fault.status, headers=headers), fault
        return None, fault

    def check_auth(self, request: Request) -> Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _err(401, "Invalid API Key", code="invalid_api_key")
        return None

    def check_model(self, model: str | None, allowed: set[str]) -> Response | None:
        if not model:
            return _err(400, "'model' : property 'model' is missing")
        if model in DECOMMISSIONED:
            return _err(
                400,
                f"The model `{model}` has been decommissioned and is no longer supported.",
                code="model_decommissioned",
            )
        if model not in allowed:
            return _err(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return None


async def _root(request: Request) -> Response:
    return PlainTextResponse("")


def stream_response(gen: Any, media_type: str) -> StreamingResponse:
    return StreamingResponse(gen, media_type=media_type)


def sse(data: Any, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()
