"""Backends for the speech, chat and speech-synthesis stages.

- :mod:`~voiceloop.providers.http`: :class:`ClientPool`, one keep-alive client per server,
  retries and error mapping (no httpx exception escapes).
- :mod:`~voiceloop.providers.clients`: a :class:`GroqClient` for a stage section (its URL
  and the key it may send) on the pool its context shares.
- :mod:`~voiceloop.providers.groq`: :class:`GroqClient`, Groq or any OpenAI-compatible
  server (transcribe, translate, chat streamed or not, speech, models).
- :mod:`~voiceloop.providers.groq_stages`: the Transcriber / Responder / Synthesizer
  adapters and the ``groq`` / ``openai`` stage factory.
- :mod:`~voiceloop.providers.gateway`: the self-hosted chat gateway (``gateway``).
- :mod:`~voiceloop.providers.longform`: long audio split and merged, long text split,
  Whisper hallucination filter.

Import the submodules you need; this package imports nothing heavy itself.
"""
