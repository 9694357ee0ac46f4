"""End-to-end tests on the PulseAudio bench (virtual ``mic`` / ``spk``) and the loopback
Groq server. The bench fixtures are the audio tests' own."""

from tests.audio.conftest import _pulse_daemon, pulse_bench

__all__ = ["_pulse_daemon", "pulse_bench"]
