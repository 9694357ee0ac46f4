"""A loopback server speaking Groq's OpenAI-compatible API, for functional tests.

Fixtures (registered for the whole suite by ``tests/conftest.py``):

``fake_groq``
    The running :class:`FakeGroq`, reset before each test. ``.base_url`` is the API root
    (``http://127.0.0.1:PORT/openai/v1``), ``.root_url`` the server root (what
    ``GROQ_BASE_URL`` takes), ``.api_key`` the only key it accepts.
``groq_env``
    The same, with ``GROQ_API_KEY`` and ``GROQ_BASE_URL`` pointing at it, so
    ``load_settings()``, the stage registry and CLI commands all talk to it.

Knobs and records::

    fake_groq.latency.first_token = 0.2      # SSE pacing; also .per_token, .speech_chunk,
    fake_groq.latency.per_token = 0.05       # and .response (before any reply)
    fake_groq.latency.speech_per_char = 0.01 # speech starts after .speech_base + this x chars
    fake_groq.latency.transcription = 0.3    # before speech-to-text answers
    fake_groq.latency = Latency.realistic()  # a cloud backend's pacing, for benchmarks
    fake_groq.chat_reply = "Hello. How are you?"   # else "You said: <last user text>. ..."
    fake_groq.chat_replies.extend(["One.", "Two."])  # the next replies, before chat_reply
    fake_groq.transcripts.append("turn on the lights")  # next STT answer, instead of
                                                        # the text derived from the audio
    fake_groq.transcribe = lambda pcm, rate: ...  # else the text for an upload's samples
    fake_groq.speech_rate = 24_000           # WAV rate of speech replies (else as asked)
    fake_groq.set_fault("chat", Fault.http(429, retry_after=1), Fault.cut(after=3))
    fake_groq.requests_to("speech")[0].json  # what was sent (.form, .file, .headers too)
    fake_groq.requests_to("chat")[0].sent    # monotonic time each reply token went out
    fake_groq.abandoned_streams              # streams the client walked away from

Routes for faults: ``transcriptions``, ``translations``, ``chat``, ``speech``, ``models``,
``gateway``. Without a queued transcript, speech-to-text answers from the audio itself:
each sound becomes a segment "tone <Hz> hertz" with its real start/end, and silence the
phantom "Thank you." with a high ``no_speech_prob`` (see :mod:`tests.fakegroq.audio`).
Speech replies are a 300→900 Hz sweep lasting 20 ms per input character.
"""

from tests.fakegroq.faults import Fault
from tests.fakegroq.server import API_KEY, FakeGroq, Latency, RecordedRequest

__all__ = ["API_KEY", "FakeGroq", "Fault", "Latency", "RecordedRequest"]
