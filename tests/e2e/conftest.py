"""End-to-end tests on the PulseAudio bench (virtual ``mic`` / ``spk``) and the loopback
Groq server. The bench fixtures are the audio tests' own; ``spoken_replies`` is the echo
room's (``tests/e2e/room.py``)."""

from tests.audio.conftest import _pulse_daemon, pulse_bench
from tests.e2e.room import spoken_replies

__all__ = ["_pulse_daemon", "pulse_bench", "spoken_replies"]
