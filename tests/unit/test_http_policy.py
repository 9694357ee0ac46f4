"""The HTTP policy: retries (counts and waits), error mapping, transport safety, rate limits."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from voiceloop.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectError,
    InsecureTransportError,
    ModelNotFoundError,
    ProviderTimeoutError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
)
from voiceloop.providers.http import ClientPool, backoff_delay, is_loopback
from voiceloop.providers.ratelimits import RateLimits, parse_duration
from voiceloop.stages import StageReport, reset_current_report, set_current_report

KEY = SecretStr("gsk_secret_value_123")
BASE = "https://api.example.test/openai/v1"


class Script:
    """A MockTransport handler answering from a list of responses/exceptions."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step


def ok(body=None, **headers):
    return httpx.Response(200, json=body or {"ok": True}, headers=headers)


def status(code, body=None, **headers):
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if isinstance(body, str):
        return httpx.Response(code, text=body, headers=headers)
    return httpx.Response(code, json=body or {"error": {"message": f"e{code}"}}, headers=headers)


def make_pool(script, *, max_retries=2, rand=0.0):
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    pool = ClientPool(
        max_retries=max_retries,
        sleep=fake_sleep,
        rand=lambda: rand,
        transport=httpx.MockTransport(script),
    )
    return pool, waits


async def get(pool, path="models", key=KEY):
    return await pool.request("GET", BASE, path, key=key, provider="groq", model="m")


@pytest.mark.parametrize("code", [408, 409, 429, 498, 500, 502, 503])
async def test_retryable_statuses_are_retried_then_succeed(code):
    script = Script(status(code), ok())
    pool, waits = make_pool(script)
    response = await get(pool)
    assert response.status_code == 200
    assert len(script.requests) == 2
    assert waits == [0.5]


@pytest.mark.parametrize("code", [400, 401, 403, 404, 413, 422])
async def test_client_errors_are_not_retried(code):
    script = Script(status(code))
    pool, waits = make_pool(script)
    with pytest.raises(Exception):  # noqa: B017 - the kind is checked in the mapping tests
        await get(pool)
    assert len(script.requests) == 1
    assert waits == []


async def test_two_retries_by_default_with_exponential_backoff():
    script = Script(status(500))
    pool, waits = make_pool(script)
    with pytest.raises(ServerError):
        await get(pool)
    assert len(script.requests) == 3
    assert waits == [0.5, 1.0]


async def test_backoff_is_jittered_and_capped():
    assert backoff_delay(0, 0.0) == 0.5
    assert backoff_delay(0, 1.0) == 0.375
    assert backoff_delay(3, 0.0) == 4.0
    assert backoff_delay(10, 0.0) == 8.0
    assert backoff_delay(10, 1.0) == 6.0


async def test_max_retries_setting_is_honoured():
    script = Script(status(503))
    pool, waits = make_pool(script, max_retries=4, rand=0.5)
    with pytest.raises(ServerError):
        await get(pool)
    assert len(script.requests) == 5
    assert waits == [backoff_delay(n, 0.5) for n in range(4)]
    script0 = Script(status(503))
    pool0, waits0 = make_pool(script0, max_retries=0)
    with pytest.raises(ServerError):
        await get(pool0)
    assert len(script0.requests) == 1 and waits0 == []


async def test_retry_after_up_to_60_seconds_is_honoured():
    script = Script(status(429, retry_after="7"), status(429, retry_after="60"), ok())
    pool, waits = make_pool(script)
    await get(pool)
    assert waits == [7.0, 60.0]


async def test_retry_after_above_60_seconds_falls_back_to_backoff():
    script = Script(status(429, retry_after="120"), ok())
    pool, waits = make_pool(script)
    await get(pool)
    assert waits == [0.5]


async def test_retries_are_counted_into_the_current_report():
    script = Script(status(500), status(502), ok())
    pool, _ = make_pool(script)
    report = StageReport()
    token = set_current_report(report)
    try:
        await get(pool)
    finally:
        reset_current_report(token)
    assert report.retries == 2


