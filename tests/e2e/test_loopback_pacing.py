"""The loopback server's latency profile: what the end-to-end tests and the latency
benchmark rely on."""

from __future__ import annotations

import time

import httpx

from tests.fakegroq import Latency


def speak(fake, text: str) -> float:
    start = time.monotonic()
    response = httpx.post(
        fake.base_url + "/audio/speech",
        headers={"authorization": f"Bearer {fake.api_key}"},
        json={"model": "canopylabs/orpheus-v1-english", "voice": "autumn", "input": text},
    )
    assert response.status_code == 200, response.text
    return time.monotonic() - start


def test_speech_takes_longer_for_longer_text(fake_groq):
    fake_groq.latency = Latency(speech_base=0.05, speech_per_char=0.004)
    short = speak(fake_groq, "Hi.")  # 0.062 s
    long = speak(fake_groq, "A much longer sentence than that, " * 4)  # 0.594 s
    assert 0.06 <= short < 0.3
    assert long >= 0.59 and long - short > 0.4


def test_replies_in_order_and_token_stamps(fake_groq):
    fake_groq.chat_replies.extend(["One two three.", "Four."])
    fake_groq.latency = Latency(per_token=0.05)
    headers = {"authorization": f"Bearer {fake_groq.api_key}"}
    body = {"model": "openai/gpt-oss-20b", "messages": [{"role": "user", "content": "hi"}]}
    texts = []
    for _ in range(3):
        reply = httpx.post(fake_groq.base_url + "/chat/completions", headers=headers, json=body)
        texts.append(reply.json()["choices"][0]["message"]["content"])
    assert texts == ["One two three.", "Four.", "You said: hi. That is all I know."]
    with httpx.stream(
        "POST", fake_groq.base_url + "/chat/completions", headers=headers,
        json={**body, "stream": True},
    ) as stream:  # fmt: skip
        stream.read()
    sent = fake_groq.requests_to("chat")[-1].sent
    assert len(sent) == 8  # "You said: hi. That is all I know." in words
    assert sent[-1] - sent[0] >= 7 * 0.05
