"""Fixtures shared by the command tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def tones_are_speech(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long files are gated by loudness alone (``[vad] engine = "energy"``): the loopback
    server's "speech" is tones, which the voice detector rightly hears as no voice.
    ``test_silence.py`` tests the voice detector's gate."""
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