async def test_connection_errors_are_retried_then_mapped():
    script = Script(httpx.ConnectError("refused"))
    pool, waits = make_pool(script)
    with pytest.raises(ConnectError) as info:
        await get(pool)
    assert len(script.requests) == 3 and waits == [0.5, 1.0]
    assert "api.example.test" in str(info.value)
    assert info.value.hint


async def test_timeouts_are_retried_then_mapped():
    script = Script(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), ok())
    pool, _ = make_pool(script)
    assert (await get(pool)).status_code == 200
    script2 = Script(httpx.ConnectTimeout("slow"))
    pool2, _ = make_pool(script2)
    with pytest.raises(ProviderTimeoutError):
        await get(pool2)


async def test_401_maps_to_authentication_error_with_key_hint_and_no_secret():
    body = {"error": {"message": "Invalid API Key", "type": "invalid_request_error",
                      "code": "invalid_api_key"}}  # fmt: skip
    pool, _ = make_pool(Script(status(401, body, x_request_id="req_abc")))
    with pytest.raises(AuthenticationError) as info:
        await get(pool)
    err = info.value
    assert (err.status, err.error_type, err.code, err.request_id) == (
        401, "invalid_request_error", "invalid_api_key", "req_abc",
    )  # fmt: skip
    assert "GROQ_API_KEY" in err.hint
    assert KEY.get_secret_value() not in err.one_line()
    assert err.exit_code == 1


ECHOED = "gsk_" + "EchoedBack1234567890"
"""A key-shaped string a server might echo (built here so no committed line holds one)."""


async def test_a_key_echoed_in_an_error_body_or_stream_error_is_masked():
    """Servers may quote the key back; the error (shown, logged, stored) must not carry it."""
    from voiceloop.logs import add_secret
    from voiceloop.providers.sse import parse_error_body

    configured = "not-shaped-like-a-key-but-configured"
    add_secret(configured)
    body = {"error": {"message": f"Invalid API Key {ECHOED} or {configured}"}}
    pool, _ = make_pool(Script(status(401, body)))
    with pytest.raises(AuthenticationError) as info:
        await get(pool)
    line = info.value.one_line()
    assert "Invalid API Key gsk_" in line
    assert "EchoedBack1234567890" not in line and configured not in line
    message, _, _ = parse_error_body(
        b'data: {"error": {"message": "bad key gsk_Zz9Yy8Xx7Ww6Vv5"}}'[6:]
    )
    assert message is not None and "Zz9Yy8Xx7Ww6Vv5" not in message


async def test_429_says_when_it_resets():
    headers = {"x_ratelimit_remaining_requests": "0", "x_ratelimit_reset_requests": "2m30s"}
    pool, _ = make_pool(Script(status(429, **headers)), max_retries=0)
    with pytest.raises(RateLimitError) as info:
        await get(pool)
    assert "2 min" in info.value.hint or "150" in info.value.hint
    pool, _ = make_pool(Script(status(429, retry_after="12")), max_retries=0)
    with pytest.raises(RateLimitError) as info:
        await get(pool)
    assert info.value.retry_after == 12.0 and "12 s" in info.value.hint


async def test_413_and_model_errors():
    pool, _ = make_pool(Script(status(413, "Request Entity Too Large")))
    with pytest.raises(RequestTooLargeError) as info:
        await get(pool)
    assert "Request Entity Too Large" in str(info.value)
    decommissioned = {
        "error": {
            "message": "The model `x` has been decommissioned",
            "type": "invalid_request_error",
            "code": "model_decommissioned",
        }
    }
    pool, _ = make_pool(Script(status(400, decommissioned)))
    with pytest.raises(ModelNotFoundError) as info:
        await get(pool)
    assert "voiceloop models" in info.value.hint and info.value.code == "model_decommissioned"
    missing = {"error": {"message": "The model `y` does not exist", "code": "model_not_found"}}
    pool, _ = make_pool(Script(status(404, missing)))
    with pytest.raises(ModelNotFoundError):
        await get(pool)


