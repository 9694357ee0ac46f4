"""A loopback server speaking Groq's OpenAI-compatible API, for functional tests."""

from tests.fakegroq.faults import Fault
from tests.fakegroq.server import API_KEY, FakeGroq, Latency, RecordedRequest

__all__ = ["API_KEY", "FakeGroq", "Fault", "Latency", "RecordedRequest"]
