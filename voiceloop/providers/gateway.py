"""A self-hosted chat gateway: ``POST {base}/api/v1/groq/chatcompletion``.

Bearer token, body ``{messages, model, stream}``, answered with a ``chat.completion``
object (or, on failure, ``{"error": "message"}``). Chat only: a Responder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from voiceloop.credentials import check_plain_http, stage_auth
from voiceloop.errors import ConfigError
from voiceloop.frames import Message
from voiceloop.providers.clients import shared_pool
from voiceloop.providers.groq_chat import ChatResult, parse_chat_completion, with_system_prompt
from voiceloop.providers.http import ClientPool
from voiceloop.providers.reporting import note_request
from voiceloop.providers.sse import iter_json_events
from voiceloop.stages import StageContext, StageKind

if TYPE_CHECKING:
    from voiceloop.config_sections import StageSection


PATH = "api/v1/groq/chatcompletion"


class GatewayClient:
    """The gateway at ``base_url`` (its root, without ``/api/v1``)."""

    def __init__(
        self, base_url: str, token: SecretStr | None, *, pool: ClientPool, provider: str = "gateway"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.pool = pool
        self.provider = provider

    async def chat(self, messages: Sequence[Message], *, model: str) -> ChatResult:
        """One whole completion (``stream: false``); an event-stream answer is read too."""
        body = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "model": model,
            "stream": False,
        }
        async with self.pool.stream(
            "POST", self.base_url, PATH, key=self.token, provider=self.provider, model=model,
            json=body,
        ) as response:  # fmt: skip
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                parts = []
                async for chunk in iter_json_events(
                    response, provider=self.provider, require_done=False
                ):
                    for choice in chunk.get("choices") or []:
                        parts.append((choice.get("delta") or {}).get("content") or "")
                return ChatResult(text="".join(parts))
            await response.aread()
            try:
                data: Any = response.json()
            except ValueError:
                data = None
            return parse_chat_completion(data, response.headers, self.provider)


class GatewayResponder:
    """Responder over the gateway: the reply arrives whole and is yielded as one delta."""

    def __init__(
        self, client: GatewayClient, *, model: str, system_prompt: str | None = None
    ) -> None:
        self.client = client
        self.model = model
        self.system_prompt = system_prompt

    async def warm(self) -> None:
        await self.client.pool.warm(self.client.base_url)

    async def respond(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        msgs = with_system_prompt(messages, self.system_prompt)
        result = await self.client.chat(msgs, model=self.model)
        note_request("responder", self.client.provider, result.request_id, result.usage)
        if result.text:
            yield result.text


def make_stage(kind: StageKind, section: StageSection, context: StageContext) -> object:
    """Factory registered as ``gateway``: chat only, ``base_url`` required."""
    if kind != "responder":
        raise ConfigError(
            f"the gateway provider offers chat only, not a {kind}",
            hint='set provider = "groq" or "local" for speech stages',
        )
    if not getattr(section, "base_url", None):
        raise ConfigError(
            "the gateway provider needs base_url (the gateway's root, e.g. http://localhost:9000)",
            hint="set [llm] base_url",
        )
    settings = context.settings if context is not None else None
    auth = stage_auth(section, settings)
    check_plain_http(auth.url, auth.key)
    client = GatewayClient(auth.url, auth.key, pool=shared_pool(context))
    return GatewayResponder(
        client, model=section.model, system_prompt=getattr(section, "system_prompt", None)
    )
