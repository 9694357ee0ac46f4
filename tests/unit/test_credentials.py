"""stage_auth: every combination of environment keys, stage keys and base URLs."""

from __future__ import annotations

import itertools

import httpx
import pytest
from pydantic import SecretStr

from voiceloop.config import Settings, SttSettings
from voiceloop.credentials import check_plain_http, origin_of, stage_auth
from voiceloop.errors import InsecureTransportError, ProviderError
from voiceloop.providers.clients import client_for
from voiceloop.providers.http import ClientPool

GROQ, OPENAI, OWN = "gsk_groq", "sk-openai", "own-key"
BASE_URLS = [
    None,
    "https://api.groq.com/openai/v1",
    "https://api.openai.com/v1",
    "https://openrouter.ai/api/v1",
    "http://192.168.1.20:8000/v1",
    "http://127.0.0.1:11434/v1",
    "https://api.groq.com.evil.test/openai/v1",
    "http://api.groq.com/openai/v1",
]


def settings(groq: str | None, openai: str | None) -> Settings:
    return Settings(groq_api_key=groq, openai_api_key=openai)


MATRIX = list(
    itertools.product(
        [None, GROQ], [None, OPENAI], [None, OWN], BASE_URLS, ["groq", "openai"], ["auto", "none"]
    )
)


@pytest.mark.parametrize(("groq", "openai", "own", "base_url", "provider", "auth"), MATRIX)
def test_a_key_goes_only_where_it_belongs(groq, openai, own, base_url, provider, auth):
    section = SttSettings(base_url=base_url, api_key=own, provider=provider, auth=auth)
    result = stage_auth(section, settings(groq, openai))
    sent = result.key.get_secret_value() if result.key else None
    origin = origin_of(result.url)
    if auth == "none":
        assert sent is None
    elif own is not None:
        assert sent == OWN  # a stage's own key always goes to that stage's own server
    elif origin == ("https", "api.groq.com", 443):
        assert sent == groq
    elif origin == ("https", "api.openai.com", 443):
        assert sent == openai
    else:
        assert sent is None
    if base_url is None:
        expected = "https://api.openai.com/v1" if provider == "openai" else (
            "https://api.groq.com/openai/v1"
        )  # fmt: skip
        assert result.url == expected


def test_lookalike_host_and_plain_http_to_groq_get_no_groq_key():
    s = settings(GROQ, OPENAI)
    for url in ("https://api.groq.com.evil.test/openai/v1", "http://api.groq.com/openai/v1",
                "https://api.groq.com:8443/openai/v1"):  # fmt: skip
        assert stage_auth(SttSettings(base_url=url), s).key is None, url


def test_base_url_env_moves_the_origin_its_key_belongs_to():
    s = Settings(groq_api_key=GROQ, groq_base_url="https://groq-proxy.example/")
    auth = stage_auth(SttSettings(), s)
    assert auth.url == "https://groq-proxy.example/openai/v1"
    assert auth.key == SecretStr(GROQ) and auth.source == "GROQ_API_KEY"
    s = Settings(openai_api_key=OPENAI, openai_base_url="https://oai.example/v1")
    auth = stage_auth(SttSettings(provider="openai"), s)
    assert (auth.url, auth.key) == ("https://oai.example/v1", SecretStr(OPENAI))
    assert stage_auth(SttSettings(base_url="https://other.example/v1"), s).key is None


def test_missing_only_when_the_server_needs_a_key():
    s = settings(None, None)
    assert stage_auth(SttSettings(), s).missing
    assert stage_auth(SttSettings(provider="openai"), s).missing
    assert not stage_auth(SttSettings(base_url="http://10.0.0.5:8000/v1"), s).missing
    assert not stage_auth(SttSettings(auth="none"), s).missing


def test_plain_http_is_fine_without_a_key_and_refused_with_one():
    check_plain_http("http://192.168.1.20:8000/v1", None)
    check_plain_http("http://127.0.0.2:8000/v1", SecretStr(OWN))
    with pytest.raises(InsecureTransportError, match=r"plain HTTP to 192\.168\.1\.20"):
        check_plain_http("http://192.168.1.20:8000/v1", SecretStr(OWN))
    check_plain_http("http://localhost:8000/v1", SecretStr(OWN))
    check_plain_http("http://[::1]:8000/v1", SecretStr(OWN))
    with pytest.raises(InsecureTransportError):  # a name the resolver may send anywhere
        check_plain_http("http://api.localhost:8000/v1", SecretStr(OWN))


def test_client_for_a_keyless_lan_server_sends_no_key(monkeypatch):
    s = settings(GROQ, None)
    client = client_for(s, SttSettings(base_url="http://192.168.1.20:8000/v1"), ClientPool(),
                        provider="groq")  # fmt: skip
    assert client.api_key is None
    with pytest.raises(InsecureTransportError):
        client_for(s, SttSettings(base_url="http://192.168.1.20:8000/v1", api_key=OWN),
                   ClientPool(), provider="groq")  # fmt: skip


async def test_redirects_never_carry_the_key():
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "api.groq.com":
            return httpx.Response(307, headers={"location": "https://elsewhere.test/v1/models"})
        return httpx.Response(200, json={"data": []})

    pool = ClientPool(transport=httpx.MockTransport(handler), max_retries=0)
    try:
        with pytest.raises(ProviderError):
            await pool.request("GET", "https://api.groq.com/openai/v1", "models",
                               key=SecretStr(GROQ), provider="groq")  # fmt: skip
    finally:
        await pool.aclose()
    assert seen == [("api.groq.com", f"Bearer {GROQ}")]