async def test_flat_and_non_json_error_bodies():
    pool, _ = make_pool(Script(status(400, {"error": "messages is required"})))
    with pytest.raises(BadRequestError) as info:
        await get(pool)
    assert "messages is required" in str(info.value)
    pool, _ = make_pool(Script(status(400, "<html><body>Bad gateway thing</body></html>")))
    with pytest.raises(BadRequestError) as info:
        await get(pool)
    assert "Bad gateway thing" in str(info.value)
    body = {"error": {"message": "boom"}, "x_groq": {"id": "req_body"}}
    pool, _ = make_pool(Script(status(400, body)))
    with pytest.raises(BadRequestError) as info:
        await get(pool)
    assert info.value.request_id == "req_body"


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://api.example.test/v1", True),
        ("http://192.168.1.10:8000/v1", True),
        ("http://127.0.0.1:8000/v1", False),
        ("http://127.5.0.1:8000/v1", False),
        ("http://localhost:11434/v1", False),
        ("http://[::1]:8000/v1", False),
        ("https://api.example.test/v1", False),
    ],
)
async def test_key_never_sent_over_plain_http_to_a_remote_host(url, refused):
    script = Script(ok())
    pool, _ = make_pool(script)
    if refused:
        with pytest.raises(InsecureTransportError):
            await pool.request("GET", url, "models", key=KEY, provider="groq")
        assert script.requests == []
        # Without a key there is nothing to protect.
        await pool.request("GET", url, "models", key=None, provider="groq")
    else:
        await pool.request("GET", url, "models", key=KEY, provider="groq")
    assert len(script.requests) == 1


def test_loopback_detection():
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")


async def test_bearer_key_is_sent_and_rate_limits_are_kept():
    headers = {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-requests": "14370",
        "x-ratelimit-reset-requests": "2m59.56s",
        "x-ratelimit-limit-tokens": "18000",
        "x-ratelimit-remaining-tokens": "17997",
        "x-ratelimit-reset-tokens": "7.66s",
    }
    script = Script(httpx.Response(200, json={}, headers=headers))
    pool, _ = make_pool(script)
    await get(pool)
    assert script.requests[0].headers["authorization"] == f"Bearer {KEY.get_secret_value()}"
    limits = pool.last_rate_limits
    assert limits == RateLimits(14400, 14370, 179.56, 18000, 17997, 7.66)
    assert pool.rate_limits[BASE] == limits


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2m59.56s", 179.56), ("7.66s", 7.66), ("1h2m3s", 3723.0), ("120ms", 0.12),
     ("3", 3.0), ("", None), (None, None), ("soon", None), ("5x", None)],
)  # fmt: skip
def test_parse_duration(text, seconds):
    result = parse_duration(text)
    assert result == pytest.approx(seconds) if seconds is not None else result is None


async def test_one_client_per_base_url_kept_alive():
    pool, _ = make_pool(Script(ok()))
    a = pool.client(BASE)
    assert pool.client(BASE + "/") is a
    assert pool.client("https://other.test/v1") is not a
    assert pool.timeout.connect == 5.0 and pool.timeout.read == 60.0
    await pool.aclose()
    assert a.is_closed


async def test_a_broken_body_is_resent_within_the_same_budget():
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield b'{"par'
            raise httpx.ReadError("reset")

    script = Script(status(500), httpx.Response(200, stream=Broken()), ok())
    pool, waits = make_pool(script)
    assert (await get(pool)).json() == {"ok": True}
    assert len(script.requests) == 3 and len(waits) == 2
    script = Script(status(500), status(500), httpx.Response(200, stream=Broken()), ok())
    pool, waits = make_pool(script)
    with pytest.raises(Exception) as info:
        await get(pool)
    assert "broke" in str(info.value)
    assert len(script.requests) == 3 and len(waits) == 2  # never more than max_retries


async def test_a_malformed_base_url_is_a_config_error():
    from voiceloop.errors import ConfigError

    pool = ClientPool()  # the real transport: it refuses the scheme before connecting
    try:
        with pytest.raises(ConfigError):
            await pool.request("GET", "ftp://host/v1", "models", key=None, provider="groq")
    finally:
        await pool.aclose()
